//! Shared set-up for the cross-crate tests and benchmarks: a real library
//! written by `moodshelf-libgen`, a real data dir (SQLite + LanceDB) in a
//! temporary folder, and the real embedding model from the models dir.

pub mod eval;
pub use moodshelf_libgen::sound;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{
    Kind, Library, Moment, Paths, RecommendRequest, Recommendation, ScanOptions, ScanReport,
};
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

/// A library on disk and a Moodshelf data dir, temporary unless made by
/// [`TestLibrary::kept`].
pub struct TestLibrary {
    pub dir: Base,
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
        let dir = Base::Temp(tempfile::tempdir().expect("temp dir"));
        TestLibrary::in_dir(dir, spec, settings_toml).await
    }

    /// A library kept in `dir` between runs (for evaluations): the files
    /// are written again (byte for byte the same), and the data dir stays,
    /// so the next scan reads only what changed and embeds nothing again.
    pub async fn kept(dir: &Path, spec: Spec, settings_toml: &str) -> TestLibrary {
        std::fs::create_dir_all(dir).expect("eval dir");
        TestLibrary::in_dir(Base::Kept(dir.to_path_buf()), spec, settings_toml).await
    }

    async fn in_dir(dir: Base, spec: Spec, settings_toml: &str) -> TestLibrary {
        std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
        let settings = dir.path().join("data/settings.toml");
        if !settings_toml.is_empty() {
            std::fs::write(&settings, settings_toml).expect("settings");
        } else if settings.exists() {
            std::fs::remove_file(&settings).expect("settings");
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

/// Where a test library lives: a temporary folder, or one kept between
/// runs.
pub enum Base {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Base {
    pub fn path(&self) -> &Path {
        match self {
            Base::Temp(t) => t.path(),
            Base::Kept(p) => p,
        }
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

/// Plain embedding search, through the one answer path (the
/// recommender with every understanding turned off), at [`NOW`].
pub async fn search(
    lib: &Library,
    text: &str,
    kind: Option<Kind>,
    limit: usize,
) -> moodshelf_engine::Result<Recommendation> {
    let mut req = RecommendRequest::new(
        text,
        Moment {
            unix: NOW,
            local: chrono::DateTime::from_timestamp(NOW, 0)
                .expect("a valid time")
                .naive_utc(),
        },
    );
    req.mode = Mode::Search;
    req.kind = kind;
    req.limit = limit;
    req.remember = false;
    lib.recommend(&req, &moodshelf_llm::Cancel::default(), &mut |_| {})
        .await
}

/// Every file under `dir`, sorted; folders that cannot be read are skipped.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
