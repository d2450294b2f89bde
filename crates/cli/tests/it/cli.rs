use crate::{generate, json, run};

#[test]
fn ask_json_is_one_object_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let (root, data) = (dir.path().join("lib"), dir.path().join("data"));
    generate(&root, 20, 10, 10);

    // Before anything is indexed, the error is machine-readable too.
    let out = run(&data, &["ask", "anything", "--json"]);
    assert!(!out.status.success());
    assert_eq!(json(&out)["error"]["code"], "indexEmpty");

    let out = run(&data, &["library", "add", root.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&data, &["scan", "--json", "--now", "2026-12-24T20:00:00Z"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["embedded"], 40);

    let out = run(
        &data,
        &[
            "ask", "quiet", "piano", "for", "a", "snowy", "night", "--kind", "music", "--limit",
            "4", "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer = json(&out);
    let items = answer["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for item in items {
        assert_eq!(item["kind"], "music");
        for key in ["path", "title", "creator", "year", "duration_secs", "score"] {
            assert!(item.get(key).is_some(), "items[].{key}");
        }
        assert!(std::path::Path::new(item["path"].as_str().unwrap()).is_file());
    }
    assert!(answer["timings_ms"]["total_ms"].as_f64().unwrap() > 0.0);

    let out = run(&data, &["status", "--json"]);
    let status = json(&out);
    assert_eq!(status["music"], 20);
    assert_eq!(status["last_scan"]["status"], "done");
    assert_eq!(
        status["last_scan"]["started_at"], 1_798_142_400,
        "--now is the time the scan is recorded at"
    );

    let out = run(&data, &["ask", "x", "--now", "next tuesday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--now"));
}
