//! The window's person commands: who asks (the profile switch), their
//! taste in words with its corrections ("Your taste"), importing a
//! listening history, and the plays the window records.

use moodshelf_engine::taste::{TastePart, TasteProfile};
use serde::Serialize;
use specta::Type;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt as _;

use crate::dto::{AppError, AppResult};
use crate::state::{AppState, now_unix};

type S<'a> = State<'a, AppState>;

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct People {
    pub names: Vec<String>,
    /// Who asks now.
    pub asking: String,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct TastePartView {
    /// "genre", "creator", "era" or "theme".
    pub facet: String,
    pub value: String,
    pub works: u32,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct KindTasteView {
    pub kind: String,
    pub works: u32,
    /// The whole of it in words.
    pub words: String,
    pub comes_back_to: Vec<TastePartView>,
    pub avoids: Vec<TastePartView>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct TasteView {
    pub person: String,
    pub kinds: Vec<KindTasteView>,
    pub across_kinds: Vec<String>,
    pub forgotten: Vec<TastePartView>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct HistoryImport {
    /// What was imported, in a sentence.
    pub summary: String,
    /// Why the rest was not, a line per reason.
    pub unmatched: Vec<String>,
}

fn part(p: &TastePart) -> TastePartView {
    TastePartView {
        facet: p.facet.clone(),
        value: p.value.clone(),
        works: p.works.min(u32::MAX as usize) as u32,
    }
}

fn view(t: TasteProfile) -> TasteView {
    TasteView {
        person: t.person.name,
        kinds: t
            .kinds
            .iter()
            .map(|k| KindTasteView {
                kind: k.kind.clone(),
                works: k.works.min(u32::MAX as usize) as u32,
                words: k.words.clone(),
                comes_back_to: k.comes_back_to.iter().map(part).collect(),
                avoids: k.avoids.iter().map(part).collect(),
            })
            .collect(),
        across_kinds: t.across_kinds.iter().map(|p| p.value.clone()).collect(),
        forgotten: t
            .forgotten
            .iter()
            .map(|f| TastePartView {
                facet: f.facet.clone(),
                value: f.value.clone(),
                works: 0,
            })
            .collect(),
    }
}

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

/// Records that the window opened an item: a play in its history.
pub async fn opened(state: &AppState, id: i64) {
    let lib = state.library().await;
    if let Err(e) = lib.played(id, now_unix()).await {
        tracing::warn!("recording a play of item {id}: {}", e.message);
    }
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
    Ok(view(state.library().await.taste(None).await?))
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
    Ok(view(lib.taste(None).await?))
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
    Ok(Some(HistoryImport {
        summary: format!(
            "{} export: {} listens, {} matched to {} tracks",
            r.service.as_str(),
            r.listens,
            r.matched,
            r.tracks
        ),
        unmatched: r
            .unmatched
            .iter()
            .map(|(why, n)| format!("{n} not matched: {}", why.says()))
            .collect(),
    }))
}
