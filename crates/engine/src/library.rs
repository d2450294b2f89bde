//! [`Library`]: the engine's public face. Both hosts (the CLI and the
//! desktop app) hold one and call its methods; each method is one user
//! action, and composes the rooms that do it (scan, watch, analysis,
//! enrichment, answering, playlists, people, history) over the one
//! [`Store`] they share. Nothing else in the engine extends `Library`:
//! the rooms are functions over a `&Store`, and this file is the only
//! place that knows them all.

use std::path::Path;
use std::sync::Arc;

use moodshelf_catalog::{Counts, Person, Root, RootState, ScanRun, ScanStatus, Verdict};
use moodshelf_index::Index;
use moodshelf_llm::{Cancel, Embedder, Generator, Reasoner};
use serde::Serialize;

use crate::analysis::{self, AnalyzeOptions, AnalyzeReport};
use crate::config::{Paths, Settings};
use crate::enrich::{self, EnrichOptions, EnrichReport, ItemDetails};
use crate::error::{Code, Error, Result};
use crate::jobs::Phase;
use crate::listens::{self, ImportReport};
use crate::live::{self, WatchEvent, WatchHandle, WatchOptions};
use crate::people;
use crate::playlist::{self, Format, Playlist, PlaylistRequest};
use crate::profile::Prototypes;
use crate::recommend::{self, EventFn, Pool, RecommendRequest, Recommendation};
use crate::scan::{self, ScanOptions, ScanReport};
use crate::series::{self, NextUp};
use crate::similar::{self, Alike};
use crate::store::{Store, model_identity};
use crate::work::Understanding;

#[derive(Clone)]
pub struct Library {
    store: Arc<Store>,
}

/// A library folder as the hosts show it.
#[derive(Debug, Clone, Serialize)]
pub struct RootInfo {
    pub path: String,
    /// "ok" or "unavailable".
    pub state: String,
    pub last_scan_at: Option<i64>,
}

impl From<&Root> for RootInfo {
    fn from(r: &Root) -> Self {
        RootInfo {
            path: r.path.display().to_string(),
            state: match r.state {
                RootState::Ok => "ok",
                RootState::Unavailable => "unavailable",
            }
            .into(),
            last_scan_at: r.last_scan_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub role: String,
    pub path: String,
    pub present: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub data_dir: String,
    pub models_dir: String,
    pub roots: Vec<RootInfo>,
    pub music: i64,
    pub books: i64,
    pub videos: i64,
    pub files: i64,
    pub file_errors: i64,
    pub pending_index: i64,
    pub unavailable_items: i64,
    pub indexed_rows: Option<usize>,
    /// Works of the library (films, books, albums, artists) and how many
    /// of them the reasoning model has read (`moodshelf enrich`); the
    /// names are kept from when only thin items were read.
    pub thin_items: i64,
    pub enriched_items: i64,
    /// The same, with the items the read works cover.
    pub understanding: moodshelf_catalog::UnderstandCounts,
    /// Tracks on available folders, how many of them have their sound
    /// analysed in their current form (`moodshelf analyze`), and of those
    /// how many could not be.
    pub tracks: i64,
    pub analyzed_tracks: i64,
    pub unanalyzable_tracks: i64,
    pub models: Vec<ModelInfo>,
    pub last_scan: Option<LastScan>,
    /// Why `settings.toml` is not in use (defaults are), if it is not.
    pub settings_problem: Option<String>,
    /// The server that reads requests and writes reasons instead of the
    /// local model, when one is set (its URL; never the key).
    pub reasoning_endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastScan {
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: ScanStatus,
    /// The phase it reached (`None` for a phase this version does not
    /// know, written by a newer one).
    pub phase: Option<Phase>,
    pub message: Option<String>,
}

impl From<&ScanRun> for LastScan {
    fn from(r: &ScanRun) -> Self {
        LastScan {
            started_at: r.started_at,
            finished_at: r.finished_at,
            status: r.status,
            phase: Phase::parse(&r.phase),
            message: r.message.clone(),
        }
    }
}
impl Library {
    /// Opens the library in `paths.data_dir`, creating it if needed.
    pub async fn open(paths: Paths) -> Result<Library> {
        // The request cues are data (`data/cues.toml`): broken ones stop
        // here, with their reason (the vocabulary is checked by the store).
        recommend::cues::check().map_err(|e| Error::new(Code::Internal, e))?;
        Ok(Library {
            store: Arc::new(Store::open(paths).await?),
        })
    }

    /// What the rooms of the engine share (for the engine's own tests and
    /// tools that read the catalog directly).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn paths(&self) -> &Paths {
        self.store.paths()
    }

    pub fn settings(&self) -> &Settings {
        self.store.settings()
    }

    pub fn catalog(&self) -> &moodshelf_catalog::Catalog {
        self.store.catalog()
    }

    /// The embedding model, loaded on first use.
    pub async fn embedder(&self) -> Result<Embedder> {
        self.store.embedder().await
    }

    /// The reasoning model, loaded on first use.
    pub async fn generator(&self) -> Result<Generator> {
        self.store.generator().await
    }

    /// Whether the reasoning model is loaded now (for status displays).
    pub async fn generator_loaded(&self) -> bool {
        self.store.generator_loaded().await
    }

    /// What reads requests and writes reasons: the endpoint when one is
    /// set, else the local reasoning model.
    pub async fn reasoner(&self) -> Result<Reasoner> {
        self.store.reasoner().await
    }

    /// The descriptors' prototypes for the embedding model.
    pub async fn prototypes(&self) -> Result<Arc<Prototypes>> {
        self.store.prototypes().await
    }

    /// The index, opened (or created) for the embedding model.
    pub async fn index(&self) -> Result<Index> {
        self.store.index().await
    }

    /// Who else is writing to this library now, if another process is.
    pub fn other_writer(&self) -> Option<String> {
        self.store.other_writer()
    }

    /// The item whose media file is at `path`.
    pub async fn item_at(&self, path: &Path) -> Result<moodshelf_catalog::ItemView> {
        self.store.item_at(path).await
    }

    /// The taste of `person` (the one who asks when `None`) in words.
    pub async fn taste(&self, person: Option<&str>) -> Result<crate::taste::TasteProfile> {
        let person = match person {
            Some(name) => people::person_named(&self.store, name).await?,
            None => people::person(&self.store).await?,
        };
        let state = self.store.taste_state(person.id).await?;
        let forgotten = self.store.catalog().forgotten(person.id).await?;
        Ok(crate::taste::profile_of(person, &state, forgotten))
    }

    /// Forgets (or, with `forget` false, restores) one part of the taste
    /// of the one who asks: "genre horror", "creator Stephen King". True
    /// when that changed anything.
    pub async fn forget_taste(
        &self,
        facet: &str,
        value: &str,
        forget: bool,
        now: i64,
    ) -> Result<bool> {
        let person = people::person(&self.store).await?;
        crate::taste::forget(self.store.catalog(), person.id, facet, value, forget, now).await
    }

    /// Adds a folder to the library. It must exist, and must neither sit
    /// inside nor contain a folder already in the library (a file belongs
    /// to one root).
    pub async fn add_root(&self, path: &Path, now: i64) -> Result<RootInfo> {
        let canonical = std::fs::canonicalize(path).map_err(|e| {
            Error::new(
                Code::LibraryUnavailable,
                format!("cannot add {}: {e}", path.display()),
            )
        })?;
        if !canonical.is_dir() {
            return Err(Error::new(
                Code::InvalidInput,
                format!("{} is not a folder", path.display()),
            ));
        }
        for r in self.store.catalog().roots().await? {
            if r.path == canonical {
                return Ok(RootInfo::from(&r));
            }
            if canonical.starts_with(&r.path) {
                return Err(Error::new(
                    Code::InvalidInput,
                    format!(
                        "{} is already in the library as part of {}",
                        canonical.display(),
                        r.path.display()
                    ),
                ));
            }
            if r.path.starts_with(&canonical) {
                return Err(Error::new(
                    Code::InvalidInput,
                    format!(
                        "{} contains {}, which is already in the library; remove that first",
                        canonical.display(),
                        r.path.display()
                    ),
                ));
            }
        }
        let root = self.store.catalog().add_root(&canonical, now).await?;
        Ok(RootInfo::from(&root))
    }

    /// Removes a folder and forgets its items. Returns how many items went.
    pub async fn remove_root(&self, path: &Path) -> Result<usize> {
        let _writer = self.store.writer().await?;
        let target = self.find_root(path).await?;
        let removed = self.store.catalog().remove_root(&target.path).await?;
        if !removed.is_empty()
            && let Some(index) = self.store.open_index_if_present().await?
        {
            index.delete(&removed).await?;
        }
        Ok(removed.len())
    }

    /// The root with this path (as given or canonical; a root on a disk
    /// that is gone cannot be canonicalised).
    async fn find_root(&self, path: &Path) -> Result<Root> {
        let roots = self.store.catalog().roots().await?;
        let canonical = std::fs::canonicalize(path).ok();
        roots
            .into_iter()
            .find(|r| r.path == path || canonical.as_deref() == Some(r.path.as_path()))
            .ok_or_else(|| {
                Error::new(
                    Code::InvalidInput,
                    format!("{} is not in the library", path.display()),
                )
            })
    }

    pub async fn roots(&self) -> Result<Vec<RootInfo>> {
        Ok(self
            .store
            .catalog()
            .roots()
            .await?
            .iter()
            .map(RootInfo::from)
            .collect())
    }

    /// Scans every root (see [`crate::scan`]). Waits for a running scan.
    pub async fn scan(&self, opts: ScanOptions) -> Result<ScanReport> {
        let _writer = self.store.writer().await?;
        scan::run(&self.store, opts).await
    }

    /// Builds the index again from the catalog, beside the live one, which
    /// answers until the new one is complete and swapped in.
    pub async fn rebuild_index(&self, opts: ScanOptions) -> Result<ScanReport> {
        let _writer = self.store.writer().await?;
        scan::rebuild(&self.store, opts).await
    }

    pub async fn status(&self) -> Result<Status> {
        let counts: Counts = self.store.catalog().counts().await?;
        let roots = self.roots().await?;
        let last_scan = self
            .store
            .catalog()
            .recent_scans(1)
            .await?
            .first()
            .map(LastScan::from);
        let indexed_rows = match self.store.open_index_if_present().await {
            Ok(Some(i)) => i.count().await.ok(),
            _ => None,
        };
        let s = self.store.settings();
        let understanding = self
            .store
            .catalog()
            .understand_counts(&model_identity(&s.reasoning_model))
            .await?;
        let sound = self
            .store
            .catalog()
            .sound_counts(moodshelf_sound::ANALYSIS_VERSION)
            .await?;
        Ok(Status {
            data_dir: self.store.paths().data_dir.display().to_string(),
            models_dir: self.store.paths().models_dir.display().to_string(),
            roots,
            music: counts.music,
            books: counts.book,
            videos: counts.video,
            files: counts.files,
            file_errors: counts.file_errors,
            pending_index: counts.pending_index,
            unavailable_items: counts.unavailable,
            indexed_rows,
            thin_items: understanding.works,
            enriched_items: understanding.understood,
            understanding,
            tracks: sound.tracks,
            analyzed_tracks: sound.analyzed,
            unanalyzable_tracks: sound.failed,
            models: vec![
                ModelInfo {
                    role: "embedding".into(),
                    path: s.embedding_model.display().to_string(),
                    present: s.embedding_model.is_file(),
                },
                ModelInfo {
                    role: "reasoning".into(),
                    path: s.reasoning_model.display().to_string(),
                    present: s.reasoning_model.is_file(),
                },
            ],
            last_scan,
            settings_problem: self.store.settings().problem.clone(),
            reasoning_endpoint: self
                .store
                .settings()
                .endpoint
                .as_ref()
                .map(|e| e.url.clone()),
        })
    }

    /// Files that failed to read, with why.
    pub async fn file_errors(&self, limit: i64) -> Result<Vec<crate::jobs::FileError>> {
        Ok(self
            .store
            .catalog()
            .file_errors(limit)
            .await?
            .into_iter()
            .map(|(path, error)| crate::jobs::FileError { path, error })
            .collect())
    }

    /// Closes the catalog cleanly (checkpointing its WAL).
    pub async fn close(self) {
        if let Ok(store) = Arc::try_unwrap(self.store) {
            store.close().await;
        }
    }

    /// Analyses the sound of every track not analysed in its current form
    /// (see [`crate::analysis`]).
    pub async fn analyze(&self, opts: AnalyzeOptions) -> Result<AnalyzeReport> {
        analysis::analyze(&self.store, opts).await
    }

    /// Reads the library's unread works with the reasoning model (see
    /// [`crate::enrich`]).
    pub async fn enrich(&self, opts: EnrichOptions) -> Result<EnrichReport> {
        enrich::enrich(&self.store, opts).await
    }

    /// An item's understanding, if its work has been read.
    pub async fn item_understanding(&self, item_id: i64) -> Result<Option<Understanding>> {
        enrich::item_understanding(&self.store, item_id).await
    }

    /// The item at `path` as a person sees its details.
    pub async fn item_details(&self, path: &Path) -> Result<ItemDetails> {
        enrich::item_details(&self.store, path).await
    }

    /// [`Library::item_details`] of the item with id `id` (a pick).
    pub async fn item_details_by_id(&self, id: i64) -> Result<ItemDetails> {
        enrich::item_details_by_id(&self.store, id).await
    }

    /// Starts keeping the library live (see [`crate::live`]).
    pub async fn watch(
        &self,
        opts: WatchOptions,
        on_event: impl Fn(WatchEvent) + Send + Sync + 'static,
    ) -> Result<WatchHandle> {
        live::watch(&self.store, opts, on_event).await
    }

    /// The person whose answers, feedback and history these are.
    pub async fn person(&self) -> Result<Person> {
        people::person(&self.store).await
    }

    /// Makes the person named `name` (whatever its case) the one who asks.
    pub async fn use_person(&self, name: &str) -> Result<Person> {
        people::use_person(&self.store, name).await
    }

    /// The person named `name`, or a clear error naming who there is.
    pub async fn person_named(&self, name: &str) -> Result<Person> {
        people::person_named(&self.store, name).await
    }

    /// Removes a person and all that was theirs.
    pub async fn remove_person(&self, name: &str) -> Result<Person> {
        people::remove_person(&self.store, name).await
    }

    /// One use of an item from Moodshelf (opened from an answer, played).
    pub async fn played(&self, item_id: i64, now: i64) -> Result<()> {
        people::played(&self.store, item_id, now).await
    }

    /// The other people a request is for ("for me and Sam").
    pub async fn group_in(&self, text: &str, asking: i64) -> Result<Vec<Person>> {
        people::group_in(&self.store, text, asking).await
    }

    /// Answers a request with picks from the library, reasons, and the
    /// stages' events on the way (see [`crate::recommend`]).
    pub async fn recommend(
        &self,
        req: &RecommendRequest,
        cancel: &Cancel,
        on_event: EventFn<'_>,
    ) -> Result<Recommendation> {
        recommend::recommend(&self.store, req, cancel, on_event).await
    }

    /// The candidates of a request with their features, before ranking.
    pub async fn candidates(&self, req: &RecommendRequest) -> Result<Pool> {
        recommend::candidates(&self.store, req).await
    }

    /// Loads the reasoning model and reads the fixed parts of its prompts.
    pub async fn warm_up(&self) -> Result<()> {
        recommend::warm_up(&self.store).await
    }

    /// Why the item `item_id` suits `text`, at more length.
    pub async fn explain_more(
        &self,
        text: &str,
        item_id: i64,
    ) -> Result<recommend::more::MoreReason> {
        recommend::more::explain_more(&self.store, text, item_id).await
    }

    /// Records feedback on an item, with the request it answered.
    pub async fn feedback(
        &self,
        item_id: i64,
        verdict: Verdict,
        request: Option<&str>,
        now: i64,
    ) -> Result<()> {
        recommend::remember::feedback(&self.store, item_id, verdict, request, now).await
    }

    /// The request an item was last recommended for.
    pub async fn last_request_for(&self, item_id: i64) -> Result<Option<String>> {
        recommend::remember::last_request_for(&self.store, item_id).await
    }

    /// Builds a playlist (see [`crate::playlist`]).
    pub async fn playlist(&self, req: &PlaylistRequest, cancel: &Cancel) -> Result<Playlist> {
        playlist::playlist(&self.store, req, cancel).await
    }

    /// Saves a playlist at `file` in `format`, replacing the file whole.
    pub async fn save_playlist(
        &self,
        p: &Playlist,
        title: &str,
        file: &Path,
        format: Format,
    ) -> Result<()> {
        playlist::save_playlist(&self.store, p, title, file, format).await
    }

    /// What comes next in each series the one who asks has begun.
    pub async fn next_up(&self) -> Result<Vec<NextUp>> {
        let person = people::person(&self.store).await?;
        series::next_up(&self.store, &person).await
    }

    /// The `limit` analysed tracks that sound most like the track at `path`.
    pub async fn sounds_like(&self, path: &Path, limit: usize) -> Result<Vec<Alike>> {
        similar::sounds_like(&self.store, path, limit).await
    }

    /// Imports a ListenBrainz or Last.fm export as the person's history.
    pub async fn import_history(&self, path: &Path, now: i64) -> Result<ImportReport> {
        listens::import_history(&self.store, path, now).await
    }
}
