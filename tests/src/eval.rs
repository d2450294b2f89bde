//! The development evaluation: the requests of `tests/eval/dev.toml`, how
//! they are judged, and the metrics reported by `cargo bench --bench eval`.
//!
//! Labels come from the public data each generated item was made from
//! (`GenItem::truth`, plots, ratings and Spotify audio features), never
//! from the held-out yardstick, and never from what the app computed.
//! Every need, moment, probe and chain belongs to one half: weights are
//! fitted on `tune` and believed on `check`.
//!
//! Compositional needs ask two things at once and exclude a third: their
//! labels hold groups (`all`), each of which must match, and an exclusion
//! (`none`). [`knowledge`] scores what a model says about invented and
//! real works.

pub mod knowledge;
pub mod taste;

use std::collections::HashMap;
use std::path::Path;

use moodshelf_libgen::GenItem;
use serde::Deserialize;

/// Where the development set lives.
pub fn dev_set_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/dev.toml")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Half {
    Tune,
    Check,
}

impl Half {
    pub fn as_str(self) -> &'static str {
        match self {
            Half::Tune => "tune",
            Half::Check => "check",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Constraints {
    pub max_minutes: Option<f64>,
    pub min_minutes: Option<f64>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub exclude: Vec<String>,
    pub kids: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RequestSpec {
    Text(String),
    Full {
        text: String,
        #[serde(default)]
        now: Option<String>,
        #[serde(flatten)]
        constraints: Constraints,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedSpec {
    id: String,
    half: Half,
    kind: Option<String>,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    all: Vec<Vec<String>>,
    #[serde(default)]
    plot: Vec<String>,
    #[serde(default)]
    none: Vec<String>,
    music: Option<String>,
    rated: Option<f32>,
    requests: Vec<RequestSpec>,
    #[serde(flatten)]
    constraints: Constraints,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MomentSpec {
    id: String,
    half: Half,
    kind: Option<String>,
    requests: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeSpec {
    half: Half,
    requests: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub text: String,
    #[serde(default)]
    pub expect: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    pub half: Half,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seasons {
    pub winter: Vec<String>,
    pub summer: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    need: Vec<NeedSpec>,
    moment: Vec<MomentSpec>,
    probe: Vec<ProbeSpec>,
    chain: Vec<Chain>,
    seasons: Seasons,
}

/// What makes an item relevant to a need.
#[derive(Debug, Clone, Default)]
pub struct Label {
    pub kind: Option<String>,
    pub any: Vec<String>,
    /// Groups of fragments that must each match (a compositional need):
    /// a plain fragment matches the source record's labels, `plot:WORD`
    /// the film's plot, `mood:NAME` the track's audio features.
    pub all: Vec<Vec<String>>,
    pub plot: Vec<String>,
    pub none: Vec<String>,
    pub music: Option<String>,
    pub rated: Option<f32>,
}

/// One request to answer and judge.
#[derive(Debug, Clone)]
pub struct Case {
    pub need: String,
    pub half: Half,
    pub text: String,
    /// Local time, "2026-12-21T20:00".
    pub now: String,
    pub south: bool,
    pub label: Label,
    pub constraints: Constraints,
    /// Two needs and an exclusion at once (the label has `all` groups).
    pub compositional: bool,
}

/// The same vague request at three moments.
#[derive(Debug, Clone)]
pub struct MomentCase {
    pub id: String,
    pub half: Half,
    pub text: String,
    pub kind: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DevSet {
    pub cases: Vec<Case>,
    pub moments: Vec<MomentCase>,
    pub probes: Vec<(Half, String)>,
    pub chains: Vec<Chain>,
    pub seasons: Seasons,
}

/// The default moment of a request: a Friday evening in late November.
pub const DEFAULT_NOW: &str = "2026-11-27T20:00";
/// The moments a vague request is asked at: four days before Christmas,
/// mid-July, and the same December evening south of the equator.
pub const DECEMBER: &str = "2026-12-21T20:00";
pub const JULY: &str = "2026-07-16T20:00";

impl DevSet {
    pub fn load() -> DevSet {
        let path = dev_set_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
        let mut cases = Vec::new();
        for n in file.need {
            let label = Label {
                kind: n.kind.clone(),
                any: n.any.clone(),
                all: n.all.clone(),
                plot: n.plot.clone(),
                none: n.none.clone(),
                music: n.music.clone(),
                rated: n.rated,
            };
            for r in n.requests {
                let (text, now, own) = match r {
                    RequestSpec::Text(t) => (t, None, Constraints::default()),
                    RequestSpec::Full {
                        text,
                        now,
                        constraints,
                    } => (text, now, constraints),
                };
                let c = &n.constraints;
                let mut exclude = c.exclude.clone();
                exclude.extend(own.exclude);
                cases.push(Case {
                    need: n.id.clone(),
                    half: n.half,
                    text,
                    now: now.unwrap_or_else(|| DEFAULT_NOW.to_string()),
                    south: false,
                    compositional: !label.all.is_empty(),
                    label: label.clone(),
                    constraints: Constraints {
                        max_minutes: own.max_minutes.or(c.max_minutes),
                        min_minutes: own.min_minutes.or(c.min_minutes),
                        year_from: own.year_from.or(c.year_from),
                        year_to: own.year_to.or(c.year_to),
                        exclude,
                        kids: own.kids || c.kids,
                    },
                });
            }
        }
        let moments = file
            .moment
            .into_iter()
            .flat_map(|m| {
                m.requests.into_iter().map(move |text| MomentCase {
                    id: m.id.clone(),
                    half: m.half,
                    text,
                    kind: m.kind.clone(),
                })
            })
            .collect();
        let probes = file
            .probe
            .into_iter()
            .flat_map(|p| p.requests.into_iter().map(move |r| (p.half, r)))
            .collect();
        DevSet {
            cases,
            moments,
            probes,
            chains: file.chain,
            seasons: file.seasons,
        }
    }

    /// Every request the set asks, counting each moment three times and
    /// each chain step once.
    pub fn request_count(&self) -> usize {
        self.cases.len()
            + self.moments.len() * 3
            + self.probes.len()
            + self.chains.iter().map(|c| c.steps.len()).sum::<usize>()
    }
}

/// Whether `label` (a genre, tag or subject) holds `fragment` at a word
/// start; a trailing `*` allows any ending, otherwise the word must end
/// there too ("war" is in "World War, 1914-1918", not in "Warsaw").
pub fn label_has(label: &str, fragment: &str) -> bool {
    let label = label.to_lowercase();
    let (f, prefix) = match fragment.strip_suffix('*') {
        Some(f) => (f.to_lowercase(), true),
        None => (fragment.to_lowercase(), false),
    };
    label.match_indices(f.as_str()).any(|(i, _)| {
        let before = label[..i].chars().next_back();
        let after = label[i + f.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric)
            && (prefix || !after.is_some_and(char::is_alphanumeric))
    })
}

fn any_label(labels: &[String], fragments: &[String]) -> bool {
    labels
        .iter()
        .any(|l| fragments.iter().any(|f| label_has(l, f)))
}

/// A music mood read from Spotify's audio features (0–1 each).
pub fn music_mood(item: &GenItem, mood: &str) -> bool {
    let Some(f) = item.features else {
        return false;
    };
    match mood {
        "calm" => f.energy < 0.4 && f.acousticness > 0.5,
        "energetic" => f.energy > 0.75,
        "happy" => f.valence > 0.6 && f.energy > 0.45,
        "sad" => f.valence < 0.35 && f.energy < 0.6,
        "dance" => f.danceability > 0.65 && f.energy > 0.5,
        "acoustic" => f.acousticness > 0.6,
        "focus" => f.energy < 0.5 && f.instrumentalness > 0.5,
        "sleep" => f.energy < 0.25,
        "mellow" => f.energy > 0.25 && f.energy < 0.65 && f.valence > 0.35,
        "instrumental" => f.instrumentalness > 0.5,
        "vocal" => f.instrumentalness < 0.1,
        "dark" => f.valence < 0.3,
        other => panic!("unknown music mood {other:?} in the dev set"),
    }
}

impl Label {
    /// `Some(relevant)`, or `None` when the item cannot be judged: a book
    /// whose source record has no subjects (the goodbooks half of the
    /// library) says nothing about its genre, so it is left out of the
    /// ranking before metrics are computed (a condensed list), rather than
    /// counted as a miss.
    pub fn judge(&self, item: &GenItem) -> Option<bool> {
        if let Some(k) = &self.kind
            && item.kind != k
        {
            return Some(false);
        }
        let topical = !self.any.is_empty()
            || !self.plot.is_empty()
            || self.all.iter().flatten().any(|f| !f.starts_with("mood:"));
        if item.kind == "book" && item.truth.is_empty() && topical {
            return None;
        }
        if self.excludes(item) {
            return Some(false);
        }
        if let Some(m) = &self.music
            && !music_mood(item, m)
        {
            return Some(false);
        }
        if let Some(r) = self.rated
            && item.rating.is_none_or(|x| x < r)
        {
            return Some(false);
        }
        if !self
            .all
            .iter()
            .all(|group| group.iter().any(|f| fragment_holds(item, f)))
        {
            return Some(false);
        }
        if self.any.is_empty() && self.plot.is_empty() {
            return Some(true);
        }
        let in_plot = item.plot.as_deref().is_some_and(|p| {
            let p = p.to_lowercase();
            self.plot.iter().any(|w| label_has(&p, w))
        });
        Some(any_label(&item.truth, &self.any) || in_plot)
    }

    /// Whether the item is what the need rules out (`none`), by its source
    /// record.
    pub fn excludes(&self, item: &GenItem) -> bool {
        self.none.iter().any(|f| fragment_holds(item, f))
    }
}

/// Whether one label fragment holds of an item: `mood:NAME` by its audio
/// features, `plot:WORD` by its plot, anything else by its source labels.
pub fn fragment_holds(item: &GenItem, fragment: &str) -> bool {
    if let Some(mood) = fragment.strip_prefix("mood:") {
        return music_mood(item, mood);
    }
    if let Some(word) = fragment.strip_prefix("plot:") {
        return item.plot.as_deref().is_some_and(|p| label_has(p, word));
    }
    item.truth.iter().any(|l| label_has(l, fragment))
}

impl Case {
    /// Whether a pick is what the request excluded, judged by its source
    /// record whatever its files say (a thin file says nothing, and a
    /// recommender that understands it should still not pick it): the
    /// need's `none` fragments, or an `exclude` constraint found in its
    /// labels.
    pub fn excluded(&self, item: &GenItem) -> bool {
        self.label.excludes(item)
            || item.truth.iter().any(|l| {
                let l = l.to_lowercase();
                self.constraints
                    .exclude
                    .iter()
                    .any(|e| l.contains(&e.to_lowercase()))
            })
    }
}

/// Whether a request names the kind it wants in words ("a film", "something
/// to read"). Only then is another kind a broken constraint; otherwise it
/// is only an irrelevant pick, which the relevance metrics already count.
pub fn names_kind(text: &str, kind: &str) -> bool {
    let words: &[&str] = match kind {
        "video" => &["film", "movie", "watch", "cinema", "flick"],
        "book" => &[
            "book", "read", "novel", "story", "stories", "poem", "poetry",
        ],
        "music" => &[
            "music", "song", "track", "listen", "album", "playlist", "tune",
        ],
        _ => return false,
    };
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| words.iter().any(|k| w.starts_with(k)))
}

impl Constraints {
    /// Whether a pick breaks a hard constraint of its request. Exclusions
    /// are judged on what the item's own files say: no recommender can
    /// know more than the library tells it.
    pub fn broken_by(&self, kind: Option<&str>, item: &GenItem) -> bool {
        if kind.is_some_and(|k| item.kind != k) {
            return true;
        }
        let minutes = item.duration_secs.map(|d| d / 60.0);
        if self
            .max_minutes
            .is_some_and(|m| minutes.is_none_or(|x| x > m + 0.5))
        {
            return true;
        }
        if self
            .min_minutes
            .is_some_and(|m| minutes.is_none_or(|x| x < m - 0.5))
        {
            return true;
        }
        if self
            .year_from
            .is_some_and(|y| item.year.is_none_or(|x| x < y))
        {
            return true;
        }
        if self
            .year_to
            .is_some_and(|y| item.year.is_none_or(|x| x > y))
        {
            return true;
        }
        let own: Vec<String> = item.genres.iter().chain(&item.tags).cloned().collect();
        if !self.exclude.is_empty()
            && own.iter().any(|l| {
                let l = l.to_lowercase();
                self.exclude.iter().any(|e| l.contains(&e.to_lowercase()))
            })
        {
            return true;
        }
        if self.kids && adult(item) {
            return true;
        }
        false
    }
}

/// Rated for adults only, by the certificate the source record gives.
pub fn adult(item: &GenItem) -> bool {
    item.truth.iter().any(|t| {
        t.strip_prefix("certificate:").is_some_and(|c| {
            let c = c.trim().to_ascii_uppercase();
            ["R", "NC-17", "X", "TV-MA", "18", "A"].contains(&c.as_str())
        })
    })
}

/// nDCG@k and precision@k of one ranking, given judgements (`None` =
/// unjudged, dropped before scoring) and how many relevant items exist.
pub fn ndcg_and_precision(judged: &[Option<bool>], total_relevant: usize, k: usize) -> (f64, f64) {
    let condensed: Vec<bool> = judged.iter().filter_map(|j| *j).take(k).collect();
    let dcg: f64 = condensed
        .iter()
        .enumerate()
        .filter(|(_, r)| **r)
        .map(|(i, _)| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let ideal: f64 = (0..total_relevant.min(k))
        .map(|i| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let hits = condensed.iter().filter(|r| **r).count();
    let ndcg = if ideal > 0.0 { dcg / ideal } else { 0.0 };
    (ndcg, hits as f64 / k as f64)
}

/// Words of a request that name a time, a day or an occasion. A pick whose
/// title holds one (and whose labels do not) was matched on the title.
pub const MOMENT_WORDS: &[&str] = &[
    "evening",
    "tonight",
    "night",
    "morning",
    "afternoon",
    "weekend",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "train",
    "dinner",
    "cooking",
    "beach",
    "summer",
    "winter",
    "snowy",
    "rainy",
    "long",
    "week",
];

/// Whether `item` looks chosen for a time or occasion word of `request`
/// that sits in its title.
pub fn title_matched(request: &str, item: &GenItem) -> bool {
    let words: Vec<String> = request
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| MOMENT_WORDS.contains(w))
        .map(str::to_string)
        .collect();
    words.iter().any(|w| {
        label_has(&item.title, w)
            && !item.truth.iter().any(|t| label_has(t, w))
            && !item.plot.as_deref().is_some_and(|p| label_has(p, w))
    })
}

/// The descriptors a shown reason claims that the item's source record
/// does not support: its genres, tags, subjects, certificate, plot and
/// title for films and books, its audio features for tracks. Independent
/// of what the app computed about the item; times of day are left out
/// (a reason may repeat the request's "this evening").
pub fn unsupported_claims(
    why: &str,
    item: &GenItem,
    _moment: &[moodshelf_engine::recommend::intent::Need],
) -> Vec<&'static str> {
    use moodshelf_engine::recommend::explain::claimed;
    use moodshelf_engine::vocab::Facet;
    let text: Vec<String> = item
        .truth
        .iter()
        .chain(std::iter::once(&item.title))
        .chain(item.plot.iter())
        .map(|t| t.to_lowercase())
        .collect();
    claimed(&why.to_lowercase())
        .into_iter()
        .filter(|d| d.get().facet != Facet::Time)
        .filter(|d| {
            let dd = d.get();
            let in_record = text.iter().any(|t| {
                dd.labels.iter().chain(&dd.cues).any(|f| label_has(t, f)) || label_has(t, &dd.name)
            });
            let heard = item.features.is_some()
                && match dd.name.as_str() {
                    "calm" => music_mood(item, "calm") || music_mood(item, "sleep"),
                    "energetic" | "workout" | "road trip" => music_mood(item, "energetic"),
                    "uplifting" | "morning" => music_mood(item, "happy"),
                    "melancholic" | "rainy" => music_mood(item, "sad"),
                    "party" => music_mood(item, "dance"),
                    "acoustic" | "cozy" => music_mood(item, "acoustic"),
                    "focus" | "instrumental" => music_mood(item, "focus"),
                    "sleep" => music_mood(item, "sleep"),
                    "dinner" | "light" => music_mood(item, "mellow"),
                    _ => false,
                };
            !in_record && !heard
        })
        .map(|d| d.name())
        .collect()
}

/// Items by their canonical path, to map picks back to what was written.
pub fn by_path(items: &[GenItem]) -> HashMap<String, &GenItem> {
    items
        .iter()
        .filter_map(|i| {
            std::fs::canonicalize(&i.path)
                .ok()
                .map(|p| (p.display().to_string(), i))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_match_at_word_starts() {
        assert!(label_has("World War, 1914-1918 -- Fiction", "war"));
        assert!(!label_has("Warsaw (Poland)", "war"));
        assert!(label_has("Ghost stories", "ghost*"));
        assert!(!label_has("Ghost stories", "host"));
        assert!(label_has("Children's stories", "children's"));
    }

    #[test]
    fn a_kind_is_a_constraint_only_when_named() {
        assert!(names_kind("a funny film for tonight", "video"));
        assert!(names_kind("something to watch this evening", "video"));
        assert!(names_kind("music for cooking dinner", "music"));
        assert!(names_kind("a book to read on the train", "book"));
        assert!(!names_kind("a whodunit", "video"));
        assert!(!names_kind("gentle piano", "music"));
        assert!(!names_kind("a funny film", "book"));
    }

    #[test]
    fn condensed_lists_drop_unjudged_items() {
        let j = [Some(true), None, Some(false), Some(true)];
        let (ndcg, p) = ndcg_and_precision(&j, 2, 10);
        // Judged order: relevant, irrelevant, relevant.
        let ideal = 1.0 + 1.0 / 3f64.log2();
        let dcg = 1.0 + 1.0 / 4f64.log2();
        assert!((ndcg - dcg / ideal).abs() < 1e-9, "{ndcg}");
        assert!((p - 0.2).abs() < 1e-9, "{p}");
    }

    fn item(kind: &'static str, truth: &[&str], plot: Option<&str>) -> GenItem {
        GenItem {
            path: "x".into(),
            kind,
            title: "x".into(),
            creator: None,
            year: None,
            genres: Vec::new(),
            tags: Vec::new(),
            duration_secs: None,
            sidecar: false,
            truth: truth.iter().map(|t| t.to_string()).collect(),
            features: None,
            plot: plot.map(str::to_string),
            rating: None,
        }
    }

    #[test]
    fn compositional_labels_need_every_group_and_respect_the_exclusion() {
        let label = Label {
            kind: Some("video".into()),
            all: vec![
                vec!["comedy".into()],
                vec!["friendship".into(), "plot:friends".into()],
            ],
            none: vec!["romance".into()],
            ..Label::default()
        };
        let judge = |truth: &[&str], plot| label.judge(&item("video", truth, plot));
        assert_eq!(judge(&["Comedy", "friendship"], None), Some(true));
        assert_eq!(
            judge(&["Comedy"], Some("Two old friends drive west.")),
            Some(true)
        );
        assert_eq!(judge(&["Comedy"], Some("A man drives west.")), Some(false));
        assert_eq!(judge(&["Drama", "friendship"], None), Some(false));
        assert_eq!(
            judge(&["Comedy", "Romance", "friendship"], None),
            Some(false)
        );
        let case = Case {
            need: "n".into(),
            half: Half::Tune,
            text: "a funny film about friends, no romance".into(),
            now: DEFAULT_NOW.into(),
            south: false,
            label: label.clone(),
            constraints: Constraints {
                exclude: vec!["horror".into()],
                ..Constraints::default()
            },
            compositional: true,
        };
        // Excluded by the source record, whatever the (thin) files say.
        assert!(case.excluded(&item("video", &["Romance"], None)));
        assert!(case.excluded(&item("video", &["Horror"], None)));
        assert!(!case.excluded(&item("video", &["Comedy"], None)));
    }

    #[test]
    fn moods_in_groups_read_audio_features() {
        let mut track = item("music", &[], None);
        track.features = Some(moodshelf_libgen::datasets::AudioFeatures {
            energy: 0.9,
            valence: 0.8,
            danceability: 0.3,
            ..Default::default()
        });
        let label = Label {
            kind: Some("music".into()),
            all: vec![vec!["mood:energetic".into()], vec!["mood:happy".into()]],
            none: vec!["mood:dance".into()],
            ..Label::default()
        };
        assert_eq!(label.judge(&track), Some(true));
        track.features.as_mut().unwrap().danceability = 0.9;
        assert_eq!(label.judge(&track), Some(false));
    }

    #[test]
    fn compositional_needs_are_balanced() {
        let d = DevSet::load();
        let mut needs: HashMap<&str, Vec<&Case>> = HashMap::new();
        for c in d.cases.iter().filter(|c| c.compositional) {
            needs.entry(&c.need).or_default().push(c);
        }
        assert!((20..=30).contains(&needs.len()), "{} needs", needs.len());
        let mut kinds: HashMap<&str, usize> = HashMap::new();
        let mut tune = 0;
        for (id, cases) in &needs {
            let l = &cases[0].label;
            assert!(
                (3..=5).contains(&cases.len()),
                "{id}: {} phrasings",
                cases.len()
            );
            assert!(l.all.len() >= 2, "{id}: two needs");
            assert!(!l.none.is_empty(), "{id}: an exclusion");
            *kinds.entry(l.kind.as_deref().expect("a kind")).or_default() += 1;
            tune += usize::from(cases[0].half == Half::Tune);
            // Every mood named exists (music_mood panics on an unknown one).
            let mut probe = item("music", &[], None);
            probe.features = Some(Default::default());
            for f in l.all.iter().flatten().chain(&l.none) {
                fragment_holds(&probe, f);
            }
        }
        for k in ["video", "book", "music"] {
            assert!(kinds.get(k).is_some_and(|n| *n >= 6), "{kinds:?}");
        }
        let share = tune as f64 / needs.len() as f64;
        assert!((0.4..=0.6).contains(&share), "tuning share {share}");
    }

    /// Every compositional need has works to find in the default thin
    /// library (4,830 items), so its nDCG says something.
    #[test]
    fn compositional_needs_have_relevant_works() {
        let dir = tempfile::tempdir().unwrap();
        let spec = moodshelf_libgen::Spec {
            music: 687,
            books: 2243,
            videos: 1900,
        };
        let lib =
            moodshelf_libgen::generate_thin(&moodshelf_libgen::datasets_dir(), dir.path(), spec)
                .unwrap();
        let d = DevSet::load();
        let mut seen = std::collections::HashSet::new();
        for c in d.cases.iter().filter(|c| c.compositional) {
            if !seen.insert(&c.need) {
                continue;
            }
            let relevant = lib
                .items
                .iter()
                .filter(|i| c.label.judge(i) == Some(true))
                .count();
            assert!(relevant >= 4, "{}: {relevant} relevant works", c.need);
        }
    }

    #[test]
    fn the_dev_set_parses_and_is_broad() {
        let d = DevSet::load();
        assert!(d.request_count() >= 300, "{}", d.request_count());
        for half in [Half::Tune, Half::Check] {
            assert!(d.cases.iter().filter(|c| c.half == half).count() >= 100);
        }
    }
}
