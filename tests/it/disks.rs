//! Disks that fail for real: a tmpfs root unmounted in the middle of a scan
//! and of a watch, a data dir on a tmpfs that fills up during a scan, and a
//! scan process killed with SIGKILL while it writes the index. Mounting
//! needs root (CI runs as root); elsewhere the tmpfs tests say they were
//! skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use moodshelf_engine::{Phase, Progress, ScanOptions, WatchEvent};
use moodshelf_libgen::Spec;
use moodshelf_tests::{NOW, TestLibrary, eventually, files_under};

/// A tmpfs mounted for one test, unmounted (lazily) when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

fn unmount(dir: &Path) {
    let _ = Command::new("umount").arg("-l").arg(dir).status();
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        unmount(&self.dir);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .unwrap();
    assert!(ok.success());
}

fn touch_all(dir: &Path) {
    let ok = Command::new("find")
        .arg(dir)
        .args(["-type", "f", "-exec", "touch", "{}", "+"])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disk_unmounted_mid_scan_loses_nothing_and_the_next_scan_resumes() {
    let t = TestLibrary::new(Spec {
        music: 30,
        books: 15,
        videos: 15,
    })
    .await;
    let disk = t.dir.path().join("disk");
    let Some(_mount) = Tmpfs::mount(&disk, "64m") else {
        return;
    };
    copy_tree(&t.root, &disk);
    t.lib.add_root(&disk, NOW).await.unwrap();
    let first = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    assert_eq!(first.errors, 0);
    let before = t.lib.status().await.unwrap();
    let items = before.music + before.books + before.videos;
    let sample = t.lib.catalog().item_ids().await.unwrap();

    // Every file changed, so the next scan reads them all; the disk goes
    // away as the reading starts.
    touch_all(&disk);
    let mut opts = ScanOptions::new(NOW);
    let pulled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (flag, dir) = (pulled.clone(), disk.clone());
    opts.progress = Some(Arc::new(move |p: &Progress| {
        if p.phase == Phase::Extract && !flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
            unmount(&dir);
        }
    }));
    let during = t.lib.scan(opts).await;
    assert!(
        pulled.load(std::sync::atomic::Ordering::SeqCst),
        "unmounted mid-scan"
    );
    eprintln!(
        "scan during the unmount: {:?}",
        during.as_ref().map(|r| (r.errors, r.removed))
    );
    if let Ok(r) = &during {
        assert_eq!(r.removed, 0, "nothing is deleted");
        assert!(r.errors > 0, "the reads after the unmount failed, alone");
    }
    let after = t.lib.status().await.unwrap();
    assert_eq!(
        after.music + after.books + after.videos,
        items,
        "items kept"
    );

    // The next scan sees an empty mount point: unavailable, not deleted.
    let next = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    assert_eq!(next.removed, 0);
    assert_eq!(next.unavailable_roots.len(), 1);

    // The disk comes back with the same files: same items, all available.
    let _again = Tmpfs::mount(&disk, "64m").unwrap();
    copy_tree(&t.root, &disk);
    let back = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    assert_eq!(back.removed, 0);
    let status = t.lib.status().await.unwrap();
    assert_eq!(status.music + status.books + status.videos, items);
    assert_eq!(status.unavailable_items, 0);
    assert_eq!(status.pending_index, 0);
    assert_eq!(
        t.lib.catalog().item_ids().await.unwrap(),
        sample,
        "same item ids"
    );
}

/// Issue 25 #1: a disk mounted inside a root that goes away for a moment
/// lists empty; a full scan used to forget everything on it, with its
/// likes. Now its files are hidden, come back with their ids when it does,
/// and are forgotten only when three scans in a row missed them.
#[tokio::test(flavor = "multi_thread")]
async fn a_folder_that_lists_empty_for_a_moment_is_not_everything_deleted() {
    let t = TestLibrary::new(Spec {
        music: 6,
        books: 2,
        videos: 2,
    })
    .await;
    let disk = t.root.join("Usb stick");
    let Some(mount) = Tmpfs::mount(&disk, "32m") else {
        return;
    };
    let on_disk: Vec<PathBuf> = t
        .generated
        .of_kind("music")
        .take(3)
        .map(|g| g.path.clone())
        .collect();
    for (i, p) in on_disk.iter().enumerate() {
        let ext = p.extension().unwrap().to_string_lossy();
        std::fs::copy(p, disk.join(format!("track {i}.{ext}"))).unwrap();
    }
    t.add_and_scan().await;
    let c = t.lib.catalog();
    let key = |i: usize| {
        let ext = on_disk[i]
            .extension()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        disk.join(format!("track {i}.{ext}"))
            .to_string_lossy()
            .into_owned()
    };
    let id = c.item_by_path(&key(0)).await.unwrap().unwrap().id;
    t.lib
        .feedback(id, moodshelf_catalog::Verdict::Like, None, NOW)
        .await
        .unwrap();

    drop(mount); // the stick is pulled: its folder lists empty
    let r = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    assert_eq!(r.removed, 0, "nothing forgotten on one scan's word");
    let f = c.file_by_path(&key(0)).await.unwrap().expect("kept");
    assert!(f.missing_since.is_some(), "hidden meanwhile");

    // It comes back: the same items, the like still there.
    let again = Tmpfs::mount(&disk, "32m").unwrap();
    for (i, p) in on_disk.iter().enumerate() {
        let ext = p.extension().unwrap().to_string_lossy();
        std::fs::copy(p, disk.join(format!("track {i}.{ext}"))).unwrap();
    }
    t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    assert_eq!(c.item_by_path(&key(0)).await.unwrap().unwrap().id, id);
    assert!(
        c.file_by_path(&key(0))
            .await
            .unwrap()
            .unwrap()
            .missing_since
            .is_none()
    );
    assert_eq!(
        c.feedback(moodshelf_catalog::OWNER).await.unwrap()[0].item_id,
        id
    );

    // Gone for good: three scans in a row agree, and then it is forgotten.
    drop(again);
    for n in 1..=3 {
        let r = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
        let expected = if n < 3 { 0 } else { 3 };
        assert_eq!(r.removed, expected, "scan {n}");
    }
    assert!(c.file_by_path(&key(0)).await.unwrap().is_none());

    // A file deleted from a folder that still lists is forgotten at once.
    let other = t
        .generated
        .items
        .iter()
        .map(|g| g.path.clone())
        .find(|p| std::fs::read_dir(p.parent().unwrap()).unwrap().count() > 1 && p.exists())
        .expect("a file beside others");
    std::fs::remove_file(&other).unwrap();
    assert_eq!(t.lib.scan(ScanOptions::new(NOW)).await.unwrap().removed, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disk_unmounted_under_a_watch_is_kept() {
    let t = TestLibrary::new(Spec {
        music: 8,
        books: 0,
        videos: 0,
    })
    .await;
    let disk = t.dir.path().join("disk");
    let Some(mount) = Tmpfs::mount(&disk, "32m") else {
        return;
    };
    copy_tree(&t.root, &disk);
    t.lib.add_root(&disk, NOW).await.unwrap();
    t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let mut o = moodshelf_engine::WatchOptions::new(Arc::new(|| NOW));
    o.availability_every = Duration::from_millis(300);
    o.settle = Duration::from_millis(100);
    let handle = t
        .lib
        .watch(o, move |e| sink.lock().unwrap().push(e))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(mount); // umount -l: the files vanish under the watch
    let marked = eventually(Duration::from_secs(20), || async {
        let s = t.lib.status().await.ok()?;
        (s.roots[0].state == "unavailable").then_some(s)
    })
    .await;
    handle.stop().await.unwrap();
    let s = marked.expect("the disk is marked unavailable");
    assert_eq!(s.music, 8, "its items are kept");
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .all(|e| !matches!(e, WatchEvent::Updated { removed, .. } if *removed > 0)),
        "nothing was removed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_fails_the_scan_clearly_and_the_next_one_finishes() {
    let t = TestLibrary::new(Spec {
        music: 20,
        books: 10,
        videos: 10,
    })
    .await;
    let base = t.dir.path().join("small");
    let Some(_mount) = Tmpfs::mount(&base, "8m") else {
        return;
    };
    let lib = moodshelf_tests::open(&base).await;
    lib.add_root(&t.root, NOW).await.unwrap();
    // Fill the disk but for a few kilobytes.
    let filler = base.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k"])
        .arg(format!("of={}", filler.display()))
        .status();
    let _ = Command::new("truncate")
        .args(["-s", "-48k"])
        .arg(&filler)
        .status();
    let full = lib.scan(ScanOptions::new(NOW)).await;
    let err = full.expect_err("a scan on a full disk fails");
    eprintln!("full disk: {}", err.message);
    assert!(!err.message.is_empty());

    // Room again: the same library (still open) and a reopened one work.
    std::fs::remove_file(&filler).unwrap();
    lib.close().await;
    let lib = moodshelf_tests::open(&base).await;
    let report = lib
        .scan(ScanOptions::new(NOW))
        .await
        .expect("the next scan finishes");
    let status = lib.status().await.unwrap();
    assert_eq!(
        status.music + status.books + status.videos,
        40,
        "{report:?}"
    );
    assert_eq!(status.pending_index, 0);
    assert_eq!(lib.index().await.unwrap().count().await.unwrap(), 40);
}

/// The CLI beside this test binary (`cargo build --workspace --all-targets`
/// builds it, as `.ci/run` does first).
fn cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("moodshelf"))
        .unwrap();
    assert!(
        bin.is_file(),
        "{} is missing: build with `cargo build --workspace --all-targets`",
        bin.display()
    );
    bin
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_killed_while_writing_the_index_is_finished_by_the_next() {
    let t = TestLibrary::new(Spec {
        music: 120,
        books: 90,
        videos: 90,
    })
    .await;
    let base = t.dir.path().join("killed");
    let data = base.join("data");
    let run = |args: &[&str]| {
        let mut c = Command::new(cli());
        c.arg("--data-dir").arg(&data).args(args);
        c
    };
    let added = run(&["library", "add"]).arg(&t.root).status().unwrap();
    assert!(added.success());
    let mut child = run(&["scan"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as the first rows are in the index.
    let index_data = data.join("index");
    let mut killed = false;
    for _ in 0..12_000 {
        let written = files_under(&index_data)
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "lance"));
        if written {
            child.kill().unwrap(); // SIGKILL
            killed = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.wait();
    assert!(killed, "the scan was killed while it wrote the index");

    let lib = moodshelf_tests::open(&base).await;
    let interrupted = lib.status().await.unwrap();
    eprintln!(
        "after SIGKILL: {} items, {} waiting for the index",
        interrupted.music + interrupted.books + interrupted.videos,
        interrupted.pending_index
    );
    let report = lib
        .scan(ScanOptions::new(NOW))
        .await
        .expect("the next scan finishes");
    let status = lib.status().await.unwrap();
    let items = status.music + status.books + status.videos;
    assert_eq!(items, 300, "{report:?}");
    assert_eq!(status.pending_index, 0);
    assert_eq!(
        lib.index().await.unwrap().count().await.unwrap() as i64,
        items
    );
}
