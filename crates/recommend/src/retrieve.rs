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
//!
//! Words are matched against titles only where the request names the
//! title: the items it names ([`Library::named`]: a whole title, a
//! creator) join the candidates and rank first, and a nationality ("a
//! French film") counts only where an item says it beside its title.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use moodshelf_catalog::{ItemView, Person};
use moodshelf_index::{Filter, Hit, Query};
use moodshelf_media::Kind;

use super::intent::{Audience, Intent};
use super::rank::{self, Features, FeedbackView, Scored, Weights};
use super::understand;
use crate::error::Result;
use crate::profile::{ItemProfile, ProfileTable, adult_rating, has_fragment};
use crate::shaping::SHAPING;
use crate::store::Store;
use crate::taste::TasteState;
use crate::vocab::{D, Facet, Origin};

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
    /// Titles and creators the request names, already looked up.
    pub named: &'a Named,
    pub now: i64,
    /// Plain search: no feedback, no novelty, no descriptors.
    pub plain: bool,
    /// Where in sound space the request points ("more like this track",
    /// "calmer" than the last answer).
    pub sound_goal: Option<crate::hearing::SoundGoal>,
    /// Who asks: whose taste, feedback and series answer.
    pub person: &'a Person,
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct LegTimings {
    pub search_ms: f64,
    pub vector_ms: f64,
    pub text_ms: f64,
    pub catalog_ms: f64,
}

impl LegTimings {
    /// Copies these into an answer's timings.
    pub fn record(&self, t: &mut super::RecTimings) {
        (t.search_ms, t.vector_ms, t.text_ms, t.catalog_ms) = (
            self.search_ms,
            self.vector_ms,
            self.text_ms,
            self.catalog_ms,
        );
    }
}

/// The taste leg: what lies nearest the person's taste, where the request
/// leaves room for it.
async fn taste_leg(
    lib: &Store,
    memory: &Memory,
    intent: &Intent,
    filter: &Filter,
    depth: usize,
) -> Result<Vec<i64>> {
    let Some(taste) = memory
        .taste
        .as_deref()
        .filter(|_| intent.vagueness >= SHAPING.vague)
    else {
        return Ok(Vec::new());
    };
    let q = Query {
        text: "",
        vector: taste,
        filter: filter.clone(),
        limit: depth,
        depth,
    };
    let (hits, _) = lib
        .read_index(|i| {
            let arg = &q;
            async move { i.search(arg).await }
        })
        .await?;
    Ok(hits.iter().map(|h| h.id).collect())
}

/// What scoring one candidate reads: the request, the profiles, the
/// person's memory and feedback, and what the legs found.
struct Scoring<'a> {
    a: &'a Ask<'a>,
    profiles: &'a ProfileTable,
    memory: &'a Memory,
    fb: FeedbackView,
    liked: HashMap<i64, Vec<f32>>,
    disliked: HashMap<i64, Vec<f32>>,
    /// Each full-text hit's rank.
    text_rank: HashMap<i64, usize>,
    /// The seasons the request or the moment calls for.
    active: Vec<D>,
    need_weights: Vec<(D, f32)>,
}

impl Scoring<'_> {
    /// A candidate with its features, and whether its title holds the
    /// request's meaning words; `None` when the request, a hard
    /// constraint or the person's memory rules it out.
    fn score(&self, item: ItemView, vector: Option<Vec<f32>>) -> Option<(Scored, bool)> {
        let (a, intent, id) = (self.a, self.a.intent, item.id);
        if a.exclude_ids.contains(&id)
            || self.fb.hidden.contains(&id)
            || (self.memory.held_back.contains(&id) && a.named.strength(id) == 0.0)
        {
            return None;
        }
        let profile = self.profiles.get(id);
        if violates(intent, &item, profile) {
            return None;
        }
        let similarity = match (a.qvec, &vector) {
            (Some(q), Some(v)) => rank::dot(q, v),
            _ => 0.0,
        };
        let origin = from_origin(&item, &intent.origins);
        let mut f = Features {
            similarity,
            text: self
                .text_rank
                .get(&id)
                .filter(|_| origin != Some(0.0) || !titled_by_origin(&item, &intent.origins))
                .map_or(0.0, |r| 10.0 / (9.0 + *r as f32)),
            named: a.named.strength(id),
            shown: (*self.memory.shown.get(&id).unwrap_or(&0)).min(3) as f32,
            ..Features::default()
        };
        if let Some(v) = &vector {
            f.feedback = self.fb.score(id, v, &self.liked, &self.disliked);
            f.taste = affinity(&self.memory.tastes, &intent.kinds, v);
        }
        // A title is evidence of nothing the request means, unless the
        // request names it.
        let said = match f.named > 0.0 || a.plain {
            true => TitleSays::default(),
            false => title_says(&item.title, intent, &self.need_weights),
        };
        if let Some(p) = profile {
            profile_features(&mut f, p, a, &self.need_weights, said.needs);
            f.off_season = rank::off_season(a.weights, p, &self.active);
            f.avoid = avoid(a.weights, intent, &item, p);
        }
        if let Some(o) = origin {
            with_origin(&mut f, &self.need_weights, o);
        }
        let scored = Scored {
            item,
            features: f,
            vector,
            score: 0.0,
        };
        Some((scored, said.query))
    }
}

/// What the person's memory brings to one request.
#[derive(Default)]
struct Memory {
    feedback: Vec<moodshelf_catalog::Feedback>,
    /// Items shown lately, with how often.
    shown: HashMap<i64, i64>,
    /// Items not offered unless named: films and books they have watched
    /// or read (unless asked for again), all they used when asked for
    /// something new, and whatever a member of the group dislikes.
    held_back: HashSet<i64>,
    /// Their taste (and their group's), as one direction of the embedding
    /// space (see [`crate::taste`]); `None` without a history.
    taste: Option<Vec<f32>>,
    /// Their tastes (the asker's first, then the group's), which rank
    /// every candidate by its affinity.
    tastes: Vec<Arc<TasteState>>,
    /// For "the next one": the next item of each series they are in.
    next: Option<Vec<i64>>,
}

/// The mean affinity of a work for everyone the request is for.
fn affinity(tastes: &[Arc<TasteState>], kinds: &[Kind], v: &[f32]) -> f32 {
    if tastes.is_empty() {
        return 0.0;
    }
    tastes.iter().map(|t| t.affinity(kinds, v)).sum::<f32>() / tastes.len() as f32
}

/// What is held back from one person's answers, by what they used.
fn held_back(state: &TasteState, intent: &Intent) -> HashSet<i64> {
    if intent.again {
        return HashSet::new();
    }
    state
        .used
        .iter()
        .filter(|(_, kind)| intent.fresh || **kind != Kind::Music)
        .map(|(id, _)| *id)
        .collect()
}

/// The memory a request is ranked with (none for plain search).
async fn memory(store: &Store, a: &Ask<'_>) -> Result<Memory> {
    if a.plain {
        return Ok(Memory::default());
    }
    let c = store.catalog();
    let person = a.person;
    let mine = store.taste_state(person.id).await?;
    let mut held = held_back(&mine, a.intent);
    let mut states = vec![mine];
    for name in &a.intent.with {
        let member = crate::people::person_named(store, name).await?;
        let theirs = store.taste_state(member.id).await?;
        held.extend(theirs.disliked());
        states.push(theirs);
    }
    let directions: Vec<Vec<f32>> = states
        .iter()
        .filter_map(|s| s.direction(&a.intent.kinds).map(|(d, _)| d.to_vec()))
        .collect();
    let next = match a.intent.next {
        true => Some(
            crate::series::next_up(store, a.person)
                .await?
                .iter()
                .map(|n| n.item_id)
                .collect(),
        ),
        false => None,
    };
    Ok(Memory {
        feedback: c.feedback(person.id).await?,
        shown: c
            .shown_since(a.now - SHAPING.shown_window_secs())
            .await?
            .into_iter()
            .collect(),
        held_back: held,
        taste: crate::taste::blend(&directions),
        tastes: states,
        next,
    })
}

pub(super) async fn retrieve(
    store: &Store,
    a: &Ask<'_>,
    t: &mut LegTimings,
) -> Result<Vec<Scored>> {
    let profiles = store.profiles().await?;
    let filter = filter_of(store, a.intent).await?;
    let memory = memory(store, a).await?;
    let need_weights = a.weights.need_weights(&a.intent.weighted());
    let (hits, ids) = search_legs(store, a, &filter, &memory, &profiles, &need_weights, t).await?;

    let c = std::time::Instant::now();
    let mut views: HashMap<i64, ItemView> = store
        .catalog()
        .items_by_ids(&ids)
        .await?
        .into_iter()
        .filter(|v| v.available)
        .map(|v| (v.id, v))
        .collect();
    t.catalog_ms = c.elapsed().as_secs_f64() * 1e3;
    let mut vectors = store.vectors_of(&ids).await?;
    let fb = FeedbackView::new(&memory.feedback, a.qvec.unwrap_or(&[]), a.now);
    let scoring = Scoring {
        a,
        profiles: &profiles,
        memory: &memory,
        liked: store.vectors_of(&fb.liked).await?,
        disliked: store.vectors_of(&fb.disliked_soft).await?,
        fb,
        text_rank: hits
            .iter()
            .filter_map(|h| h.text_rank.map(|r| (h.id, r)))
            .collect(),
        active: active_seasons(a.intent, a.moment),
        need_weights,
    };
    let mut out = Vec::new();
    // Candidates whose titles hold the request's meaning words.
    let mut blind = Vec::new();
    for id in ids {
        let Some(item) = views.remove(&id) else {
            continue;
        };
        let Some((scored, titled)) = scoring.score(item, vectors.remove(&id)) else {
            continue;
        };
        if titled {
            blind.push(out.len());
        }
        out.push(scored);
    }
    blind_titles(store, &mut out, &blind, a).await?;
    Ok(out)
}

/// The hard filters of a reading that the index and the legs apply.
async fn filter_of(store: &Store, intent: &Intent) -> Result<Filter> {
    Ok(Filter {
        kinds: intent.kinds.clone(),
        exclude_roots: store.unavailable_root_ids().await?,
        max_duration_secs: intent.max_minutes.map(|m| f64::from(m) * 60.0),
        min_duration_secs: intent.min_minutes.map(|m| f64::from(m) * 60.0),
        min_year: intent.year_from,
        max_year: intent.year_to,
    })
}

/// Every leg's candidates in one list without repeats: the index's
/// vector and full-text hits (returned too, for their text ranks), then
/// the descriptor, sound, taste and prior legs, then the works named; or, for
/// "the next one", the person's series alone.
async fn search_legs(
    store: &Store,
    a: &Ask<'_>,
    filter: &Filter,
    memory: &Memory,
    profiles: &ProfileTable,
    need_weights: &[(D, f32)],
    t: &mut LegTimings,
) -> Result<(Vec<Hit>, Vec<i64>)> {
    let depth = (a.limit * SHAPING.depth_per_pick).max(SHAPING.min_depth);
    let s = std::time::Instant::now();
    let hits = index_leg(store, a, filter, depth, t).await?;
    // The descriptor leg.
    let by_needs = descriptor_leg(profiles, filter, need_weights, a, depth);
    // The sound leg: the analysed tracks nearest the goal.
    let by_sound = a
        .sound_goal
        .map(|g| sound_leg(profiles, filter, &g, depth))
        .unwrap_or_default();
    let by_taste = taste_leg(store, memory, a.intent, filter, depth).await?;
    let by_prior = prior_leg(profiles, filter, memory, a, depth);
    t.search_ms = s.elapsed().as_secs_f64() * 1e3;

    let mut ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    if let Some(next) = &memory.next {
        // "The next one" is answered from their series alone.
        ids = next
            .iter()
            .copied()
            .filter(|id| profiles.get(*id).is_some_and(|p| passes(p, filter)))
            .collect();
    }
    let mut seen: HashSet<i64> = ids.iter().copied().collect();
    let legs = by_needs
        .iter()
        .chain(&by_sound)
        .chain(&by_taste)
        .chain(&by_prior);
    for id in legs.filter(|_| memory.next.is_none()) {
        if seen.insert(*id) {
            ids.push(*id);
        }
    }
    for id in a.named.ids() {
        if profiles.get(id).is_some_and(|p| passes(p, filter)) && seen.insert(id) {
            ids.push(id);
        }
    }
    Ok((hits, ids))
}

/// The vector and full-text legs, which the index searches at once.
/// Words with no content vector of their own (a reference not in the
/// library) are their own vector for the search, and similarity stays
/// unmeasured.
async fn index_leg(
    store: &Store,
    a: &Ask<'_>,
    filter: &Filter,
    depth: usize,
    t: &mut LegTimings,
) -> Result<Vec<Hit>> {
    let text = full_text(a.intent);
    let own = match (a.qvec, text.is_empty()) {
        (None, false) => Some(store.embed_one(text.clone()).await?),
        _ => None,
    };
    let Some(vector) = a.qvec.or(own.as_deref()) else {
        return Ok(Vec::new());
    };
    let q = Query {
        text: &text,
        vector,
        filter: filter.clone(),
        limit: depth * 2,
        depth,
    };
    let (hits, legs) = store
        .read_index(|i| {
            let arg = &q;
            async move { i.search(arg).await }
        })
        .await?;
    t.vector_ms = legs.vector_ms;
    t.text_ms = legs.text_ms;
    Ok(hits)
}

/// Measures again, without their titles, how close the candidates at
/// `which` are to the request: their titles hold words the request
/// uses for what it means ("Calm" for "calm music"), and an embedding
/// of a card reads its title. Each costs an embedding, so only those
/// that could be picked are measured: the best few of their kind by
/// score (an answer that mixes kinds reaches deep into a kind the
/// request fits less).
async fn blind_titles(
    store: &Store,
    out: &mut [Scored],
    which: &[usize],
    a: &Ask<'_>,
) -> Result<()> {
    let Some(q) = a.qvec.filter(|_| !which.is_empty()) else {
        return Ok(());
    };
    let scores: Vec<f32> = out
        .iter()
        .map(|s| a.weights.score(&s.features, a.intent.vagueness))
        .collect();
    let mut per_kind: HashMap<Kind, Vec<f32>> = HashMap::new();
    for (s, score) in out.iter().zip(&scores) {
        per_kind.entry(s.item.kind).or_default().push(*score);
    }
    let bars: HashMap<Kind, f32> = per_kind
        .into_iter()
        .map(|(kind, mut v)| {
            v.sort_by(|x, y| y.total_cmp(x));
            (kind, v[(a.limit * SHAPING.blind_reach).min(v.len()) - 1])
        })
        .collect();
    let mut chosen: Vec<usize> = which
        .iter()
        .copied()
        .filter(|&i| scores[i] >= bars[&out[i].item.kind])
        .collect();
    chosen.sort_by(|&x, &y| scores[y].total_cmp(&scores[x]));
    chosen.truncate(SHAPING.max_blind);
    if chosen.is_empty() {
        return Ok(());
    }
    let texts: Vec<String> = chosen
        .iter()
        .map(|&i| without_title(&out[i].item))
        .collect();
    let embedder = store.embedder().await?;
    let vectors = tokio::task::spawn_blocking(move || embedder.embed(texts))
        .await
        .map_err(crate::error::Error::internal)??;
    for (&i, v) in chosen.iter().zip(&vectors) {
        out[i].features.similarity = rank::dot(q, v);
    }
    Ok(())
}

/// The features an item's profile gives: how it has what the request
/// needs (by each source; without the embedding's part when its title
/// spells the request's needs, `titled`: the embedding reads the title),
/// how it sounds, fits the moment and rates.
fn profile_features(
    f: &mut Features,
    p: &ItemProfile,
    a: &Ask<'_>,
    need_weights: &[(D, f32)],
    titled: bool,
) {
    let m = rank::need_match(p, need_weights);
    f.need_evidence = m.evidence;
    f.need_zero_shot = if titled { 0.0 } else { m.zero_shot };
    f.need_model = m.model;
    f.need_sound = m.sound;
    if let (Some(g), Some(snd)) = (&a.sound_goal, &p.sound) {
        f.sound_near = g.closeness(snd);
    }
    f.moment = rank::fit(a.weights, p, a.moment);
    f.quality = rank::quality(p.rating);
}

/// What an item's title says in the request's own words for what it
/// means: whether it holds a cue of one of the request's needs ("Winter
/// Song" for a winter need), and whether it holds a word of the embedded
/// query that is not a plain content word (a cue's word, the kind's
/// noun).
#[derive(Debug, Default)]
struct TitleSays {
    needs: bool,
    query: bool,
}

fn title_says(title: &str, intent: &Intent, needs: &[(D, f32)]) -> TitleSays {
    let key = understand::name_key(title);
    let holds = |w: &str| has_fragment(&key, w) || has_fragment(&key, &format!("{w}s"));
    TitleSays {
        needs: needs
            .iter()
            .any(|(d, _)| d.get().cues.iter().any(|c| holds(&understand::name_key(c)))),
        query: intent
            .query
            .split_whitespace()
            .filter(|w| !intent.keywords.iter().any(|k| k == w) && !crate::cues::stop_word(w))
            .any(holds),
    }
}

/// An item's card with its title taken out, as it would be embedded.
fn without_title(v: &ItemView) -> String {
    v.description
        .as_deref()
        .unwrap_or_default()
        .replacen(v.title.as_str(), "", 1)
}

/// The words the full-text leg searches: what no descriptor explains,
/// names the request gives, and the origins it asks for, as an adjective
/// and as a place ("french france"). Never time or occasion words, praise
/// or kinds.
fn full_text(intent: &Intent) -> String {
    let mut words: Vec<&str> = intent.keywords.iter().map(String::as_str).collect();
    words.extend(intent.like.iter().map(String::as_str));
    for o in intent.origins.iter().filter_map(|o| Origin::of(o)) {
        words.extend([o.name(), o.place.as_str()]);
    }
    words
        .retain(|w| !intent.exclude.iter().any(|e| e == w) && !intent.avoid.iter().any(|a| a == w));
    words.join(" ")
}

/// What the request names, found in the catalog (see [`Library::named`]).
#[derive(Debug, Default)]
pub(super) struct Named {
    /// Items whose whole title the request names.
    pub titles: HashSet<i64>,
    /// Items by a creator it names.
    pub creators: HashSet<i64>,
}

/// The `named` feature of an item whose title the request names, and of
/// one by a creator it names (`shaping.named_title`, `named_creator`):
/// ranking puts every named item before the rest, and the title named
/// before its creator's other works.
/// Items fetched per word when a phrase is looked up as a name.
const NAME_LOOKUP: i64 = 500;

impl Named {
    fn strength(&self, id: i64) -> f32 {
        if self.titles.contains(&id) {
            SHAPING.named_title
        } else if self.creators.contains(&id) {
            SHAPING.named_creator
        } else {
            0.0
        }
    }

    fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.titles
            .iter()
            .chain(self.creators.difference(&self.titles))
            .copied()
    }
}

/// The items a request names: by a creator ("by Dickens", "a Jane
/// Austen novel") and by title ("Pride and Prejudice"). Each phrase
/// that may be a name is looked up by its longest words, and an item
/// counts only when its whole title or one of its creators is that
/// phrase: "a film about pride" does not name a film called "Pride and
/// Joy", and "a calm film" names nothing, as no rule leaves a mood word
/// to be a name.
pub(super) async fn named(store: &Store, intent: &Intent, text: &str) -> Result<Named> {
    let mut n = Named::default();
    for name in understand::creators_named(text) {
        n.creators
            .extend(store.catalog().items_by_creator(&name, 200).await?);
    }
    for phrase in &intent.names {
        let phrase = std::slice::from_ref(phrase);
        let mut words: Vec<&str> = phrase[0]
            .split(' ')
            .filter(|w| w.chars().count() >= 3)
            .collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        // The longest word is the rarest; the next one finds a title
        // the catalog spells otherwise ("Schindler's" for "schindlers").
        for word in words.into_iter().take(2) {
            let ids = store.catalog().items_named(word, NAME_LOOKUP).await?;
            let mut found = false;
            for v in store.catalog().items_by_ids(&ids).await? {
                if understand::names_title(&v.title, phrase) {
                    found |= n.titles.insert(v.id);
                }
                if v.creator
                    .as_deref()
                    .is_some_and(|c| understand::names_creator(c, phrase))
                {
                    found |= n.creators.insert(v.id);
                }
            }
            if found {
                break;
            }
        }
    }
    Ok(n)
}

/// What an item says of itself beside its title: its card with the title
/// taken out, and its genres, lower case.
fn beside_title(title: &str, card: Option<&str>, genres: &[String]) -> String {
    let card = card.unwrap_or_default().replacen(title, " ", 1);
    format!("{card} {}", genres.join(" ")).to_lowercase()
}

/// Whether the item is from one of the origins the request asks for, by
/// what it says beside its title (a country or its adjective in its
/// genres, tags, plot or understanding) or by its language: 1 if so, 0 if
/// not, `None` when the request asks for no origin.
fn from_origin(v: &ItemView, origins: &[String]) -> Option<f32> {
    if origins.is_empty() {
        return None;
    }
    let text = beside_title(&v.title, v.description.as_deref(), &v.genres);
    Some(if says_origin(&text, &v.meta, origins) {
        1.0
    } else {
        0.0
    })
}

/// Whether `text` (what an item says beside its title) or the language in
/// its metadata `meta` (JSON) says one of `origins`.
fn says_origin(text: &str, meta: &str, origins: &[String]) -> bool {
    let language = serde_json::from_str::<serde_json::Value>(meta)
        .ok()
        .and_then(|m| m["language"].as_str().map(str::to_lowercase));
    let language = language
        .as_deref()
        .map(|l| l.split(['-', '_']).next().unwrap_or(l));
    origins.iter().filter_map(|o| Origin::of(o)).any(|o| {
        o.words
            .iter()
            .chain(std::iter::once(&o.place))
            .any(|w| has_fragment(text, w))
            || language.is_some_and(|l| o.languages.iter().any(|x| x == l))
    })
}

/// Whether the item's title holds a word of an origin the request asks
/// for: a full-text match there is no evidence of where it is from.
fn titled_by_origin(v: &ItemView, origins: &[String]) -> bool {
    let title = v.title.to_lowercase();
    origins.iter().filter_map(|o| Origin::of(o)).any(|o| {
        o.words
            .iter()
            .chain(std::iter::once(&o.place))
            .any(|w| has_fragment(&title, w))
    })
}

/// Counts an asked-for origin as one more need, weighted as the request's
/// own words are, that only the item's own data can show (`evidence`).
fn with_origin(f: &mut Features, needs: &[(D, f32)], origin: f32) {
    let total: f32 = needs.iter().map(|(_, w)| w).sum();
    let share = total / (total + SHAPING.need_from_origin);
    f.need_evidence = f.need_evidence * share + origin * (1.0 - share);
    f.need_zero_shot *= share;
    f.need_model *= share;
    f.need_sound *= share;
}

/// Whether a profiled item passes the hard filters the index applies.
fn passes(p: &ItemProfile, f: &Filter) -> bool {
    if !f.kinds.is_empty() && !f.kinds.contains(&p.kind) {
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
    let scored: Vec<(f32, i64)> = profiles
        .items
        .iter()
        .filter(|p| passes(p, filter))
        .map(|p| {
            let s = rank::fit(a.weights, p, needs) + v * rank::fit(a.weights, p, a.moment);
            (s, p.id)
        })
        .filter(|(s, _)| *s > 0.0)
        .collect();
    best(scored, depth)
}

/// The `depth` best scored ids, best first (ties by id).
fn best(mut scored: Vec<(f32, i64)>, depth: usize) -> Vec<i64> {
    let n = depth.min(scored.len());
    if n == 0 {
        return Vec::new();
    }
    scored.select_nth_unstable_by(n - 1, |x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    scored.truncate(n);
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    scored.into_iter().map(|(_, id)| id).collect()
}

/// The prior leg: for a request at least half vague, the best regarded
/// works not held back. "Something to watch tonight" says nothing the
/// index can search for; without this leg it would be answered only from
/// the works the moment calls for and those near the person's taste.
fn prior_leg(
    profiles: &ProfileTable,
    filter: &Filter,
    memory: &Memory,
    a: &Ask<'_>,
    depth: usize,
) -> Vec<i64> {
    let v = a.intent.vagueness;
    if rank::prior_room(v) <= 0.0 {
        return Vec::new();
    }
    let scored: Vec<(f32, i64)> = profiles
        .items
        .iter()
        .filter(|p| passes(p, filter) && !memory.held_back.contains(&p.id))
        .map(|p| (a.weights.prior(rank::quality(p.rating), v), p.id))
        .filter(|(s, _)| *s > 0.0)
        .collect();
    best(scored, depth)
}

/// The `depth` analysed items passing the filters that answer `goal` best.
fn sound_leg(
    profiles: &ProfileTable,
    filter: &Filter,
    goal: &crate::hearing::SoundGoal,
    depth: usize,
) -> Vec<i64> {
    let scored: Vec<(f32, i64)> = profiles
        .items
        .iter()
        .filter(|p| passes(p, filter))
        .filter_map(|p| Some((goal.closeness(p.sound.as_ref()?), p.id)))
        .filter(|(c, _)| *c > 0.0)
        .collect();
    best(scored, depth)
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
/// What an excluded or avoided `term` is looked for in: what the item says
/// beside its title and album (a title is no evidence of what it holds:
/// "nothing French" keeps a film called "French Kiss" if nothing else says
/// French), unless the term means nothing the app reads as a meaning, a
/// name such as "no Harry Potter", which a title holds.
fn card_of(v: &ItemView, term: &str) -> String {
    let card = v.description.as_deref().unwrap_or_default();
    if !means_something(term) {
        return format!("{card} {} {}", v.title, v.genres.join(" ")).to_lowercase();
    }
    let card = match &v.album {
        Some(a) if !a.is_empty() => card.replacen(a.as_str(), " ", 1),
        _ => card.to_string(),
    };
    beside_title(&v.title, Some(&card), &v.genres)
}

/// Whether every word of `term` is one the app reads as a meaning: a
/// descriptor's cue, praise, an origin or a kind of work.
fn means_something(term: &str) -> bool {
    let t = term.trim().to_lowercase();
    understand::cue_of(&t).is_some()
        || t.split_whitespace().all(|w| {
            understand::cue_of(w).is_some()
                || Origin::of(w).is_some()
                || crate::vocab::is_quality_word(w)
                || crate::vocab::kind_of_word(w).is_some()
        })
}

/// Hard constraints the index cannot express: exclusions (by the item's
/// own words, and by the labels behind a descriptor the excluded word
/// names: "no horror" also rules out a film its genres call supernatural)
/// and audience (adult ratings for children).
pub(super) fn violates(intent: &Intent, v: &ItemView, p: Option<&ItemProfile>) -> bool {
    if !intent.exclude.is_empty() {
        for term in &intent.exclude {
            let card = card_of(v, term);
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
    intent
        .avoid
        .iter()
        .map(|term| {
            let by_descriptor = D::find(term).map_or(0.0, |d| w.combine(p.sources(d)));
            let card = card_of(v, term);
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

/// Fragments that, found in an item's card, mean it has the excluded
/// quality (`cues.toml`'s `exclusion_implies`).
pub(super) fn exclusion_fragments(term: &str) -> Vec<String> {
    let term = term.trim().to_lowercase();
    let mut out = vec![stem(&term)];
    for (word, implied) in &crate::cues::CUES.exclusion_implies {
        if stem(word) == stem(&term) {
            out.extend(implied.iter().cloned());
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
        // Praise and kinds are not searched; an origin is, as a place too.
        let i = understand::read_rules("a great French documentary", &ctx);
        assert_eq!(full_text(&i), "french france");
    }

    fn film(title: &str, card: &str) -> ItemView {
        ItemView {
            path: format!("/films/{title}.mkv"),
            genres: vec!["Comedy".into()],
            description: Some(card.into()),
            ..ItemView::bare(1, Kind::Video, title)
        }
    }

    /// Issue 23: an exclusion that means something is looked for beside
    /// the title; one that means nothing the app knows (a name) is looked
    /// for in the title too.
    #[test]
    fn exclusions_of_meanings_never_read_titles() {
        let ctx = crate::context::Context::new(
            chrono::NaiveDateTime::parse_from_str("2026-12-24T20:00", "%Y-%m-%dT%H:%M").unwrap(),
            crate::context::Hemisphere::North,
        );
        let cases = [
            ("a comedy, nothing French", "French Kiss", false),
            ("a comedy, nothing dark", "Dark Harbour Nights", false),
            ("a comedy, nothing scary", "Scary Movie Night", false),
            (
                "a comedy without Harry Potter",
                "Harry Potter Returns",
                true,
            ),
        ];
        for (request, title, excluded) in cases {
            let intent = understand::read_rules(request, &ctx);
            assert!(!intent.exclude.is_empty(), "{request}: {intent:?}");
            let v = film(
                title,
                &format!("{title}, directed by Someone (1995). Genre: Comedy."),
            );
            assert_eq!(violates(&intent, &v, None), excluded, "{request} / {title}");
        }
        // What the item says beside its title still counts.
        let intent = understand::read_rules("a comedy, nothing French", &ctx);
        let v = film(
            "Le Voyage",
            "Le Voyage (1995). Genre: Comedy. A French farce.",
        );
        assert!(violates(&intent, &v, None));
    }

    /// Issue 23: an origin is what an item says of itself, never its title.
    #[test]
    fn origins_are_read_beside_the_title() {
        let french = vec!["french".to_string()];
        let card = "French Kiss, directed by Someone (1995). Genre: Comedy.";
        let text = beside_title("French Kiss", Some(card), &["Comedy".into()]);
        assert!(!says_origin(&text, "{}", &french), "{text}");
        let card = "Le Voyage (1995). Genre: Drama. Tags: France, Paris.";
        let text = beside_title("Le Voyage", Some(card), &["Drama".into()]);
        assert!(says_origin(&text, "{}", &french));
        let text = beside_title("Les Contes", None, &[]);
        assert!(says_origin(&text, r#"{"language":"fr"}"#, &french));
        assert!(!says_origin(&text, r#"{"language":"en"}"#, &french));
    }

    #[test]
    fn an_origin_counts_as_one_more_need() {
        let mut f = Features {
            need_evidence: 1.0,
            need_zero_shot: 0.5,
            ..Features::default()
        };
        with_origin(&mut f, &[(D::named("calm"), 1.0)], 0.0);
        assert_eq!((f.need_evidence, f.need_zero_shot), (0.5, 0.25));
        let mut f = Features::default();
        with_origin(&mut f, &[], 1.0);
        assert_eq!(f.need_evidence, 1.0);
    }
}
