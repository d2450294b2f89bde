//! Scoring what a model says it knows of works (`cargo bench --bench eval
//! -- knowledge`): whether it claims facts about works that exist nowhere
//! (invention), and whether what it says of real works agrees with their
//! public labels (agreement).
//!
//! [`Understood`] is the part of an item's understanding these scores read,
//! copied out of the engine's type by the bench, so the scoring is tested
//! here on its own.

use moodshelf_libgen::GenItem;

use super::label_has;

/// What a model wrote about one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Understood {
    /// "yes", "partly" or "no".
    pub known: String,
    pub about: Option<String>,
    pub genres: Vec<String>,
    pub moods: Vec<String>,
    pub themes: Vec<String>,
    /// The single-valued facets by name: place, era, tone, pace, audience,
    /// style, energy, offers.
    pub facets: Vec<(&'static str, Option<String>)>,
    /// The model's mean log probability of the work's withheld fact (its
    /// creator, or a bare film's year), where it was probed.
    pub familiarity: Option<f32>,
}

/// How well a familiarity score tells real works from invented ones,
/// whatever threshold a model would need: the chance that a real work
/// scores above an invented one (ties count half; 0.5 is a coin), or
/// `None` without scores on both sides.
pub fn separation(real: &[f32], invented: &[f32]) -> Option<f64> {
    if real.is_empty() || invented.is_empty() {
        return None;
    }
    let mut above = 0.0;
    for r in real {
        for i in invented {
            above += match r.partial_cmp(i) {
                Some(std::cmp::Ordering::Greater) => 1.0,
                Some(std::cmp::Ordering::Equal) => 0.5,
                _ => 0.0,
            };
        }
    }
    Some(above / (real.len() * invented.len()) as f64)
}

impl Understood {
    /// The facts it claims, by field name: "known" unless it says it does
    /// not know the work, and every field that is not empty.
    pub fn claims(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.known.trim().eq_ignore_ascii_case("no") {
            out.push("known");
        }
        let full = |s: &str| !s.trim().is_empty();
        if self.about.as_deref().is_some_and(full) {
            out.push("about");
        }
        for (name, list) in [
            ("genres", &self.genres),
            ("moods", &self.moods),
            ("themes", &self.themes),
        ] {
            if list.iter().any(|s| full(s)) {
                out.push(name);
            }
        }
        for (name, v) in &self.facets {
            if v.as_deref().is_some_and(full) {
                out.push(name);
            }
        }
        out
    }

    /// The facet named `name`, if written.
    pub fn facet(&self, name: &str) -> Option<&str> {
        self.facets
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Words that say what kind of thing a work is, not what it is about:
/// "fiction" is in most Gutenberg subjects and agrees with nothing.
const GENERIC: &[&str] = &[
    "fiction",
    "fictional",
    "film",
    "films",
    "movie",
    "movies",
    "novel",
    "novels",
    "novella",
    "story",
    "stories",
    "tale",
    "tales",
    "book",
    "books",
    "literature",
    "literary",
    "genre",
    "work",
    "works",
    "classic",
    "classics",
    "general",
    "life",
    "people",
    "and",
    "the",
    "with",
];

/// Spellings that name the same thing in the labels and in a model's
/// words.
const ALIASES: &[(&str, &str)] = &[
    ("sci-fi", "science fiction"),
    ("scifi", "science fiction"),
    ("children's", "children juvenile"),
    ("children", "children juvenile"),
    ("kids", "children juvenile"),
    ("romance", "romance love"),
    ("romantic", "romantic love"),
];

fn words(s: &str) -> Vec<String> {
    let mut s = s.to_lowercase();
    for (from, to) in ALIASES {
        if label_has(&s, from) {
            s = format!("{s} {to}");
        }
    }
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3 && !GENERIC.contains(w))
        .map(str::to_string)
        .collect()
}

/// Two words name the same thing: equal, or (both of five letters or more,
/// at most three apart in length) sharing a start of at least five letters
/// and all but two of the shorter one ("romantic" and "romance", "humor"
/// and "humorous", "mystery" and "mysteries"; not "horror" and "horrible",
/// nor "court" and "courtroom").
pub fn same_word(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let shorter = la.min(lb);
    if shorter < 5 || la.abs_diff(lb) > 3 {
        return false;
    }
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    common >= 5.max(shorter - 2)
}

/// Whether any understood term (a genre or a theme) names what one of the
/// public labels names, word by word from word starts. Certificates are not
/// labels of content and are left out.
pub fn agrees(terms: &[String], truth: &[String]) -> bool {
    let labels: Vec<Vec<String>> = truth
        .iter()
        .filter(|t| !t.starts_with("certificate:"))
        .map(|t| words(t))
        .collect();
    terms
        .iter()
        .flat_map(|t| words(t))
        .any(|w| labels.iter().any(|l| l.iter().any(|lw| same_word(&w, lw))))
}

/// Spotify's energy as the band a model would name: low, medium or high.
pub fn energy_band(item: &GenItem) -> Option<&'static str> {
    let e = item.features?.energy;
    Some(if e < 0.4 {
        "low"
    } else if e > 0.7 {
        "high"
    } else {
        "medium"
    })
}

/// Whether an understood energy ("low", "medium", "high", or words around
/// them) names the track's band.
pub fn energy_agrees(understood: &str, item: &GenItem) -> bool {
    let u = understood.to_lowercase();
    let said = if u.contains("high") || u.contains("energetic") {
        "high"
    } else if u.contains("low") || u.contains("calm") {
        "low"
    } else if u.contains("medium") || u.contains("moderate") || u.contains("mid") {
        "medium"
    } else {
        return false;
    };
    energy_band(item) == Some(said)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn separation_is_the_share_of_real_works_above_invented_ones() {
        assert_eq!(separation(&[-1.0, -2.0], &[-3.0, -4.0]), Some(1.0));
        assert_eq!(separation(&[-5.0], &[-3.0, -4.0]), Some(0.0));
        assert_eq!(separation(&[-1.0, -5.0], &[-3.0]), Some(0.5));
        assert_eq!(separation(&[-3.0], &[-3.0]), Some(0.5));
        assert_eq!(separation(&[], &[-3.0]), None);
    }

    #[test]
    fn a_work_said_to_be_unknown_claims_nothing() {
        let mut u = Understood {
            known: "no".into(),
            facets: vec![("place", None), ("tone", Some(" ".into()))],
            ..Understood::default()
        };
        assert!(u.claims().is_empty());
        u.themes.push("revenge".into());
        assert_eq!(u.claims(), vec!["themes"]);
        u.known = "partly".into();
        u.facets[0].1 = Some("Paris".into());
        assert_eq!(u.claims(), vec!["known", "themes", "place"]);
        assert_eq!(u.facet("place"), Some("Paris"));
    }

    #[test]
    fn agreement_is_by_word_starts_not_by_kind_words() {
        let subjects = strings(&[
            "Love stories",
            "Man-woman relationships -- Fiction",
            "England -- Fiction",
        ]);
        assert!(agrees(&strings(&["romantic novel"]), &subjects));
        assert!(agrees(&strings(&["romance"]), &subjects));
        assert!(!agrees(&strings(&["historical fiction"]), &subjects));
        assert!(
            !agrees(&strings(&["fiction"]), &subjects),
            "kind words agree with nothing"
        );
        let film = strings(&["Sci-Fi", "Adventure", "certificate:PG"]);
        assert!(agrees(&strings(&["science fiction"]), &film));
        assert!(agrees(&strings(&["space adventures"]), &film));
        assert!(!agrees(&strings(&["pg"]), &film));
        assert!(agrees(
            &strings(&["children's fantasy"]),
            &strings(&["Fantasy fiction", "Juvenile fiction"])
        ));
        assert!(same_word("humor", "humorous"));
        assert!(same_word("mystery", "mysteries"));
        assert!(!same_word("horror", "horrible"));
        assert!(!same_word("court", "courtroom"));
        assert!(same_word("history", "historical"));
        assert!(!same_word("war", "warsaw"));
    }

    #[test]
    fn energy_is_compared_by_band() {
        let mut t = GenItem {
            path: "t".into(),
            kind: "music",
            title: "t".into(),
            creator: None,
            year: None,
            genres: Vec::new(),
            tags: Vec::new(),
            duration_secs: None,
            sidecar: false,
            truth: Vec::new(),
            features: Some(moodshelf_libgen::datasets::AudioFeatures {
                energy: 0.9,
                ..Default::default()
            }),
            plot: None,
            rating: None,
        };
        assert!(energy_agrees("high", &t));
        assert!(!energy_agrees("low", &t));
        t.features.as_mut().unwrap().energy = 0.5;
        assert!(energy_agrees("medium", &t));
        assert!(!energy_agrees("", &t));
    }
}
