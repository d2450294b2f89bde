//! The recommender: understand, retrieve, rank, explain, remember.
//!
//! ```text
//! request ─▶ context ─▶ intent (rules, + model) ─▶ hybrid search with hard filters
//!         ─▶ exclusions, feedback ─▶ rank (fit, context, feedback, novelty) ─▶ diversify
//!         ─▶ picks (shown at once, rule-based reasons) ─▶ model reasons (streamed, checked)
//! ```
//!
//! Nothing here can name an item that is not in the catalog: picks are
//! catalog rows, the model only explains picks by candidate id, and every
//! reason is checked. Hard constraints (kinds, length, years, exclusions,
//! audience) remove items; soft ones (moods, context, feedback, novelty)
//! only move them.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::NaiveDateTime;
use moodshelf_catalog::{ItemView, Verdict};
use moodshelf_index::{Filter, Query};
use moodshelf_llm::Cancel;
use serde::Serialize;

use crate::context::{Context, Hemisphere};
use crate::error::{Code, Error, Result};
use crate::intent::{self, Intent, push};
use crate::lexicon;
use crate::library::Library;
use crate::reason::{self, Candidate};
use crate::search::{AnswerItem, MAX_LIMIT, ms};

/// A moment as both clocks see it: Unix seconds for storage, the user's
/// wall time for meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moment {
    pub unix: i64,
    pub local: NaiveDateTime,
}

/// How much understanding to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Embedding search only: the request's vector, nothing else.
    Search,
    /// The fast path: rules read the request, ranking uses everything else.
    Rules,
    /// Rules plus the reasoning model, which also explains the picks.
    Model,
}

#[derive(Debug, Clone)]
pub struct RecommendRequest {
    pub text: String,
    /// Restricts kinds, whatever the request says.
    pub kind: Option<crate::Kind>,
    /// The kinds a person includes at all (a host setting); empty means
    /// every kind. A request for a kind left out is answered with an error
    /// that says so, not with another kind.
    pub included_kinds: Vec<crate::Kind>,
    pub limit: usize,
    pub moment: Moment,
    /// `None` uses the settings.
    pub hemisphere: Option<Hemisphere>,
    pub mode: Mode,
    /// Continue this conversation (follow-ups refine its last answer).
    pub conversation: Option<i64>,
    /// Store the conversation and what was shown. Evaluations turn it off.
    pub remember: bool,
}

impl RecommendRequest {
    pub fn new(text: impl Into<String>, moment: Moment) -> Self {
        RecommendRequest {
            text: text.into(),
            kind: None,
            included_kinds: Vec::new(),
            limit: 10,
            moment,
            hemisphere: None,
            mode: Mode::Rules,
            conversation: None,
            remember: true,
        }
    }
}

/// One pick: the stable answer item plus its reason.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pick {
    #[serde(flatten)]
    pub item: AnswerItem,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct RecTimings {
    /// The first version's fields, kept for scripts.
    pub embed_ms: f64,
    pub vector_ms: f64,
    pub text_ms: f64,
    pub catalog_ms: f64,
    pub understand_ms: f64,
    pub model_intent_ms: f64,
    pub search_ms: f64,
    pub rank_ms: f64,
    /// From the request to the first picks (what a host shows at once).
    pub first_picks_ms: f64,
    pub explain_first_token_ms: Option<f64>,
    pub explain_ms: f64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub items: Vec<Pick>,
    pub intent: Intent,
    pub context: Context,
    pub mode: Mode,
    pub conversation_id: Option<i64>,
    pub follow_up: bool,
    /// "rules" or "rules+model": who read the request. The model is asked
    /// only when the rules' reading is thin.
    pub understood_by: String,
    /// "rules" or "model": who wrote the reasons.
    pub explained_by: String,
    /// Things the user should know (no model loaded, a reference not found).
    pub notices: Vec<String>,
    pub timings_ms: RecTimings,
}

/// What a host sees while an answer is made.
#[derive(Debug, Clone)]
pub enum RecEvent {
    Intent(Box<Intent>),
    /// Picks with rule-based reasons; sent before the model explains.
    Picks(Vec<Pick>),
    /// A piece of the model's raw reply.
    Piece(String),
    /// A checked reason from the model for one pick.
    Why {
        id: i64,
        why: String,
    },
    Notice(String),
}

pub type EventFn<'a> = &'a mut (dyn FnMut(RecEvent) + Send);

/// How many picks the model explains: the top of the list, so that the
/// first reason arrives within seconds on a laptop.
const EXPLAIN_TOP: usize = 4;
/// Picks explained per model call.
const EXPLAIN_GROUP: usize = 2;
/// Candidates fetched per pick before ranking and filtering.
const DEPTH_FACTOR: usize = 8;
const MIN_DEPTH: usize = 80;
/// A dislike applies to requests at least this similar to the one it was
/// given for.
const DISLIKE_SIMILARITY: f32 = 0.6;
/// "Not now" hides an item for this long.
const NOT_NOW_SECS: i64 = 3 * 86_400;
/// Novelty looks back this far.
const SHOWN_WINDOW_SECS: i64 = 7 * 86_400;

struct Prev {
    intent: Intent,
    items: Vec<ItemView>,
}

impl Library {
    /// Answers a request with picks from the library, reasons, and the
    /// reading of the request. `on_event` sees picks before the model
    /// explains them, and the model's reply as it is written.
    pub async fn recommend(
        &self,
        req: &RecommendRequest,
        cancel: &Cancel,
        on_event: EventFn<'_>,
    ) -> Result<Recommendation> {
        let started = Instant::now();
        let text = req.text.trim();
        if text.is_empty() {
            return Err(Error::new(Code::InvalidInput, "ask for something"));
        }
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let ctx = Context::new(
            req.moment.local,
            req.hemisphere.unwrap_or(self.settings().hemisphere),
        );
        let mut t = RecTimings::default();
        let mut notices = Vec::new();

        let index = self.index().await?;
        if index.count().await? == 0 {
            return Err(Error::new(
                Code::IndexEmpty,
                "the library has no indexed items yet: add a folder and scan it",
            ));
        }

        // The conversation this continues, and its last answer.
        let prev = match req.conversation {
            Some(id) => self.last_answer(id).await?,
            None => None,
        };

        // Understand.
        let u = Instant::now();
        let rules = intent::read_rules(text, &ctx);
        let follow_up = prev.is_some() && rules.is_follow_up(text);
        let mut intent = match (&prev, follow_up) {
            (Some(p), true) => intent::refine(&p.intent, &rules),
            _ => rules.clone(),
        };
        let base_query = match (&prev, follow_up) {
            (Some(p), true) => format!("{} {}", p.intent.query, intent::positive_text(text)),
            _ => intent::positive_text(text),
        };
        if req.mode != Mode::Search {
            self.learn_preferences(text, req.moment.unix, req.remember)
                .await?;
            for p in self.catalog().preferences().await? {
                if p.polarity == "avoid" {
                    push(&mut intent.exclude, &p.term);
                } else {
                    push(&mut intent.moods, &p.term);
                }
            }
        }
        t.understand_ms = ms(u);

        let mut generator = None;
        if req.mode == Mode::Model {
            match self.generator().await {
                Ok(g) => generator = Some(g),
                Err(e) if e.code == Code::ModelMissing => {
                    let n = format!("{} — answering with the fast path", e.message);
                    on_event(RecEvent::Notice(n.clone()));
                    notices.push(n);
                }
                Err(e) => return Err(e),
            }
        }
        let mut understood_by = "rules";
        if let Some(g) = generator.as_ref().filter(|_| intent::is_thin(&intent)) {
            understood_by = "rules+model";
            let m = Instant::now();
            let previous = prev
                .as_ref()
                .filter(|_| follow_up)
                .map(|p| p.intent.query.clone());
            let request = reason::intent_request(text, previous.as_deref());
            let g = g.clone();
            let c = cancel.clone();
            let out = tokio::task::spawn_blocking(move || g.generate(request, &c, |_| {}))
                .await
                .map_err(Error::internal)??;
            let read = reason::parse_intent(&out.text);
            intent = intent::merge(&intent, &read, text);
            t.model_intent_ms = ms(m);
        }
        if let Some(k) = req.kind {
            intent.kinds = vec![k.as_str().to_string()];
        }
        if !req.included_kinds.is_empty() {
            let included: Vec<String> = req
                .included_kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect();
            if intent.kinds.is_empty() {
                intent.kinds = included;
            } else {
                let asked = std::mem::take(&mut intent.kinds);
                intent.kinds = asked
                    .iter()
                    .filter(|k| included.contains(k))
                    .cloned()
                    .collect();
                if intent.kinds.is_empty() {
                    return Err(Error::new(
                        Code::InvalidInput,
                        format!(
                            "the settings leave out {}: include them there to get them here",
                            asked
                                .iter()
                                .map(|k| lexicon::kind_plural(k))
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    ));
                }
            }
        }
        if req.mode == Mode::Search {
            intent = Intent {
                kinds: intent.kinds.clone(),
                ..Intent::default()
            };
        }
        if let Some(p) = prev.as_ref().filter(|_| follow_up) {
            apply_directions(&mut intent, &p.items);
        }
        intent.keywords.retain(|k| !intent.exclude.contains(k));
        intent.query = base_query.clone();
        on_event(RecEvent::Intent(Box::new(intent.clone())));

        // Retrieve.
        let e = Instant::now();
        let embed_text = match req.mode {
            Mode::Search => text.to_string(),
            _ => embed_text(&base_query, &intent),
        };
        let mut qvec = self.embed_one(embed_text).await?;
        t.embed_ms = ms(e);

        let s = Instant::now();
        let mut references: Vec<i64> = Vec::new();
        if let Some(p) = &prev {
            for n in &intent.like_picks {
                let i = if *n == usize::MAX {
                    p.items.len().saturating_sub(1)
                } else {
                    n - 1
                };
                if let Some(v) = p.items.get(i) {
                    references.push(v.id);
                }
            }
        }
        for name in &intent.like {
            let found = self.catalog().items_named(name, 20).await?;
            if found.is_empty() {
                notices.push(format!(
                    "{name:?} is not in your library; reading it as a description"
                ));
            }
            references.extend(found);
        }
        let ref_vectors = if references.is_empty() {
            HashMap::new()
        } else {
            index.vectors(&references).await?
        };
        if !ref_vectors.is_empty() {
            let mean = mean(ref_vectors.values());
            qvec = normalize(
                &qvec
                    .iter()
                    .zip(&mean)
                    .map(|(a, b)| 0.4 * a + 0.6 * b)
                    .collect::<Vec<_>>(),
            );
        }

        let exclude_roots = self.unavailable_root_ids().await?;
        let filter = Filter {
            kinds: intent.kinds.clone(),
            exclude_roots,
            max_duration_secs: intent.max_minutes.map(|m| f64::from(m) * 60.0),
            min_duration_secs: intent.min_minutes.map(|m| f64::from(m) * 60.0),
            min_year: intent.year_from,
            max_year: intent.year_to,
        };
        let depth = (limit * DEPTH_FACTOR).max(MIN_DEPTH);
        let fts = match req.mode {
            Mode::Search => String::new(),
            _ => fts_text(&intent),
        };
        let (hits, legs) = index
            .search(&Query {
                text: &fts,
                vector: &qvec,
                filter,
                limit: depth,
                depth,
            })
            .await?;
        t.search_ms = ms(s);
        t.vector_ms = legs.vector_ms;
        t.text_ms = legs.text_ms;

        // Rank.
        let r = Instant::now();
        let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
        let c = Instant::now();
        let mut views: HashMap<i64, ItemView> = self
            .catalog()
            .items_by_ids(&ids)
            .await?
            .into_iter()
            .filter(|v| v.available)
            .map(|v| (v.id, v))
            .collect();
        t.catalog_ms = ms(c);
        let vectors = index.vectors(&ids).await?;
        let picks = if req.mode == Mode::Search {
            hits.iter()
                .filter_map(|h| views.remove(&h.id).map(|v| (v, h.score)))
                .take(limit)
                .map(|(v, score)| Pick {
                    why: "Close to your request".into(),
                    item: answer_item(v, score),
                })
                .collect::<Vec<_>>()
        } else {
            let feedback = self.catalog().feedback().await?;
            let shown: HashMap<i64, i64> = self
                .catalog()
                .shown_since(req.moment.unix - SHOWN_WINDOW_SECS)
                .await?
                .into_iter()
                .collect();
            let fb = FeedbackView::new(&feedback, &qvec, req.moment.unix);
            let liked_vectors = index.vectors(&fb.liked).await?;
            let disliked_vectors = index.vectors(&fb.disliked_soft).await?;
            let mut excluded_prev: HashSet<i64> = references.iter().copied().collect();
            if let Some(p) = prev.as_ref().filter(|_| follow_up)
                && intent.refine.iter().any(|r| r == "different")
            {
                excluded_prev.extend(p.items.iter().map(|v| v.id));
            }
            let mut scored: Vec<Scored> = Vec::new();
            for h in &hits {
                let Some(v) = views.remove(&h.id) else {
                    continue;
                };
                if excluded_prev.contains(&v.id) || fb.hidden.contains(&v.id) {
                    continue;
                }
                let card = card_of(&v);
                if violates(&intent, &card, &v) {
                    continue;
                }
                let vec = vectors.get(&v.id);
                let sim = vec.map_or(0.0, |x| dot(x, &qvec));
                let mut score = 0.55 * sim + 0.45 * h.score;
                score += soft_score(&intent, &ctx, &card);
                if let Some(x) = vec {
                    score += fb.score(v.id, x, &liked_vectors, &disliked_vectors);
                }
                score -= 0.03 * (*shown.get(&v.id).unwrap_or(&0)).min(3) as f32;
                scored.push(Scored {
                    view: v,
                    card,
                    score,
                    vector: vec.cloned(),
                });
            }
            let chosen = diversify(scored, limit, &intent);
            chosen
                .into_iter()
                .map(|s| Pick {
                    why: reason::rule_reason(
                        &intent,
                        &ctx,
                        &s.card,
                        &s.view.kind,
                        &s.view.genres,
                        s.view.duration_secs,
                    ),
                    item: answer_item(s.view, s.score),
                })
                .collect()
        };
        t.rank_ms = ms(r);
        t.first_picks_ms = ms(started);
        on_event(RecEvent::Picks(picks.clone()));

        // Explain.
        let mut picks = picks;
        let mut explained_by = "rules".to_string();
        if let (Some(g), false) = (&generator, picks.is_empty()) {
            let x = Instant::now();
            let cands: Vec<Candidate> = picks
                .iter()
                .take(EXPLAIN_TOP)
                .map(|p| Candidate {
                    id: p.item.id,
                    kind: p.item.kind.clone(),
                    title: p.item.title.clone(),
                    creator: p.item.creator.clone(),
                    year: p.item.year,
                    genres: p.item.genres.clone(),
                    about: about(&p.item),
                })
                .collect();
            // In small groups: the first reason comes after reading two
            // candidates, not four; the shared prompt prefix is cached.
            let mut used: Vec<String> = Vec::new();
            for group in cands.chunks(EXPLAIN_GROUP) {
                if cancel.is_cancelled() {
                    break;
                }
                let request = reason::explain_request(text, &ctx, group);
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
                let g = g.clone();
                let c = cancel.clone();
                let job = tokio::task::spawn_blocking(move || {
                    g.generate(request, &c, move |piece| {
                        let _ = tx.send(piece.to_string());
                    })
                });
                let mut reply = String::new();
                let mut done = 0;
                while let Some(piece) = rx.recv().await {
                    on_event(RecEvent::Piece(piece.clone()));
                    reply.push_str(&piece);
                    let reasons = reason::parse_reasons(&reply, group.len());
                    for (i, why) in reasons.into_iter().skip(done) {
                        done += 1;
                        // A reason must fit its own pick: one repeated for
                        // several picks says nothing about any of them.
                        let repeated = used.iter().any(|u| u.eq_ignore_ascii_case(&why));
                        used.push(why.clone());
                        if !repeated && reason::reason_is_sound(&why, &group[i], text) {
                            on_event(RecEvent::Why {
                                id: group[i].id,
                                why: why.clone(),
                            });
                            if let Some(p) = picks.iter_mut().find(|p| p.item.id == group[i].id) {
                                p.why = why;
                            }
                        }
                    }
                }
                let out = job.await.map_err(Error::internal)??;
                if t.explain_first_token_ms.is_none() {
                    t.explain_first_token_ms = out
                        .first_token_ms
                        .map(|f| f + (x - started).as_secs_f64() * 1e3);
                }
            }
            t.explain_ms = ms(x);
            explained_by = "model".into();
        }

        // Remember.
        let mut conversation_id = req.conversation;
        if req.remember {
            let now = req.moment.unix;
            let id = match conversation_id {
                Some(id) if self.catalog().conversation(id).await?.is_some() => id,
                _ => self.catalog().new_conversation(text, now).await?,
            };
            conversation_id = Some(id);
            let stored_json = serde_json::to_string(&intent).map_err(Error::internal)?;
            let rules_json = serde_json::to_string(&rules).map_err(Error::internal)?;
            let item_ids: Vec<i64> = picks.iter().map(|p| p.item.id).collect();
            self.catalog()
                .add_message(id, "user", text, Some(&rules_json), &[], now)
                .await?;
            let summary = picks
                .iter()
                .map(|p| p.item.title.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            self.catalog()
                .add_message(
                    id,
                    "assistant",
                    &summary,
                    Some(&stored_json),
                    &item_ids,
                    now,
                )
                .await?;
            self.catalog().mark_shown(&item_ids, now).await?;
        }
        t.total_ms = ms(started);
        Ok(Recommendation {
            items: picks,
            intent,
            context: ctx,
            mode: req.mode,
            conversation_id,
            follow_up,
            understood_by: understood_by.to_string(),
            explained_by,
            notices,
            timings_ms: t,
        })
    }

    /// Loads the reasoning model and reads the fixed part of the explaining
    /// prompt into its cache, so the first answer's first reason pays for
    /// neither. Hosts call it in the background when they start; answers
    /// meanwhile wait for the model lock, never for a wrong result.
    pub async fn warm_up(&self) -> Result<()> {
        let g = self.generator().await?;
        let ctx = Context::new(
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
                .and_then(|d| d.and_hms_opt(12, 0, 0))
                .expect("a valid date"),
            self.settings().hemisphere,
        );
        let placeholder = Candidate {
            id: 0,
            kind: "music".into(),
            title: String::new(),
            creator: None,
            year: None,
            genres: Vec::new(),
            about: String::new(),
        };
        let mut request = reason::explain_request("", &ctx, &[placeholder]);
        // Read the prompt, write nothing.
        request.max_tokens = 0;
        tokio::task::spawn_blocking(move || g.generate(request, &Cancel::default(), |_| {}))
            .await
            .map_err(Error::internal)??;
        Ok(())
    }

    /// Records feedback on an item, with the request it answered when
    /// known (a dislike then applies to similar requests only).
    pub async fn feedback(
        &self,
        item_id: i64,
        verdict: Verdict,
        request: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let request_vector = match request.filter(|r| !r.trim().is_empty()) {
            Some(r) => Some(self.embed_one(intent::positive_text(r)).await?),
            None => None,
        };
        self.catalog()
            .add_feedback(&moodshelf_catalog::Feedback {
                item_id,
                verdict,
                request: request.map(str::to_string),
                request_vector,
                created_at: now,
            })
            .await?;
        Ok(())
    }

    /// The request an item was last recommended for, from the stored
    /// conversations (for feedback given later by path).
    pub async fn last_request_for(&self, item_id: i64) -> Result<Option<String>> {
        for c in self.catalog().conversations(20).await? {
            let msgs = self.catalog().messages(c.id).await?;
            for (i, m) in msgs.iter().enumerate().rev() {
                if m.role == "assistant" && m.items.contains(&item_id) && i > 0 {
                    return Ok(Some(msgs[i - 1].text.clone()));
                }
            }
        }
        Ok(None)
    }

    async fn last_answer(&self, conversation: i64) -> Result<Option<Prev>> {
        if self.catalog().conversation(conversation).await?.is_none() {
            return Err(Error::new(
                Code::InvalidInput,
                format!("there is no conversation {conversation}"),
            ));
        }
        let msgs = self.catalog().messages(conversation).await?;
        let Some(last) = msgs.iter().rev().find(|m| m.role == "assistant") else {
            return Ok(None);
        };
        let intent: Intent = last
            .intent
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        let views = self.catalog().items_by_ids(&last.items).await?;
        let by_id: HashMap<i64, ItemView> = views.into_iter().map(|v| (v.id, v)).collect();
        let items = last
            .items
            .iter()
            .filter_map(|id| by_id.get(id).cloned())
            .collect();
        Ok(Some(Prev { intent, items }))
    }

    /// "I can't stand country music" and "I love jazz" are kept as
    /// preferences for every later request.
    async fn learn_preferences(&self, text: &str, now: i64, remember: bool) -> Result<()> {
        if !remember {
            return Ok(());
        }
        for (polarity, term) in stated_preferences(text) {
            self.catalog()
                .add_preference(polarity, &term, text, now)
                .await?;
        }
        Ok(())
    }
}

fn stated_preferences(text: &str) -> Vec<(&'static str, String)> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\bi\s+(really\s+)?(hate|dislike|can't stand|cannot stand|don't like|do not like|love|adore|really like)\s+([a-z][a-z' -]{2,30}?)(?:\s+(?:music|movies|films|books|novels|songs|stuff))?(?:[,.;!]|\s+but\b|\s+so\b|\s+and\b|$)").unwrap()
    });
    RE.captures_iter(text)
        .filter_map(|c| {
            let verb = c[2].to_lowercase();
            let term = c[3].trim().to_lowercase();
            let first = term.split_whitespace().next().unwrap_or("");
            if term.split_whitespace().count() > 3
                || [
                    "it", "this", "that", "them", "to", "when", "how", "you", "my", "your", "the",
                    "a", "an",
                ]
                .contains(&first)
            {
                return None;
            }
            let polarity = if ["love", "adore", "really like"].contains(&verb.as_str()) {
                "prefer"
            } else {
                "avoid"
            };
            Some((polarity, term))
        })
        .collect()
}

/// Follow-up directions that depend on the previous answer's items.
fn apply_directions(intent: &mut Intent, prev: &[ItemView]) {
    let median = |mut xs: Vec<f64>| -> Option<f64> {
        if xs.is_empty() {
            return None;
        }
        xs.sort_by(f64::total_cmp);
        Some(xs[xs.len() / 2])
    };
    let durations: Vec<f64> = prev.iter().filter_map(|v| v.duration_secs).collect();
    let years: Vec<f64> = prev.iter().filter_map(|v| v.year.map(f64::from)).collect();
    for r in intent.refine.clone() {
        match r.as_str() {
            "shorter" => {
                if let Some(m) = median(durations.clone()) {
                    let cap = ((m * 0.85) / 60.0).floor().max(1.0) as u32;
                    intent.max_minutes = Some(intent.max_minutes.map_or(cap, |x| x.min(cap)));
                    intent.min_minutes = None;
                }
            }
            "longer" => {
                if let Some(m) = median(durations.clone()) {
                    intent.min_minutes = Some(((m * 1.15) / 60.0).ceil() as u32);
                    intent.max_minutes = None;
                }
            }
            "newer" => {
                if let Some(m) = median(years.clone()) {
                    intent.year_from = Some(m as i32 + 1);
                    intent.year_to = None;
                }
            }
            "older" => {
                if let Some(m) = median(years.clone()) {
                    intent.year_to = Some(m as i32 - 1);
                    intent.year_from = None;
                }
            }
            _ => {}
        }
    }
}

struct FeedbackView {
    /// Items never shown for this request: "not now" lately, or disliked
    /// for a similar request (or with no request at all).
    hidden: HashSet<i64>,
    liked: Vec<i64>,
    /// Disliked for other requests: ranked down, and so are their
    /// neighbours a little.
    disliked_soft: Vec<i64>,
}

impl FeedbackView {
    fn new(feedback: &[moodshelf_catalog::Feedback], qvec: &[f32], now: i64) -> Self {
        let mut v = FeedbackView {
            hidden: HashSet::new(),
            liked: Vec::new(),
            disliked_soft: Vec::new(),
        };
        // Newest first: a later verdict on an item overrides older ones.
        let mut decided: HashSet<i64> = HashSet::new();
        for f in feedback {
            match f.verdict {
                Verdict::NotNow => {
                    if now - f.created_at < NOT_NOW_SECS && now >= f.created_at {
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
                            r.len() == qvec.len() && dot(r, qvec) >= DISLIKE_SIMILARITY
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

    fn score(
        &self,
        id: i64,
        vector: &[f32],
        liked: &HashMap<i64, Vec<f32>>,
        disliked: &HashMap<i64, Vec<f32>>,
    ) -> f32 {
        let mut s = 0.0;
        if self.liked.contains(&id) {
            s += 0.06;
        }
        if self.disliked_soft.contains(&id) {
            s -= 0.25;
        }
        let best = |m: &HashMap<i64, Vec<f32>>| {
            m.iter()
                .filter(|(k, _)| **k != id)
                .map(|(_, v)| dot(v, vector))
                .fold(0.0f32, f32::max)
        };
        s += 0.2 * (best(liked) - 0.5).max(0.0);
        s -= 0.2 * (best(disliked) - 0.7).max(0.0);
        s
    }
}

struct Scored {
    view: ItemView,
    card: String,
    score: f32,
    vector: Option<Vec<f32>>,
}

/// The item's text as the ranker reads it, lowercase.
fn card_of(v: &ItemView) -> String {
    let mut s = v.description.clone().unwrap_or_default();
    s.push(' ');
    s.push_str(&v.title);
    s.push(' ');
    s.push_str(&v.genres.join(" "));
    s.to_lowercase()
}

/// Hard constraints the index cannot express: exclusions and audience.
fn violates(intent: &Intent, card: &str, v: &ItemView) -> bool {
    for term in &intent.exclude {
        if lexicon::exclusion_fragments(term)
            .iter()
            .any(|f| card.contains(f.as_str()))
        {
            return true;
        }
    }
    if intent.audience.as_deref() == Some("kids") {
        let cert = serde_json::from_str::<serde_json::Value>(&v.meta)
            .ok()
            .and_then(|m| {
                m["certification"]
                    .as_str()
                    .map(|c| c.trim().to_ascii_uppercase())
            });
        if let Some(c) = cert {
            let c = c.strip_prefix("RATED ").unwrap_or(&c).to_string();
            if lexicon::ADULT_RATINGS.contains(&c.as_str()) {
                return true;
            }
        }
    }
    false
}

/// Soft preferences: moods, occasion, season and time, energy, audience.
fn soft_score(intent: &Intent, ctx: &Context, card: &str) -> f32 {
    let has = |w: &str| card.contains(&lexicon::stem(w));
    let mut s = 0.0;
    s += 0.05 * intent.moods.iter().filter(|m| has(m)).count().min(3) as f32;
    if intent.occasion.as_deref().is_some_and(has) {
        s += 0.05;
    }
    match &intent.season {
        Some(season) => {
            if has(season) {
                s += 0.05;
            }
        }
        None => {
            // The current season, time and holidays: lightly when the
            // request says much, more when it says little ("something
            // for tonight").
            let vague =
                intent.moods.is_empty() && intent.kinds.is_empty() && intent.keywords.len() <= 1;
            let w = if vague { 2.5 } else { 1.0 };
            if has(ctx.season.as_str()) {
                s += 0.02 * w;
            }
            if has(ctx.day_part.as_str()) {
                s += 0.015 * w;
            }
            if ctx.holidays.iter().any(|h| has(h)) {
                s += 0.02 * w;
            }
            // Out of season: Christmas in July, the beach in January.
            let other_seasons = ["winter", "summer", "christmas", "halloween"]
                .into_iter()
                .filter(|o| *o != ctx.season.as_str() && !ctx.holidays.iter().any(|h| h == o))
                .filter(|o| has(o))
                .count();
            s -= 0.015 * w * other_seasons.min(2) as f32;
        }
    }
    s -= 0.1
        * intent
            .avoid
            .iter()
            .filter(|a| {
                lexicon::exclusion_fragments(a)
                    .iter()
                    .any(|f| card.contains(f.as_str()))
            })
            .count()
            .min(2) as f32;
    let high = lexicon::HIGH_ENERGY
        .iter()
        .filter(|w| card.contains(*w))
        .count();
    let low = lexicon::LOW_ENERGY
        .iter()
        .filter(|w| card.contains(*w))
        .count();
    match intent.energy.as_deref() {
        Some("low") => s += 0.02 * low.min(2) as f32 - 0.03 * high.min(2) as f32,
        Some("high") => s += 0.02 * high.min(2) as f32 - 0.03 * low.min(2) as f32,
        _ => {}
    }
    if intent.audience.as_deref() == Some("kids")
        && (card.contains("family") || card.contains("kids"))
    {
        s += 0.04;
    }
    s
}

/// Greedy selection that trades a little score for variety: no more than
/// two picks by one creator or from one album (unless the request names
/// that creator), and near-duplicates pushed down.
fn diversify(mut scored: Vec<Scored>, limit: usize, intent: &Intent) -> Vec<Scored> {
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    let named: Vec<String> = intent.like.iter().map(|l| l.to_lowercase()).collect();
    let mut chosen: Vec<Scored> = Vec::new();
    let mut per_creator: HashMap<String, usize> = HashMap::new();
    let mut per_album: HashMap<String, usize> = HashMap::new();
    while chosen.len() < limit && !scored.is_empty() {
        let mut best: Option<(usize, f32)> = None;
        for (i, s) in scored.iter().enumerate().take(200) {
            let creator = s.view.creator.clone().unwrap_or_default().to_lowercase();
            let asked = named
                .iter()
                .any(|n| !creator.is_empty() && creator.contains(n.as_str()));
            if !creator.is_empty() && !asked && per_creator.get(&creator).copied().unwrap_or(0) >= 2
            {
                continue;
            }
            if let Some(a) = &s.view.album
                && per_album.get(&a.to_lowercase()).copied().unwrap_or(0) >= 2
                && !asked
            {
                continue;
            }
            let redundancy = match &s.vector {
                Some(v) => chosen
                    .iter()
                    .filter_map(|c| c.vector.as_ref().map(|cv| dot(cv, v)))
                    .fold(0.0f32, f32::max),
                None => 0.0,
            };
            let value = s.score - 0.15 * (redundancy - 0.6).max(0.0) / 0.4;
            if best.is_none_or(|(_, b)| value > b) {
                best = Some((i, value));
            }
        }
        let Some((i, _)) = best else { break };
        let s = scored.remove(i);
        if let Some(c) = &s.view.creator {
            *per_creator.entry(c.to_lowercase()).or_default() += 1;
        }
        if let Some(a) = &s.view.album {
            *per_album.entry(a.to_lowercase()).or_default() += 1;
        }
        chosen.push(s);
    }
    chosen
}

fn answer_item(v: ItemView, score: f32) -> AnswerItem {
    AnswerItem {
        path: v.path,
        kind: v.kind,
        title: v.title,
        creator: v.creator,
        year: v.year,
        duration_secs: v.duration_secs,
        score,
        id: v.id,
        album: v.album,
        genres: v.genres,
        cover: v.cover,
    }
}

/// A short description of a pick for the explaining model.
fn about(item: &AnswerItem) -> String {
    let mut s = String::new();
    if let Some(a) = &item.album {
        s.push_str(&format!("album {a}. "));
    }
    if let Some(d) = item.duration_secs {
        s.push_str(&format!("{} min. ", (d / 60.0).round()));
    }
    s
}

/// The text embedded for a request: its positive words plus what the
/// reading added (moods, occasion, season).
fn embed_text(query: &str, intent: &Intent) -> String {
    let mut s = query.to_string();
    let extra: Vec<&str> = intent
        .moods
        .iter()
        .map(String::as_str)
        .chain(intent.occasion.as_deref())
        .chain(intent.season.as_deref())
        .filter(|w| !query.contains(*w))
        .collect();
    if !extra.is_empty() {
        s.push_str(". ");
        s.push_str(&extra.join(", "));
    }
    s
}

/// Words for the full-text leg: content words and descriptors, never the
/// excluded ones.
fn fts_text(intent: &Intent) -> String {
    let mut words: Vec<&str> = intent
        .keywords
        .iter()
        .map(String::as_str)
        .chain(intent.moods.iter().map(String::as_str))
        .chain(intent.occasion.as_deref())
        .chain(intent.like.iter().map(String::as_str))
        .collect();
    words
        .retain(|w| !intent.exclude.iter().any(|e| e == w) && !intent.avoid.iter().any(|a| a == w));
    words.join(" ")
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalize(v: &[f32]) -> Vec<f32> {
    let n = dot(v, v).sqrt();
    if n == 0.0 {
        v.to_vec()
    } else {
        v.iter().map(|x| x / n).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stated_preferences_are_recognised() {
        assert_eq!(
            stated_preferences("I can't stand country music, give me something calm"),
            vec![("avoid", "country".to_string())]
        );
        assert_eq!(
            stated_preferences("I love jazz."),
            vec![("prefer", "jazz".to_string())]
        );
        assert!(stated_preferences("something I love to hear").is_empty());
    }

    #[test]
    fn follow_up_directions_use_the_previous_answer() {
        let view = |d: f64, y: i32| ItemView {
            id: 1,
            path: String::new(),
            kind: "video".into(),
            title: String::new(),
            creator: None,
            album: None,
            year: Some(y),
            duration_secs: Some(d),
            genres: vec![],
            cover: None,
            meta: "{}".into(),
            description: None,
            available: true,
        };
        let prev = vec![view(6000.0, 1990), view(7200.0, 2000), view(8000.0, 2010)];
        let mut i = Intent {
            refine: vec!["shorter".into()],
            ..Intent::default()
        };
        apply_directions(&mut i, &prev);
        assert_eq!(i.max_minutes, Some(102));
        let mut i = Intent {
            refine: vec!["newer".into()],
            ..Intent::default()
        };
        apply_directions(&mut i, &prev);
        assert_eq!(i.year_from, Some(2001));
    }
}
