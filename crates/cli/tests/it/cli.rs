use std::path::Path;

use crate::{generate, json, ok, run};

#[test]
fn ask_json_is_one_object_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let (root, data) = (dir.path().join("lib"), dir.path().join("data"));
    generate(&root, 20, 10, 10);

    // Before anything is indexed, the error is machine-readable too.
    let out = run(&data, &["ask", "anything", "--json"]);
    assert!(!out.status.success());
    assert_eq!(json(&out)["error"]["code"], "indexEmpty");

    ok(run(
        &data,
        &["library", "add", root.to_str().unwrap(), "--json"],
    ));
    let out = ok(run(
        &data,
        &["scan", "--json", "--now", "2026-12-24T20:00:00Z"],
    ));
    let report = json(&out);
    assert_eq!(report["embedded"], 40);

    let out = ok(run(
        &data,
        &[
            "ask", "quiet", "piano", "for", "a", "snowy", "night", "--kind", "music", "--limit",
            "4", "--no-llm", "--json",
        ],
    ));
    // Third-party notes for developers (lance deprecations, llama.cpp
    // remarks) stay out of a person's terminal unless MOODSHELF_LOG asks.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("WARN"), "{stderr}");
    let first = four_calm_tracks_with_reasons(&json(&out));
    a_follow_up_and_a_dislike_by_path(&data, &first);

    let out = run(&data, &["status", "--json"]);
    let status = json(&out);
    assert_eq!(status["music"], 20);
    assert_eq!(status["last_scan"]["status"], "done");
    assert!(status["last_scan"]["phase"].is_string(), "{status}");
    assert_eq!(
        status["last_scan"]["started_at"], 1_798_142_400,
        "--now is the time the scan is recorded at"
    );

    let out = run(&data, &["ask", "x", "--now", "next tuesday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--now"));
}

/// Checks an answer to "quiet piano for a snowy night" limited to four
/// tracks; returns the first pick's path.
fn four_calm_tracks_with_reasons(answer: &serde_json::Value) -> String {
    let items = answer["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for item in items {
        assert_eq!(item["kind"], "music");
        for key in ["path", "title", "creator", "year", "duration_secs", "score"] {
            assert!(item.get(key).is_some(), "items[].{key}");
        }
        assert!(Path::new(item["path"].as_str().unwrap()).is_file());
    }
    assert!(answer["timings_ms"]["total_ms"].as_f64().unwrap() > 0.0);
    // Added by the recommender: a reason per pick, and the reading.
    assert!(
        items
            .iter()
            .all(|i| i["why"].as_str().is_some_and(|w| !w.is_empty()))
    );
    assert_eq!(answer["intent"]["kinds"], serde_json::json!(["music"]));
    assert!(
        answer["intent"]["moods"]
            .as_array()
            .unwrap()
            .contains(&"calm".into())
    );
    items[0]["path"].as_str().unwrap().to_string()
}

/// A follow-up refines the stored conversation, and a pick disliked by
/// its path does not come back for the same request.
fn a_follow_up_and_a_dislike_by_path(data: &Path, first: &str) {
    let out = run(
        data,
        &["ask", "--continue", "only books", "--no-llm", "--json"],
    );
    let follow = json(&out);
    assert_eq!(follow["follow_up"], true, "{follow}");
    let books = follow["items"].as_array().unwrap();
    assert!(
        !books.is_empty() && books.iter().all(|i| i["kind"] == "book"),
        "{follow}"
    );

    // Feedback by path: a disliked pick does not come back for that request.
    let out = ok(run(data, &["feedback", first, "--dislike", "--json"]));
    assert_eq!(json(&out)["verdict"], "dislike");
    let out = run(
        data,
        &[
            "ask",
            "quiet piano for a snowy night",
            "--kind",
            "music",
            "--limit",
            "4",
            "--no-llm",
            "--json",
        ],
    );
    let again = json(&out);
    assert!(
        again["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["path"] != first),
        "{again}"
    );
}

/// `moodshelf chat` reads requests and commands from stdin: a follow-up
/// refines the answer, `/like N` records feedback, and the conversation is
/// stored for `conversations`.
#[test]
fn chat_refines_and_takes_feedback() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (root, data) = (dir.path().join("lib"), dir.path().join("data"));
    generate(&root, 20, 20, 10);
    assert!(
        run(&data, &["library", "add", root.to_str().unwrap()])
            .status
            .success()
    );
    assert!(run(&data, &["scan"]).status.success());

    let mut child = crate::bin()
        .arg("--data-dir")
        .arg(&data)
        .args([
            "chat",
            "--no-llm",
            "--limit",
            "3",
            "--now",
            "2026-12-24T20:00",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"some calm music\nonly books\n/like 1\n/quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let kinds: Vec<&str> = stdout
        .lines()
        .filter_map(|l| {
            l.rsplit_once('[')
                .map(|(_, k)| k.split([',', ']']).next().unwrap_or(""))
        })
        .collect();
    assert_eq!(kinds.len(), 6, "two answers of three picks: {stdout}");
    assert!(kinds[..3].iter().all(|k| *k == "music"), "{kinds:?}");
    assert!(kinds[3..].iter().all(|k| *k == "book"), "{kinds:?}");
    assert!(stderr.contains("noted: like"), "{stderr}");

    let list = json(&run(&data, &["conversations", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["title"], "some calm music");
}

/// `moodshelf analyze` hears real recorded music and survives a file whose
/// decoder aborts its process (an MP4 atom that asks for 34 GB): the
/// analysis runs in low-priority reader processes, so that file fails
/// alone, with its reason, and the rest is analysed.
#[test]
fn analyze_hears_recorded_music_and_a_decoder_abort_costs_one_track() {
    let dir = tempfile::tempdir().unwrap();
    let (root, data) = (dir.path().join("lib"), dir.path().join("data"));
    recorded_music_and_a_hostile_mp4(&root);
    ok(run(&data, &["library", "add", root.to_str().unwrap()]));
    ok(run(&data, &["scan", "--no-embed"]));
    let out = ok(run(&data, &["analyze", "--json"]));
    let report = json(&out);
    let tracks = report["tracks"].as_u64().unwrap();
    assert_eq!(report["analyzed"].as_u64(), Some(tracks), "{report}");
    assert_eq!(report["remaining"], 0, "{report}");
    let errors = report["error_samples"].as_array().unwrap();
    if tracks == 4 {
        // The hostile file became an item: its analysis failed alone.
        assert_eq!(report["failed"], 1, "{report}");
        assert!(errors[0]["path"].as_str().unwrap().ends_with("hostile.m4a"));
    } else {
        assert_eq!(tracks, 3, "{report}");
        assert_eq!(report["failed"], 0, "{report}");
    }
    // A second run has nothing left to do.
    let again = json(&run(&data, &["analyze", "--json"]));
    assert_eq!(again["analyzed"], 0, "{again}");

    // What was heard is there for "more like this".
    let track = root.join("machine_wars.mp3");
    let out = ok(run(&data, &["similar", track.to_str().unwrap(), "--json"]));
    let similar = json(&out);
    let alike = similar["similar"].as_array().unwrap();
    assert_eq!(alike.len(), 2, "{similar}");
    assert!(alike.iter().all(|a| a["distance"].as_f64().unwrap() > 0.0));
    let out = run(&data, &["status", "--json"]);
    let status = json(&out);
    assert_eq!(status["analyzed_tracks"], status["tracks"], "{status}");

    a_journey_is_saved_in_both_formats(&data, &root, dir.path());
}

/// Three recorded tracks (Debian's asc-music) and an MP4 whose atom asks
/// for 34 GB, in `root`.
fn recorded_music_and_a_hostile_mp4(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    let music = Path::new("/usr/share/games/asc/music");
    for name in ["frontiers.mp3", "machine_wars.mp3", "time_to_strike.mp3"] {
        std::fs::copy(music.join(name), root.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}; install asc-music (.ci/run does)"));
    }
    let shared = std::env::var_os("MOODSHELF_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let fixtures = shared.join("fixtures/media/audio/lofty");
    let hostile = std::fs::read_dir(&fixtures)
        .unwrap_or_else(|e| panic!("{}: {e}", fixtures.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with("ui_steam_smoother_friend_join_IDX_53_")
            })
        })
        .expect("the hostile MP4 fixture");
    std::fs::copy(&hostile, root.join("hostile.m4a")).unwrap();
}

/// A journey between two tracks, saved in both formats: the M3U8 in the
/// library folder names its tracks relative to itself.
fn a_journey_is_saved_in_both_formats(data: &Path, root: &Path, elsewhere: &Path) {
    let (m3u, xspf) = (root.join("journey.m3u8"), elsewhere.join("journey.xspf"));
    ok(run(
        data,
        &[
            "playlist",
            "--from",
            root.join("frontiers.mp3").to_str().unwrap(),
            "--to",
            root.join("time_to_strike.mp3").to_str().unwrap(),
            "--steps",
            "1",
            "--m3u",
            m3u.to_str().unwrap(),
            "--xspf",
            xspf.to_str().unwrap(),
        ],
    ));
    let m3u = std::fs::read_to_string(&m3u).unwrap();
    let entries: Vec<&str> = m3u.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        entries,
        ["frontiers.mp3", "machine_wars.mp3", "time_to_strike.mp3"],
        "{m3u}"
    );
    let xspf = std::fs::read_to_string(&xspf).unwrap();
    assert_eq!(xspf.matches("<location>file:///").count(), 3, "{xspf}");
}

#[test]
fn people_taste_and_played_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (root, data) = (dir.path().join("lib"), dir.path().join("data"));
    generate(&root, 0, 0, 12);
    let stdout_of = |args: &[&str]| {
        let out = run(&data, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    stdout_of(&["library", "add", root.to_str().unwrap()]);
    stdout_of(&["scan"]);
    let empty = stdout_of(&["taste"]);
    assert!(empty.contains("Nothing yet"), "{empty}");

    // Two films played from the command line make a taste.
    let films: Vec<std::path::PathBuf> = walk(&root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mkv" || e == "mp4"))
        .take(2)
        .collect();
    assert_eq!(films.len(), 2);
    for f in &films {
        assert!(stdout_of(&["played", f.to_str().unwrap()]).starts_with("Played: "));
    }
    let taste = json(&run(&data, &["taste", "--json"]));
    assert_eq!(taste["kinds"][0]["kind"], "video");
    assert_eq!(taste["kinds"][0]["works"], 2);

    stdout_of(&["people", "add", "Sam"]);
    assert!(stdout_of(&["people", "use", "sam"]).contains("Asking as Sam"));
    let people = stdout_of(&["people"]);
    assert!(people.contains("* Sam"), "{people}");
    let sams = json(&run(&data, &["taste", "--json"]));
    assert_eq!(sams["person"]["name"], "Sam");
    assert!(sams["kinds"].as_array().unwrap().is_empty(), "Sam's own");
    let out = run(&data, &["taste", "forget", "mood", "calm"]);
    assert!(!out.status.success(), "an unknown facet is refused");
    let out = run(&data, &["people", "use", "Nobody"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no one here is called Nobody"));
    stdout_of(&["people", "remove", "Sam"]);
    assert!(!stdout_of(&["people"]).contains("Sam"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
