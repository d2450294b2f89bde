//! The index directory's life, which the desktop app and the CLI may share
//! (see [`crate::writer`]): opening it for the embedding model in use,
//! rebuilding it beside the live one and swapping it in, finishing or
//! undoing a rebuild that was interrupted, and telling every process's
//! readers when the directory they opened was replaced.
//!
//! Readers never repair: an index that needs recreating or setting aside
//! while another process writes is that writer's to fix, and the reader
//! says so ([`Code::IndexBusy`]) instead of pulling the directory from
//! under it. A rebuild never empties the live index either: readers keep
//! answering from it until the new one is complete.

use std::path::{Path, PathBuf};

use moodshelf_catalog::Catalog;
use moodshelf_index::Index;

use crate::config::Paths;
use crate::error::{Code, Error, Result};
use crate::writer::{RepairLeave, WriterLock};

/// Catalog setting naming the embedding model the index was built with.
const INDEX_MODEL_KEY: &str = "index.model";
/// Catalog setting that changes whenever the index directory is replaced
/// (rebuilt, recreated, set aside); a reader whose handle was opened at
/// another value opens the directory again.
const GENERATION_KEY: &str = "index.generation";

/// An open index and the generation of the directory it was opened at.
pub struct OpenIndex {
    pub index: Index,
    pub generation: Option<String>,
}

/// The generation of the index directory now.
pub async fn generation(catalog: &Catalog) -> Result<Option<String>> {
    Ok(catalog.setting(GENERATION_KEY).await?)
}

/// Marks the index directory as replaced, for every process's readers.
async fn bump(catalog: &Catalog) -> Result<Option<String>> {
    let value = crate::writer::stamp();
    catalog.set_setting(GENERATION_KEY, &value).await?;
    Ok(Some(value))
}

/// Leave to create, recreate or set aside the index, or "busy" naming
/// the process that writes the library.
fn leave(writer: &WriterLock, what: &str) -> Result<RepairLeave> {
    writer.try_repair().ok_or_else(|| {
        let who = writer.holder().unwrap_or_else(|| "another process".into());
        Error::new(
            Code::IndexBusy,
            format!(
                "the index {what}, and {who} is updating the library; try again when it is done"
            ),
        )
    })
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(
        Code::Internal,
        format!("cannot {what} {}: {e}", path.display()),
    )
}

/// Opens the live index for the model `model_id` of dimension `dim`. When
/// the model or the table layout changed, the index is started afresh and
/// every item queued for embedding; when it cannot be opened at all (a
/// crash mid-write, a damaged disk) it is set aside, not deleted, and built
/// again from the catalog. Creating it and both repairs need `writer`'s
/// leave: they are refused ([`Code::IndexBusy`]) while another process
/// writes to the library (a rebuild swapping directories leaves none for
/// a moment).
pub async fn open(
    paths: &Paths,
    catalog: &Catalog,
    model_id: &str,
    dim: usize,
    writer: &WriterLock,
) -> Result<OpenIndex> {
    let generation = generation(catalog).await?;
    let built_with = catalog.setting(INDEX_MODEL_KEY).await?;
    let dir = paths.index();
    // Held until the index is open again.
    let mut held = match dir.exists() {
        true => None,
        false => Some(leave(writer, "is being replaced")?),
    };
    match Index::open(&dir, dim).await {
        Ok(index) if built_with.as_deref() == Some(model_id) => {
            return Ok(OpenIndex { index, generation });
        }
        Ok(_)
        | Err(moodshelf_index::Error::Dimension { .. } | moodshelf_index::Error::Schema { .. }) => {
            if held.is_none() {
                held = Some(leave(writer, "was built for another embedding model")?);
            }
            tracing::info!("embedding model or table layout changed; the index is rebuilt");
            catalog.forget_index().await?;
            Index::recreate(&dir, dim).await?;
        }
        Err(e) => {
            if held.is_none() {
                held = Some(leave(writer, &format!("cannot be opened ({e})"))?);
            }
            let aside = dir.with_extension("damaged");
            tracing::warn!(
                "the index at {} cannot be opened ({e}); it is moved to {} and rebuilt",
                dir.display(),
                aside.display()
            );
            let _ = std::fs::remove_dir_all(&aside);
            std::fs::rename(&dir, &aside).map_err(|io| {
                Error::new(
                    Code::Internal,
                    format!("the index cannot be opened ({e}) nor set aside: {io}"),
                )
            })?;
            catalog.forget_index().await?;
        }
    }
    catalog.set_setting(INDEX_MODEL_KEY, model_id).await?;
    let generation = bump(catalog).await?;
    let index = Index::open(&dir, dim).await?;
    drop(held);
    Ok(OpenIndex { index, generation })
}

fn next_dir(paths: &Paths) -> PathBuf {
    paths.index().with_extension("next")
}

fn old_dir(paths: &Paths) -> PathBuf {
    paths.index().with_extension("old")
}

/// Starts an empty index beside the live one, for a rebuild to fill; the
/// catalog forgets what is indexed, so every item is embedded into it.
/// The caller holds the writer lock.
pub async fn begin_rebuild(paths: &Paths, catalog: &Catalog, dim: usize) -> Result<Index> {
    let next = next_dir(paths);
    if next.exists() {
        std::fs::remove_dir_all(&next).map_err(|e| io("remove", &next, e))?;
    }
    let index = Index::recreate(&next, dim).await?;
    catalog.forget_index().await?;
    Ok(index)
}

/// Puts the rebuilt index in place of the live one and tells readers. The
/// caller holds the writer lock and has dropped its handles to both.
pub async fn swap_in(paths: &Paths, catalog: &Catalog, model_id: &str) -> Result<()> {
    let (live, old, next) = (paths.index(), old_dir(paths), next_dir(paths));
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| io("remove", &old, e))?;
    }
    if live.exists() {
        std::fs::rename(&live, &old).map_err(|e| io("set aside", &live, e))?;
    }
    std::fs::rename(&next, &live).map_err(|e| io("move in", &next, e))?;
    catalog.set_setting(INDEX_MODEL_KEY, model_id).await?;
    bump(catalog).await?;
    if let Err(e) = std::fs::remove_dir_all(&old) {
        tracing::warn!("the replaced index at {} stays: {e}", old.display());
    }
    Ok(())
}

/// Finishes what an interrupted rebuild left (a crash, a cancel, a full
/// disk), so the live index is whole and the catalog's marks name its rows.
/// The caller holds the writer lock.
pub async fn recover(paths: &Paths, catalog: &Catalog) -> Result<()> {
    let (live, old, next) = (paths.index(), old_dir(paths), next_dir(paths));
    if next.exists() {
        // Stopped before its swap: the live index (or the one set aside for
        // the swap) stands, and every item is embedded into it again, since
        // the catalog marked rows only the unfinished index has.
        tracing::warn!("an index rebuild was interrupted; the previous index is used");
        if !live.exists() && old.exists() {
            std::fs::rename(&old, &live).map_err(|e| io("restore", &old, e))?;
        }
        std::fs::remove_dir_all(&next).map_err(|e| io("remove", &next, e))?;
        catalog.forget_index().await?;
        bump(catalog).await?;
    } else if old.exists() {
        // Swapped, not yet tidied (perhaps not yet told: readers reopen).
        std::fs::remove_dir_all(&old).map_err(|e| io("remove", &old, e))?;
        bump(catalog).await?;
    }
    Ok(())
}
