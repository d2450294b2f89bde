//! [`Store`]: what every room of the engine works on. It owns the
//! catalog, opens the index and loads the models lazily (so commands that
//! need neither start instantly), keeps what answering reads of the library
//! (profiles, prototypes, tastes) until the library changes, and takes the
//! writer lock. Scanning, analysis, enrichment and answering are functions
//! over a `&Store`; `Library` is the facade that composes them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use moodshelf_catalog::{Catalog, RootState};
use moodshelf_index::Index;
use moodshelf_llm::{Cancel, EmbedOptions, Embedder, GenOptions, Generator, Reasoner};
use tokio::sync::Mutex;

use crate::config::{Paths, Settings};
use crate::error::{Code, Error, Result};
use crate::profile::{ProfileTable, Prototypes};
use crate::taste::TasteState;
use crate::writer::{WriterGuard, WriterLock};

/// How long a read that failed while another process writes waits, at
/// most, to be told the index was swapped (see [`Store::read_index`]).
const SWAP_WAIT_STEPS: u32 = 50;
const SWAP_WAIT_STEP: std::time::Duration = std::time::Duration::from_millis(100);

/// Catalog setting that changes whenever a scan, a watcher update,
/// enrichment or analysis changed the library, in any process on the data
/// dir; what answering keeps of the library is stamped with it.
const LIBRARY_GENERATION_KEY: &str = "library.generation";
/// Catalog setting naming the describe version descriptions were built with.
const DESCRIBE_VERSION_KEY: &str = "describe.version";

pub struct Store {
    paths: Paths,
    settings: Settings,
    catalog: Catalog,
    embedder: Mutex<Option<Embedder>>,
    generator: Mutex<Option<Generator>>,
    /// The reasoning endpoint's handle (it remembers the server's dialect
    /// and model), made on first use.
    endpoint: std::sync::OnceLock<moodshelf_llm::Endpoint>,
    index: Mutex<Option<crate::index_dir::OpenIndex>>,
    /// The descriptors' prototypes for the embedding model, once computed.
    prototypes: Mutex<Option<Arc<Prototypes>>>,
    /// Item profiles as answering reads them, with the library generation
    /// they were loaded at ([`LIBRARY_GENERATION_KEY`]); loaded again by
    /// the next answer after any process changed the library.
    profiles: Mutex<Option<(Option<String>, Arc<ProfileTable>)>>,
    /// Answers using the reasoning model now; enrichment waits for them.
    answering: Arc<AtomicUsize>,
    /// Cancels the enrichment reading in flight, if any.
    enrich_cancel: Mutex<Option<Cancel>>,
    /// One writer at a time: a scan, a watcher update, an enrichment's
    /// card refresh, an index rebuild, in this process and any other on
    /// the same data dir ([`crate::writer`]).
    writer: WriterLock,
    /// Each person's taste as answering reads it, with the stamp of what
    /// it was built from.
    tastes: Mutex<HashMap<i64, (String, Arc<TasteState>)>>,
}

impl Store {
    /// Opens the store in `paths.data_dir`, creating it if needed.
    pub async fn open(paths: Paths) -> Result<Store> {
        std::fs::create_dir_all(&paths.data_dir).map_err(|e| {
            Error::new(
                Code::InvalidInput,
                format!("cannot create data dir {}: {e}", paths.data_dir.display()),
            )
        })?;
        // The vocabulary is data (`data/vocabulary.toml`): a broken one
        // stops here, with its reason, not in the middle of an answer.
        crate::vocab::check().map_err(|e| Error::new(Code::Internal, e))?;
        let settings = Settings::load(&paths)?;
        let catalog = Catalog::open(&paths.catalog()).await?;
        // Descriptions made by an older describe step are redone.
        let version = crate::describe::DESCRIBE_VERSION.to_string();
        if catalog.setting(DESCRIBE_VERSION_KEY).await?.as_deref() != Some(version.as_str()) {
            catalog.forget_descriptions().await?;
            catalog.set_setting(DESCRIBE_VERSION_KEY, &version).await?;
        }
        let writer = WriterLock::new(&paths.data_dir);
        Ok(Store {
            paths,
            settings,
            catalog,
            embedder: Mutex::new(None),
            generator: Mutex::new(None),
            endpoint: std::sync::OnceLock::new(),
            index: Mutex::new(None),
            prototypes: Mutex::new(None),
            profiles: Mutex::new(None),
            answering: Arc::new(AtomicUsize::new(0)),
            enrich_cancel: Mutex::new(None),
            writer,
            tastes: Mutex::new(HashMap::new()),
        })
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// `person`'s taste, if it was built from what `stamp` names.
    async fn cached_taste(&self, person: i64, stamp: &str) -> Option<Arc<TasteState>> {
        let tastes = self.tastes.lock().await;
        tastes
            .get(&person)
            .filter(|(s, _)| s == stamp)
            .map(|(_, t)| t.clone())
    }

    async fn cache_taste(&self, person: i64, stamp: String, taste: Arc<TasteState>) {
        self.tastes.lock().await.insert(person, (stamp, taste));
    }

    /// `person`'s taste as answering reads it (see [`crate::taste`]),
    /// built again only when what it is made of changed.
    pub async fn taste_state(&self, person: i64) -> Result<Arc<TasteState>> {
        let stamp = self.catalog().memory_stamp(person).await?;
        if let Some(s) = self.cached_taste(person, &stamp).await {
            return Ok(s);
        }
        let judgements = crate::taste::judgements(self.catalog(), person).await?;
        let ids = judgements.ids();
        let vectors = match ids.is_empty() {
            true => HashMap::new(),
            false => self.vectors_of(&ids).await?,
        };
        let state = Arc::new(judgements.into_state(vectors));
        self.cache_taste(person, stamp, state.clone()).await;
        Ok(state)
    }

    /// Waits to be the library's one writer (see [`crate::writer`]).
    /// Whoever writes first after an interrupted index rebuild finishes or
    /// undoes it.
    pub async fn writer(&self) -> Result<WriterGuard<'_>> {
        let guard = self.writer.lock().await?;
        crate::index_dir::recover(self.paths(), self.catalog()).await?;
        Ok(guard)
    }

    /// Who else is writing to this library now, if another process is.
    pub fn other_writer(&self) -> Option<String> {
        self.writer.holder()
    }

    /// The embedding model, loaded on first use.
    pub async fn embedder(&self) -> Result<Embedder> {
        let mut slot = self.embedder.lock().await;
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let path = self.settings().embedding_model.clone();
        let threads = self.settings().threads;
        let embedder = tokio::task::spawn_blocking(move || {
            Embedder::load(
                &path,
                EmbedOptions {
                    threads,
                    ..EmbedOptions::default()
                },
            )
        })
        .await
        .map_err(Error::internal)??;
        *slot = Some(embedder.clone());
        Ok(embedder)
    }

    /// Lets the embedding model go (its worker ends and unmaps it once the
    /// last handle is dropped); the next use loads it again.
    pub async fn release_embedder(&self) {
        self.embedder.lock().await.take();
    }

    /// The reasoning model, loaded on first use. A missing file is a
    /// `ModelMissing` error, which the recommender turns into a notice and
    /// the fast path.
    pub async fn generator(&self) -> Result<Generator> {
        let mut slot = self.generator.lock().await;
        if let Some(g) = slot.as_ref() {
            return Ok(g.clone());
        }
        let path = self.settings().reasoning_model.clone();
        let threads = self.settings().threads;
        let parallel = self.settings().parallel;
        // Saved system prompts: a one-shot `moodshelf ask` loads them
        // instead of reading them again.
        let state_dir = Some(self.paths().prompt_states());
        let generator = tokio::task::spawn_blocking(move || {
            Generator::load(
                &path,
                GenOptions {
                    threads,
                    state_dir,
                    parallel: parallel.unwrap_or(GenOptions::default().parallel),
                    batch_width: parallel.map_or(GenOptions::default().batch_width, |p| {
                        p.max(GenOptions::default().batch_width)
                    }),
                    ..GenOptions::default()
                },
            )
        })
        .await
        .map_err(Error::internal)??;
        *slot = Some(generator.clone());
        Ok(generator)
    }

    /// What reads requests and writes reasons: the endpoint when one is
    /// set, else the local reasoning model (loaded on first use).
    pub async fn reasoner(&self) -> Result<Reasoner> {
        let Some(settings) = &self.settings().endpoint else {
            return Ok(Reasoner::Local(self.generator().await?));
        };
        if let Some(e) = self.endpoint.get() {
            return Ok(Reasoner::Endpoint(e.clone()));
        }
        let e = moodshelf_llm::Endpoint::new(settings.clone()).map_err(Error::from)?;
        Ok(Reasoner::Endpoint(self.endpoint.get_or_init(|| e).clone()))
    }

    /// Embeds one text (a request) with the embedding model, off the
    /// async threads.
    pub async fn embed_one(&self, text: String) -> Result<Vec<f32>> {
        let embedder = self.embedder().await?;
        tokio::task::spawn_blocking(move || embedder.embed(vec![text]))
            .await
            .map_err(Error::internal)??
            .pop()
            .ok_or_else(|| Error::new(Code::Internal, "the embedder returned nothing"))
    }

    /// Roots whose items must not be answered now (unmounted disks).
    pub async fn unavailable_root_ids(&self) -> Result<Vec<i64>> {
        Ok(self
            .catalog()
            .roots()
            .await?
            .into_iter()
            .filter(|r| r.state == RootState::Unavailable)
            .map(|r| r.id)
            .collect())
    }

    /// The descriptors' prototypes: every descriptor's `about` sentences
    /// embedded and averaged. Computed once per embedding model and
    /// vocabulary version and kept in the catalog's cache, so a one-shot
    /// CLI answer does not pay for it.
    pub async fn prototypes(&self) -> Result<Arc<Prototypes>> {
        let mut slot = self.prototypes.lock().await;
        if let Some(p) = slot.as_ref() {
            return Ok(p.clone());
        }
        let embedder = self.embedder().await?;
        let key = format!(
            "prototypes:{}:{}",
            model_identity(embedder.path()),
            crate::vocab::version()
        );
        let cached = self
            .catalog()
            .cached(&key)
            .await?
            .and_then(|b| Prototypes::from_bytes(&b, embedder.dim()));
        let prototypes = match cached {
            Some(p) => p,
            None => {
                let texts: Vec<String> = Prototypes::sentences()
                    .into_iter()
                    .map(|(_, s)| s.to_string())
                    .collect();
                let vectors = tokio::task::spawn_blocking(move || embedder.embed(texts))
                    .await
                    .map_err(Error::internal)??;
                let p = Prototypes::from_embedded(&vectors);
                self.catalog().set_cached(&key, &p.to_bytes()).await?;
                p
            }
        };
        let p = Arc::new(prototypes);
        *slot = Some(p.clone());
        Ok(p)
    }

    /// The item whose media file is at `path` (as given, or with links and
    /// `..` resolved).
    pub async fn item_at(&self, path: &Path) -> Result<moodshelf_catalog::ItemView> {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        for p in [real.as_path(), path] {
            if let Some(v) = self
                .catalog()
                .item_by_path(&crate::names::encode(p))
                .await?
            {
                return Ok(v);
            }
        }
        Err(Error::new(
            Code::InvalidInput,
            format!("{} is not an item of the library", path.display()),
        ))
    }

    /// Every available, profiled item as ranking reads it.
    pub async fn profiles(&self) -> Result<Arc<ProfileTable>> {
        let generation = self.catalog().setting(LIBRARY_GENERATION_KEY).await?;
        let mut slot = self.profiles.lock().await;
        if let Some((at, p)) = slot.as_ref()
            && *at == generation
        {
            return Ok(p.clone());
        }
        let rows = self.catalog().profile_rows().await?;
        let sounds = self
            .catalog()
            .sound_rows(moodshelf_sound::ANALYSIS_VERSION)
            .await?;
        let table = Arc::new(
            tokio::task::spawn_blocking(move || ProfileTable::from_rows(rows, sounds))
                .await
                .map_err(Error::internal)?,
        );
        *slot = Some((generation, table.clone()));
        Ok(table)
    }

    /// Marks an answer that needs the model as under way until the guard
    /// drops: enrichment stops the reading in flight and waits.
    pub async fn answer_started(&self) -> AnswerGuard {
        self.answering.fetch_add(1, Ordering::SeqCst);
        if let Some(c) = self.enrich_cancel.lock().await.as_ref() {
            c.cancel();
        }
        AnswerGuard(self.answering.clone())
    }

    /// Waits while answers use the model (or until `stop`).
    pub async fn wait_for_answers(&self, stop: &AtomicBool) {
        while self.answering.load(Ordering::SeqCst) > 0 && !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    pub async fn set_enrich_cancel(&self, cancel: Option<Cancel>) {
        *self.enrich_cancel.lock().await = cancel;
    }

    /// Drops what answering keeps of the library, after a scan, a watcher
    /// update or enrichment changed it.
    pub async fn library_changed(&self) {
        *self.profiles.lock().await = None;
        if let Err(e) = self
            .catalog()
            .set_setting(LIBRARY_GENERATION_KEY, &crate::writer::stamp())
            .await
        {
            tracing::warn!("other processes on this library may answer from old profiles: {e}");
        }
    }

    /// Whether the reasoning model is loaded now (for status displays).
    pub async fn generator_loaded(&self) -> bool {
        self.generator.lock().await.is_some()
    }

    /// The index, opened (or created) for the embedding model (see
    /// [`crate::index_dir::open`]), and opened again when another process
    /// replaced its directory.
    pub async fn index(&self) -> Result<Index> {
        Ok(self.index_at().await?.0)
    }

    /// [`Store::index`], with the generation of the directory it is open
    /// at.
    async fn index_at(&self) -> Result<(Index, Option<String>)> {
        let generation = crate::index_dir::generation(self.catalog()).await?;
        let mut slot = self.index.lock().await;
        if let Some(open) = slot.as_ref()
            && open.generation == generation
        {
            return Ok((open.index.clone(), generation));
        }
        let embedder = self.embedder().await?;
        let open = crate::index_dir::open(
            self.paths(),
            self.catalog(),
            &model_identity(embedder.path()),
            embedder.dim(),
            &self.writer,
        )
        .await?;
        let found = (open.index.clone(), open.generation.clone());
        *slot = Some(open);
        Ok(found)
    }

    /// Reads the index with `read`. A read that fails because the
    /// directory was replaced under its handle (another process swapped
    /// in a rebuilt index) opens it again and reads once more; any other
    /// failure is the read's error. A swap renames the old directory away
    /// before it tells readers (a new `index.generation`), so a read that
    /// fails while another process writes waits a moment to be told.
    pub async fn read_index<T, F, Fut>(&self, read: F) -> Result<T>
    where
        F: Fn(Index) -> Fut,
        Fut: std::future::Future<Output = moodshelf_index::Result<T>>,
    {
        let (index, before) = self.index_at().await?;
        let e = match read(index).await {
            Ok(found) => return Ok(found),
            Err(e) => e,
        };
        for _ in 0..SWAP_WAIT_STEPS {
            if crate::index_dir::generation(self.catalog()).await? != before {
                tracing::info!("the index was replaced during a read ({e}); it is opened again");
                return Ok(read(self.index().await?).await?);
            }
            if self.other_writer().is_none() {
                break;
            }
            tokio::time::sleep(SWAP_WAIT_STEP).await;
        }
        Err(e.into())
    }

    /// The index's vectors of `ids` (those it has).
    pub async fn vectors_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<f32>>> {
        self.read_index(|i| async move { i.vectors(ids).await })
            .await
    }

    /// Compacts the index, unless another process writes the library now
    /// (the watcher's upkeep; its next tick tries again).
    pub async fn optimize_index_if_free(&self) {
        if self.other_writer().is_some() {
            return;
        }
        if let Ok(Some(index)) = self.open_index_if_present().await
            && let Err(e) = index.optimize().await
        {
            tracing::warn!("compacting the index failed: {e}");
        }
    }

    /// The index if it exists and the model is loaded; never creates one.
    /// Used to delete rows, which is pointless when there is no index.
    pub async fn open_index_if_present(&self) -> Result<Option<Index>> {
        let opened = self.index.lock().await.is_some();
        if !opened && !self.paths().index().exists() {
            return Ok(None);
        }
        match self.index().await {
            Ok(i) => Ok(Some(i)),
            Err(e) if e.code == Code::ModelMissing => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Closes the index handle this process holds, before a rebuilt index
    /// is swapped in under it.
    pub async fn close_index(&self) {
        *self.index.lock().await = None;
    }

    /// Closes the catalog cleanly (checkpointing its WAL).
    pub async fn close(self) {
        self.catalog.close().await;
    }
}

/// An answer using the model, while it lasts.
pub struct AnswerGuard(Arc<AtomicUsize>);

impl Drop for AnswerGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Identifies a model file cheaply (name and size): enough to notice that
/// the user switched models.
pub fn model_identity(path: &Path) -> String {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{name}:{size}")
}
