//! Long work on background tasks: scans, the watcher that keeps the
//! library live (and its pause), the background work after a scan
//! (enrichment, then sound analysis), warming up the reasoning model, and
//! reopening the library when its settings change. Commands only start it,
//! read it or stop it; progress reaches the window as events and the tray
//! through [`AppState`]'s channels.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use moodshelf_engine::analysis::AnalyzeOptions;
use moodshelf_engine::enrich::EnrichOptions;
use moodshelf_engine::{
    Library, Progress, ProgressFn, ScanOptions, WatchEvent, WatchOptions, watch::WatchMode,
};
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::dto::{
    AppError, AppResult, ErrorCode, LibraryChanged, LibraryNote, ScanStatus, WatchState,
    background_line,
};
use crate::state::{AppState, now_unix};

/// Reopens the library after its settings changed (hemisphere, model
/// files), restarting the watcher around it.
///
/// One library per process: a scan in progress holds the old one, so
/// it is cancelled and waited for first (it resumes, on the new
/// library, where it stopped), and the old library is closed before the
/// new one opens the same stores.
pub async fn reopen(app: &AppHandle) -> AppResult<()> {
    let state = app.state::<AppState>();
    state.stop_background();
    let was_watching = state.stop_watching().await;
    let was_scanning = state.cancel_scan_and_wait().await;
    state.reopen_library().await?;
    if was_watching {
        start_watching(app).await;
    }
    if was_scanning {
        start_scan(app, None)?;
    }
    warm_up_model(app);
    Ok(())
}

/// Keeps a scan's status and sends it to the window.
fn set_scan(app: &AppHandle, status: ScanStatus) {
    let status = app.state::<AppState>().set_scan(status);
    let _ = status.emit(app);
}

/// Sets or clears the background line of the status.
fn set_background(app: &AppHandle, line: Option<String>) {
    let status = app.state::<AppState>().set_background(line);
    let _ = status.emit(app);
}

/// Starts a scan in the background (all roots, or some); progress goes
/// out as `ScanStatus` events. One scan at a time.
pub fn start_scan(app: &AppHandle, roots: Option<Vec<PathBuf>>) -> AppResult<()> {
    let state = app.state::<AppState>();
    // The scan goes first; background work resumes after it.
    state.stop_background();
    let cancel = state
        .claim_scan()
        .ok_or_else(|| AppError::new(ErrorCode::Busy, "a scan is already running"))?;
    set_scan(app, ScanStatus::starting());
    let app = app.clone();
    tauri::async_runtime::spawn(async move { run_scan(app, roots, cancel).await });
    Ok(())
}

/// The scan's task: scans, says how it went, then starts the background
/// work unless the scan was stopped.
async fn run_scan(app: AppHandle, roots: Option<Vec<PathBuf>>, cancel: Arc<AtomicBool>) {
    let state = app.state::<AppState>();
    let lib = state.library().await;
    let mut opts = ScanOptions::new(now_unix());
    opts.roots = roots;
    opts.cancel = cancel.clone();
    opts.progress = Some(scan_progress(&app));
    let result = lib.scan(opts).await;
    // Let go of the library before saying the scan is over: a reopen
    // waits for this to close the old one.
    drop(lib);
    state.scan_ended();
    let status = match result {
        Ok(report) => {
            let _ = LibraryChanged {
                added: report.added,
                removed: report.removed,
            }
            .emit(&app);
            let stopped = cancel.load(Ordering::Relaxed);
            if !stopped {
                start_background(&app);
            }
            ScanStatus::finished(&report, stopped)
        }
        Err(e) => ScanStatus::failed(e.message),
    };
    set_scan(&app, status);
    state.picks_stale();
}

/// Scan progress for the window: at most ten updates a second.
fn scan_progress(app: &AppHandle) -> ProgressFn {
    let app = app.clone();
    let last = Arc::new(Mutex::new(Instant::now()));
    Arc::new(move |p: &Progress| {
        // At most ten updates a second reach the window.
        let mut last = last.lock().expect("progress lock");
        if last.elapsed().as_millis() >= 100 || p.total == Some(p.done) {
            *last = Instant::now();
            set_scan(&app, ScanStatus::progress(p));
        }
    })
}

/// Starts keeping the library live, unless the user paused it.
pub async fn start_watching(app: &AppHandle) {
    let state = app.state::<AppState>();
    if state.is_paused() {
        return;
    }
    let mut slot = state.watcher().await;
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

/// Pauses or resumes watching the library folders.
pub async fn set_paused(app: &AppHandle, state: &AppState, paused: bool) {
    state.set_paused(paused);
    if paused {
        state.stop_watching().await;
    } else {
        start_watching(app).await;
    }
    let _ = LibraryChanged::nothing_added().emit(app);
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
            state.set_watch_state(root, s);
            let _ = LibraryChanged::nothing_added().emit(app);
        }
        WatchEvent::Note { message } => note(message),
        WatchEvent::Updated { added, removed, .. } => {
            let _ = LibraryChanged { added, removed }.emit(app);
            state.picks_stale();
        }
        WatchEvent::RootUnavailable { root } => {
            state.set_watch_state(root.clone(), WatchState::Unavailable);
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
        let started = Instant::now();
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
    let Some(cancel) = app.state::<AppState>().claim_background() else {
        return;
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let lib = state.library().await;
        if state.prefs().use_model && lib.settings().reasoning_model.is_file() {
            enrich(&app, &lib, cancel.clone()).await;
        }
        if !cancel.load(Ordering::Relaxed) {
            analyze(&app, &lib, cancel).await;
        }
        set_background(&app, None);
        state.background_ended();
    });
}

/// The reasoning model reads the library's thin works.
async fn enrich(app: &AppHandle, lib: &Library, cancel: Arc<AtomicBool>) {
    let mut opts = EnrichOptions::new(now_unix());
    opts.cancel = cancel;
    opts.progress = Some(background_progress(app, "Reading the works of the library"));
    match lib.enrich(opts).await {
        Ok(r) if r.read > 0 => {
            tracing::info!(
                "read {} works in {:.0} s ({} known)",
                r.read,
                r.secs,
                r.known
            );
            let _ = LibraryChanged::nothing_added().emit(app);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("enrichment stopped: {}", e.message),
    }
}

/// The tracks' audio is analysed.
async fn analyze(app: &AppHandle, lib: &Library, cancel: Arc<AtomicBool>) {
    let mut opts = AnalyzeOptions::new(now_unix());
    opts.cancel = cancel;
    opts.progress = Some(background_progress(app, "Listening to tracks"));
    match lib.analyze(opts).await {
        Ok(r) if r.analyzed > 0 => {
            tracing::info!(
                "listened to {} tracks ({:.0} minutes of audio) in {:.0} s; {} could not be analysed",
                r.analyzed,
                r.minutes,
                r.secs,
                r.failed
            );
            let _ = LibraryChanged::nothing_added().emit(app);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("sound analysis stopped: {}", e.message),
    }
}

/// Background progress as the status's background line ("`what`: 12 of
/// 40, 3m 10s left"), at most once a second.
fn background_progress(app: &AppHandle, what: &'static str) -> ProgressFn {
    let app = app.clone();
    let last = Arc::new(Mutex::new(Instant::now()));
    Arc::new(move |p: &Progress| {
        let mut last = last.lock().expect("progress lock");
        if p.done == 0 || last.elapsed().as_secs() >= 1 {
            *last = Instant::now();
            set_background(&app, background_line(what, p));
        }
    })
}
