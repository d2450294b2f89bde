//! Item profiles: what an item is like, as a score for every descriptor of
//! the vocabulary ([`crate::vocab`]), computed once at index time from all
//! its evidence:
//!
//! - **evidence**: its own genres, subjects and tags mapped to descriptors,
//!   words of its description, its tempo and its certificate;
//! - **zero-shot**: the cosine of its embedding with each descriptor's
//!   prototype (the descriptor's `about` sentences, embedded once),
//!   calibrated per kind when the profiles are loaded, so that a score
//!   means the same for a short track card and a long film card;
//! - **model**: what the reasoning model understood of the item's work
//!   (its moods, themes, tone, and genres where the file has none),
//!   written by the background understanding (`enrich`);
//! - **sound**: for analysed tracks, what their audio says of their energy
//!   ([`crate::hearing`]), read from the analysis when profiles are loaded.
//!
//! Profiles are stored in the catalog beside the item, keyed by the
//! description they were computed from and [`PROFILE_VERSION`], so a
//! changed item or vocabulary is profiled again by the next scan.
//! [`ProfileTable`] is their in-memory form for answering: a few hundred
//! bytes per item, loaded once and dropped whenever the library changes.

use std::collections::HashMap;

use moodshelf_catalog::{Profile, ProfileRow};
use moodshelf_media::{Kind, Metadata};

use crate::hearing::Sound;
use crate::vocab::{D, DESCRIPTORS, Facet, KNOWN};

/// Bump when [`evidence`] or [`zero_shot`] give other output for the same
/// item.
pub const PROFILE_VERSION: u32 = 1;

// An item's certification ("PG-13", "Rated R", "TV-MA") as the rules read
// it: for children, for adults only, or neither.

/// Certifications that are not for children.
pub const ADULT_RATINGS: &[&str] = &["R", "NC-17", "X", "TV-MA", "18", "A", "UNRATED"];
/// Certifications that are fine for children.
const FAMILY_RATINGS: &[&str] = &[
    "G", "PG", "U", "TV-Y", "TV-Y7", "TV-G", "TV-PG", "UA", "ALL", "APPROVED", "PASSED",
];

fn certification(c: &str) -> String {
    let c = c.trim().to_ascii_uppercase();
    c.strip_prefix("RATED ").unwrap_or(&c).to_string()
}

/// Whether a certification is for adults only.
pub fn adult_rating(c: &str) -> bool {
    ADULT_RATINGS.contains(&certification(c).as_str())
}

/// Whether a certification is fine for children.
pub fn family_rating(c: &str) -> bool {
    FAMILY_RATINGS.contains(&certification(c).as_str())
}

/// The prefix of a fresh profile's source key.
pub fn version_key() -> String {
    format!("p{PROFILE_VERSION}v{}", crate::vocab::version())
}

/// The source key a profile computed from this description carries.
pub fn source_key(description_hash: &str) -> String {
    format!("{}:{description_hash}", version_key())
}

/// Evidence strengths, as stored bytes.
const LABEL: u8 = 255;
const DESCRIPTION_WORD: u8 = 140;
/// Below what a claim needs (see `Sources::support`): a tag's tempo says
/// "fast" or "slow", not "energetic"; reasons cite the tempo itself.
const TEMPO: u8 = 120;
const CERTIFICATE: u8 = 110;

/// Whether a lowercase `text` (a genre, a tag, a theme) holds one of the
/// labels that are evidence of descriptor `d`.
pub fn labelled(d: D, text: &str) -> bool {
    d.get().labels.iter().any(|f| has_fragment(text, f))
}

/// Whether a lowercase `text` holds `fragment` at a word start; a trailing
/// `*` allows any ending, otherwise the word must end there too.
pub fn has_fragment(text: &str, fragment: &str) -> bool {
    let (f, prefix) = match fragment.strip_suffix('*') {
        Some(f) => (f, true),
        None => (fragment, false),
    };
    if f.is_empty() {
        return false;
    }
    text.match_indices(f).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + f.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric)
            && (prefix || !after.is_some_and(char::is_alphanumeric))
    })
}

/// Evidence for every descriptor from what the item's own metadata says,
/// one byte each (0 = none).
pub fn evidence(m: &Metadata) -> Vec<u8> {
    let mut e = vec![0u8; DESCRIPTORS.len()];
    let labels: Vec<String> = m
        .genres
        .iter()
        .chain(&m.tags)
        .map(|l| l.to_lowercase())
        .collect();
    let text = m
        .description
        .as_deref()
        .or(m.comment.as_deref())
        .unwrap_or("")
        .to_lowercase();
    for d in D::all() {
        let frags = &d.get().labels;
        if labels
            .iter()
            .any(|l| frags.iter().any(|f| has_fragment(l, f)))
        {
            e[d.index()] = LABEL;
        } else if !text.is_empty() && frags.iter().any(|f| has_fragment(&text, f)) {
            e[d.index()] = DESCRIPTION_WORD;
        }
    }
    let mut raise = |d: D, v: u8| {
        let i = d.index();
        e[i] = e[i].max(v);
    };
    let k = &*KNOWN;
    if let Some(bpm) = m.bpm.filter(|b| *b > 0.0) {
        if bpm < 85.0 {
            raise(k.calm, TEMPO);
            raise(k.sleep, TEMPO / 2);
        } else if bpm >= 128.0 {
            raise(k.energetic, TEMPO);
            raise(k.workout, TEMPO);
            raise(k.party, TEMPO / 2);
        }
    }
    if let Some(c) = &m.certification
        && family_rating(c)
    {
        raise(k.kids, CERTIFICATE);
        raise(k.family, CERTIFICATE);
    }
    e
}

/// The descriptors' prototypes: each descriptor's `about` sentences
/// embedded and averaged, normalised.
#[derive(Debug, Clone)]
pub struct Prototypes {
    pub vectors: Vec<Vec<f32>>,
}

impl Prototypes {
    /// The sentences to embed, in order, and which descriptor each is for.
    pub fn sentences() -> Vec<(D, &'static str)> {
        D::all()
            .flat_map(|d| d.get().about.iter().map(move |s| (d, s.as_str())))
            .collect()
    }

    /// Averages embedded [`Prototypes::sentences`] per descriptor.
    pub fn from_embedded(vectors: &[Vec<f32>]) -> Prototypes {
        let sentences = Prototypes::sentences();
        assert_eq!(sentences.len(), vectors.len(), "one vector per sentence");
        let dim = vectors.first().map_or(0, Vec::len);
        let mut sums = vec![vec![0.0f32; dim]; DESCRIPTORS.len()];
        for ((d, _), v) in sentences.iter().zip(vectors) {
            for (s, x) in sums[d.index()].iter_mut().zip(v) {
                *s += x;
            }
        }
        Prototypes {
            vectors: sums.iter().map(|v| normalize(v)).collect(),
        }
    }

    /// As bytes for the catalog's cache (little-endian f32).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.vectors
            .iter()
            .flatten()
            .flat_map(|x| x.to_le_bytes())
            .collect()
    }

    pub fn from_bytes(bytes: &[u8], dim: usize) -> Option<Prototypes> {
        if dim == 0 || bytes.len() != DESCRIPTORS.len() * dim * 4 {
            return None;
        }
        let floats: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(Prototypes {
            vectors: floats.chunks(dim).map(<[f32]>::to_vec).collect(),
        })
    }

    /// Cosine of `vector` with every prototype.
    pub fn cosines(&self, vector: &[f32]) -> Vec<f32> {
        self.vectors.iter().map(|p| dot(p, vector)).collect()
    }
}

/// The item's raw zero-shot scores: cosine with each prototype as a signed
/// byte (cosine × 127).
pub fn zero_shot(vector: &[f32], prototypes: &Prototypes) -> Vec<u8> {
    prototypes
        .cosines(vector)
        .into_iter()
        .map(|c| ((c.clamp(-1.0, 1.0) * 127.0).round() as i8) as u8)
        .collect()
}

/// A stored profile for an item.
pub fn profile(
    item_id: i64,
    m: &Metadata,
    description_hash: &str,
    vector: &[f32],
    prototypes: &Prototypes,
) -> Profile {
    Profile {
        item_id,
        source: source_key(description_hash),
        evidence: evidence(m),
        zero_shot: zero_shot(vector, prototypes),
    }
}

/// One item as ranking sees it: its facts for filtering and its
/// descriptor scores from each source, each 0–1.
#[derive(Debug, Clone)]
pub struct ItemProfile {
    pub id: i64,
    pub kind: Kind,
    pub root_id: i64,
    pub year: Option<i32>,
    pub duration_secs: Option<f64>,
    /// 0–10, when the metadata has a rating.
    pub rating: Option<f32>,
    evidence: Box<[u8]>,
    /// Calibrated zero-shot score: standard deviations above the mean of
    /// the item's kind, × 32, clamped to a signed byte.
    zero: Box<[i8]>,
    /// The model's understanding; `None` for items whose work it has not
    /// read or did not know.
    model: Option<Box<[u8]>>,
    /// How it sounds, for analysed tracks that are not silent.
    pub sound: Option<Sound>,
}

/// The sources of a descriptor score.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sources {
    pub evidence: f32,
    pub zero_shot: f32,
    pub model: f32,
    pub sound: f32,
}

impl Sources {
    /// How well a claim that the item has this quality is supported: by
    /// its own labels, tempo or certificate, by the model's reading of it,
    /// or by its analysed sound. Its embedding standing out is a ranking
    /// signal, not a fact (a track whose title sounds wintry is not a
    /// winter track), so a reason never says what only the embedding
    /// suggests.
    pub fn support(&self) -> f32 {
        self.evidence.max(self.model).max(self.sound)
    }
}

impl ItemProfile {
    pub fn sources(&self, d: D) -> Sources {
        // A time of day or week is the moment's, never an item's: scoring
        // items on it would only find the word in their titles.
        let facet = d.get().facet;
        if facet == Facet::Time {
            return Sources::default();
        }
        let i = d.index();
        Sources {
            evidence: self.evidence[i] as f32 / 255.0,
            // Only what stands out counts: one standard deviation above
            // the kind's mean says nothing, three are certain. Occasions
            // are not read from embeddings: "dinner" in a title is not a
            // dinner (they come from labels, the model, and the moods
            // they imply; see `vocab::IMPLIES`).
            zero_shot: if facet == Facet::Occasion {
                0.0
            } else {
                ((self.zero[i] as f32 / 32.0 - 1.0) / 2.0).clamp(0.0, 1.0)
            },
            model: self.model.as_ref().map_or(0.0, |m| m[i] as f32 / 255.0),
            sound: self.sound.as_ref().map_or(0.0, |s| s.descriptor(d)),
        }
    }

    /// Whether the model read this item.
    pub fn enriched(&self) -> bool {
        self.model.is_some()
    }

    /// The strongest evidence of one facet, for rule reasons.
    pub fn evidence_of(&self, facet: Facet) -> Vec<(D, f32)> {
        let mut v: Vec<(D, f32)> = D::all()
            .filter(|d| d.get().facet == facet)
            .map(|d| (d, self.evidence[d.index()] as f32 / 255.0))
            .filter(|(_, x)| *x > 0.0)
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }
}

/// Every available, profiled item, for answering.
#[derive(Debug, Default)]
pub struct ProfileTable {
    pub items: Vec<ItemProfile>,
    by_id: HashMap<i64, usize>,
}

/// Per kind and descriptor: mean and standard deviation of raw cosines.
type Calibration = HashMap<Kind, Vec<(f32, f32)>>;

/// Below this many items of a kind, its calibration borrows from the whole
/// library.
const MIN_CALIBRATION: usize = 40;

impl ProfileTable {
    /// The table from the catalog's profile rows and the analysed tracks'
    /// features (`(item id, features JSON)`).
    pub fn from_rows(rows: Vec<ProfileRow>, sounds: Vec<(i64, String)>) -> ProfileTable {
        let sounds: HashMap<i64, Sound> = sounds
            .into_iter()
            .filter_map(|(id, json)| Some((id, Sound::from_json(&json)?)))
            .collect();
        let n = DESCRIPTORS.len();
        let rows: Vec<ProfileRow> = rows
            .into_iter()
            .filter(|r| r.evidence.len() == n && r.zero_shot.len() == n)
            .collect();
        let raw = |r: &ProfileRow, i: usize| (r.zero_shot[i] as i8) as f32 / 127.0;
        let stats = |rs: &[&ProfileRow]| -> Vec<(f32, f32)> {
            (0..n)
                .map(|i| {
                    let m = rs.len().max(1) as f32;
                    let mean = rs.iter().map(|r| raw(r, i)).sum::<f32>() / m;
                    let var = rs.iter().map(|r| (raw(r, i) - mean).powi(2)).sum::<f32>() / m;
                    (mean, var.sqrt().max(1e-3))
                })
                .collect()
        };
        let all: Vec<&ProfileRow> = rows.iter().collect();
        let global = stats(&all);
        let mut calibration: Calibration = HashMap::new();
        for kind in Kind::ALL {
            let of_kind: Vec<&ProfileRow> = rows.iter().filter(|r| r.kind == kind).collect();
            calibration.insert(
                kind,
                if of_kind.len() >= MIN_CALIBRATION {
                    stats(&of_kind)
                } else {
                    global.clone()
                },
            );
        }
        let mut table = ProfileTable::default();
        for r in rows {
            let kind = r.kind;
            let cal = &calibration[&kind];
            let zero: Box<[i8]> = (0..n)
                .map(|i| {
                    let (mean, sd) = cal[i];
                    ((raw(&r, i) - mean) / sd * 32.0)
                        .round()
                        .clamp(-127.0, 127.0) as i8
                })
                .collect();
            let model = (!r.enriched.is_empty()).then(|| {
                let mut model = vec![0u8; n];
                for (rank, name) in r.enriched.iter().enumerate() {
                    if let Some(d) = D::find(name) {
                        // The reading lists the most fitting first.
                        let v = 255u8.saturating_sub(30 * rank.min(6) as u8);
                        model[d.index()] = model[d.index()].max(v);
                    }
                }
                model.into_boxed_slice()
            });
            table.by_id.insert(r.id, table.items.len());
            table.items.push(ItemProfile {
                id: r.id,
                kind,
                root_id: r.root_id,
                year: r.year,
                duration_secs: r.duration_secs,
                rating: r.rating.map(|x| x as f32),
                evidence: r.evidence.into_boxed_slice(),
                zero,
                model,
                sound: sounds.get(&r.id).copied(),
            });
        }
        table
    }

    pub fn get(&self, id: i64) -> Option<&ItemProfile> {
        self.by_id.get(&id).map(|i| &self.items[*i])
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn normalize(v: &[f32]) -> Vec<f32> {
    let n = dot(v, v).sqrt();
    if n == 0.0 {
        v.to_vec()
    } else {
        v.iter().map(|x| x / n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_match_at_word_starts() {
        assert!(has_fragment("world war, 1914-1918 -- fiction", "war"));
        assert!(!has_fragment("warsaw (poland)", "war"));
        assert!(!has_fragment("edward", "war"));
        assert!(has_fragment("ghost stories", "ghost*"));
        assert!(has_fragment("humorous stories", "humor*"));
        assert!(!has_fragment("shumor", "humor*"));
    }

    #[test]
    fn labels_description_tempo_and_certificate_are_evidence() {
        let mut m = Metadata::new(Kind::Book, "epub");
        m.genres = vec!["Ghost stories".into(), "Christmas stories".into()];
        let e = evidence(&m);
        let at = |name: &str| e[D::named(name).index()];
        assert_eq!(at("supernatural"), LABEL);
        assert_eq!(at("christmas"), LABEL);
        assert_eq!(at("western"), 0);

        let mut m = Metadata::new(Kind::Video, "mkv");
        m.description = Some("A sheriff rides into a frontier town.".into());
        m.certification = Some("PG".into());
        let e = evidence(&m);
        assert_eq!(e[D::named("western").index()], DESCRIPTION_WORD);
        assert_eq!(e[D::named("kids").index()], CERTIFICATE);

        let mut m = Metadata::new(Kind::Music, "mp3");
        m.bpm = Some(140.0);
        let e = evidence(&m);
        assert_eq!(e[D::named("energetic").index()], TEMPO);
        assert_eq!(e[D::named("calm").index()], 0);
    }

    fn row(id: i64, kind: &str, cos: f32, enriched: &[&str]) -> ProfileRow {
        let n = DESCRIPTORS.len();
        ProfileRow {
            id,
            kind: Kind::parse(kind).unwrap(),
            root_id: 1,
            year: None,
            duration_secs: None,
            rating: None,
            evidence: vec![0; n],
            zero_shot: vec![((cos * 127.0) as i8) as u8; n],
            enriched: enriched.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn zero_shot_is_calibrated_per_kind() {
        // Tracks score low against every prototype, films high; the best of
        // each kind must come out alike.
        let mut rows = Vec::new();
        for i in 0..50 {
            rows.push(row(i, "music", 0.10 + 0.002 * i as f32, &[]));
            rows.push(row(100 + i, "video", 0.40 + 0.002 * i as f32, &[]));
        }
        let t = ProfileTable::from_rows(rows, Vec::new());
        let calm = D::named("calm");
        let top_track = t.get(49).unwrap().sources(calm).zero_shot;
        let top_film = t.get(149).unwrap().sources(calm).zero_shot;
        assert!(top_track > 0.2, "{top_track}");
        assert!(
            (top_track - top_film).abs() < 0.05,
            "{top_track} vs {top_film}"
        );
        assert_eq!(t.get(0).unwrap().sources(calm).zero_shot, 0.0);
    }

    #[test]
    fn enrichment_ranks_become_scores() {
        let t = ProfileTable::from_rows(
            vec![row(1, "music", 0.2, &["calm", "nonsense", "sleep"])],
            Vec::new(),
        );
        let p = t.get(1).unwrap();
        assert_eq!(p.sources(D::named("calm")).model, 1.0);
        let sleep = p.sources(D::named("sleep")).model;
        assert!(sleep > 0.5 && sleep < 1.0, "{sleep}");
        assert_eq!(p.sources(D::named("party")).model, 0.0);
        assert!(p.enriched());
    }
}
