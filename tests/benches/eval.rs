//! Development evaluation of the recommender:
//! `cargo bench --workspace --bench eval`.
//!
//! Two libraries are generated from `../shared/datasets` (never the
//! held-out yardstick), each shaped like a real one (687 tracks, 2,243
//! books, 1,900 films by default) and holding the same works:
//!
//! - the **full** library, whose files carry genres, tags, subjects and
//!   plots (`.nfo` sidecars, OPF subjects, BPM): labels from the public data
//!   are partly written into the files, so it measures matching as much as
//!   understanding;
//! - the **thin** library (`moodshelf_libgen::generate_thin`): bare
//!   `Title (Year).mkv` films, EPUBs with a title and an author, tracks
//!   with a title, an artist and an album. Its labels (MovieLens tags and
//!   genres, IMDb genres and plots, Gutenberg subjects, Spotify audio
//!   features) are nowhere in its files.
//!
//! The development set in `tests/eval/dev.toml` is answered on each by
//! plain embedding search, the fast path (no reasoning model at ask time)
//! without item understanding, and the fast path with it (after
//! `Library::enrich` has read every item with the reasoning model). The
//! library as scanned is the one without understanding; a copy of its data
//! dir is enriched (`<library>/understood`), so both are the same scan and
//! both are kept between runs (enrich is resumable and keyed by the model,
//! so a second run reads nothing again). On the full library the fast path
//! plus the model at ask time is run too, as before.
//!
//! One table per library and half (`tune` is what weights were fitted on,
//! `check` is what to believe): per kind nDCG@10 and precision@10 against
//! labels from the public data, all requests, the compositional requests
//! alone (two needs and an exclusion), picks that are what the request
//! excluded (by the source record), picks that break a hard constraint,
//! picks not in the library, picks chosen for a time word in their title,
//! the seasonal shift of vague requests (December against July), follow-up
//! checks, and latency.
//!
//! `cargo bench --workspace --bench eval -- fit` fits the ranking
//! weights on the tuning half of the full library instead and writes
//! `crates/core/data/weights.toml` (run the evaluation again to
//! see both halves with them).
//!
//! `cargo bench --workspace --bench eval -- taste` runs the taste
//! evaluation instead (MovieLens users' earlier ratings written into the
//! library's `.nfo`s, picks judged by their later ratings; see
//! `eval/taste.rs`).
//!
//! `cargo bench --workspace --bench eval -- knowledge` runs the knowledge
//! check instead: a small library of works that exist nowhere (invented
//! titles and creators) mixed with real thin works is understood by the
//! model, and the bench reports the invention rate (invented works about
//! which the understanding claims anything) and, for the real works, the
//! agreement of the understood genres and themes with the public labels
//! (for tracks, of the understood energy with Spotify's).
//!
//! Environment:
//!
//! - `EVAL_SIZE=N` scales both libraries (N items in the same proportions);
//!   `EVAL_THIN_SIZE=N` the thin one alone (a smaller thin library is
//!   understood in less time; its table then compares with a full library
//!   of another size); `EVAL_LIBRARY=full|thin` runs one library;
//! - `EVAL_MODEL=path.gguf` picks the reasoning model;
//!   `EVAL_UNDERSTAND_MODEL=path.gguf` the model that writes understanding
//!   (default: the reasoning model); `EVAL_SKIP_UNDERSTANDING=1` leaves the
//!   rows with understanding out (`=full` only on the full library, whose
//!   understanding takes as long as the thin one's);
//! - `EVAL_SKIP_MODEL=1` leaves the ask-time model out;
//!   `EVAL_MODEL_EVERY=N` runs it on every Nth request only (it costs
//!   seconds a request on two cores);
//! - `EVAL_HALF=tune|check` runs one half; `EVAL_KNOWLEDGE_SIZE=N` sets the
//!   knowledge check's invented and real works of each kind (default 20),
//!   `EVAL_KNOWLEDGE_SEED=N` draws other works than the default seed's
//!   (on which `work::familiar` was set);
//!   `EVAL_VERBOSE=1` prints every request (and every work the knowledge
//!   check reads);
//! - `EVAL_DIR` keeps the generated libraries and their data dirs between
//!   runs (default `~/.cache/moodshelf/eval`), so a second run only
//!   rescans, and reads with the model only what it has not read.

#[path = "eval/taste.rs"]
mod taste;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use moodshelf_engine::enrich::EnrichOptions;
use moodshelf_engine::recommend::Mode;
use moodshelf_engine::recommend::rank::{self, Scored, Weights};
use moodshelf_engine::{
    Hemisphere, Library, Paths, Progress, RecEvent, RecommendRequest, Recommendation, ScanOptions,
};
use moodshelf_libgen::knowledge::{Knowledge, KnowledgeSpec};
use moodshelf_libgen::{GenItem, Generated, Spec};
use moodshelf_llm::Cancel;
use moodshelf_tests::eval::knowledge::{self, Understood};
use moodshelf_tests::eval::{self, DevSet, Half};
use moodshelf_tests::{NOW, moment};

/// Picks judged per request.
const K: usize = 10;
/// Picks asked for, so that a condensed list (unjudged books dropped)
/// still has ten judged picks.
const ASK: usize = 30;

fn verbose() -> bool {
    std::env::var_os("EVAL_VERBOSE").is_some()
}

#[derive(Default)]
struct Tally {
    ndcg: Vec<f64>,
    precision: Vec<f64>,
}

impl Tally {
    fn add(&mut self, ndcg: f64, p: f64) {
        self.ndcg.push(ndcg);
        self.precision.push(p);
    }
    fn mean(v: &[f64]) -> f64 {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    }
    fn show(&self) -> String {
        if self.ndcg.is_empty() {
            return "–".into();
        }
        format!(
            "{:.3} / {:.2}",
            Tally::mean(&self.ndcg),
            Tally::mean(&self.precision)
        )
    }
}

#[derive(Default)]
struct Report {
    per_kind: HashMap<String, Tally>,
    all: Tally,
    /// The compositional requests alone (two needs and an exclusion).
    compositional: Tally,
    /// Their first K picks, and of those the ones the request excluded
    /// (judged by the source record).
    compositional_picks: usize,
    excluded: usize,
    picks: usize,
    violations: usize,
    foreign: usize,
    title_matched: usize,
    shift: Vec<f64>,
    chain_checks: usize,
    chain_passed: usize,
    latency: Vec<f64>,
    first_reason: Vec<f64>,
    /// Model reasons shown, and those claiming what the item's source
    /// record does not support.
    reasons_shown: usize,
    reasons_unsupported: usize,
    reasons_refused: usize,
    /// Requests asked (follow-up steps and moments included).
    requests: usize,
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    s[(((s.len() - 1) as f64) * p).round() as usize]
}

/// Whether a request stands alone or is a step of a conversation (its
/// first step has no conversation yet; every step is remembered so the
/// next can refine it).
#[derive(Clone, Copy)]
enum Thread {
    Alone,
    Step(Option<i64>),
}

struct Eval<'a> {
    lib: &'a Library,
    items: HashMap<String, &'a GenItem>,
    all: &'a [GenItem],
    dev: &'a DevSet,
    /// The model configuration runs on every this-many-th request.
    model_every: usize,
}

impl Eval<'_> {
    async fn ask(
        &self,
        text: &str,
        now: &str,
        south: bool,
        mode: Mode,
        thread: Thread,
        report: &mut Report,
    ) -> Recommendation {
        let mut req = RecommendRequest::new(text, moment(now));
        req.mode = mode;
        req.limit = ASK;
        if let Thread::Step(conversation) = thread {
            req.remember = true;
            req.conversation = conversation;
        } else {
            req.remember = false;
        }
        if south {
            req.hemisphere = Some(Hemisphere::South);
        }
        let started = Instant::now();
        let mut whys: Vec<(i64, String)> = Vec::new();
        let answer = self
            .lib
            .recommend(&req, &Cancel::default(), &mut |e| {
                if let RecEvent::Why { id, why } = e {
                    whys.push((id, why));
                }
            })
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        report.latency.push(started.elapsed().as_secs_f64() * 1e3);
        report.requests += 1;
        if let Some(f) = answer.timings_ms.explain_first_token_ms {
            report.first_reason.push(f);
        }
        report.reasons_refused += answer.refused_reasons.len();
        for (id, why) in &whys {
            let Some(item) = answer
                .items
                .iter()
                .find(|p| p.item.id == *id)
                .and_then(|p| self.items.get(&p.item.path))
            else {
                continue;
            };
            report.reasons_shown += 1;
            let unsupported = eval::unsupported_claims(why, item, &answer.moment_needs);
            if !unsupported.is_empty() {
                report.reasons_unsupported += 1;
                if verbose() {
                    println!(
                        "      unsupported {unsupported:?} in {why:?} for {}",
                        item.title
                    );
                }
            }
        }
        answer
    }

    fn picked<'b>(&'b self, answer: &Recommendation, report: &mut Report) -> Vec<&'b GenItem> {
        let mut out = Vec::new();
        for p in &answer.items {
            match self.items.get(&p.item.path) {
                Some(i) => out.push(*i),
                None => {
                    if out.len() < K {
                        report.foreign += 1;
                    }
                }
            }
        }
        out
    }

    /// Answers the half's requests in `mode`; with `sample`, only the
    /// model configuration's sample of them (see `model_every`).
    /// Answers the half's requests in `mode`; with `sample`, only the
    /// model configuration's sample of them (see `model_every`).
    async fn run(&self, mode: Mode, half: Half, sample: bool) -> Report {
        let mut r = Report::default();
        self.run_cases(mode, half, sample, &mut r).await;
        self.run_moments(mode, half, sample, &mut r).await;
        self.run_probes(mode, half, sample, &mut r).await;
        self.run_chains(mode, half, &mut r).await;
        r
    }

    fn sampled(&self, sample: bool, i: usize) -> bool {
        !sample || i.is_multiple_of(self.model_every)
    }

    /// The needs: relevance, constraints, exclusions.
    async fn run_cases(&self, mode: Mode, half: Half, sample: bool, r: &mut Report) {
        for (_, case) in self
            .dev
            .cases
            .iter()
            .enumerate()
            .filter(|(i, c)| c.half == half && self.sampled(sample, *i))
        {
            let answer = self
                .ask(&case.text, &case.now, case.south, mode, Thread::Alone, r)
                .await;
            let picks = self.picked(&answer, r);
            let judged: Vec<Option<bool>> = picks.iter().map(|i| case.label.judge(i)).collect();
            let total = self
                .all
                .iter()
                .filter(|i| case.label.judge(i) == Some(true))
                .count();
            let (ndcg, p) = eval::ndcg_and_precision(&judged, total, K);
            let kind = case.label.kind.clone().unwrap_or_else(|| "any".into());
            r.per_kind.entry(kind).or_default().add(ndcg, p);
            r.all.add(ndcg, p);
            if case.compositional {
                r.compositional.add(ndcg, p);
            }
            for i in picks.iter().take(K) {
                self.judge_pick(case, i, r);
            }
            if verbose() {
                println!(
                    "  {:<8} {:<24} nDCG {ndcg:.2} P {p:.1} ({total} relevant)  {}",
                    format!("{mode:?}"),
                    case.need,
                    case.text
                );
                for i in picks.iter().take(5) {
                    let mark = match case.label.judge(i) {
                        Some(true) => "+",
                        Some(false) if case.compositional && case.excluded(i) => "x",
                        Some(false) => "-",
                        None => "?",
                    };
                    println!("           {mark} {}", i.title);
                }
            }
        }
    }

    /// One of a need's first K picks: broken constraints, exclusions,
    /// title-word matches.
    fn judge_pick(&self, case: &eval::Case, i: &GenItem, r: &mut Report) {
        r.picks += 1;
        let named_kind = case
            .label
            .kind
            .as_deref()
            .filter(|k| eval::names_kind(&case.text, k));
        if case.constraints.broken_by(named_kind, i) {
            r.violations += 1;
            if verbose() {
                println!(
                    "      violation: {} ({:?}, {:?} min) {:?}",
                    i.title,
                    i.year,
                    i.duration_secs.map(|d| (d / 60.0).round()),
                    i.genres
                );
            }
        }
        if case.compositional {
            r.compositional_picks += 1;
            if case.excluded(i) {
                r.excluded += 1;
            }
        }
        if eval::title_matched(&case.text, i) {
            r.title_matched += 1;
        }
    }

    /// The moment: the same vague request in December, July, and December
    /// in the south. The shift is how much more of the answer belongs to
    /// the season at hand: (winter share in December minus in July +
    /// summer share in July minus in December) / 2, and likewise for the
    /// south's December summer.
    async fn run_moments(&self, mode: Mode, half: Half, sample: bool, r: &mut Report) {
        for (_, m) in self
            .dev
            .moments
            .iter()
            .enumerate()
            .filter(|(i, m)| m.half == half && self.sampled(sample, *i))
        {
            let mut got = Vec::new();
            for (now, south) in [
                (eval::DECEMBER, false),
                (eval::JULY, false),
                (eval::DECEMBER, true),
            ] {
                let a = self.ask(&m.text, now, south, mode, Thread::Alone, r).await;
                let picks = self.picked(&a, r);
                for i in picks.iter().take(K) {
                    r.picks += 1;
                    if m.kind
                        .as_deref()
                        .filter(|k| eval::names_kind(&m.text, k))
                        .is_some_and(|k| i.kind != k)
                    {
                        r.violations += 1;
                    }
                    if eval::title_matched(&m.text, i) {
                        r.title_matched += 1;
                    }
                }
                got.push(self.season_shares(&picks));
            }
            let (dec, jul, south) = (got[0], got[1], got[2]);
            let shift = ((dec.0 - jul.0) + (jul.1 - dec.1) + (south.1 - dec.1)) / 3.0;
            r.shift.push(shift);
            if verbose() {
                println!(
                    "  {:<8} {:<24} winter share Dec {:.1} Jul {:.1}; summer share Jul {:.1} Dec {:.1} south Dec {:.1}  {}",
                    format!("{mode:?}"),
                    m.id,
                    dec.0,
                    jul.0,
                    jul.1,
                    dec.1,
                    south.1,
                    m.text
                );
            }
        }
    }

    /// The shares of the first K picks whose source record (or title) says
    /// winter, and summer.
    fn season_shares(&self, picks: &[&GenItem]) -> (f64, f64) {
        let seasons = &self.dev.seasons;
        let share = |labels: &[String]| {
            let n = picks.len().clamp(1, K) as f64;
            picks
                .iter()
                .take(K)
                .filter(|i| {
                    i.truth
                        .iter()
                        .chain(std::iter::once(&i.title))
                        .any(|t| labels.iter().any(|l| eval::label_has(t, l)))
                })
                .count() as f64
                / n
        };
        (share(&seasons.winter), share(&seasons.summer))
    }

    /// Occasion and time words: only the title-word check.
    async fn run_probes(&self, mode: Mode, half: Half, sample: bool, r: &mut Report) {
        for (_, (_, text)) in self
            .dev
            .probes
            .iter()
            .enumerate()
            .filter(|(i, (h, _))| *h == half && self.sampled(sample, *i))
        {
            let a = self
                .ask(text, eval::DEFAULT_NOW, false, mode, Thread::Alone, r)
                .await;
            let picks = self.picked(&a, r);
            for i in picks.iter().take(K) {
                r.picks += 1;
                if eval::title_matched(text, i) {
                    r.title_matched += 1;
                    if verbose() {
                        println!("      title-matched for {text:?}: {}", i.title);
                    }
                }
            }
        }
    }

    /// Follow-up chains: each step refines the one before.
    async fn run_chains(&self, mode: Mode, half: Half, r: &mut Report) {
        for chain in self.dev.chains.iter().filter(|c| c.half == half) {
            let mut conversation = None;
            let mut previous: Vec<&GenItem> = Vec::new();
            let mut excluded: Vec<String> = Vec::new();
            for step in &chain.steps {
                // Plain search keeps no conversation: each step stands alone.
                let thread = if mode == Mode::Search {
                    Thread::Alone
                } else {
                    Thread::Step(conversation)
                };
                let a = self
                    .ask(&step.text, eval::DEFAULT_NOW, false, mode, thread, r)
                    .await;
                conversation = a.conversation_id.or(conversation);
                let picks = self.picked(&a, r);
                for e in &step.expect {
                    r.chain_checks += 1;
                    if expectation_holds(e, &picks, &previous, &mut excluded) {
                        r.chain_passed += 1;
                    } else if verbose() {
                        println!("      follow-up {:?}: {e} failed", step.text);
                    }
                }
                previous = picks.into_iter().take(K).collect();
            }
        }
    }
}

/// One request's candidates for fitting, judged.
struct FitCase {
    vagueness: f32,
    named: Vec<String>,
    mix_kinds: bool,
    candidates: Vec<Scored>,
    /// Per candidate: relevant, irrelevant, or unjudged.
    judged: Vec<Option<bool>>,
    total_relevant: usize,
}

impl FitCase {
    fn choice(&self, limit: usize) -> rank::Choice<'_> {
        rank::Choice {
            vagueness: self.vagueness,
            limit,
            named: &self.named,
            varied: true,
            mix_kinds: self.mix_kinds,
        }
    }
}

/// A vague request at three moments, for the seasonal shift.
struct FitMoment {
    /// December north, July north, December south: candidates and, per
    /// candidate, (winter label, summer label).
    at: Vec<(FitCase, Vec<(bool, bool)>)>,
}

/// The weights the fit adjusts, by name.
fn params(w: &mut Weights) -> Vec<(&'static str, &mut f32)> {
    vec![
        ("similarity", &mut w.similarity),
        ("text", &mut w.text),
        ("named", &mut w.named),
        ("need_evidence", &mut w.need_evidence),
        ("need_zero_shot", &mut w.need_zero_shot),
        ("need_model", &mut w.need_model),
        ("moment_vague", &mut w.moment_vague),
        ("moment_specific", &mut w.moment_specific),
        ("off_season", &mut w.off_season),
        ("quality_specific", &mut w.quality_specific),
        ("avoid", &mut w.avoid),
        ("redundancy", &mut w.redundancy),
    ]
}

fn ranked_ndcg(c: &FitCase, w: &Weights) -> f64 {
    let chosen = rank::choose(c.candidates.clone(), w, c.choice(ASK));
    let judged: Vec<Option<bool>> = chosen
        .iter()
        .map(|s| {
            let i = c
                .candidates
                .iter()
                .position(|x| x.item.id == s.item.id)
                .expect("a chosen candidate");
            c.judged[i]
        })
        .collect();
    eval::ndcg_and_precision(&judged, c.total_relevant, K).0
}

fn seasonal_shift(m: &FitMoment, w: &Weights) -> f64 {
    let shares: Vec<(f64, f64)> =
        m.at.iter()
            .map(|(c, labels)| {
                let chosen = rank::choose(c.candidates.clone(), w, c.choice(K));
                let n = chosen.len().max(1) as f64;
                let (mut wi, mut su) = (0.0, 0.0);
                for s in &chosen {
                    let i = c
                        .candidates
                        .iter()
                        .position(|x| x.item.id == s.item.id)
                        .expect("a chosen candidate");
                    wi += f64::from(u8::from(labels[i].0));
                    su += f64::from(u8::from(labels[i].1));
                }
                (wi / n, su / n)
            })
            .collect();
    ((shares[0].0 - shares[1].0) + (shares[1].1 - shares[0].1) + (shares[2].1 - shares[0].1)) / 3.0
}

/// The fit's objective: mean nDCG@10 over the tuning needs, plus half the
/// seasonal shift of the tuning moments up to 0.5 (a shift beyond that
/// earns nothing: an answer made only of Christmas films is not better).
fn objective(cases: &[FitCase], moments: &[FitMoment], w: &Weights) -> f64 {
    // Spread over the cores: the fit evaluates this thousands of times.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = cases.len().div_ceil(threads).max(1);
    let ndcg = std::thread::scope(|scope| {
        cases
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|c| ranked_ndcg(c, w)).sum::<f64>()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("a fit thread"))
            .sum::<f64>()
    }) / cases.len().max(1) as f64;
    let shift = moments
        .iter()
        .map(|m| seasonal_shift(m, w).min(0.5))
        .sum::<f64>()
        / moments.len().max(1) as f64;
    ndcg + 0.5 * shift
}

impl Eval<'_> {
    async fn fit_case(
        &self,
        text: &str,
        now: &str,
        south: bool,
        w: &Weights,
    ) -> (FitCase, Vec<&GenItem>) {
        let mut req = RecommendRequest::new(text, moment(now));
        req.mode = Mode::Rules;
        req.limit = ASK;
        req.weights = Some(*w);
        if south {
            req.hemisphere = Some(Hemisphere::South);
        }
        let pool = self
            .lib
            .candidates(&req)
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let items: Vec<&GenItem> = pool
            .candidates
            .iter()
            .map(|c| *self.items.get(&c.item.path).expect("a library item"))
            .collect();
        (
            FitCase {
                vagueness: pool.intent.vagueness,
                named: pool.intent.like.clone(),
                mix_kinds: pool.intent.kinds.is_empty(),
                candidates: pool.candidates,
                judged: Vec::new(),
                total_relevant: 0,
            },
            items,
        )
    }

    /// Coordinate ascent on the tuning half (Metzler and Croft's method
    /// for linear ranking functions): one weight at a time, the best of a
    /// few steps, until a whole sweep improves nothing. Candidate pools
    /// are made with the weights at hand and made again once after the
    /// first fit, since the descriptor leg depends on them.
    async fn fit(&self, start: Weights) -> Weights {
        let mut w = start;
        for round in 0..2 {
            let mut cases = Vec::new();
            for c in self.dev.cases.iter().filter(|c| c.half == Half::Tune) {
                let (mut f, items) = self.fit_case(&c.text, &c.now, c.south, &w).await;
                f.judged = items.iter().map(|i| c.label.judge(i)).collect();
                f.total_relevant = self
                    .all
                    .iter()
                    .filter(|i| c.label.judge(i) == Some(true))
                    .count();
                cases.push(f);
            }
            let mut moments = Vec::new();
            let seasons = &self.dev.seasons;
            for m in self.dev.moments.iter().filter(|m| m.half == Half::Tune) {
                let mut at = Vec::new();
                for (now, south) in [
                    (eval::DECEMBER, false),
                    (eval::JULY, false),
                    (eval::DECEMBER, true),
                ] {
                    let (f, items) = self.fit_case(&m.text, now, south, &w).await;
                    let labels = items
                        .iter()
                        .map(|i| {
                            let has = |l: &[String]| {
                                i.truth
                                    .iter()
                                    .chain(std::iter::once(&i.title))
                                    .any(|t| l.iter().any(|x| eval::label_has(t, x)))
                            };
                            (has(&seasons.winter), has(&seasons.summer))
                        })
                        .collect();
                    at.push((f, labels));
                }
                moments.push(FitMoment { at });
            }
            let mut best = objective(&cases, &moments, &w);
            println!(
                "fit round {round}: start {best:.4} ({} needs, {} moments)",
                cases.len(),
                moments.len()
            );
            for sweep in 0..8 {
                let mut improved = false;
                let names: Vec<&'static str> =
                    params(&mut w.clone()).iter().map(|(n, _)| *n).collect();
                for (k, name) in names.iter().enumerate() {
                    let current = *params(&mut w.clone())[k].1;
                    let mut tries = vec![
                        0.0,
                        current * 0.5,
                        current * 0.8,
                        current * 1.25,
                        current * 2.0,
                        current + 0.05,
                        (current - 0.05).max(0.0),
                        current + 0.2,
                    ];
                    tries.retain(|t| (*t - current).abs() > 1e-6 && *t >= 0.0);
                    for t in tries {
                        let mut cand = w;
                        *params(&mut cand)[k].1 = t;
                        let o = objective(&cases, &moments, &cand);
                        if o > best + 1e-4 {
                            best = o;
                            w = cand;
                            improved = true;
                            println!("  sweep {sweep}: {name} = {t:.3} -> {best:.4}");
                        }
                    }
                }
                if !improved {
                    break;
                }
            }
        }
        w
    }
}

fn write_weights(w: &Weights, note: &str) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/core/data/weights.toml");
    let old =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    // Only the fitted values change: the file's notes on every number stay.
    // Three decimals: the search's steps are coarser than that.
    let mut w = *w;
    let fitted: Vec<(&str, f32)> = params(&mut w)
        .into_iter()
        .map(|(name, v)| (name, (*v * 1000.0).round() / 1000.0))
        .collect();
    // The fitted weights are the top-level ones, before the first table.
    let mut top = true;
    let text: String = old
        .lines()
        .map(|line| {
            if line.starts_with("# Fitted ") {
                return format!("# {note}\n");
            }
            top &= !line.starts_with('[');
            let name = line.split(" = ").next().unwrap_or("");
            match fitted.iter().find(|(n, _)| top && *n == name) {
                Some((n, v)) => format!("{n} = {v}\n"),
                None => format!("{line}\n"),
            }
        })
        .collect();
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("wrote {}", path.display());
}

fn median(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

fn expectation_holds(
    e: &str,
    picks: &[&GenItem],
    previous: &[&GenItem],
    excluded: &mut Vec<String>,
) -> bool {
    let top: Vec<&GenItem> = picks.iter().take(K).copied().collect();
    if top.is_empty() {
        return false;
    }
    let prev_minutes = median(previous.iter().filter_map(|i| i.duration_secs));
    let prev_year = median(previous.iter().filter_map(|i| i.year.map(f64::from)));
    match e.split_once(':') {
        Some(("kind", k)) => top.iter().all(|i| i.kind == k),
        Some(("exclude", w)) => {
            excluded.push(w.to_string());
            top.iter().all(|i| {
                !i.genres
                    .iter()
                    .chain(&i.tags)
                    .any(|g| g.to_lowercase().contains(w))
            })
        }
        _ => match e {
            "shorter" => prev_minutes
                .is_some_and(|m| top.iter().all(|i| i.duration_secs.is_some_and(|d| d < m))),
            "longer" => prev_minutes
                .is_some_and(|m| top.iter().all(|i| i.duration_secs.is_some_and(|d| d > m))),
            "newer" => prev_year
                .is_some_and(|y| top.iter().all(|i| i.year.is_some_and(|x| f64::from(x) > y))),
            "older" => prev_year
                .is_some_and(|y| top.iter().all(|i| i.year.is_some_and(|x| f64::from(x) < y))),
            "different" => top
                .iter()
                .all(|i| !previous.iter().any(|p| p.path == i.path)),
            other => panic!("unknown expectation {other:?}"),
        },
    }
}

/// Which library: files that carry the labels, or bare ones.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    Full,
    Thin,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Full => "full",
            Shape::Thin => "thin",
        }
    }

    /// Where a library of `size` items is kept (the full library in the
    /// folder earlier runs used).
    fn dir(self, size: usize) -> PathBuf {
        eval_base().join(match self {
            Shape::Full => format!("lib-{size}"),
            Shape::Thin => format!("thin-{size}"),
        })
    }
}

/// What a run covers, from the environment (see the module's doc).
struct Config {
    size: usize,
    thin_size: usize,
    halves: Vec<Half>,
    shapes: Vec<Shape>,
    /// The reasoning model, and the one that writes understanding.
    model: Option<String>,
    understand_model: Option<String>,
    ask_model: bool,
    /// The libraries evaluated with understanding too.
    understand: Vec<Shape>,
    model_every: usize,
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

impl Config {
    fn from_env() -> Config {
        let size = env_usize("EVAL_SIZE").unwrap_or(4830);
        Config {
            size,
            thin_size: env_usize("EVAL_THIN_SIZE").unwrap_or(size),
            halves: match std::env::var("EVAL_HALF").as_deref() {
                Ok("tune") => vec![Half::Tune],
                Ok("check") => vec![Half::Check],
                _ => vec![Half::Tune, Half::Check],
            },
            shapes: match std::env::var("EVAL_LIBRARY").as_deref() {
                Ok("full") => vec![Shape::Full],
                Ok("thin") => vec![Shape::Thin],
                _ => vec![Shape::Full, Shape::Thin],
            },
            model: std::env::var("EVAL_MODEL").ok(),
            understand_model: std::env::var("EVAL_UNDERSTAND_MODEL").ok(),
            ask_model: std::env::var_os("EVAL_SKIP_MODEL").is_none(),
            understand: match std::env::var("EVAL_SKIP_UNDERSTANDING").as_deref() {
                Err(_) => vec![Shape::Full, Shape::Thin],
                Ok("full") => vec![Shape::Thin],
                Ok("thin") => vec![Shape::Full],
                Ok(_) => Vec::new(),
            },
            model_every: env_usize("EVAL_MODEL_EVERY").unwrap_or(1).max(1),
        }
    }

    fn size(&self, shape: Shape) -> usize {
        match shape {
            Shape::Full => self.size,
            Shape::Thin => self.thin_size,
        }
    }

    /// The model that writes understanding.
    fn understander(&self) -> Option<&str> {
        self.understand_model.as_deref().or(self.model.as_deref())
    }
}

/// `settings.toml` for a data dir whose reasoning model is `model`.
fn settings(model: Option<&str>) -> String {
    model
        .map(|m| format!("[models]\nreasoning = {m:?}\n"))
        .unwrap_or_default()
}

/// The shape of a real library: about 14% music, 46% books, 40% films.
fn spec(size: usize) -> Spec {
    Spec {
        music: size * 687 / 4830,
        books: size * 2243 / 4830,
        videos: size * 1900 / 4830,
    }
}

/// Writes the library's files under `<base>/library` (byte for byte the
/// same on every run, so a rescan reads nothing again).
fn write_library(shape: Shape, base: &Path, size: usize) -> Generated {
    let root = base.join("library");
    let datasets = moodshelf_libgen::datasets_dir();
    match shape {
        Shape::Full => moodshelf_libgen::generate(&datasets, &root, spec(size)),
        Shape::Thin => moodshelf_libgen::generate_thin(&datasets, &root, spec(size)),
    }
    .expect("generate library")
}

/// Opens the data dir `<base>/<name>` with `settings` as its settings.
async fn open_data(base: &Path, name: &str, settings: &str) -> Library {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).expect("data dir");
    let file = dir.join("settings.toml");
    if !settings.is_empty() {
        std::fs::write(&file, settings).expect("settings");
    } else if file.exists() {
        std::fs::remove_file(&file).expect("settings");
    }
    let paths = Paths {
        data_dir: dir,
        models_dir: moodshelf_tests::models_dir(),
    };
    Library::open(paths).await.expect("open library")
}

/// Adds `root` (once) and scans; what is unchanged is not read again.
async fn scan_root(lib: &Library, root: &Path) -> moodshelf_engine::ScanReport {
    lib.add_root(root, NOW).await.expect("add root");
    lib.scan(ScanOptions::new(NOW))
        .await
        .expect("scan succeeds")
}

/// Copies a folder and everything under it.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for e in entries.flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
        }
    }
}

/// The library with understanding: a copy of the scanned data dir
/// (`<base>/understood`, made once), brought up to date by a scan and
/// enriched by the understanding model. Enrichment is resumable and keyed
/// by the model, so a second run reads only what changed. `None` when no
/// reasoning model is available.
async fn understood(base: &Path, cfg: &Config) -> Option<Library> {
    let dir = base.join("understood");
    if !dir.join("catalog.sqlite").is_file() {
        let tmp = base.join("understood.tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        copy_dir(&base.join("data"), &tmp);
        std::fs::rename(&tmp, &dir).expect("understood data dir");
    }
    let lib = open_data(base, "understood", &settings(cfg.understander())).await;
    lib.scan(ScanOptions::new(NOW))
        .await
        .expect("scan succeeds");
    if enrich(&lib).await {
        Some(lib)
    } else {
        lib.close().await;
        None
    }
}

/// Runs enrichment to the end, printing progress; false when there is no
/// reasoning model to run it with.
async fn enrich(lib: &Library) -> bool {
    match lib.generator().await {
        Ok(g) => println!("understanding model: {}", g.path().display()),
        Err(e) => {
            println!("understanding is skipped: {}", e.message);
            return false;
        }
    }
    let mut opts = EnrichOptions::new(NOW);
    opts.progress = Some(Arc::new(|p: &Progress| {
        if p.done.is_multiple_of(50) || Some(p.done) == p.total {
            eprintln!(
                "  understood {}/{} works, {:.2} a second, {} left",
                p.done,
                p.total.map_or("?".into(), |t| t.to_string()),
                p.rate(),
                p.secs_left()
                    .map_or("?".into(), |s| format!("{:.0} min", s / 60.0))
            );
        }
    }));
    let started = Instant::now();
    let report = lib.enrich(opts).await.expect("enrich");
    println!(
        "understanding: {report:?} ({:.0} s this run)",
        started.elapsed().as_secs_f64()
    );
    true
}

/// A row of a table: its name, how it answers, whether only on the
/// model's sample, and where it goes in the table.
struct Row {
    name: &'static str,
    mode: Mode,
    sample: bool,
    order: u8,
}

/// The rows of the library as scanned (no understanding): plain search,
/// the fast path, and on the full library the ask-time model.
async fn plain_rows(shape: Shape, cfg: &Config, lib: &Library) -> Vec<Row> {
    let row = |name, mode, sample, order| Row {
        name,
        mode,
        sample,
        order,
    };
    let mut rows = vec![
        row("plain search", Mode::Search, false, 0),
        row("fast path", Mode::Rules, false, 1),
    ];
    if shape == Shape::Full && cfg.ask_model {
        match lib.generator().await {
            Ok(g) => {
                println!("reasoning model: {}", g.path().display());
                // On a sample, the fast path on the same requests is what
                // the model's row compares with.
                if cfg.model_every > 1 {
                    rows.push(row("fast path, same sample", Mode::Rules, true, 4));
                    rows.push(row("with model (sample)", Mode::Model, true, 5));
                } else {
                    rows.push(row("with model", Mode::Model, true, 5));
                }
            }
            Err(e) => println!("the configuration with the model is skipped: {}", e.message),
        }
    }
    rows
}

/// The rows of the library with understanding.
const UNDERSTOOD_ROWS: [Row; 2] = [
    Row {
        name: "fast path, with understanding",
        mode: Mode::Rules,
        sample: false,
        order: 2,
    },
    Row {
        name: "plain search, with understanding",
        mode: Mode::Search,
        sample: false,
        order: 3,
    },
];

impl<'a> Eval<'a> {
    fn new(lib: &'a Library, generated: &'a Generated, dev: &'a DevSet, every: usize) -> Self {
        Eval {
            lib,
            items: eval::by_path(&generated.items),
            all: &generated.items,
            dev,
            model_every: every,
        }
    }

    /// Every row on every half, as (half, row order, name, report).
    async fn rows(&self, rows: &[Row], halves: &[Half]) -> Vec<(Half, u8, String, Report)> {
        let mut out = Vec::new();
        for &half in halves {
            for r in rows {
                let report = self.run(r.mode, half, r.sample).await;
                out.push((half, r.order, r.name.to_string(), report));
            }
        }
        out
    }
}

/// Evaluates one library: scanned as is, then with understanding; prints
/// one table per half.
async fn evaluate(shape: Shape, cfg: &Config, dev: &DevSet) {
    let size = cfg.size(shape);
    let base = shape.dir(size);
    let started = Instant::now();
    let generated = write_library(shape, &base, size);
    let lib = open_data(&base, "data", &settings(cfg.model.as_deref())).await;
    let scan = scan_root(&lib, &generated.root).await;
    let s = spec(size);
    println!(
        "\n## {} library\n\nmachine: {} cores; profile: {}; library: {} items ({} music, {} books, \
         {} films), scanned in {:.0} s ({} embedded now); {} requests in the development set",
        shape.name(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        generated.items.len(),
        s.music,
        s.books,
        s.videos,
        started.elapsed().as_secs_f64(),
        scan.embedded,
        dev.request_count()
    );
    let rows = plain_rows(shape, cfg, &lib).await;
    let mut results = Eval::new(&lib, &generated, dev, cfg.model_every)
        .rows(&rows, &cfg.halves)
        .await;
    lib.close().await;
    if cfg.understand.contains(&shape)
        && let Some(lib) = understood(&base, cfg).await
    {
        let more = Eval::new(&lib, &generated, dev, cfg.model_every)
            .rows(&UNDERSTOOD_ROWS, &cfg.halves)
            .await;
        results.extend(more);
        lib.close().await;
    }
    results.sort_by_key(|(_, order, _, _)| *order);
    for &half in &cfg.halves {
        println!(
            "\n### {} library ({} items), {} half\n",
            shape.name(),
            generated.items.len(),
            half.as_str()
        );
        print_header();
        for (_, _, name, r) in results.iter().filter(|(h, ..)| *h == half) {
            print_row(name, r);
        }
    }
}

fn print_header() {
    println!(
        "| configuration | films nDCG / P@10 | books nDCG / P@10 | music nDCG / P@10 | all nDCG / P@10 \
         | compositional nDCG / P@10 | excluded picks | violations | not in library | title-word picks \
         | seasonal shift | follow-ups | requests | p50 / p95 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
}

fn print_row(name: &str, r: &Report) {
    let kind = |k: &str| r.per_kind.get(k).map_or("–".to_string(), Tally::show);
    println!(
        "| {name} | {} | {} | {} | {} | {} | {}/{} | {}/{} | {}/{} | {}/{} | {} | {}/{} | {} | {:.0} / {:.0} |",
        kind("video"),
        kind("book"),
        kind("music"),
        r.all.show(),
        r.compositional.show(),
        r.excluded,
        r.compositional_picks,
        r.violations,
        r.picks,
        r.foreign,
        r.picks,
        r.title_matched,
        r.picks,
        // No vague request with a moment in a sample: "–".
        if r.shift.is_empty() {
            "–".to_string()
        } else {
            format!("{:.2}", Tally::mean(&r.shift))
        },
        r.chain_passed,
        r.chain_checks,
        r.requests,
        percentile(&r.latency, 0.5),
        percentile(&r.latency, 0.95),
    );
    if !r.first_reason.is_empty() {
        println!(
            "|   model reasons | first p50 / p95 {:.0} / {:.0} ms; shown {}, with an unsupported claim {} ({:.1}%); refused by the check {} |",
            percentile(&r.first_reason, 0.5),
            percentile(&r.first_reason, 0.95),
            r.reasons_shown,
            r.reasons_unsupported,
            100.0 * r.reasons_unsupported as f64 / r.reasons_shown.max(1) as f64,
            r.reasons_refused
        );
    }
}

/// `-- fit`: fits the weights on the tuning half of the full library.
async fn fit_weights(cfg: &Config, dev: &DevSet) {
    let base = Shape::Full.dir(cfg.size);
    let generated = write_library(Shape::Full, &base, cfg.size);
    let lib = open_data(&base, "data", &settings(cfg.model.as_deref())).await;
    scan_root(&lib, &generated.root).await;
    let e = Eval::new(&lib, &generated, dev, cfg.model_every);
    let started = Instant::now();
    let fitted = e.fit(*rank::FITTED).await;
    write_weights(
        &fitted,
        &format!(
            "Fitted on a {}-item library in {:.0} s.",
            generated.items.len(),
            started.elapsed().as_secs_f64()
        ),
    );
    lib.close().await;
}

/// What the knowledge check found for one kind.
#[derive(Default)]
struct KnowledgeTally {
    invented: usize,
    /// Invented works whose understanding claims anything.
    inventing: usize,
    /// Fields claimed for invented works, by name.
    claimed: HashMap<&'static str, usize>,
    real: usize,
    /// Real works by what the model said it knows ("yes", "partly", "no").
    known: HashMap<String, usize>,
    /// Real works whose understood genres or themes agree with a public
    /// label (tracks: whose understood energy agrees with Spotify's).
    agree: usize,
    /// Works with no understanding stored at all.
    unread: usize,
    /// The familiarity probe's scores of the real and the invented works.
    scores: (Vec<f32>, Vec<f32>),
}

impl KnowledgeTally {
    fn add(&mut self, invented: bool, item: &GenItem, u: Option<&Understood>) {
        let Some(u) = u else {
            self.unread += 1;
            return;
        };
        if let Some(f) = u.familiarity {
            if invented {
                self.scores.1.push(f);
            } else {
                self.scores.0.push(f);
            }
        }
        if invented {
            self.invented += 1;
            let claims = u.claims();
            if !claims.is_empty() {
                self.inventing += 1;
                if verbose() {
                    println!("  invented {:?}: claims {claims:?} {u:?}", item.title);
                }
            }
            for c in claims {
                *self.claimed.entry(c).or_default() += 1;
            }
            return;
        }
        self.real += 1;
        *self.known.entry(u.known.clone()).or_default() += 1;
        let agrees = if item.kind == "music" {
            u.facet("energy")
                .is_some_and(|e| knowledge::energy_agrees(e, item))
        } else {
            let terms: Vec<String> = u.genres.iter().chain(&u.themes).cloned().collect();
            knowledge::agrees(&terms, &item.truth)
        };
        self.agree += usize::from(agrees);
        if verbose() {
            println!(
                "  real {:?}: {} agree={agrees} genres {:?} themes {:?} truth {:?}",
                item.title, u.known, u.genres, u.themes, item.truth
            );
        }
    }

    fn row(&self, kind: &str) {
        let share =
            |a: usize, b: usize| format!("{a}/{b} ({:.0}%)", 100.0 * a as f64 / b.max(1) as f64);
        let mut claimed: Vec<_> = self.claimed.iter().collect();
        claimed.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let claimed: Vec<String> = claimed.iter().map(|(n, c)| format!("{n} {c}")).collect();
        let known = |k: &str| self.known.get(k).copied().unwrap_or(0);
        let separation = knowledge::separation(&self.scores.0, &self.scores.1)
            .map_or("–".to_string(), |s| format!("{s:.2}"));
        println!(
            "| {kind} | {} | {} | {} / {} / {} | {}{} | {separation} | {} |",
            share(self.inventing, self.invented),
            if claimed.is_empty() {
                "–".into()
            } else {
                claimed.join(", ")
            },
            known("yes"),
            known("partly"),
            known("no"),
            share(self.agree, self.real),
            if kind == "music" { " (energy)" } else { "" },
            self.unread
        );
    }
}

/// `-- knowledge`: invented works beside real thin ones, understood by the
/// model; the invention rate and the agreement with public labels.
async fn knowledge_check(cfg: &Config) {
    let mut spec = KnowledgeSpec::default();
    if let Some(n) = env_usize("EVAL_KNOWLEDGE_SIZE") {
        (spec.invented, spec.real) = (n, n);
    }
    // Another seed draws other invented and real works: the thresholds
    // in work::familiar were set on the default seed's.
    if let Some(seed) = env_usize("EVAL_KNOWLEDGE_SEED") {
        spec.seed = seed as u64;
    }
    // One folder per spec: another spec writes other works.
    let base = eval_base().join(format!(
        "knowledge-{}-{}-{:x}",
        spec.invented, spec.real, spec.seed
    ));
    let root = base.join("library");
    let k = moodshelf_libgen::knowledge::generate_knowledge(
        &moodshelf_libgen::datasets_dir(),
        &root,
        spec,
    )
    .expect("generate the knowledge library");
    let lib = open_data(&base, "data", &settings(cfg.understander())).await;
    scan_root(&lib, &root).await;
    if !enrich(&lib).await {
        lib.close().await;
        return;
    }
    let mut tallies = knowledge_tallies(&lib, &k).await;
    println!(
        "\n### knowledge check: {} invented and {} real works of each kind (seed {:#x})\n",
        spec.invented, spec.real, spec.seed
    );
    println!(
        "| kind | invented works claiming facts | claims on invented works | real works known yes / partly / no | real works agreeing with public labels | familiarity: real above invented | unread |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut all = KnowledgeTally::default();
    for kind in ["video", "book", "music"] {
        let t = tallies.remove(kind).unwrap_or_default();
        t.row(kind);
        all.merge(&t);
    }
    all.row("all");
    lib.close().await;
}

async fn knowledge_tallies(lib: &Library, k: &Knowledge) -> HashMap<&'static str, KnowledgeTally> {
    let mut tallies: HashMap<&'static str, KnowledgeTally> = HashMap::new();
    for item in &k.generated.items {
        let path = std::fs::canonicalize(&item.path).expect("a written file");
        let id = lib.item_at(&path).await.expect("a scanned item").id;
        let u = lib
            .item_understanding(id)
            .await
            .expect("read understanding")
            .map(|u| Understood {
                known: u.known,
                about: u.about,
                genres: u.genres,
                moods: u.moods,
                themes: u.themes,
                facets: vec![
                    ("place", u.place),
                    ("era", u.era),
                    ("tone", u.tone),
                    ("pace", u.pace),
                    ("audience", u.audience),
                    ("style", u.style),
                    ("energy", u.energy),
                    ("offers", u.offers),
                ],
                familiarity: u.familiarity,
            });
        tallies
            .entry(item.kind)
            .or_default()
            .add(k.is_invented(item), item, u.as_ref());
    }
    tallies
}

impl KnowledgeTally {
    fn merge(&mut self, o: &KnowledgeTally) {
        self.invented += o.invented;
        self.inventing += o.inventing;
        self.real += o.real;
        self.agree += o.agree;
        self.unread += o.unread;
        // Scores are not merged: a year's and a name's log probabilities
        // are on different scales, so the "all" row has no separation.
        for (k, v) in &o.claimed {
            *self.claimed.entry(k).or_default() += v;
        }
        for (k, v) in &o.known {
            *self.known.entry(k.clone()).or_default() += v;
        }
    }
}

fn main() {
    let cfg = Config::from_env();
    let dev = DevSet::load();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if std::env::args().any(|a| a == "knowledge") {
            knowledge_check(&cfg).await;
        } else if std::env::args().any(|a| a == "taste") {
            taste::run().await;
        } else if std::env::args().any(|a| a == "fit") {
            fit_weights(&cfg, &dev).await;
        } else {
            for &shape in &cfg.shapes {
                evaluate(shape, &cfg, &dev).await;
            }
        }
    });
}

/// Where generated libraries and their data dirs are kept between runs.
fn eval_base() -> PathBuf {
    std::env::var_os("EVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/moodshelf/eval")
        })
}
