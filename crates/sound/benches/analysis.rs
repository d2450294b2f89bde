//! How fast the sound analysis is and how much memory it takes, on this
//! machine: seconds of work per minute of audio on one and on two worker
//! threads, for real recorded music (the MP3s of Debian's `asc-music`,
//! each read four times) and for synthesized WAV; and the peak resident
//! memory of a process that analyses a 1- and a 10-minute track (the
//! decode streams, so the two should match).
//!
//! `cargo bench --workspace --bench analysis`. The library runs the same
//! `analyze` in reader processes at low priority (see the engine's
//! `analysis`); `cargo bench --workspace --bench engine -- sound` measures
//! that whole path.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use moodshelf_libgen::sound::{Synth, write_neutral_tracks};

const RECORDED: &str = "/usr/share/games/asc/music";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The child that measures one track's peak memory.
    if let Some(i) = args.iter().position(|a| a == "--peak-of") {
        let path = Path::new(&args[i + 1]);
        let f = moodshelf_sound::analyze(path, &AtomicBool::new(false)).expect("analyse");
        println!("{} {}", status_kib("VmHWM:"), f.tempo_bpm);
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let recorded: Vec<PathBuf> = std::fs::read_dir(RECORDED)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    if recorded.is_empty() {
        println!("{RECORDED} is missing (install asc-music): recorded music skipped");
    }
    let recorded: Vec<PathBuf> = (0..4).flat_map(|_| recorded.iter().cloned()).collect();
    let synthesized: Vec<PathBuf> = write_neutral_tracks(&dir.path().join("wav"), 6, 60.0)
        .expect("write wav")
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    println!(
        "machine: {} logical CPUs; the analysis uses one thread per track",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for (label, files) in [
        ("recorded MP3", &recorded),
        ("synthesized WAV", &synthesized),
    ] {
        if files.is_empty() {
            continue;
        }
        for workers in [1, 2] {
            let (secs, minutes) = run(files, workers);
            println!(
                "{label}, {workers} worker(s): {} tracks, {minutes:.1} min of audio in {secs:.2} s: \
                 {:.3} s per minute of audio ({:.0}x real time)",
                files.len(),
                secs / minutes,
                minutes * 60.0 / secs
            );
        }
    }
    for minutes in [1.0f32, 10.0] {
        let path = dir.path().join(format!("long-{minutes}.wav"));
        Synth {
            driving: true,
            bpm: 128.0,
            root: 45,
            minor: true,
            seconds: minutes * 60.0,
        }
        .write_wav(&path)
        .expect("write");
        let out = std::process::Command::new(std::env::current_exe().expect("self"))
            .arg("--peak-of")
            .arg(&path)
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&out.stdout);
        let kib: u64 = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        println!(
            "memory: a {minutes:.0}-minute WAV ({} MB on disk): peak resident memory of the analysing process {} MiB",
            std::fs::metadata(&path).map_or(0, |m| m.len() / 1_000_000),
            kib / 1024
        );
    }
}

/// Analyses `files` on `workers` threads; (wall seconds, minutes of audio).
fn run(files: &[PathBuf], workers: usize) -> (f64, f64) {
    let next = AtomicUsize::new(0);
    let cancel = AtomicBool::new(false);
    let started = Instant::now();
    let seconds: f64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut heard = 0.0f64;
                    while let Some(f) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let features = moodshelf_sound::analyze(f, &cancel)
                            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                        heard += f64::from(features.seconds);
                    }
                    heard
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker")).sum()
    });
    (started.elapsed().as_secs_f64(), seconds / 60.0)
}

/// A memory field of /proc/self/status, in KiB (0 if unknown).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
