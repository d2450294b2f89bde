//! The library as the window shows it: counts, folders and how each is
//! watched, the scan and the background work in one status line, files
//! that could not be read, and the library events (`ScanStatus`,
//! `LibraryNote`, `LibraryChanged`); with the wording of scan progress.

use moodshelf_engine::{Progress, RootInfo, ScanReport, Status};
use serde::{Deserialize, Serialize};
use specta::Type;

/// How a library folder is kept up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum WatchState {
    /// File events arrive as they happen.
    Live,
    /// Checked every so often (network drives, too many folders).
    Polling,
    /// Not mounted or not readable; its items are kept, hidden.
    Unavailable,
    /// Watching is paused by the user.
    Paused,
    /// Not watched yet (starting).
    Idle,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    pub path: String,
    pub watch: WatchState,
    pub last_scan_at: Option<i64>,
}

impl Folder {
    /// A library folder, watched as `watch` says.
    pub fn new(root: RootInfo, watch: WatchState) -> Self {
        Folder {
            watch,
            path: root.path,
            last_scan_at: root.last_scan_at,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub music: i64,
    pub books: i64,
    pub videos: i64,
    pub files: i64,
    pub file_errors: i64,
    pub pending_index: i64,
    pub unavailable: i64,
    /// Tracks whose sound is analysed, and those that cannot be (silent,
    /// undecodable).
    pub heard_tracks: i64,
    pub unheard_tracks: i64,
}

impl From<&Status> for Counts {
    fn from(st: &Status) -> Self {
        Counts {
            music: st.music,
            books: st.books,
            videos: st.videos,
            files: st.files,
            file_errors: st.file_errors,
            pending_index: st.pending_index,
            unavailable: st.unavailable_items,
            heard_tracks: st.analyzed_tracks,
            unheard_tracks: st.unanalyzable_tracks,
        }
    }
}

/// The scan in progress, or the last one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct ScanStatus {
    pub running: bool,
    /// discover, read, describe, embed, persist; empty when idle.
    pub phase: String,
    pub done: u64,
    pub total: Option<u64>,
    /// Items per second in this phase.
    pub rate: f64,
    pub seconds_left: Option<f64>,
    /// One line for the tray and the status bar.
    pub summary: String,
    pub error: Option<String>,
    /// Background work after the scan, when there is some: the reasoning
    /// model reading the library's works ("Reading the works of the
    /// library: 120 of 2,044, 20m left"), then the tracks' audio analysis.
    pub background: Option<String>,
}

impl ScanStatus {
    /// Before any scan.
    pub fn idle() -> Self {
        ScanStatus {
            summary: "Idle".into(),
            ..ScanStatus::default()
        }
    }

    /// A scan that is starting.
    pub fn starting() -> Self {
        ScanStatus {
            running: true,
            phase: "discover".into(),
            summary: "Scanning: starting".into(),
            ..ScanStatus::default()
        }
    }

    /// The scan in progress, with its rate and the time left when known.
    pub fn progress(p: &Progress) -> Self {
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

    /// A scan that ended: what it found, or that it was `stopped`.
    pub fn finished(report: &ScanReport, stopped: bool) -> Self {
        let summary = if stopped {
            "Scan stopped; the next scan goes on from here".into()
        } else {
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
            summary
        };
        ScanStatus {
            running: false,
            summary,
            ..ScanStatus::default()
        }
    }

    /// A scan that failed with `error`.
    pub fn failed(error: String) -> Self {
        ScanStatus {
            running: false,
            summary: "Scan failed".into(),
            error: Some(error),
            ..ScanStatus::default()
        }
    }
}

/// "What: 12 of 40, 3m 10s left", the background line of a job's
/// progress; `None` until its total is known.
pub fn background_line(what: &str, p: &Progress) -> Option<String> {
    let total = p.total.filter(|t| *t > 0)?;
    let left = p
        .secs_left()
        .map_or(String::new(), |s| format!(", {} left", human_secs(s)));
    Some(format!("{what}: {} of {total}{left}", p.done))
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

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct LibraryStatus {
    pub counts: Counts,
    pub folders: Vec<Folder>,
    pub scan: ScanStatus,
    pub watching_paused: bool,
    /// A reasoning model file is there, or a reasoning endpoint is set:
    /// picks can be explained more.
    pub reasoning_ready: bool,
    /// Why `settings.toml` is not in use (the defaults are); saving the
    /// settings from the window repairs it.
    pub settings_problem: Option<String>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct FileError {
    pub path: String,
    pub error: String,
}

impl From<moodshelf_engine::jobs::FileError> for FileError {
    fn from(e: moodshelf_engine::jobs::FileError) -> Self {
        FileError {
            path: e.path,
            error: e.error,
        }
    }
}

/// A watcher message worth showing (a root went away, polling instead).
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct LibraryNote {
    pub message: String,
}

/// The library changed (scan finished, watcher applied changes).
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct LibraryChanged {
    pub added: u64,
    pub removed: u64,
}

impl LibraryChanged {
    /// Something about the library changed that its counts do not show
    /// (how it is watched, what the model read): the window reloads.
    pub fn nothing_added() -> Self {
        LibraryChanged {
            added: 0,
            removed: 0,
        }
    }
}
