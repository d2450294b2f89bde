//! Music by its sound, end to end: real WAV files with neutral names and
//! no tags, scanned and embedded by the real model, analysed from their
//! decoded audio, then asked for "calm" and "energetic" music.

use std::collections::HashMap;
use std::path::PathBuf;

use moodshelf_engine::analysis::AnalyzeOptions;
use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{Kind, Library, RecommendRequest, ScanOptions};
use moodshelf_llm::Cancel;
use moodshelf_tests::sound::{Synth, write_neutral_tracks};
use moodshelf_tests::{NOW, moment, open};

/// Twelve still and twelve driving tracks named "Track 01" to "Track 24".
fn write_library(root: &std::path::Path) -> HashMap<PathBuf, Synth> {
    write_neutral_tracks(root, 12, 20.0)
        .expect("write tracks")
        .into_iter()
        .collect()
}

async fn picks(lib: &Library, text: &str, mode: Mode) -> Vec<(String, String)> {
    let mut req = RecommendRequest::new(text, moment("2026-06-10T15:00"));
    req.mode = mode;
    req.kind = Some(Kind::Music);
    req.limit = 8;
    req.remember = false;
    lib.recommend(&req, &Cancel::default(), &mut |_| {})
        .await
        .expect("recommend")
        .items
        .into_iter()
        .map(|p| (p.item.path, p.why))
        .collect()
}

/// How many of `picks` are driving tracks.
fn driving(tracks: &HashMap<PathBuf, Synth>, picks: &[(String, String)]) -> usize {
    picks
        .iter()
        .filter(|(p, _)| tracks[&PathBuf::from(p)].driving)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calm_and_energetic_requests_split_a_neutral_library_by_its_sound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("library");
    let tracks = write_library(&root);
    let lib = open(dir.path()).await;
    lib.add_root(&root, NOW).await.expect("add root");
    let scan = lib.scan(ScanOptions::new(NOW)).await.expect("scan");
    assert_eq!(scan.added, 24, "{scan:?}");

    // Before the analysis the names say nothing: both requests rank the
    // same neutral cards, so they cannot be told apart by their picks.
    let calm_before = picks(&lib, "calm quiet music", Mode::Rules).await;
    let loud_before = picks(&lib, "loud energetic music", Mode::Rules).await;
    println!(
        "before analysis: driving tracks among 8 picks: calm {} / loud {}",
        driving(&tracks, &calm_before),
        driving(&tracks, &loud_before)
    );

    let mut opts = AnalyzeOptions::new(NOW);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    opts.progress = Some(std::sync::Arc::new(
        move |p: &moodshelf_engine::Progress| {
            log.lock().unwrap().push((p.done, p.total));
        },
    ));
    let report = lib.analyze(opts).await.expect("analyze");
    assert_eq!((report.analyzed, report.failed), (24, 0), "{report:?}");
    assert_eq!(report.remaining, 0);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.first(),
        Some(&(0, Some(24))),
        "progress starts at 0 of 24"
    );
    assert_eq!(seen.last(), Some(&(24, Some(24))), "{seen:?}");

    for mode in [Mode::Rules, Mode::Search] {
        let calm = picks(&lib, "calm quiet music", mode).await;
        let loud = picks(&lib, "loud energetic music", mode).await;
        println!(
            "{mode:?} after analysis: driving tracks among 8 picks: calm {} / loud {}",
            driving(&tracks, &calm),
            driving(&tracks, &loud)
        );
        if mode == Mode::Search {
            // Plain search has no understanding: it does not hear either.
            continue;
        }
        assert_eq!(driving(&tracks, &calm), 0, "calm picks: {calm:?}");
        assert_eq!(driving(&tracks, &loud), 8, "loud picks: {loud:?}");
        // The reasons say what was heard, and only that.
        assert!(
            calm.iter()
                .all(|(_, why)| why.to_lowercase().contains("quiet")),
            "{calm:?}"
        );
        // (A loud track may read as loud, fast or only by its tempo: the
        // synthesized drums vary in level.)
        assert!(
            loud.iter().all(|(_, why)| {
                let why = why.to_lowercase();
                ["loud", "fast", "bpm"].iter().any(|w| why.contains(w)) && !why.contains("quiet")
            }),
            "{loud:?}"
        );
    }

    // "More like this" stays in the family, for every track.
    for (track, synth) in &tracks {
        let alike = lib.sounds_like(track, 8).await.expect("sounds like");
        assert_eq!(alike.len(), 8);
        for a in &alike {
            assert_eq!(
                tracks[&PathBuf::from(&a.item.path)].driving,
                synth.driving,
                "{} ({:?}) is near {} ({synth:?})",
                a.item.path,
                a.heard,
                track.display()
            );
        }
    }

    // A second run has nothing to do; a changed file is heard again.
    let again = lib
        .analyze(AnalyzeOptions::new(NOW))
        .await
        .expect("analyze");
    assert_eq!(again.analyzed, 0);
    let (first, synth) = tracks.iter().next().expect("a track");
    let flipped = Synth {
        driving: !synth.driving,
        bpm: if synth.driving { 70.0 } else { 160.0 },
        ..*synth
    };
    flipped.write_wav(first).expect("rewrite");
    // Another size for the same length would be luck; make sure the
    // scan sees a change by its time too.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(first)
        .and_then(|f| f.set_modified(later))
        .expect("touch");
    lib.scan(ScanOptions::new(NOW + 60)).await.expect("rescan");
    let again = lib
        .analyze(AnalyzeOptions::new(NOW + 60))
        .await
        .expect("analyze");
    assert_eq!(again.analyzed, 1, "{again:?}");
    lib.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_analysis_keeps_what_it_finished_and_the_next_run_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("library");
    write_library(&root);
    let lib = open(dir.path()).await;
    lib.add_root(&root, NOW).await.expect("add root");
    let mut scan = ScanOptions::new(NOW);
    scan.embed = false;
    lib.scan(scan).await.expect("scan");
    // Stop after the first stored batch of results.
    let mut opts = AnalyzeOptions::new(NOW);
    opts.max_items = Some(5);
    let first = lib.analyze(opts).await.expect("analyze");
    assert_eq!(first.analyzed, 5);
    assert!(first.stopped);
    assert_eq!(first.remaining, 19);
    let status = lib.status().await.expect("status");
    assert_eq!((status.analyzed_tracks, status.tracks), (5, 24));
    let cancel = AnalyzeOptions::new(NOW);
    cancel
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let none = lib.analyze(cancel).await.expect("analyze");
    assert_eq!((none.analyzed, none.stopped), (0, true));
    let rest = lib
        .analyze(AnalyzeOptions::new(NOW))
        .await
        .expect("analyze");
    assert_eq!((rest.analyzed, rest.remaining), (19, 0));
    lib.close().await;
}

/// The library of [`write_library`], scanned, embedded and analysed.
async fn analysed_library() -> (tempfile::TempDir, Library, HashMap<PathBuf, Synth>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("library");
    let tracks = write_library(&root);
    let lib = open(dir.path()).await;
    lib.add_root(&root, NOW).await.expect("add root");
    lib.scan(ScanOptions::new(NOW)).await.expect("scan");
    let report = lib
        .analyze(AnalyzeOptions::new(NOW))
        .await
        .expect("analyze");
    assert_eq!(report.analyzed, 24);
    (dir, lib, tracks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_fill_durations_follow_energy_curves_and_export() {
    use moodshelf_engine::playlist::{Format, PlaylistRequest, PlaylistSource, Shape};
    let (dir, lib, tracks) = analysed_library().await;
    let cancel = Cancel::default();

    // From a still track to a driving one in six steps: the energy rises
    // along the way, nothing repeats, and the ends are the ones asked.
    let from = tracks.iter().find(|(_, s)| !s.driving).expect("still").0;
    let to = tracks.iter().find(|(_, s)| s.driving).expect("driving").0;
    let journey = lib
        .playlist(
            &PlaylistRequest {
                source: PlaylistSource::Journey {
                    from: from.clone(),
                    to: to.clone(),
                    steps: 6,
                },
                minutes: None,
                shape: Shape::Steady,
            },
            &cancel,
        )
        .await
        .expect("journey");
    let paths: Vec<&str> = journey
        .tracks
        .iter()
        .map(|t| t.item.path.as_str())
        .collect();
    assert_eq!(paths.len(), 8, "{paths:?}");
    assert_eq!(paths[0], from.to_str().unwrap());
    assert_eq!(paths[7], to.to_str().unwrap());
    let unique: std::collections::HashSet<&&str> = paths.iter().collect();
    assert_eq!(unique.len(), 8, "no repeats: {paths:?}");
    let energy: Vec<f32> = journey.tracks.iter().map(|t| t.energy.unwrap()).collect();
    let first: f32 = energy[..4].iter().sum();
    let second: f32 = energy[4..].iter().sum();
    assert!(second > first + 1.0, "the energy rises: {energy:?}");

    // Three minutes of calm music (the tracks are 20 s), rising.
    let rising = lib
        .playlist(
            &PlaylistRequest {
                source: PlaylistSource::Request {
                    text: "calm quiet music".into(),
                    moment: moment("2026-06-10T15:00"),
                },
                minutes: Some(3.0),
                shape: Shape::Rising,
            },
            &cancel,
        )
        .await
        .expect("playlist");
    assert!(
        (rising.total_secs - 180.0).abs() <= 60.0,
        "{} s",
        rising.total_secs
    );
    let curve: Vec<f32> = rising.tracks.iter().map(|t| t.energy.unwrap()).collect();
    assert!(curve.windows(2).all(|w| w[0] <= w[1]), "{curve:?}");

    // Exports: M3U8 inside the library uses paths relative to the list,
    // and every entry names a file that is there; XSPF uses file URIs.
    let root = dir.path().join("library");
    let list_dir = root.join("playlists");
    std::fs::create_dir_all(&list_dir).unwrap();
    let m3u_path = list_dir.join("rising.m3u8");
    lib.save_playlist(&rising, "Rising", &m3u_path, Format::M3u8)
        .await
        .expect("save m3u8");
    let m3u = std::fs::read_to_string(&m3u_path).unwrap();
    let entries: Vec<&str> = m3u.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(entries.len(), rising.tracks.len());
    for e in &entries {
        assert!(e.starts_with("../Track "), "{e}");
        assert!(list_dir.join(e).is_file(), "{e}");
    }
    assert_eq!(m3u.matches("#EXTINF:20,").count(), entries.len(), "{m3u}");
    let xspf_path = dir.path().join("out.xspf");
    lib.save_playlist(&rising, "Rising", &xspf_path, Format::Xspf)
        .await
        .expect("save xspf");
    let xspf = std::fs::read_to_string(&xspf_path).unwrap();
    assert_eq!(xspf.matches("<location>file:///").count(), entries.len());

    // The list the window shows, edited: these tracks in this order, with
    // an id the library no longer has left out and said so.
    let mut ids: Vec<i64> = rising.tracks.iter().rev().map(|t| t.item.id).collect();
    ids.insert(1, i64::MAX);
    let edited = lib
        .playlist(
            &PlaylistRequest {
                source: PlaylistSource::Tracks(ids.clone()),
                minutes: None,
                shape: Shape::Steady,
            },
            &cancel,
        )
        .await
        .expect("tracks");
    ids.remove(1);
    let got: Vec<i64> = edited.tracks.iter().map(|t| t.item.id).collect();
    assert_eq!(got, ids);
    assert!(
        edited
            .notes
            .iter()
            .any(|n| n.contains("no longer in the library")),
        "{:?}",
        edited.notes
    );

    // A save that cannot happen says where.
    let missing = root.join("no such folder").join("x.m3u8");
    let err = lib
        .save_playlist(&edited, "Edited", &missing, Format::M3u8)
        .await
        .expect_err("no folder");
    assert!(err.message.contains("no such folder"), "{}", err.message);
    // Nothing half-written is left behind.
    assert!(!root.join("no such folder").exists());
    lib.close().await;
}

/// One turn of a conversation: the picks' ids, paths and reasons.
async fn turn(
    lib: &Library,
    text: &str,
    conversation: Option<i64>,
) -> (Vec<(i64, PathBuf, String)>, Option<i64>) {
    let mut req = RecommendRequest::new(text, moment("2026-06-10T15:00"));
    req.mode = Mode::Rules;
    req.kind = Some(Kind::Music);
    req.limit = 6;
    req.conversation = conversation;
    let r = lib
        .recommend(&req, &Cancel::default(), &mut |_| {})
        .await
        .expect("recommend");
    let picks = r
        .items
        .into_iter()
        .map(|p| (p.item.id, PathBuf::from(p.item.path), p.why))
        .collect();
    (picks, r.conversation_id)
}

/// The mean analysed energy of `ids`, through the playlist of exactly
/// those tracks.
async fn mean_energy(lib: &Library, ids: &[i64]) -> f32 {
    use moodshelf_engine::playlist::{PlaylistRequest, PlaylistSource, Shape};
    let list = lib
        .playlist(
            &PlaylistRequest {
                source: PlaylistSource::Tracks(ids.to_vec()),
                minutes: None,
                shape: Shape::Steady,
            },
            &Cancel::default(),
        )
        .await
        .expect("tracks");
    let e: Vec<f32> = list.tracks.iter().filter_map(|t| t.energy).collect();
    assert_eq!(e.len(), ids.len());
    e.iter().sum::<f32>() / e.len() as f32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_like_a_track_and_calmer_livelier_or_slower_follow_ups_move_in_sound_space() {
    let (_dir, lib, tracks) = analysed_library().await;
    let title = |p: &PathBuf| p.file_stem().unwrap().to_string_lossy().into_owned();
    let mut named: Vec<&PathBuf> = tracks.keys().collect();
    named.sort();

    // "More like this": the names say nothing, so only the sound can tell
    // which family the named track belongs to.
    for driving_ref in [false, true] {
        let reference = named
            .iter()
            .find(|p| tracks[**p].driving == driving_ref)
            .expect("a reference");
        let text = format!("music like {}", title(reference));
        let (picks, _) = turn(&lib, &text, None).await;
        let plain = {
            let mut req = RecommendRequest::new(&text, moment("2026-06-10T15:00"));
            req.mode = Mode::Search;
            req.kind = Some(Kind::Music);
            req.limit = 6;
            req.remember = false;
            lib.recommend(&req, &Cancel::default(), &mut |_| {})
                .await
                .expect("plain")
                .items
        };
        let same = picks
            .iter()
            .filter(|(_, p, _)| tracks[p].driving == driving_ref)
            .count();
        let plain_same = plain
            .iter()
            .filter(|p| tracks[&PathBuf::from(&p.item.path)].driving == driving_ref)
            .count();
        println!(
            "{text:?} ({}): {same} of {} picks from its family; plain search {plain_same} of {}",
            if driving_ref { "driving" } else { "still" },
            picks.len(),
            plain.len()
        );
        assert_eq!(same, picks.len(), "{picks:?}");
        assert!(picks.iter().all(|(_, p, _)| p != *reference), "not itself");
        assert!(
            picks.iter().any(|(_, _, why)| why.starts_with("Sounds ")),
            "a reason names what was heard: {picks:?}"
        );
    }

    // Follow-ups move from the previous picks.
    let ids = |p: &[(i64, PathBuf, String)]| p.iter().map(|x| x.0).collect::<Vec<_>>();
    let (calm, conv) = turn(&lib, "calm quiet music", None).await;
    let (livelier, _) = turn(&lib, "livelier", conv).await;
    let (e0, e1) = (
        mean_energy(&lib, &ids(&calm)).await,
        mean_energy(&lib, &ids(&livelier)).await,
    );
    println!("calm quiet music: energy {e0:.2}; then \"livelier\": {e1:.2}");
    assert!(e1 > e0 + 0.05, "{e0} -> {e1}");

    let (loud, conv) = turn(&lib, "loud energetic music", None).await;
    let bpm = |p: &[(i64, PathBuf, String)]| {
        p.iter().map(|x| tracks[&x.1].bpm).sum::<f32>() / p.len() as f32
    };
    let (slower, _) = turn(&lib, "slower", conv).await;
    println!(
        "loud energetic music: {:.0} BPM on average; then \"slower\": {:.0}",
        bpm(&loud),
        bpm(&slower)
    );
    assert!(bpm(&slower) < bpm(&loud) - 5.0, "{loud:?} -> {slower:?}");
    let (calmer, _) = turn(&lib, "calmer", conv).await;
    let (e2, e3) = (
        mean_energy(&lib, &ids(&loud)).await,
        mean_energy(&lib, &ids(&calmer)).await,
    );
    println!("loud energetic music: energy {e2:.2}; then \"calmer\": {e3:.2}");
    assert!(e3 < e2 - 0.05, "{e2} -> {e3}");
    lib.close().await;
}

/// Issue 25 #7: a track whose name is not UTF-8 (a Latin-1 name from an
/// old disk) is analysed like any other, in process too.
#[tokio::test(flavor = "multi_thread")]
async fn a_track_whose_name_is_not_utf8_is_heard() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("music");
    std::fs::create_dir_all(&root).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"Caf\xe9 del Mar.wav");
    let synth = Synth {
        driving: true,
        bpm: 128.0,
        root: 57,
        minor: false,
        seconds: 20.0,
    };
    synth.write_wav(&root.join(name)).expect("write");
    let lib = open(dir.path()).await;
    lib.add_root(&root, NOW).await.unwrap();
    lib.scan(ScanOptions::new(NOW)).await.unwrap();
    let report = lib
        .analyze(AnalyzeOptions::new(NOW))
        .await
        .expect("analyze");
    assert_eq!((report.analyzed, report.failed), (1, 0), "{report:?}");
    lib.close().await;
}

/// Tags a WAV file with an artist the way taggers write it: a RIFF
/// `LIST`/`INFO` chunk with `IART` after the audio.
fn tag_wav_artist(path: &std::path::Path, artist: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut value = artist.as_bytes().to_vec();
    value.push(0);
    if value.len() % 2 == 1 {
        value.push(0);
    }
    let mut list = b"INFOIART".to_vec();
    list.extend_from_slice(&(value.len() as u32).to_le_bytes());
    list.extend_from_slice(&value);
    bytes.extend_from_slice(b"LIST");
    bytes.extend_from_slice(&(list.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&list);
    let riff = (bytes.len() - 8) as u32;
    bytes[4..8].copy_from_slice(&riff.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// Issue 25 #9: a journey through a library of one artist still takes every
/// step it was asked: the rule against long runs of one artist relaxes
/// when the library cannot keep it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_through_one_artists_tracks_takes_every_step() {
    use moodshelf_engine::playlist::{PlaylistRequest, PlaylistSource, Shape};
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("library");
    let tracks = write_library(&root);
    for path in tracks.keys() {
        tag_wav_artist(path, "The Only Band");
    }
    let lib = open(dir.path()).await;
    lib.add_root(&root, NOW).await.expect("add root");
    lib.scan(ScanOptions::new(NOW)).await.expect("scan");
    let report = lib
        .analyze(AnalyzeOptions::new(NOW))
        .await
        .expect("analyze");
    assert_eq!(report.analyzed, 24);
    let from = tracks.iter().find(|(_, s)| !s.driving).expect("still").0;
    let to = tracks.iter().find(|(_, s)| s.driving).expect("driving").0;
    let journey = lib
        .playlist(
            &PlaylistRequest {
                source: PlaylistSource::Journey {
                    from: from.clone(),
                    to: to.clone(),
                    steps: 6,
                },
                minutes: None,
                shape: Shape::Steady,
            },
            &Cancel::default(),
        )
        .await
        .expect("journey");
    assert!(
        journey
            .tracks
            .iter()
            .all(|t| t.item.creator.as_deref() == Some("The Only Band")),
        "the tag is read: {:?}",
        journey
            .tracks
            .iter()
            .map(|t| &t.item.creator)
            .collect::<Vec<_>>()
    );
    let paths: std::collections::HashSet<&str> = journey
        .tracks
        .iter()
        .map(|t| t.item.path.as_str())
        .collect();
    assert_eq!(journey.tracks.len(), 8, "six steps between the ends");
    assert_eq!(paths.len(), 8, "no repeats");
    lib.close().await;
}
