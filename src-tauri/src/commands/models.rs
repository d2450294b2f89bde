//! Model commands: the models known and in use, fetching a profile's
//! models (and stopping that), choosing another reasoning model file, and
//! the reasoning endpoint on another machine.

use std::path::Path;

use moodshelf_engine::RawSettings;
use moodshelf_engine::models::{self, FetchOptions};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt as _;

use crate::dto::{AppError, AppResult, EndpointView, ErrorCode, FetchProgress, ModelEntry, Models};
use crate::jobs;
use crate::state::AppState;

type S<'a> = State<'a, AppState>;

#[tauri::command]
#[specta::specta]
pub async fn models(state: S<'_>) -> AppResult<Models> {
    let lib = state.library().await;
    let s = lib.settings();
    let entries = models::list(&state.paths.models_dir)
        .into_iter()
        .map(|(m, present)| {
            let path = state.paths.models_dir.join(&m.file);
            let in_use = path == s.embedding_model || path == s.reasoning_model;
            ModelEntry::new(m, present, in_use)
        })
        .collect();
    Ok(Models {
        dir: state.paths.models_dir.display().to_string(),
        models: entries,
        embedding_path: s.embedding_model.display().to_string(),
        reasoning_path: s.reasoning_model.display().to_string(),
        reasoning_present: s.reasoning_model.is_file(),
        reasoning_loaded: lib.generator_loaded().await,
        endpoint: s.endpoint.as_ref().map(EndpointView::from),
        memory_bytes: resident_bytes(),
    })
}

/// Fetches the models of a profile ("default" or "test"), with progress
/// on `on_event`; `cancel_fetch` stops it.
#[tauri::command]
#[specta::specta]
pub async fn fetch_models(
    app: AppHandle,
    state: S<'_>,
    profile: String,
    on_event: Channel<FetchProgress>,
) -> AppResult<()> {
    let specs = models::profile(&profile)?;
    let cancel = state
        .claim_fetch()
        .ok_or_else(|| AppError::new(ErrorCode::Busy, "models are already being fetched"))?;
    let opts = FetchOptions {
        models_dir: state.paths.models_dir.clone(),
        python: None,
        cancel,
    };
    let result = tauri::async_runtime::spawn_blocking(move || {
        models::fetch(&specs, &opts, &|ev| {
            let _ = on_event.send(FetchProgress::from(ev));
        })
    })
    .await
    .map_err(AppError::internal);
    state.fetch_ended();
    result??;
    jobs::reopen(&app).await
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_fetch(state: S<'_>) -> AppResult<bool> {
    Ok(state.cancel_fetch())
}

/// Uses another GGUF file as the reasoning model, asked for with the system
/// picker; returns the path chosen. The webview never names the path: a
/// page that could would make the host open any file as a model.
#[tauri::command]
#[specta::specta]
pub async fn choose_reasoning_model(app: AppHandle, state: S<'_>) -> AppResult<Option<String>> {
    let dialog_app = app.clone();
    let picked = tauri::async_runtime::spawn_blocking(move || {
        dialog_app
            .dialog()
            .file()
            .add_filter("GGUF model", &["gguf"])
            .blocking_pick_file()
    })
    .await
    .map_err(AppError::internal)?;
    let Some(path) = picked.and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    check_gguf(&path)?;
    let mut raw = RawSettings::read_for_update(&state.paths)?;
    raw.models.reasoning = Some(path.display().to_string());
    raw.write(&state.paths)?;
    jobs::reopen(&app).await?;
    Ok(Some(path.display().to_string()))
}

/// Sets (or, with an empty URL, removes) the reasoning endpoint. The key is
/// written to the settings file and never sent back to the window; `None`
/// keeps the key already there.
#[tauri::command]
#[specta::specta]
pub async fn set_reasoning_endpoint(
    app: AppHandle,
    state: S<'_>,
    url: String,
    model: Option<String>,
    api_key: Option<String>,
    plain_http: bool,
) -> AppResult<()> {
    let mut raw = RawSettings::read_for_update(&state.paths)?;
    let url = url.trim();
    if url.is_empty() {
        raw.models.reasoning_endpoint = None;
        raw.models.reasoning_endpoint_model = None;
        raw.models.reasoning_api_key = None;
        raw.models.reasoning_endpoint_plain_http = None;
    } else {
        raw.models.reasoning_endpoint = Some(url.to_string());
        // The window asks before it sends over plain http to another
        // machine (see the Models page).
        raw.models.reasoning_endpoint_plain_http = plain_http.then_some(true);
        raw.models.reasoning_endpoint_model = model
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty());
        if let Some(k) = api_key {
            raw.models.reasoning_api_key = Some(k.trim().to_string()).filter(|k| !k.is_empty());
        }
    }
    // Validates the URL before anything is written.
    raw.write(&state.paths)?;
    jobs::reopen(&app).await
}

/// A GGUF file starts with the bytes "GGUF".
fn check_gguf(path: &Path) -> AppResult<()> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    moodshelf_media::open_regular(path)
        .map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?
        .read_exact(&mut magic)
        .map_err(|e| AppError::new(ErrorCode::InvalidInput, format!("{}: {e}", path.display())))?;
    if &magic != b"GGUF" {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("{} is not a GGUF model file", path.display()),
        ));
    }
    Ok(())
}

/// Resident memory of this process in bytes, where the platform tells.
fn resident_bytes() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // statm: size resident shared ... in pages.
        if let Ok(s) = std::fs::read_to_string("/proc/self/statm")
            && let Some(pages) = s
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        {
            return pages * 4096;
        }
    }
    0
}
