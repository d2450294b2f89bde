//! Scanning a generated library of real files into a real catalog and a
//! real LanceDB index with the real embedding model.

use std::collections::HashMap;

use moodshelf_engine::ScanOptions;
use moodshelf_libgen::Spec;
use moodshelf_tests::{NOW, TestLibrary, files_under, fixture, search};

const SPEC: Spec = Spec {
    music: 40,
    books: 30,
    videos: 30,
};

#[tokio::test(flavor = "multi_thread")]
async fn every_generated_item_is_catalogued_with_its_fields() {
    let t = TestLibrary::new(SPEC).await;
    let report = t.add_and_scan().await;
    assert_eq!(report.errors, 0, "{:?}", report.error_samples);
    assert_eq!(report.added as usize, count_files(&t));
    assert_eq!(
        report.embedded, 100,
        "every item is embedded in the first scan"
    );
    assert_eq!(report.pending_index, 0);

    let status = t.lib.status().await.unwrap();
    assert_eq!((status.music, status.books, status.videos), (40, 30, 30));

    for g in &t.generated.items {
        let path = g.path.to_string_lossy();
        let item = t
            .lib
            .catalog()
            .item_by_path(&path)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{path} not in the catalog"));
        assert_eq!(item.kind.as_str(), g.kind, "{path}");
        assert_eq!(item.title, g.title, "{path}");
        if g.creator.is_some() {
            assert_eq!(item.creator, g.creator, "{path}");
        }
        assert_eq!(item.year, g.year, "{path}");
        if let Some(d) = g.duration_secs {
            let got = item
                .duration_secs
                .unwrap_or_else(|| panic!("{path}: no duration"));
            assert!((got - d).abs() < 1.0, "{path}: duration {got} vs {d}");
        }
        for genre in &g.genres {
            assert!(
                item.genres.contains(genre),
                "{path}: {genre} missing from {:?}",
                item.genres
            );
        }
    }
    // Calibre's metadata.opf beside the file wins over what is in the file.
    let calibre = t
        .generated
        .items
        .iter()
        .find(|i| i.kind == "book" && i.sidecar)
        .unwrap();
    let item = t
        .lib
        .catalog()
        .item_by_path(&calibre.path.to_string_lossy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        item.creator, calibre.creator,
        "the sidecar names the author the file lacks"
    );
    let cover = item.cover.expect("cover.png beside the book is its cover");
    assert!(
        std::path::Path::new(&cover).starts_with(t.data_dir().join("covers")),
        "brought into the covers folder, which the window serves: {cover}"
    );
    let beside = calibre.path.parent().unwrap().join("cover.png");
    assert_eq!(
        std::fs::read(&cover).unwrap(),
        std::fs::read(beside).unwrap()
    );
}

fn count_files(t: &TestLibrary) -> usize {
    files_under(&t.root).len()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_rescan_reads_and_embeds_nothing() {
    let t = TestLibrary::new(SPEC).await;
    let first = t.add_and_scan().await;
    let second = t.scan().await;
    assert_eq!(second.discovered, first.discovered);
    assert_eq!(
        second.unchanged, second.discovered,
        "nothing changed on disk"
    );
    assert_eq!(
        (
            second.added,
            second.changed,
            second.removed,
            second.embedded
        ),
        (0, 0, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_files_fail_alone() {
    let t = TestLibrary::new(Spec {
        music: 10,
        books: 5,
        videos: 5,
    })
    .await;
    let bad = t.root.join("Broken");
    std::fs::create_dir_all(&bad).unwrap();
    for (src, name) in [
        (
            "audio/lofty/oom-48ae4cd061ff8578ad3f23dc87624bd365cf5216.wav",
            "oom.wav",
        ),
        ("audio/taglib/segfault.mpc", "segfault.mpc"),
        ("audio/mutagen/emptyfile.mp3", "empty.mp3"),
        ("audio/lofty/infloop.wv", "infloop.wv"),
    ] {
        std::fs::copy(fixture(src), bad.join(name)).unwrap();
    }
    // A truncated EPUB: half of a real one.
    let epub = std::fs::read(fixture("ebooks/eng.epub")).unwrap();
    std::fs::write(bad.join("truncated.epub"), &epub[..epub.len() / 2]).unwrap();

    let report = t.add_and_scan().await;
    assert_eq!(report.errors, 5, "{:?}", report.error_samples);
    // Each broken file is still a media file: listed by its name, as
    // players list it, with its error kept beside it.
    assert_eq!(report.embedded, 25, "every good file is indexed anyway");
    let listed = t
        .lib
        .catalog()
        .item_by_path(&bad.join("truncated.epub").to_string_lossy())
        .await
        .unwrap()
        .expect("the truncated book is an item");
    assert_eq!(listed.title, "truncated");
    assert_eq!(listed.kind.as_str(), "book");
    let errors = t.lib.file_errors(50).await.unwrap();
    let by_name: HashMap<String, String> = errors
        .into_iter()
        .map(|e| (e.path.rsplit('/').next().unwrap().to_string(), e.error))
        .collect();
    assert!(
        by_name["truncated.epub"].contains("truncated.epub"),
        "{by_name:?}"
    );
    assert!(by_name.contains_key("oom.wav") && by_name.contains_key("infloop.wv"));

    // Failed files are not retried while unchanged.
    let again = t.scan().await;
    assert_eq!(again.errors, 0);
    assert_eq!(again.unchanged, again.discovered);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vanished_folder_is_kept_and_comes_back() {
    let t = TestLibrary::new(Spec {
        music: 10,
        books: 5,
        videos: 5,
    })
    .await;
    t.add_and_scan().await;
    let aside = t.dir.path().join("unmounted");
    std::fs::rename(&t.root, &aside).unwrap();

    let report = t.scan().await;
    assert_eq!(report.removed, 0, "a missing disk is not a deletion");
    assert_eq!(report.unavailable_roots.len(), 1);
    let status = t.lib.status().await.unwrap();
    assert_eq!(
        status.music + status.books + status.videos,
        20,
        "items are kept"
    );
    assert_eq!(status.unavailable_items, 20);
    assert_eq!(status.roots[0].state, "unavailable");
    let answer = search(&t.lib, "music", None, 10).await.unwrap();
    assert!(
        answer.items.is_empty(),
        "unavailable items are not recommended"
    );

    // An empty mount point (the folder exists, the disk is not in it).
    std::fs::create_dir_all(&t.root).unwrap();
    let report = t.scan().await;
    assert_eq!(
        report.removed, 0,
        "an empty mount point is not a deletion either"
    );

    std::fs::remove_dir(&t.root).unwrap();
    std::fs::rename(&aside, &t.root).unwrap();
    let report = t.scan().await;
    assert!(report.unavailable_roots.is_empty());
    assert_eq!(report.unchanged, report.discovered, "nothing to read again");
    let status = t.lib.status().await.unwrap();
    assert_eq!(status.roots[0].state, "ok");
    assert_eq!(status.unavailable_items, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_only_scan_then_embed_later() {
    let t = TestLibrary::new(Spec {
        music: 10,
        books: 5,
        videos: 5,
    })
    .await;
    t.lib.add_root(&t.root, NOW).await.unwrap();
    let mut opts = ScanOptions::new(NOW);
    opts.embed = false;
    let report = t.lib.scan(opts).await.unwrap();
    assert_eq!(report.added as usize, count_files(&t));
    assert_eq!((report.embedded, report.pending_index), (0, 20));
    let report = t.scan().await;
    assert_eq!(report.embedded, 20, "the next scan embeds what waited");
    assert_eq!(report.pending_index, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_index_rebuilds_from_the_catalog() {
    let mut t = TestLibrary::new(Spec {
        music: 10,
        books: 5,
        videos: 5,
    })
    .await;
    t.add_and_scan().await;
    // Lose the derived index entirely.
    t.reopen().await;
    std::fs::remove_dir_all(t.data_dir().join("index")).unwrap();
    let report = t.lib.rebuild_index(ScanOptions::new(NOW)).await.unwrap();
    assert_eq!(report.embedded, 20);
    assert_eq!(t.lib.index().await.unwrap().count().await.unwrap(), 20);
    // And a plain scan heals an index that lost rows behind our back.
    let index = t.lib.index().await.unwrap();
    let some: Vec<i64> = index.ids().await.unwrap().into_iter().take(3).collect();
    index.delete(&some).await.unwrap();
    let report = t.scan().await;
    assert_eq!(
        report.embedded, 3,
        "reconcile re-embeds rows the index lost"
    );
}

/// A damaged index directory (every file in it overwritten with junk, as a
/// failing disk or a crash mid-write leaves it) is set aside and rebuilt
/// from the catalog by the next scan, with nothing asked of the person.
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_index_is_set_aside_and_rebuilt() {
    let mut t = TestLibrary::new(Spec {
        music: 10,
        books: 5,
        videos: 5,
    })
    .await;
    t.add_and_scan().await;
    t.reopen().await;
    let index_dir = t.data_dir().join("index");
    let mut damaged = 0;
    for f in files_under(&index_dir) {
        std::fs::write(&f, b"\0\0not lance at all\xff").unwrap();
        damaged += 1;
    }
    assert!(damaged > 0);
    let report = t.scan().await;
    assert_eq!(report.embedded, 20, "every item is embedded again");
    assert_eq!(t.lib.index().await.unwrap().count().await.unwrap(), 20);
    assert!(
        t.data_dir().join("index.damaged").is_dir(),
        "set aside, not deleted"
    );
    let answer = search(&t.lib, "music", None, 5).await.unwrap();
    assert!(!answer.items.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_folder_forgets_its_items() {
    let t = TestLibrary::new(Spec {
        music: 5,
        books: 5,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let removed = t.lib.remove_root(&t.root).await.unwrap();
    assert_eq!(removed, 10);
    assert_eq!(t.lib.index().await.unwrap().count().await.unwrap(), 0);
    assert!(t.lib.roots().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn nested_roots_are_refused() {
    let t = TestLibrary::new(Spec {
        music: 2,
        books: 0,
        videos: 0,
    })
    .await;
    t.lib.add_root(&t.root, NOW).await.unwrap();
    let inner = t.root.join("Music");
    let err = t.lib.add_root(&inner, NOW).await.unwrap_err();
    assert_eq!(err.code, moodshelf_engine::Code::InvalidInput);
    let err = t.lib.add_root(t.dir.path(), NOW).await.unwrap_err();
    assert_eq!(err.code, moodshelf_engine::Code::InvalidInput);
    let err = t.lib.add_root(&t.root.join("nope"), NOW).await.unwrap_err();
    assert_eq!(err.code, moodshelf_engine::Code::LibraryUnavailable);
}

/// Issue 25 #3: a reader that runs out of time says nothing of the file:
/// an item read well before keeps its metadata, and the next scan reads
/// the file again (it used to be a names-only item for good).
#[tokio::test(flavor = "multi_thread")]
async fn a_reader_out_of_time_keeps_the_last_good_reading_and_tries_again() {
    let t = TestLibrary::new(Spec {
        music: 3,
        books: 0,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let song = t.generated.of_kind("music").next().unwrap().path.clone();
    let key = song.to_string_lossy().into_owned();
    let c = t.lib.catalog();
    let before = c.item_by_path(&key).await.unwrap().unwrap();
    assert!(before.creator.is_some(), "read well: {before:?}");

    // The file changes and its reader gets no time at all.
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(&song)
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    let mut opts = ScanOptions::new(NOW);
    opts.file_deadline = std::time::Duration::ZERO;
    let r = t.lib.scan(opts).await.unwrap();
    assert!(r.errors >= 1, "{r:?}");
    let kept = c.item_by_path(&key).await.unwrap().unwrap();
    assert_eq!(
        (kept.id, &kept.title, &kept.creator),
        (before.id, &before.title, &before.creator),
        "the last good reading stands"
    );
    let rec = c.file_by_path(&key).await.unwrap().unwrap();
    assert_eq!(rec.reader, 0, "marked to be read again");

    // The next scan, with time, reads it again.
    let r = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    assert_eq!(r.errors, 0, "{r:?}");
    let rec = c.file_by_path(&key).await.unwrap().unwrap();
    assert_eq!(rec.state, moodshelf_catalog::FileState::Ok);
    assert_eq!(rec.reader, moodshelf_media::READER_VERSION);
}

/// Issue 25 #4: the desktop app and the CLI on one data dir. A second
/// writer (here a second library opened on the same data dir, as another
/// process would) waits for the first, can say who holds the library, and
/// both scans finish with one consistent catalog.
#[tokio::test(flavor = "multi_thread")]
async fn two_writers_on_one_data_dir_take_turns() {
    let t = TestLibrary::new(Spec {
        music: 30,
        books: 10,
        videos: 10,
    })
    .await;
    t.lib.add_root(&t.root, NOW).await.unwrap();
    let other = moodshelf_tests::open(t.data_dir().parent().unwrap()).await;
    assert_eq!(other.other_writer(), None, "nobody writes yet");
    let first = {
        let lib = t.lib.clone();
        tokio::spawn(async move { lib.scan(ScanOptions::new(NOW)).await })
    };
    let holder = moodshelf_tests::eventually(std::time::Duration::from_secs(30), || async {
        other.other_writer()
    })
    .await
    .expect("the first scan holds the library");
    assert!(
        holder.starts_with(&format!("pid {}", std::process::id())),
        "{holder}"
    );
    let second = other.scan(ScanOptions::new(NOW)).await.unwrap();
    let first = first.await.unwrap().unwrap();
    assert!(first.added > 0);
    assert_eq!(second.added, 0, "it waited, then found all read");
    assert_eq!(other.other_writer(), None, "and let go");
    let s = t.lib.status().await.unwrap();
    assert_eq!(
        (s.music + s.books + s.videos) as usize,
        t.generated.items.len()
    );
    other.close().await;
}

/// Issue 25 #4: a reader on the same data dir (the desktop app while the
/// CLI rebuilds the index) answers from the whole index all through the
/// other library's rebuild and from the rebuilt one after it; a rebuild
/// cancelled half way leaves the previous index whole, and the next scan
/// puts the catalog's marks right.
#[tokio::test(flavor = "multi_thread")]
async fn a_reader_answers_from_the_whole_index_while_another_library_rebuilds_it() {
    let t = TestLibrary::new(Spec {
        music: 60,
        books: 30,
        videos: 30,
    })
    .await;
    t.add_and_scan().await;
    let total = t.lib.index().await.unwrap().count().await.unwrap();
    assert!(total >= 100, "{total}");
    let reader = moodshelf_tests::open(t.data_dir().parent().unwrap()).await;
    let asked = "a quiet rainy evening";
    let before = search(&reader, asked, None, 10).await.unwrap().items.len();
    assert_eq!(before, 10);

    let rebuild = {
        let lib = t.lib.clone();
        tokio::spawn(async move { lib.rebuild_index(ScanOptions::new(NOW)).await })
    };
    let mut answered_during = 0;
    while !rebuild.is_finished() {
        let writing = reader.other_writer().is_some();
        let r = search(&reader, asked, None, 10)
            .await
            .expect("a reader answers while another library rebuilds");
        assert_eq!(r.items.len(), before, "from the whole index");
        let rows = reader.index().await.unwrap().count().await.unwrap();
        assert_eq!(rows, total, "the reader sees every row");
        if writing && reader.other_writer().is_some() {
            answered_during += 1;
        }
    }
    let report = rebuild.await.unwrap().unwrap();
    assert_eq!(report.embedded as usize, total);
    assert!(
        answered_during > 0,
        "the reader asked while the rebuild ran"
    );
    let after = search(&reader, asked, None, 10).await.unwrap();
    assert_eq!(after.items.len(), before, "and from the rebuilt one after");
    assert_eq!(reader.index().await.unwrap().count().await.unwrap(), total);

    // Cancelled half way through embedding.
    let mut opts = ScanOptions::new(NOW);
    let cancel = opts.cancel.clone();
    opts.progress = Some(std::sync::Arc::new(
        move |p: &moodshelf_engine::jobs::Progress| {
            if p.phase == moodshelf_engine::jobs::Phase::Embed && p.done > 0 {
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        },
    ));
    let err = t.lib.rebuild_index(opts).await.unwrap_err();
    assert!(err.to_string().contains("cancel"), "{err}");
    assert!(
        !t.data_dir().join("index.next").exists(),
        "the half-built index is gone"
    );
    let r = search(&reader, asked, None, 10).await.unwrap();
    assert_eq!(r.items.len(), before, "the previous index answers");
    assert_eq!(reader.index().await.unwrap().count().await.unwrap(), total);
    let report = t.scan().await;
    assert_eq!(
        report.embedded as usize, total,
        "the next scan embeds again"
    );
    assert_eq!(report.pending_index, 0);
    reader.close().await;
}

/// Issue 25 #4: what a reader keeps of the library (the item profiles it
/// answers from) is loaded again when another library on the data dir
/// changed it, not only when it changed it itself.
#[tokio::test(flavor = "multi_thread")]
async fn a_readers_profiles_follow_another_librarys_scan() {
    let t = TestLibrary::new(Spec {
        music: 10,
        books: 5,
        videos: 5,
    })
    .await;
    t.add_and_scan().await;
    let reader = moodshelf_tests::open(t.data_dir().parent().unwrap()).await;
    let before = reader.store().profiles().await.unwrap().len();
    assert_eq!(before, t.generated.items.len());

    let more = t.data_dir().parent().unwrap().join("more");
    let added = moodshelf_libgen::generate(
        &moodshelf_libgen::datasets_dir(),
        &more,
        Spec {
            music: 6,
            books: 4,
            videos: 0,
        },
    )
    .unwrap();
    t.lib.add_root(&more, NOW).await.unwrap();
    t.scan().await;
    let s = t.lib.status().await.unwrap();
    let items = (s.music + s.books + s.videos) as usize;
    assert!(
        items > before,
        "{items} items after adding {}",
        added.items.len()
    );
    assert_eq!(
        reader.store().profiles().await.unwrap().len(),
        items,
        "the reader answers from the scanned library"
    );
    reader.close().await;
}

/// Issue 25 #4: a reader never makes the index while another process
/// writes the library. A rebuild's swap leaves no index directory for a
/// moment; a reader that made an empty one there would stand in for the
/// rebuilt index. The other process is this test holding `writer.lock` (as
/// a fake writer would), and the moment is the directory moved aside.
#[tokio::test(flavor = "multi_thread")]
async fn a_reader_does_not_make_the_index_another_process_is_writing() {
    let t = TestLibrary::new(Spec {
        music: 5,
        books: 5,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let reader = moodshelf_tests::open(t.data_dir().parent().unwrap()).await;
    let (live, aside) = (t.data_dir().join("index"), t.data_dir().join("index.moved"));
    std::fs::rename(&live, &aside).unwrap();
    let lock = std::fs::File::create(t.data_dir().join("writer.lock")).unwrap();
    lock.try_lock().expect("the fake writer holds the library");
    let err = reader.index().await.err().expect("busy, not a new index");
    assert_eq!(err.code, moodshelf_engine::Code::IndexBusy, "{err}");
    assert!(!live.exists(), "the reader made no index");
    drop(lock);
    std::fs::rename(&aside, &live).unwrap();
    assert_eq!(reader.index().await.unwrap().count().await.unwrap(), 10);
    reader.close().await;
}
