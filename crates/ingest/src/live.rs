//! Keeps the library live: the controller that turns [`PathEvent`]s into
//! catalog and index updates, checks that roots are still there, and falls
//! back to rescans and polling when the operating system loses events.
//!
//! Events arrive debounced per path; the controller gathers a burst (a
//! whole album copied in) into one update, reads only the files involved,
//! and embeds only the items whose description changed. A root that
//! vanishes (an unmounted disk) is marked unavailable, never emptied; when
//! it returns it is rescanned.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moodshelf_catalog::{Catalog, FileRecord, FileRole, Root, RootState};
use moodshelf_media::Role;
use serde::Serialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use crate::absence::{Presence, has_entries, presence};
use crate::error::{Code, Error, Result};
use crate::jobs::Tracker;
use crate::scan::{self, Found, ScanOptions, ScanReport, Work, mtime_ns, path_str};
use crate::store::Store;
use crate::watch::{self, PathEvent, RootWatch, WatchConfig, WatchMode};

/// What the controller tells its host.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum WatchEvent {
    Watching {
        root: String,
        mode: WatchMode,
    },
    Note {
        message: String,
    },
    Updated {
        added: u64,
        changed: u64,
        moved: u64,
        removed: u64,
        errors: u64,
        embedded: u64,
        elapsed_ms: f64,
    },
    RootUnavailable {
        root: String,
    },
    RootAvailable {
        root: String,
    },
    Rescanned {
        root: String,
        added: u64,
        changed: u64,
        removed: u64,
    },
    Error {
        message: String,
    },
}

pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

#[derive(Clone)]
pub struct WatchOptions {
    pub config: WatchConfig,
    /// How often roots are checked for disappearing and returning.
    pub availability_every: Duration,
    /// How long to wait for more events before applying a burst.
    pub settle: Duration,
    /// How often the index is compacted while changes keep coming.
    pub optimize_every: Duration,
    /// The current time (Unix seconds): read at the edge, passed in.
    pub clock: Clock,
}

impl WatchOptions {
    pub fn new(clock: Clock) -> WatchOptions {
        WatchOptions {
            config: WatchConfig::default(),
            availability_every: Duration::from_secs(5),
            settle: Duration::from_millis(200),
            optimize_every: Duration::from_secs(300),
            clock,
        }
    }
}

pub struct WatchHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<Result<()>>,
}

impl WatchHandle {
    /// Stops watching and waits for the update in progress to finish.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.task.await.map_err(Error::internal)?
    }
}

/// The changes gathered from one burst of events.
#[derive(Default, Debug)]
struct Burst {
    changed: BTreeSet<PathBuf>,
    removed: BTreeSet<PathBuf>,
    renamed: Vec<(PathBuf, PathBuf)>,
    rescan: BTreeSet<PathBuf>,
    limit: BTreeSet<PathBuf>,
    errors: Vec<String>,
}

impl Burst {
    fn add(&mut self, ev: PathEvent) {
        match ev {
            PathEvent::Changed(p) => {
                self.removed.remove(&p);
                self.changed.insert(p);
            }
            PathEvent::Removed(p) => {
                self.changed.remove(&p);
                self.removed.insert(p);
            }
            PathEvent::Renamed { from, to } => self.renamed.push((from, to)),
            PathEvent::Rescan(root) => {
                self.rescan.insert(root);
            }
            PathEvent::LimitReached(root) => {
                self.limit.insert(root);
            }
            PathEvent::Error(e) => self.errors.push(e),
        }
    }

    fn is_file_change(&self) -> bool {
        !(self.changed.is_empty() && self.removed.is_empty() && self.renamed.is_empty())
    }
}

/// Counts of one applied burst.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UpdateSummary {
    pub added: u64,
    pub changed: u64,
    pub moved: u64,
    pub removed: u64,
    pub errors: u64,
    pub embedded: u64,
    /// Files not seen whose absence could not be confirmed: hidden, kept.
    pub missing: u64,
}

/// Starts keeping the library live. Events go to `on_event` from the
/// controller task; call [`WatchHandle::stop`] to end.
pub async fn watch(
    store: &Arc<Store>,
    opts: WatchOptions,
    on_event: impl Fn(WatchEvent) + Send + Sync + 'static,
) -> Result<WatchHandle> {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let lib = store.clone();
    let task =
        tokio::spawn(async move { controller(lib, opts, Arc::new(on_event), stop_rx).await });
    Ok(WatchHandle { stop, task })
}

type Emit = Arc<dyn Fn(WatchEvent) + Send + Sync>;

async fn controller(
    lib: Arc<Store>,
    opts: WatchOptions,
    emit: Emit,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    let (tx, mut rx) = unbounded_channel::<PathEvent>();
    let mut watches: HashMap<PathBuf, RootWatch> = HashMap::new();
    sync_watches(&lib, &opts, &tx, &mut watches, &emit).await?;
    let mut availability = tokio::time::interval(opts.availability_every);
    availability.tick().await;
    let mut last_optimize = Instant::now();
    let mut dirty = false;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                let burst = gather(ev, &mut rx, opts.settle).await;
                if let Err(e) = handle_burst(&lib, &opts, burst, &tx, &mut watches, &emit).await {
                    emit(WatchEvent::Error { message: e.message.clone() });
                }
                dirty = true;
            }
            _ = availability.tick() => {
                if let Err(e) = check_roots(&lib, &opts, &tx, &mut watches, &emit).await {
                    emit(WatchEvent::Error { message: e.message.clone() });
                }
                if dirty && last_optimize.elapsed() >= opts.optimize_every {
                    lib.optimize_index_if_free().await;
                    last_optimize = Instant::now();
                    dirty = false;
                }
            }
        }
    }
    if dirty {
        lib.optimize_index_if_free().await;
    }
    Ok(())
}

/// Collects events until none arrive for `settle`.
async fn gather(
    first: PathEvent,
    rx: &mut UnboundedReceiver<PathEvent>,
    settle: Duration,
) -> Burst {
    let mut burst = Burst::default();
    burst.add(first);
    while let Ok(Some(ev)) = tokio::time::timeout(settle, rx.recv()).await {
        burst.add(ev);
    }
    burst
}

/// Handles one burst: reports the watcher's errors, polls the roots where
/// the system's limit on watches was reached, rescans the roots whose
/// events were dropped (those included), then applies the file changes.
async fn handle_burst(
    lib: &Store,
    opts: &WatchOptions,
    burst: Burst,
    tx: &UnboundedSender<PathEvent>,
    watches: &mut HashMap<PathBuf, RootWatch>,
    emit: &Emit,
) -> Result<()> {
    for e in &burst.errors {
        emit(WatchEvent::Error { message: e.clone() });
    }
    poll_past_limit(opts, &burst.limit, tx, watches, emit);
    let mut rescan = burst.rescan.clone();
    rescan.extend(burst.limit.iter().cloned());
    for root in rescan {
        emit(WatchEvent::Note {
            message: format!(
                "the system dropped file events for {}; rescanning it",
                root.display()
            ),
        });
        // Folders created while events were dropped were never watched:
        // the watch is built again, whole, before the rescan, so nothing
        // that happens from now on is missed.
        if !burst.limit.contains(&root)
            && watches
                .get(&root)
                .is_some_and(|w| w.mode == WatchMode::Live)
        {
            watches.remove(&root);
            sync_watches(lib, opts, tx, watches, emit).await?;
        }
        let report = rescan_root(lib, opts, &root).await?;
        emit(rescanned(&root, &report));
    }
    if burst.is_file_change() {
        apply_and_report(lib, opts, &burst, watches, emit).await?;
    }
    Ok(())
}

/// Watches the roots in `limit`, where the system's limit on watched files
/// was reached, by polling instead, and tells the host why and how they are
/// watched now. The caller rescans them: events were lost on the way.
fn poll_past_limit(
    opts: &WatchOptions,
    limit: &BTreeSet<PathBuf>,
    tx: &UnboundedSender<PathEvent>,
    watches: &mut HashMap<PathBuf, RootWatch>,
    emit: &Emit,
) {
    for root in limit {
        let w = watch::poll_instead(root, &opts.config, tx.clone());
        emit(WatchEvent::Note {
            message: watch::fallback_message(
                root,
                &notify_debouncer_full::notify::Error::new(
                    notify_debouncer_full::notify::ErrorKind::MaxFilesWatch,
                ),
                &opts.config,
            ),
        });
        emit(WatchEvent::Watching {
            root: path_str(root),
            mode: w.mode,
        });
        watches.insert(root.clone(), w);
    }
}

/// Applies the burst's file changes and tells the host what came of them:
/// a note when files could not be seen, and the counts when anything else
/// happened.
async fn apply_and_report(
    lib: &Store,
    opts: &WatchOptions,
    burst: &Burst,
    watches: &HashMap<PathBuf, RootWatch>,
    emit: &Emit,
) -> Result<()> {
    let started = Instant::now();
    let polled: Vec<PathBuf> = watches
        .values()
        .filter(|w| w.mode != WatchMode::Live)
        .map(|w| w.root.clone())
        .collect();
    let s = apply_changes(lib, burst, &polled, (opts.clock)()).await?;
    if s.missing > 0 {
        emit(WatchEvent::Note {
            message: format!(
                "{} file(s) could not be seen (a folder unreadable or a share not listing); \
                 their items are hidden and kept until a scan finds them or sees their folder whole",
                s.missing
            ),
        });
    }
    if s != (UpdateSummary {
        missing: s.missing,
        ..UpdateSummary::default()
    }) {
        emit(WatchEvent::Updated {
            added: s.added,
            changed: s.changed,
            moved: s.moved,
            removed: s.removed,
            errors: s.errors,
            embedded: s.embedded,
            elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
        });
    }
    Ok(())
}

fn rescanned(root: &Path, r: &ScanReport) -> WatchEvent {
    WatchEvent::Rescanned {
        root: path_str(root),
        added: r.added,
        changed: r.changed,
        removed: r.removed,
    }
}

async fn rescan_root(lib: &Store, opts: &WatchOptions, root: &Path) -> Result<ScanReport> {
    let mut scan_opts = ScanOptions::new((opts.clock)());
    scan_opts.roots = Some(vec![root.to_path_buf()]);
    let _writer = lib.writer().await?;
    scan::run(lib, scan_opts).await
}

/// Starts watches for roots that have none, drops watches of roots that
/// were removed from the library.
async fn sync_watches(
    lib: &Store,
    opts: &WatchOptions,
    tx: &UnboundedSender<PathEvent>,
    watches: &mut HashMap<PathBuf, RootWatch>,
    emit: &Emit,
) -> Result<Vec<Root>> {
    let roots = lib.catalog().roots().await?;
    watches.retain(|p, _| roots.iter().any(|r| &r.path == p));
    for r in &roots {
        if r.state == RootState::Ok && !watches.contains_key(&r.path) {
            let (w, note) = watch::watch_root(&r.path, &opts.config, tx.clone());
            if let Some(message) = note {
                emit(WatchEvent::Note { message });
            }
            emit(WatchEvent::Watching {
                root: path_str(&r.path),
                mode: w.mode,
            });
            if w.mode != WatchMode::Unavailable {
                watches.insert(r.path.clone(), w);
            }
        }
    }
    Ok(roots)
}

/// Notices roots that vanished or came back.
async fn check_roots(
    lib: &Store,
    opts: &WatchOptions,
    tx: &UnboundedSender<PathEvent>,
    watches: &mut HashMap<PathBuf, RootWatch>,
    emit: &Emit,
) -> Result<()> {
    let roots = lib.catalog().roots().await?;
    for r in roots {
        let present = has_entries(&r.path);
        match (r.state, present) {
            (RootState::Ok, false) => {
                // An empty folder that never had files is just empty.
                let known = lib
                    .catalog()
                    .files_with_prefix(&dir_prefix(&r.path))
                    .await?;
                if known.is_empty() {
                    continue;
                }
                lib.catalog()
                    .set_root_state(r.id, RootState::Unavailable)
                    .await?;
                watches.remove(&r.path);
                emit(WatchEvent::RootUnavailable {
                    root: path_str(&r.path),
                });
            }
            (RootState::Unavailable, true) => {
                emit(WatchEvent::RootAvailable {
                    root: path_str(&r.path),
                });
                let report = rescan_root(lib, opts, &r.path).await?;
                emit(rescanned(&r.path, &report));
            }
            _ => {}
        }
    }
    sync_watches(lib, opts, tx, watches, emit).await?;
    Ok(())
}

fn dir_prefix(p: &Path) -> String {
    let mut s = path_str(p);
    if !s.ends_with(std::path::MAIN_SEPARATOR) {
        s.push(std::path::MAIN_SEPARATOR);
    }
    s
}

/// The root a path belongs to (the longest matching one).
fn root_of<'a>(roots: &'a [Root], p: &Path) -> Option<&'a Root> {
    roots
        .iter()
        .filter(|r| p.starts_with(&r.path) && r.state == RootState::Ok)
        .max_by_key(|r| r.path.as_os_str().len())
}

fn stat(p: &Path, role: FileRole) -> Option<Found> {
    let meta = std::fs::metadata(p).ok()?;
    meta.is_file().then(|| Found {
        path: p.to_path_buf(),
        size: meta.len() as i64,
        mtime_ns: mtime_ns(&meta),
        role,
    })
}

fn role_of(p: &Path) -> Option<FileRole> {
    moodshelf_media::classify(p).map(|r| match r {
        Role::Media(_) => FileRole::Media,
        Role::Sidecar => FileRole::Sidecar,
    })
}

/// Moves the watcher saw as a deletion here and a new file there (between
/// two roots, across disks, a copy then a delete): a new file with the
/// content fingerprint of a vanished one is that file, as a full scan
/// decides, and keeps its item, likes and history. Returns how many.
async fn follow_moves(
    lib: &Store,
    work: &mut Vec<Work>,
    mut vanished: Vec<FileRecord>,
    remove: &mut Vec<i64>,
    missing: &mut Vec<i64>,
) -> Result<u64> {
    if vanished.is_empty() {
        return Ok(0);
    }
    let moves = scan::match_moves(work, &mut vanished);
    for (record, found, root_id) in &moves {
        remove.retain(|id| *id != record.id);
        missing.retain(|id| *id != record.id);
        lib.catalog()
            .move_file(
                record.id,
                *root_id,
                &path_str(&found.path),
                found.size,
                found.mtime_ns,
            )
            .await?;
        work.push(Work {
            root_id: *root_id,
            existing: Some(FileRecord {
                path: path_str(&found.path),
                root_id: *root_id,
                missing_since: None,
                ..record.clone()
            }),
            found: found.clone(),
        });
    }
    Ok(moves.len() as u64)
}

/// What a burst is applied against, read once and shared by every step.
struct Scope<'a> {
    lib: &'a Store,
    roots: Vec<Root>,
    /// Roots watched by polling: absences seen there are only marked.
    polled: &'a [PathBuf],
}

/// What applying one burst has gathered so far, step by step.
#[derive(Default)]
struct Gathered {
    /// Files to read.
    work: Vec<Work>,
    /// Files confirmed gone: forgotten.
    remove: Vec<i64>,
    /// Files whose absence could not be confirmed: hidden, kept.
    missing: Vec<i64>,
    /// Files that vanished in this burst: one that appears elsewhere with
    /// the same content is the same file, moved.
    vanished: Vec<FileRecord>,
    /// Paths to look at: files to stat, folders to walk.
    changed: BTreeSet<PathBuf>,
}

/// Applies one burst of file changes to the catalog and index. Roots in
/// `polled` are watched by polling: absences seen there are only marked.
async fn apply_changes(
    lib: &Store,
    burst: &Burst,
    polled: &[PathBuf],
    now: i64,
) -> Result<UpdateSummary> {
    let _writer = lib.writer().await?;
    let catalog = lib.catalog();
    let scope = Scope {
        lib,
        roots: catalog.roots().await?,
        polled,
    };
    let mut summary = UpdateSummary::default();
    let mut g = Gathered {
        changed: burst.changed.clone(),
        ..Gathered::default()
    };

    summary.moved += apply_renames(&scope, &burst.renamed, &mut g).await?;
    apply_removals(&scope, &burst.removed, &mut g).await?;

    // Changed paths: files are read if their size or time changed; folders
    // (copied or moved in) are walked.
    let mut seen: BTreeSet<PathBuf> = g.work.iter().map(|w| w.found.path.clone()).collect();
    let candidates = sort_changed(&scope, &mut g).await?;
    let sidecar_dirs = queue_candidates(&scope, candidates, &mut seen, &mut g.work).await?;
    // A sidecar changed: its neighbours are read again.
    reread_neighbours(catalog, sidecar_dirs, &mut seen, &mut g.work).await?;

    let Gathered {
        mut work,
        mut remove,
        mut missing,
        vanished,
        ..
    } = g;
    summary.moved += follow_moves(lib, &mut work, vanished, &mut remove, &mut missing).await?;
    let mut report = ScanReport::default();
    let mut tracker = Tracker::silent();
    let mut opts = ScanOptions::new(now);
    opts.embed = true;
    scan::extract_and_record(lib, work, &opts, &mut report, &mut tracker).await?;
    summary.added = report.added;
    summary.changed = report.changed.saturating_sub(summary.moved);
    summary.errors = report.errors;

    forget_and_hide(lib, remove, missing, now, &mut summary).await?;
    summary.embedded = describe_and_embed(lib, &opts, &mut tracker).await?;
    lib.library_changed().await;
    Ok(summary)
}

/// Renames keep identity: the file record (and its item) moves. A rename
/// that moved nothing (unknown before, or moved in from outside) leaves
/// its destination to be read as new. Returns how many files moved.
async fn apply_renames(
    scope: &Scope<'_>,
    renamed: &[(PathBuf, PathBuf)],
    g: &mut Gathered,
) -> Result<u64> {
    let mut moved = 0;
    for (from, to) in renamed {
        let n = apply_rename(scope, from, to, g).await?;
        if n == 0 {
            // Unknown before (or moved in from outside): it is new.
            g.changed.insert(to.clone());
        }
        moved += n;
    }
    Ok(moved)
}

/// Moves the records of one renamed file, or of every file under a renamed
/// folder, to the new path, and queues them to be read there. One that
/// cannot follow is hidden. Returns how many moved.
async fn apply_rename(scope: &Scope<'_>, from: &Path, to: &Path, g: &mut Gathered) -> Result<u64> {
    let catalog = scope.lib.catalog();
    let to_root = root_of(&scope.roots, to);
    let mut moved = 0;
    for (rec, dest) in renamed_records(catalog, from, to).await? {
        let found = to_root
            .and_then(|_| role_of(&dest).filter(|r| *r == rec.role))
            .and_then(|role| stat(&dest, role));
        match (to_root, found) {
            (Some(root), Some(found)) => {
                catalog
                    .move_file(
                        rec.id,
                        root.id,
                        &path_str(&dest),
                        found.size,
                        found.mtime_ns,
                    )
                    .await?;
                moved += 1;
                g.work.push(Work {
                    root_id: root.id,
                    existing: Some(FileRecord {
                        path: path_str(&dest),
                        root_id: root.id,
                        ..rec
                    }),
                    found,
                });
            }
            // Out of every root, another role (`song.mp3` renamed to
            // `song.mp3.bak` while a tagger writes), not there to stat:
            // hidden, not forgotten, until it is back or a scan
            // confirms it gone.
            _ => g.missing.push(rec.id),
        }
    }
    Ok(moved)
}

/// The records a rename from `from` to `to` touches, each with its new
/// path: the file's own, or, for a folder, those of every file under it.
async fn renamed_records(
    catalog: &Catalog,
    from: &Path,
    to: &Path,
) -> Result<Vec<(FileRecord, PathBuf)>> {
    Ok(match catalog.file_by_path(&path_str(from)).await? {
        Some(rec) => vec![(rec, to.to_path_buf())],
        None => catalog
            .files_with_prefix(&dir_prefix(from))
            .await?
            .into_iter()
            .filter_map(|rec| {
                let rel = crate::names::decode(&rec.path)
                    .strip_prefix(from)
                    .ok()?
                    .to_path_buf();
                Some((rec, to.join(rel)))
            })
            .collect(),
    })
}

/// Removed paths, each confirmed as [`crate::absence`] does: a file gone is
/// to be forgotten, one whose absence cannot be confirmed is hidden, one
/// still there is looked at again; a folder takes the files under it along.
/// A removed sidecar has its folder looked at again.
async fn apply_removals(
    scope: &Scope<'_>,
    removed: &BTreeSet<PathBuf>,
    g: &mut Gathered,
) -> Result<()> {
    let catalog = scope.lib.catalog();
    for p in removed {
        if scope.roots.iter().any(|r| &r.path == p) {
            continue; // a vanished root is the availability check's business
        }
        let sink = match presence(p, &scope.roots, scope.polled) {
            Presence::Present => {
                g.changed.insert(p.clone());
                continue;
            }
            Presence::Gone => &mut g.remove,
            Presence::Unconfirmed => &mut g.missing,
        };
        match catalog.file_by_path(&path_str(p)).await? {
            Some(rec) => {
                sink.push(rec.id);
                g.vanished.push(rec.clone());
                if rec.role == FileRole::Sidecar
                    && let Some(dir) = p.parent()
                {
                    g.changed.insert(dir.to_path_buf());
                }
            }
            None => sink.extend(
                catalog
                    .files_with_prefix(&dir_prefix(p))
                    .await?
                    .into_iter()
                    .map(|f| f.id),
            ),
        }
    }
    Ok(())
}

/// Sorts the changed paths: a folder gives the files within it (links
/// followed only inside its root), a file no longer there vanishes as a
/// removed one does, and the other files are returned, to be stat'ed.
async fn sort_changed(scope: &Scope<'_>, g: &mut Gathered) -> Result<Vec<PathBuf>> {
    let catalog = scope.lib.catalog();
    let mut candidates: Vec<PathBuf> = Vec::new();
    for p in &g.changed {
        if p.is_dir() {
            if let Some(root) = root_of(&scope.roots, p) {
                candidates.extend(scan::files_within(p, &root.path));
            }
        } else if let presence @ (Presence::Gone | Presence::Unconfirmed) =
            presence(p, &scope.roots, scope.polled)
        {
            if let Some(rec) = catalog.file_by_path(&path_str(p)).await? {
                match presence {
                    Presence::Gone => g.remove.push(rec.id),
                    _ => g.missing.push(rec.id),
                }
                g.vanished.push(rec);
            }
        } else {
            candidates.push(p.clone());
        }
    }
    Ok(candidates)
}

/// Queues the candidate files to read: those in a root, of a role the
/// library reads, outside ignored folders, not yet queued (`seen`), and
/// new, changed or hidden. Returns the folders a queued sidecar describes.
async fn queue_candidates(
    scope: &Scope<'_>,
    candidates: Vec<PathBuf>,
    seen: &mut BTreeSet<PathBuf>,
    work: &mut Vec<Work>,
) -> Result<BTreeSet<PathBuf>> {
    let catalog = scope.lib.catalog();
    let mut sidecar_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for p in candidates {
        let (Some(root), Some(role)) = (root_of(&scope.roots, &p), role_of(&p)) else {
            continue;
        };
        if scope.lib.settings().ignore_dirs.iter().any(|i| {
            p.strip_prefix(&root.path)
                .is_ok_and(|rel| rel.iter().any(|c| c == i.as_str()))
        }) {
            continue;
        }
        let Some(found) = stat(&p, role) else {
            continue;
        };
        if !seen.insert(p.clone()) {
            continue;
        }
        let existing = catalog.file_by_path(&path_str(&p)).await?;
        // Unchanged and not hidden: nothing to do. One back from a rename
        // (a tagger's `.bak`) is read again, which shows it once more.
        if existing.as_ref().is_some_and(|e| {
            e.size == found.size && e.mtime_ns == found.mtime_ns && e.missing_since.is_none()
        }) {
            continue;
        }
        if role == FileRole::Sidecar
            && let Some(dir) = moodshelf_media::described_folder(&p)
        {
            sidecar_dirs.insert(dir.to_path_buf());
        }
        work.push(Work {
            root_id: root.id,
            found,
            existing,
        });
    }
    Ok(sidecar_dirs)
}

/// Queues the media files directly in each of `dirs` (folders whose sidecar
/// changed) to be read again, unless already queued (`seen`).
async fn reread_neighbours(
    catalog: &Catalog,
    dirs: BTreeSet<PathBuf>,
    seen: &mut BTreeSet<PathBuf>,
    work: &mut Vec<Work>,
) -> Result<()> {
    for dir in dirs {
        for rec in catalog.files_with_prefix(&dir_prefix(&dir)).await? {
            let path = crate::names::decode(&rec.path);
            if rec.role != FileRole::Media
                || path.parent() != Some(dir.as_path())
                || seen.contains(&path)
            {
                continue;
            }
            if let Some(found) = stat(&path, FileRole::Media) {
                seen.insert(path);
                work.push(Work {
                    root_id: rec.root_id,
                    found,
                    existing: Some(rec),
                });
            }
        }
    }
    Ok(())
}

/// Hides the files in `missing` (those also in `remove` excepted) and
/// forgets those in `remove`, in the catalog and the index; counts both
/// in `summary`.
async fn forget_and_hide(
    lib: &Store,
    mut remove: Vec<i64>,
    mut missing: Vec<i64>,
    now: i64,
    summary: &mut UpdateSummary,
) -> Result<()> {
    let catalog = lib.catalog();
    missing.retain(|id| !remove.contains(id));
    catalog.mark_missing(&missing, now).await?;
    summary.missing = missing.len() as u64;
    remove.sort_unstable();
    remove.dedup();
    let removed_items = catalog.remove_files(&remove).await?;
    summary.removed = removed_items.len() as u64;
    if !removed_items.is_empty()
        && let Some(index) = lib.open_index_if_present().await?
    {
        index.delete(&removed_items).await?;
    }
    Ok(())
}

/// Describes the items that lack a description and, when the embedding
/// model is there, embeds and profiles them; without it they wait in the
/// catalog for the model. Returns how many were embedded.
async fn describe_and_embed(lib: &Store, opts: &ScanOptions, tracker: &mut Tracker) -> Result<u64> {
    scan::describe_pending(lib, tracker).await?;
    match lib.embedder().await {
        Ok(_) => {
            let embedded = scan::embed_pending(lib, &lib.index().await?, opts, tracker).await?;
            scan::profile_pending(lib, opts, tracker).await?;
            Ok(embedded)
        }
        Err(e) if e.code == Code::ModelMissing => Ok(0),
        Err(e) => Err(e),
    }
}
