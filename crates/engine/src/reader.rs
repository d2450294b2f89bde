//! Reading files in child processes, where time and memory limits are
//! enforced by the operating system rather than hoped for.
//!
//! A host that can start itself again (the CLI, the desktop app) calls
//! [`use_reader_processes`] with its own executable and, first thing in
//! `main`, hands the process to [`serve`] when it was started with
//! [`WORKER_ARG`]. Files are then read by a small pool of such children, one
//! per reading thread: each limits its own address space
//! (`RLIMIT_AS`, [`DEFAULT_BUDGET_MIB`] or `MOODSHELF_READER_MEMORY_MB`), and
//! the parent kills one that runs past the file's deadline. A reader that
//! runs out of memory, crashes or is killed costs one file (listed by its
//! name, with the reason) and one process start; the scan goes on.
//!
//! Hosts that do not opt in (tests of the engine, embedders) read in
//! process with the thread deadline of [`moodshelf_media::extract_within`].

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scan::{FileRead, read_file};

/// The argument that makes a host's executable a reader.
pub const WORKER_ARG: &str = "__moodshelf-read-worker";

/// Address space a reader may add to what it has at start. Generous for
/// any real file (the largest single allocation the readers make is capped
/// at 32 MiB, a cover thumbnail decodes at most 256 MiB); a runaway reader
/// meets it long before the machine does.
pub const DEFAULT_BUDGET_MIB: u64 = 1024;

/// Extra time the parent waits beyond the deadline for a child's answer.
const GRACE: Duration = Duration::from_secs(2);

static EXE: OnceLock<PathBuf> = OnceLock::new();
static POOL: OnceLock<Pool> = OnceLock::new();

/// Makes this process read files through children started as
/// `exe WORKER_ARG`. Call once, at start.
pub fn use_reader_processes(exe: PathBuf) {
    let _ = EXE.set(exe);
}

/// The address space this process has mapped now, in KiB (0 if unknown).
fn address_space_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The memory budget of one reader beyond its own start, in MiB.
pub fn budget_mib() -> u64 {
    std::env::var("MOODSHELF_READER_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v: &u64| *v >= 8)
        .unwrap_or(DEFAULT_BUDGET_MIB)
}

#[derive(Serialize, Deserialize)]
struct Request {
    path: String,
    covers: PathBuf,
}

/// Runs this process as a reader: one request per line on stdin, one
/// answer per line on stdout, until stdin closes.
pub fn serve() -> ! {
    #[cfg(unix)]
    {
        // The budget is what a reader may use beyond what the process has
        // mapped at start (the executable, its libraries, its stack).
        let bytes = (address_space_kib() * 1024).saturating_add(budget_mib() * 1024 * 1024);
        let limit = rustix::process::Rlimit {
            current: Some(bytes),
            maximum: Some(bytes),
        };
        if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::As, limit) {
            eprintln!("reader: cannot limit its memory: {e}");
        }
    }
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        let Ok(req) = serde_json::from_str::<Request>(&line) else {
            break;
        };
        let path = crate::names::decode(&req.path);
        // The parent enforces the deadline by killing this process.
        let read = read_file(&path, &req.covers, None);
        let answer = serde_json::to_string(&read).unwrap_or_else(|_| "null".into());
        if writeln!(stdout, "{answer}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
    std::process::exit(0)
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<String>,
}

impl Worker {
    fn spawn(exe: &Path) -> std::io::Result<Worker> {
        let mut child = Command::new(exe)
            .arg(WORKER_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (tx, answers) = mpsc::channel();
        std::thread::Builder::new()
            .name("moodshelf-reader-out".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Worker {
            child,
            stdin,
            answers,
        })
    }

    fn kill(mut self) -> String {
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => status.to_string(),
            Err(e) => e.to_string(),
        }
    }
}

struct Pool {
    exe: PathBuf,
    idle: Mutex<Vec<Worker>>,
}

/// Reads one media file through a reader process, if this process opted
/// in; `None` means "read it here".
pub(crate) fn read_in_child(path: &Path, covers: &Path, deadline: Duration) -> Option<FileRead> {
    let exe = EXE.get()?;
    let pool = POOL.get_or_init(|| Pool {
        exe: exe.clone(),
        idle: Mutex::new(Vec::new()),
    });
    let idle = pool.idle.lock().expect("pool lock").pop();
    let mut worker = match idle {
        Some(w) => w,
        None => match Worker::spawn(&pool.exe) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!("cannot start a reader process ({e}); reading in process");
                return None;
            }
        },
    };
    let request = serde_json::to_string(&Request {
        path: crate::names::encode(path),
        covers: covers.to_path_buf(),
    })
    .ok()?;
    if writeln!(worker.stdin, "{request}")
        .and_then(|()| worker.stdin.flush())
        .is_err()
    {
        let status = worker.kill();
        return Some(FileRead::lost(
            path,
            covers,
            &format!("the reader process ended ({status})"),
        ));
    }
    match worker.answers.recv_timeout(deadline + GRACE) {
        Ok(line) => match serde_json::from_str::<FileRead>(&line) {
            Ok(read) => {
                pool.idle.lock().expect("pool lock").push(worker);
                Some(read)
            }
            Err(e) => {
                worker.kill();
                Some(FileRead::lost(
                    path,
                    covers,
                    &format!("the reader answered nonsense ({e})"),
                ))
            }
        },
        Err(RecvTimeoutError::Timeout) => {
            worker.kill();
            Some(FileRead::lost(
                path,
                covers,
                &format!(
                    "reading took longer than {} s; the reader was stopped",
                    deadline.as_secs().max(1)
                ),
            ))
        }
        Err(RecvTimeoutError::Disconnected) => {
            let status = worker.kill();
            Some(FileRead::lost(
                path,
                covers,
                &format!(
                    "the reader stopped on this file ({status}): it crashed or ran out of its {} MiB memory budget",
                    budget_mib()
                ),
            ))
        }
    }
}
