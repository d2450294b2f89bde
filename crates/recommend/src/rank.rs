//! Ranking: one score per candidate, a weighted sum of its features, then
//! a greedy pass for variety. Pure functions over plain data.
//!
//! The weights live in one struct, [`Weights`], read from
//! `core/data/weights.toml`. They are not set by hand: `cargo bench -p
//! moodshelf-tests --bench eval -- fit` fits them on the tuning half of the
//! development set by coordinate ascent on nDCG@10 and rewrites their
//! values there (see ARCHITECTURE.md for why coordinate ascent). The
//! hand-set numbers around the ranking are that file's `[shaping]`
//! (`moodshelf_core::shaping`).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use moodshelf_catalog::{ItemView, Verdict};
use moodshelf_media::Kind;
use serde::{Deserialize, Serialize};

use crate::profile::{ItemProfile, Sources};
use crate::shaping::SHAPING;
use crate::vocab::{D, Facet};

/// What the ranker knows about one candidate, each roughly 0–1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Features {
    /// Cosine of the item with the request's content (0 without content).
    pub similarity: f32,
    /// How high the full-text leg ranked it (1 for first, 0 if not found).
    pub text: f32,
    /// The request names its creator ("by Dickens").
    pub named: f32,
    /// How well it has what the request asks for, by each source of its
    /// profile: its own labels, its embedding, the model's reading, its
    /// analysed sound.
    pub need_evidence: f32,
    pub need_zero_shot: f32,
    pub need_model: f32,
    pub need_sound: f32,
    /// How close it sounds to the tracks a request names or, for a
    /// follow-up such as "calmer", to the previous picks moved that way
    /// (0 without an analysis or without such a request).
    pub sound_near: f32,
    /// How well it fits the moment (season, holidays, time of day).
    pub moment: f32,
    /// How strongly it belongs to a season or holiday that is not now.
    pub off_season: f32,
    /// Its rating, centred: -1 (poor) to 1 (excellent), 0 when unrated.
    pub quality: f32,
    /// How much it has of what the request wants less of.
    pub avoid: f32,
    /// Likes, dislikes, and similarity to liked and disliked items.
    pub feedback: f32,
    /// How often it was shown lately (0–3).
    pub shown: f32,
    /// Cosine of the item with the person's taste: what they rated well
    /// and played, less what they rated poorly (0 without a history).
    pub taste: f32,
}

/// Per facet: how much a need of that facet counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FacetWeights {
    pub mood: f32,
    pub occasion: f32,
    pub season: f32,
    pub holiday: f32,
    pub audience: f32,
    pub theme: f32,
    pub form: f32,
}

impl FacetWeights {
    pub fn of(&self, f: Facet) -> f32 {
        match f {
            Facet::Mood => self.mood,
            Facet::Occasion => self.occasion,
            // Times act through the moment (see `understand::moment_needs`).
            Facet::Time => 0.0,
            Facet::Season => self.season,
            Facet::Holiday => self.holiday,
            Facet::Audience => self.audience,
            Facet::Theme => self.theme,
            Facet::Form => self.form,
        }
    }

    /// Every weight, for fitting.
    pub fn each_mut(&mut self) -> [&mut f32; 7] {
        [
            &mut self.mood,
            &mut self.occasion,
            &mut self.season,
            &mut self.holiday,
            &mut self.audience,
            &mut self.theme,
            &mut self.form,
        ]
    }
}

/// Every number the ranking uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub similarity: f32,
    pub text: f32,
    pub named: f32,
    pub need_evidence: f32,
    pub need_zero_shot: f32,
    pub need_model: f32,
    /// Not fitted: the development library has no recorded audio. Set to
    /// the weight of the item's own labels, as hearing a track is as
    /// direct as its tag.
    pub need_sound: f32,
    /// Not fitted either, for the same reason: sounding like the track a
    /// request names counts as much as its embedding being like it.
    pub sound_near: f32,
    pub facet: FacetWeights,
    /// The moment's weight for a vague request and for a precise one; a
    /// request's vagueness blends the two.
    pub moment_vague: f32,
    pub moment_specific: f32,
    pub off_season: f32,
    /// A public rating's weight for a vague request and for a precise one:
    /// "something to watch tonight" says nothing but "something good".
    pub quality_vague: f32,
    pub quality_specific: f32,
    pub avoid: f32,
    pub feedback: f32,
    pub shown: f32,
    /// The person's taste for a vague request and for a precise one (a
    /// request's vagueness blends the two): it shapes "something for
    /// tonight" strongly and "a tense thriller" lightly.
    pub taste_vague: f32,
    pub taste_specific: f32,
    /// How much a pick too like one already chosen is pushed down.
    pub redundancy: f32,
}

/// The fitted weights, from `weights.toml`.
pub static FITTED: LazyLock<Weights> = LazyLock::new(|| {
    toml::from_str(moodshelf_core::shaping::WEIGHTS_TOML).expect("weights.toml holds every weight")
});

impl Weights {
    pub fn score(&self, f: &Features, vagueness: f32) -> f32 {
        let v = vagueness.clamp(0.0, 1.0);
        let blend = |vague: f32, specific: f32| vague * v + specific * (1.0 - v);
        self.similarity * f.similarity
            + self.text * f.text
            + self.named * f.named
            + self.need_evidence * f.need_evidence
            + self.need_zero_shot * f.need_zero_shot
            + self.need_model * f.need_model
            + self.need_sound * f.need_sound
            + self.sound_near * f.sound_near
            + blend(self.moment_vague, self.moment_specific) * f.moment
            - self.off_season * f.off_season
            + self.prior(f.quality, v)
            - self.avoid * f.avoid
            + self.feedback * f.feedback
            - self.shown * f.shown
            + blend(self.taste_vague, self.taste_specific) * f.taste
    }

    /// What an item's public rating (`quality`) says of it before the
    /// request is read. The vague weight speaks only where the request
    /// leaves room for it (at least [`PRIOR_VAGUENESS`] vague), in full
    /// where it says nothing more than a kind and a time: "a funny film"
    /// is answered by what is funny, "something to watch tonight" by what
    /// is well regarded and near their taste.
    pub fn prior(&self, quality: f32, vagueness: f32) -> f32 {
        let room = prior_room(vagueness);
        (self.quality_vague * room + self.quality_specific * (1.0 - room)) * quality
    }

    /// One descriptor score from its sources, weighted as the needs weigh
    /// them, 0–1.
    pub fn combine(&self, s: Sources) -> f32 {
        // The sound adds to the other sources rather than sharing their
        // denominator, so items without an analysis score as before.
        let total = (self.need_evidence + self.need_zero_shot + self.need_model).max(1e-6);
        ((self.need_evidence * s.evidence
            + self.need_zero_shot * s.zero_shot
            + self.need_model * s.model
            + self.need_sound * s.sound)
            / total)
            .clamp(0.0, 1.0)
    }

    /// The request's needs as weights per descriptor, its facet weights
    /// applied.
    pub fn need_weights(&self, needs: &[(D, f32)]) -> Vec<(D, f32)> {
        needs
            .iter()
            .map(|(d, w)| (*d, w * self.facet.of(d.get().facet)))
            .filter(|(_, w)| *w > 0.0)
            .collect()
    }
}

/// How well an item has weighted descriptors, per source (each a weighted
/// mean, 0–1).
pub fn need_match(p: &ItemProfile, weights: &[(D, f32)]) -> Sources {
    let total: f32 = weights.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return Sources::default();
    }
    let mut s = Sources::default();
    for (d, w) in weights {
        let x = p.sources(*d);
        s.evidence += w * x.evidence;
        s.zero_shot += w * x.zero_shot;
        s.model += w * x.model;
        s.sound += w * x.sound;
    }
    Sources {
        evidence: s.evidence / total,
        zero_shot: s.zero_shot / total,
        model: s.model / total,
        sound: s.sound / total,
    }
}

/// How well an item fits weighted descriptors, all sources combined.
pub fn fit(w: &Weights, p: &ItemProfile, weights: &[(D, f32)]) -> f32 {
    let total: f32 = weights.iter().map(|(_, x)| x).sum();
    if total <= 0.0 {
        return 0.0;
    }
    weights
        .iter()
        .map(|(d, x)| x * w.combine(p.sources(*d)))
        .sum::<f32>()
        / total
}

/// Seasons and holidays: the descriptors that can be out of their time.
pub fn seasonal(d: D) -> bool {
    matches!(d.get().facet, Facet::Season | Facet::Holiday)
}

/// How strongly the item belongs to a season or holiday that is neither
/// the moment's nor asked for.
pub fn off_season(w: &Weights, p: &ItemProfile, active: &[D]) -> f32 {
    D::all()
        .filter(|d| seasonal(*d) && !active.contains(d))
        .map(|d| w.combine(p.sources(d)))
        .fold(0.0, f32::max)
}

/// How much room a request of `vagueness` leaves the prior: 0 below
/// [`PRIOR_VAGUENESS`], rising to 1 for a request that says nothing.
pub fn prior_room(vagueness: f32) -> f32 {
    let vague = SHAPING.vague;
    ((vagueness - vague) / (1.0 - vague)).clamp(0.0, 1.0)
}

/// A rating (0–10) as a centred prior.
pub fn quality(rating: Option<f32>) -> f32 {
    rating.map_or(0.0, |r| ((r - 6.5) / 2.5).clamp(-1.0, 1.0))
}

/// Feedback, as ranking uses it.
#[derive(Debug, Default)]
pub struct FeedbackView {
    /// Items never shown for this request: "not now" lately, or disliked
    /// for a similar request (or with no request at all).
    pub hidden: HashSet<i64>,
    pub liked: Vec<i64>,
    /// Disliked for other requests: ranked down, and so are their
    /// neighbours a little.
    pub disliked_soft: Vec<i64>,
}

impl FeedbackView {
    /// `feedback` newest first; `qvec` is the request's vector.
    pub fn new(feedback: &[moodshelf_catalog::Feedback], qvec: &[f32], now: i64) -> Self {
        let mut v = FeedbackView::default();
        // Newest first: a later verdict on an item overrides older ones.
        let mut decided: HashSet<i64> = HashSet::new();
        for f in feedback {
            match f.verdict {
                Verdict::NotNow => {
                    if now - f.created_at < SHAPING.not_now_secs() && now >= f.created_at {
                        v.hidden.insert(f.item_id);
                    }
                }
                Verdict::Like => {
                    if decided.insert(f.item_id) {
                        v.liked.push(f.item_id);
                    }
                }
                Verdict::Dislike => {
                    if decided.insert(f.item_id) {
                        let similar = f.request_vector.as_ref().is_none_or(|r| {
                            r.len() == qvec.len() && dot(r, qvec) >= SHAPING.dislike_similarity
                        });
                        if similar {
                            v.hidden.insert(f.item_id);
                        } else {
                            v.disliked_soft.push(f.item_id);
                        }
                    }
                }
            }
        }
        v
    }

    /// The feedback feature of one item, given the vectors of liked and
    /// softly disliked items.
    pub fn score(
        &self,
        id: i64,
        vector: &[f32],
        liked: &HashMap<i64, Vec<f32>>,
        disliked: &HashMap<i64, Vec<f32>>,
    ) -> f32 {
        let mut s = 0.0;
        if self.liked.contains(&id) {
            s += 0.3;
        }
        if self.disliked_soft.contains(&id) {
            s -= 1.0;
        }
        let best = |m: &HashMap<i64, Vec<f32>>| {
            m.iter()
                .filter(|(k, _)| **k != id)
                .map(|(_, v)| dot(v, vector))
                .fold(0.0f32, f32::max)
        };
        s += (best(liked) - 0.5).max(0.0);
        s -= (best(disliked) - 0.7).max(0.0);
        s
    }
}

/// A candidate with what ranking knows about it.
#[derive(Debug, Clone)]
pub struct Scored {
    pub item: ItemView,
    pub features: Features,
    pub vector: Option<Vec<f32>>,
    pub score: f32,
}

/// How picks are chosen from scored candidates.
#[derive(Debug, Clone, Copy)]
pub struct Choice<'a> {
    pub vagueness: f32,
    pub limit: usize,
    /// Creators the request names: not capped.
    pub named: &'a [String],
    /// Variety at all (plain search has none).
    pub varied: bool,
    /// The request names no kind: no kind may take more than
    /// [`KIND_SHARE`] of the picks.
    pub mix_kinds: bool,
}

/// Scores every candidate and chooses `limit` picks, best first, with
/// variety: no more than two by one creator or from one album (unless the
/// request names that creator), near-duplicates pushed down, and a mix of
/// kinds when no kind was asked for. What the request names (a title, then
/// a creator's works) comes before everything else.
pub fn choose(mut candidates: Vec<Scored>, w: &Weights, c: Choice<'_>) -> Vec<Scored> {
    for s in &mut candidates {
        s.score = w.score(&s.features, c.vagueness);
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.id.cmp(&b.item.id)));
    if !c.varied {
        candidates.truncate(c.limit);
        return candidates;
    }
    diversify(candidates, c, w.redundancy)
}

/// A candidate as variety sees it.
struct Entry {
    s: Scored,
    creator: String,
    album: Option<String>,
    asked: bool,
    /// The request names it (its title, its creator): it comes before the
    /// rest, uncapped (see `retrieve::Named`).
    first: f32,
    /// Highest cosine with any pick so far.
    closest: f32,
}

impl Entry {
    /// `s` with its creator and album keys lowered once; `named` are the
    /// names the request asks for, lowered.
    fn new(s: Scored, named: &[String]) -> Entry {
        // "Unknown Artist" is no one: untagged tracks share no creator.
        let creator = match s.item.creator.as_deref() {
            Some(c) if !crate::work::names_no_one(c) => c.to_lowercase(),
            _ => String::new(),
        };
        let first = s.features.named;
        let asked = first > 0.0
            || (!creator.is_empty() && named.iter().any(|n| creator.contains(n.as_str())));
        let album = s
            .item
            .album
            .as_deref()
            .filter(|a| !crate::work::names_no_one(a))
            .map(str::to_lowercase);
        Entry {
            s,
            creator,
            album,
            asked,
            first,
            closest: 0.0,
        }
    }
}

/// The picks so far per creator, album and kind, and the caps on them.
struct Caps {
    per_creator: HashMap<String, usize>,
    per_album: HashMap<String, usize>,
    per_kind: HashMap<Kind, usize>,
    kind_cap: usize,
    /// The creator and album caps hold while the pool can satisfy them; a
    /// library of one artist still fills the answer.
    capped: bool,
}

impl Caps {
    /// Whether `e` may be picked next; a kind's cap holds only when other
    /// kinds are left to choose from.
    fn allow(&self, e: &Entry, several_kinds_left: bool) -> bool {
        let count = |m: &HashMap<String, usize>, k: &str| m.get(k).copied().unwrap_or(0);
        if several_kinds_left
            && e.first == 0.0
            && self.per_kind.get(&e.s.item.kind).copied().unwrap_or(0) >= self.kind_cap
        {
            return false;
        }
        if self.capped
            && !e.creator.is_empty()
            && !e.asked
            && count(&self.per_creator, &e.creator) >= 2
        {
            return false;
        }
        if let Some(a) = &e.album
            && self.capped
            && !e.asked
            && count(&self.per_album, a) >= 2
        {
            return false;
        }
        true
    }

    fn count(&mut self, e: &Entry) {
        *self.per_kind.entry(e.s.item.kind).or_default() += 1;
        if !e.creator.is_empty() {
            *self.per_creator.entry(e.creator.clone()).or_default() += 1;
        }
        if let Some(a) = &e.album {
            *self.per_album.entry(a.clone()).or_default() += 1;
        }
    }
}

/// Greedy selection with variety. Each candidate's closeness to what is
/// already chosen is kept up to date as picks are made (one dot product
/// per candidate per pick), and its creator and album keys are lowered
/// once, so choosing costs `limit × pool`, not `limit² × pool`: the
/// weight fit calls this hundreds of thousands of times.
fn diversify(scored: Vec<Scored>, c: Choice<'_>, redundancy: f32) -> Vec<Scored> {
    let limit = c.limit;
    let named: Vec<String> = c.named.iter().map(|l| l.to_lowercase()).collect();
    let mut pool: Vec<Entry> = scored.into_iter().map(|s| Entry::new(s, &named)).collect();
    // Named items first, so the look-ahead below always reaches them.
    pool.sort_by(|a, b| b.first.total_cmp(&a.first));
    let mut caps = Caps {
        per_creator: HashMap::new(),
        per_album: HashMap::new(),
        per_kind: HashMap::new(),
        kind_cap: match c.mix_kinds {
            true => ((limit as f32 * SHAPING.kind_share).ceil() as usize).max(1),
            false => usize::MAX,
        },
        capped: true,
    };
    let mut chosen: Vec<Scored> = Vec::new();
    while chosen.len() < limit && !pool.is_empty() {
        let mut best: Option<(usize, (f32, f32))> = None;
        let kinds_left: HashSet<&str> = pool.iter().map(|e| e.s.item.kind.as_str()).collect();
        for (i, e) in pool.iter().enumerate().take(300) {
            if !caps.allow(e, kinds_left.len() > 1) {
                continue;
            }
            let value = (
                e.first,
                e.s.score - redundancy * (e.closest - 0.6).max(0.0) / 0.4,
            );
            if best.is_none_or(|(_, b)| value > b) {
                best = Some((i, value));
            }
        }
        let Some((i, _)) = best else {
            if std::mem::take(&mut caps.capped) {
                continue;
            }
            break;
        };
        let e = pool.remove(i);
        caps.count(&e);
        if let Some(v) = &e.s.vector {
            for other in &mut pool {
                if let Some(ov) = &other.s.vector {
                    other.closest = other.closest.max(dot(v, ov));
                }
            }
        }
        chosen.push(e.s);
    }
    chosen
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, creator: &str) -> ItemView {
        ItemView {
            path: format!("/lib/{id}"),
            creator: Some(creator.into()),
            ..ItemView::bare(id, Kind::Video, &format!("Item {id}"))
        }
    }

    fn cand(id: i64, creator: &str, f: Features, v: Vec<f32>) -> Scored {
        Scored {
            item: item(id, creator),
            features: f,
            vector: Some(v),
            score: 0.0,
        }
    }

    #[test]
    fn the_fitted_weights_load_and_reward_what_was_asked() {
        let w = *FITTED;
        let asked = Features {
            need_evidence: 1.0,
            need_zero_shot: 0.8,
            similarity: 0.5,
            ..Features::default()
        };
        let other = Features {
            similarity: 0.5,
            ..Features::default()
        };
        assert!(w.score(&asked, 0.2) > w.score(&other, 0.2));
        let off = Features {
            off_season: 1.0,
            ..other
        };
        assert!(
            w.score(&off, 1.0) <= w.score(&other, 1.0),
            "out of season never helps"
        );
    }

    #[test]
    fn the_moment_counts_more_when_the_request_says_little() {
        let w = *FITTED;
        let f = Features {
            moment: 1.0,
            ..Features::default()
        };
        assert!(
            w.score(&f, 1.0) > w.score(&f, 0.0),
            "a vague request leaves more to the moment"
        );
    }

    #[test]
    fn variety_caps_creators_and_pushes_near_duplicates_down() {
        let w = *FITTED;
        let f = |x: f32| Features {
            need_evidence: x,
            ..Features::default()
        };
        let cands = vec![
            cand(1, "A", f(1.0), vec![1.0, 0.0]),
            cand(2, "A", f(0.99), vec![0.0, 1.0]),
            cand(3, "A", f(0.98), vec![0.6, 0.8]),
            cand(4, "B", f(0.5), vec![0.8, 0.6]),
        ];
        let choice = Choice {
            vagueness: 0.0,
            limit: 3,
            named: &[],
            varied: true,
            mix_kinds: false,
        };
        let picks = choose(cands.clone(), &w, choice);
        let ids: Vec<i64> = picks.iter().map(|p| p.item.id).collect();
        assert_eq!(ids, vec![1, 2, 4], "at most two by one creator");
        let named = ["a".to_string()];
        let picks = choose(
            cands.clone(),
            &w,
            Choice {
                named: &named,
                ..choice
            },
        );
        assert_eq!(
            picks
                .iter()
                .filter(|p| p.item.creator.as_deref() == Some("A"))
                .count(),
            3,
            "unless the request names the creator"
        );
        let four = choose(cands.clone(), &w, Choice { limit: 4, ..choice });
        assert_eq!(
            four.len(),
            4,
            "a pool that cannot satisfy the caps still fills the answer"
        );
        assert_eq!(
            four.iter().map(|p| p.item.id).collect::<Vec<_>>(),
            vec![1, 2, 4, 3],
            "the capped ones come last"
        );
        let unknown: Vec<Scored> = (0..6)
            .map(|i| {
                cand(
                    i,
                    "Unknown Artist",
                    f(1.0 - i as f32 * 0.01),
                    vec![1.0, 0.0],
                )
            })
            .collect();
        assert_eq!(
            choose(unknown, &w, Choice { limit: 6, ..choice }).len(),
            6,
            "Unknown Artist is no one's name"
        );
    }

    #[test]
    fn a_request_for_no_kind_gets_a_mix() {
        let w = *FITTED;
        let mut cands = Vec::new();
        for i in 0..10 {
            let mut c = cand(
                i,
                &format!("creator {i}"),
                Features {
                    need_evidence: 1.0 - i as f32 * 0.01,
                    ..Features::default()
                },
                vec![i as f32, 1.0],
            );
            c.item.kind = if i < 8 { Kind::Book } else { Kind::Music };
            cands.push(c);
        }
        let choice = Choice {
            vagueness: 1.0,
            limit: 5,
            named: &[],
            varied: true,
            mix_kinds: true,
        };
        let picks = choose(cands.clone(), &w, choice);
        let books = picks.iter().filter(|p| p.item.kind == Kind::Book).count();
        assert_eq!(books, 3, "at most 60% of one kind");
        let picks = choose(
            cands,
            &w,
            Choice {
                mix_kinds: false,
                ..choice
            },
        );
        assert_eq!(
            picks.iter().filter(|p| p.item.kind == Kind::Book).count(),
            5
        );
    }

    #[test]
    fn quality_is_centred_and_bounded() {
        assert_eq!(quality(None), 0.0);
        assert!(quality(Some(9.0)) > 0.9);
        assert!(quality(Some(3.0)) >= -1.0 && quality(Some(3.0)) < 0.0);
    }

    #[test]
    fn feedback_hides_and_pulls() {
        use moodshelf_catalog::Feedback;
        let fb = |id, verdict, at, rv: Option<Vec<f32>>| Feedback {
            item_id: id,
            verdict,
            request: None,
            request_vector: rv,
            created_at: at,
        };
        let q = vec![1.0, 0.0];
        let v = FeedbackView::new(
            &[
                fb(1, Verdict::NotNow, 90, None),
                fb(2, Verdict::Dislike, 50, Some(vec![1.0, 0.0])),
                fb(3, Verdict::Dislike, 50, Some(vec![0.0, 1.0])),
                fb(4, Verdict::Like, 40, None),
                fb(5, Verdict::NotNow, 0, None),
            ],
            &q,
            100 + SHAPING.not_now_secs() - 20,
        );
        assert!(v.hidden.contains(&1), "not now, lately");
        assert!(!v.hidden.contains(&5), "not now, long ago");
        assert!(v.hidden.contains(&2), "disliked for a similar request");
        assert_eq!(v.disliked_soft, vec![3]);
        assert_eq!(v.liked, vec![4]);
        let liked: HashMap<i64, Vec<f32>> = [(4, vec![1.0, 0.0])].into();
        let none = HashMap::new();
        assert!(v.score(9, &[1.0, 0.0], &liked, &none) > v.score(9, &[0.0, 1.0], &liked, &none));
        assert!(v.score(3, &[0.0, 1.0], &none, &none) < 0.0);
    }
}
