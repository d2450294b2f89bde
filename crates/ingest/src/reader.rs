//! Reading files, and analysing their audio, in child processes, where
//! time and memory limits are enforced by the operating system rather than
//! hoped for.
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
//! Background sound analysis ([`crate::analysis`]) uses a second pool of
//! the same readers started at low CPU priority: a decoder that aborts on
//! a hostile file (an allocation of tens of gigabytes, which no
//! `catch_unwind` can catch) costs one track, not the app.
//!
//! Hosts that do not opt in (tests of the engine, embedders) read in
//! process with the thread deadline of [`moodshelf_media::extract_within`],
//! and analyse in process.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::reading::{FileRead, read_file};

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
enum Request {
    /// Read a media file's metadata (answers a [`FileRead`]).
    Read { path: String, covers: PathBuf },
    /// Analyse a track's audio (answers a [`Heard`]).
    Analyze { path: String },
}

/// What a reader heard in a track: its features, or why there are none.
pub(crate) type Heard = std::result::Result<moodshelf_sound::Features, String>;

/// Analyses a track's audio here, with the sound crate's own guard against
/// decoder panics (a decoder that aborts or runs away takes the process
/// with it, which is why hosts analyse in reader processes).
pub(crate) fn analyze_here(path: &Path, cancel: &AtomicBool) -> Heard {
    moodshelf_sound::analyze(path, cancel).map_err(|e| e.to_string())
}

/// The argument after [`WORKER_ARG`] that starts a reader at low CPU
/// priority, for background analysis.
const BACKGROUND_ARG: &str = "background";

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
        if std::env::args().nth(2).as_deref() == Some(BACKGROUND_ARG) {
            // Background work yields the CPU to everything the person does.
            let _ = rustix::process::setpriority_process(None, 10);
        }
    }
    let never = AtomicBool::new(false);
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        let Ok(req) = serde_json::from_str::<Request>(&line) else {
            break;
        };
        // The parent enforces the deadline by killing this process.
        let answer = match req {
            Request::Read { path, covers } => {
                serde_json::to_string(&read_file(&crate::names::decode(&path), &covers, None))
            }
            Request::Analyze { path } => {
                serde_json::to_string(&analyze_here(&crate::names::decode(&path), &never))
            }
        };
        let answer = answer.unwrap_or_else(|_| "null".into());
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
    fn spawn(exe: &Path, background: bool) -> std::io::Result<Worker> {
        let mut command = Command::new(exe);
        command.arg(WORKER_ARG);
        if background {
            command.arg(BACKGROUND_ARG);
        }
        let mut child = command
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

/// Idle readers of one kind: scan readers at normal priority, analysis
/// readers at low priority.
struct Pool {
    exe: PathBuf,
    background: bool,
    idle: Mutex<Vec<Worker>>,
}

static READERS: OnceLock<Pool> = OnceLock::new();
static ANALYSERS: OnceLock<Pool> = OnceLock::new();

impl Pool {
    /// This process's pool of the kind, if it opted in to readers.
    fn get(cell: &'static OnceLock<Pool>, background: bool) -> Option<&'static Pool> {
        let exe = EXE.get()?;
        Some(cell.get_or_init(|| Pool {
            exe: exe.clone(),
            background,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// Sends one request to an idle reader (or a new one) and waits for
    /// its answer line. `Ok(None)` means no reader could be started, so
    /// the caller works in process; `Err` says why the reader was lost.
    fn call(&self, request: &Request, deadline: Duration) -> Result<Option<String>, String> {
        let idle = self.idle.lock().expect("pool lock").pop();
        let mut worker = match idle {
            Some(w) => w,
            None => match Worker::spawn(&self.exe, self.background) {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!("cannot start a reader process ({e}); working in process");
                    return Ok(None);
                }
            },
        };
        let request = serde_json::to_string(request).map_err(|e| e.to_string())?;
        if writeln!(worker.stdin, "{request}")
            .and_then(|()| worker.stdin.flush())
            .is_err()
        {
            let status = worker.kill();
            return Err(format!("the reader process ended ({status})"));
        }
        match worker.answers.recv_timeout(deadline + GRACE) {
            Ok(line) => {
                self.idle.lock().expect("pool lock").push(worker);
                Ok(Some(line))
            }
            Err(RecvTimeoutError::Timeout) => {
                worker.kill();
                Err(format!(
                    "it took longer than {} s; the reader was stopped",
                    deadline.as_secs().max(1)
                ))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = worker.kill();
                Err(format!(
                    "the reader stopped on this file ({status}): it crashed or ran out of its {} MiB memory budget",
                    budget_mib()
                ))
            }
        }
    }
}

/// Reads one media file through a reader process, if this process opted
/// in; `None` means "read it here".
pub(crate) fn read_in_child(path: &Path, covers: &Path, deadline: Duration) -> Option<FileRead> {
    let pool = Pool::get(&READERS, false)?;
    let request = Request::Read {
        path: crate::names::encode(path),
        covers: covers.to_path_buf(),
    };
    let read = match pool.call(&request, deadline) {
        Ok(None) => return None,
        Ok(Some(line)) => serde_json::from_str::<FileRead>(&line).unwrap_or_else(|e| {
            FileRead::lost(path, covers, &format!("the reader answered nonsense ({e})"))
        }),
        Err(why) => FileRead::lost(path, covers, &why),
    };
    Some(read)
}

/// Analyses one track's audio through a low-priority reader process, if
/// this process opted in; `None` means "analyse it here".
pub(crate) fn analyze_in_child(path: &Path, deadline: Duration) -> Option<Heard> {
    let pool = Pool::get(&ANALYSERS, true)?;
    let request = Request::Analyze {
        path: crate::names::encode(path),
    };
    match pool.call(&request, deadline) {
        Ok(None) => None,
        Ok(Some(line)) => Some(
            serde_json::from_str::<Heard>(&line)
                .unwrap_or_else(|e| Err(format!("the reader answered nonsense ({e})"))),
        ),
        Err(why) => Some(Err(why)),
    }
}
