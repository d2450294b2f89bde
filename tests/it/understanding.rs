//! Item understanding with the real default reasoning model (issue 23):
//! books whose files carry only a title and an author, some of them
//! famous and some invented for this test (they exist nowhere). The model
//! must know the famous ones well enough that a request for what they are
//! about finds them, and must say "unknown", and nothing else, of the
//! invented ones. The small test model cannot know works, so these tests
//! need the default model (`moodshelf models fetch`, which CI runs).

use std::path::Path;

use moodshelf_engine::enrich::EnrichOptions;
use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{Kind, Library, RecEvent, RecommendRequest};
use moodshelf_libgen::formats::{BookMeta, epub};
use moodshelf_llm::Cancel;
use moodshelf_tests::{NOW, models_dir, moment, open};

/// Well-known books, as bare files: title and author only.
const FAMOUS: &[(&str, &str)] = &[
    ("The Hunger Games", "Suzanne Collins"),
    ("Moby-Dick", "Herman Melville"),
    ("Dracula", "Bram Stoker"),
    ("Pride and Prejudice", "Jane Austen"),
];

/// Works that exist nowhere: the titles and names were made up for this
/// test (checked against the datasets below).
const INVENTED: &[(&str, &str)] = &[
    ("The Glass Weirs of Ostravel", "Mirelka Dunvoss"),
    ("A Harbour for Quillon Teague", "Batrice Olvenhalm"),
    ("Saltmarrow and the Tinker Hours", "Edvin Caskarrow"),
];

fn write_book(root: &Path, i: usize, title: &str, author: &str) -> std::path::PathBuf {
    let meta = BookMeta {
        title: title.into(),
        authors: vec![author.into()],
        subjects: Vec::new(),
        language: Some("en".into()),
        date: None,
        description: None,
        identifier: format!("urn:uuid:understanding-test-{i}"),
    };
    let dir = root.join(author);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{title}.epub"));
    std::fs::write(&path, epub(&meta, false).unwrap()).unwrap();
    path
}

/// Settings naming the default reasoning model: `MOODSHELF_TEST_REASONING_MODEL`
/// (CI keeps it apart from the test models, so that the other tests and
/// the app's end-to-end test go on without it), else the models dir's.
fn reasoning_settings() -> String {
    let model = std::env::var_os("MOODSHELF_TEST_REASONING_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| models_dir().join(moodshelf_engine::config::DEFAULT_REASONING_MODEL));
    assert!(
        model.is_file(),
        "{} is missing: run `moodshelf models fetch --models-dir DIR` (the default profile) \
         and set MOODSHELF_TEST_REASONING_MODEL to the reasoning model in DIR; item \
         understanding cannot be tested with the small test model, which knows no works",
        model.display()
    );
    format!("[models]\nreasoning = {:?}\n", model.display().to_string())
}

async fn understood_library(dir: &Path) -> (Library, Vec<std::path::PathBuf>) {
    let root = dir.join("library");
    let mut paths = Vec::new();
    for (i, (t, a)) in FAMOUS.iter().chain(INVENTED).enumerate() {
        paths.push(write_book(&root, i, t, a));
    }
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/settings.toml"), reasoning_settings()).unwrap();
    let lib = open(dir).await;
    lib.add_root(&root, NOW).await.unwrap();
    lib.scan(moodshelf_engine::ScanOptions::new(NOW))
        .await
        .unwrap();
    let report = lib.enrich(EnrichOptions::new(NOW)).await.unwrap();
    assert_eq!(
        report.read as usize,
        FAMOUS.len() + INVENTED.len(),
        "{report:?}"
    );
    assert_eq!(report.remaining, 0);
    (lib, paths)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_model_knows_famous_works_and_declines_invented_ones() {
    let titles =
        std::fs::read_to_string(moodshelf_libgen::datasets_dir().join("goodbooks/books.csv"))
            .unwrap()
            + &std::fs::read_to_string(
                moodshelf_libgen::datasets_dir().join("gutenberg/pg_catalog_first_7660.csv"),
            )
            .unwrap();
    for (t, a) in INVENTED {
        assert!(
            !titles.contains(t) && !titles.contains(a),
            "{t} is not invented"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (lib, paths) = understood_library(dir.path()).await;
    let mut known = 0;
    for (path, (title, _)) in paths.iter().zip(FAMOUS.iter().chain(INVENTED)) {
        let d = lib.item_details(path).await.unwrap();
        let u = d.understanding.expect("every work is read");
        let invented = INVENTED.iter().any(|(t, _)| t == title);
        if invented {
            assert_eq!(u.known, "no", "{title}: {u:?}");
            assert!(!u.says_something(), "{title}: {u:?}");
            assert!(
                u.about.is_none() && u.genres.is_empty() && u.themes.is_empty(),
                "an invented work gets no facts: {u:?}"
            );
            let card = d.item.description.unwrap_or_default();
            assert!(!card.contains("Kind of work"), "{card}");
        } else if u.known == "yes" && u.about.is_some() {
            known += 1;
            assert!(
                !u.genres.is_empty() || !u.themes.is_empty(),
                "{title}: {u:?}"
            );
            let card = d.item.description.unwrap_or_default();
            assert!(
                card.contains("Kind of work") || card.contains("About:"),
                "{card}"
            );
        }
    }
    assert!(
        known >= 3,
        "the model knew {known} of {} famous books",
        FAMOUS.len()
    );
}

async fn books_for(lib: &Library, text: &str) -> (Vec<String>, Vec<String>) {
    let mut req = RecommendRequest::new(text, moment("2026-11-27T20:00"));
    req.mode = Mode::Rules;
    req.kind = Some(Kind::Book);
    req.remember = false;
    let mut first_display = Vec::new();
    let answer = lib
        .recommend(&req, &Cancel::default(), &mut |e| {
            if let RecEvent::Picks(picks) = e {
                first_display = picks.iter().map(|p| p.why.clone()).collect();
            }
        })
        .await
        .unwrap();
    let titles = answer.items.iter().map(|p| p.item.title.clone()).collect();
    (titles, first_display)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thin_famous_book_is_found_by_what_it_is_about() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, _) = understood_library(dir.path()).await;
    for (request, wanted) in [
        (
            "a dystopian novel where teenagers must fight to the death",
            "The Hunger Games",
        ),
        ("a novel about a vampire", "Dracula"),
        ("a book about whaling at sea", "Moby-Dick"),
    ] {
        let (titles, reasons) = books_for(&lib, request).await;
        assert_eq!(
            titles.first().map(String::as_str),
            Some(wanted),
            "{request}: {titles:?}"
        );
        // Every pick has a reason with its first display, none formulaic.
        assert_eq!(reasons.len(), titles.len(), "{request}");
        for r in &reasons {
            assert!(!r.trim().is_empty(), "{request}: an empty reason");
            assert!(!r.starts_with("The candidate"), "{r}");
            assert!(
                r.chars()
                    .all(|c| c.is_ascii() || c.is_alphabetic() && (c as u32) < 0x250),
                "{r}"
            );
        }
    }
}

/// A new version of item understanding (another prompt, other thresholds)
/// gives every item a new subject, so that every work is read again: the
/// items of subjects from another version are described again, and those
/// of this version are left alone. (No model needed.)
#[tokio::test(flavor = "multi_thread")]
async fn subjects_of_another_version_are_described_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("library");
    for (i, (t, a)) in FAMOUS.iter().enumerate() {
        write_book(&root, i, t, a);
    }
    let lib = open(dir.path()).await;
    lib.add_root(&root, NOW).await.unwrap();
    lib.scan(moodshelf_engine::ScanOptions::new(NOW))
        .await
        .unwrap();
    let current = moodshelf_engine::work::subject_prefix();
    assert_eq!(
        lib.catalog().forget_stale_subjects(&current).await.unwrap(),
        0
    );
    assert_eq!(lib.status().await.unwrap().pending_index, 0);
    let stale = lib.catalog().forget_stale_subjects("u0:").await.unwrap();
    assert_eq!(stale as usize, FAMOUS.len());
    assert_eq!(
        lib.status().await.unwrap().pending_index as usize,
        FAMOUS.len()
    );
}
