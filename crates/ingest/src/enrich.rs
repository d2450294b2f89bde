//! The understanding job: the reasoning model reads every work of the
//! library once ([`crate::work`]: a film, a book, an album or an artist)
//! and what it understands becomes part of each item's catalogue card
//! (embedded and full-text indexed), its profile (the `model` source) and
//! its reasons.
//!
//! It is background work: resumable (each reading is stored as it is
//! made, keyed by the work's subject and the model, so an interrupted run
//! goes on where it stopped and a changed item is read again),
//! cancellable, with progress and time left, thin works first (where the
//! model changes most). Works are read several at a time, as parallel
//! sequences of one llama.cpp batch behind one cached instruction prefix;
//! with a reasoning endpoint they are sent as concurrent requests, so a
//! machine with a GPU reads a large library in minutes. It never keeps an
//! answer waiting: an answer that needs the model cancels the batch in
//! flight, which is read again once the answer is done.
//!
//! Every so often, and at the end, the items whose works were read are
//! described, embedded and profiled again, so answers use what was
//! understood while the rest is still being read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use moodshelf_catalog::UnderstandWork;
use moodshelf_llm::{Cancel, GenRequest, Generated, Reasoner};
use moodshelf_media::Metadata;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::jobs::{Phase, Progress, ProgressFn, Tracker};
use crate::scan::ScanOptions;
use crate::store::{Store, model_identity};
use crate::work::{Understanding, Work};

/// Works read per model call (at least): enough parallel sequences to keep
/// the batch full, few enough that a cancel wastes little.
const CHUNK: usize = 16;
/// Works read between two refreshes of the understood items' cards.
const REFRESH_EVERY: usize = 96;

#[derive(Clone)]
pub struct EnrichOptions {
    pub cancel: Arc<AtomicBool>,
    pub progress: Option<ProgressFn>,
    /// Read at most this many works in this run.
    pub max_items: Option<usize>,
    /// The current time (Unix seconds), passed in.
    pub now: i64,
}

impl EnrichOptions {
    pub fn new(now: i64) -> EnrichOptions {
        EnrichOptions {
            cancel: Arc::new(AtomicBool::new(false)),
            progress: None,
            max_items: None,
            now,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EnrichReport {
    /// Works read in this run.
    pub read: u64,
    /// Of those, works the model knew or could read from their files.
    pub described: u64,
    /// Of those, works the model knew ("yes").
    pub known: u64,
    /// Works still unread by this model.
    pub remaining: u64,
    /// Works in all.
    pub thin: u64,
    /// Items whose card was rewritten with what was understood.
    pub items_refreshed: u64,
    /// Tokens the model wrote for the works read (the keys and punctuation
    /// between values are read, not written).
    pub generated_tokens: u64,
    pub secs: f64,
    /// Whether the run stopped early (cancelled or its limit reached).
    pub stopped: bool,
}

/// An item with what was understood of it (`moodshelf show PATH`).
#[derive(Debug, Clone, Serialize)]
pub struct ItemDetails {
    pub item: moodshelf_catalog::ItemView,
    /// `None` until its work is read (`moodshelf enrich`).
    pub understanding: Option<Understanding>,
    /// The model that read it.
    pub understood_by: Option<String>,
}

/// One work to read: its subject, what it is, and the request for it.
struct Job {
    subject: String,
    work: Work,
    request: GenRequest,
}

/// Reads the library's unread works with the reasoning model (or the
/// reasoning endpoint), storing each reading at once. Stops when
/// everything is read, when cancelled, or after `max_items` works;
/// the next run goes on from there.
pub async fn enrich(store: &Store, opts: EnrichOptions) -> Result<EnrichReport> {
    let started = Instant::now();
    let reasoner = store.reasoner().await?;
    let model = reasoner_identity(&reasoner);
    // Items not described yet (a catalog from before item
    // understanding, a scan cut short, subjects of another version of
    // understanding) get their subjects first.
    store
        .catalog()
        .forget_stale_subjects(&crate::work::subject_prefix())
        .await?;
    let described_first = refresh_cards(store, &opts).await?;
    let pending = store.catalog().works_to_understand(&model).await?;
    let counts = store.catalog().understand_counts(&model).await?;
    let mut report = EnrichReport {
        thin: counts.works as u64,
        items_refreshed: described_first,
        ..EnrichReport::default()
    };
    let total = match opts.max_items {
        Some(m) => pending.len().min(m),
        None => pending.len(),
    } as u64;
    let emit = |done: u64| {
        if let Some(p) = &opts.progress {
            p(&Progress {
                phase: Phase::Enrich,
                done,
                total: Some(total),
                elapsed_secs: started.elapsed().as_secs_f64(),
            });
        }
    };
    emit(0);
    let mut since_refresh = 0;
    let chunk_len = store
        .settings()
        .parallel
        .map_or(CHUNK, |p| (p as usize).max(CHUNK));
    for chunk in pending.chunks(chunk_len) {
        if opts.cancel.load(Ordering::Relaxed) || report.read >= total {
            report.stopped = report.read < pending.len() as u64;
            break;
        }
        let take = (total - report.read).min(chunk.len() as u64) as usize;
        let ids: Vec<i64> = chunk[..take].iter().map(|(_, id)| *id).collect();
        let jobs = jobs(store.catalog().understand_work(&ids).await?, &reasoner);
        let Some((readings, generated)) = read_works(store, &reasoner, &jobs, &opts.cancel).await?
        else {
            report.stopped = true;
            break;
        };
        report.generated_tokens += generated;
        store_readings(store, &model, &jobs, &readings, opts.now, &mut report).await?;
        // Items whose subject changed meanwhile are simply read again.
        report.read += take as u64;
        since_refresh += take;
        emit(report.read);
        if since_refresh >= REFRESH_EVERY {
            since_refresh = 0;
            report.items_refreshed += refresh_cards(store, &opts).await?;
        }
    }
    report.items_refreshed += refresh_cards(store, &opts).await?;
    store.catalog().prune_understanding().await?;
    report.remaining = (pending.len() as u64).saturating_sub(report.read);
    report.secs = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Stores the readings of `jobs` (one each, in order) as `model`'s,
/// counting in `report` those that describe their work and those the
/// model knew.
async fn store_readings(
    store: &Store,
    model: &str,
    jobs: &[Job],
    readings: &[Understanding],
    now: i64,
    report: &mut EnrichReport,
) -> Result<()> {
    let mut rows = Vec::with_capacity(readings.len());
    for (job, u) in jobs.iter().zip(readings) {
        report.described += u64::from(u.says_something());
        report.known += u64::from(u.known == "yes");
        rows.push((
            job.subject.clone(),
            serde_json::to_string(u).map_err(Error::internal)?,
            serde_json::to_string(&u.descriptors(job.work.file_has_genres))
                .map_err(Error::internal)?,
        ));
    }
    store.catalog().set_understanding(model, &rows, now).await?;
    Ok(())
}

/// An item's understanding, if its work has been read.
pub async fn item_understanding(store: &Store, item_id: i64) -> Result<Option<Understanding>> {
    Ok(store
        .catalog()
        .item_understanding(item_id)
        .await?
        .and_then(|(json, _)| serde_json::from_str(&json).ok()))
}

/// The item at `path` as a person sees its details: what its file
/// says and what the model understood of its work.
pub async fn item_details(store: &Store, path: &std::path::Path) -> Result<ItemDetails> {
    let item = store.item_at(path).await?;
    details_of(store, item).await
}

/// [`Library::item_details`] of the item with id `id` (a pick).
pub async fn item_details_by_id(store: &Store, id: i64) -> Result<ItemDetails> {
    let Some(item) = store.catalog().items_by_ids(&[id]).await?.pop() else {
        return Err(Error::new(
            crate::error::Code::InvalidInput,
            format!("item {id} is not in the library"),
        ));
    };
    details_of(store, item).await
}

async fn details_of(store: &Store, item: moodshelf_catalog::ItemView) -> Result<ItemDetails> {
    let understood = store.catalog().item_understanding(item.id).await?;
    let (understanding, understood_by) = match understood {
        Some((json, model)) => (serde_json::from_str(&json).ok(), Some(model)),
        None => (None, None),
    };
    Ok(ItemDetails {
        item,
        understanding,
        understood_by,
    })
}

/// Reads a chunk of works, waiting for answers that need the model and
/// reading again what an answer interrupted: the readings, and the
/// tokens written for them. `None` when cancelled.
async fn read_works(
    store: &Store,
    reasoner: &Reasoner,
    jobs: &[Job],
    stop: &AtomicBool,
) -> Result<Option<(Vec<Understanding>, u64)>> {
    loop {
        store.wait_for_answers(stop).await;
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let cancel = Cancel::default();
        store.set_enrich_cancel(Some(cancel.clone())).await;
        let r = reasoner.clone();
        let reqs: Vec<GenRequest> = jobs.iter().map(|j| j.request.clone()).collect();
        let c = cancel.clone();
        let out = tokio::task::spawn_blocking(move || r.generate_batch(reqs, &c))
            .await
            .map_err(Error::internal);
        store.set_enrich_cancel(None).await;
        if cancel.is_cancelled() {
            // Interrupted by an answer: read the chunk again after it.
            continue;
        }
        let out: Vec<Option<Generated>> = match out? {
            Ok(out) => out.into_iter().map(Some).collect(),
            Err(e) if jobs.len() > 1 => {
                tracing::warn!(
                    "reading {} works failed ({e}); reading them one by one",
                    jobs.len()
                );
                read_alone(reasoner, jobs, &cancel).await?
            }
            Err(e) => return Err(e.into()),
        };
        if cancel.is_cancelled() {
            continue;
        }
        let generated = out
            .iter()
            .flatten()
            .map(|g| g.generated_tokens as u64)
            .sum();
        return Ok(Some((
            jobs.iter()
                .zip(&out)
                .map(|(j, g)| match g {
                    Some(g) => j.work.read(&j.request, g),
                    // The model could not read it at all: recorded as
                    // unknown, so it never stops enrichment again.
                    None => Understanding::unknown(None),
                })
                .collect(),
            generated,
        )));
    }
}

/// Reads each job of a chunk that failed as a whole on its own: those
/// that fail alone (a prompt the model cannot take) are `None`. When
/// every one fails, the model or server is at fault, not the works, and
/// that error stops enrichment (the next run tries them again).
async fn read_alone(
    reasoner: &Reasoner,
    jobs: &[Job],
    cancel: &Cancel,
) -> Result<Vec<Option<Generated>>> {
    let mut out = Vec::with_capacity(jobs.len());
    let mut last_error = None;
    for j in jobs {
        let r = reasoner.clone();
        let req = vec![j.request.clone()];
        let c = cancel.clone();
        let one = tokio::task::spawn_blocking(move || r.generate_batch(req, &c))
            .await
            .map_err(Error::internal)?;
        match one {
            Ok(mut g) if !g.is_empty() => out.push(Some(g.remove(0))),
            Ok(_) => out.push(None),
            Err(e) => {
                tracing::warn!("skipping a work the model cannot read: {e}");
                last_error = Some(e);
                out.push(None);
            }
        }
    }
    match last_error {
        Some(e) if out.iter().all(Option::is_none) => Err(e.into()),
        _ => Ok(out),
    }
}

/// Describes, embeds and profiles the items whose works were read, so
/// that answers use the new understanding. Returns how many items.
async fn refresh_cards(store: &Store, opts: &EnrichOptions) -> Result<u64> {
    let _writer = store.writer().await?;
    let mut tracker = Tracker::silent();
    let described = crate::scan::describe_pending(store, &mut tracker).await?;
    if described == 0 {
        return Ok(0);
    }
    let mut scan = ScanOptions::new(opts.now);
    scan.cancel = opts.cancel.clone();
    crate::scan::embed_pending(store, &store.index().await?, &scan, &mut tracker).await?;
    store.library_changed().await;
    Ok(described)
}

/// The requests for a chunk of works: the local model scores the withheld
/// fact; an endpoint is given it.
fn jobs(work: Vec<UnderstandWork>, reasoner: &Reasoner) -> Vec<Job> {
    work.into_iter()
        .filter_map(|w| {
            let m: Metadata = serde_json::from_str(&w.meta).ok()?;
            let work = Work::of(&m)?;
            let request = match reasoner {
                Reasoner::Local(_) => work.request(),
                Reasoner::Endpoint(_) => work.endpoint_request(),
            };
            Some(Job {
                subject: w.subject,
                work,
                request,
            })
        })
        .collect()
}

/// What a reading is keyed by: the model file, or the endpoint's model.
fn reasoner_identity(r: &Reasoner) -> String {
    match r {
        Reasoner::Local(g) => model_identity(g.path()),
        Reasoner::Endpoint(_) => format!("endpoint:{}", r.model()),
    }
}
