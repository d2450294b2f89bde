//! Kill -9 a scan in the middle, twice; both stores must open and the next
//! scan must finish the job.

use std::path::Path;
use std::time::{Duration, Instant};

use moodshelf_catalog::{Catalog, ScanStatus};

use crate::{bin, generate, json, ok, run};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Starts a scan and kills it with SIGKILL as soon as `when` holds.
fn scan_and_kill(
    data: &Path,
    when: impl Fn(&moodshelf_catalog::Counts) -> bool,
) -> moodshelf_catalog::Counts {
    let mut child = bin()
        .arg("--data-dir")
        .arg(data)
        .arg("scan")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let rt = rt();
    let catalog = rt
        .block_on(Catalog::open(&data.join("catalog.sqlite")))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let counts = loop {
        let c = rt.block_on(catalog.counts()).unwrap();
        if when(&c) {
            child.kill().unwrap();
            break c;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the scan ended before it could be killed"
        );
        assert!(
            Instant::now() < deadline,
            "the scan never reached the kill point"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    child.wait().unwrap();
    rt.block_on(catalog.close());
    counts
}

#[test]
fn a_killed_scan_leaves_both_stores_openable_and_is_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let (root, data) = (dir.path().join("lib"), dir.path().join("data"));
    generate(&root, 400, 200, 200);
    assert!(
        run(&data, &["library", "add", root.to_str().unwrap()])
            .status
            .success()
    );

    // 1. Killed while reading files: some items are in the catalog.
    let at = scan_and_kill(&data, |c| c.music + c.book + c.video > 0);
    assert!(at.music + at.book + at.video < 800 || at.pending_index > 0);

    // 2. Killed while embedding: some items indexed, some not.
    let at = scan_and_kill(&data, |c| {
        c.music + c.book + c.video == 800 && c.pending_index > 0 && c.pending_index < 700
    });
    assert!(at.pending_index > 0);

    let rt = rt();
    let catalog = rt
        .block_on(Catalog::open(&data.join("catalog.sqlite")))
        .unwrap();
    assert_eq!(rt.block_on(catalog.integrity_check()).unwrap(), "ok");
    let runs = rt.block_on(catalog.recent_scans(5)).unwrap();
    assert_eq!(
        runs[0].status,
        ScanStatus::Running,
        "the killed scan never finished"
    );
    rt.block_on(catalog.close());

    // 3. The next scan finishes the job.
    let out = ok(run(&data, &["scan", "--json"]));
    let report = json(&out);
    assert_eq!(report["pending_index"], 0);
    assert!(
        report["embedded"].as_u64().unwrap() < 800,
        "work done before the kill is not redone"
    );

    let status = json(&run(&data, &["status", "--json"]));
    assert_eq!(
        (
            status["music"].as_i64(),
            status["books"].as_i64(),
            status["videos"].as_i64()
        ),
        (Some(400), Some(200), Some(200))
    );
    assert_eq!(status["pending_index"], 0);
    let catalog = rt
        .block_on(Catalog::open(&data.join("catalog.sqlite")))
        .unwrap();
    let runs = rt.block_on(catalog.recent_scans(5)).unwrap();
    assert_eq!(runs[0].status, ScanStatus::Done);
    assert!(
        runs[1..]
            .iter()
            .all(|r| r.status == ScanStatus::Interrupted)
    );
    rt.block_on(catalog.close());

    // The index holds exactly the catalog's items and answers.
    let out = ok(run(
        &data,
        &["ask", "an adventure", "--limit", "50", "--no-llm", "--json"],
    ));
    assert_eq!(json(&out)["items"].as_array().unwrap().len(), 50);
}
