//! One item of the library as the host opens it, for the window's
//! commands and the tray alike: where its file is (when it is reachable)
//! and recording that it was opened.

use std::path::PathBuf;

use crate::dto::{AppError, AppResult, ErrorCode, engine_err};
use crate::state::{AppState, now_unix};

/// The file of item `id`, when its folder is reachable now.
pub async fn path(state: &AppState, id: i64) -> AppResult<PathBuf> {
    let lib = state.library().await;
    let views = lib
        .catalog()
        .items_by_ids(&[id])
        .await
        .map_err(engine_err)?;
    let view = views
        .into_iter()
        .next()
        .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("no item {id}")))?;
    let path = moodshelf_engine::names::decode(&view.path);
    if !view.available || !path.exists() {
        return Err(AppError::new(
            ErrorCode::LibraryUnavailable,
            format!(
                "{} is not reachable now (is its drive connected?)",
                moodshelf_engine::names::display(&view.path)
            ),
        ));
    }
    Ok(path)
}

/// Records that an item was opened: a play in its history.
pub async fn opened(state: &AppState, id: i64) {
    let lib = state.library().await;
    if let Err(e) = lib.played(id, now_unix()).await {
        tracing::warn!("recording a play of item {id}: {}", e.message);
    }
}
