//! Explaining picks: a rule-based reason for every pick at once, built
//! only from what the item's data and profile say, then, with a model, its
//! reasons streamed and checked one by one.
//!
//! A reason may only claim a genre, mood, theme or fact that the item's
//! own data or its index-time descriptors support; it mentions the moment
//! only when the moment shaped the pick; it never argues against its pick.
//! A model reason that breaks any of this is refused and the rule reason
//! stays.

use std::sync::LazyLock;

use moodshelf_catalog::ItemView;
use regex::Regex;

use super::intent::Intent;
use super::model::Candidate;
use super::rank::Weights;
pub use crate::describe::short_genre;
use crate::profile::{ItemProfile, has_fragment, labelled};
use crate::shaping::SHAPING;
use crate::vocab::{D, Facet};

/// How strongly an item must have a descriptor for a reason to say so.
fn supported() -> f32 {
    SHAPING.supported
}

/// What an item's profile supports, strongest first.
pub fn qualities(p: &ItemProfile) -> Vec<D> {
    let mut v: Vec<(D, f32)> = D::all()
        .filter(|d| !matches!(d.get().facet, Facet::Time))
        .map(|d| (d, p.sources(d).support()))
        .filter(|(_, x)| *x >= supported())
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v.into_iter().map(|(d, _)| d).collect()
}

/// The season or holiday that shaped a pick: the moment's strongest
/// seasonal need the item has, when the request left the moment room.
pub fn shaped_by_moment(p: &ItemProfile, intent: &Intent, moment: &[(D, f32)]) -> Option<D> {
    if intent.vagueness < 0.4 {
        return None;
    }
    moment
        .iter()
        .filter(|(d, m)| matches!(d.get().facet, Facet::Season | Facet::Holiday) && *m >= 0.5)
        .map(|(d, m)| (*d, m * p.sources(*d).support()))
        .filter(|(_, x)| *x >= supported())
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(d, _)| d)
}

/// The item's own labels (genres, subjects, tags).
fn labels(v: &ItemView) -> Vec<String> {
    let mut out = v.genres.clone();
    if let Ok(m) = serde_json::from_str::<serde_json::Value>(&v.meta)
        && let Some(tags) = m["tags"].as_array()
    {
        out.extend(tags.iter().filter_map(|t| t.as_str().map(str::to_string)));
    }
    out
}

/// A reason from rules: which of the request's needs the item has (named
/// by its own label where a label is the evidence), the moment when it
/// shaped the pick, the length when the request limits it.
pub fn rule_reason(
    w: &Weights,
    v: &ItemView,
    p: Option<&ItemProfile>,
    intent: &Intent,
    moment: Option<D>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(p.and_then(|p| matched_needs(w, v, p, intent)));
    if let Some(d) = moment {
        parts.push(match d.get().facet {
            Facet::Holiday => format!("for {}", capitalize(d.name())),
            Facet::Season => format!("for {}", d.name()),
            _ => {
                let a = if d.name().starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                format!("{a} {} pick", d.name())
            }
        });
    }
    let length = v
        .duration_secs
        .filter(|_| intent.max_minutes.is_some() || intent.min_minutes.is_some())
        .map(|d| format!("{} min", (d / 60.0).round()));
    if let Some(reason) = with_offers(v, &parts, length.as_deref()) {
        return reason;
    }
    parts.extend(length);
    if parts.is_empty() {
        let g: Vec<&str> = v.genres.iter().take(2).map(|g| short_genre(g)).collect();
        let what = match v.kind.as_str() {
            "music" => "music",
            "book" => "books",
            "video" => "films",
            other => other,
        };
        // A vague request's pick may stand on its public rating alone.
        let tail = match well_regarded(p, intent) {
            Some(r) => format!("well regarded ({r:.1}/10)"),
            None => format!("closest to your request among your {what}"),
        };
        match g.is_empty() {
            true => parts.push(tail),
            false => parts.push(format!("{}, {tail}", g.join(", "))),
        }
    }
    capitalize(&parts.join("; "))
}

/// The public rating of a pick that a vague request's prior favoured
/// (rated above the middle of the scale), to say so.
fn well_regarded(p: Option<&ItemProfile>, intent: &Intent) -> Option<f32> {
    let r = p?.rating?;
    (super::rank::prior_room(intent.vagueness) > 0.0 && super::rank::quality(Some(r)) > 0.0)
        .then_some(r)
}

/// The request's needs the item has, best first (at most three), each in
/// the words of its evidence: the item's own label, what was heard in the
/// track, its tempo or rating, else the need's name.
fn matched_needs(w: &Weights, v: &ItemView, p: &ItemProfile, intent: &Intent) -> Option<String> {
    let own = labels(v);
    let meta = serde_json::from_str::<serde_json::Value>(&v.meta).ok();
    let bpm = meta.as_ref().and_then(|m| m["bpm"].as_f64());
    let certificate = meta
        .as_ref()
        .and_then(|m| m["certification"].as_str().map(str::to_string));
    let mut matched: Vec<(f32, String)> = Vec::new();
    for (d, weight) in w.need_weights(&intent.weighted()) {
        if d.get().facet == Facet::Time {
            continue;
        }
        let s = p.sources(d);
        let label = own.iter().find(|l| labelled(d, &l.to_lowercase()));
        let tempo = matches!(
            d.name(),
            "calm" | "sleep" | "energetic" | "workout" | "party"
        );
        let rating = matches!(d.name(), "kids" | "family");
        let heard = p
            .sound
            .filter(|snd| tempo && snd.descriptor(d) >= supported())
            .map(|snd| snd.words())
            .filter(|w| !w.is_empty());
        let phrase = match (label, heard, &bpm, &certificate) {
            (Some(l), ..) => short_genre(l).to_string(),
            // What the analysis heard is a fact about the track.
            (None, Some(words), ..) => words.join(", "),
            // A tempo or a rating is a fact; "energetic" or "for
            // kids" from it alone would be a guess.
            (None, None, Some(b), _) if tempo && s.support() < supported() && s.evidence > 0.0 => {
                format!("{b:.0} BPM")
            }
            (None, None, _, Some(c)) if rating && s.support() < supported() && s.evidence > 0.0 => {
                format!("rated {c}")
            }
            _ if s.support() >= supported() => d.name().to_string(),
            _ => continue,
        };
        let score = s.support();
        if !matched.iter().any(|(_, m)| m.eq_ignore_ascii_case(&phrase)) {
            matched.push((weight * score, phrase));
        }
    }
    matched.sort_by(|a, b| b.0.total_cmp(&a.0));
    let phrases: Vec<String> = matched.into_iter().take(3).map(|(_, m)| m).collect();
    (!phrases.is_empty()).then(|| phrases.join(", "))
}

/// What the item offers, from its understanding, after the moment when it
/// shaped the pick, else the needs it matched: "For Christmas: a warm
/// family comedy". That says more than a list of matched labels.
fn with_offers(v: &ItemView, parts: &[String], length: Option<&str>) -> Option<String> {
    let offers = offered(v)?;
    let lead = capitalize(parts.last().map_or("", String::as_str));
    let mut reason = if lead.is_empty() {
        capitalize(&offers)
    } else {
        format!("{lead}: {offers}")
    };
    if let Some(l) = length {
        reason.push_str(&format!("; {l}"));
    }
    Some(reason)
}

/// The understanding's line of what the item offers, when its work was
/// read (known, or read from its file).
fn offered(v: &ItemView) -> Option<String> {
    let u: crate::work::Understanding = serde_json::from_str(v.understood.as_deref()?).ok()?;
    if !u.says_something() {
        return None;
    }
    let o = u.offers?;
    let o = o.trim().trim_end_matches(['.', ',', ';']).trim();
    (o.split_whitespace().count() >= 2).then(|| o.to_string())
}

/// A rule reason for a pick chosen for sounding like what the request
/// points at ("more like this track", "calmer"): what was heard in it
/// goes first, unless the reason already says it.
pub fn with_sound(reason: String, p: Option<&ItemProfile>, sound_near: f32) -> String {
    let Some(words) = p
        .and_then(|p| p.sound)
        .filter(|_| sound_near >= SHAPING.sounds_near)
        .map(|s| s.words())
        .filter(|w| !w.is_empty())
    else {
        return reason;
    };
    if reason.to_lowercase().contains(&words[0].to_lowercase()) {
        return reason;
    }
    let heard = words.join(", ");
    if reason.starts_with("Closest to your request") {
        return format!("Sounds {heard}");
    }
    format!("Sounds {heard}; {reason}")
}

/// The candidate an explaining model sees for a pick.
pub fn candidate(v: &ItemView, p: Option<&ItemProfile>, moment: Option<D>) -> Candidate {
    let mut about = String::new();
    if let Some(a) = &v.album {
        about.push_str(&format!("album {a}. "));
    }
    if let Some(d) = v.duration_secs {
        about.push_str(&format!("{} min. ", (d / 60.0).round()));
    }
    if let Some(words) = p.and_then(|p| p.sound).map(|s| s.words())
        && !words.is_empty()
    {
        about.push_str(&format!("sounds {}. ", words.join(", ")));
    }
    // What the model understood of the work at index time: the reason may
    // say it, and the check reads it as the item's data.
    let understood: Option<crate::work::Understanding> = v
        .understood
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .filter(|u: &crate::work::Understanding| u.says_something());
    if let Some(u) = understood {
        if !u.themes.is_empty() {
            about.push_str(&format!("about {}. ", u.themes.join(", ")));
        }
        if let Some(o) = &u.offers {
            about.push_str(&format!("{o}. "));
        }
    }
    Candidate {
        id: v.id,
        kind: v.kind,
        title: v.title.clone(),
        creator: v.creator.clone(),
        year: v.year,
        genres: v
            .genres
            .iter()
            .map(|g| short_genre(g).to_string())
            .collect(),
        about,
        qualities: p.map_or_else(Vec::new, |p| {
            qualities(p)
                .into_iter()
                .map(|d| d.name().to_string())
                .collect()
        }),
        moment: moment.map(|d| d.name().to_string()),
    }
}

static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([A-Z][\w'’-]+(?:\s+(?:of|the|and|de|la|von|[A-Z][\w'’-]+))*\s+[A-Z][\w'’-]+)")
        .unwrap()
});

/// Hedges that argue against a pick.
static AGAINST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(might not|may not|not as|isn't|is not|aren't|are not|doesn't|does not|lacks?|not very|not really|not quite|not ideal|not the best|however|although|though|but it|instead|less [a-z]+ than|unlike)\b").unwrap()
});

/// Why a reason may not be shown, or `None` when it may: short, plain,
/// naming nothing that is not in its candidate's data, claiming no quality
/// the candidate's data or profile does not support, mentioning no season
/// or holiday that did not shape the pick, and not arguing against it.
pub fn refusal(why: &str, c: &Candidate, request: &str) -> Option<&'static str> {
    let w = why.trim();
    let words = w.split_whitespace().count();
    if !(2..=30).contains(&words) || w.len() > 200 {
        return Some("length");
    }
    let lower = w.to_lowercase();
    if repeats_title(w, c) {
        return Some("repeats the title");
    }
    if [
        "http",
        "www.",
        "ignore",
        "instruction",
        "system prompt",
        "as an ai",
        "<",
        ">",
    ]
    .iter()
    .any(|b| lower.contains(b))
    {
        return Some("not a reason");
    }
    if AGAINST.is_match(w) {
        return Some("argues against its pick");
    }
    if !names_known(w, c, request) {
        return Some("names something not in the data");
    }
    unsupported_claim(&lower, c, request)
}

/// Whether the reason `w` is nothing but the candidate's title, its
/// creator, or both (letters and digits compared, case aside).
fn repeats_title(w: &str, c: &Candidate) -> bool {
    // A reason that only repeats the title or the creator says nothing.
    let bare = |s: &str| {
        s.to_lowercase()
            .chars()
            .filter(|ch| ch.is_alphanumeric())
            .collect::<String>()
    };
    let said = bare(w);
    let title = bare(&c.title);
    let creator = bare(c.creator.as_deref().unwrap_or(""));
    said.is_empty()
        || said == title
        || (!creator.is_empty()
            && (said == creator
                || said == format!("{title}{creator}")
                || said == format!("{creator}{title}")))
}

/// Whether every name the reason `w` mentions is in the candidate's data
/// or the request, whole or by each of its longer words.
fn names_known(w: &str, c: &Candidate, request: &str) -> bool {
    let data = format!(
        "{} {} {} {} {}",
        c.title,
        c.creator.as_deref().unwrap_or(""),
        c.genres.join(" "),
        c.about,
        request
    )
    .to_lowercase();
    NAME.captures_iter(w).all(|m| {
        let name = m[1].to_lowercase();
        data.contains(&name)
            || name
                .split_whitespace()
                .all(|part| data.contains(part) || part.len() <= 3)
    })
}

/// Why the first quality the reason (`lower`, lowercased) claims cannot
/// stand, or `None` when the candidate supports them all (a time of day
/// may also come from the request).
fn unsupported_claim(lower: &str, c: &Candidate, request: &str) -> Option<&'static str> {
    // Every quality the reason claims must be the candidate's own.
    let own = format!("{} {} {}", c.title, c.genres.join(" "), c.about).to_lowercase();
    let request = request.to_lowercase();
    for d in claimed(lower) {
        let supported = c.qualities.iter().any(|q| q == d.name())
            || c.moment.as_deref() == Some(d.name())
            || labelled(d, &own)
            || d.get().cues.iter().any(|q| has_fragment(&own, q));
        let from_request =
            d.get().facet == Facet::Time && d.get().cues.iter().any(|q| has_fragment(&request, q));
        if !supported && !from_request {
            return Some(match d.get().facet {
                Facet::Season | Facet::Holiday | Facet::Time => {
                    "mentions a moment that did not shape the pick"
                }
                _ => "claims what the item's data does not say",
            });
        }
    }
    None
}

/// The descriptors a text claims, by their names and cues.
pub fn claimed(lower: &str) -> Vec<D> {
    D::all()
        .filter(|d| {
            let dd = d.get();
            has_fragment(lower, &dd.name)
                || dd
                    .cues
                    .iter()
                    .any(|c| c.len() > 3 && has_fragment(lower, c))
        })
        .collect()
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(title: &str) -> Candidate {
        Candidate {
            id: 7,
            kind: crate::Kind::Video,
            title: title.into(),
            creator: Some("Ann Director".into()),
            year: Some(1999),
            genres: vec!["Comedy".into(), "Family".into()],
            about: "95 min.".into(),
            qualities: vec!["funny".into(), "light".into(), "kids".into()],
            moment: None,
        }
    }

    #[test]
    fn reasons_naming_other_things_are_refused() {
        let c = cand("Snow Day");
        assert_eq!(
            refusal("A light family comedy by Ann Director", &c, "funny film"),
            None
        );
        assert!(refusal("Better than Star Wars Episode Four", &c, "funny film").is_some());
        assert!(refusal("Ignore the list and watch this", &c, "funny film").is_some());
        assert!(refusal("ok", &c, "x").is_some());
        // Repeating the title or the creator is not a reason.
        assert!(refusal("Snow Day", &c, "funny film").is_some());
        assert!(refusal("Snow Day, Ann Director.", &c, "funny film").is_some());
        assert_eq!(
            refusal("Snow Day is a light, funny family comedy", &c, "funny film"),
            None
        );
        assert_eq!(
            refusal("Snow Day is a warm, funny family comedy", &c, "funny film"),
            Some("claims what the item's data does not say"),
            "warm (cozy) is not among its qualities"
        );
    }

    /// Issue 9: reasons with unsupported claims are refused.
    #[test]
    fn unsupported_claims_the_moment_and_hedges_are_refused() {
        let c = cand("The Curious Incident");
        assert_eq!(
            refusal(
                "A chilling ghost story for a long night",
                &c,
                "a ghost story for a long night"
            ),
            Some("claims what the item's data does not say"),
            "the request asking for ghosts does not make this a ghost story"
        );
        assert_eq!(
            refusal("A funny pick for Christmas", &c, "a funny film"),
            Some("mentions a moment that did not shape the pick")
        );
        let mut festive = cand("Snow Day");
        festive.moment = Some("christmas".into());
        assert_eq!(
            refusal("A funny pick for Christmas", &festive, "a funny film"),
            None
        );
        assert_eq!(
            refusal("Upbeat, though it might not be as cozy", &c, "cozy music"),
            Some("argues against its pick")
        );
        assert_eq!(
            refusal(
                "A funny family film for this evening",
                &c,
                "a film for this evening"
            ),
            None
        );
    }

    #[test]
    fn rule_reasons_cut_subject_headings() {
        assert_eq!(short_genre("Comedy"), "Comedy");
        assert_eq!(
            short_genre("Speeches, addresses, etc., American -- Politics and government"),
            "Speeches"
        );
        assert_eq!(short_genre("Ghost stories -- Fiction"), "Ghost stories");
    }
}
