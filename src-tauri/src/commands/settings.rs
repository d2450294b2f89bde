//! Settings commands: the hemisphere (in the engine's `settings.toml`)
//! and the host's preferences (kinds, the model, starting with the system,
//! starting hidden).

use moodshelf_engine::{Hemisphere, RawSettings};
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt as _;

use crate::dto::{AppError, AppResult, AppSettings, ErrorCode, hemisphere_name};
use crate::jobs;
use crate::state::{AppState, Prefs, in_kind_order};

type S<'a> = State<'a, AppState>;

#[tauri::command]
#[specta::specta]
pub async fn get_settings(app: AppHandle, state: S<'_>) -> AppResult<AppSettings> {
    let lib = state.library().await;
    let prefs = state.prefs();
    Ok(AppSettings {
        hemisphere: hemisphere_name(lib.settings().hemisphere),
        kinds: prefs.kinds,
        use_model: prefs.use_model,
        autostart: app.autolaunch().is_enabled().unwrap_or(prefs.autostart),
        start_hidden: prefs.start_hidden,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn set_settings(app: AppHandle, state: S<'_>, settings: AppSettings) -> AppResult<()> {
    let kinds = in_kind_order(&settings.kinds);
    if kinds.is_empty() {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "include at least one kind",
        ));
    }
    let hemisphere: Hemisphere = settings
        .hemisphere
        .parse()
        .map_err(|e: String| AppError::new(ErrorCode::InvalidInput, e))?;
    let current = state.library().await.settings().clone();
    // A settings.toml that could not be used is rewritten (repaired) by any
    // save; the broken one is kept beside it.
    if hemisphere != current.hemisphere || current.problem.is_some() {
        let mut raw = RawSettings::read_for_update(&state.paths)?;
        raw.recommend.hemisphere = Some(settings.hemisphere.clone());
        raw.write(&state.paths)?;
        jobs::reopen(&app).await?;
    }
    let autolaunch = app.autolaunch();
    let autostart_result = if settings.autostart {
        autolaunch.enable()
    } else {
        autolaunch.disable()
    };
    let prefs = Prefs {
        kinds,
        use_model: settings.use_model,
        autostart: settings.autostart,
        start_hidden: settings.start_hidden,
    };
    prefs.save(&state.paths)?;
    state.set_prefs(prefs);
    state.picks_stale();
    autostart_result.map_err(|e| {
        AppError::new(
            ErrorCode::Internal,
            format!("settings saved, but starting with the system could not be changed: {e}"),
        )
    })
}
