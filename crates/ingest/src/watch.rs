//! File-system watching, and nothing more: turns notify's debounced events
//! into [`PathEvent`]s on a channel. Deciding what to read again is the
//! controller's job ([`crate::live`]).
//!
//! Each root gets its own debouncer so that one root can fall back to
//! polling (network mounts, or when the inotify watch limit is reached)
//! while the others stay live.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify_debouncer_full::notify::{
    self, EventKind, PollWatcher, RecommendedWatcher, RecursiveMode,
};
use notify_debouncer_full::{
    DebounceEventResult, Debouncer, NoCache, RecommendedCache, new_debouncer_opt,
};
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

/// What happened under a root, after debouncing.
#[derive(Debug, Clone, PartialEq)]
pub enum PathEvent {
    /// Created or modified (a file or a directory).
    Changed(PathBuf),
    Removed(PathBuf),
    Renamed {
        from: PathBuf,
        to: PathBuf,
    },
    /// Events were lost (queue overflow): the root must be rescanned.
    Rescan(PathBuf),
    /// The watch limit was reached while watching this root.
    LimitReached(PathBuf),
    Error(String),
}

/// How a root is being watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    /// Native events (inotify, FSEvents, ReadDirectoryChangesW).
    Live,
    /// Periodic polling: network mounts, or native watching failed.
    Polling,
    /// Not watched: the folder is missing.
    Unavailable,
}

/// Held only to keep the watcher running: dropping it stops the watch.
enum Handle {
    Live {
        _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    },
    Polling {
        _debouncer: Debouncer<PollWatcher, NoCache>,
    },
}

pub struct RootWatch {
    pub root: PathBuf,
    pub mode: WatchMode,
    _handle: Option<Handle>,
}

#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub debounce: Duration,
    pub poll_interval: Duration,
    /// Poll even where native events work (tests of the fallback path).
    pub force_polling: bool,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            debounce: Duration::from_millis(500),
            poll_interval: Duration::from_secs(30),
            force_polling: false,
        }
    }
}

/// Starts watching one root. Falls back to polling when the root is a
/// network mount or native watching fails; returns a message saying why
/// when it did.
pub fn watch_root(
    root: &Path,
    cfg: &WatchConfig,
    tx: UnboundedSender<PathEvent>,
) -> (RootWatch, Option<String>) {
    if !root.is_dir() {
        return (
            RootWatch {
                root: root.to_path_buf(),
                mode: WatchMode::Unavailable,
                _handle: None,
            },
            None,
        );
    }
    let mut note = None;
    if !cfg.force_polling {
        if let Some(fs) = network_fs(root) {
            note = Some(format!(
                "{} is on a {fs} mount, which sends no change events: polling every {} s",
                root.display(),
                cfg.poll_interval.as_secs()
            ));
        } else {
            match live(root, cfg, tx.clone()) {
                Ok(h) => {
                    return (
                        RootWatch {
                            root: root.to_path_buf(),
                            mode: WatchMode::Live,
                            _handle: Some(Handle::Live { _debouncer: h }),
                        },
                        None,
                    );
                }
                Err(e) => note = Some(fallback_message(root, &e, cfg)),
            }
        }
    }
    match polling(root, cfg, tx) {
        Ok(h) => (
            RootWatch {
                root: root.to_path_buf(),
                mode: WatchMode::Polling,
                _handle: Some(Handle::Polling { _debouncer: h }),
            },
            note,
        ),
        Err(e) => (
            RootWatch {
                root: root.to_path_buf(),
                mode: WatchMode::Unavailable,
                _handle: None,
            },
            Some(format!("cannot watch {}: {e}", root.display())),
        ),
    }
}

/// Switches a root to polling (after the watch limit was hit mid-run).
pub fn poll_instead(root: &Path, cfg: &WatchConfig, tx: UnboundedSender<PathEvent>) -> RootWatch {
    let forced = WatchConfig {
        force_polling: true,
        ..cfg.clone()
    };
    watch_root(root, &forced, tx).0
}

pub(crate) fn fallback_message(root: &Path, e: &notify::Error, cfg: &WatchConfig) -> String {
    match e.kind {
        notify::ErrorKind::MaxFilesWatch => format!(
            "the system's limit on watched folders is reached (fs.inotify.max_user_watches); \
             {} is polled every {} s instead. Raise the limit for instant updates: \
             sudo sysctl fs.inotify.max_user_watches=524288",
            root.display(),
            cfg.poll_interval.as_secs()
        ),
        _ => format!(
            "native watching of {} failed ({e}); polling every {} s instead",
            root.display(),
            cfg.poll_interval.as_secs()
        ),
    }
}

fn live(
    root: &Path,
    cfg: &WatchConfig,
    tx: UnboundedSender<PathEvent>,
) -> notify::Result<Debouncer<RecommendedWatcher, RecommendedCache>> {
    let root_c = root.to_path_buf();
    let mut d = new_debouncer_opt::<_, RecommendedWatcher, RecommendedCache>(
        cfg.debounce,
        None,
        move |res: DebounceEventResult| forward(&root_c, res, &tx),
        RecommendedCache::new(),
        notify::Config::default(),
    )?;
    d.watch(root, RecursiveMode::Recursive)?;
    Ok(d)
}

fn polling(
    root: &Path,
    cfg: &WatchConfig,
    tx: UnboundedSender<PathEvent>,
) -> notify::Result<Debouncer<PollWatcher, NoCache>> {
    let root_c = root.to_path_buf();
    let mut d = new_debouncer_opt::<_, PollWatcher, NoCache>(
        cfg.debounce,
        None,
        move |res: DebounceEventResult| forward(&root_c, res, &tx),
        NoCache,
        notify::Config::default().with_poll_interval(cfg.poll_interval),
    )?;
    d.watch(root, RecursiveMode::Recursive)?;
    Ok(d)
}

/// Maps notify's events to path events.
pub(crate) fn forward(root: &Path, res: DebounceEventResult, tx: &UnboundedSender<PathEvent>) {
    let events = match res {
        Ok(events) => events,
        Err(errors) => {
            for e in errors {
                let ev = if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
                    PathEvent::LimitReached(root.to_path_buf())
                } else {
                    PathEvent::Error(format!("watching {}: {e}", root.display()))
                };
                let _ = tx.send(ev);
            }
            return;
        }
    };
    for e in events {
        if e.need_rescan() {
            let _ = tx.send(PathEvent::Rescan(root.to_path_buf()));
            continue;
        }
        let paths = &e.event.paths;
        let Some(first) = paths.first().cloned() else {
            continue;
        };
        let mapped = match e.event.kind {
            EventKind::Create(_) => Some(PathEvent::Changed(first)),
            EventKind::Remove(_) => Some(PathEvent::Removed(first)),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if paths.len() == 2 => {
                Some(PathEvent::Renamed {
                    from: first,
                    to: paths[1].clone(),
                })
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
                Some(PathEvent::Removed(first))
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => Some(PathEvent::Changed(first)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                Some(PathEvent::Changed(first))
            }
            EventKind::Access(_) => None,
            // Everything else: trust the file system's current state.
            _ => Some(if first.exists() {
                PathEvent::Changed(first)
            } else {
                PathEvent::Removed(first)
            }),
        };
        if let Some(ev) = mapped {
            let _ = tx.send(ev);
        }
    }
}

/// The file-system type when `path` is on a network or FUSE mount, which
/// send no change events (Linux: from /proc/self/mountinfo).
pub(crate) fn network_fs(path: &Path) -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let path = std::fs::canonicalize(path).ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw"
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(mount), Some(fstype)) = (fields.get(4), fields.get(sep + 1)) else {
            continue;
        };
        let mount = mount.replace("\\040", " ");
        if path.starts_with(&mount) && best.as_ref().is_none_or(|(len, _)| mount.len() > *len) {
            best = Some((mount.len(), fstype.to_string()));
        }
    }
    let (_, fstype) = best?;
    const NETWORK: &[&str] = &["nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ncpfs"];
    (NETWORK.contains(&fstype.as_str())
        || fstype.starts_with("fuse.sshfs")
        || fstype == "fuse.rclone")
        .then_some(fstype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify_debouncer_full::DebouncedEvent;
    use notify_debouncer_full::notify::event::{CreateKind, Flag};
    use std::time::Instant;

    fn ev(kind: EventKind, paths: &[&str]) -> DebouncedEvent {
        let mut e = notify::Event::new(kind);
        for p in paths {
            e = e.add_path(PathBuf::from(p));
        }
        DebouncedEvent::new(e, Instant::now())
    }

    #[test]
    fn maps_events() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        forward(
            Path::new("/r"),
            Ok(vec![
                ev(EventKind::Create(CreateKind::File), &["/r/a.mp3"]),
                ev(
                    EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                    &["/r/a.mp3", "/r/b.mp3"],
                ),
                ev(
                    EventKind::Remove(notify::event::RemoveKind::File),
                    &["/r/c.mp3"],
                ),
                ev(EventKind::Access(AccessKind::Read), &["/r/d.mp3"]),
            ]),
            &tx,
        );
        assert_eq!(
            rx.try_recv().unwrap(),
            PathEvent::Changed("/r/a.mp3".into())
        );
        assert_eq!(
            rx.try_recv().unwrap(),
            PathEvent::Renamed {
                from: "/r/a.mp3".into(),
                to: "/r/b.mp3".into()
            }
        );
        assert_eq!(
            rx.try_recv().unwrap(),
            PathEvent::Removed("/r/c.mp3".into())
        );
        assert!(rx.try_recv().is_err(), "reads are not changes");
    }

    /// A fake: the kernel's overflow and watch-limit errors cannot be
    /// produced on demand in a test, so notify's own values are fed in.
    #[test]
    fn overflow_and_limit_ask_for_rescan() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut overflow = notify::Event::new(EventKind::Other);
        overflow = overflow.set_flag(Flag::Rescan);
        forward(
            Path::new("/r"),
            Ok(vec![DebouncedEvent::new(overflow, Instant::now())]),
            &tx,
        );
        assert_eq!(rx.try_recv().unwrap(), PathEvent::Rescan("/r".into()));
        forward(
            Path::new("/r"),
            Err(vec![notify::Error::new(notify::ErrorKind::MaxFilesWatch)]),
            &tx,
        );
        assert_eq!(rx.try_recv().unwrap(), PathEvent::LimitReached("/r".into()));
        let msg = fallback_message(
            Path::new("/r"),
            &notify::Error::new(notify::ErrorKind::MaxFilesWatch),
            &WatchConfig::default(),
        );
        assert!(msg.contains("max_user_watches") && msg.contains("polled"));
    }
}
