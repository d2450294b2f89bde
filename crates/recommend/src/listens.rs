//! Listening history a person exported from elsewhere: a ListenBrainz
//! export (a JSON array of listens, or JSON Lines) or Last.fm scrobbles as
//! CSV (with a header such as `uts,utc_time,artist,…,album,…,track,…`, or
//! the header-less `artist,album,track,date` of common export tools),
//! matched to the library's tracks by artist and title, the album telling
//! apart tracks of one name. Pure functions; `Library::import_history`
//! stores what matched.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::{Code, Error, Result};

/// Largest export read (ListenBrainz exports of a decade of listening run
/// to hundreds of megabytes as JSON).
const MAX_EXPORT_BYTES: u64 = 1 << 30;

/// Examples of unmatched listens kept for the report.
const EXAMPLES: usize = 12;

/// Where an export came from: the history's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    ListenBrainz,
    LastFm,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::ListenBrainz => "listenbrainz",
            Service::LastFm => "lastfm",
        }
    }
}

/// One listen of an export.
#[derive(Debug, Clone, PartialEq)]
pub struct Listen {
    pub artist: String,
    pub title: String,
    pub album: Option<String>,
    /// Unix seconds.
    pub at: Option<i64>,
}

/// An export read: its service, its listens, and rows that were not
/// listens at all.
#[derive(Debug, Clone)]
pub struct Export {
    pub service: Service,
    pub listens: Vec<Listen>,
    pub unreadable: usize,
}

/// Reads an export file, telling the two services apart by its content.
pub fn read_export(path: &Path) -> Result<Export> {
    let file = std::fs::File::open(path).map_err(|e| {
        Error::new(
            Code::InvalidInput,
            format!("cannot open {}: {e}", path.display()),
        )
    })?;
    let mut r = BufReader::new(file.take(MAX_EXPORT_BYTES));
    let first = loop {
        let buf = r.fill_buf().map_err(|e| read_error(path, e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    };
    match first {
        Some(b'[') => listenbrainz_array(r, path),
        Some(b'{') => listenbrainz_lines(r),
        Some(_) => lastfm_csv(r),
        None => Err(Error::new(
            Code::InvalidInput,
            format!("{} is empty", path.display()),
        )),
    }
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        Code::InvalidInput,
        format!("cannot read {}: {e}", path.display()),
    )
}

/// A ListenBrainz listen: only the fields used are kept in memory.
#[derive(Deserialize)]
struct LbListen {
    listened_at: Option<i64>,
    track_metadata: Option<LbTrack>,
}

#[derive(Deserialize)]
struct LbTrack {
    artist_name: Option<String>,
    track_name: Option<String>,
    release_name: Option<String>,
}

impl LbListen {
    fn listen(self) -> Option<Listen> {
        let t = self.track_metadata?;
        Some(Listen {
            artist: t.artist_name.filter(|s| !s.trim().is_empty())?,
            title: t.track_name.filter(|s| !s.trim().is_empty())?,
            album: t.release_name.filter(|s| !s.trim().is_empty()),
            at: self.listened_at,
        })
    }
}

fn listenbrainz_array(r: impl Read, path: &Path) -> Result<Export> {
    // Typed, so only the fields used are held: exports run to millions
    // of listens.
    let rows: Vec<LbListen> = serde_json::from_reader(r).map_err(|e| {
        Error::new(
            Code::InvalidInput,
            format!(
                "{} is not a ListenBrainz export (a JSON list of listens): {e}",
                path.display()
            ),
        )
    })?;
    let mut out = Export {
        service: Service::ListenBrainz,
        listens: Vec::with_capacity(rows.len()),
        unreadable: 0,
    };
    for v in rows {
        match v.listen() {
            Some(l) => out.listens.push(l),
            None => out.unreadable += 1,
        }
    }
    Ok(out)
}

fn listenbrainz_lines(r: impl BufRead) -> Result<Export> {
    let mut out = Export {
        service: Service::ListenBrainz,
        listens: Vec::new(),
        unreadable: 0,
    };
    for line in r.lines() {
        let Ok(line) = line else {
            out.unreadable += 1;
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<LbListen>(&line)
            .ok()
            .and_then(LbListen::listen)
        {
            Some(l) => out.listens.push(l),
            None => out.unreadable += 1,
        }
    }
    Ok(out)
}

/// Where each field is in a Last.fm CSV row.
struct Columns {
    artist: usize,
    album: Option<usize>,
    title: usize,
    /// Unix seconds (`uts`), else a date and time.
    uts: Option<usize>,
    date: Option<usize>,
}

impl Columns {
    /// From a header row, if it is one.
    fn from_header(row: &csv::StringRecord) -> Option<Columns> {
        let at = |names: &[&str]| {
            row.iter()
                .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
        };
        Some(Columns {
            artist: at(&["artist", "artist_name", "artist name"])?,
            album: at(&["album", "album_name", "album name", "release"]),
            title: at(&["track", "title", "track_name", "track name", "name"])?,
            uts: at(&["uts", "timestamp", "unix"]),
            date: at(&["utc_time", "date", "time", "datetime"]),
        })
    }

    /// The header-less `artist,album,track,date` rows.
    fn plain() -> Columns {
        Columns {
            artist: 0,
            album: Some(1),
            title: 2,
            uts: None,
            date: Some(3),
        }
    }
}

fn lastfm_csv(r: impl Read) -> Result<Export> {
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(r);
    let mut out = Export {
        service: Service::LastFm,
        listens: Vec::new(),
        unreadable: 0,
    };
    let mut columns: Option<Columns> = None;
    for row in rows.records() {
        let Ok(row) = row else {
            out.unreadable += 1;
            continue;
        };
        let cols = match &columns {
            Some(c) => c,
            None => {
                let (cols, header) = match Columns::from_header(&row) {
                    Some(c) => (c, true),
                    None => (Columns::plain(), false),
                };
                columns = Some(cols);
                if header {
                    continue;
                }
                columns.as_ref().expect("just set")
            }
        };
        let field = |i: usize| row.get(i).map(str::trim).filter(|s| !s.is_empty());
        let (Some(artist), Some(title)) = (field(cols.artist), field(cols.title)) else {
            out.unreadable += 1;
            continue;
        };
        let at = cols
            .uts
            .and_then(field)
            .and_then(|u| u.parse().ok())
            .or_else(|| cols.date.and_then(field).and_then(lastfm_date));
        out.listens.push(Listen {
            artist: artist.to_string(),
            title: title.to_string(),
            album: cols.album.and_then(field).map(str::to_string),
            at,
        });
    }
    Ok(out)
}

/// "31 Dec 2020 23:59", "31 Dec 2020, 23:59" or "2020-12-31 23:59:00", UTC.
fn lastfm_date(s: &str) -> Option<i64> {
    let s = s.replace(',', "");
    [
        "%d %b %Y %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s.trim(), f).ok())
    .map(|t| t.and_utc().timestamp())
}

/// A name as compared: lower case, letters and digits, "the" and a
/// featured artist left out ("The Beatles" = "beatles", "Song (feat. X)"
/// = "song").
pub fn key(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut cut = lower.as_str();
    for marker in [" (feat", " [feat", " feat.", " ft.", " featuring "] {
        if let Some(i) = cut.find(marker) {
            cut = &cut[..i];
        }
    }
    let words: Vec<String> = cut
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let skip = usize::from(words.len() > 1 && words[0] == "the");
    words[skip..].join(" ")
}

/// A track of the library as listens are matched to it.
#[derive(Debug, Clone)]
pub struct Track {
    pub id: i64,
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
}

/// Why a listen matched no track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmatched {
    /// No track of the library is by this artist.
    ArtistNotInLibrary,
    /// The artist is there, this title is not.
    TitleNotInLibrary,
}

impl Unmatched {
    pub fn says(self) -> &'static str {
        match self {
            Unmatched::ArtistNotInLibrary => "no track by this artist in the library",
            Unmatched::TitleNotInLibrary => "the artist is in the library, this title is not",
        }
    }
}

/// The library's tracks by artist and title.
pub struct Matcher {
    by_name: HashMap<(String, String), Vec<(i64, String)>>,
    artists: HashSet<String>,
}

impl Matcher {
    pub fn new(tracks: &[Track]) -> Matcher {
        let mut by_name: HashMap<(String, String), Vec<(i64, String)>> = HashMap::new();
        let mut artists = HashSet::new();
        for t in tracks {
            let Some(artist) = t.artist.as_deref().map(key).filter(|a| !a.is_empty()) else {
                continue;
            };
            artists.insert(artist.clone());
            let album = t.album.as_deref().map(key).unwrap_or_default();
            by_name
                .entry((artist, key(&t.title)))
                .or_default()
                .push((t.id, album));
        }
        for v in by_name.values_mut() {
            v.sort();
        }
        Matcher { by_name, artists }
    }

    /// The track a listen was of: by artist and title, the album telling
    /// apart tracks of one name (else the first).
    pub fn find(&self, l: &Listen) -> std::result::Result<i64, Unmatched> {
        let artist = key(&l.artist);
        let Some(found) = self.by_name.get(&(artist.clone(), key(&l.title))) else {
            return Err(match self.artists.contains(&artist) {
                true => Unmatched::TitleNotInLibrary,
                false => Unmatched::ArtistNotInLibrary,
            });
        };
        let album = l.album.as_deref().map(key);
        Ok(found
            .iter()
            .find(|(_, a)| album.as_deref() == Some(a.as_str()))
            .unwrap_or(&found[0])
            .0)
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub service: Service,
    /// Listens in the file.
    pub listens: usize,
    /// Listens matched to a track.
    pub matched: usize,
    /// Tracks with at least one listen.
    pub tracks: usize,
    /// Unmatched listens by reason.
    pub unmatched: BTreeMap<Unmatched, usize>,
    /// A few unmatched listens, "artist – title: reason".
    pub examples: Vec<String>,
    /// Rows of the file that were not listens.
    pub unreadable: usize,
}

/// One track's listens: how many, and the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plays {
    pub count: u32,
    pub last: Option<i64>,
}

/// Matches an export's listens to tracks: each matched track's plays,
/// and the report.
pub fn tally(export: &Export, matcher: &Matcher) -> (BTreeMap<i64, Plays>, ImportReport) {
    let mut plays: BTreeMap<i64, Plays> = BTreeMap::new();
    let mut report = ImportReport {
        service: export.service,
        listens: export.listens.len(),
        matched: 0,
        tracks: 0,
        unmatched: BTreeMap::new(),
        examples: Vec::new(),
        unreadable: export.unreadable,
    };
    for l in &export.listens {
        match matcher.find(l) {
            Ok(id) => {
                report.matched += 1;
                let p = plays.entry(id).or_default();
                p.count = p.count.saturating_add(1);
                p.last = p.last.max(l.at);
            }
            Err(why) => {
                *report.unmatched.entry(why).or_default() += 1;
                if report.examples.len() < EXAMPLES {
                    report
                        .examples
                        .push(format!("{} – {}: {}", l.artist, l.title, why.says()));
                }
            }
        }
    }
    report.tracks = plays.len();
    (plays, report)
}

/// Imports a ListenBrainz or Last.fm export as the person's listening
/// history: each matched track's plays and last play, replacing what
/// an earlier import from the same service said.
pub async fn import_history(store: &Store, path: &Path, now: i64) -> Result<ImportReport> {
    let p = path.to_path_buf();
    let export = tokio::task::spawn_blocking(move || read_export(&p))
        .await
        .map_err(|e| Error::new(Code::Internal, format!("reading the export: {e}")))??;
    let tracks: Vec<Track> = store
        .catalog()
        .tracks_for_matching()
        .await?
        .into_iter()
        .map(|(id, title, artist, album)| Track {
            id,
            title,
            artist,
            album,
        })
        .collect();
    let (plays, report) = tally(&export, &Matcher::new(&tracks));
    let source = export.service.as_str();
    let records: Vec<(i64, moodshelf_catalog::UseRecord)> = plays
        .into_iter()
        .map(|(id, p)| {
            let record = moodshelf_catalog::UseRecord {
                source: source.to_string(),
                plays: Some(p.count),
                last_played: p.last,
                ..Default::default()
            };
            (id, record)
        })
        .collect();
    let person = crate::people::person(store).await?;
    store
        .catalog()
        .replace_imported(person.id, source, &records, now)
        .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_articles_or_featured_artists() {
        assert_eq!(key("The Beatles"), "beatles");
        assert_eq!(key("Song Title (feat. Somebody)"), "song title");
        assert_eq!(key("  Hello,   World! "), "hello world");
        assert_eq!(key("The The"), "the");
        assert_eq!(key("Björk"), "björk");
    }

    #[test]
    fn last_fm_dates_are_read() {
        assert_eq!(lastfm_date("31 Dec 2020 23:59"), Some(1_609_459_140));
        assert_eq!(lastfm_date("31 Dec 2020, 23:59"), Some(1_609_459_140));
        assert_eq!(lastfm_date("2020-12-31 23:59:00"), Some(1_609_459_140));
        assert_eq!(lastfm_date("yesterday"), None);
    }

    #[test]
    fn json_lines_and_header_less_csv_are_read_and_bad_rows_counted() {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("listens.jsonl");
        std::fs::write(
            &lines,
            "{\"listened_at\":1700000000,\"track_metadata\":{\"artist_name\":\"A\",\"track_name\":\"T\",\"release_name\":\"R\"}}\n\
             {\"listened_at\":1700000100,\"track_metadata\":{\"artist_name\":\"A\"}}\n\
             not json\n",
        )
        .unwrap();
        let e = read_export(&lines).unwrap();
        assert_eq!(e.service, Service::ListenBrainz);
        assert_eq!(e.listens.len(), 1);
        assert_eq!(e.listens[0].album.as_deref(), Some("R"));
        assert_eq!(e.unreadable, 2);

        let csv = dir.path().join("scrobbles.csv");
        std::fs::write(
            &csv,
            "Band,Album,\"Song, With Comma\",31 Dec 2020 23:59\n,,,\n",
        )
        .unwrap();
        let e = read_export(&csv).unwrap();
        assert_eq!(e.service, Service::LastFm);
        assert_eq!(e.listens.len(), 1);
        assert_eq!(e.listens[0].title, "Song, With Comma");
        assert_eq!(e.listens[0].at, Some(1_609_459_140));
        assert_eq!(e.unreadable, 1);

        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "  \n").unwrap();
        assert!(read_export(&empty).is_err());
    }

    #[test]
    fn the_album_tells_apart_tracks_of_one_name() {
        let t = |id, album: &str| Track {
            id,
            title: "Intro".into(),
            artist: Some("Band".into()),
            album: Some(album.into()),
        };
        let m = Matcher::new(&[t(1, "First"), t(2, "Second")]);
        let listen = |album: Option<&str>| Listen {
            artist: "the band".into(),
            title: "INTRO".into(),
            album: album.map(str::to_string),
            at: None,
        };
        assert_eq!(m.find(&listen(Some("Second"))), Ok(2));
        assert_eq!(m.find(&listen(None)), Ok(1));
        let mut other = listen(None);
        other.title = "Outro".into();
        assert_eq!(m.find(&other), Err(Unmatched::TitleNotInLibrary));
        other.artist = "Nobody".into();
        assert_eq!(m.find(&other), Err(Unmatched::ArtistNotInLibrary));
    }
}
