//! What the host keeps between commands: the open library, the host's own
//! preferences, the tokens that stop long work (scan, background work,
//! answer, model fetch), the watcher's handle, and the clocks.
//!
//! What others show of it is observable without this module knowing them:
//! the scan status, the watching pause and "picks are stale" are
//! `tokio::sync::watch` channels the tray subscribes to. The long work
//! itself runs in [`crate::jobs`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use moodshelf_engine::{Context, Kind, Library, Moment, Paths, WatchHandle};
use moodshelf_llm::Cancel;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::dto::{AppError, AppResult, ScanStatus, WatchState};

/// Host-only preferences, kept in `app.json` in the data dir (the engine's
/// `settings.toml` holds what the engine reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    #[serde(deserialize_with = "kinds_leniently")]
    pub kinds: Vec<Kind>,
    pub use_model: bool,
    pub autostart: bool,
    pub start_hidden: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            kinds: Kind::ALL.to_vec(),
            use_model: true,
            autostart: false,
            start_hidden: false,
        }
    }
}

/// The kinds a stored `app.json` names, read as `Kind::parse` reads them
/// ("Music", "books" from a hand-edited or older file): an unknown name is
/// dropped, never the whole file with the other preferences, and a list
/// left empty means every kind.
fn kinds_leniently<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Kind>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    let named: Vec<Kind> = names.iter().filter_map(|n| Kind::parse(n)).collect();
    let kinds = in_kind_order(&named);
    Ok(if kinds.is_empty() {
        Kind::ALL.to_vec()
    } else {
        kinds
    })
}

/// `kinds` each once, in the order the settings list them.
pub fn in_kind_order(kinds: &[Kind]) -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| kinds.contains(k))
        .collect()
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
        self.kinds.clone()
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

/// A flag that stops one piece of long work, while it runs.
type StopSlot = Mutex<Option<Arc<AtomicBool>>>;

pub struct AppState {
    pub paths: Paths,
    library: tokio::sync::RwLock<Library>,
    prefs: Mutex<Prefs>,
    /// The scan in progress or the last one, with the background line.
    scan: watch::Sender<ScanStatus>,
    scan_cancel: StopSlot,
    /// Stops the background work (enrichment, then sound analysis), while
    /// it runs.
    background_cancel: StopSlot,
    answer_cancel: Mutex<Option<Cancel>>,
    fetch_cancel: StopSlot,
    watch: tokio::sync::Mutex<Option<WatchHandle>>,
    watch_states: Mutex<BTreeMap<String, WatchState>>,
    watching_paused: watch::Sender<bool>,
    /// Bumped when picks made earlier may no longer be right (the library
    /// or the preferences changed).
    stale: watch::Sender<()>,
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

/// Raises the flag in `slot`, if work runs there. True when it did.
fn raise(slot: &StopSlot) -> bool {
    match slot.lock().expect("stop lock").as_ref() {
        Some(c) => {
            c.store(true, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// A new flag in `slot`, or `None` when work already runs there.
fn claim(slot: &StopSlot) -> Option<Arc<AtomicBool>> {
    let mut slot = slot.lock().expect("stop lock");
    if slot.is_some() {
        return None;
    }
    let c = Arc::new(AtomicBool::new(false));
    *slot = Some(c.clone());
    Some(c)
}

impl AppState {
    pub async fn open(paths: Paths) -> AppResult<AppState> {
        let library = Library::open(paths.clone()).await?;
        let prefs = Prefs::load(&paths);
        Ok(AppState {
            paths,
            library: tokio::sync::RwLock::new(library),
            prefs: Mutex::new(prefs),
            scan: watch::Sender::new(ScanStatus::idle()),
            scan_cancel: Mutex::new(None),
            background_cancel: Mutex::new(None),
            answer_cancel: Mutex::new(None),
            fetch_cancel: Mutex::new(None),
            watch: tokio::sync::Mutex::new(None),
            watch_states: Mutex::new(BTreeMap::new()),
            watching_paused: watch::Sender::new(false),
            stale: watch::Sender::new(()),
        })
    }

    /// The open library (a cheap handle).
    pub async fn library(&self) -> Library {
        self.library.read().await.clone()
    }

    /// Closes the library and opens it again on the same stores (its
    /// settings changed). Whoever holds a handle to the old one (a scan)
    /// must have let go first: see [`crate::jobs::reopen`].
    pub async fn reopen_library(&self) -> AppResult<()> {
        let mut lib = self.library.write().await;
        let old = std::mem::replace(&mut *lib, Library::open(self.paths.clone()).await?);
        old.close().await;
        Ok(())
    }

    pub fn prefs(&self) -> Prefs {
        self.prefs.lock().expect("prefs lock").clone()
    }

    pub fn set_prefs(&self, prefs: Prefs) {
        *self.prefs.lock().expect("prefs lock") = prefs;
    }

    /// Says that picks made earlier may be stale: the tray recomputes its
    /// quick picks.
    pub fn picks_stale(&self) {
        self.stale.send_replace(());
    }

    /// Changes each time [`AppState::picks_stale`] is called.
    pub fn subscribe_stale(&self) -> watch::Receiver<()> {
        self.stale.subscribe()
    }

    /// Claims the scan: the flag that stops it, or `None` when one runs.
    pub fn claim_scan(&self) -> Option<Arc<AtomicBool>> {
        claim(&self.scan_cancel)
    }

    /// The scan's task has ended and let go of the library.
    pub fn scan_ended(&self) {
        *self.scan_cancel.lock().expect("scan lock") = None;
    }

    /// Cancels the scan in progress, if any, and waits until its task has
    /// let go of the library. True when one was running.
    pub async fn cancel_scan_and_wait(&self) -> bool {
        let running = raise(&self.scan_cancel);
        // The scan checks its flag per file; each file has a deadline.
        while running && self.scan_cancel.lock().expect("scan lock").is_some() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        running
    }

    pub fn cancel_scan(&self) -> bool {
        raise(&self.scan_cancel)
    }

    /// Claims the background work: its stop flag, or `None` when it runs.
    pub fn claim_background(&self) -> Option<Arc<AtomicBool>> {
        claim(&self.background_cancel)
    }

    pub fn background_ended(&self) {
        *self.background_cancel.lock().expect("background lock") = None;
    }

    /// Stops the background work, if it runs (it goes on from where it
    /// stopped next time).
    pub fn stop_background(&self) {
        raise(&self.background_cancel);
    }

    /// Claims the model fetch: its stop flag, or `None` when one runs.
    pub fn claim_fetch(&self) -> Option<Arc<AtomicBool>> {
        claim(&self.fetch_cancel)
    }

    pub fn fetch_ended(&self) {
        *self.fetch_cancel.lock().expect("fetch lock") = None;
    }

    pub fn cancel_fetch(&self) -> bool {
        raise(&self.fetch_cancel)
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
        self.scan.borrow().clone()
    }

    /// Keeps the status of a scan; returns it as kept. A scan's status
    /// does not erase the background line.
    pub fn set_scan(&self, mut status: ScanStatus) -> ScanStatus {
        self.scan.send_modify(|slot| {
            if status.background.is_none() {
                status.background = slot.background.clone();
            }
            *slot = status.clone();
        });
        status
    }

    /// Sets or clears the background line of the status; returns the
    /// status now.
    pub fn set_background(&self, line: Option<String>) -> ScanStatus {
        let mut status = ScanStatus::default();
        self.scan.send_modify(|slot| {
            slot.background = line;
            status = slot.clone();
        });
        status
    }

    /// Changes with the scan status.
    pub fn subscribe_scan(&self) -> watch::Receiver<ScanStatus> {
        self.scan.subscribe()
    }

    /// The watcher's handle, locked while it starts or stops.
    pub async fn watcher(&self) -> tokio::sync::MutexGuard<'_, Option<WatchHandle>> {
        self.watch.lock().await
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

    pub fn is_paused(&self) -> bool {
        *self.watching_paused.borrow()
    }

    /// Records that the user paused (or resumed) watching; the watcher
    /// itself is stopped or started by [`crate::jobs::set_paused`].
    pub fn set_paused(&self, paused: bool) {
        self.watching_paused.send_replace(paused);
    }

    /// Changes with the watching pause.
    pub fn subscribe_paused(&self) -> watch::Receiver<bool> {
        self.watching_paused.subscribe()
    }

    pub fn set_watch_state(&self, root: String, state: WatchState) {
        self.watch_states
            .lock()
            .expect("watch lock")
            .insert(root, state);
    }

    pub fn forget_watch_state(&self, root: &str) {
        self.watch_states.lock().expect("watch lock").remove(root);
    }

    pub fn watch_state(&self, root: &str, available: bool) -> WatchState {
        if !available {
            return WatchState::Unavailable;
        }
        if self.is_paused() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An `app.json` with kinds named otherwise than the app writes them
    /// keeps its other preferences.
    #[test]
    fn a_kind_named_otherwise_loses_no_preference() {
        let p: Prefs = serde_json::from_str(
            r#"{"kinds": ["Books", "Video", "podcasts"], "use_model": false, "start_hidden": true}"#,
        )
        .unwrap();
        assert_eq!(p.kinds, vec![Kind::Book, Kind::Video]);
        assert!(!p.use_model && p.start_hidden);
        let none: Prefs = serde_json::from_str(r#"{"kinds": ["podcasts"]}"#).unwrap();
        assert_eq!(none.kinds, Kind::ALL.to_vec());
        let written = serde_json::to_string(&Prefs::default()).unwrap();
        assert!(
            written.contains(r#""kinds":["music","book","video"]"#),
            "{written}"
        );
    }
}
