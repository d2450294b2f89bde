//! Library commands: its status, the folders in it (add, remove, pick),
//! scans, files that could not be read, pausing the watcher, and opening
//! or showing one item's file.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::dto::{AppError, AppResult, Counts, ErrorCode, FileError, Folder, LibraryStatus};
use crate::jobs;
use crate::state::{AppState, now_unix};

type S<'a> = State<'a, AppState>;

#[tauri::command]
#[specta::specta]
pub async fn library_status(state: S<'_>) -> AppResult<LibraryStatus> {
    let lib = state.library().await;
    let st = lib.status().await?;
    let folders = st
        .roots
        .iter()
        .map(|r| {
            let watch = state.watch_state(&r.path, r.state == "ok");
            Folder::new(r.clone(), watch)
        })
        .collect();
    Ok(LibraryStatus {
        counts: Counts::from(&st),
        folders,
        scan: state.scan_status(),
        watching_paused: state.is_paused(),
        reasoning_ready: lib.settings().reasoning_model.is_file()
            || lib.settings().endpoint.is_some(),
        settings_problem: st.settings_problem.clone(),
    })
}

/// Opens the system folder picker; `None` when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn pick_folder(app: AppHandle) -> AppResult<Option<String>> {
    let picked = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_title("Add a folder to Moodshelf")
            .blocking_pick_folder()
    })
    .await
    .map_err(AppError::internal)?;
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.display().to_string()))
}

/// Adds a folder and scans it in the background.
#[tauri::command]
#[specta::specta]
pub async fn add_folder(app: AppHandle, state: S<'_>, path: String) -> AppResult<Folder> {
    let lib = state.library().await;
    let root = lib.add_root(Path::new(path.trim()), now_unix()).await?;
    jobs::start_scan(&app, Some(vec![PathBuf::from(&root.path)]))?;
    state.stop_watching().await;
    jobs::start_watching(&app).await;
    let watch = state.watch_state(&root.path, root.state == "ok");
    Ok(Folder::new(root, watch))
}

/// Removes a folder and its items (the files stay on disk). Returns how
/// many items left the library.
#[tauri::command]
#[specta::specta]
pub async fn remove_folder(app: AppHandle, state: S<'_>, path: String) -> AppResult<u32> {
    state.stop_watching().await;
    let removed = state.library().await.remove_root(Path::new(&path)).await;
    state.forget_watch_state(&path);
    jobs::start_watching(&app).await;
    state.picks_stale();
    Ok(removed? as u32)
}

#[tauri::command]
#[specta::specta]
pub async fn scan_now(app: AppHandle) -> AppResult<()> {
    jobs::start_scan(&app, None)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_scan(state: S<'_>) -> AppResult<bool> {
    Ok(state.cancel_scan())
}

#[tauri::command]
#[specta::specta]
pub async fn file_errors(state: S<'_>, limit: u32) -> AppResult<Vec<FileError>> {
    let errors = state.library().await.file_errors(limit as i64).await?;
    Ok(errors.into_iter().map(FileError::from).collect())
}

/// Opens or plays an item with the system's default app.
#[tauri::command]
#[specta::specta]
pub async fn open_item(app: AppHandle, state: S<'_>, id: i64) -> AppResult<()> {
    let path = crate::items::path(&state, id).await?;
    app.opener()
        .open_path(path.display().to_string(), None::<&str>)
        .map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("cannot open {}: {e}", path.display()),
            )
        })?;
    crate::items::opened(&state, id).await;
    Ok(())
}

/// Shows an item in the system's file manager.
#[tauri::command]
#[specta::specta]
pub async fn reveal_item(app: AppHandle, state: S<'_>, id: i64) -> AppResult<()> {
    let path = crate::items::path(&state, id).await?;
    app.opener().reveal_item_in_dir(&path).map_err(|e| {
        AppError::new(
            ErrorCode::Internal,
            format!("cannot show {}: {e}", path.display()),
        )
    })
}

/// Pauses or resumes watching the library folders.
#[tauri::command]
#[specta::specta]
pub async fn pause_watching(app: AppHandle, state: S<'_>, paused: bool) -> AppResult<()> {
    jobs::set_paused(&app, &state, paused).await;
    Ok(())
}
