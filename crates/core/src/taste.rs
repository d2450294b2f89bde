//! A person's taste, learnt from what they have already watched, read,
//! played and rated (their history, whatever recorded it) and from their
//! likes and dislikes in Moodshelf.
//!
//! Two forms of it serve two ends. Answering uses a direction of the
//! embedding space ([`TasteState`]): the sum of the vectors of what they
//! used, each weighted by how much they liked it, per kind and across
//! kinds; vague requests lean on it strongly, specific ones lightly.
//! People read it in words ([`TasteProfile`]): the genres, creators, eras
//! and themes they come back to and those they avoid, per kind, and how
//! adventurous they are. Any part of it can be forgotten ("not me"): the
//! works that carry it stop shaping the taste, while the history itself is
//! kept. Both are built once per change of what they are made of.

use std::collections::{HashMap, HashSet};

use moodshelf_catalog::{Feedback, Forgotten, ItemView, Person, UseRecord, Verdict};
use serde::Serialize;

use crate::Kind;
use crate::error::{Code, Error, Result};
use crate::shaping::SHAPING;
use crate::work::Understanding;

/// The facets a taste is read in, as stored and typed ("genre horror").
pub const FACETS: [&str; 4] = ["genre", "creator", "era", "theme"];

/// How much one use record says the person likes the item: their rating
/// (0–10) centred on 6, so 10 is +1 and 2 is -1; else +0.5 for a work
/// played or finished, +0.25 for one begun.
pub fn liking(r: &UseRecord) -> Option<f32> {
    if let Some(rating) = r.rating {
        return Some(((rating - 6.0) / 4.0).clamp(-1.0, 1.0));
    }
    if r.used() {
        return Some(0.5);
    }
    r.progress.filter(|p| *p > 0.0).map(|_| 0.25)
}

/// How much the person likes each item their history or feedback speaks
/// of: an item's first rated record speaks for it, else its warmest one;
/// their latest verdict in Moodshelf overrides an unrated record, and a
/// dislike overrides a play.
pub fn likings(history: &[(i64, UseRecord)], feedback: &[Feedback]) -> HashMap<i64, f32> {
    let mut out: HashMap<i64, (f32, bool)> = HashMap::new();
    for (id, r) in history {
        let Some(l) = liking(r) else { continue };
        let rated = r.rating.is_some();
        out.entry(*id)
            .and_modify(|(w, was_rated)| {
                if rated && !*was_rated {
                    *w = l;
                    *was_rated = true;
                } else if !rated && !*was_rated {
                    *w = w.max(l);
                }
            })
            .or_insert((l, rated));
    }
    let mut judged = HashSet::new();
    // Newest first: the latest verdict on an item is the one that counts.
    for f in feedback {
        if f.verdict == Verdict::NotNow || !judged.insert(f.item_id) {
            continue;
        }
        let said = if f.verdict == Verdict::Like {
            SHAPING.liked
        } else {
            SHAPING.disliked
        };
        match out.get_mut(&f.item_id) {
            Some((_, true)) => {}
            Some((w, false)) => *w = if said < 0.0 { said } else { w.max(said) },
            None => {
                out.insert(f.item_id, (said, false));
            }
        }
    }
    out.into_iter().map(|(id, (w, _))| (id, w)).collect()
}

/// The sum of the vectors of `likings`' items, each weighted by its
/// liking, normalised; `None` when nothing is liked or disliked.
pub fn direction<'a>(
    likings: impl Iterator<Item = (&'a i64, &'a f32)>,
    vectors: &HashMap<i64, Vec<f32>>,
) -> Option<Vec<f32>> {
    let mut sum: Vec<f32> = Vec::new();
    for (id, w) in likings {
        let Some(v) = vectors.get(id) else { continue };
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        for (s, x) in sum.iter_mut().zip(v) {
            *s += w * x;
        }
    }
    normalised(sum)
}

/// Several people's tastes as one: the normalised sum of their
/// directions, each counting alike.
pub fn blend(tastes: &[Vec<f32>]) -> Option<Vec<f32>> {
    let first = tastes.first()?;
    let mut sum = vec![0.0; first.len()];
    for t in tastes {
        for (s, x) in sum.iter_mut().zip(t) {
            *s += x;
        }
    }
    normalised(sum)
}

fn normalised(v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (norm > 1e-6).then(|| v.iter().map(|x| x / norm).collect())
}

/// The taste facets of one item: its genres (subject headings cut to their
/// first part), its creator, its decade, and the themes and moods the
/// reasoning model read in its work. Values are lower case.
pub fn facets(v: &ItemView) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut add = |facet: &'static str, value: String| {
        let value = value.trim().to_lowercase();
        if !value.is_empty() && !out.iter().any(|(f, x)| *f == facet && *x == value) {
            out.push((facet, value));
        }
    };
    for g in &v.genres {
        add("genre", crate::describe::short_genre(g).to_string());
    }
    if let Some(c) = v
        .creator
        .as_deref()
        .filter(|c| !crate::work::names_no_one(c))
    {
        add("creator", c.to_string());
    }
    if let Some(y) = v.year.filter(|y| *y > 0) {
        add("era", format!("{}s", y - y % 10));
    }
    if let Some(u) = v
        .understood
        .as_deref()
        .and_then(|j| serde_json::from_str::<Understanding>(j).ok())
        .filter(Understanding::says_something)
    {
        if v.genres.is_empty() {
            for g in &u.genres {
                add("genre", g.clone());
            }
        }
        for t in u.themes.iter().chain(&u.moods) {
            add("theme", t.clone());
        }
    }
    out
}

/// Whether `v` carries any of the forgotten parts.
fn carries(v: &ItemView, forgotten: &[Forgotten]) -> bool {
    !forgotten.is_empty()
        && facets(v).iter().any(|(f, x)| {
            forgotten
                .iter()
                .any(|p| p.facet == *f && p.value.eq_ignore_ascii_case(x))
        })
}

/// One judged work in a person's taste.
#[derive(Debug, Clone)]
pub struct Judged {
    pub liking: f32,
    pub view: ItemView,
}

/// A person's taste as answering reads it (see the module's notes).
#[derive(Debug, Default)]
pub struct TasteState {
    /// Works the taste is made of (forgotten ones left out).
    pub judged: HashMap<i64, Judged>,
    /// Their use records, by item (forgotten ones too).
    pub records: HashMap<i64, Vec<UseRecord>>,
    /// Works watched, read or played (forgotten ones too), with their
    /// kind: films and books are not offered as new.
    pub used: HashMap<i64, Kind>,
    /// Per kind, and (`None`) across kinds, the taste's direction.
    directions: HashMap<Option<Kind>, Vec<f32>>,
    /// Loved works' vectors, for reasons.
    loved: Vec<(i64, Vec<f32>)>,
}

impl TasteState {
    /// The direction to answer a request for `kinds` with (empty: any),
    /// and, when it comes from other kinds (the person has no history of
    /// the kind asked for), which.
    pub fn direction(&self, kinds: &[Kind]) -> Option<(&[f32], Vec<Kind>)> {
        let [kind] = kinds else {
            return self
                .directions
                .get(&None)
                .map(|d| (d.as_slice(), Vec::new()));
        };
        if let Some(d) = self.directions.get(&Some(*kind)) {
            return Some((d.as_slice(), Vec::new()));
        }
        let others: Vec<Kind> = self.directions.keys().flatten().copied().collect();
        self.directions.get(&None).map(|d| (d.as_slice(), others))
    }

    /// How much the person would like a work at `vector`, asked for
    /// `kinds`: its closeness to their taste's direction; 0 without a
    /// taste. (The mean closeness to the loved works nearest it was
    /// measured too, half and half with this: it did no better on the
    /// taste evaluation's tuning half, see BENCHMARKS.md.)
    pub fn affinity(&self, kinds: &[Kind], vector: &[f32]) -> f32 {
        self.direction(kinds)
            .map_or(0.0, |(d, _)| crate::profile::dot(d, vector))
    }

    /// Works they dislike: a group's answer never holds them.
    pub fn disliked(&self) -> impl Iterator<Item = i64> + '_ {
        self.judged
            .iter()
            .filter(|(_, j)| j.liking <= -SHAPING.loved)
            .map(|(id, _)| *id)
    }

    /// A true sentence from their history for a pick at `vector`: the
    /// loved work nearest it, with what their records say of it.
    pub fn reason(&self, id: i64, vector: &[f32]) -> Option<String> {
        let (near, sim) = self
            .loved
            .iter()
            .filter(|(l, _)| *l != id)
            .map(|(l, v)| (*l, crate::profile::dot(v, vector)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        if sim < SHAPING.cite_similarity {
            return None;
        }
        let j = self.judged.get(&near)?;
        let said = said_of(
            &j.view,
            self.records.get(&near).map_or(&[][..], Vec::as_slice),
        )?;
        Some(format!("Close to {}, which {said}", j.view.title))
    }
}

/// What a person's records say of one work, in words: "you rated 9/10 and
/// watched twice". Only what a record holds is said.
pub fn said_of(v: &ItemView, records: &[UseRecord]) -> Option<String> {
    let rating = records.iter().find_map(|r| r.rating);
    let plays: u32 = records.iter().filter_map(|r| r.plays).sum();
    let finished = records.iter().any(|r| r.finished == Some(true));
    let verb = match v.kind {
        Kind::Book => "read",
        Kind::Video => "watched",
        Kind::Music => "played",
    };
    let times = match plays {
        0 | 1 => None,
        2 => Some("twice".to_string()),
        n => Some(format!("{n} times")),
    };
    let mut parts = Vec::new();
    if let Some(r) = rating {
        parts.push(format!("you rated {}/10", (r * 10.0).round() / 10.0));
    }
    match (times, finished || plays > 0) {
        (Some(t), _) => parts.push(format!("{verb} {t}")),
        (None, true) if parts.is_empty() => parts.push(format!("you {verb}")),
        _ => {}
    }
    if parts.is_empty() {
        // Liked in Moodshelf, no record: the caller says nothing of it.
        return None;
    }
    let s = parts.join(" and ");
    Some(match s.starts_with("you") {
        true => s,
        false => format!("you {s}"),
    })
}

/// One part of a taste: a facet's value and how much it counts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TastePart {
    /// "genre", "creator", "era" or "theme".
    pub facet: String,
    pub value: String,
    /// Summed liking of the works that carry it.
    pub weight: f32,
    /// How many of their works carry it.
    pub works: usize,
}

/// A person's taste for one kind.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KindTaste {
    pub kind: Kind,
    /// Works of this kind their taste is made of.
    pub works: usize,
    pub comes_back_to: Vec<TastePart>,
    pub avoids: Vec<TastePart>,
    /// 0 (always the same genres) to 1 (never twice the same): how evenly
    /// the works they liked spread over genres.
    pub adventurous: f32,
    /// All of it in a sentence or two.
    pub words: String,
}

/// A person's taste in words (`moodshelf taste`, the window's "Your taste").
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TasteProfile {
    pub person: Person,
    pub kinds: Vec<KindTaste>,
    /// Themes and genres they come back to in more than one kind.
    pub across_kinds: Vec<TastePart>,
    pub forgotten: Vec<Forgotten>,
}

fn kind_heading(kind: Kind) -> &'static str {
    match kind {
        Kind::Book => "Books",
        Kind::Video => "Films and shows",
        Kind::Music => "Music",
    }
}

/// Sums each facet value's liking over `works`.
fn parts(works: &[&Judged]) -> Vec<TastePart> {
    let mut by: HashMap<(&'static str, String), (f32, usize)> = HashMap::new();
    for j in works {
        for key in facets(&j.view) {
            let e = by.entry(key).or_default();
            e.0 += j.liking;
            e.1 += 1;
        }
    }
    let mut out: Vec<TastePart> = by
        .into_iter()
        .filter(|(_, (_, n))| *n >= SHAPING.taste_min_works)
        .map(|((facet, value), (weight, works))| TastePart {
            facet: facet.to_string(),
            value,
            weight,
            works,
        })
        .collect();
    out.sort_by(|a, b| {
        b.weight
            .abs()
            .total_cmp(&a.weight.abs())
            .then_with(|| a.value.cmp(&b.value))
    });
    out
}

/// Normalised entropy of the liked works' genres.
fn adventurous(works: &[&Judged]) -> f32 {
    let mut counts: HashMap<String, f32> = HashMap::new();
    for j in works.iter().filter(|j| j.liking > 0.0) {
        for (f, v) in facets(&j.view) {
            if f == "genre" {
                *counts.entry(v).or_default() += 1.0;
            }
        }
    }
    let total: f32 = counts.values().sum();
    if counts.len() < 2 || total <= 0.0 {
        return 0.0;
    }
    let h: f32 = counts
        .values()
        .map(|c| {
            let p = c / total;
            -p * p.ln()
        })
        .sum();
    h / (counts.len() as f32).ln()
}

fn listed(parts: &[TastePart]) -> String {
    let names: Vec<&str> = parts.iter().take(4).map(|p| p.value.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn kind_taste(kind: Kind, works: &[&Judged]) -> KindTaste {
    let all = parts(works);
    let comes_back_to: Vec<TastePart> = all
        .iter()
        .filter(|p| p.weight > 0.0)
        .take(SHAPING.taste_parts_shown)
        .cloned()
        .collect();
    let avoids: Vec<TastePart> = all
        .iter()
        .filter(|p| p.weight < 0.0)
        .take(SHAPING.taste_parts_shown)
        .cloned()
        .collect();
    let adventurous = adventurous(works);
    let mut words = format!("{}: ", kind_heading(kind));
    if comes_back_to.is_empty() {
        words.push_str(&format!("{} works so far, no pattern yet", works.len()));
    } else {
        words.push_str(&format!("you come back to {}", listed(&comes_back_to)));
    }
    if !avoids.is_empty() {
        words.push_str(&format!("; you avoid {}", listed(&avoids)));
    }
    words.push_str(match adventurous {
        a if a >= 0.8 => ". You range widely.",
        a if a >= 0.5 => ". Mostly familiar ground, with some exploring.",
        a if a > 0.0 => ". You stay close to what you love.",
        _ => ".",
    });
    KindTaste {
        kind,
        works: works.len(),
        comes_back_to,
        avoids,
        adventurous,
        words,
    }
}

/// Builds the words of a taste from its judged works.
pub fn profile_of(person: Person, state: &TasteState, forgotten: Vec<Forgotten>) -> TasteProfile {
    let mut kinds = Vec::new();
    for kind in [Kind::Video, Kind::Book, Kind::Music] {
        let works: Vec<&Judged> = state
            .judged
            .values()
            .filter(|j| j.view.kind == kind)
            .collect();
        if !works.is_empty() {
            kinds.push(kind_taste(kind, &works));
        }
    }
    let mut across: HashMap<(String, String), (TastePart, usize)> = HashMap::new();
    for k in &kinds {
        for p in &k.comes_back_to {
            let e = across.entry((p.facet.clone(), p.value.clone())).or_insert((
                TastePart {
                    weight: 0.0,
                    works: 0,
                    ..p.clone()
                },
                0,
            ));
            e.0.weight += p.weight;
            e.0.works += p.works;
            e.1 += 1;
        }
    }
    let mut across_kinds: Vec<TastePart> = across
        .into_values()
        .filter(|(p, n)| *n > 1 && p.facet != "era")
        .map(|(p, _)| p)
        .collect();
    across_kinds.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    TasteProfile {
        person,
        kinds,
        across_kinds,
        forgotten,
    }
}

/// What a taste is built from, as the catalog holds it: the works the
/// person judged (forgotten parts left out), their use records, and what
/// they used. [`Judgements::into_state`] adds the works' vectors.
pub struct Judgements {
    judged: HashMap<i64, Judged>,
    records: HashMap<i64, Vec<UseRecord>>,
    used: HashMap<i64, Kind>,
}

/// Reads what `person`'s taste is built from.
pub async fn judgements(c: &moodshelf_catalog::Catalog, person: i64) -> Result<Judgements> {
    let history = c.history(person).await?;
    let feedback = c.feedback(person).await?;
    let forgotten = c.forgotten(person).await?;
    let likings = likings(&history, &feedback);
    let mut records: HashMap<i64, Vec<UseRecord>> = HashMap::new();
    for (id, r) in history {
        records.entry(id).or_default().push(r);
    }
    let ids: Vec<i64> = likings.keys().chain(records.keys()).copied().collect();
    let views = c.items_by_ids(&ids).await?;
    let used: HashMap<i64, Kind> = views
        .iter()
        .filter(|v| {
            records
                .get(&v.id)
                .is_some_and(|rs| rs.iter().any(UseRecord::used))
        })
        .map(|v| (v.id, v.kind))
        .collect();
    let judged: HashMap<i64, Judged> = views
        .into_iter()
        .filter(|v| !carries(v, &forgotten))
        .filter_map(|v| {
            let liking = *likings.get(&v.id)?;
            Some((v.id, Judged { liking, view: v }))
        })
        .collect();
    Ok(Judgements {
        judged,
        records,
        used,
    })
}

impl Judgements {
    /// The works whose vectors the taste needs.
    pub fn ids(&self) -> Vec<i64> {
        self.judged.keys().copied().collect()
    }

    /// The taste, given the judged works' vectors: a direction per kind
    /// and across kinds, and the loved works.
    pub fn into_state(self, vectors: HashMap<i64, Vec<f32>>) -> TasteState {
        let mut directions = HashMap::new();
        for kind in [None, Some(Kind::Video), Some(Kind::Book), Some(Kind::Music)] {
            let of_kind = self
                .judged
                .iter()
                .filter(|(_, j)| kind.is_none_or(|k| j.view.kind == k))
                .map(|(id, j)| (id, &j.liking));
            if let Some(d) = direction(of_kind, &vectors) {
                directions.insert(kind, d);
            }
        }
        let loved = self
            .judged
            .iter()
            .filter(|(_, j)| j.liking >= SHAPING.loved)
            .filter_map(|(id, _)| Some((*id, vectors.get(id)?.clone())))
            .collect();
        TasteState {
            judged: self.judged,
            records: self.records,
            used: self.used,
            directions,
            loved,
        }
    }
}

/// Forgets (or, with `forget` false, restores) one part of `person`'s
/// taste: "genre horror", "creator Stephen King". True when that changed
/// anything.
pub async fn forget(
    c: &moodshelf_catalog::Catalog,
    person: i64,
    facet: &str,
    value: &str,
    forget: bool,
    now: i64,
) -> Result<bool> {
    let facet = facet.trim().to_lowercase();
    if !FACETS.contains(&facet.as_str()) {
        return Err(Error::new(
            Code::InvalidInput,
            format!(
                "a taste is read in {}; \"{facet}\" is none of them",
                FACETS.join(", ")
            ),
        ));
    }
    let value = value.trim().to_lowercase();
    if value.is_empty() {
        return Err(Error::new(Code::InvalidInput, "say what to forget"));
    }
    Ok(
        c.set_forgotten(person, &Forgotten { facet, value }, forget, now)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(rating: Option<f32>, plays: Option<u32>) -> UseRecord {
        UseRecord {
            source: "kodi".into(),
            rating,
            plays,
            ..UseRecord::default()
        }
    }

    fn verdict(item_id: i64, verdict: Verdict) -> Feedback {
        Feedback {
            item_id,
            verdict,
            request: None,
            request_vector: None,
            created_at: 0,
        }
    }

    #[test]
    fn taste_leans_to_what_was_loved_and_away_from_what_was_not() {
        let vectors: HashMap<i64, Vec<f32>> = [(1, vec![1.0, 0.0]), (2, vec![0.0, 1.0])]
            .into_iter()
            .collect();
        let history = vec![(1, record(Some(10.0), Some(2))), (2, record(None, Some(1)))];
        let l = likings(&history, &[]);
        let t = direction(l.iter(), &vectors).unwrap();
        assert!(t[0] > t[1], "the 10/10 outweighs a plain play: {t:?}");
        let both = vec![(1, record(Some(9.0), None)), (2, record(Some(2.0), None))];
        assert!(direction(likings(&both, &[]).iter(), &vectors).unwrap()[1] < 0.0);
        assert_eq!(direction(likings(&[], &[]).iter(), &vectors), None);
    }

    #[test]
    fn a_rating_outranks_a_verdict_and_a_dislike_outranks_a_play() {
        let history = vec![(1, record(Some(9.0), None)), (2, record(None, Some(3)))];
        let feedback = vec![
            verdict(1, Verdict::Dislike),
            verdict(2, Verdict::Dislike),
            verdict(2, Verdict::Like),
            verdict(3, Verdict::Like),
            verdict(4, Verdict::NotNow),
        ];
        let l = likings(&history, &feedback);
        assert_eq!(l[&1], 0.75, "their 9/10 stands");
        assert_eq!(l[&2], SHAPING.disliked, "the newest verdict, a dislike");
        assert_eq!(l[&3], SHAPING.liked);
        assert!(!l.contains_key(&4), "not now says nothing of taste");
    }

    fn view(kind: &str, title: &str) -> ItemView {
        ItemView::bare(9, crate::Kind::parse(kind).unwrap(), title)
    }

    #[test]
    fn history_is_said_only_as_recorded() {
        let film = view("video", "A Film");
        let r = [UseRecord {
            plays: Some(2),
            rating: Some(9.0),
            ..UseRecord::default()
        }];
        assert_eq!(
            said_of(&film, &r).as_deref(),
            Some("you rated 9/10 and watched twice")
        );
        let once = [record(None, Some(1))];
        assert_eq!(said_of(&film, &once).as_deref(), Some("you watched"));
        let book = view("book", "A Book");
        let finished = [UseRecord {
            finished: Some(true),
            ..UseRecord::default()
        }];
        assert_eq!(said_of(&book, &finished).as_deref(), Some("you read"));
        assert_eq!(said_of(&book, &[]), None, "no record, nothing said");
    }

    #[test]
    fn facets_read_genres_creators_eras_and_no_unknown_artist() {
        let mut v = view("music", "Song");
        v.genres = vec!["Jazz".into(), "Ghost stories -- Fiction".into()];
        v.creator = Some("Unknown Artist".into());
        v.year = Some(1967);
        let f = facets(&v);
        assert!(f.contains(&("genre", "jazz".into())));
        assert!(f.contains(&("genre", "ghost stories".into())), "{f:?}");
        assert!(f.contains(&("era", "1960s".into())));
        assert!(
            !f.iter().any(|(k, _)| *k == "creator"),
            "no one is Unknown Artist"
        );
    }
}
