//! Playlist commands: making one from a request or a journey between two
//! tracks, saving the tracks shown where the person chooses, and handing
//! them to the system's player.

use moodshelf_engine::Library;
use moodshelf_engine::playlist::{self as pl, Format, Playlist, PlaylistRequest, Shape};
use moodshelf_llm::Cancel;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::dto::{
    AppError, AppResult, ErrorCode, PlaylistFormat, PlaylistShape, PlaylistSource, PlaylistView,
    engine_err,
};
use crate::state::{AppState, now_moment};

type S<'a> = State<'a, AppState>;

/// Makes a playlist from a request or a journey between two tracks.
#[tauri::command]
#[specta::specta]
pub async fn make_playlist(
    state: S<'_>,
    source: PlaylistSource,
    shape: PlaylistShape,
) -> AppResult<PlaylistView> {
    let lib = state.library().await;
    let (source, minutes) = match source {
        PlaylistSource::Request { text, minutes } => request_source(text, minutes)?,
        PlaylistSource::Journey {
            from_id,
            to_id,
            steps,
        } => (journey_source(&lib, from_id, to_id, steps).await?, None),
    };
    let req = PlaylistRequest {
        source,
        minutes,
        shape: shape.into(),
    };
    let list = lib.playlist(&req, &Cancel::default()).await?;
    Ok(PlaylistView::from(&list))
}

/// A playlist for a request, filled to `minutes` when given.
fn request_source(
    text: String,
    minutes: Option<f64>,
) -> AppResult<(pl::PlaylistSource, Option<f64>)> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "say what the playlist is for",
        ));
    }
    if let Some(m) = minutes
        && !(1.0..=24.0 * 60.0).contains(&m)
    {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "a playlist lasts between 1 minute and 24 hours",
        ));
    }
    Ok((
        pl::PlaylistSource::Request {
            text,
            moment: now_moment(),
        },
        minutes,
    ))
}

/// A journey from one track of the library to another.
async fn journey_source(
    lib: &Library,
    from_id: i64,
    to_id: i64,
    steps: u32,
) -> AppResult<pl::PlaylistSource> {
    let views = lib
        .catalog()
        .items_by_ids(&[from_id, to_id])
        .await
        .map_err(engine_err)?;
    let path = |id: i64| {
        views
            .iter()
            .find(|v| v.id == id)
            .map(|v| moodshelf_engine::names::decode(&v.path))
            .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("no item {id}")))
    };
    Ok(pl::PlaylistSource::Journey {
        from: path(from_id)?,
        to: path(to_id)?,
        steps: steps.clamp(1, 50) as usize,
    })
}

/// Saves the tracks shown, in their order, where the person chooses in
/// the system's save dialog; returns the file, or `None` when cancelled.
/// The webview never names the file: a page that could would write
/// anywhere.
#[tauri::command]
#[specta::specta]
pub async fn save_playlist(
    app: AppHandle,
    state: S<'_>,
    ids: Vec<i64>,
    title: String,
    format: PlaylistFormat,
) -> AppResult<Option<String>> {
    let lib = state.library().await;
    let list = tracks_playlist(&lib, ids).await?;
    let format = Format::from(format);
    let title = title.trim();
    let title = if title.is_empty() { "Playlist" } else { title };
    let file_name = format!("{}.{}", file_stem(title), format.extension());
    let start_dir = lib.roots().await?.into_iter().next().map(|r| r.path);
    let picked = tauri::async_runtime::spawn_blocking(move || {
        let mut dialog = app
            .dialog()
            .file()
            .set_title("Save playlist")
            .set_file_name(file_name)
            .add_filter("Playlist", &[format.extension()]);
        if let Some(dir) = start_dir {
            dialog = dialog.set_directory(dir);
        }
        dialog.blocking_save_file()
    })
    .await
    .map_err(AppError::internal)?;
    let Some(file) = picked.and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    lib.save_playlist(&list, title, &file, format).await?;
    Ok(Some(file.display().to_string()))
}

/// Hands the tracks shown, in their order, to the system's default player
/// as an M3U8 list kept in the data folder (replaced each time).
#[tauri::command]
#[specta::specta]
pub async fn play_playlist(app: AppHandle, state: S<'_>, ids: Vec<i64>) -> AppResult<String> {
    let lib = state.library().await;
    let list = tracks_playlist(&lib, ids).await?;
    let dir = state.paths.data_dir.join("playlists");
    std::fs::create_dir_all(&dir).map_err(|e| {
        AppError::new(
            ErrorCode::Internal,
            format!("cannot create {}: {e}", dir.display()),
        )
    })?;
    let file = dir.join("now-playing.m3u8");
    lib.save_playlist(&list, "Now playing", &file, Format::M3u8)
        .await?;
    app.opener()
        .open_path(file.display().to_string(), None::<&str>)
        .map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!(
                    "no player took the playlist ({e}); it is saved at {}",
                    file.display()
                ),
            )
        })?;
    Ok(file.display().to_string())
}

/// The library's tracks with these ids, in this order.
async fn tracks_playlist(lib: &Library, ids: Vec<i64>) -> AppResult<Playlist> {
    let req = PlaylistRequest {
        source: pl::PlaylistSource::Tracks(ids),
        minutes: None,
        shape: Shape::Steady,
    };
    Ok(lib.playlist(&req, &Cancel::default()).await?)
}

/// A title as a file name: path separators and control characters out,
/// at most 80 characters.
fn file_stem(title: &str) -> String {
    let stem: String = title
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                ' '
            } else {
                c
            }
        })
        .take(80)
        .collect();
    // No hidden files: leading dots go too.
    let stem = stem.trim_start_matches(['.', ' ']).trim_end();
    if stem.is_empty() {
        "Playlist".into()
    } else {
        stem.into()
    }
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn playlist_titles_become_safe_file_names() {
        assert_eq!(
            file_stem("calm music / for cooking"),
            "calm music   for cooking"
        );
        assert_eq!(file_stem("../../.bashrc"), "bashrc");
        assert_eq!(file_stem("\n\t"), "Playlist");
        assert_eq!(file_stem(&"x".repeat(300)).len(), 80);
    }
}
