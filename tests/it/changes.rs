//! Rescans after files change: only what changed is read and embedded, a
//! moved file keeps its identity, a deleted one leaves the index.

use moodshelf_libgen::Spec;
use moodshelf_libgen::formats::{self, AudioTags};
use moodshelf_tests::{TestLibrary, search};

const SPEC: Spec = Spec {
    music: 20,
    books: 10,
    videos: 10,
};

async fn item_id(t: &TestLibrary, path: &std::path::Path) -> Option<i64> {
    t.lib
        .catalog()
        .item_by_path(&path.to_string_lossy())
        .await
        .unwrap()
        .map(|i| i.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn edits_moves_and_deletions_are_followed() {
    let t = TestLibrary::new(SPEC).await;
    t.add_and_scan().await;
    let songs: Vec<_> = t.generated.of_kind("music").cloned().collect();

    // Retag a song: the same item, new title, embedded again.
    let edited = &songs[0];
    let id = item_id(&t, &edited.path).await.unwrap();
    let tags = AudioTags {
        title: "A Brand New Title".into(),
        artist: edited.creator.clone().unwrap(),
        album: "Some Album".into(),
        track: 1,
        ..AudioTags::default()
    };
    let bytes = if edited.path.extension().unwrap() == "flac" {
        formats::flac(&tags, 200.0)
    } else {
        formats::mp3(&tags, 200.0)
    };
    std::fs::write(&edited.path, bytes).unwrap();

    // Move a song to another folder: same content, same item.
    let moved = &songs[1];
    let moved_id = item_id(&t, &moved.path).await.unwrap();
    let dest = t.root.join("Moved Here").join("renamed.mp3");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let dest = dest.with_extension(moved.path.extension().unwrap());
    std::fs::rename(&moved.path, &dest).unwrap();

    // Delete a song.
    let deleted = &songs[2];
    let deleted_id = item_id(&t, &deleted.path).await.unwrap();
    std::fs::remove_file(&deleted.path).unwrap();

    // Edit a film's .nfo: the film is read again.
    let film = t.generated.of_kind("video").find(|v| v.sidecar).unwrap();
    let nfo = film.path.with_extension("nfo");
    let text = std::fs::read_to_string(&nfo).unwrap();
    std::fs::write(
        &nfo,
        text.replace(
            "</movie>",
            "    <tag>snowed-in christmas marathon</tag>\n</movie>",
        ),
    )
    .unwrap();

    let report = t.scan().await;
    assert_eq!(report.moved, 1);
    assert_eq!(report.removed, 1);
    assert_eq!(report.added, 0);
    // The edited song, the moved one (read again at its new place), the
    // .nfo and its film.
    assert_eq!(report.changed, 4, "{report:?}");
    assert_eq!(
        report.embedded, 2,
        "the retagged song and the film; the move changed nothing"
    );

    let view = t
        .lib
        .catalog()
        .item_by_path(&edited.path.to_string_lossy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((view.id, view.title.as_str()), (id, "A Brand New Title"));
    assert_eq!(
        item_id(&t, &dest).await,
        Some(moved_id),
        "a moved file keeps its item"
    );
    assert_eq!(item_id(&t, &moved.path).await, None);
    assert_eq!(item_id(&t, &deleted.path).await, None);
    let index_ids = t.lib.index().await.unwrap().ids().await.unwrap();
    assert!(
        !index_ids.contains(&deleted_id),
        "the deleted item left the index"
    );
    assert_eq!(index_ids.len(), 39);

    let answer = search(
        &t.lib,
        "snowed-in christmas marathon",
        Some(moodshelf_engine::Kind::Video),
        1,
    )
    .await
    .unwrap();
    assert_eq!(
        answer.items[0].item.path,
        film.path.to_string_lossy(),
        "the new tag is searchable"
    );
}
