//! A running watcher (real inotify through notify, real catalog and index)
//! follows files as they are created, edited, renamed and deleted, and
//! treats a vanished folder as unavailable, not deleted.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moodshelf_engine::live::Clock;
use moodshelf_engine::watch::WatchConfig;
use moodshelf_engine::{WatchEvent, WatchHandle, WatchOptions};
use moodshelf_libgen::Spec;
use moodshelf_libgen::formats::{self, AudioTags};
use moodshelf_tests::{NOW, TestLibrary, eventually, search};

const WAIT: Duration = Duration::from_secs(20);

fn options(polling: bool) -> WatchOptions {
    let clock: Clock = Arc::new(|| NOW);
    let mut o = WatchOptions::new(clock);
    o.config = WatchConfig {
        debounce: Duration::from_millis(300),
        poll_interval: Duration::from_millis(500),
        force_polling: polling,
    };
    o.availability_every = Duration::from_millis(500);
    o
}

fn song(title: &str) -> Vec<u8> {
    formats::mp3(
        &AudioTags {
            title: title.into(),
            artist: "The Watchers".into(),
            album: "Live Updates".into(),
            track: 1,
            date: Some("2024".into()),
            ..AudioTags::default()
        },
        180.0,
    )
}

type Events = Arc<Mutex<Vec<WatchEvent>>>;

/// Starts watching and collects the controller's events.
async fn start(t: &TestLibrary, polling: bool) -> (WatchHandle, Events) {
    let events: Events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let handle = t
        .lib
        .watch(options(polling), move |e| sink.lock().unwrap().push(e))
        .await
        .unwrap();
    // Let the watches settle before the file system changes.
    tokio::time::sleep(Duration::from_millis(if polling { 800 } else { 300 })).await;
    (handle, events)
}

async fn title_at(t: &TestLibrary, path: &std::path::Path) -> Option<(i64, String)> {
    let item = t
        .lib
        .catalog()
        .item_by_path(&path.to_string_lossy())
        .await
        .ok()??;
    let indexed = t.lib.catalog().counts().await.ok()?.pending_index == 0;
    indexed.then_some((item.id, item.title))
}

#[tokio::test(flavor = "multi_thread")]
async fn create_edit_rename_delete_under_a_live_watch() {
    let t = TestLibrary::new(Spec {
        music: 10,
        books: 5,
        videos: 5,
    })
    .await;
    t.add_and_scan().await;
    let (handle, events) = start(&t, false).await;
    assert!(
        events.lock().unwrap().iter().any(|e| matches!(
            e,
            WatchEvent::Watching {
                mode: moodshelf_engine::watch::WatchMode::Live,
                ..
            }
        )),
        "the root is watched with native events"
    );

    // Create: recommendable within seconds.
    let dir = t.root.join("Music/The Watchers/Live Updates");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("01 - First Light.mp3");
    let started = Instant::now();
    std::fs::write(&path, song("First Light")).unwrap();
    let (id, title) = eventually(WAIT, || title_at(&t, &path))
        .await
        .expect("new file appears");
    assert_eq!(title, "First Light");
    let latency = started.elapsed();
    let answer = search(&t.lib, "First Light The Watchers", None, 3)
        .await
        .unwrap();
    assert_eq!(
        answer.items[0].item.path,
        path.to_string_lossy(),
        "and searchable"
    );
    eprintln!("new file searchable after {latency:?}");

    // Edit its tags.
    std::fs::write(&path, song("First Light (Reprise)")).unwrap();
    let retitled = eventually(WAIT, || async {
        title_at(&t, &path)
            .await
            .filter(|(_, t)| t.ends_with("(Reprise)"))
    })
    .await
    .expect("edit is followed");
    assert_eq!(retitled.0, id, "an edited file keeps its item");

    // Rename it: same item at the new path.
    let renamed = dir.join("01 - Reprise.mp3");
    std::fs::rename(&path, &renamed).unwrap();
    let moved = eventually(WAIT, || title_at(&t, &renamed))
        .await
        .expect("rename is followed");
    assert_eq!(moved.0, id, "a renamed file keeps its item");
    assert!(
        t.lib
            .catalog()
            .item_by_path(&path.to_string_lossy())
            .await
            .unwrap()
            .is_none()
    );

    // A whole album copied in at once is one burst.
    let album = t.root.join("Music/The Watchers/Burst");
    std::fs::create_dir_all(&album).unwrap();
    for i in 0..25 {
        std::fs::write(
            album.join(format!("{i:02} - Track {i}.mp3")),
            song(&format!("Burst Track {i}")),
        )
        .unwrap();
    }
    let all_in = eventually(WAIT, || async {
        let s = t.lib.status().await.ok()?;
        (s.music == 36 && s.pending_index == 0).then_some(())
    })
    .await;
    assert!(all_in.is_some(), "all 25 new tracks are indexed");

    // Delete: gone from catalog and index.
    std::fs::remove_file(&renamed).unwrap();
    let gone = eventually(WAIT, || async {
        let ids = t.lib.index().await.ok()?.ids().await.ok()?;
        (!ids.contains(&id)).then_some(())
    })
    .await;
    assert!(gone.is_some(), "deleted file leaves the index");
    // Deleting a folder removes everything under it.
    std::fs::remove_dir_all(&album).unwrap();
    let emptied = eventually(WAIT, || async {
        let s = t.lib.status().await.ok()?;
        (s.music == 10).then_some(())
    })
    .await;
    assert!(emptied.is_some(), "a deleted folder's items are removed");

    handle.stop().await.unwrap();
    let updates = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, WatchEvent::Updated { .. }))
        .count();
    assert!(updates >= 5, "each change was an update ({updates})");
    assert!(
        updates < 30,
        "the 25-track burst was not 25 separate updates ({updates})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unmounted_folder_is_kept_until_it_returns() {
    let t = TestLibrary::new(Spec {
        music: 10,
        books: 0,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let (handle, events) = start(&t, false).await;

    let aside = t.dir.path().join("elsewhere");
    std::fs::rename(&t.root, &aside).unwrap();
    let marked = eventually(WAIT, || async {
        let s = t.lib.status().await.ok()?;
        (s.roots[0].state == "unavailable").then_some(s)
    })
    .await
    .expect("the folder is marked unavailable");
    assert_eq!(marked.music, 10, "its items are kept");

    std::fs::rename(&aside, &t.root).unwrap();
    let back = eventually(WAIT, || async {
        let s = t.lib.status().await.ok()?;
        (s.roots[0].state == "ok" && s.unavailable_items == 0).then_some(s)
    })
    .await
    .expect("the folder comes back");
    assert_eq!(back.music, 10);
    handle.stop().await.unwrap();
    let ev = events.lock().unwrap();
    assert!(
        ev.iter()
            .any(|e| matches!(e, WatchEvent::RootUnavailable { .. }))
    );
    assert!(
        ev.iter()
            .any(|e| matches!(e, WatchEvent::RootAvailable { .. }))
    );
}

/// The polling fallback (network mounts, exhausted inotify watches) is
/// forced here: the real conditions cannot be produced in a test.
#[tokio::test(flavor = "multi_thread")]
async fn polling_fallback_sees_new_files() {
    let t = TestLibrary::new(Spec {
        music: 5,
        books: 0,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let (handle, events) = start(&t, true).await;
    let path = t.root.join("Music/polled.mp3");
    std::fs::write(&path, song("Polled Song")).unwrap();
    let found = eventually(WAIT, || title_at(&t, &path)).await;
    handle.stop().await.unwrap();
    assert_eq!(found.map(|f| f.1).as_deref(), Some("Polled Song"));
    assert!(events.lock().unwrap().iter().any(|e| matches!(
        e,
        WatchEvent::Watching {
            mode: moodshelf_engine::watch::WatchMode::Polling,
            ..
        }
    )));
}

/// A real inotify queue overflow: the kernel's per-instance queue is made
/// tiny (root only) while this watcher starts, then a burst of files
/// overflows it. Folders created during the overflow were never watched;
/// the watch is rebuilt, so a file written in one afterwards is seen.
#[tokio::test(flavor = "multi_thread")]
async fn after_an_event_overflow_new_folders_are_watched() {
    const LIMIT: &str = "/proc/sys/fs/inotify/max_queued_events";
    const DISCS: usize = 150;
    let Ok(original) = std::fs::read_to_string(LIMIT) else {
        eprintln!("skipped: {LIMIT} is not readable here");
        return;
    };
    let t = TestLibrary::new(Spec {
        music: 2,
        books: 0,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    if std::fs::write(LIMIT, "8").is_err() {
        eprintln!("skipped: changing {LIMIT} needs root");
        return;
    }
    // The queue size is fixed when the inotify instance is created.
    let started = start(&t, false).await;
    std::fs::write(LIMIT, original.trim()).unwrap();
    let (handle, events) = started;

    let burst = t.root.join("Music/Burst");
    for i in 0..DISCS {
        std::fs::create_dir_all(burst.join(format!("Disc {i}"))).unwrap();
    }
    let overflowed = eventually(WAIT, || async {
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, WatchEvent::Rescanned { .. }))
            .then_some(())
    })
    .await;
    assert!(overflowed.is_some(), "the burst overflowed the queue");
    // Let the rescan settle, then write into every folder made during the
    // burst: those whose creation was dropped are watched only if the
    // watch was rebuilt.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for i in 0..DISCS {
        let late = burst.join(format!("Disc {i}/late.mp3"));
        std::fs::write(&late, song(&format!("Late Arrival {i}"))).unwrap();
        // Slowly: these must not overflow the queue again (another rescan
        // would find them whatever was watched).
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen = eventually(WAIT, || async {
        let mut n = 0;
        for i in 0..DISCS {
            if title_at(&t, &burst.join(format!("Disc {i}/late.mp3")))
                .await
                .is_some()
            {
                n += 1;
            }
        }
        (n == DISCS).then_some(n)
    })
    .await;
    handle.stop().await.unwrap();
    assert_eq!(seen, Some(DISCS), "every late file is seen");
}

/// Issue 25 #8: a folder moved into a watched root is walked as the full
/// scan walks one: a link in it that leads out of the root is not
/// followed.
#[tokio::test(flavor = "multi_thread")]
async fn a_folder_moved_in_follows_no_link_out_of_the_root() {
    let t = TestLibrary::new(Spec {
        music: 2,
        books: 0,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let base = t.root.parent().unwrap();
    let outside = base.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.mp3"), song("Not In The Library")).unwrap();
    let staging = base.join("staging/New Album");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("inside.mp3"), song("Moved In")).unwrap();
    std::os::unix::fs::symlink(&outside, staging.join("link out")).unwrap();

    let (handle, _) = start(&t, false).await;
    let moved = t.root.join("New Album");
    std::fs::rename(&staging, &moved).unwrap();
    let inside = moved.join("inside.mp3");
    eventually(Duration::from_secs(30), || title_at(&t, &inside))
        .await
        .expect("the moved folder's own song is indexed");
    let linked = moved.join("link out/secret.mp3");
    assert!(
        t.lib
            .catalog()
            .item_by_path(&linked.to_string_lossy())
            .await
            .unwrap()
            .is_none(),
        "nothing outside the root comes in through a link"
    );
    handle.stop().await.unwrap();
}

/// Issue 25 #2: renames that used to delete. A tagger's `song.mp3` →
/// `song.mp3.bak` → `song.mp3` keeps the item and its like, and a move to
/// another root seen as a copy and a delete (another disk) keeps them too,
/// as the content fingerprint says it is the same file.
#[tokio::test(flavor = "multi_thread")]
async fn renames_and_moves_between_roots_keep_the_item_and_its_like() {
    let t = TestLibrary::new(Spec {
        music: 2,
        books: 0,
        videos: 0,
    })
    .await;
    let other = t.root.parent().unwrap().join("Second disk");
    std::fs::create_dir_all(&other).unwrap();
    let song_path = t.root.join("Kept/song.mp3");
    std::fs::create_dir_all(song_path.parent().unwrap()).unwrap();
    std::fs::write(&song_path, song("Kept Through Everything")).unwrap();
    std::fs::write(t.root.join("Kept/other.mp3"), song("A Neighbour")).unwrap();
    t.add_and_scan().await;
    t.lib.add_root(&other, NOW).await.unwrap();
    let id = title_at(&t, &song_path).await.expect("indexed").0;
    t.lib
        .feedback(id, moodshelf_catalog::Verdict::Like, None, NOW)
        .await
        .unwrap();
    let (handle, _) = start(&t, false).await;

    let bak = song_path.with_extension("mp3.bak");
    std::fs::rename(&song_path, &bak).unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    std::fs::rename(&bak, &song_path).unwrap();
    let back = eventually(Duration::from_secs(30), || async {
        let f = t
            .lib
            .catalog()
            .file_by_path(&song_path.to_string_lossy())
            .await
            .ok()??;
        f.missing_since.is_none().then_some(f.item_id)
    })
    .await;
    assert_eq!(back, Some(Some(id)), "the tagger's rename kept the item");

    let moved = other.join("song.mp3");
    std::fs::copy(&song_path, &moved).unwrap();
    std::fs::remove_file(&song_path).unwrap();
    let at = eventually(Duration::from_secs(30), || title_at(&t, &moved)).await;
    assert_eq!(
        at.map(|(i, _)| i),
        Some(id),
        "the same item on the other disk"
    );
    let likes = t
        .lib
        .catalog()
        .feedback(moodshelf_catalog::OWNER)
        .await
        .unwrap();
    assert_eq!(likes[0].item_id, id, "and its like");
    handle.stop().await.unwrap();
}
