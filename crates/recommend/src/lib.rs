//! The recommender, in five stages, each in its own module:
//!
//! ```text
//! request ─▶ understand (rules + vocabulary cues, + model under a grammar; the moment's needs)
//!         ─▶ retrieve (vector + full text + descriptors, hard filters, catalog check) ─▶ features
//!         ─▶ rank (fitted weights, variety) ─▶ picks (shown at once, rule-based reasons)
//!         ─▶ explain (model reasons, streamed, checked) ─▶ remember (conversation, shown items)
//! ```
//!
//! Nothing here can name an item that is not in the catalog: picks are
//! catalog rows, the model only explains picks by candidate id, and every
//! reason is checked. Hard constraints (kinds, length, years, exclusions,
//! audience) remove items; soft ones (needs, the moment, feedback,
//! novelty) only move them. Plain embedding search ([`Mode::Search`]) is
//! the same pipeline with every understanding turned off, kept as the
//! baseline the evaluation compares against.

pub mod answer;
pub mod cues;
pub mod explain;
pub mod intent;
pub mod listens;
pub mod model;
pub mod more;
pub mod people;
pub mod personal;
pub mod playlist;
pub mod rank;
pub mod remember;
pub mod retrieve;
pub mod series;
pub mod similar;
pub mod suggest;
pub mod understand;

// The shared rooms, under the names this crate's modules use for them.
use moodshelf_core::{
    Kind, context, describe, error, hearing, names, profile, shaping, store, taste, vocab, work,
};

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use moodshelf_catalog::{ItemView, Person};
use moodshelf_llm::{Cancel, Reasoner};

use crate::context::Context;
use crate::error::{Code, Error, Result};
use crate::profile::ProfileTable;
use crate::store::Store;
use crate::vocab::D;
pub use answer::{
    EventFn, ExplainedBy, MAX_LIMIT, Mode, Moment, Pick, Pool, ReasonerInfo, ReasonerKind,
    RecEvent, RecTimings, RecommendRequest, Recommendation, RefusedReason, UnderstoodBy,
};
use intent::{Direction, Intent, NeedSource};
use moodshelf_catalog::Polarity;
use rank::{FITTED, Weights};
use shaping::SHAPING;

/// One answer under way: its request, its cancel, when it began, and what
/// it gathers for the host on the way (timings, notices).
struct Answering<'a> {
    req: &'a RecommendRequest,
    /// Who asks, read once: every stage answers for the same person even
    /// when another is chosen meanwhile.
    person: Person,
    /// The request's text, trimmed.
    text: &'a str,
    cancel: &'a Cancel,
    started: Instant,
    t: RecTimings,
    notices: Vec<String>,
}

impl<'a> Answering<'a> {
    fn new(req: &'a RecommendRequest, person: Person, cancel: &'a Cancel) -> Answering<'a> {
        Answering {
            req,
            person,
            text: req.text.trim(),
            cancel,
            started: Instant::now(),
            t: RecTimings::default(),
            notices: Vec::new(),
        }
    }
}

/// The reading of a request, as understanding hands it on.
struct Read {
    /// The rules' reading of this request alone.
    rules: Intent,
    /// The reading answered: rules, model, follow-up and preferences.
    intent: Intent,
    follow_up: bool,
    pending: PendingReasoner,
    understood_by: UnderstoodBy,
}

/// What a reading points at in the library: its content vector, the works
/// it names, and their ids.
struct Content {
    qvec: Option<Vec<f32>>,
    references: Vec<i64>,
    named: retrieve::Named,
}

/// The picks as ranking chose them, with their rule reasons.
struct Ranked {
    chosen: Vec<rank::Scored>,
    /// The moment's need that shaped each pick, if one did.
    shaped: Vec<Option<D>>,
    picks: Vec<Pick>,
}

/// What explaining gave.
struct Explained {
    /// Who wrote the reasons.
    by: ExplainedBy,
    refused: Vec<RefusedReason>,
    /// The picks the model's last try explained.
    answered: HashSet<i64>,
    /// The reasoner that explained (or is left), for the answer's record.
    reasoner: Option<Reasoner>,
}

/// What understanding and retrieval hand to ranking.
struct Prepared {
    ctx: Context,
    /// The rules' reading of this request alone.
    rules: Intent,
    /// The reading answered: rules, model, follow-up and preferences.
    intent: Intent,
    follow_up: bool,
    moment: Vec<(D, f32)>,
    candidates: Vec<rank::Scored>,
    generator: PendingReasoner,
    understood_by: UnderstoodBy,
    weights: Weights,
}

/// The reasoner of an answer. A cold model takes seconds to read, so it
/// loads in the background while the request is read and searched, and is
/// waited for where it is first needed: reading a vague request, or
/// explaining the picks.
enum PendingReasoner {
    None,
    Loading(tokio::task::JoinHandle<Result<Reasoner>>),
    Ready(Reasoner),
}

/// Answers a request with picks from the library, reasons, and the
/// reading of the request. `on_event` sees picks before the model
/// explains them, and the model's reply as it is written.
pub async fn recommend(
    store: &Arc<Store>,
    req: &RecommendRequest,
    cancel: &Cancel,
    on_event: EventFn<'_>,
) -> Result<Recommendation> {
    let person = crate::people::person(store).await?;
    let mut a = Answering::new(req, person, cancel);
    let _answering = if req.mode == Mode::Model {
        Some(store.answer_started().await)
    } else {
        None
    };
    let s = prepare(store, &mut a, on_event).await?;
    if req.one_shot {
        store.release_embedder().await;
    }
    let r = Instant::now();
    let profiles = store.profiles().await?;
    let mut ranked = first_picks(store, &a, &s, &profiles).await?;
    a.t.rank_ms = ms(r);
    a.t.first_picks_ms = ms(a.started);
    on_event(RecEvent::Picks(ranked.picks.clone()));
    let explained =
        explain_picks(store, &mut a, on_event, s.generator, &mut ranked, &profiles).await?;
    let reasoner = match (&explained.reasoner, s.understood_by, explained.by) {
        (Some(r), _, ExplainedBy::Model) | (Some(r), UnderstoodBy::RulesAndModel, _) => {
            ReasonerInfo {
                kind: ReasonerKind::of(r),
                model: Some(r.model()),
            }
        }
        _ => ReasonerInfo {
            kind: ReasonerKind::None,
            model: None,
        },
    };
    let conversation_id = remember_answer(store, &a, &s.rules, &s.intent, &ranked.picks).await?;
    a.t.total_ms = ms(a.started);
    Ok(Recommendation {
        items: ranked.picks,
        moment_needs: s
            .moment
            .iter()
            .map(|(d, w)| intent::Need {
                descriptor: d.name().to_string(),
                weight: *w,
                from: NeedSource::Moment,
            })
            .collect(),
        intent: s.intent,
        context: s.ctx,
        mode: req.mode,
        conversation_id,
        follow_up: s.follow_up,
        understood_by: s.understood_by,
        explained_by: explained.by,
        reasoner,
        refused_reasons: explained.refused,
        notices: a.notices,
        timings_ms: a.t,
    })
}

/// Ranks the candidates and gives each pick its rule reason (and, in a
/// vague answer, the history it is close to): what the host shows at
/// once.
async fn first_picks(
    store: &Store,
    a: &Answering<'_>,
    s: &Prepared,
    profiles: &ProfileTable,
) -> Result<Ranked> {
    let req = a.req;
    let plain = req.mode == Mode::Search;
    let chosen = rank::choose(
        s.candidates.clone(),
        &s.weights,
        rank::Choice {
            vagueness: s.intent.vagueness,
            limit: req.limit.clamp(1, MAX_LIMIT),
            named: &s.intent.like,
            varied: !plain,
            mix_kinds: s.intent.kinds.is_empty(),
        },
    );
    let shaped: Vec<Option<D>> = chosen
        .iter()
        .map(|c| {
            profiles
                .get(c.item.id)
                .and_then(|p| explain::shaped_by_moment(p, &s.intent, &s.moment))
        })
        .collect();
    let mut picks: Vec<Pick> = chosen
        .iter()
        .zip(&shaped)
        .map(|(c, m)| Pick {
            why: if plain {
                "Close to your request".into()
            } else {
                let profile = profiles.get(c.item.id);
                let reason = explain::rule_reason(&s.weights, &c.item, profile, &s.intent, *m);
                explain::with_sound(reason, profile, c.features.sound_near)
            },
            score: c.score,
            item: c.item.clone(),
        })
        .collect();
    if !plain {
        crate::personal::history_reasons(store, &a.person, &s.intent, &chosen, &mut picks).await?;
    }
    Ok(Ranked {
        chosen,
        shaped,
        picks,
    })
}

/// The model explains the top picks, in place of their rule reasons,
/// when the answer asked for it and a model is there. A model that
/// fails hands over to the next (the local one after an endpoint) or
/// to the rule reasons already shown.
async fn explain_picks(
    store: &Store,
    a: &mut Answering<'_>,
    on_event: EventFn<'_>,
    pending: PendingReasoner,
    ranked: &mut Ranked,
    profiles: &ProfileTable,
) -> Result<Explained> {
    let mut out = Explained {
        by: ExplainedBy::Rules,
        refused: Vec::new(),
        answered: HashSet::new(),
        reasoner: None,
    };
    // The explain phase counts the wait for a model still loading.
    let x = Instant::now();
    let mut reasoner = ready_reasoner(pending, &mut a.notices, on_event).await?;
    if ranked.picks.is_empty() || reasoner.is_none() {
        out.reasoner = reasoner;
        return Ok(out);
    }
    let mut cands: Vec<model::Candidate> = ranked
        .chosen
        .iter()
        .zip(&ranked.shaped)
        .take(SHAPING.explain_top)
        .map(|(c, m)| explain::candidate(&c.item, profiles.get(c.item.id), *m))
        .collect();
    while let Some(g) = reasoner.clone() {
        out.answered.clear();
        let explained = explain(&g, a, &cands, &mut ranked.picks, &mut out, on_event).await;
        match explained {
            Ok(()) => {
                out.by = ExplainedBy::Model;
                break;
            }
            // The picks are shown already: a failure of the model (a
            // server gone mid-answer, a context overflow, a crashed
            // worker) keeps them, with the rule reasons for those no
            // model explained, and the conversation goes on.
            Err(e) if !a.cancel.is_cancelled() => {
                if !out.answered.is_empty() {
                    out.by = ExplainedBy::Model;
                }
                cands.retain(|c| !out.answered.contains(&c.id));
                reasoner = fall_back(store, &g, e, &mut a.notices, on_event).await;
            }
            Err(e) => return Err(e),
        }
    }
    a.t.explain_ms = ms(x);
    out.reasoner = reasoner;
    Ok(out)
}

/// The last stage, and the only one that writes: the preferences the
/// request stated, the conversation and what was shown, when the
/// request is remembered. Returns the conversation.
async fn remember_answer(
    store: &Store,
    a: &Answering<'_>,
    rules: &Intent,
    intent: &Intent,
    picks: &[Pick],
) -> Result<Option<i64>> {
    let req = a.req;
    if !req.remember {
        return Ok(req.conversation);
    }
    let text = req.text.trim();
    // Plain search reads no preference, so it learns none either.
    if req.mode != Mode::Search {
        crate::remember::learn_preferences(store, &a.person, text, req.moment.unix).await?;
    }
    let id = crate::remember::remember(
        store,
        req.conversation,
        text,
        rules,
        intent,
        picks,
        req.moment.unix,
    )
    .await?;
    Ok(Some(id))
}

/// The candidates of a request with their features, before ranking:
/// what `recommend` ranks. For fitting the ranking weights; nothing is
/// remembered and no reason is written.
pub async fn candidates(store: &Arc<Store>, req: &RecommendRequest) -> Result<Pool> {
    let mut req = req.clone();
    req.remember = false;
    let cancel = Cancel::default();
    let person = crate::people::person(store).await?;
    let mut a = Answering::new(&req, person, &cancel);
    let s = prepare(store, &mut a, &mut |_| {}).await?;
    Ok(Pool {
        intent: s.intent,
        candidates: s.candidates,
    })
}

/// Understanding and retrieval: everything up to ranking.
async fn prepare(
    store: &Arc<Store>,
    a: &mut Answering<'_>,
    on_event: EventFn<'_>,
) -> Result<Prepared> {
    let req = a.req;
    if a.text.is_empty() {
        return Err(Error::new(Code::InvalidInput, "ask for something"));
    }
    let ctx = Context::new(
        req.moment.local,
        req.hemisphere.unwrap_or(store.settings().hemisphere),
    );
    let plain = req.mode == Mode::Search;
    ensure_indexed(store).await?;
    let prev = match req.conversation {
        Some(id) => crate::remember::previous_answer(store, id).await?,
        None => None,
    };
    let mut read = read_request(store, a, on_event, &ctx, prev.as_ref()).await?;
    // Names ("the second one") may point into the previous answer even
    // when the request does not follow it; the rest needs a follow-up.
    let found = content(store, a, &read.intent, prev.as_ref()).await?;
    let prev = prev.filter(|_| read.follow_up);
    let sound_goal = match plain {
        true => None,
        false => sound_goal(store, &read.intent, &found.references, prev.as_ref()).await?,
    };
    if !plain && let Some(q) = &found.qvec {
        let prototypes = store.prototypes().await?;
        understand::embedding_needs(&mut read.intent, &prototypes.cosines(q));
    }
    let moment = match plain {
        true => Vec::new(),
        false => understand::moment_needs(&ctx, &read.intent),
    };
    on_event(RecEvent::Intent(Box::new(read.intent.clone())));

    // Retrieve.
    let mut exclude_ids: HashSet<i64> = found.references.iter().copied().collect();
    if let Some(p) = &prev
        && read.intent.refine.contains(&Direction::Different)
    {
        exclude_ids.extend(p.items.iter().map(|v| v.id));
    }
    let weights = match plain {
        true => Weights::plain(),
        false => req.weights.unwrap_or(*FITTED),
    };
    let mut legs = retrieve::LegTimings::default();
    let ask = retrieve::Ask {
        intent: &read.intent,
        qvec: found.qvec.as_deref(),
        moment: &moment,
        weights: &weights,
        limit: req.limit.clamp(1, MAX_LIMIT),
        exclude_ids: &exclude_ids,
        named: &found.named,
        now: req.moment.unix,
        plain,
        sound_goal,
        person: &a.person,
    };
    let candidates = crate::retrieve::retrieve(store, &ask, &mut legs).await?;
    legs.record(&mut a.t);
    Ok(Prepared {
        ctx,
        rules: read.rules,
        intent: read.intent,
        follow_up: read.follow_up,
        moment,
        candidates,
        generator: read.pending,
        understood_by: read.understood_by,
        weights,
    })
}

/// Fails with [`Code::IndexEmpty`] before a library has been indexed.
async fn ensure_indexed(store: &Store) -> Result<()> {
    if store.read_index(|i| async move { i.count().await }).await? == 0 {
        return Err(Error::new(
            Code::IndexEmpty,
            "the library has no indexed items yet: add a folder and scan it",
        ));
    }
    Ok(())
}

/// Understanding: the rules' reading of the request, refined from the
/// previous answer when it follows one, with the person's preferences,
/// the model's reading when the rules found no need in it, the host's
/// kinds and a follow-up's directions. Writes nothing.
async fn read_request(
    store: &Arc<Store>,
    a: &mut Answering<'_>,
    on_event: EventFn<'_>,
    ctx: &Context,
    prev: Option<&remember::Previous>,
) -> Result<Read> {
    let (req, text) = (a.req, a.text);
    let plain = req.mode == Mode::Search;
    let u = Instant::now();
    let rules = understand::read_rules(text, ctx);
    let follow_up = prev.is_some() && rules.is_follow_up(text);
    let mut intent = match (prev, follow_up) {
        (Some(p), true) => {
            let mut i = understand::refine(&p.intent, &rules);
            i.query = [p.intent.query.as_str(), rules.query.as_str()]
                .iter()
                .filter(|q| !q.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            i
        }
        _ => rules.clone(),
    };
    if !plain {
        apply_preferences(store, &a.person, &mut intent, text, req).await?;
    }
    a.t.understand_ms = ms(u);
    let pending = if req.mode == Mode::Model {
        let lib = store.clone();
        PendingReasoner::Loading(tokio::spawn(async move { lib.reasoner().await }))
    } else {
        PendingReasoner::None
    };
    let previous = prev.filter(|_| follow_up).map(|p| p.intent.query.as_str());
    let (mut intent, pending, understood_by) =
        read_with_model(store, a, on_event, intent, pending, previous).await?;
    restrict_kinds(&mut intent, req)?;
    if plain {
        intent = Intent {
            kinds: intent.kinds.clone(),
            query: text.to_string(),
            vagueness: 0.0,
            ..Intent::default()
        };
    }
    if let Some(p) = prev.filter(|_| follow_up) {
        remember::apply_directions(&mut intent, &p.items);
    }
    intent.keywords.retain(|k| !intent.exclude.contains(k));
    Ok(Read {
        rules,
        intent,
        follow_up,
        pending,
        understood_by,
    })
}

/// The model reads a request the rules found no need in (a model is
/// asked for and there is one); its reading is merged into the rules'.
/// Returns the reading, the reasoner left for explaining, and who read.
async fn read_with_model(
    store: &Store,
    a: &mut Answering<'_>,
    on_event: EventFn<'_>,
    mut intent: Intent,
    pending: PendingReasoner,
    previous: Option<&str>,
) -> Result<(Intent, PendingReasoner, UnderstoodBy)> {
    let explicit = intent
        .needs
        .iter()
        .filter_map(intent::Need::d)
        .any(|d| d.get().facet != crate::vocab::Facet::Time);
    if explicit || matches!(pending, PendingReasoner::None) {
        return Ok((intent, pending, UnderstoodBy::Rules));
    }
    let m = Instant::now();
    let mut understood_by = UnderstoodBy::Rules;
    let mut generator = ready_reasoner(pending, &mut a.notices, on_event).await?;
    while let Some(g) = generator.clone() {
        let request = model::intent_request(a.text, previous);
        let c = a.cancel.clone();
        let worker = g.clone();
        let out = tokio::task::spawn_blocking(move || worker.generate(request, &c, |_| {}))
            .await
            .map_err(Error::internal)?;
        match out {
            Ok(out) => {
                understood_by = UnderstoodBy::RulesAndModel;
                intent = understand::merge(&intent, &model::parse_intent(&out.text), a.text);
                break;
            }
            Err(e) if !a.cancel.is_cancelled() => {
                // The rules' reading stands unless another model can
                // read it; the answer still comes.
                generator = fall_back(store, &g, Error::from(e), &mut a.notices, on_event).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    a.t.model_intent_ms = ms(m);
    let pending = generator.map_or(PendingReasoner::None, PendingReasoner::Ready);
    Ok((intent, pending, understood_by))
}

/// The content vector of a reading, with the works it names (and a
/// follow-up's previous picks) blended in.
async fn content(
    store: &Store,
    a: &mut Answering<'_>,
    intent: &Intent,
    prev: Option<&remember::Previous>,
) -> Result<Content> {
    let e = Instant::now();
    let mut qvec = if intent.query.is_empty() {
        None
    } else {
        Some(store.embed_one(intent.query.clone()).await?)
    };
    a.t.embed_ms = ms(e);
    let previous = prev.map(|p| p.items.as_slice());
    let (references, named) = references(store, intent, a.text, previous, &mut a.notices).await?;
    if !references.is_empty() {
        let vectors = store.vectors_of(&references).await?;
        if !vectors.is_empty() {
            let mean = crate::profile::normalize(&mean(vectors.values()));
            qvec = Some(match qvec {
                Some(q) => crate::profile::normalize(
                    &q.iter()
                        .zip(&mean)
                        .map(|(a, b)| 0.4 * a + 0.6 * b)
                        .collect::<Vec<_>>(),
                ),
                None => mean,
            });
        }
    }
    Ok(Content {
        qvec,
        references,
        named,
    })
}

/// Sound: the tracks named, or for "calmer" and "faster" the previous
/// answer's (`prev`, a follow-up's), as a point in sound space moved
/// that way.
async fn sound_goal(
    store: &Store,
    intent: &Intent,
    references: &[i64],
    prev: Option<&remember::Previous>,
) -> Result<Option<crate::hearing::SoundGoal>> {
    let profiles = store.profiles().await?;
    let heard = |ids: &[i64]| -> Vec<crate::hearing::Sound> {
        ids.iter()
            .filter_map(|&id| profiles.get(id)?.sound)
            .collect()
    };
    let moves: Vec<_> = intent
        .refine
        .iter()
        .filter_map(Direction::in_sound)
        .collect();
    let mut refs = heard(references);
    if refs.is_empty()
        && !moves.is_empty()
        && let Some(p) = prev
    {
        refs = heard(&p.items.iter().map(|v| v.id).collect::<Vec<_>>());
    }
    let library = profiles.items.iter().filter_map(|p| p.sound.as_ref());
    Ok(crate::hearing::SoundGoal::new(&refs, &moves, library))
}

/// Waits for a reasoner loading in the background. A missing model
/// file is a notice and the fast path, not an error.
async fn ready_reasoner(
    pending: PendingReasoner,
    notices: &mut Vec<String>,
    on_event: EventFn<'_>,
) -> Result<Option<Reasoner>> {
    let loaded = match pending {
        PendingReasoner::None => return Ok(None),
        PendingReasoner::Ready(r) => return Ok(Some(r)),
        PendingReasoner::Loading(task) => task.await.map_err(Error::internal)?,
    };
    match loaded {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.code == Code::ModelMissing => {
            let n = format!("{} — answering with the fast path", e.message);
            on_event(RecEvent::Notice(n.clone()));
            notices.push(n);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The model explains the top picks, each in its own sequence over the
/// cached system prompt: the first pick's alone, so its reason comes
/// soon, then the others' as one batch (see `GenOptions::lead`). Each
/// reason is checked as it completes; a refused one leaves the rule
/// reason in place. The picks explained are added to `out.answered`.
async fn explain(
    g: &Reasoner,
    a: &mut Answering<'_>,
    cands: &[model::Candidate],
    picks: &mut [Pick],
    out: &mut Explained,
    on_event: EventFn<'_>,
) -> Result<()> {
    let (refused, answered) = (&mut out.refused, &mut out.answered);
    let (text, cancel, started) = (a.text, a.cancel, a.started);
    let t = &mut a.t;
    if cands.is_empty() || cancel.is_cancelled() {
        return Ok(());
    }
    let requests = model::explain_requests(text, cands);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, String)>();
    let g = g.clone();
    let c = cancel.clone();
    let job = tokio::task::spawn_blocking(move || {
        g.generate_many(requests, &c, move |i, piece| {
            let _ = tx.send((i, piece.to_string()));
        })
    });
    let mut replies = vec![String::new(); cands.len()];
    let mut done = vec![false; cands.len()];
    let mut used: Vec<String> = Vec::new();
    while let Some((i, piece)) = rx.recv().await {
        t.explain_first_token_ms
            .get_or_insert_with(|| started.elapsed().as_secs_f64() * 1e3);
        if i == 0 {
            // The first pick's reply is the live "thinking" line.
            on_event(RecEvent::Piece(piece.clone()));
        }
        replies[i].push_str(&piece);
        // A reply can only be whole where a piece closes it: it is not
        // parsed again on every piece.
        if done[i] || !piece.contains('}') {
            continue;
        }
        let Some(why) = model::parse_reason(&replies[i]) else {
            continue;
        };
        done[i] = true;
        answered.insert(cands[i].id);
        t.first_reason_ms
            .get_or_insert_with(|| started.elapsed().as_secs_f64() * 1e3);
        accept_reason(&cands[i], why, text, &mut used, picks, refused, on_event);
    }
    job.await.map_err(Error::internal)??;
    Ok(())
}

/// After `failed` could not answer: the local model when an endpoint
/// failed and the model file is here, else nothing (the fast path's
/// own reading and reasons). Says so in a notice either way.
async fn fall_back(
    store: &Store,
    failed: &Reasoner,
    e: Error,
    notices: &mut Vec<String>,
    on_event: EventFn<'_>,
) -> Option<Reasoner> {
    let (next, n) = if matches!(failed, Reasoner::Endpoint(_)) {
        match store.generator().await {
            Ok(g) => (
                Some(Reasoner::Local(g)),
                format!("{}; the local model answers instead", e.message),
            ),
            Err(_) => (
                None,
                format!(
                    "{}; with no local model, the reasons shown are Moodshelf's own",
                    e.message
                ),
            ),
        }
    } else {
        (
            None,
            format!(
                "the reasoning model failed ({}); this answer is from Moodshelf's own reading and reasons",
                e.message
            ),
        )
    };
    if !notices.contains(&n) {
        on_event(RecEvent::Notice(n.clone()));
        notices.push(n);
    }
    next
}

/// Shows a reason for its pick, or records why it was refused.
fn accept_reason(
    cand: &model::Candidate,
    why: String,
    text: &str,
    used: &mut Vec<String>,
    picks: &mut [Pick],
    refused: &mut Vec<RefusedReason>,
    on_event: EventFn<'_>,
) {
    // A reason must fit its own pick: one repeated for several picks
    // says nothing about any of them.
    let refusal = if used.iter().any(|u| u.eq_ignore_ascii_case(&why)) {
        Some("repeats another pick's reason")
    } else {
        explain::refusal(&why, cand, text)
    };
    used.push(why.clone());
    match refusal {
        None => {
            on_event(RecEvent::Why {
                id: cand.id,
                why: why.clone(),
            });
            if let Some(p) = picks.iter_mut().find(|p| p.item.id == cand.id) {
                p.why = why;
            }
        }
        Some(r) => refused.push(RefusedReason {
            id: cand.id,
            why,
            refused_for: r.to_string(),
        }),
    }
}

/// Stated preferences: every stored one, with what this request states
/// when it is remembered (the last stage stores them), applied: what a
/// person cannot stand is excluded, what they love is a light need. A
/// request for a group ("for me and Sam") excludes what anyone in it
/// cannot stand. Writes nothing.
async fn apply_preferences(
    store: &Store,
    person: &Person,
    intent: &mut Intent,
    text: &str,
    req: &RecommendRequest,
) -> Result<()> {
    let group = crate::people::group_in(store, text, person.id).await?;
    intent.with = group.iter().map(|p| p.name.clone()).collect();
    for word in group.iter().flat_map(|p| p.name.split_whitespace()) {
        // A guest's name says who it is for, not what it is about.
        let word = word.to_lowercase();
        intent.keywords.retain(|k| *k != word);
        intent.query = intent
            .query
            .split_whitespace()
            .filter(|w| !w.eq_ignore_ascii_case(&word))
            .collect::<Vec<_>>()
            .join(" ");
    }
    let stored = store.catalog().preferences(person.id).await?;
    let preferences = match req.remember {
        true => remember::as_learned(stored, text),
        false => stored.into_iter().map(|p| (p.polarity, p.term)).collect(),
    };
    for (polarity, term) in preferences {
        if polarity == Polarity::Avoid {
            understand::push(&mut intent.exclude, &term);
        } else if let Some(d) = understand::cue_of(&term) {
            intent.add_need(d, SHAPING.need_from_preference, NeedSource::Preference);
        }
    }
    for member in &group {
        for p in store.catalog().preferences(member.id).await? {
            if p.polarity == Polarity::Avoid {
                understand::push(&mut intent.exclude, &p.term);
            }
        }
    }
    intent.summarize();
    Ok(())
}

/// Applies the host's kind choice and included kinds.
fn restrict_kinds(intent: &mut Intent, req: &RecommendRequest) -> Result<()> {
    if let Some(k) = req.kind {
        intent.kinds = vec![k];
    }
    if req.included_kinds.is_empty() {
        return Ok(());
    }
    if intent.kinds.is_empty() {
        intent.kinds = req.included_kinds.clone();
        return Ok(());
    }
    let asked = std::mem::take(&mut intent.kinds);
    intent.kinds = asked
        .iter()
        .filter(|k| req.included_kinds.contains(k))
        .copied()
        .collect();
    if intent.kinds.is_empty() {
        return Err(Error::new(
            Code::InvalidInput,
            format!(
                "the settings leave out {}: include them there to get them here",
                asked
                    .iter()
                    .map(|k| k.plural())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ));
    }
    Ok(())
}

/// The items a request refers to: picks of the previous answer ("the
/// second one"), and titles or creators it names ("like Norah Jones")
/// to resemble; and separately the items it asks for by title or
/// creator ("Pride and Prejudice", "by Dickens").
async fn references(
    store: &Store,
    intent: &Intent,
    text: &str,
    previous: Option<&[ItemView]>,
    notices: &mut Vec<String>,
) -> Result<(Vec<i64>, retrieve::Named)> {
    let mut refs = Vec::new();
    if let Some(items) = previous {
        for p in &intent.like_picks {
            if let Some(i) = p.index(items.len()) {
                refs.push(items[i].id);
            }
        }
    }
    for name in &intent.like {
        let found = store.catalog().items_named(name, 20).await?;
        if found.is_empty() {
            notices.push(format!(
                "{name:?} is not in your library; reading it as a description"
            ));
        }
        refs.extend(found);
    }
    Ok((refs, crate::retrieve::named(store, intent, text).await?))
}

impl Weights {
    /// Plain embedding search: similarity alone.
    pub fn plain() -> Weights {
        let mut w = *FITTED;
        w.similarity = 1.0;
        for x in [
            &mut w.text,
            &mut w.named,
            &mut w.moment_vague,
            &mut w.moment_specific,
            &mut w.off_season,
            &mut w.quality_vague,
            &mut w.quality_specific,
            &mut w.avoid,
            &mut w.feedback,
            &mut w.shown,
            &mut w.taste_vague,
            &mut w.taste_specific,
            &mut w.redundancy,
        ] {
            *x = 0.0;
        }
        w.need_evidence = 0.0;
        w.need_zero_shot = 0.0;
        w.need_model = 0.0;
        w.need_sound = 0.0;
        w.sound_near = 0.0;
        w
    }
}

fn mean<'a>(vs: impl Iterator<Item = &'a Vec<f32>>) -> Vec<f32> {
    let mut sum: Vec<f32> = Vec::new();
    let mut n = 0.0f32;
    for v in vs {
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
        n += 1.0;
    }
    sum.iter().map(|x| x / n.max(1.0)).collect()
}

pub(crate) fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Loads the reasoning model and reads the fixed parts of the reading
/// and explaining prompts into its cache, so the first answer pays for
/// neither. Hosts call it in the background when they start; answers
/// meanwhile wait for the model lock, never for a wrong result.
pub async fn warm_up(store: &Store) -> Result<()> {
    let g = store.generator().await?;
    let placeholder = model::Candidate {
        id: 0,
        kind: Kind::Music,
        title: String::new(),
        creator: None,
        year: None,
        genres: Vec::new(),
        about: String::new(),
        qualities: Vec::new(),
        moment: None,
    };
    // Read both fixed prompts (from their saved states when there are
    // some), write nothing.
    let mut requests = model::explain_requests("", &[placeholder]);
    requests.push(model::intent_request("", None));
    for mut request in requests {
        request.max_tokens = 0;
        let g = g.clone();
        tokio::task::spawn_blocking(move || g.generate(request, &Cancel::default(), |_| {}))
            .await
            .map_err(Error::internal)??;
    }
    Ok(())
}
