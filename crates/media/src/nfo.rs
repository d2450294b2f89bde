//! Kodi / Jellyfin / Emby `.nfo` sidecars: movie, tvshow, episodedetails,
//! musicvideo, season, album and artist documents, and the URL-only form
//! that Radarr and Sonarr write.

use std::path::Path;

use crate::history::{History, parse_datetime};
use crate::text::{clean, leading_number, strip_html, year_in};
use crate::xml::{self, Element};
use crate::{Error, Kind, Metadata, Result};

const MAX_NFO_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nfo {
    /// The root element: "movie", "tvshow", "episodedetails", "musicvideo",
    /// "season", "album", "artist", or "url" for a link-only file.
    pub root: String,
    pub title: Option<String>,
    pub original_title: Option<String>,
    pub show_title: Option<String>,
    pub plot: Option<String>,
    pub tagline: Option<String>,
    pub genres: Vec<String>,
    pub tags: Vec<String>,
    pub runtime_secs: Option<f64>,
    pub year: Option<i32>,
    /// Normalised to 0–10.
    pub rating: Option<f32>,
    pub mpaa: Option<String>,
    pub actors: Vec<String>,
    pub directors: Vec<String>,
    pub artists: Vec<String>,
    pub album: Option<String>,
    pub track: Option<u32>,
    pub studio: Option<String>,
    pub set: Option<String>,
    pub season: Option<u32>,
    pub episode: Option<u32>,
    /// External ids and links (imdb, tmdb, tvdb, or bare URLs).
    pub ids: Vec<String>,
    /// The person's use as the media centre recorded it: `playcount`,
    /// `lastplayed`, `userrating`, `watched`, `resume`.
    pub history: Option<History>,
}

pub fn read_nfo(path: &Path) -> Result<Nfo> {
    let bytes = crate::open::read_capped(path, MAX_NFO_BYTES, ".nfo file")?;
    parse_nfo(&String::from_utf8_lossy(&bytes)).map_err(|e| Error::malformed(path, e))
}

pub fn parse_nfo(text: &str) -> std::result::Result<Nfo, String> {
    let trimmed = text.trim_start_matches('\u{FEFF}').trim();
    if !trimmed.starts_with('<') {
        return url_nfo(trimmed);
    }
    // Kodi allows a URL after the closing tag; the XML part ends there.
    let xml_part = trimmed.rfind('>').map_or(trimmed, |end| &trimmed[..=end]);
    let root = xml::parse(xml_part)?;
    let root_name = root.name.to_ascii_lowercase();
    const ROOTS: &[&str] = &[
        "movie",
        "tvshow",
        "episodedetails",
        "musicvideo",
        "season",
        "album",
        "artist",
    ];
    if !ROOTS.contains(&root_name.as_str()) {
        return Err(format!("unknown .nfo document <{}>", root.name));
    }
    let mut nfo = described(&root, &root_name);
    let text = |name: &str| root.child_text(name).and_then(|s| clean(&s));
    nfo.year = ["year", "premiered", "aired", "releasedate"]
        .iter()
        .find_map(|k| text(k).and_then(|y| year_in(&y)));
    nfo.runtime_secs = runtime_secs(&root);
    nfo.rating = rating(&root);
    nfo.actors = root
        .children_named("actor")
        .filter_map(|a| a.child_text("name").and_then(|n| clean(&n)))
        .collect();
    nfo.directors = split_people(&root.child_texts("director"));
    nfo.artists = split_people(&root.child_texts("artist"));
    nfo.ids = ids(&root);
    Ok(nfo)
}

/// A Radarr/Sonarr "URL nfo": one link per line, nothing else.
fn url_nfo(trimmed: &str) -> std::result::Result<Nfo, String> {
    let ids: Vec<String> = trimmed
        .lines()
        .filter_map(clean)
        .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
        .collect();
    if ids.is_empty() {
        return Err("neither XML nor a list of links".into());
    }
    Ok(Nfo {
        root: "url".into(),
        ids,
        ..Nfo::default()
    })
}

/// What the document says the work is, in its own fields: titles, plot,
/// genres and tags, album and track, studio, set, season and episode,
/// certification, and the person's use.
fn described(root: &Element, root_name: &str) -> Nfo {
    let text = |name: &str| root.child_text(name).and_then(|s| clean(&s));
    let number = |name: &str| {
        text(name)
            .and_then(|t| leading_number(&t))
            .map(|n| n as u32)
    };
    Nfo {
        title: text("title").or_else(|| text("name")),
        original_title: text("originaltitle"),
        show_title: text("showtitle"),
        plot: ["plot", "outline", "review", "biography"]
            .iter()
            .find_map(|k| text(k))
            .map(|p| strip_html(&p))
            .and_then(|p| clean(&p)),
        tagline: text("tagline"),
        // Genres are sometimes one string "Action / Comedy".
        genres: root
            .child_texts("genre")
            .iter()
            .flat_map(|g| g.split(" / ").filter_map(clean).collect::<Vec<_>>())
            .collect(),
        tags: ["tag", "mood", "style", "theme"]
            .iter()
            .flat_map(|k| root.child_texts(k))
            .collect(),
        album: text("album"),
        track: number("track"),
        studio: text("studio").or_else(|| text("label")),
        set: root.child("set").and_then(|s| {
            s.child_text("name")
                .or_else(|| s.text_trimmed())
                .and_then(|n| clean(&n))
        }),
        season: number("season").or_else(|| {
            (root_name == "season")
                .then(|| number("seasonnumber"))
                .flatten()
        }),
        episode: number("episode"),
        mpaa: text("mpaa").and_then(|m| clean_certification(&m)),
        history: history(root),
        ..Nfo::default()
    }
}

/// The stream's own duration (`durationinseconds` of `<fileinfo>`), else
/// the `runtime` in minutes.
fn runtime_secs(root: &Element) -> Option<f64> {
    let minutes = root
        .child_text("runtime")
        .and_then(|r| clean(&r))
        .and_then(|r| leading_number(&r))
        .filter(|m| *m > 0.0);
    let mut found = Vec::new();
    root.descendants_named("durationinseconds", &mut found);
    let stream_secs = found
        .iter()
        .find_map(|e| e.text_trimmed().and_then(|t| leading_number(&t)))
        .filter(|s| *s > 0.0);
    stream_secs
        .map(f64::from)
        .or(minutes.map(|m| f64::from(m) * 60.0))
}

/// External ids: each `<uniqueid type="…">`, then the legacy id elements
/// whose value no `uniqueid` already holds.
fn ids(root: &Element) -> Vec<String> {
    let mut ids = Vec::new();
    for e in root.children_named("uniqueid") {
        if let Some(id) = e.text_trimmed() {
            let kind = e.attr("type").unwrap_or("id");
            ids.push(format!("{kind}:{id}"));
        }
    }
    for key in ["imdbid", "tmdbid", "tvdbid", "id"] {
        if let Some(id) = root.child_text(key).and_then(|s| clean(&s))
            && !ids.iter().any(|i| i.ends_with(&format!(":{id}")))
        {
            ids.push(format!("{key}:{id}"));
        }
    }
    ids
}

/// The rating a user sees: the `default` of `<ratings>`, else the first,
/// else the legacy `<rating>` or Jellyfin's `<communityrating>`; always
/// scaled to 0–10 and dropped when out of range.
fn rating(root: &Element) -> Option<f32> {
    let scaled = |value: Option<f32>, max: Option<f32>| -> Option<f32> {
        let v = value?;
        let max = max.filter(|m| *m > 0.0).unwrap_or(10.0);
        let r = v * 10.0 / max;
        (r > 0.0 && r <= 10.0).then_some(r)
    };
    if let Some(ratings) = root.child("ratings") {
        let all: Vec<&Element> = ratings.children_named("rating").collect();
        let pick = all
            .iter()
            .find(|r| r.attr("default") == Some("true"))
            .or_else(|| all.first());
        if let Some(r) = pick {
            let value = r
                .child_text("value")
                .or_else(|| r.text_trimmed())
                .and_then(|v| leading_number(&v));
            let max = r.attr("max").and_then(leading_number);
            if let Some(v) = scaled(value, max) {
                return Some(v);
            }
        }
    }
    ["rating", "communityrating"].iter().find_map(|key| {
        let e = root.child(key)?;
        scaled(e.text_trimmed().and_then(|v| leading_number(&v)), None)
    })
}

/// What Kodi, Jellyfin and Emby write of a person's use: `playcount`,
/// `lastplayed`, `userrating` (0–10, 0 for none), `watched` (older Kodi,
/// Jellyfin) and `resume` (position and total, in seconds).
fn history(root: &Element) -> Option<History> {
    let text = |name: &str| root.child_text(name);
    let number = |name: &str| text(name).and_then(|t| leading_number(&t));
    let mut h = History::of("kodi");
    h.plays = number("playcount").map(|p| p.min(100_000.0) as u32);
    h.last_played = text("lastplayed").and_then(|t| parse_datetime(&t));
    h.rating = number("userrating");
    h.finished = text("watched").and_then(|w| match w.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    });
    if let Some(resume) = root.child("resume") {
        let at = |name: &str| resume.child_text(name).and_then(|t| leading_number(&t));
        if let (Some(pos), Some(total)) = (at("position"), at("total"))
            && total > 0.0
        {
            h.progress = Some(pos / total);
        }
    }
    if h.finished.is_none() && h.plays.is_some_and(|p| p > 0) {
        h.finished = Some(true);
    }
    h.tidy()
}

fn clean_certification(m: &str) -> Option<String> {
    let m = m.trim().trim_start_matches("Rated ").trim();
    // "Australia:M" / "US:PG-13": the label is what follows the country.
    let label = m.rsplit(':').next().unwrap_or(m);
    clean(label)
}

fn split_people(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split([',', '/']).filter_map(clean).collect::<Vec<_>>())
        .collect()
}

impl Nfo {
    pub fn into_metadata(self) -> Metadata {
        let kind = match self.root.as_str() {
            "album" | "artist" => Kind::Music,
            _ => Kind::Video,
        };
        let mut m = Metadata::new(kind, "nfo");
        m.title = match (&self.root[..], self.show_title.clone(), self.title.clone()) {
            ("episodedetails", Some(show), Some(t)) => Some(format!("{show}: {t}")),
            (_, _, t) => t.or(self.original_title.clone()),
        };
        m.creators = match self.root.as_str() {
            "musicvideo" | "album" => self.artists.clone(),
            _ => self.directors.clone(),
        };
        m.album = self.album;
        m.track = self.track;
        m.year = self.year;
        m.genres = self.genres;
        m.tags = self.tags;
        m.description = self.plot.or(self.tagline);
        m.duration_secs = self.runtime_secs;
        m.rating = self.rating;
        m.certification = self.mpaa;
        m.actors = self.actors;
        m.publisher = self.studio;
        m.series = self.set.or(self.show_title);
        m.season = self.season;
        m.episode = self.episode;
        m.history = self.history.into_iter().collect();
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_media_centres_record_of_use_is_history() {
        let n = parse_nfo(
            "<movie><title>Film</title><rating>7.9</rating><userrating>9</userrating>\
             <playcount>2</playcount><lastplayed>2019-05-01 20:31:00</lastplayed>\
             <resume><position>600</position><total>6000</total></resume></movie>",
        )
        .unwrap();
        let h = n.history.clone().unwrap();
        assert_eq!(h.source, "kodi");
        assert_eq!(h.plays, Some(2));
        assert_eq!(h.rating, Some(9.0));
        assert_eq!(h.last_played, Some(1_556_742_660));
        assert_eq!(h.progress, Some(0.1));
        assert_eq!(h.finished, Some(true));
        let m = n.into_metadata();
        assert_eq!(m.rating, Some(7.9), "the public rating stays the item's");
        assert_eq!(m.history[0].rating, Some(9.0));

        let unseen = parse_nfo(
            "<movie><title>F</title><playcount>0</playcount><watched>false</watched>\
             <userrating>0</userrating></movie>",
        )
        .unwrap();
        assert_eq!(
            unseen.history, None,
            "never played and unrated is no history"
        );
        let jellyfin = parse_nfo("<movie><title>F</title><watched>true</watched></movie>").unwrap();
        assert_eq!(jellyfin.history.unwrap().finished, Some(true));
    }

    #[test]
    fn url_only_nfo() {
        let n = parse_nfo("https://www.imdb.com/title/tt0944947/\n").unwrap();
        assert_eq!(n.root, "url");
        assert_eq!(n.ids, vec!["https://www.imdb.com/title/tt0944947/"]);
    }

    #[test]
    fn ratings_are_scaled_and_bounded() {
        let n = parse_nfo("<movie><communityrating>7,5</communityrating></movie>").unwrap();
        assert_eq!(n.rating, Some(7.5), "a comma decimal is still 7.5");
        let n = parse_nfo("<movie><communityrating>15.5</communityrating></movie>").unwrap();
        assert_eq!(n.rating, None, "15.5 of 10 is no rating");
        let n = parse_nfo(
            r#"<movie><ratings><rating name="a" max="5"><value>4</value></rating></ratings></movie>"#,
        )
        .unwrap();
        assert_eq!(n.rating, Some(8.0));
    }

    #[test]
    fn trailing_url_after_xml() {
        let n =
            parse_nfo("<movie><title>X</title><runtime>95</runtime></movie>\nhttps://x").unwrap();
        assert_eq!(n.title.as_deref(), Some("X"));
        assert_eq!(n.runtime_secs, Some(95.0 * 60.0));
    }

    #[test]
    fn certification_drops_country() {
        assert_eq!(clean_certification("Australia:M").as_deref(), Some("M"));
        assert_eq!(clean_certification("Rated PG-13").as_deref(), Some("PG-13"));
    }
}
