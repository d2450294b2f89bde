//! The hostile corpus (written by `moodshelf_libgen::hostile`) and a
//! mutation run over every shared fixture: no panic escapes, no read runs
//! past its deadline, memory stays bounded.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use moodshelf_libgen::hostile::{self, Expect, Mutation};
use moodshelf_media::{Error, extract_within};

/// Generous for a debug build on a loaded two-core machine; the readers
/// take milliseconds. A reader that needs longer is the bug this catches.
const DEADLINE: Duration = Duration::from_secs(10);

/// Peak resident memory of this test process (nextest runs each test in a
/// process of its own), from the kernel's high-water mark.
pub fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn corpus() -> (tempfile::TempDir, Vec<hostile::Entry>) {
    let dir = tempfile::tempdir().unwrap();
    let entries = hostile::write(dir.path()).unwrap();
    (dir, entries)
}

#[test]
fn every_hostile_file_is_refused_or_read_sanely_and_quickly() {
    let (_dir, entries) = corpus();
    assert!(entries.len() >= 50, "{} entries", entries.len());
    let started = Instant::now();
    for e in &entries {
        let t = Instant::now();
        let result = extract_within(&e.path, DEADLINE);
        let took = t.elapsed();
        if let Err(Error::TimedOut { .. }) = &result {
            panic!("{} ({}) ran past its deadline", e.path.display(), e.why);
        }
        assert!(
            !matches!(result, Err(Error::Crashed { .. })),
            "{} ({}): a reader panicked: {result:?}",
            e.path.display(),
            e.why
        );
        match e.expect {
            Expect::Untouched => assert!(
                result.is_err(),
                "{} ({}) must not be read",
                e.path.display(),
                e.why
            ),
            Expect::ItemOrError | Expect::Sidecar => {
                if let Ok(m) = &result {
                    let title = m.title.as_deref().unwrap_or("");
                    assert!(title.chars().count() <= 8_000, "{}", e.why);
                    assert!(
                        !title
                            .chars()
                            .any(|c| c.is_control()
                                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{200B}')),
                        "{}: {title:?}",
                        e.why
                    );
                    assert!(m.genres.len() <= 64, "{}: {} genres", e.why, m.genres.len());
                }
            }
        }
        assert!(took < DEADLINE, "{}: {took:?}", e.why);
    }
    eprintln!(
        "{} hostile files in {:?}, peak RSS {} MiB",
        entries.len(),
        started.elapsed(),
        peak_rss_mib()
    );
    assert!(peak_rss_mib() < 300, "peak RSS {} MiB", peak_rss_mib());
}

#[test]
fn a_reader_past_its_deadline_is_abandoned() {
    // A FIFO is refused at open; to reach a reader that is still running
    // when time is up, the deadline is set to zero (a state real files
    // reach only on a disk that stops answering).
    let (_dir, entries) = corpus();
    let slow = entries
        .iter()
        .find(|e| e.path.ends_with("sizes/huge.pdf"))
        .unwrap();
    match extract_within(&slow.path, Duration::ZERO) {
        Err(Error::TimedOut { .. }) | Ok(_) => {}
        other => panic!("{other:?}"),
    }
    let ok = extract_within(&slow.path, DEADLINE).unwrap();
    assert_eq!(ok.title.as_deref(), Some("A Very Large Book"));
}

fn fixtures() -> PathBuf {
    let shared = std::env::var_os("MOODSHELF_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    shared.join("fixtures/media")
}

/// Damaged copies of every shared fixture. Quick in CI (3 mutations per
/// file); `MOODSHELF_MUTATIONS=50 cargo nextest run --workspace -E
/// 'test(mutated)' --run-ignored all` is the long run.
#[test]
fn mutated_fixtures_never_panic_or_hang() {
    let per_file: usize = std::env::var("MOODSHELF_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let files: Vec<PathBuf> = walkdir::WalkDir::new(fixtures())
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    assert!(files.len() > 750);
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (mut read, mut refused, mut slowest) = (0usize, 0usize, Duration::ZERO);
    for (i, f) in files.iter().enumerate() {
        let Ok(data) = std::fs::read(f) else { continue };
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for (k, m) in Mutation::series(i as u64, per_file).into_iter().enumerate() {
            let target = out.path().join(format!("{k}-{name}"));
            std::fs::write(&target, m.apply(&data)).unwrap();
            let t = Instant::now();
            match extract_within(&target, DEADLINE) {
                Ok(_) => read += 1,
                Err(Error::TimedOut { .. }) => {
                    panic!("{} with {m:?} ran past its deadline", f.display())
                }
                Err(_) => refused += 1,
            }
            slowest = slowest.max(t.elapsed());
            std::fs::remove_file(&target).unwrap();
        }
    }
    eprintln!(
        "{} mutants: {read} read, {refused} refused, slowest {slowest:?}, all in {:?}, peak RSS {} MiB",
        read + refused,
        started.elapsed(),
        peak_rss_mib()
    );
    assert!(peak_rss_mib() < 300, "peak RSS {} MiB", peak_rss_mib());
}
