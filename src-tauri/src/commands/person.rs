//! The window's person commands: who asks (the profile switch), their
//! taste in words with its corrections ("Your taste"), and importing a
//! listening history. (Plays the window records are in
//! [`crate::items::opened`].)

use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt as _;

use crate::dto::{AppError, AppResult, HistoryImport, People, TasteView};
use crate::state::{AppState, now_unix};

type S<'a> = State<'a, AppState>;

async fn people_now(state: &AppState) -> AppResult<People> {
    let lib = state.library().await;
    Ok(People {
        names: lib
            .catalog()
            .people()
            .await
            .map_err(AppError::internal)?
            .into_iter()
            .map(|p| p.name)
            .collect(),
        asking: lib.person().await?.name,
    })
}

/// Everyone who shares the library, and who asks.
#[tauri::command]
#[specta::specta]
pub async fn people(state: S<'_>) -> AppResult<People> {
    people_now(&state).await
}

/// Adds a person (without switching to them).
#[tauri::command]
#[specta::specta]
pub async fn add_person(state: S<'_>, name: String) -> AppResult<People> {
    {
        let lib = state.library().await;
        lib.catalog()
            .add_person(&name, now_unix())
            .await
            .map_err(|e| AppError::from(moodshelf_engine::Error::from(e)))?;
    }
    people_now(&state).await
}

/// Asks as `name` from now on.
#[tauri::command]
#[specta::specta]
pub async fn use_person(state: S<'_>, name: String) -> AppResult<People> {
    state.library().await.use_person(&name).await?;
    people_now(&state).await
}

/// The taste of whoever asks, in words.
#[tauri::command]
#[specta::specta]
pub async fn taste(state: S<'_>) -> AppResult<TasteView> {
    Ok(TasteView::from(state.library().await.taste(None).await?))
}

/// Forgets (or restores) one part of the taste; returns the taste now.
#[tauri::command]
#[specta::specta]
pub async fn forget_taste(
    state: S<'_>,
    facet: String,
    value: String,
    forget: bool,
) -> AppResult<TasteView> {
    let lib = state.library().await;
    lib.forget_taste(&facet, &value, forget, now_unix()).await?;
    Ok(TasteView::from(lib.taste(None).await?))
}

/// Asks for a ListenBrainz or Last.fm export and imports it into the
/// history of whoever asks; `None` when no file was chosen.
#[tauri::command]
#[specta::specta]
pub async fn import_history(app: AppHandle, state: S<'_>) -> AppResult<Option<HistoryImport>> {
    let picked = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_title("Import a ListenBrainz or Last.fm history")
            .add_filter("Listening history", &["json", "jsonl", "csv"])
            .blocking_pick_file()
    })
    .await
    .map_err(AppError::internal)?;
    let Some(path) = picked.and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    let lib = state.library().await;
    let r = lib.import_history(&path, now_unix()).await?;
    Ok(Some(HistoryImport::from(r)))
}
