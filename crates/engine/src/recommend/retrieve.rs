//! Retrieval: the candidates worth ranking, with their features.
//!
//! Three legs under the same hard filters (kinds, lengths, years, folders
//! that are available): the vector leg (the request's content against
//! every item's embedding), the full-text leg (only words no descriptor
//! explains, and names the request gives), and the descriptor leg (every
//! profiled item scored against the request's needs and the moment). The
//! union is checked against the catalog (an answer only names items that
//! exist and are available), hard exclusions and audience remove items,
//! and every survivor gets its [`Features`].

use std::collections::{HashMap, HashSet};

use moodshelf_catalog::ItemView;
use moodshelf_index::{Filter, Hit, Query};
use moodshelf_media::Kind;

use super::intent::{Audience, Intent};
use super::rank::{self, Features, FeedbackView, Scored, Weights};
use super::understand::{self, adult_rating};
use crate::error::Result;
use crate::library::Library;
use crate::profile::{ItemProfile, ProfileTable};
use crate::vocab::{D, Facet};

/// What retrieval needs besides the intent.
pub(super) struct Ask<'a> {
    pub intent: &'a Intent,
    /// The content vector (the request's content, blended with referenced
    /// items); `None` when the request has no content of its own.
    pub qvec: Option<&'a [f32]>,
    /// The moment's needs.
    pub moment: &'a [(D, f32)],
    pub weights: &'a Weights,
    pub limit: usize,
    /// Items never to return: references, the previous picks of a
    /// "something else".
    pub exclude_ids: &'a HashSet<i64>,
    /// Creators the request names ("by Dickens"), already looked up.
    pub named_ids: &'a HashSet<i64>,
    pub now: i64,
    /// Plain search: no feedback, no novelty, no descriptors.
    pub plain: bool,
    /// Where in sound space the request points ("more like this track",
    /// "calmer" than the last answer).
    pub sound_goal: Option<crate::hearing::SoundGoal>,
}

/// Candidates fetched per pick by each leg.
const DEPTH_FACTOR: usize = 6;
const MIN_DEPTH: usize = 120;
/// Novelty looks back this far.
const SHOWN_WINDOW_SECS: i64 = 7 * 86_400;

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct LegTimings {
    pub search_ms: f64,
    pub vector_ms: f64,
    pub text_ms: f64,
    pub catalog_ms: f64,
}

impl Library {
    pub(super) async fn retrieve(&self, a: &Ask<'_>, t: &mut LegTimings) -> Result<Vec<Scored>> {
        let intent = a.intent;
        let index = self.index().await?;
        let profiles = self.profiles().await?;
        let filter = Filter {
            kinds: intent
                .kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            exclude_roots: self.unavailable_root_ids().await?,
            max_duration_secs: intent.max_minutes.map(|m| f64::from(m) * 60.0),
            min_duration_secs: intent.min_minutes.map(|m| f64::from(m) * 60.0),
            min_year: intent.year_from,
            max_year: intent.year_to,
        };
        let depth = (a.limit * DEPTH_FACTOR).max(MIN_DEPTH);

        // The vector and full-text legs.
        let s = std::time::Instant::now();
        let text = full_text(intent);
        let hits: Vec<Hit> = if a.qvec.is_some() || !text.is_empty() {
            let (hits, legs) = index
                .search(&Query {
                    text: &text,
                    vector: a.qvec.unwrap_or(&[]),
                    filter: filter.clone(),
                    limit: depth * 2,
                    depth,
                })
                .await?;
            t.vector_ms = legs.vector_ms;
            t.text_ms = legs.text_ms;
            hits
        } else {
            Vec::new()
        };

        // The descriptor leg.
        let need_weights = a.weights.need_weights(&intent.weighted());
        let by_needs = descriptor_leg(&profiles, &filter, &need_weights, a, depth);
        // The sound leg: the analysed tracks nearest the goal.
        let by_sound = a
            .sound_goal
            .map(|g| sound_leg(&profiles, &filter, &g, depth))
            .unwrap_or_default();
        t.search_ms = s.elapsed().as_secs_f64() * 1e3;

        let mut ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
        let mut seen: HashSet<i64> = ids.iter().copied().collect();
        for id in by_needs.iter().chain(&by_sound) {
            if seen.insert(*id) {
                ids.push(*id);
            }
        }
        ids.extend(a.named_ids.iter().filter(|id| {
            !seen.contains(id) && profiles.get(**id).is_some_and(|p| passes(p, &filter))
        }));

        let c = std::time::Instant::now();
        let mut views: HashMap<i64, ItemView> = self
            .catalog()
            .items_by_ids(&ids)
            .await?
            .into_iter()
            .filter(|v| v.available)
            .map(|v| (v.id, v))
            .collect();
        let (feedback, shown): (Vec<_>, HashMap<i64, i64>) = if a.plain {
            Default::default()
        } else {
            (
                self.catalog().feedback().await?,
                self.catalog()
                    .shown_since(a.now - SHOWN_WINDOW_SECS)
                    .await?
                    .into_iter()
                    .collect(),
            )
        };
        t.catalog_ms = c.elapsed().as_secs_f64() * 1e3;
        let vectors = index.vectors(&ids).await?;
        let fb = FeedbackView::new(&feedback, a.qvec.unwrap_or(&[]), a.now);
        let liked = index.vectors(&fb.liked).await?;
        let disliked = index.vectors(&fb.disliked_soft).await?;

        let text_rank: HashMap<i64, usize> = hits
            .iter()
            .filter_map(|h| h.text_rank.map(|r| (h.id, r)))
            .collect();
        let active = active_seasons(intent, a.moment);
        let mut out = Vec::new();
        for id in ids {
            let Some(item) = views.remove(&id) else {
                continue;
            };
            if a.exclude_ids.contains(&id) || fb.hidden.contains(&id) {
                continue;
            }
            let profile = profiles.get(id);
            if violates(intent, &item, profile) {
                continue;
            }
            let vector = vectors.get(&id).cloned();
            let similarity = match (a.qvec, &vector) {
                (Some(q), Some(v)) => rank::dot(q, v),
                _ => 0.0,
            };
            let mut f = Features {
                similarity,
                text: text_rank.get(&id).map_or(0.0, |r| 10.0 / (9.0 + *r as f32)),
                named: if a.named_ids.contains(&id) { 1.0 } else { 0.0 },
                shown: (*shown.get(&id).unwrap_or(&0)).min(3) as f32,
                ..Features::default()
            };
            if let Some(v) = &vector {
                f.feedback = fb.score(id, v, &liked, &disliked);
            }
            if let Some(p) = profile {
                let m = rank::need_match(p, &need_weights);
                f.need_evidence = m.evidence;
                f.need_zero_shot = m.zero_shot;
                f.need_model = m.model;
                f.need_sound = m.sound;
                if let (Some(g), Some(snd)) = (&a.sound_goal, &p.sound) {
                    f.sound_near = g.closeness(snd);
                }
                f.moment = rank::fit(a.weights, p, a.moment);
                f.off_season = rank::off_season(a.weights, p, &active);
                f.quality = rank::quality(p.rating);
                f.avoid = avoid(a.weights, intent, &item, p);
            }
            out.push(Scored {
                item,
                features: f,
                vector,
                score: 0.0,
            });
        }
        Ok(out)
    }
}

/// The words the full-text leg searches: what no descriptor explains, and
/// names the request gives. Never time or occasion words.
fn full_text(intent: &Intent) -> String {
    let mut words: Vec<&str> = intent.keywords.iter().map(String::as_str).collect();
    words.extend(intent.like.iter().map(String::as_str));
    words
        .retain(|w| !intent.exclude.iter().any(|e| e == w) && !intent.avoid.iter().any(|a| a == w));
    words.join(" ")
}

/// Whether a profiled item passes the hard filters the index applies.
fn passes(p: &ItemProfile, f: &Filter) -> bool {
    if !f.kinds.is_empty() && !f.kinds.iter().any(|k| Kind::parse(k) == Some(p.kind)) {
        return false;
    }
    if f.exclude_roots.contains(&p.root_id) {
        return false;
    }
    let d = p.duration_secs;
    if f.max_duration_secs.is_some_and(|m| d.is_none_or(|x| x > m)) {
        return false;
    }
    if f.min_duration_secs.is_some_and(|m| d.is_none_or(|x| x < m)) {
        return false;
    }
    if f.min_year.is_some_and(|y| p.year.is_none_or(|x| x < y)) {
        return false;
    }
    if f.max_year.is_some_and(|y| p.year.is_none_or(|x| x > y)) {
        return false;
    }
    true
}

/// The `depth` profiled items that best fit the needs and, as far as the
/// request leaves room, the moment.
fn descriptor_leg(
    profiles: &ProfileTable,
    filter: &Filter,
    needs: &[(D, f32)],
    a: &Ask<'_>,
    depth: usize,
) -> Vec<i64> {
    if needs.is_empty() && a.moment.is_empty() {
        return Vec::new();
    }
    let v = a.intent.vagueness;
    let mut scored: Vec<(f32, i64)> = profiles
        .items
        .iter()
        .filter(|p| passes(p, filter))
        .map(|p| {
            let s = rank::fit(a.weights, p, needs) + v * rank::fit(a.weights, p, a.moment);
            (s, p.id)
        })
        .filter(|(s, _)| *s > 0.0)
        .collect();
    let n = depth.min(scored.len());
    if n == 0 {
        return Vec::new();
    }
    scored.select_nth_unstable_by(n - 1, |x, y| y.0.total_cmp(&x.0));
    scored.truncate(n);
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    scored.into_iter().map(|(_, id)| id).collect()
}

/// The `depth` analysed items passing the filters that answer `goal` best.
fn sound_leg(
    profiles: &ProfileTable,
    filter: &Filter,
    goal: &crate::hearing::SoundGoal,
    depth: usize,
) -> Vec<i64> {
    let mut scored: Vec<(f32, i64)> = profiles
        .items
        .iter()
        .filter(|p| passes(p, filter))
        .filter_map(|p| Some((goal.closeness(p.sound.as_ref()?), p.id)))
        .filter(|(c, _)| *c > 0.0)
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    scored.truncate(depth);
    scored.into_iter().map(|(_, id)| id).collect()
}

/// Seasons and holidays that are not out of season now: those the request
/// names and those of the moment.
fn active_seasons(intent: &Intent, moment: &[(D, f32)]) -> Vec<D> {
    intent
        .weighted()
        .iter()
        .chain(moment)
        .filter(|(d, w)| rank::seasonal(*d) && *w >= 0.3)
        .map(|(d, _)| *d)
        .collect()
}

/// The item's card as matching reads it: description, title and genres,
/// lower case.
fn card_of(v: &ItemView) -> String {
    let mut s = v.description.clone().unwrap_or_default();
    s.push(' ');
    s.push_str(&v.title);
    s.push(' ');
    s.push_str(&v.genres.join(" "));
    s.to_lowercase()
}

/// Hard constraints the index cannot express: exclusions (by the item's
/// own words, and by the labels behind a descriptor the excluded word
/// names: "no horror" also rules out a film its genres call supernatural)
/// and audience (adult ratings for children).
pub(super) fn violates(intent: &Intent, v: &ItemView, p: Option<&ItemProfile>) -> bool {
    if !intent.exclude.is_empty() {
        let card = card_of(v);
        for term in &intent.exclude {
            if exclusion_fragments(term)
                .iter()
                .any(|f| card.contains(f.as_str()))
            {
                return true;
            }
            let named = understand::cue_of(term).filter(|d| {
                matches!(
                    d.get().facet,
                    Facet::Mood | Facet::Theme | Facet::Form | Facet::Holiday
                )
            });
            if let (Some(d), Some(p)) = (named, p)
                && p.sources(d).evidence >= 0.99
            {
                return true;
            }
        }
    }
    if intent.audience == Some(Audience::Kids) {
        let cert = serde_json::from_str::<serde_json::Value>(&v.meta)
            .ok()
            .and_then(|m| m["certification"].as_str().map(str::to_string));
        if cert.is_some_and(|c| adult_rating(&c)) {
            return true;
        }
    }
    false
}

/// How much an item has of what the request wants less of: the avoided
/// descriptors' scores, or the avoided word in its card.
fn avoid(w: &Weights, intent: &Intent, v: &ItemView, p: &ItemProfile) -> f32 {
    if intent.avoid.is_empty() {
        return 0.0;
    }
    let card = card_of(v);
    intent
        .avoid
        .iter()
        .map(|term| {
            let by_descriptor = D::find(term).map_or(0.0, |d| w.combine(p.sources(d)));
            let by_words = if exclusion_fragments(term)
                .iter()
                .any(|f| card.contains(f.as_str()))
            {
                1.0
            } else {
                0.0
            };
            f32::max(by_descriptor, by_words)
        })
        .sum::<f32>()
        .min(2.0)
}

/// Exclusion words and the fragments that imply them: "no horror" also
/// rules out what a card calls a slasher.
const IMPLIED: &[(&str, &[&str])] = &[
    ("horror", &["horror", "slasher", "zombie"]),
    ("scary", &["horror"]),
    ("dystopian", &["dystop", "apocalyp"]),
    ("violent", &["violen", "gore"]),
    ("violence", &["violen", "gore"]),
    ("sad", &["tragedy", "tragic"]),
    ("depressing", &["tragedy", "tragic", "depress"]),
    ("romance", &["romance", "romantic"]),
    ("romantic", &["romance", "romantic"]),
    ("war", &["war film", "war stories", "military"]),
    ("christmas", &["christmas", "xmas"]),
];

/// Fragments that, found in an item's card, mean it has the excluded
/// quality.
pub(super) fn exclusion_fragments(term: &str) -> Vec<String> {
    let term = term.trim().to_lowercase();
    let mut out = vec![stem(&term)];
    for (word, implied) in IMPLIED {
        if stem(word) == stem(&term) {
            out.extend(implied.iter().map(|s| s.to_string()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A crude stem, enough that "dystopian" finds "Dystopias" and "violent"
/// finds "violence", never shorter than four letters.
fn stem(word: &str) -> String {
    let w: Vec<char> = word.trim().to_lowercase().chars().collect();
    let n = w.len();
    let keep = if n <= 4 { n } else { (n - 2).max(4) };
    w[..keep].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_reach_related_words() {
        let f = exclusion_fragments("dystopian");
        assert!(f.iter().any(|x| "dystopias".contains(x.as_str())), "{f:?}");
        let f = exclusion_fragments("horror");
        assert!(f.contains(&"slasher".to_string()));
        assert_eq!(stem("violent"), "viole");
        assert_eq!(stem("sad"), "sad");
    }

    #[test]
    fn full_text_searches_only_unexplained_words_and_names() {
        let ctx = crate::context::Context::new(
            chrono::NaiveDateTime::parse_from_str("2026-12-24T20:00", "%Y-%m-%dT%H:%M").unwrap(),
            crate::context::Hemisphere::North,
        );
        let i = understand::read_rules("a film to watch with friends on Friday", &ctx);
        assert_eq!(full_text(&i), "");
        let i = understand::read_rules("something about the Vietnam war like Apocalypse Now", &ctx);
        assert_eq!(full_text(&i), "vietnam Apocalypse Now");
    }
}
