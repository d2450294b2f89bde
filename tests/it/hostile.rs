//! A scan of a library holding the hostile corpus (broken, oversized,
//! special and malicious files), a polled folder that stops listing, links
//! out of the folder, and files moved between folders with their feedback.

use std::time::{Duration, Instant};

use moodshelf_catalog::{Feedback, Verdict};
use moodshelf_engine::ScanOptions;
use moodshelf_libgen::Spec;
use moodshelf_libgen::hostile::{self, Expect};
use moodshelf_tests::{NOW, TestLibrary};

/// Peak resident memory of this test's process (nextest gives each test a
/// process of its own).
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_folder_scans_quickly_with_bounded_memory() {
    let t = TestLibrary::new(Spec {
        music: 5,
        books: 5,
        videos: 5,
    })
    .await;
    let entries = hostile::write(&t.root.join("Downloads")).unwrap();
    t.lib.add_root(&t.root, NOW).await.unwrap();
    // Reading first, without the embedding model, so the memory measured
    // is what the files cost; then the usual scan embeds what was read.
    let mut opts = ScanOptions::new(NOW);
    opts.file_deadline = Duration::from_secs(10);
    opts.embed = false;
    let started = Instant::now();
    let report = t.lib.scan(opts).await.expect("the scan finishes");
    let took = started.elapsed();
    let rss = peak_rss_mib();
    let embedded = t.scan().await;
    eprintln!(
        "hostile scan: {} files discovered, {} items added, {} per-file errors, read in {took:?}, peak RSS {rss} MiB; \
         then {} embedded, peak RSS with the embedding model {} MiB",
        report.discovered,
        report.added,
        report.errors,
        embedded.embedded,
        peak_rss_mib()
    );
    assert_eq!(embedded.pending_index, 0);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("outside the folder")),
        "{:?}",
        report.warnings
    );

    let catalog = t.lib.catalog();
    for e in &entries {
        let path = moodshelf_engine::names::encode(&e.path);
        let file = catalog.file_by_path(&path).await.unwrap();
        match e.expect {
            Expect::Untouched => assert!(
                file.is_none(),
                "{} ({}) must be left alone",
                e.path.display(),
                e.why
            ),
            Expect::ItemOrError => {
                let file = file.unwrap_or_else(|| {
                    panic!("{} ({}) is neither item nor error", e.path.display(), e.why)
                });
                match catalog.item_by_path(&path).await.unwrap() {
                    Some(item) => {
                        assert!(item.title.chars().count() <= 8_000, "{}", e.why);
                        assert!(
                            !item.title.chars().any(char::is_control),
                            "{}: {:?}",
                            e.why,
                            item.title
                        );
                        assert!(!item.title.contains('\u{202E}'), "{}", e.why);
                        assert!(
                            item.genres.len() <= 64,
                            "{}: {} genres",
                            e.why,
                            item.genres.len()
                        );
                    }
                    None => {
                        assert_eq!(file.state, moodshelf_catalog::FileState::Error, "{}", e.why)
                    }
                }
            }
            Expect::Sidecar => {}
        }
    }
    // A name that is not UTF-8 is an item, listed with a readable title,
    // and its exact path opens the file.
    let latin1 = entries
        .iter()
        .find(|e| e.why.contains("not UTF-8"))
        .unwrap();
    let item = catalog
        .item_by_path(&moodshelf_engine::names::encode(&latin1.path))
        .await
        .unwrap()
        .expect("the Latin-1 name is an item");
    assert_eq!(moodshelf_engine::names::decode(&item.path), latin1.path);
    assert!(std::fs::metadata(moodshelf_engine::names::decode(&item.path)).is_ok());
    // Nothing from outside the folder came in through a link.
    for v in catalog
        .items_by_ids(&catalog.item_ids().await.unwrap())
        .await
        .unwrap()
    {
        assert!(v.path.starts_with(&*t.root.to_string_lossy()), "{}", v.path);
    }
    assert!(rss < 300, "peak RSS {rss} MiB while reading");
    assert!(took < Duration::from_secs(120), "{took:?}");
}

/// Polling is forced for the root: the real condition (a network share
/// that stops listing) cannot be produced here; the files really vanish.
#[tokio::test(flavor = "multi_thread")]
async fn a_folder_vanishing_under_a_polled_root_hides_its_items_and_keeps_their_feedback() {
    use moodshelf_engine::live::Clock;
    use moodshelf_engine::watch::WatchConfig;
    use std::sync::Arc;
    let t = TestLibrary::new(Spec {
        music: 6,
        books: 0,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let catalog = t.lib.catalog();
    let music = t.root.join("Music");
    let song = walk(&music).into_iter().next().unwrap();
    let item = catalog
        .item_by_path(&song.to_string_lossy())
        .await
        .unwrap()
        .unwrap();
    like(catalog, item.id, Some("something to run to")).await;

    let clock: Clock = Arc::new(|| NOW);
    let mut o = moodshelf_engine::WatchOptions::new(clock);
    o.config = WatchConfig {
        debounce: Duration::from_millis(200),
        poll_interval: Duration::from_millis(300),
        force_polling: true,
    };
    o.availability_every = Duration::from_secs(3600);
    let handle = t.lib.watch(o, |_| {}).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;

    // The share stops listing the folder (the root itself stays).
    let aside = t.dir.path().join("aside");
    std::fs::rename(&music, &aside).unwrap();
    std::fs::create_dir_all(t.root.join("Other")).unwrap();
    std::fs::write(t.root.join("Other/keep.txt"), b"the root still lists").unwrap();
    let hidden = moodshelf_tests::eventually(Duration::from_secs(20), || async {
        let s = t.lib.status().await.ok()?;
        (s.unavailable_items == 6).then_some(s)
    })
    .await;
    handle.stop().await.unwrap();
    let status = hidden.expect("the vanished items are hidden");
    assert_eq!(status.music, 6, "and kept");
    let still = catalog
        .item_by_path(&song.to_string_lossy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.id, item.id, "same item");
    assert!(!still.available);
    assert_eq!(
        catalog
            .feedback(moodshelf_catalog::OWNER)
            .await
            .unwrap()
            .len(),
        1,
        "feedback kept"
    );

    // It lists again: a scan shows the items again, same ids.
    std::fs::rename(&aside, &music).unwrap();
    t.scan().await;
    let back = catalog
        .item_by_path(&song.to_string_lossy())
        .await
        .unwrap()
        .unwrap();
    assert!(back.available);
    assert_eq!(back.id, item.id);
    assert_eq!(t.lib.status().await.unwrap().unavailable_items, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_moved_to_another_root_keeps_its_item_and_feedback() {
    let t = TestLibrary::new(Spec {
        music: 4,
        books: 0,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let other = t.dir.path().join("second-disk");
    std::fs::create_dir_all(&other).unwrap();
    t.lib.add_root(&other, NOW).await.unwrap();
    let catalog = t.lib.catalog();
    let song = walk(&t.root.join("Music")).into_iter().next().unwrap();
    let item = catalog
        .item_by_path(&song.to_string_lossy())
        .await
        .unwrap()
        .unwrap();
    like(catalog, item.id, None).await;
    let dest = other.join(song.file_name().unwrap());
    std::fs::copy(&song, &dest).unwrap();
    std::fs::remove_file(&song).unwrap();
    let report = t.scan().await;
    assert_eq!(report.moved, 1, "{report:?}");
    assert_eq!(report.removed, 0);
    let moved = catalog
        .item_by_path(&dest.to_string_lossy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.id, item.id, "the item followed its file");
    assert_eq!(
        catalog.feedback(moodshelf_catalog::OWNER).await.unwrap()[0].item_id,
        item.id
    );
}

/// The songs under `dir`, sorted.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    moodshelf_tests::files_under(dir)
        .into_iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|x| matches!(x.to_str(), Some("mp3" | "flac")))
        })
        .collect()
}

/// Records that the person liked item `id`.
async fn like(catalog: &moodshelf_catalog::Catalog, id: i64, request: Option<&str>) {
    catalog
        .add_feedback(
            moodshelf_catalog::OWNER,
            &Feedback {
                item_id: id,
                verdict: Verdict::Like,
                request: request.map(str::to_string),
                request_vector: None,
                created_at: NOW,
            },
        )
        .await
        .unwrap();
}
