//! The person's history as their other software wrote it beside their
//! files: a media centre's `.nfo` play count, last play and their own
//! rating are read by the scan and followed by the watcher, kept apart
//! from the item's metadata, and a film already watched is not offered as
//! new unless the request asks for it again.

use std::sync::Arc;
use std::time::Duration;

use moodshelf_engine::live::Clock;
use moodshelf_engine::recommend::{Mode, RecommendRequest};
use moodshelf_engine::watch::WatchConfig;
use moodshelf_engine::{Kind, Library, WatchOptions};
use moodshelf_libgen::Spec;
use moodshelf_llm::Cancel;
use moodshelf_tests::{NOW, TestLibrary, eventually, moment};

const SPEC: Spec = Spec {
    music: 4,
    books: 4,
    videos: 10,
};

/// What Kodi writes into a movie's `.nfo` once it has been watched.
pub(crate) const WATCHED: &str = "    <userrating>9</userrating>\n    <playcount>2</playcount>\n    \
<lastplayed>2026-11-02 21:14:00</lastplayed>\n</movie>";

/// A film written with a `.nfo` sidecar that answers `among` (every one
/// when empty): its path, its sidecar's and its id.
async fn film_with_nfo(
    t: &TestLibrary,
    among: &[i64],
) -> (std::path::PathBuf, std::path::PathBuf, i64) {
    for film in t.generated.of_kind("video").filter(|v| v.sidecar) {
        let id = item_id(t, &film.path).await;
        if among.is_empty() || among.contains(&id) {
            return (film.path.clone(), film.path.with_extension("nfo"), id);
        }
    }
    panic!("no film with an .nfo among {among:?}")
}

pub(crate) fn mark_watched(nfo: &std::path::Path, watched: bool) {
    let text = std::fs::read_to_string(nfo).unwrap();
    let plain = match text.find("    <userrating>") {
        Some(at) => format!("{}</movie>\n", &text[..at]),
        None => text.clone(),
    };
    let text = if watched {
        plain.replace("</movie>", WATCHED)
    } else {
        plain
    };
    std::fs::write(nfo, text).unwrap();
}

/// A live watch of the library with short delays, settled.
async fn watch(t: &TestLibrary) -> moodshelf_engine::WatchHandle {
    let clock: Clock = Arc::new(|| NOW);
    let mut o = WatchOptions::new(clock);
    o.config = WatchConfig {
        debounce: Duration::from_millis(300),
        poll_interval: Duration::from_millis(500),
        force_polling: false,
    };
    let handle = t.lib.watch(o, |_| {}).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle
}

/// Items the person has watched, read through or played.
async fn used(t: &TestLibrary) -> Vec<i64> {
    let history = t
        .lib
        .catalog()
        .history(moodshelf_catalog::OWNER)
        .await
        .unwrap();
    history
        .iter()
        .filter(|(_, r)| r.used())
        .map(|(id, _)| *id)
        .collect()
}

pub(crate) async fn item_id(t: &TestLibrary, path: &std::path::Path) -> i64 {
    t.lib
        .catalog()
        .item_by_path(&path.to_string_lossy())
        .await
        .unwrap()
        .expect("an item")
        .id
}

/// The films of the answer to `text`, every film of the library allowed.
pub(crate) async fn films(lib: &Library, text: &str) -> Vec<i64> {
    let mut req = RecommendRequest::new(text, moment("2026-12-04T20:00"));
    req.mode = Mode::Rules;
    req.kind = Some(Kind::Video);
    req.limit = SPEC.videos;
    req.remember = false;
    let answer = lib
        .recommend(&req, &Cancel::default(), &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    answer.items.iter().map(|p| p.item.id).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_media_centres_record_is_history_and_a_watched_film_is_not_new() {
    let t = TestLibrary::new(SPEC).await;
    t.add_and_scan().await;
    assert!(
        t.lib
            .catalog()
            .history(moodshelf_catalog::OWNER)
            .await
            .unwrap()
            .is_empty()
    );
    let before = films(&t.lib, "a film for tonight").await;
    let (film, nfo, id) = film_with_nfo(&t, &before).await;

    mark_watched(&nfo, true);
    t.scan().await;
    let history = t
        .lib
        .catalog()
        .history(moodshelf_catalog::OWNER)
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    let (item, h) = &history[0];
    assert_eq!(*item, id);
    assert_eq!(h.source, "kodi");
    assert_eq!((h.plays, h.rating), (Some(2), Some(9.0)));
    assert_eq!(h.last_played, Some(1_793_654_040));
    let meta = t
        .lib
        .catalog()
        .item_by_path(&film.to_string_lossy())
        .await
        .unwrap()
        .unwrap()
        .meta;
    assert!(
        !meta.contains("playcount") && !meta.contains("history") && !meta.contains("1793654040"),
        "the person's use is not the item's metadata: {meta}"
    );

    let after = films(&t.lib, "a film for tonight").await;
    assert!(!after.contains(&id), "a watched film is not offered as new");
    assert!(!after.is_empty(), "and the others still are");
    let again = films(&t.lib, "a film to rewatch tonight").await;
    assert!(again.contains(&id), "unless asked for again: {again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watcher_follows_a_media_centres_record() {
    let t = TestLibrary::new(SPEC).await;
    t.add_and_scan().await;
    let (_, nfo, id) = film_with_nfo(&t, &[]).await;
    let handle = watch(&t).await;

    let plays = || async {
        let h = t
            .lib
            .catalog()
            .history(moodshelf_catalog::OWNER)
            .await
            .ok()?;
        Some(h.iter().find(|(i, _)| *i == id).and_then(|(_, r)| r.plays))
    };
    mark_watched(&nfo, true);
    let seen = eventually(Duration::from_secs(20), || async {
        plays().await.flatten().filter(|p| *p == 2)
    })
    .await;
    assert_eq!(seen, Some(2), "a play recorded in the .nfo is followed");

    mark_watched(&nfo, false);
    let cleared = eventually(Duration::from_secs(20), || async {
        plays().await.filter(Option::is_none).map(|_| ())
    })
    .await;
    assert!(cleared.is_some(), "and so is its removal");
    handle.stop().await.unwrap();
}

/// A book with Calibre's `metadata.opf` (the person's rating) and
/// KOReader's record of reading it, as both write them.
fn write_read_book(dir: &std::path::Path, status: &str) -> std::path::PathBuf {
    let book = moodshelf_libgen::formats::BookMeta {
        title: "A Quiet Tale".into(),
        authors: vec!["Jane Writer".into()],
        identifier: "urn:uuid:2f0c7b1e-quiet-tale".into(),
        ..Default::default()
    };
    let folder = dir.join("Books/Jane Writer/A Quiet Tale (12)");
    std::fs::create_dir_all(folder.join("A Quiet Tale.sdr")).unwrap();
    let path = folder.join("A Quiet Tale.epub");
    std::fs::write(
        &path,
        moodshelf_libgen::formats::epub(&book, false).unwrap(),
    )
    .unwrap();
    let opf = moodshelf_libgen::formats::opf(&book, None).replace(
        "</metadata>",
        "<meta name=\"calibre:rating\" content=\"8\"/>\n</metadata>",
    );
    std::fs::write(folder.join("metadata.opf"), opf).unwrap();
    set_reading(&path, status);
    path
}

fn set_reading(book: &std::path::Path, status: &str) {
    let lua = book.with_file_name("A Quiet Tale.sdr/metadata.epub.lua");
    let reading = moodshelf_libgen::formats::Reading {
        title: "A Quiet Tale".into(),
        percent_finished: if status == "complete" { 1.0 } else { 0.41 },
        status: status.into(),
        rating: Some(5),
        modified: "2026-11-20".into(),
    };
    std::fs::write(lua, moodshelf_libgen::formats::koreader_settings(&reading)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn calibre_and_koreader_records_are_read_and_followed() {
    let t = TestLibrary::new(SPEC).await;
    let book = write_read_book(&t.root, "reading");
    t.add_and_scan().await;
    let id = item_id(&t, &book).await;
    let of_book = || async {
        let mut h: Vec<_> = t
            .lib
            .catalog()
            .history(moodshelf_catalog::OWNER)
            .await
            .unwrap()
            .into_iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, r)| r)
            .collect();
        h.sort_by(|a, b| a.source.cmp(&b.source));
        h
    };
    let h = of_book().await;
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!((h[0].source.as_str(), h[0].rating), ("calibre", Some(8.0)));
    assert_eq!(h[1].source, "koreader");
    assert_eq!((h[1].finished, h[1].rating), (Some(false), Some(10.0)));
    assert!((h[1].progress.unwrap() - 0.41).abs() < 1e-6);
    assert!(
        !used(&t).await.contains(&id),
        "a book being read is not yet read"
    );

    let handle = watch(&t).await;
    set_reading(&book, "complete");
    let finished = eventually(Duration::from_secs(20), || async {
        let h = of_book().await;
        h.iter()
            .any(|r| r.source == "koreader" && r.finished == Some(true))
            .then_some(h)
    })
    .await;
    assert!(finished.is_some(), "finishing the book is followed");
    handle.stop().await.unwrap();
    assert!(used(&t).await.contains(&id));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_players_rating_and_play_count_in_a_tag_are_history() {
    let t = TestLibrary::new(SPEC).await;
    let dir = t.root.join("Music/Quiet Rooms/First Album");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("01 - Low Light.mp3");
    let tags = |plays: u32| moodshelf_libgen::formats::AudioTags {
        title: "Low Light".into(),
        artist: "Quiet Rooms".into(),
        album: "First Album".into(),
        track: 1,
        popularimeter: Some(moodshelf_libgen::formats::Popularimeter {
            email: "Windows Media Player 9 Series".into(),
            rating: 196,
            plays,
        }),
        ..Default::default()
    };
    std::fs::write(&path, moodshelf_libgen::formats::mp3(&tags(7), 200.0)).unwrap();
    t.add_and_scan().await;
    let id = item_id(&t, &path).await;
    let h = t
        .lib
        .catalog()
        .history(moodshelf_catalog::OWNER)
        .await
        .unwrap();
    let (_, r) = h
        .iter()
        .find(|(i, _)| *i == id)
        .expect("the track's record");
    assert_eq!(r.source, "id3");
    assert_eq!(
        (r.rating, r.plays),
        (Some(8.0), Some(7)),
        "four stars, seven plays"
    );

    // The player counts another play: the watcher follows it.
    let handle = watch(&t).await;
    std::fs::write(&path, moodshelf_libgen::formats::mp3(&tags(8), 200.0)).unwrap();
    let plays = eventually(Duration::from_secs(20), || async {
        let h = t
            .lib
            .catalog()
            .history(moodshelf_catalog::OWNER)
            .await
            .ok()?;
        let (_, r) = h.into_iter().find(|(i, _)| *i == id)?;
        r.plays.filter(|p| *p == 8)
    })
    .await;
    assert_eq!(plays, Some(8), "a new play is followed by the watcher");
    handle.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_players_fmps_record_in_vorbis_comments_is_history() {
    let t = TestLibrary::new(SPEC).await;
    let dir = t.root.join("Music/Quiet Rooms/Second Album");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("01 - Half Light.flac");
    let tags = |rating: f32, plays: u32| moodshelf_libgen::formats::AudioTags {
        title: "Half Light".into(),
        artist: "Quiet Rooms".into(),
        album: "Second Album".into(),
        track: 1,
        fmps: Some((rating, plays)),
        ..Default::default()
    };
    async fn record(t: &TestLibrary, id: i64) -> Option<(Option<f32>, Option<u32>)> {
        let h = t
            .lib
            .catalog()
            .history(moodshelf_catalog::OWNER)
            .await
            .unwrap();
        h.into_iter()
            .find(|(i, r)| *i == id && r.source == "fmps")
            .map(|(_, r)| (r.rating, r.plays))
    }
    std::fs::write(&path, moodshelf_libgen::formats::flac(&tags(0.8, 5), 200.0)).unwrap();
    t.add_and_scan().await;
    let id = item_id(&t, &path).await;
    assert_eq!(
        record(&t, id).await,
        Some((Some(8.0), Some(5))),
        "FMPS_RATING 0.8 and FMPS_PLAYCOUNT 5"
    );

    let handle = watch(&t).await;
    std::fs::write(&path, moodshelf_libgen::formats::flac(&tags(1.0, 6), 200.0)).unwrap();
    let followed = eventually(Duration::from_secs(20), || async {
        record(&t, id).await.filter(|r| *r == (Some(10.0), Some(6)))
    })
    .await;
    assert!(
        followed.is_some(),
        "a new rating and play are followed by the watcher: {:?}",
        record(&t, id).await
    );
    handle.stop().await.unwrap();
}

/// Tracks of the library whose artist and title no other track shares.
pub(crate) fn distinct_tracks(t: &TestLibrary) -> Vec<moodshelf_libgen::GenItem> {
    let key = |g: &moodshelf_libgen::GenItem| {
        let c = g.creator.clone().unwrap_or_default();
        moodshelf_engine::listens::key(&c) + "|" + &moodshelf_engine::listens::key(&g.title)
    };
    let all: Vec<_> = t.generated.of_kind("music").cloned().collect();
    all.iter()
        .filter(|g| all.iter().filter(|o| key(o) == key(g)).count() == 1)
        .cloned()
        .collect()
}

/// A ListenBrainz export as its "Export listens" writes it.
pub(crate) fn listenbrainz_export(listens: &[(&str, &str, Option<&str>, i64)]) -> String {
    let rows: Vec<serde_json::Value> = listens
        .iter()
        .map(|(artist, title, album, at)| {
            serde_json::json!({
                "inserted_at": at + 3,
                "listened_at": at,
                "recording_msid": format!("5a1b0f3c-0000-4000-8000-{at:012}"),
                "track_metadata": {
                    "additional_info": {
                        "duration_ms": 212000,
                        "media_player": "Strawberry",
                        "submission_client": "Strawberry",
                    },
                    "artist_name": artist,
                    "release_name": album,
                    "track_name": title,
                },
                "user_name": "someone",
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn listenbrainz_and_last_fm_exports_are_imported_the_same_twice() {
    let t = TestLibrary::new(Spec {
        music: 30,
        books: 0,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let tracks = distinct_tracks(&t);
    let (a, b) = (&tracks[0], &tracks[1]);
    let artist = |g: &moodshelf_libgen::GenItem| g.creator.clone().unwrap();
    let loud = artist(a).to_uppercase();
    let lb = listenbrainz_export(&[
        (&artist(a), &a.title, None, 1_790_000_000),
        (
            &loud,
            &format!("{} (feat. Somebody)", a.title),
            None,
            1_790_000_600,
        ),
        (&artist(a), &a.title, None, 1_790_001_200),
        (&artist(b), &b.title, None, 1_790_002_000),
        (
            "Nobody Here Either",
            "A Song Nobody Has",
            None,
            1_790_003_000,
        ),
        ("Nobody Here Either", "Another", None, 1_790_004_000),
        (
            &artist(a),
            "A Title Not In The Library",
            None,
            1_790_005_000,
        ),
    ]);
    let file = t.root.parent().unwrap().join("listens.json");
    std::fs::write(&file, lb).unwrap();
    let first = t.lib.import_history(&file, NOW).await.unwrap();
    assert_eq!(
        (first.listens, first.matched, first.tracks),
        (7, 4, 2),
        "{first:?}"
    );
    use moodshelf_engine::listens::Unmatched;
    assert_eq!(
        first.unmatched.get(&Unmatched::ArtistNotInLibrary),
        Some(&2)
    );
    assert_eq!(first.unmatched.get(&Unmatched::TitleNotInLibrary), Some(&1));
    let (ida, idb) = (item_id(&t, &a.path).await, item_id(&t, &b.path).await);
    let history = t
        .lib
        .catalog()
        .history(moodshelf_catalog::OWNER)
        .await
        .unwrap();
    let of = |id: i64, source: &str| {
        history
            .iter()
            .find(|(i, r)| *i == id && r.source == source)
            .map(|(_, r)| (r.plays, r.last_played))
    };
    assert_eq!(
        of(ida, "listenbrainz"),
        Some((Some(3), Some(1_790_001_200)))
    );
    assert_eq!(
        of(idb, "listenbrainz"),
        Some((Some(1), Some(1_790_002_000)))
    );

    // Last.fm scrobbles, as lastfm.ghan.nl exports them.
    let csv = format!(
        "uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n\
         1790010000,\"09 Sep 2026, 21:40\",\"{artist}\",,\"Live Somewhere\",,\"{title}\",\n\
         1790010300,\"09 Sep 2026, 21:45\",\"{artist}\",,,,\"{title}\",\n",
        artist = artist(b).replace('"', "\"\""),
        title = b.title.replace('"', "\"\""),
    );
    let scrobbles = t.root.parent().unwrap().join("scrobbles.csv");
    std::fs::write(&scrobbles, csv).unwrap();
    let fm = t.lib.import_history(&scrobbles, NOW).await.unwrap();
    assert_eq!((fm.listens, fm.matched, fm.tracks), (2, 2, 1), "{fm:?}");

    let before = t
        .lib
        .catalog()
        .history(moodshelf_catalog::OWNER)
        .await
        .unwrap();
    let again = t.lib.import_history(&file, NOW + 60).await.unwrap();
    t.lib.import_history(&scrobbles, NOW + 60).await.unwrap();
    assert_eq!(again.matched, first.matched);
    assert_eq!(
        t.lib
            .catalog()
            .history(moodshelf_catalog::OWNER)
            .await
            .unwrap(),
        before,
        "importing the same exports again changes nothing"
    );
    assert_eq!(before.len(), 3, "{before:?}");
}

/// A scanned library of sixty films and nothing else.
pub(crate) async fn sixty_films() -> TestLibrary {
    let t = TestLibrary::new(Spec {
        music: 0,
        books: 0,
        videos: 60,
    })
    .await;
    t.add_and_scan().await;
    t
}

/// The library's films with an `.nfo` that have `genre`.
pub(crate) fn films_of(t: &TestLibrary, genre: &str) -> Vec<moodshelf_libgen::GenItem> {
    t.generated
        .of_kind("video")
        .filter(|g| g.sidecar && g.genres.iter().any(|x| x.eq_ignore_ascii_case(genre)))
        .cloned()
        .collect()
}

/// The most common genre of the library's films with an `.nfo`, other
/// than comedy and drama (which a specific request asks for).
pub(crate) fn commonest_genre(t: &TestLibrary) -> String {
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    for g in t.generated.of_kind("video").filter(|g| g.sidecar) {
        for x in &g.genres {
            *counts.entry(x.clone()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(g, _)| !["comedy", "drama"].contains(&g.to_lowercase().as_str()))
        .max_by_key(|(g, n)| (*n, std::cmp::Reverse(g.clone())))
        .map(|(g, _)| g)
        .expect("films with genres")
}

/// How many of `ids` are films of `genre`.
pub(crate) async fn of_genre(t: &TestLibrary, ids: &[i64], genre: &str) -> usize {
    let mut n = 0;
    for g in films_of(t, genre) {
        n += usize::from(ids.contains(&item_id(t, &g.path).await));
    }
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn history_shapes_a_vague_request_and_leaves_a_specific_one_its_answer() {
    let t = sixty_films().await;
    let top = |v: Vec<i64>| v.into_iter().take(5).collect::<Vec<_>>();
    let vague = "something to watch tonight";
    let specific = "a funny comedy film";
    // Four films of one genre the person loved, as Kodi records them.
    let genre = commonest_genre(&t);
    let loved = films_of(&t, &genre);
    assert!(loved.len() >= 6, "the library has {genre} films to like");
    let mut watched = Vec::new();
    for g in &loved[..4] {
        watched.push(item_id(&t, &g.path).await);
    }
    // Watched films are not offered again: the answer before the history
    // is counted without them.
    let offerable = |v: Vec<i64>| top(v.into_iter().filter(|id| !watched.contains(id)).collect());
    let before = offerable(films(&t.lib, vague).await);
    let funny_before = of_genre(&t, &top(films(&t.lib, specific).await), "Comedy").await;

    for g in &loved[..4] {
        mark_watched(&g.path.with_extension("nfo"), true);
    }
    t.scan().await;
    let after = top(films(&t.lib, vague).await);
    assert_ne!(before, after, "a vague request changes with the history");
    let (h_before, h_after) = (
        of_genre(&t, &before, &genre).await,
        of_genre(&t, &after, &genre).await,
    );
    assert!(
        h_after > h_before,
        "towards what they loved: {h_before} → {h_after} {genre} films of five"
    );
    let funny_after = of_genre(&t, &top(films(&t.lib, specific).await), "Comedy").await;
    assert!(
        funny_after >= funny_before && funny_after > 0,
        "a specific request still answers what was asked: {funny_before} → {funny_after}"
    );
}

/// A stranger's vague request is answered with what is well regarded: the
/// films of "something to watch tonight" are rated higher, on the mean,
/// than the library's films with a rating in their `.nfo`.
#[tokio::test(flavor = "multi_thread")]
async fn a_strangers_vague_request_offers_well_regarded_films() {
    let t = sixty_films().await;
    let mut rating = std::collections::HashMap::new();
    for g in t.generated.of_kind("video").filter(|g| g.sidecar) {
        if let Some(r) = g.rating {
            rating.insert(item_id(&t, &g.path).await, r);
        }
    }
    assert!(rating.len() >= 10, "the library has rated films");
    let mean = |rs: Vec<f32>| rs.iter().sum::<f32>() / rs.len().max(1) as f32;
    let library = mean(rating.values().copied().collect());
    let picks = films(&t.lib, "something to watch tonight").await;
    let rated: Vec<f32> = picks
        .iter()
        .filter_map(|id| rating.get(id))
        .copied()
        .collect();
    assert!(
        rated.len() * 2 > picks.len() && mean(rated.clone()) > library,
        "{} of {} picks rated, {:.2} on the mean against the library's {library:.2}",
        rated.len(),
        picks.len(),
        mean(rated)
    );
}
