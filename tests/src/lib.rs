//! Shared set-up for the cross-crate tests and benchmarks: a real library
//! written by `moodshelf-libgen`, a real data dir (SQLite + LanceDB) in a
//! temporary folder, and the real embedding model from the models dir.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use moodshelf_engine::{AskRequest, Kind, Library, Moment, Paths, ScanOptions, ScanReport};
use moodshelf_libgen::{Generated, Spec};

/// A fixed "now" (2026-11-26T12:00:00Z): runs are repeatable.
pub const NOW: i64 = 1_795_694_400;

/// The models dir, resolved as the app resolves it (`MOODSHELF_MODELS_DIR`,
/// else `<data dir>/models`). Tests need the real embedding model and fail
/// with a clear message when it is missing.
pub fn models_dir() -> PathBuf {
    let dir = Paths::resolve(None, None).expect("a models dir").models_dir;
    let model = dir.join(moodshelf_engine::config::DEFAULT_EMBED_MODEL);
    assert!(
        model.is_file(),
        "{} is missing: run `moodshelf models fetch --profile test`",
        model.display()
    );
    dir
}

/// A library on disk and a Moodshelf data dir, both temporary.
pub struct TestLibrary {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub generated: Generated,
    pub lib: Library,
}

impl TestLibrary {
    /// Writes `spec` items as real files and opens an empty data dir.
    pub async fn new(spec: Spec) -> TestLibrary {
        TestLibrary::with_settings(spec, "").await
    }

    /// Like [`TestLibrary::new`], with a `settings.toml` written first.
    pub async fn with_settings(spec: Spec, settings_toml: &str) -> TestLibrary {
        let dir = tempfile::tempdir().expect("temp dir");
        if !settings_toml.is_empty() {
            std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
            std::fs::write(dir.path().join("data/settings.toml"), settings_toml).expect("settings");
        }
        let root = dir.path().join("library");
        let generated = moodshelf_libgen::generate(&moodshelf_libgen::datasets_dir(), &root, spec)
            .expect("generate library");
        let lib = open(dir.path()).await;
        TestLibrary {
            dir,
            root,
            generated,
            lib,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Adds the library folder and scans it.
    pub async fn add_and_scan(&self) -> ScanReport {
        self.lib.add_root(&self.root, NOW).await.expect("add root");
        self.scan().await
    }

    pub async fn scan(&self) -> ScanReport {
        self.lib
            .scan(ScanOptions::new(NOW))
            .await
            .expect("scan succeeds")
    }

    /// Closes and opens the library again, as a restart does.
    pub async fn reopen(&mut self) {
        let lib = open(self.dir.path()).await;
        let old = std::mem::replace(&mut self.lib, lib);
        old.close().await;
    }
}

/// Opens a library whose data dir is `<base>/data`.
pub async fn open(base: &Path) -> Library {
    let paths = Paths {
        data_dir: base.join("data"),
        models_dir: models_dir(),
    };
    Library::open(paths).await.expect("open library")
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Copies a file from the shared media fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    let shared = std::env::var_os("MOODSHELF_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let p = shared.join("fixtures/media").join(rel);
    assert!(p.is_file(), "fixture {} not found", p.display());
    p
}

/// A local wall time, "2026-12-24T20:00", as the hosts pass it in.
pub fn moment(local: &str) -> Moment {
    let local =
        chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").expect("a local time");
    Moment {
        unix: local.and_utc().timestamp(),
        local,
    }
}

/// Settings that make the small test model the reasoning model: it checks
/// structure, never quality.
pub const SMALL_REASONING_MODEL: &str =
    "[models]\nreasoning = \"SmolLM2-135M-Instruct.Q4_1.gguf\"\n";

/// A request as a host sends it.
pub fn ask(text: &str, kind: Option<Kind>, limit: usize) -> AskRequest {
    AskRequest {
        text: text.into(),
        kind,
        limit,
    }
}
