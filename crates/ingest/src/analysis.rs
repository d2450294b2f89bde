//! Sound analysis: every track's decoded audio becomes a few numbers
//! ([`moodshelf_sound::Features`]: tempo, loudness, dynamics, timbre, key)
//! that recommendations read through [`crate::hearing`].
//!
//! It is background work, after the scan has embedded what it found:
//! - only tracks whose file changed since their analysis (or that the
//!   analysis version has not seen) are decoded;
//! - each result is stored as it is made, a batch at a time, so a run that
//!   is cancelled or killed goes on where it stopped;
//! - hosts that opted in to reader processes ([`crate::reader`]) analyse in
//!   children at low CPU priority, with a memory limit and a deadline, so a
//!   hostile file costs one track; others analyse in process;
//! - the decoder streams, so memory does not grow with a track's length;
//! - progress reports tracks done of all, from which the hosts show the
//!   rate and the time left.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use moodshelf_catalog::{SoundResult, SoundWork};
use moodshelf_sound::ANALYSIS_VERSION;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::jobs::{FileError, Phase, Progress, ProgressFn};
use crate::reader::{analyze_here, analyze_in_child};
use crate::store::Store;

/// Tracks fetched and stored per round.
const BATCH: i64 = 32;
/// Failed tracks listed in a report (the catalog keeps all of them).
const MAX_ERROR_SAMPLES: usize = 20;

#[derive(Clone)]
pub struct AnalyzeOptions {
    pub cancel: Arc<AtomicBool>,
    pub progress: Option<ProgressFn>,
    /// Analyse at most this many tracks in this run.
    pub max_items: Option<usize>,
    /// Tracks analysed at once (each decodes on one core).
    pub workers: usize,
    /// The current time (Unix seconds), passed in.
    pub now: i64,
}

impl AnalyzeOptions {
    pub fn new(now: i64) -> AnalyzeOptions {
        AnalyzeOptions {
            cancel: Arc::new(AtomicBool::new(false)),
            progress: None,
            max_items: None,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            now,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AnalyzeReport {
    /// Tracks analysed in this run, failures included.
    pub analyzed: u64,
    /// Of those, tracks whose audio could not be analysed.
    pub failed: u64,
    /// Minutes of audio decoded in this run.
    pub minutes: f64,
    /// Tracks still to analyse.
    pub remaining: u64,
    /// Tracks on available folders.
    pub tracks: u64,
    pub secs: f64,
    /// Whether the run stopped early (cancelled or its limit reached).
    pub stopped: bool,
    /// Some of the tracks that failed, with the reason.
    pub error_samples: Vec<FileError>,
}

/// The time one track may take: generous for the decoder (it runs at about
/// 200× real time on one core), short enough that a decoder that loops is
/// stopped.
fn deadline(duration_secs: Option<f64>) -> Duration {
    let secs = duration_secs
        .filter(|d| d.is_finite() && *d > 0.0)
        .unwrap_or(600.0)
        .min(moodshelf_sound::MAX_SECONDS);
    Duration::from_secs_f64(30.0 + secs * 0.25)
}

/// Analyses one track: in a reader process when the host has them.
fn analyze_one(w: &SoundWork, cancel: &AtomicBool) -> SoundResult {
    // The catalog's form of the path: a name that is not UTF-8 is decoded
    // back to its bytes (see [`crate::names`]).
    let path = crate::names::decode(&w.path);
    let heard = analyze_in_child(&path, deadline(w.duration_secs))
        .unwrap_or_else(|| analyze_here(&path, cancel));
    let (features, error) = match heard {
        Ok(f) => (serde_json::to_string(&f).ok(), None),
        Err(e) => (None, Some(e)),
    };
    SoundResult {
        item_id: w.id,
        source: w.source.clone(),
        features,
        error,
    }
}

/// Analyses a batch on `workers` threads, in order.
fn analyze_batch(batch: &[SoundWork], workers: usize, cancel: &AtomicBool) -> Vec<SoundResult> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(batch.len()));
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, batch.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(w) = batch.get(i) else { break };
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = analyze_one(w, cancel);
                    results.lock().expect("results lock").push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("results lock");
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Analyses the sound of every track not analysed in its current form,
/// in id order, storing results a batch at a time. Stops when all are
/// done, when cancelled, or after `max_items`; the next run goes on
/// from there.
pub async fn analyze(store: &Store, opts: AnalyzeOptions) -> Result<AnalyzeReport> {
    let started = Instant::now();
    let catalog = store.catalog();
    let counts = catalog.sound_counts(ANALYSIS_VERSION).await?;
    let total = (counts.tracks - counts.analyzed).max(0) as u64;
    let mut report = AnalyzeReport {
        tracks: counts.tracks as u64,
        ..AnalyzeReport::default()
    };
    let emit = |done: u64| {
        if let Some(p) = &opts.progress {
            p(&Progress {
                phase: Phase::Analyze,
                done,
                total: Some(total),
                elapsed_secs: started.elapsed().as_secs_f64(),
            });
        }
    };
    emit(0);
    let mut after = 0;
    loop {
        let room = opts
            .max_items
            .map_or(BATCH, |m| (m as i64 - report.analyzed as i64).min(BATCH));
        if opts.cancel.load(Ordering::Relaxed) || room <= 0 {
            report.stopped = true;
            break;
        }
        let batch = catalog
            .items_to_analyze(ANALYSIS_VERSION, after, room)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let workers = opts.workers;
        let cancel = opts.cancel.clone();
        let (batch, results) = tokio::task::spawn_blocking(move || {
            let results = analyze_batch(&batch, workers, &cancel);
            (batch, results)
        })
        .await
        .map_err(Error::internal)?;
        // A cancelled batch stores what finished; the rest waits.
        let finished: Vec<SoundResult> = results
            .into_iter()
            .filter(|r| r.features.is_some() || !r.error.as_deref().is_some_and(is_cancelled))
            .collect();
        for r in &finished {
            let w = batch.iter().find(|w| w.id == r.item_id);
            report.minutes += w.and_then(|w| w.duration_secs).unwrap_or(0.0) / 60.0;
            if let Some(e) = &r.error {
                report.failed += 1;
                if report.error_samples.len() < MAX_ERROR_SAMPLES {
                    report.error_samples.push(FileError {
                        path: w.map(|w| w.path.clone()).unwrap_or_default(),
                        error: e.clone(),
                    });
                }
            }
        }
        catalog.set_sound(&finished, opts.now).await?;
        report.analyzed += finished.len() as u64;
        emit(report.analyzed);
    }
    report.remaining = total.saturating_sub(report.analyzed);
    report.secs = started.elapsed().as_secs_f64();
    if report.analyzed > 0 {
        store.library_changed().await;
    }
    Ok(report)
}

/// Whether an analysis error is only the run's own cancellation.
fn is_cancelled(error: &str) -> bool {
    error == moodshelf_sound::Error::Cancelled.to_string()
}
