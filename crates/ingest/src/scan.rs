//! The scanner, in explicit phases, each with its own progress:
//!
//! 1. **discover**: walk every root, stat the files that matter;
//! 2. **diff**: compare with the catalog: new, changed, moved, missing;
//! 3. **extract**: read metadata in parallel and record it in the catalog
//!    in batches;
//! 4. **describe**: write each new or changed item's description;
//! 5. **embed**: embed descriptions in batches and upsert them into the
//!    index, profiling each item from its metadata and its vector
//!    ([`crate::profile`]);
//! 6. **profile**: profile what is still unprofiled (items embedded before
//!    the vocabulary changed, or a crash between the two writes);
//! 7. **persist**: drop what disappeared, reconcile and optimise the index.
//!
//! Every phase works from state in the catalog, not from memory, so a scan
//! killed at any point is finished by the next one: unread files are still
//! new or changed, undescribed items still lack a description, and items
//! whose index row is stale still say so.
//!
//! A root that is missing, unreadable, or suddenly empty is marked
//! unavailable and its items are kept: an unmounted disk is not a deletion.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use moodshelf_catalog::{
    FileRecord, FileRole, FileState, FileUpdate, ItemView, Outcome, Profile, Root, RootState,
    ScanCounters, ScanStatus,
};
use moodshelf_index::Index;
use moodshelf_media::{Metadata, Role};
use serde::Serialize;

use crate::absence::{Presence, SCANS_TO_AGREE, presence};
use crate::describe::{describe, description_hash};
use crate::error::{Error, Result};
use crate::jobs::{FileError, Phase, ProgressFn, Tracker};
use crate::reading::{RETRY, ReadOutcome, read_file};
use crate::store::Store;
use crate::work::{self, Understanding};

/// Files read per batch recorded in the catalog.
const EXTRACT_CHUNK: usize = 256;
/// Descriptions embedded per batch written to the index.
const EMBED_CHUNK: usize = 128;
/// Failed files listed in a report (the catalog keeps all of them).
const MAX_ERROR_SAMPLES: usize = 50;

#[derive(Clone)]
pub struct ScanOptions {
    /// Describe and embed after reading metadata (the default). Without
    /// it, items wait in the catalog for the next scan that embeds.
    pub embed: bool,
    /// Scan only these roots (all when `None`).
    pub roots: Option<Vec<PathBuf>>,
    pub cancel: Arc<AtomicBool>,
    /// The current time (Unix seconds), passed in.
    pub now: i64,
    pub progress: Option<ProgressFn>,
    /// How long one file may take to read before it is abandoned and
    /// listed by its name.
    pub file_deadline: Duration,
}

impl ScanOptions {
    pub fn new(now: i64) -> ScanOptions {
        ScanOptions {
            embed: true,
            roots: None,
            cancel: Arc::new(AtomicBool::new(false)),
            now,
            progress: None,
            file_deadline: moodshelf_media::DEFAULT_DEADLINE,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub discovered: u64,
    pub unchanged: u64,
    pub added: u64,
    pub changed: u64,
    pub moved: u64,
    pub removed: u64,
    pub errors: u64,
    pub described: u64,
    pub embedded: u64,
    /// Items still waiting for an index row (embedding skipped or failed).
    pub pending_index: u64,
    pub unavailable_roots: Vec<String>,
    pub error_samples: Vec<FileError>,
    /// Things the user should know that did not stop the scan.
    pub warnings: Vec<String>,
    /// Seconds spent in each phase, in order.
    pub phase_secs: Vec<(Phase, f64)>,
    pub elapsed_secs: f64,
}

impl ScanReport {
    fn counters(&self) -> ScanCounters {
        ScanCounters {
            discovered: self.discovered as i64,
            added: self.added as i64,
            changed: self.changed as i64,
            moved: self.moved as i64,
            removed: self.removed as i64,
            errors: self.errors as i64,
            embedded: self.embedded as i64,
        }
    }
}

/// A file found on disk.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub path: PathBuf,
    pub size: i64,
    pub mtime_ns: i64,
    pub role: FileRole,
}

/// What walking one root gave.
#[derive(Default)]
struct RootWalk {
    files: Vec<Found>,
    /// Directories that could not be read: files under them are not
    /// "missing", merely unseen.
    failed_dirs: Vec<PathBuf>,
    /// The root itself could not be read.
    unreadable: bool,
    errors: Vec<FileError>,
    /// Things the user should know (links that leave the folder).
    warnings: Vec<String>,
}

/// A file to read, with what the catalog knew of it.
#[derive(Debug, Clone)]
pub(crate) struct Work {
    pub root_id: i64,
    pub found: Found,
    pub existing: Option<FileRecord>,
}

/// The outcome of comparing one root's walk with the catalog.
#[derive(Default)]
struct Diff {
    work: Vec<Work>,
    missing: Vec<FileRecord>,
    /// Files marked missing earlier and found where they were.
    found_again: Vec<i64>,
    unchanged: u64,
}

fn check_cancel(opts: &ScanOptions) -> Result<()> {
    if opts.cancel.load(Ordering::Relaxed) {
        return Err(Error::new(
            crate::error::Code::IndexBusy,
            "scan cancelled; the next scan resumes where this one stopped",
        ));
    }
    Ok(())
}

/// Builds the index again from the catalog, beside the live one, which
/// answers until the new one is complete and swapped in. The caller holds
/// the writer lock.
pub async fn rebuild(store: &Store, opts: ScanOptions) -> Result<ScanReport> {
    let embedder = store.embedder().await?;
    let next =
        crate::index_dir::begin_rebuild(store.paths(), store.catalog(), embedder.dim()).await?;
    let mut tracker = Tracker::new(opts.progress.clone());
    let built = async {
        let described = describe_pending(store, &mut tracker).await?;
        let embedded = embed_pending(store, &next, &opts, &mut tracker).await?;
        next.optimize().await?;
        Ok::<_, Error>((described, embedded))
    }
    .await;
    drop(next);
    let swapped = match built {
        Ok(counts) => {
            store.close_index().await;
            let model_id = crate::store::model_identity(embedder.path());
            crate::index_dir::swap_in(store.paths(), store.catalog(), &model_id)
                .await
                .map(|()| counts)
        }
        Err(e) => Err(e),
    };
    // A rebuild that stopped (cancelled, a full disk, a swap that
    // failed) is undone while this process still holds the library.
    let (described, embedded) = match swapped {
        Ok(counts) => counts,
        Err(e) => {
            if let Err(r) = crate::index_dir::recover(store.paths(), store.catalog()).await {
                tracing::warn!("undoing the interrupted rebuild failed: {r}");
            }
            return Err(e);
        }
    };
    profile_pending(store, &opts, &mut tracker).await?;
    store.library_changed().await;
    Ok(ScanReport {
        described,
        embedded,
        pending_index: store.catalog().counts().await?.pending_index as u64,
        ..ScanReport::default()
    })
}

/// Runs a full scan of the library's roots.
pub async fn run(lib: &Store, opts: ScanOptions) -> Result<ScanReport> {
    let catalog = lib.catalog();
    let run_id = catalog.start_scan(opts.now).await?;
    let started = Instant::now();
    let mut report = ScanReport::default();
    let mut tracker = Tracker::new(opts.progress.clone());
    let result = phases(lib, &opts, run_id, &mut report, &mut tracker).await;
    tracker.close_phase();
    report.phase_secs = tracker.report_phases;
    report.elapsed_secs = started.elapsed().as_secs_f64();
    let _ = catalog
        .update_scan(run_id, tracker.phase.as_str(), &report.counters())
        .await;
    match &result {
        Ok(()) => {
            catalog
                .finish_scan(run_id, ScanStatus::Done, None, opts.now)
                .await?
        }
        Err(e) => {
            let status = if opts.cancel.load(Ordering::Relaxed) {
                ScanStatus::Interrupted
            } else {
                ScanStatus::Failed
            };
            let _ = catalog
                .finish_scan(run_id, status, Some(&e.message), opts.now)
                .await;
        }
    }
    result.map(|()| report)
}

/// One scan on its way through the phases: what every phase reads (the
/// library, the options, the scan's id in the catalog) and what every
/// phase writes (the report, the progress).
struct ScanRun<'a> {
    lib: &'a Store,
    opts: &'a ScanOptions,
    run_id: i64,
    report: &'a mut ScanReport,
    tracker: &'a mut Tracker,
}

/// What the diff phase leaves for the phases after it.
#[derive(Default)]
struct Diffed {
    /// Files to read: new, changed, or found moved.
    work: Vec<Work>,
    /// Files the walks did not list.
    missing: Vec<FileRecord>,
    /// Roots walked and compared (not those found unavailable).
    scanned_roots: Vec<i64>,
}

/// Runs the phases in order (see the module's documentation), checking for
/// cancellation between them and recording in the catalog which phase the
/// scan is in.
async fn phases(
    lib: &Store,
    opts: &ScanOptions,
    run_id: i64,
    report: &mut ScanReport,
    tracker: &mut Tracker,
) -> Result<()> {
    let roots = roots_to_scan(lib, opts).await?;
    let mut run = ScanRun {
        lib,
        opts,
        run_id,
        report,
        tracker,
    };

    // 1. Discover.
    let walks = run.discover(&roots).await?;
    check_cancel(opts)?;
    run.record_phase(Phase::Diff).await?;

    // 2. Diff.
    let diffed = run.diff(&roots, walks).await?;
    check_cancel(opts)?;
    let (work, missing) = run.record_moves(diffed.work, diffed.missing).await?;
    check_cancel(opts)?;

    // 3. Extract.
    run.record_phase(Phase::Extract).await?;
    run.tracker.enter(Phase::Extract, Some(work.len() as u64));
    extract_and_record(lib, work, opts, run.report, run.tracker).await?;
    check_cancel(opts)?;

    // Files that are gone. Done before embedding so nothing is embedded for
    // an item that no longer exists.
    run.remove_gone(missing, &roots).await?;

    // 4. Describe.
    run.record_phase(Phase::Describe).await?;
    run.report.described = describe_pending(lib, run.tracker).await?;
    check_cancel(opts)?;

    // 5. Embed.
    run.record_phase(Phase::Embed).await?;
    let index_ready = run.embed().await?;

    // 6. Persist.
    run.persist(index_ready, &diffed.scanned_roots).await
}

/// The library's roots this scan covers: all of them, or those
/// `opts.roots` names.
async fn roots_to_scan(lib: &Store, opts: &ScanOptions) -> Result<Vec<Root>> {
    Ok(lib
        .catalog()
        .roots()
        .await?
        .into_iter()
        .filter(|r| {
            opts.roots
                .as_ref()
                .is_none_or(|only| only.iter().any(|p| p == &r.path))
        })
        .collect())
}

impl ScanRun<'_> {
    /// Records in the catalog the phase the scan enters, with the counts so
    /// far.
    async fn record_phase(&self, phase: Phase) -> Result<()> {
        self.lib
            .catalog()
            .update_scan(self.run_id, phase.as_str(), &self.report.counters())
            .await?;
        Ok(())
    }

    /// Discover: walks each root (on a blocking thread: a walk is all file
    /// system calls), counting the files found as it goes.
    async fn discover(&mut self, roots: &[Root]) -> Result<Vec<RootWalk>> {
        self.tracker.enter(Phase::Discover, None);
        let mut walks = Vec::with_capacity(roots.len());
        for root in roots {
            check_cancel(self.opts)?;
            let ignore = self.lib.settings().ignore_dirs.clone();
            let path = root.path.clone();
            let cancel = self.opts.cancel.clone();
            let walk = tokio::task::spawn_blocking(move || walk_root(&path, &ignore, &cancel))
                .await
                .map_err(Error::internal)?;
            self.report.discovered += walk.files.len() as u64;
            self.report.warnings.extend(walk.warnings.iter().cloned());
            self.tracker.emit(self.report.discovered, None, false);
            walks.push(walk);
        }
        Ok(walks)
    }

    /// Diff: compares each root's walk with what the catalog knows of it.
    /// A root that cannot be trusted is marked unavailable and left out;
    /// files found again where they were are shown again.
    async fn diff(&mut self, roots: &[Root], walks: Vec<RootWalk>) -> Result<Diffed> {
        let catalog = self.lib.catalog();
        self.tracker.enter(Phase::Diff, Some(roots.len() as u64));
        let mut diffed = Diffed::default();
        for (i, (root, walk)) in roots.iter().zip(walks).enumerate() {
            let known = catalog.files_under(root.id).await?;
            self.report
                .error_samples
                .extend(walk.errors.iter().cloned());
            if walk.unreadable || (walk.files.is_empty() && !known.is_empty()) {
                // Missing, unreadable, or an empty mount point where a library
                // used to be: keep everything, hide it until it returns.
                self.keep_unavailable(root, walk.unreadable, known.len())
                    .await?;
                continue;
            }
            let diff = tokio::task::spawn_blocking({
                let root_id = root.id;
                move || diff_root(root_id, walk, known)
            })
            .await
            .map_err(Error::internal)?;
            self.report.unchanged += diff.unchanged;
            catalog.clear_missing(&diff.found_again).await?;
            diffed.work.extend(diff.work);
            diffed.missing.extend(diff.missing);
            diffed.scanned_roots.push(root.id);
            self.tracker
                .emit(i as u64 + 1, Some(roots.len() as u64), false);
        }
        Ok(diffed)
    }

    /// Marks `root` unavailable (unreadable, or empty where it had `known`
    /// files) and warns that its files are kept until it is back.
    async fn keep_unavailable(
        &mut self,
        root: &Root,
        unreadable: bool,
        known: usize,
    ) -> Result<()> {
        self.lib
            .catalog()
            .set_root_state(root.id, RootState::Unavailable)
            .await?;
        let why = if unreadable {
            "is missing or unreadable"
        } else {
            "is empty"
        };
        self.report
            .unavailable_roots
            .push(root.path.display().to_string());
        self.report.warnings.push(format!(
            "{} {why}: keeping its {} files until it is back (remove the folder from the library to forget them)",
            root.path.display(),
            known
        ));
        Ok(())
    }

    /// Moves, across roots too: a new media file with the size and content
    /// of a missing one is that file, and keeps its item and its feedback.
    /// Returns the work, the moved files added, and the files still missing.
    async fn record_moves(
        &mut self,
        mut all_work: Vec<Work>,
        mut all_missing: Vec<FileRecord>,
    ) -> Result<(Vec<Work>, Vec<FileRecord>)> {
        let moves = tokio::task::spawn_blocking(move || {
            let moves = match_moves(&mut all_work, &mut all_missing);
            (moves, all_work, all_missing)
        })
        .await
        .map_err(Error::internal)?;
        let (moves, mut all_work, all_missing) = moves;
        for (record, found, root_id) in moves {
            self.lib
                .catalog()
                .move_file(
                    record.id,
                    root_id,
                    &path_str(&found.path),
                    found.size,
                    found.mtime_ns,
                )
                .await?;
            self.report.moved += 1;
            // Read it again at its new place (sidecars and names may differ);
            // unchanged metadata keeps its description and index row.
            all_work.push(Work {
                root_id,
                existing: Some(FileRecord {
                    path: path_str(&found.path),
                    root_id,
                    missing_since: None,
                    ..record
                }),
                found,
            });
        }
        Ok((all_work, all_missing))
    }

    /// Forgets, in the catalog and the index, the missing files whose
    /// absence is settled ([`settle_missing`]).
    async fn remove_gone(&mut self, missing: Vec<FileRecord>, roots: &[Root]) -> Result<()> {
        let catalog = self.lib.catalog();
        let gone = settle_missing(catalog, missing, roots, self.opts.now).await?;
        let removed_items = catalog.remove_files(&gone).await?;
        self.report.removed = removed_items.len() as u64;
        if !removed_items.is_empty()
            && let Some(index) = self.lib.open_index_if_present().await?
        {
            index.delete(&removed_items).await?;
        }
        Ok(())
    }

    /// Embed, then profile, when the scan embeds and the model is there;
    /// without the model, metadata stays in the catalog and the report says
    /// search waits. Counts what still waits for an index row. Returns
    /// whether the index was brought up to date.
    async fn embed(&mut self) -> Result<bool> {
        let (lib, opts) = (self.lib, self.opts);
        let mut index_ready = false;
        if opts.embed {
            match lib.embedder().await {
                Ok(_) => {
                    reconcile(lib, &lib.index().await?).await?;
                    self.report.embedded =
                        embed_pending(lib, &lib.index().await?, opts, self.tracker).await?;
                    self.record_phase(Phase::Profile).await?;
                    profile_pending(lib, opts, self.tracker).await?;
                    index_ready = true;
                }
                Err(e) if e.code == crate::error::Code::ModelMissing => {
                    self.report.warnings.push(format!(
                        "{}: metadata is in the catalog, search waits for the index",
                        e.message
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        self.report.pending_index = lib.catalog().counts().await?.pending_index as u64;
        Ok(index_ready)
    }

    /// Persist: compacts the index when this scan wrote it, and records the
    /// scanned roots as scanned now.
    async fn persist(&mut self, index_ready: bool, scanned_roots: &[i64]) -> Result<()> {
        self.record_phase(Phase::Persist).await?;
        self.tracker.enter(Phase::Persist, None);
        if index_ready && let Some(index) = self.lib.open_index_if_present().await? {
            index.optimize().await?;
        }
        for id in scanned_roots {
            self.lib
                .catalog()
                .set_root_scanned(*id, self.opts.now)
                .await?;
        }
        self.lib.library_changed().await;
        self.tracker.emit(1, Some(1), true);
        Ok(())
    }
}

/// Reads `work` in parallel and records the results in the catalog in
/// batches, so a crash loses at most one batch of reading.
pub(crate) async fn extract_and_record(
    lib: &Store,
    work: Vec<Work>,
    opts: &ScanOptions,
    report: &mut ScanReport,
    tracker: &mut Tracker,
) -> Result<()> {
    if work.is_empty() {
        return Ok(());
    }
    let total = work.len() as u64;
    let covers = lib.paths().covers();
    let cancel = opts.cancel.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<(FileUpdate, bool)>>(4);
    let deadline = opts.file_deadline;
    let reader = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        for chunk in work.chunks(EXTRACT_CHUNK) {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            // Cancel is checked per file: a chunk of slow files on a
            // network disk must not hold a cancelled scan for minutes.
            let updates: Vec<(FileUpdate, bool)> = chunk
                .par_iter()
                .filter(|_| !cancel.load(Ordering::Relaxed))
                .map(|w| (read_one(w, &covers, deadline), w.existing.is_some()))
                .collect();
            if tx.blocking_send(updates).is_err() {
                break;
            }
        }
    });
    let mut done = 0u64;
    while let Some(batch) = rx.recv().await {
        for (u, existed) in &batch {
            if let Outcome::Failed(reason) | Outcome::Listed(_, reason) = &u.outcome {
                report.errors += 1;
                if report.error_samples.len() < MAX_ERROR_SAMPLES {
                    report.error_samples.push(FileError {
                        path: u.path.clone(),
                        error: reason.clone(),
                    });
                }
            }
            match &u.outcome {
                Outcome::Failed(_) => {}
                _ if *existed => report.changed += 1,
                _ => report.added += 1,
            }
        }
        let updates: Vec<FileUpdate> = batch.into_iter().map(|(u, _)| u).collect();
        lib.catalog().apply(&updates, opts.now).await?;
        done += updates.len() as u64;
        tracker.emit(done, Some(total), false);
    }
    reader.await.map_err(Error::internal)?;
    tracker.emit(done, Some(total), true);
    Ok(())
}

/// Reads one file into the update the catalog records. Never fails and
/// never takes much longer than `deadline`: a bad file becomes an update
/// that says why, and a media file whose contents cannot be read is listed
/// by its names with the error beside it. Media files are read in a reader
/// process when the host opted in ([`crate::reader`]), else here.
pub(crate) fn read_one(w: &Work, covers: &Path, deadline: Duration) -> FileUpdate {
    let path = &w.found.path;
    let mut update = FileUpdate {
        root_id: w.root_id,
        path: path_str(path),
        role: w.found.role,
        size: w.found.size,
        mtime_ns: w.found.mtime_ns,
        fingerprint: None,
        outcome: Outcome::Sidecar,
        reader: moodshelf_media::READER_VERSION,
    };
    if w.found.role == FileRole::Sidecar {
        return update;
    }
    let read = crate::reader::read_in_child(path, covers, deadline)
        .unwrap_or_else(|| read_file(path, covers, Some(deadline)));
    update.fingerprint = read.fingerprint;
    update.reader = read.reader;
    // A reader that ran out of time, crashed or was lost says nothing of
    // the file: an item read well before keeps its last good reading, and
    // the file is read again later (reader 0).
    let known_good = w
        .existing
        .as_ref()
        .is_some_and(|r| r.item_id.is_some() && r.state == FileState::Ok);
    update.outcome = match read.outcome {
        ReadOutcome::Item(data) => Outcome::Item(data),
        ReadOutcome::Listed(_, reason) if read.reader == RETRY && known_good => {
            Outcome::Failed(reason)
        }
        ReadOutcome::Listed(data, reason) => Outcome::Listed(data, reason),
        ReadOutcome::Failed(reason) => Outcome::Failed(reason),
    };
    update
}

/// Describes every item that lacks a description.
pub(crate) async fn describe_pending(lib: &Store, tracker: &mut Tracker) -> Result<u64> {
    let catalog = lib.catalog();
    tracker.enter(Phase::Describe, None);
    let mut after = 0;
    let mut done = 0u64;
    loop {
        let batch = catalog.items_to_describe(after, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = last.0;
        // The catalog only stores metadata this crate wrote; one that does
        // not parse is described as nothing.
        let metas: Vec<(i64, Option<Metadata>)> = batch
            .into_iter()
            .map(|(id, meta)| (id, serde_json::from_str::<Metadata>(&meta).ok()))
            .collect();
        let subjects: Vec<Option<String>> = metas
            .iter()
            .map(|(_, m)| Some(work::Work::of(m.as_ref()?)?.subject()))
            .collect();
        let keys: Vec<&str> = subjects.iter().flatten().map(String::as_str).collect();
        let readings = catalog.understandings(&keys).await?;
        let rows: Vec<(i64, String, String, Option<String>)> = metas
            .into_iter()
            .zip(subjects)
            .map(|((id, m), subject)| {
                let understood: Option<Understanding> = subject
                    .as_ref()
                    .and_then(|s| readings.get(s))
                    .and_then(|json| serde_json::from_str(json).ok());
                let text = m.map_or_else(String::new, |m| describe(&m, "", understood.as_ref()));
                let hash = description_hash(&text);
                (id, text, hash, subject)
            })
            .collect();
        catalog.set_descriptions(&rows).await?;
        done += rows.len() as u64;
        tracker.emit(done, None, false);
    }
    tracker.emit(done, Some(done), true);
    Ok(done)
}

/// Embeds and indexes every described item whose index row is missing or
/// stale. The catalog records an item as indexed only after the index
/// committed its row, so an interruption repeats at most one batch.
pub(crate) async fn embed_pending(
    lib: &Store,
    index: &Index,
    opts: &ScanOptions,
    tracker: &mut Tracker,
) -> Result<u64> {
    let catalog = lib.catalog();
    let embedder = lib.embedder().await?;
    let prototypes = lib.prototypes().await?;
    let total = catalog.counts().await?.pending_index as u64;
    tracker.enter(Phase::Embed, Some(total));
    let mut after = 0;
    let mut done = 0u64;
    loop {
        check_cancel(opts)?;
        let batch = catalog.items_to_index(after, EMBED_CHUNK as i64).await?;
        let Some(last) = batch.last() else { break };
        after = last.item.id;
        let texts: Vec<String> = batch.iter().map(|r| r.text().to_string()).collect();
        let embedder = embedder.clone();
        let vectors = tokio::task::spawn_blocking(move || embedder.embed(texts))
            .await
            .map_err(Error::internal)??;
        let profiles: Vec<Profile> = batch
            .iter()
            .zip(&vectors)
            .map(|(r, v)| profile_of(&r.item, &r.description_hash, v, &prototypes))
            .collect();
        let rows: Vec<moodshelf_index::Row> = batch
            .iter()
            .zip(vectors)
            .map(|(r, vector)| moodshelf_index::Row {
                id: r.item.id,
                root_id: r.item.root_id,
                kind: r.item.kind,
                title: r.item.title.clone(),
                creator: r.item.creator.clone(),
                year: r.item.year,
                duration_secs: r.item.duration_secs,
                genres: r.item.genres.clone(),
                text: r.text().to_string(),
                vector,
            })
            .collect();
        index.upsert(&rows).await?;
        let marks: Vec<(i64, String)> = batch
            .iter()
            .map(|r| (r.item.id, r.description_hash.clone()))
            .collect();
        catalog.mark_indexed(&marks).await?;
        catalog.set_profiles(&profiles).await?;
        done += marks.len() as u64;
        tracker.emit(done, Some(total.max(done)), false);
    }
    tracker.emit(done, Some(total.max(done)), true);
    Ok(done)
}

/// Profiles indexed items whose profile is missing or stale, reading their
/// vectors back from the index.
pub(crate) async fn profile_pending(
    lib: &Store,
    opts: &ScanOptions,
    tracker: &mut Tracker,
) -> Result<u64> {
    let catalog = lib.catalog();
    let version = crate::profile::version_key();
    let total = catalog.profiles_pending(&version).await? as u64;
    tracker.enter(Phase::Profile, Some(total));
    if total == 0 {
        tracker.emit(0, Some(0), true);
        return Ok(0);
    }
    let index = lib.index().await?;
    let prototypes = lib.prototypes().await?;
    let mut after = 0;
    let mut done = 0u64;
    loop {
        check_cancel(opts)?;
        let batch = catalog.items_to_profile(&version, after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = last.item.id;
        let ids: Vec<i64> = batch.iter().map(|w| w.item.id).collect();
        let vectors = index.vectors(&ids).await?;
        let profiles: Vec<Profile> = batch
            .iter()
            .filter_map(|w| {
                let v = vectors.get(&w.item.id)?;
                Some(profile_of(&w.item, &w.description_hash, v, &prototypes))
            })
            .collect();
        catalog.set_profiles(&profiles).await?;
        done += batch.len() as u64;
        tracker.emit(done, Some(total.max(done)), false);
    }
    tracker.emit(done, Some(total.max(done)), true);
    Ok(done)
}

fn profile_of(
    item: &ItemView,
    description_hash: &str,
    vector: &[f32],
    prototypes: &crate::profile::Prototypes,
) -> Profile {
    // The catalog only stores metadata this crate wrote; an item whose
    // metadata does not parse is profiled by its embedding alone.
    let meta = serde_json::from_str::<Metadata>(&item.meta)
        .unwrap_or_else(|_| Metadata::new(item.kind, ""));
    crate::profile::profile(item.id, &meta, description_hash, vector, prototypes)
}

/// Makes the index agree with the catalog: rows for items that no longer
/// exist are dropped (a crash between the two deletes), and items the
/// catalog believes indexed but the index lacks are queued again.
async fn reconcile(lib: &Store, index: &moodshelf_index::Index) -> Result<()> {
    let catalog = lib.catalog();
    let in_index: HashSet<i64> = index.ids().await?.into_iter().collect();
    let in_catalog: HashSet<i64> = catalog.item_ids().await?.into_iter().collect();
    let orphans: Vec<i64> = in_index.difference(&in_catalog).copied().collect();
    if !orphans.is_empty() {
        index.delete(&orphans).await?;
    }
    let lost: Vec<i64> = in_catalog.difference(&in_index).copied().collect();
    if !lost.is_empty() {
        catalog.forget_indexed(&lost).await?;
    }
    Ok(())
}

/// Walks one root: lists the files the library reads with their size and
/// time, and what could not be seen (unreadable folders, links that leave
/// the root or loop). Stops early, with what it has, when cancelled.
fn walk_root(root: &Path, ignore: &[String], cancel: &AtomicBool) -> RootWalk {
    let mut walk = RootWalk::default();
    if std::fs::read_dir(root).is_err() {
        walk.unreadable = true;
        return walk;
    }
    // Links are followed only while they stay inside the root: a link to
    // `/` or to another disk would otherwise pull the whole system in.
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut escaping: Vec<PathBuf> = Vec::new();
    let entries = walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| walk_enters(e, ignore, &real_root, &mut escaping));
    let mut loops = 0usize;
    for (n, entry) in entries.enumerate() {
        if n % 1024 == 0 && cancel.load(Ordering::Relaxed) {
            break;
        }
        match entry {
            Ok(entry) => walk.note_entry(&entry),
            Err(e) => loops += usize::from(walk.note_error(&e)),
        }
    }
    walk.warnings.extend(link_warnings(root, &escaping, loops));
    walk
}

/// Whether the walk goes into `e`: not into an ignored folder, and through
/// a link only while it stays inside the root (`real_root`); a link that
/// leaves it is added to `escaping`, for the warning.
fn walk_enters(
    e: &walkdir::DirEntry,
    ignore: &[String],
    real_root: &Path,
    escaping: &mut Vec<PathBuf>,
) -> bool {
    if e.depth() > 0
        && e.file_type().is_dir()
        && e.file_name()
            .to_str()
            .is_some_and(|n| ignore.iter().any(|i| i == n))
    {
        return false;
    }
    if e.path_is_symlink() {
        let inside =
            std::fs::canonicalize(e.path()).is_ok_and(|target| target.starts_with(real_root));
        if !inside {
            escaping.push(e.path().to_path_buf());
            return false;
        }
    }
    true
}

/// The warnings about links the walk of `root` did not follow: those that
/// leave the folder (`escaping`) and those that loop back (`loops`).
fn link_warnings(root: &Path, escaping: &[PathBuf], loops: usize) -> Vec<String> {
    let mut warnings = Vec::new();
    if !escaping.is_empty() {
        warnings.push(format!(
            "{}: {} link(s) point outside the folder and were not followed (first: {})",
            root.display(),
            escaping.len(),
            escaping[0].display()
        ));
    }
    if loops > 0 {
        warnings.push(format!(
            "{}: {loops} link(s) loop back to a folder above them and were skipped",
            root.display()
        ));
    }
    warnings
}

impl RootWalk {
    /// Keeps a walked entry that is a file the library reads (media or a
    /// sidecar). One whose metadata cannot be read is unseen, not gone.
    fn note_entry(&mut self, entry: &walkdir::DirEntry) {
        if !entry.file_type().is_file() {
            return;
        }
        let path = entry.path();
        let Some(role) = moodshelf_media::classify(path) else {
            return;
        };
        let Ok(meta) = entry.metadata() else {
            self.failed_dirs.push(path.to_path_buf());
            return;
        };
        self.files.push(Found {
            path: path.to_path_buf(),
            size: meta.len() as i64,
            mtime_ns: mtime_ns(&meta),
            role: match role {
                Role::Media(_) => FileRole::Media,
                Role::Sidecar => FileRole::Sidecar,
            },
        });
    }

    /// Notes an entry the walk could not take. Returns whether it was a link
    /// looping back to a folder above it (counted for one warning).
    fn note_error(&mut self, e: &walkdir::Error) -> bool {
        if e.loop_ancestor().is_some() {
            // A link back to a folder above it: skipped, reported once
            // at the end of the walk, and nothing under it is "missing".
            if let Some(p) = e.path() {
                self.failed_dirs.push(p.to_path_buf());
            }
            return true;
        }
        if let Some(p) = e.path() {
            // Whatever is under an unreadable folder is unseen, not gone.
            self.failed_dirs.push(p.to_path_buf());
            self.errors.push(FileError {
                path: path_str(p),
                error: e.to_string(),
            });
        }
        false
    }
}

/// The files under `dir` (a folder copied or moved into `root` while it is
/// watched), following links only while they stay inside the root, as the
/// full scan's walk does: a link to `/` must not pull the system in.
pub(crate) fn files_within(dir: &Path, root: &Path) -> Vec<PathBuf> {
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let inside = |p: &Path| std::fs::canonicalize(p).is_ok_and(|t| t.starts_with(&real_root));
    if !inside(dir) {
        return Vec::new();
    }
    walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| !e.path_is_symlink() || inside(e.path()))
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect()
}

pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Of the files the walk did not list, those to forget now: each absence
/// is confirmed as the watcher confirms one ([`crate::absence`]). A file
/// that is there after all is left alone; one whose absence cannot be
/// confirmed (a network share, a folder that lists empty) is hidden, and
/// forgotten only once [`SCANS_TO_AGREE`] scans in a row missed it.
async fn settle_missing(
    catalog: &moodshelf_catalog::Catalog,
    missing: Vec<FileRecord>,
    roots: &[Root],
    now: i64,
) -> Result<Vec<i64>> {
    let polled: Vec<PathBuf> = roots
        .iter()
        .filter(|r| crate::watch::network_fs(&r.path).is_some())
        .map(|r| r.path.clone())
        .collect();
    let paths: Vec<PathBuf> = missing
        .iter()
        .map(|f| crate::names::decode(&f.path))
        .collect();
    let emptied = crate::absence::emptied(paths.iter().map(PathBuf::as_path));
    let mut gone = Vec::new();
    let mut unsure = Vec::new();
    for (f, path) in missing.iter().zip(&paths) {
        match presence(path, roots, &polled) {
            Presence::Present => {}
            Presence::Gone if !emptied.iter().any(|d| path.starts_with(d)) => gone.push(f.id),
            Presence::Gone | Presence::Unconfirmed => unsure.push(f.id),
        }
    }
    for (id, missed) in catalog.mark_missed_by_scan(&unsure, now).await? {
        if missed >= SCANS_TO_AGREE {
            gone.push(id);
        }
    }
    Ok(gone)
}

fn diff_root(root_id: i64, walk: RootWalk, known: Vec<FileRecord>) -> Diff {
    let mut diff = Diff::default();
    let mut known: HashMap<String, FileRecord> =
        known.into_iter().map(|f| (f.path.clone(), f)).collect();
    let mut dirty_dirs: HashSet<PathBuf> = HashSet::new();
    let mut candidates = Vec::new();
    for found in walk.files {
        let key = path_str(&found.path);
        match known.remove(&key) {
            Some(rec)
                if rec.size == found.size
                    && rec.mtime_ns == found.mtime_ns
                    && !(rec.state == FileState::Error
                        && rec.reader < moodshelf_media::READER_VERSION)
                    && rec.reader >= moodshelf_media::READ_AGAIN_BELOW =>
            {
                if rec.missing_since.is_some() {
                    diff.found_again.push(rec.id);
                }
                diff.unchanged += 1;
                // Keep unchanged media around in case a sidecar beside it
                // changed.
                if found.role == FileRole::Media {
                    candidates.push((found, rec));
                }
            }
            existing => {
                if found.role == FileRole::Sidecar
                    && let Some(dir) = moodshelf_media::described_folder(&found.path)
                {
                    dirty_dirs.insert(dir.to_path_buf());
                }
                diff.work.push(Work {
                    root_id,
                    found,
                    existing,
                });
            }
        }
    }
    // What is left in `known` was not seen on disk.
    let missing: Vec<FileRecord> = known
        .into_values()
        .filter(|f| {
            !walk
                .failed_dirs
                .iter()
                .any(|d| crate::names::decode(&f.path).starts_with(d))
        })
        .collect();
    for f in &missing {
        if f.role == FileRole::Sidecar
            && let Some(dir) = moodshelf_media::described_folder(&crate::names::decode(&f.path))
                .map(Path::to_path_buf)
        {
            dirty_dirs.insert(dir.to_path_buf());
        }
    }
    // A changed sidecar means its neighbours must be read again.
    for (found, rec) in candidates {
        if found.path.parent().is_some_and(|d| dirty_dirs.contains(d)) {
            diff.unchanged -= 1;
            diff.work.push(Work {
                root_id,
                found,
                existing: Some(rec),
            });
        }
    }
    diff.missing = missing;
    diff
}

/// Pairs new media files with missing ones of the same size and content
/// fingerprint, across all roots scanned: those are moves (or renames),
/// not a deletion and an addition. Removes the pairs from `work` and
/// `missing` and returns them with the destination's root.
pub(crate) fn match_moves(
    work: &mut Vec<Work>,
    missing: &mut Vec<FileRecord>,
) -> Vec<(FileRecord, Found, i64)> {
    let mut by_size: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, m) in missing.iter().enumerate() {
        if m.role == FileRole::Media && m.fingerprint.is_some() {
            by_size.entry(m.size).or_default().push(i);
        }
    }
    let mut moves = Vec::new();
    if by_size.is_empty() {
        return moves;
    }
    let mut moved_missing: HashSet<usize> = HashSet::new();
    work.retain(|w| {
        if w.existing.is_some() || w.found.role != FileRole::Media {
            return true;
        }
        let Some(cands) = by_size.get(&w.found.size) else {
            return true;
        };
        let Ok(fp) = moodshelf_media::fingerprint(&w.found.path) else {
            return true;
        };
        let hit = cands.iter().copied().find(|i| {
            !moved_missing.contains(i) && missing[*i].fingerprint.as_deref() == Some(&fp)
        });
        match hit {
            Some(i) => {
                moved_missing.insert(i);
                moves.push((missing[i].clone(), w.found.clone(), w.root_id));
                false
            }
            None => true,
        }
    });
    let mut i = 0;
    missing.retain(|_| {
        let keep = !moved_missing.contains(&i);
        i += 1;
        keep
    });
    moves
}

/// A path as the catalog keeps it (exactly, even when it is not UTF-8; see
/// [`crate::names`]).
pub(crate) fn path_str(p: &Path) -> String {
    crate::names::encode(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, path: &Path, role: FileRole, fingerprint: Option<String>) -> FileRecord {
        let meta = std::fs::metadata(path).ok();
        FileRecord {
            id,
            root_id: 1,
            path: path_str(path),
            role,
            size: meta.as_ref().map_or(10, |m| m.len() as i64),
            mtime_ns: meta.as_ref().map_or(1, mtime_ns),
            fingerprint,
            item_id: Some(id),
            state: moodshelf_catalog::FileState::Ok,
            reader: moodshelf_media::READER_VERSION,
            missing_since: None,
        }
    }

    fn found(path: &Path, role: FileRole) -> Found {
        let meta = std::fs::metadata(path).unwrap();
        Found {
            path: path.to_path_buf(),
            size: meta.len() as i64,
            mtime_ns: mtime_ns(&meta),
            role,
        }
    }

    fn walk(files: Vec<Found>, failed_dirs: Vec<PathBuf>) -> RootWalk {
        RootWalk {
            files,
            failed_dirs,
            unreadable: false,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn a_moved_file_is_recognised_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.mp3");
        let new = dir.path().join("sub").join("new.mp3");
        std::fs::create_dir_all(new.parent().unwrap()).unwrap();
        std::fs::write(&new, vec![7u8; 50_000]).unwrap();
        let fp = moodshelf_media::fingerprint(&new).unwrap();
        let mut old_rec = record(1, &new, FileRole::Media, Some(fp));
        old_rec.path = path_str(&old);
        // The old place was under another root: moves cross roots.
        old_rec.root_id = 7;
        let mut diff_old = diff_root(7, walk(vec![], vec![]), vec![old_rec]);
        let mut diff_new = diff_root(1, walk(vec![found(&new, FileRole::Media)], vec![]), vec![]);
        let moves = match_moves(&mut diff_new.work, &mut diff_old.missing);
        assert_eq!(moves.len(), 1, "same size and fingerprint: a move");
        assert_eq!(moves[0].2, 1, "into the new root");
        assert!(diff_old.missing.is_empty() && diff_new.work.is_empty());
    }

    #[test]
    fn a_failed_file_is_read_again_when_the_readers_change() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.mp3");
        std::fs::write(&f, b"x").unwrap();
        let mut rec = record(1, &f, FileRole::Media, None);
        rec.state = moodshelf_catalog::FileState::Error;
        let diff = diff_root(
            1,
            walk(vec![found(&f, FileRole::Media)], vec![]),
            vec![rec.clone()],
        );
        assert!(diff.work.is_empty(), "same readers, same file: not again");
        rec.reader = moodshelf_media::READER_VERSION - 1;
        let diff = diff_root(
            1,
            walk(vec![found(&f, FileRole::Media)], vec![]),
            vec![rec.clone()],
        );
        assert_eq!(diff.work.len(), 1, "newer readers try again");
        rec.state = moodshelf_catalog::FileState::Ok;
        rec.missing_since = Some(5);
        rec.reader = moodshelf_media::READ_AGAIN_BELOW - 1;
        let diff = diff_root(
            1,
            walk(vec![found(&f, FileRole::Media)], vec![]),
            vec![rec.clone()],
        );
        assert_eq!(
            diff.work.len(),
            1,
            "read well by readers that missed something"
        );
        rec.reader = moodshelf_media::READER_VERSION;
        let diff = diff_root(1, walk(vec![found(&f, FileRole::Media)], vec![]), vec![rec]);
        assert_eq!(diff.found_again, vec![1]);
    }

    #[test]
    fn files_under_an_unreadable_folder_are_not_missing() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("locked").join("a.mp3");
        let rec = record(1, &gone, FileRole::Media, None);
        let diff = diff_root(
            1,
            walk(vec![], vec![dir.path().join("locked")]),
            vec![rec.clone()],
        );
        assert!(diff.missing.is_empty(), "unseen is not gone");
        let diff = diff_root(1, walk(vec![], vec![]), vec![rec]);
        assert_eq!(diff.missing.len(), 1);
    }

    #[test]
    fn a_changed_sidecar_rereads_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("Film (2001).mkv");
        let nfo = dir.path().join("Film (2001).nfo");
        std::fs::write(&video, b"x").unwrap();
        std::fs::write(&nfo, b"<movie/>").unwrap();
        let video_rec = record(1, &video, FileRole::Media, None);
        let mut nfo_rec = record(2, &nfo, FileRole::Sidecar, None);
        nfo_rec.mtime_ns -= 1; // edited since the last scan
        let diff = diff_root(
            1,
            walk(
                vec![
                    found(&video, FileRole::Media),
                    found(&nfo, FileRole::Sidecar),
                ],
                vec![],
            ),
            vec![video_rec, nfo_rec],
        );
        let paths: Vec<&Path> = diff.work.iter().map(|w| w.found.path.as_path()).collect();
        assert!(paths.contains(&video.as_path()), "the video is read again");
        assert_eq!(diff.unchanged, 0);
    }
}
