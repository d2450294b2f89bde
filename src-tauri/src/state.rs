//! What the host keeps between commands: the open library, the scan and
//! watcher running in the background, and the host's own preferences.
//! Long work runs on tasks; commands only start it, read it or stop it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use moodshelf_engine::analysis::AnalyzeOptions;
use moodshelf_engine::enrich::EnrichOptions;
use moodshelf_engine::{
    Context, Kind, Library, Moment, Paths, Progress, ScanOptions, WatchEvent, WatchHandle,
    WatchOptions, watch::WatchMode,
};
use moodshelf_llm::Cancel;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::dto::{
    AppError, AppResult, ErrorCode, LibraryChanged, LibraryNote, ScanStatus, WatchState,
};

/// Host-only preferences, kept in `app.json` in the data dir (the engine's
/// `settings.toml` holds what the engine reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub kinds: Vec<String>,
    pub use_model: bool,
    pub autostart: bool,
    pub start_hidden: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            kinds: vec!["music".into(), "book".into(), "video".into()],
            use_model: true,
            autostart: false,
            start_hidden: false,
        }
    }
}

impl Prefs {
    fn file(paths: &Paths) -> PathBuf {
        paths.data_dir.join("app.json")
    }

    /// Reads the preferences; a damaged file gives defaults and a note,
    /// never a dead app.
    pub fn load(paths: &Paths) -> Prefs {
        match std::fs::read_to_string(Self::file(paths)) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; using defaults", Self::file(paths).display());
                Prefs::default()
            }),
            Err(_) => Prefs::default(),
        }
    }

    /// The kinds answers may hold, for `RecommendRequest::included_kinds`.
    pub fn included_kinds(&self) -> Vec<Kind> {
        self.kinds.iter().filter_map(|k| Kind::parse(k)).collect()
    }

    pub fn save(&self, paths: &Paths) -> AppResult<()> {
        let file = Self::file(paths);
        let tmp = file.with_extension("json.part");
        let text = serde_json::to_string_pretty(self).map_err(AppError::internal)?;
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &file))
            .map_err(|e| AppError::internal(format!("cannot save {}: {e}", file.display())))
    }
}

pub struct AppState {
    pub paths: Paths,
    library: tokio::sync::RwLock<Library>,
    pub prefs: Mutex<Prefs>,
    pub scan: Mutex<ScanStatus>,
    scan_cancel: Mutex<Option<Arc<AtomicBool>>>,
    /// Stops the background work (enrichment, then sound analysis), while
    /// it runs.
    background_cancel: Mutex<Option<Arc<AtomicBool>>>,
    answer_cancel: Mutex<Option<Cancel>>,
    pub fetch_cancel: Mutex<Option<Arc<AtomicBool>>>,
    watch: tokio::sync::Mutex<Option<WatchHandle>>,
    pub watch_states: Mutex<BTreeMap<String, WatchState>>,
    pub watching_paused: AtomicBool,
    /// Item ids behind the tray's quick-pick entries, by menu id.
    pub tray_picks: Mutex<BTreeMap<String, i64>>,
}

pub fn now_moment() -> Moment {
    let now = chrono::Local::now();
    Moment {
        unix: now.timestamp(),
        local: now.naive_local(),
    }
}

/// The moment now, as the recommender reads it (this host's clock and the
/// library's hemisphere).
pub fn context_now(lib: &Library) -> Context {
    Context::new(now_moment().local, lib.settings().hemisphere)
}

pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

impl AppState {
    pub async fn open(paths: Paths) -> AppResult<AppState> {
        let library = Library::open(paths.clone()).await?;
        let prefs = Prefs::load(&paths);
        Ok(AppState {
            paths,
            library: tokio::sync::RwLock::new(library),
            prefs: Mutex::new(prefs),
            scan: Mutex::new(ScanStatus {
                summary: "Idle".into(),
                ..ScanStatus::default()
            }),
            scan_cancel: Mutex::new(None),
            background_cancel: Mutex::new(None),
            answer_cancel: Mutex::new(None),
            fetch_cancel: Mutex::new(None),
            watch: tokio::sync::Mutex::new(None),
            watch_states: Mutex::new(BTreeMap::new()),
            watching_paused: AtomicBool::new(false),
            tray_picks: Mutex::new(BTreeMap::new()),
        })
    }

    /// The open library (a cheap handle).
    pub async fn library(&self) -> Library {
        self.library.read().await.clone()
    }

    pub fn prefs(&self) -> Prefs {
        self.prefs.lock().expect("prefs lock").clone()
    }

    /// Reopens the library after its settings changed (hemisphere, model
    /// files), restarting the watcher around it.
    ///
    /// One library per process: a scan in progress holds the old one, so
    /// it is cancelled and waited for first (it resumes, on the new
    /// library, where it stopped), and the old library is closed before the
    /// new one opens the same stores.
    pub async fn reopen(&self, app: &AppHandle) -> AppResult<()> {
        self.stop_background();
        let was_watching = self.stop_watching().await;
        let was_scanning = self.cancel_scan_and_wait().await;
        {
            let mut lib = self.library.write().await;
            let old = std::mem::replace(&mut *lib, Library::open(self.paths.clone()).await?);
            old.close().await;
        }
        if was_watching {
            start_watching(app).await;
        }
        if was_scanning {
            start_scan(app, None)?;
        }
        warm_up_model(app);
        Ok(())
    }

    /// Cancels the scan in progress, if any, and waits until its task has
    /// let go of the library. True when one was running.
    async fn cancel_scan_and_wait(&self) -> bool {
        let running = match self.scan_cancel.lock().expect("scan lock").as_ref() {
            Some(c) => {
                c.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        };
        // The scan checks its flag per file; each file has a deadline.
        while running && self.scan_cancel.lock().expect("scan lock").is_some() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        running
    }

    /// Stops the background work, if it runs (it goes on from where it
    /// stopped next time).
    pub fn stop_background(&self) {
        if let Some(c) = self
            .background_cancel
            .lock()
            .expect("background lock")
            .as_ref()
        {
            c.store(true, Ordering::Relaxed);
        }
    }

    /// Starts an answer; the returned token stops it (Esc).
    pub fn begin_answer(&self) -> Cancel {
        let cancel = Cancel::default();
        if let Some(old) = self
            .answer_cancel
            .lock()
            .expect("cancel lock")
            .replace(cancel.clone())
        {
            old.cancel();
        }
        cancel
    }

    pub fn stop_answer(&self) -> bool {
        match self.answer_cancel.lock().expect("cancel lock").take() {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }

    pub fn scan_status(&self) -> ScanStatus {
        self.scan.lock().expect("scan lock").clone()
    }

    pub fn cancel_scan(&self) -> bool {
        match self.scan_cancel.lock().expect("scan lock").as_ref() {
            Some(c) => {
                c.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    pub async fn stop_watching(&self) -> bool {
        let handle = self.watch.lock().await.take();
        match handle {
            Some(h) => {
                if let Err(e) = h.stop().await {
                    tracing::warn!("stopping the watcher: {}", e.message);
                }
                true
            }
            None => false,
        }
    }

    pub fn watch_state(&self, root: &str, available: bool) -> WatchState {
        if !available {
            return WatchState::Unavailable;
        }
        if self.watching_paused.load(Ordering::Relaxed) {
            return WatchState::Paused;
        }
        self.watch_states
            .lock()
            .expect("watch lock")
            .get(root)
            .copied()
            .unwrap_or(WatchState::Idle)
    }
}

fn set_scan(app: &AppHandle, mut status: ScanStatus) {
    let state = app.state::<AppState>();
    {
        let mut slot = state.scan.lock().expect("scan lock");
        // A scan's status does not erase the background line, and the
        // reverse.
        if status.background.is_none() {
            status.background = slot.background.clone();
        }
        *slot = status.clone();
    }
    let _ = status.emit(app);
    crate::tray::show_scan(app, &status.summary);
}

/// Sets or clears the background line of the status.
fn set_background(app: &AppHandle, line: Option<String>) {
    let state = app.state::<AppState>();
    let status = {
        let mut slot = state.scan.lock().expect("scan lock");
        slot.background = line;
        slot.clone()
    };
    let _ = status.emit(app);
}

fn progress_status(p: &Progress) -> ScanStatus {
    let rate = p.rate();
    let seconds_left = match p.total {
        Some(total) if rate > 0.0 && total >= p.done => Some((total - p.done) as f64 / rate),
        _ => None,
    };
    let phase = p.phase.as_str();
    let summary = match (p.total, seconds_left) {
        (Some(total), Some(left)) => format!(
            "Scanning: {phase} {}/{total}, {:.0}/s, {} left",
            p.done,
            rate,
            human_secs(left)
        ),
        (Some(total), None) => format!("Scanning: {phase} {}/{total}", p.done),
        (None, _) => format!("Scanning: {phase} {} files", p.done),
    };
    ScanStatus {
        running: true,
        phase: phase.to_string(),
        done: p.done,
        total: p.total,
        rate,
        seconds_left,
        summary,
        error: None,
        background: None,
    }
}

fn human_secs(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Starts a scan in the background (all roots, or some); progress goes
/// out as `ScanStatus` events. One scan at a time.
pub fn start_scan(app: &AppHandle, roots: Option<Vec<PathBuf>>) -> AppResult<()> {
    let state = app.state::<AppState>();
    // The scan goes first; background work resumes after it.
    state.stop_background();
    let cancel = {
        let mut slot = state.scan_cancel.lock().expect("scan lock");
        if slot.is_some() {
            return Err(AppError::new(ErrorCode::Busy, "a scan is already running"));
        }
        let c = Arc::new(AtomicBool::new(false));
        *slot = Some(c.clone());
        c
    };
    set_scan(
        app,
        ScanStatus {
            running: true,
            phase: "discover".into(),
            summary: "Scanning: starting".into(),
            ..ScanStatus::default()
        },
    );
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let lib = state.library().await;
        let mut opts = ScanOptions::new(now_unix());
        opts.roots = roots;
        opts.cancel = cancel.clone();
        let progress_app = app.clone();
        let last = Arc::new(Mutex::new(std::time::Instant::now()));
        opts.progress = Some(Arc::new(move |p: &Progress| {
            // At most ten updates a second reach the window.
            let mut last = last.lock().expect("progress lock");
            if last.elapsed().as_millis() >= 100 || p.total == Some(p.done) {
                *last = std::time::Instant::now();
                set_scan(&progress_app, progress_status(p));
            }
        }));
        let result = lib.scan(opts).await;
        // Let go of the library before saying the scan is over: a reopen
        // waits for this to close the old one.
        drop(lib);
        *state.scan_cancel.lock().expect("scan lock") = None;
        let status = match result {
            Ok(report) => {
                let _ = LibraryChanged {
                    added: report.added,
                    removed: report.removed,
                }
                .emit(&app);
                let mut summary = format!(
                    "Scanned {} files in {}: {} new, {} changed, {} removed",
                    report.discovered,
                    human_secs(report.elapsed_secs),
                    report.added,
                    report.changed,
                    report.removed
                );
                if report.errors > 0 {
                    summary.push_str(&format!(", {} unreadable", report.errors));
                }
                if cancel.load(Ordering::Relaxed) {
                    summary = "Scan stopped; the next scan goes on from here".into();
                } else {
                    start_background(&app);
                }
                ScanStatus {
                    running: false,
                    summary,
                    ..ScanStatus::default()
                }
            }
            Err(e) => ScanStatus {
                running: false,
                summary: "Scan failed".into(),
                error: Some(e.message),
                ..ScanStatus::default()
            },
        };
        set_scan(&app, status);
        crate::tray::refresh(&app).await;
    });
    Ok(())
}

/// Starts keeping the library live, unless the user paused it.
pub async fn start_watching(app: &AppHandle) {
    let state = app.state::<AppState>();
    if state.watching_paused.load(Ordering::Relaxed) {
        return;
    }
    let mut slot = state.watch.lock().await;
    if slot.is_some() {
        return;
    }
    let lib = state.library().await;
    let events_app = app.clone();
    let opts = WatchOptions::new(Arc::new(now_unix));
    match lib
        .watch(opts, move |ev| on_watch_event(&events_app, ev))
        .await
    {
        Ok(handle) => *slot = Some(handle),
        Err(e) => {
            let _ = LibraryNote {
                message: format!("Cannot watch the library folders: {}", e.message),
            }
            .emit(app);
        }
    }
}

fn on_watch_event(app: &AppHandle, ev: WatchEvent) {
    let state = app.state::<AppState>();
    let note = |message: String| {
        let _ = LibraryNote { message }.emit(app);
    };
    match ev {
        WatchEvent::Watching { root, mode } => {
            let s = match mode {
                WatchMode::Live => WatchState::Live,
                WatchMode::Polling => WatchState::Polling,
                WatchMode::Unavailable => WatchState::Unavailable,
            };
            state
                .watch_states
                .lock()
                .expect("watch lock")
                .insert(root, s);
            let _ = LibraryChanged {
                added: 0,
                removed: 0,
            }
            .emit(app);
        }
        WatchEvent::Note { message } => note(message),
        WatchEvent::Updated { added, removed, .. } => {
            let _ = LibraryChanged { added, removed }.emit(app);
            let app = app.clone();
            tauri::async_runtime::spawn(async move { crate::tray::refresh(&app).await });
        }
        WatchEvent::RootUnavailable { root } => {
            state
                .watch_states
                .lock()
                .expect("watch lock")
                .insert(root.clone(), WatchState::Unavailable);
            note(format!(
                "{root} is not available; its items are kept and come back with it"
            ));
        }
        WatchEvent::RootAvailable { root } => note(format!("{root} is back")),
        WatchEvent::Rescanned { added, removed, .. } => {
            let _ = LibraryChanged { added, removed }.emit(app);
        }
        WatchEvent::Error { message } => note(message),
    }
}

/// Loads the reasoning model in the background, when it is wanted and
/// present, so the first answer's explanation starts within seconds.
pub fn warm_up_model(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let lib = state.library().await;
        if !state.prefs().use_model || !lib.settings().reasoning_model.is_file() {
            return;
        }
        let started = std::time::Instant::now();
        match lib.warm_up().await {
            Ok(()) => tracing::info!(
                "reasoning model ready in {:.1} s",
                started.elapsed().as_secs_f64()
            ),
            Err(e) => tracing::warn!("reasoning model not loaded: {}", e.message),
        }
    });
}

/// Background work after a scan, one job after the other, each with a
/// status line, each resumable: the reasoning model reads thin items (when
/// the model is wanted and present; answers go first), then the tracks'
/// audio is analysed at low priority. A scan stops it; the next run goes
/// on from there.
pub fn start_background(app: &AppHandle) {
    let state = app.state::<AppState>();
    let cancel = {
        let mut slot = state.background_cancel.lock().expect("background lock");
        if slot.is_some() {
            return;
        }
        let c = Arc::new(AtomicBool::new(false));
        *slot = Some(c.clone());
        c
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let lib = state.library().await;
        let progress = |line: fn(&Progress) -> Option<String>| -> moodshelf_engine::ProgressFn {
            let progress_app = app.clone();
            let last = Arc::new(Mutex::new(std::time::Instant::now()));
            Arc::new(move |p: &Progress| {
                let mut last = last.lock().expect("progress lock");
                if p.done == 0 || last.elapsed().as_secs() >= 1 {
                    *last = std::time::Instant::now();
                    set_background(&progress_app, line(p));
                }
            })
        };
        let changed = || {
            let _ = LibraryChanged {
                added: 0,
                removed: 0,
            }
            .emit(&app);
        };
        if state.prefs().use_model && lib.settings().reasoning_model.is_file() {
            let mut opts = EnrichOptions::new(now_unix());
            opts.cancel = cancel.clone();
            opts.progress = Some(progress(enrich_line));
            match lib.enrich(opts).await {
                Ok(r) if r.read > 0 => {
                    tracing::info!(
                        "read {} works in {:.0} s ({} known)",
                        r.read,
                        r.secs,
                        r.known
                    );
                    changed();
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("enrichment stopped: {}", e.message),
            }
        }
        if !cancel.load(Ordering::Relaxed) {
            let mut opts = AnalyzeOptions::new(now_unix());
            opts.cancel = cancel;
            opts.progress = Some(progress(analyze_line));
            match lib.analyze(opts).await {
                Ok(r) if r.analyzed > 0 => {
                    tracing::info!(
                        "listened to {} tracks ({:.0} minutes of audio) in {:.0} s; {} could not be analysed",
                        r.analyzed,
                        r.minutes,
                        r.secs,
                        r.failed
                    );
                    changed();
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("sound analysis stopped: {}", e.message),
            }
        }
        set_background(&app, None);
        *state.background_cancel.lock().expect("background lock") = None;
    });
}

fn enrich_line(p: &Progress) -> Option<String> {
    background_line("Reading the works of the library", p)
}

fn analyze_line(p: &Progress) -> Option<String> {
    background_line("Listening to tracks", p)
}

/// "What: 12 of 40, 3m 10s left".
fn background_line(what: &str, p: &Progress) -> Option<String> {
    let total = p.total.filter(|t| *t > 0)?;
    let left = p
        .secs_left()
        .map_or(String::new(), |s| format!(", {} left", human_secs(s)));
    Some(format!("{what}: {} of {total}{left}", p.done))
}

/// Resident memory of this process in bytes, where the platform tells.
pub fn resident_bytes() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // statm: size resident shared ... in pages.
        if let Ok(s) = std::fs::read_to_string("/proc/self/statm")
            && let Some(pages) = s
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        {
            return pages * 4096;
        }
    }
    0
}
