//! Asking: hybrid search answers from the library, with filters, and only
//! ever names items that exist.

use std::collections::HashSet;

use moodshelf_engine::Kind;
use moodshelf_libgen::Spec;
use moodshelf_tests::{TestLibrary, search};

#[tokio::test(flavor = "multi_thread")]
async fn answers_come_from_the_library_and_respect_filters() {
    let t = TestLibrary::new(Spec {
        music: 60,
        books: 40,
        videos: 40,
    })
    .await;
    t.add_and_scan().await;
    let known: HashSet<String> = t
        .generated
        .items
        .iter()
        .map(|i| i.path.to_string_lossy().into_owned())
        .collect();

    // Asking for an item by its title and creator finds it first.
    for kind in ["music", "book", "video"] {
        let item = t
            .generated
            .of_kind(kind)
            .find(|i| i.creator.is_some())
            .unwrap();
        let q = format!("{} {}", item.title, item.creator.as_deref().unwrap());
        let answer = search(&t.lib, &q, None, 5).await.unwrap();
        assert_eq!(
            answer.items[0].item.path,
            item.path.to_string_lossy(),
            "{q:?} should find its own item first"
        );
    }

    // A kind filter holds for every answer, and every answer is a real file.
    for (kind, name) in [
        (Kind::Music, "music"),
        (Kind::Book, "book"),
        (Kind::Video, "video"),
    ] {
        let answer = search(
            &t.lib,
            "something calm for a winter evening",
            Some(kind),
            15,
        )
        .await
        .unwrap();
        assert_eq!(answer.items.len(), 15);
        for p in &answer.items {
            assert_eq!(p.item.kind.as_str(), name);
            assert!(
                known.contains(&p.item.path),
                "{} is not in the library",
                p.item.path
            );
            assert!(p.score > 0.0 && p.score <= 1.0);
        }
        let scores: Vec<f32> = answer.items.iter().map(|i| i.score).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ranked by score");
    }

    // Meaning, not just words: a genre asked for shows up in the answers.
    assert!(
        t.generated
            .of_kind("video")
            .any(|v| v.genres.iter().any(|g| g == "Crime")),
        "the library has crime films to find"
    );
    let answer = search(
        &t.lib,
        "a gritty crime story about gangsters",
        Some(Kind::Video),
        5,
    )
    .await
    .unwrap();
    assert!(
        answer
            .items
            .iter()
            .any(|p| p.item.genres.iter().any(|g| g == "Crime")),
        "a crime film is among the first five: {:?}",
        answer
            .items
            .iter()
            .map(|p| (&p.item.title, &p.item.genres))
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_json_shape_is_stable() {
    let t = TestLibrary::new(Spec {
        music: 10,
        books: 5,
        videos: 5,
    })
    .await;
    t.add_and_scan().await;
    let answer = search(&t.lib, "music for a road trip", None, 3)
        .await
        .unwrap();
    let v = serde_json::to_value(&answer).unwrap();
    let item = &v["items"][0];
    for key in [
        "path",
        "kind",
        "title",
        "creator",
        "year",
        "duration_secs",
        "score",
    ] {
        assert!(
            item.get(key).is_some(),
            "items[].{key} is part of the contract"
        );
    }
    for key in ["embed_ms", "vector_ms", "text_ms", "total_ms"] {
        assert!(v["timings_ms"][key].is_number(), "timings_ms.{key}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_library_says_so() {
    let t = TestLibrary::new(Spec {
        music: 0,
        books: 0,
        videos: 0,
    })
    .await;
    let err = search(&t.lib, "anything", None, 5).await.unwrap_err();
    assert_eq!(err.code, moodshelf_engine::Code::IndexEmpty);
    let err = search(&t.lib, "   ", None, 5).await.unwrap_err();
    assert_eq!(err.code, moodshelf_engine::Code::InvalidInput);
}
