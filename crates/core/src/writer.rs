//! One writer per data dir, across processes. The desktop app and the CLI
//! may share a data dir; a scan, a watcher update, an enrichment batch or
//! an index rebuild in one must not recreate, prune or rewrite the
//! catalog and the LanceDB directory under the other. Each takes this
//! lock: the process's own mutex, then an advisory lock (`flock`) on
//! `writer.lock` in the data dir, which holds who has it ("pid 4242,
//! moodshelf-desktop"). A second writer waits for it, saying who it waits
//! for, and gives up with a clear error after [`WAIT_AT_MOST`]. The
//! system drops the lock with its process, so a crash never leaves it
//! held.

use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, MutexGuard};

use crate::error::{Code, Error, Result};

/// How long a writer waits for another process's before it gives up.
const WAIT_AT_MOST: Duration = Duration::from_secs(30 * 60);
/// How often a waiting writer tries again.
const RETRY_EVERY: Duration = Duration::from_millis(200);

pub struct WriterLock {
    here: Mutex<()>,
    /// Whether this process holds the lock now (`flock` alone cannot say:
    /// a second open of the file here conflicts like another process).
    held: AtomicBool,
    file: PathBuf,
}

/// Held while writing; dropping it lets the next writer in.
pub struct WriterGuard<'a> {
    _here: MutexGuard<'a, ()>,
    held: &'a AtomicBool,
    /// Closing the file releases the `flock`.
    file: Option<File>,
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        // The lock first, then the flag: in between, this process would
        // look like another writer to itself.
        drop(self.file.take());
        self.held.store(false, Ordering::SeqCst);
    }
}

/// Leave to repair the index for a moment without waiting: this process
/// writes now, or no process does and this one holds the lock until the
/// leave drops.
pub struct RepairLeave {
    /// The lock taken for the repair, when this process did not hold it.
    _taken: Option<File>,
}

/// Takes the advisory lock on `f` if it is free (`flock` on Unix).
fn try_flock(f: &File) -> std::io::Result<bool> {
    match f.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// A value no other write stamps, for the catalog settings by which a
/// writer tells readers in every process that what they keep is old.
pub fn stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{}.{now}", std::process::id())
}

fn this_process() -> String {
    let name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "moodshelf".into());
    format!("pid {}, {name}", std::process::id())
}

impl WriterLock {
    pub fn new(data_dir: &Path) -> WriterLock {
        WriterLock {
            here: Mutex::new(()),
            held: AtomicBool::new(false),
            file: data_dir.join("writer.lock"),
        }
    }

    /// Who holds the lock, as its holder wrote it, when another process
    /// (or another library on the same data dir) does.
    pub fn holder(&self) -> Option<String> {
        if self.held.load(Ordering::SeqCst) {
            return None;
        }
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.file)
            .ok()?;
        match try_flock(&f) {
            Ok(false) => {
                let mut s = String::new();
                (&f).read_to_string(&mut s).ok()?;
                Some(s.trim().to_string()).filter(|s| !s.is_empty())
            }
            // Free (the lock taken here is dropped with `f`).
            _ => None,
        }
    }

    /// The lock file, created when missing and never truncated (it names
    /// the holder).
    fn open_file(&self) -> std::io::Result<File> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.file)
    }

    /// Leave to repair the index now, or `None` when another process (or
    /// another library on the data dir) writes.
    pub fn try_repair(&self) -> Option<RepairLeave> {
        if self.held.load(Ordering::SeqCst) {
            return Some(RepairLeave { _taken: None });
        }
        let f = self.open_file().ok()?;
        match try_flock(&f) {
            Ok(true) => Some(RepairLeave { _taken: Some(f) }),
            _ => None,
        }
    }

    pub async fn lock(&self) -> Result<WriterGuard<'_>> {
        let here = self.here.lock().await;
        let cannot = |e: std::io::Error| {
            Error::new(
                Code::Internal,
                format!("cannot lock {}: {e}", self.file.display()),
            )
        };
        let mut f = self.open_file().map_err(cannot)?;
        let started = Instant::now();
        let mut said = false;
        while !try_flock(&f).map_err(cannot)? {
            if !said {
                let who = self.holder().unwrap_or_else(|| "another process".into());
                tracing::warn!("waiting for the other writer of this library ({who}) to finish");
                said = true;
            }
            if started.elapsed() > WAIT_AT_MOST {
                let who = self.holder().unwrap_or_else(|| "another process".into());
                return Err(Error::new(
                    Code::IndexBusy,
                    format!("the library is being updated by {who}; try again when it is done"),
                ));
            }
            tokio::time::sleep(RETRY_EVERY).await;
        }
        f.set_len(0).map_err(cannot)?;
        f.rewind().map_err(cannot)?;
        writeln!(f, "{}", this_process()).map_err(cannot)?;
        self.held.store(true, Ordering::SeqCst);
        Ok(WriterGuard {
            _here: here,
            held: &self.held,
            file: Some(f),
        })
    }
}
