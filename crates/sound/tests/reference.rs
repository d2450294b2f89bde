//! The analysis against reference tools, on real recorded music: the game
//! soundtrack Debian ships in `asc-music` (three MP3s, installed by
//! `.ci/run`), measured by ffmpeg's `ebur128` filter (loudness) and
//! `aubio tempo` (tempo). Prints the agreement table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

const MUSIC_DIR: &str = "/usr/share/games/asc/music";

fn recorded_music() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(MUSIC_DIR)
        .unwrap_or_else(|e| {
            panic!("{MUSIC_DIR}: {e}; install the Debian package asc-music (.ci/run does)")
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mp3"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "asc-music ships three tracks: {files:?}");
    files
}

fn tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}; install it (.ci/run does)"));
    assert!(out.status.success(), "{program} {args:?} failed");
    // ffmpeg reports on stderr, aubio on stdout.
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// (integrated LUFS, LRA) from ffmpeg's ebur128 summary.
fn ffmpeg_loudness(path: &Path) -> (f32, f32) {
    let text = tool(
        "ffmpeg",
        &[
            "-nostats",
            "-hide_banner",
            "-i",
            path.to_str().expect("utf-8 path"),
            "-filter_complex",
            "ebur128",
            "-f",
            "null",
            "-",
        ],
    );
    let summary = &text[text.rfind("Summary:").expect("an ebur128 summary")..];
    let value = |key: &str| -> f32 {
        let line = summary
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("no {key} in {summary}"));
        line.split_whitespace()
            .nth(1)
            .expect("a value")
            .parse()
            .expect("a number")
    };
    (value("I:"), value("LRA:"))
}

/// Beats per minute from `aubio tempo`'s last line ("66.06 bpm").
fn aubio_tempo(path: &Path) -> f32 {
    let text = tool("aubio", &["tempo", path.to_str().expect("utf-8 path")]);
    text.lines()
        .rev()
        .find_map(|l| l.strip_suffix(" bpm")?.trim().parse().ok())
        .expect("a tempo")
}

/// Tempi agree when they are within 4%, allowing for an octave (the
/// beat against its half or double, which listeners also disagree on).
fn same_beat(a: f32, b: f32) -> bool {
    [0.5, 1.0, 2.0]
        .iter()
        .any(|k| ((a * k) / b - 1.0).abs() < 0.04)
}

#[test]
fn loudness_and_tempo_agree_with_ffmpeg_and_aubio_on_recorded_music() {
    let cancel = AtomicBool::new(false);
    let mut tempo_agrees = 0;
    println!("track | LUFS ours/ffmpeg | LRA ours/ffmpeg | BPM ours/aubio");
    let files = recorded_music();
    for path in &files {
        let f = moodshelf_sound::analyze(path, &cancel).expect("analyse recorded music");
        let (lufs, lra) = ffmpeg_loudness(path);
        let bpm = aubio_tempo(path);
        println!(
            "{} | {:.1}/{lufs:.1} | {:.1}/{lra:.1} | {:.1}/{bpm:.1}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            f.loudness_lufs,
            f.loudness_range_lu,
            f.tempo_bpm
        );
        assert!(
            (f.loudness_lufs - lufs).abs() <= 0.5,
            "{}: integrated loudness {} against ffmpeg's {lufs}",
            path.display(),
            f.loudness_lufs
        );
        assert!(
            (f.loudness_range_lu - lra).abs() <= 1.0,
            "{}: loudness range {} against ffmpeg's {lra}",
            path.display(),
            f.loudness_range_lu
        );
        if same_beat(f.tempo_bpm, bpm) {
            tempo_agrees += 1;
        }
    }
    println!(
        "tempo agrees (within 4%, octaves allowed) on {tempo_agrees} of {}",
        files.len()
    );
    // Tempo estimators disagree on real music far more than loudness
    // meters do (MIREX reports 60–80% for the best of them); a majority
    // is the bar here.
    assert!(
        2 * tempo_agrees > files.len(),
        "{tempo_agrees} of {}",
        files.len()
    );
}
