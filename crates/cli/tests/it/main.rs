//! The `moodshelf` binary itself: output contracts, and a scan killed with
//! SIGKILL at two points that the next scan finishes.

mod cli;
mod crash;

use std::path::Path;
use std::process::{Command, Output};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_moodshelf"));
    c.env_remove("MOODSHELF_DATA_DIR");
    c
}

/// Runs `moodshelf --data-dir DATA args...`. The models dir is the
/// binary's own default (`MOODSHELF_MODELS_DIR` in CI).
pub fn run(data: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run moodshelf")
}

/// `out`, after checking that the command succeeded (else its stderr is
/// the failure).
pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn generate(root: &Path, music: usize, books: usize, videos: usize) {
    moodshelf_libgen::generate(
        &moodshelf_libgen::datasets_dir(),
        root,
        moodshelf_libgen::Spec {
            music,
            books,
            videos,
        },
    )
    .expect("generate library");
}
