//! The person behind the answers: forgetting a part of their taste, the
//! next of a series, a group's answer, and reasons that cite their real
//! history. Every record is written as the software that keeps it writes
//! it (Kodi's `.nfo`, Calibre's `metadata.opf`, KOReader's sidecar).

use moodshelf_catalog::{Feedback, OWNER, Verdict};
use moodshelf_engine::recommend::{Mode, RecommendRequest};
use moodshelf_engine::{Kind, Library};
use moodshelf_libgen::Spec;
use moodshelf_llm::Cancel;
use moodshelf_tests::{NOW, TestLibrary, fixture, moment};

use super::history::{
    commonest_genre, distinct_tracks, films, films_of, item_id, listenbrainz_export, mark_watched,
    of_genre, sixty_films,
};

const VAGUE: &str = "something to watch tonight";

/// A library of films, and its most common genre but comedy and drama.
async fn films_library() -> (TestLibrary, String) {
    let t = sixty_films().await;
    let genre = commonest_genre(&t);
    (t, genre)
}

/// Four films of `genre` watched twice and rated 9, as Kodi records them.
async fn love(t: &TestLibrary, genre: &str) -> Vec<moodshelf_libgen::GenItem> {
    let loved: Vec<_> = films_of(t, genre).into_iter().take(4).collect();
    assert_eq!(loved.len(), 4, "the library has {genre} films to love");
    for g in &loved {
        mark_watched(&g.path.with_extension("nfo"), true);
    }
    t.scan().await;
    loved
}

fn top(v: Vec<i64>) -> Vec<i64> {
    v.into_iter().take(5).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn forgetting_a_part_of_the_taste_changes_the_next_answer() {
    let (t, genre) = films_library().await;
    love(&t, &genre).await;
    let taste = t.lib.taste(None).await.unwrap();
    let films_taste = taste.kinds.iter().find(|k| k.kind == Kind::Video).unwrap();
    let lower = genre.to_lowercase();
    assert!(
        films_taste
            .comes_back_to
            .iter()
            .any(|p| p.facet == "genre" && p.value == lower),
        "the taste says they come back to {genre}: {films_taste:?}"
    );
    assert!(films_taste.words.contains(&lower), "{}", films_taste.words);
    let before = top(films(&t.lib, VAGUE).await);
    let shaped = of_genre(&t, &before, &genre).await;

    assert!(
        t.lib
            .forget_taste("genre", &genre, true, NOW)
            .await
            .unwrap()
    );
    let after = top(films(&t.lib, VAGUE).await);
    assert_ne!(before, after, "the next answer changes");
    let left = of_genre(&t, &after, &genre).await;
    assert!(
        left < shaped,
        "without {genre} in the taste: {shaped} → {left} {genre} films of five"
    );
    let taste = t.lib.taste(None).await.unwrap();
    assert_eq!(taste.forgotten.len(), 1);
    assert!(
        !taste
            .kinds
            .iter()
            .flat_map(|k| &k.comes_back_to)
            .any(|p| p.value == lower),
        "a forgotten part is not shown as taste"
    );
    assert!(
        t.lib.forget_taste("mood", "x", true, NOW).await.is_err(),
        "an unknown facet is a clear error"
    );
    t.lib
        .forget_taste("genre", &genre, false, NOW)
        .await
        .unwrap();
    assert_eq!(
        top(films(&t.lib, VAGUE).await),
        before,
        "restored, the answer is what it was"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reasons_citing_history_are_true() {
    let (t, genre) = films_library().await;
    let loved = love(&t, &genre).await;
    let titles: Vec<String> = {
        let mut v = Vec::new();
        for g in &loved {
            let id = item_id(&t, &g.path).await;
            v.push(
                t.lib
                    .catalog()
                    .items_by_ids(&[id])
                    .await
                    .unwrap()
                    .remove(0)
                    .title,
            );
        }
        v
    };
    let mut req = RecommendRequest::new(VAGUE, moment("2026-12-04T20:00"));
    req.kind = Some(Kind::Video);
    req.remember = false;
    let answer = t
        .lib
        .recommend(&req, &Cancel::default(), &mut |_| {})
        .await
        .unwrap();
    let cited: Vec<&str> = answer
        .items
        .iter()
        .filter_map(|p| p.why.strip_prefix("Close to "))
        .collect();
    assert!(
        !cited.is_empty(),
        "a vague answer their taste shaped cites it"
    );
    for c in cited {
        let title = titles
            .iter()
            .find(|t| c.starts_with(t.as_str()))
            .unwrap_or_else(|| panic!("{c:?} cites a film they loved: {titles:?}"));
        assert!(
            c[title.len()..].starts_with(", which you rated 9/10 and watched twice"),
            "what Kodi recorded (userrating 9, playcount 2): {c}"
        );
    }
    let specific = RecommendRequest {
        text: "a funny comedy film".into(),
        ..req.clone()
    };
    let answer = t
        .lib
        .recommend(&specific, &Cancel::default(), &mut |_| {})
        .await
        .unwrap();
    assert!(
        answer.items.iter().all(|p| !p.why.starts_with("Close to ")),
        "a specific request's reasons are its own"
    );
}

/// A book of a series as Calibre keeps it: the EPUB and its
/// `metadata.opf` with `calibre:series` and `calibre:series_index`.
fn series_book(root: &std::path::Path, n: u32) -> std::path::PathBuf {
    let title = format!("The Lamplighter's Daughter Part {n}");
    let book = moodshelf_libgen::formats::BookMeta {
        title: title.clone(),
        authors: vec!["Mara Quill".into()],
        identifier: format!("urn:uuid:7d1e2c4a-lamp-{n}"),
        ..Default::default()
    };
    let folder = root.join(format!("Books/Mara Quill/{title} ({n})"));
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(format!("{title}.epub"));
    std::fs::write(
        &path,
        moodshelf_libgen::formats::epub(&book, false).unwrap(),
    )
    .unwrap();
    let opf = moodshelf_libgen::formats::opf(&book, None).replace(
        "</metadata>",
        &format!(
            "<meta name=\"calibre:series\" content=\"Lamplighter\"/>\n\
             <meta name=\"calibre:series_index\" content=\"{n}.0\"/>\n</metadata>"
        ),
    );
    std::fs::write(folder.join("metadata.opf"), opf).unwrap();
    path
}

/// KOReader's record of a book read through.
fn finished(book: &std::path::Path) {
    let stem = book.file_stem().unwrap().to_string_lossy().to_string();
    let sdr = book.with_file_name(format!("{stem}.sdr"));
    std::fs::create_dir_all(&sdr).unwrap();
    let reading = moodshelf_libgen::formats::Reading {
        title: stem,
        percent_finished: 1.0,
        status: "complete".into(),
        rating: Some(4),
        modified: "2026-11-20".into(),
    };
    std::fs::write(
        sdr.join("metadata.epub.lua"),
        moodshelf_libgen::formats::koreader_settings(&reading),
    )
    .unwrap();
}

/// An episode named as a scene release names it (a real MKV), with
/// Kodi's `episodedetails` once it was watched.
fn episode(root: &std::path::Path, season: u32, episode: u32, watched: bool) -> std::path::PathBuf {
    let dir = root.join("Shows/Harbour Lights");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("Harbour.Lights.S{season:02}E{episode:02}.720p.mkv"));
    std::fs::copy(fixture("video/sample.mkv"), &path).unwrap();
    if watched {
        let nfo = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\" ?>\n<episodedetails>\n    \
             <title>Episode {episode}</title>\n    <showtitle>Harbour Lights</showtitle>\n    \
             <season>{season}</season>\n    <episode>{episode}</episode>\n    \
             <playcount>1</playcount>\n    <lastplayed>2026-11-2{episode} 21:00:00</lastplayed>\n\
             </episodedetails>\n"
        );
        std::fs::write(path.with_extension("nfo"), nfo).unwrap();
    }
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn the_next_book_and_the_next_episode_are_found() {
    let t = TestLibrary::new(Spec {
        music: 0,
        books: 6,
        videos: 6,
    })
    .await;
    let books: Vec<_> = (1..=3).map(|n| series_book(&t.root, n)).collect();
    finished(&books[0]);
    let episodes = [
        episode(&t.root, 1, 1, true),
        episode(&t.root, 1, 2, true),
        episode(&t.root, 1, 3, false),
        episode(&t.root, 2, 1, false),
    ];
    t.add_and_scan().await;
    let next = t.lib.next_up().await.unwrap();
    let next_ids: Vec<i64> = next.iter().map(|n| n.item_id).collect();
    let (book2, ep3) = (
        item_id(&t, &books[1]).await,
        item_id(&t, &episodes[2]).await,
    );
    assert_eq!(
        next_ids,
        vec![ep3, book2],
        "the newest series first, each its next: {next:?}"
    );

    let ask = |text: &str| {
        let mut req = RecommendRequest::new(text, moment("2026-12-04T20:00"));
        req.mode = Mode::Rules;
        req.remember = false;
        req
    };
    let answer = t
        .lib
        .recommend(&ask("continue my series"), &Cancel::default(), &mut |_| {})
        .await
        .unwrap();
    let ids: Vec<i64> = answer.items.iter().map(|p| p.item.id).collect();
    assert_eq!(ids.len(), 2, "only what comes next: {ids:?}");
    assert!(ids.contains(&book2) && ids.contains(&ep3), "{ids:?}");
    let why = &answer
        .items
        .iter()
        .find(|p| p.item.id == book2)
        .unwrap()
        .why;
    assert_eq!(
        why,
        "Next in Lamplighter: book 2, after book 1, which you finished"
    );

    let mut req = ask("the next episode");
    req.kind = Some(Kind::Video);
    let answer = t
        .lib
        .recommend(&req, &Cancel::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        answer.items.iter().map(|p| p.item.id).collect::<Vec<_>>(),
        vec![ep3]
    );

    // Reading on: KOReader says the second book was read through.
    finished(&books[1]);
    t.scan().await;
    let third = item_id(&t, &books[2]).await;
    let next = t.lib.next_up().await.unwrap();
    assert!(
        next.iter().any(|n| n.item_id == third),
        "then the third: {next:?}"
    );
}

async fn answer_ids(lib: &Library, text: &str) -> Vec<i64> {
    let mut req = RecommendRequest::new(text, moment("2026-12-04T20:00"));
    req.kind = Some(Kind::Video);
    req.limit = 10;
    req.remember = false;
    lib.recommend(&req, &Cancel::default(), &mut |_| {})
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.item.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_request_never_picks_what_one_member_dislikes() {
    let (t, genre) = films_library().await;
    let sam = t.lib.catalog().add_person("Sam", NOW).await.unwrap();
    let mine = answer_ids(&t.lib, VAGUE).await;
    // Sam disliked the three films the owner would be offered first, and
    // cannot stand the library's most common genre but two.
    for id in &mine[..3] {
        t.lib
            .catalog()
            .add_feedback(
                sam.id,
                &Feedback {
                    item_id: *id,
                    verdict: Verdict::Dislike,
                    request: None,
                    request_vector: None,
                    created_at: NOW,
                },
            )
            .await
            .unwrap();
    }
    t.lib
        .catalog()
        .add_preference(
            sam.id,
            moodshelf_catalog::Polarity::Avoid,
            &genre.to_lowercase(),
            "Sam said so",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        answer_ids(&t.lib, VAGUE).await,
        mine,
        "Sam's dislikes are Sam's: the owner's own answer is unchanged"
    );
    let ours = answer_ids(&t.lib, &format!("{VAGUE} for me and Sam")).await;
    assert!(!ours.is_empty());
    for id in &mine[..3] {
        assert!(!ours.contains(id), "a film Sam disliked: {id} in {ours:?}");
    }
    assert_eq!(
        of_genre(&t, &ours, &genre).await,
        0,
        "nothing of the genre Sam cannot stand"
    );

    // As Sam, the same holds without naming anyone.
    t.lib.use_person("sam").await.unwrap();
    let sams = answer_ids(&t.lib, VAGUE).await;
    assert!(sams.iter().all(|id| !mine[..3].contains(id)));
    t.lib.use_person("Me").await.unwrap();
    assert_eq!(t.lib.person().await.unwrap().id, OWNER);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taste_for_music_answers_a_vague_request_for_a_book_and_says_so() {
    let t = TestLibrary::new(Spec {
        music: 30,
        books: 20,
        videos: 0,
    })
    .await;
    t.add_and_scan().await;
    let ask = |text: &str| {
        let mut req = RecommendRequest::new(text, moment("2026-12-04T20:00"));
        req.kind = Some(Kind::Book);
        req.remember = false;
        req
    };
    let cancel = Cancel::default();
    let before = t
        .lib
        .recommend(&ask("something to read tonight"), &cancel, &mut |_| {})
        .await
        .unwrap();
    assert!(
        before
            .items
            .iter()
            .all(|p| !p.why.starts_with("From your taste"))
    );

    let tracks = distinct_tracks(&t);
    let listens: Vec<(String, String, i64)> = tracks[..6]
        .iter()
        .enumerate()
        .map(|(i, g)| {
            (
                g.creator.clone().unwrap(),
                g.title.clone(),
                1_790_000_000 + i as i64 * 600,
            )
        })
        .collect();
    let rows: Vec<(&str, &str, Option<&str>, i64)> = listens
        .iter()
        .map(|(a, t, at)| (a.as_str(), t.as_str(), None, *at))
        .collect();
    let file = t.root.parent().unwrap().join("listens.json");
    std::fs::write(&file, listenbrainz_export(&rows)).unwrap();
    assert_eq!(t.lib.import_history(&file, NOW).await.unwrap().tracks, 6);

    let after = t
        .lib
        .recommend(&ask("something to read tonight"), &cancel, &mut |_| {})
        .await
        .unwrap();
    assert!(!after.items.is_empty());
    for p in &after.items {
        assert!(
            p.why.starts_with("From your taste in music") || p.why.starts_with("Close to "),
            "a book chosen by a taste for music says so: {}",
            p.why
        );
    }
    let specific = t
        .lib
        .recommend(&ask("a ghost story"), &cancel, &mut |_| {})
        .await
        .unwrap();
    assert!(
        specific
            .items
            .iter()
            .all(|p| !p.why.starts_with("From your taste"))
    );
}
