//! The Moodshelf desktop host: a thin Tauri 2 layer over
//! `moodshelf-engine`. Commands live in [`commands`] (a file per domain),
//! what crosses the IPC boundary and how engine values become it in
//! [`dto`] (exported to `ui/src/lib/bindings.ts`), what the host keeps
//! between commands in [`state`], long work (scans, the watcher, the
//! background work) in [`jobs`], the tray in [`tray`], cover art in
//! [`covers`]; [`items`] finds and opens an item for the commands and the
//! tray alike, [`window`] brings the window forward.
//!
//! Modules depend one way: `commands` and `tray` on `jobs`, `items`,
//! `state` and `dto`; `jobs` on `state` and `dto`; `state` on `dto`. The
//! tray is told of changes through `state`'s channels, never called.

pub mod commands;
mod covers;
pub mod dto;
mod items;
pub mod jobs;
pub mod state;
mod tray;
mod window;

use std::path::Path;

use tauri::{App, Manager, WindowEvent};
use tauri_plugin_autostart::MacosLauncher;

use crate::dto::{LibraryChanged, LibraryNote, ScanStatus};
use crate::state::AppState;
pub use crate::window::show_main;

/// Where the generated bindings live, from the repository root.
pub const BINDINGS_PATH: &str = "ui/src/lib/bindings.ts";

/// How often the tray's quick picks are recomputed (time moves on).
const TRAY_REFRESH: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Every command and event the window may use, for the invoke handler
/// and the TypeScript bindings alike.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    use commands::*;
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            library_status,
            pick_folder,
            add_folder,
            remove_folder,
            scan_now,
            cancel_scan,
            file_errors,
            ask,
            stop_answer,
            feedback,
            conversations,
            conversation,
            open_item,
            reveal_item,
            item_details,
            explain_more,
            suggestions,
            models,
            fetch_models,
            cancel_fetch,
            choose_reasoning_model,
            set_reasoning_endpoint,
            get_settings,
            set_settings,
            pause_watching,
            make_playlist,
            save_playlist,
            play_playlist,
            people,
            add_person,
            use_person,
            taste,
            forget_taste,
            import_history,
        ])
        .events(tauri_specta::collect_events![
            ScanStatus,
            LibraryNote,
            LibraryChanged
        ])
        // Ids and counts stay far below 2^53.
        .dangerously_cast_bigints_to_number()
        // One TypeScript type per Rust type (the types are not asymmetric).
        .disable_serde_phases()
}

/// Writes the TypeScript bindings to `path`.
pub fn export_bindings(path: &Path) -> Result<(), String> {
    specta_builder()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated from src-tauri by tauri-specta: do not edit.\n// Regenerate with `UPDATE_BINDINGS=1 cargo test -p moodshelf-desktop bindings`.\n"),
            path,
        )
        .map_err(|e| e.to_string())
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                format!(
                    "info,tao=warn,wry=warn,{}",
                    moodshelf_engine::QUIET_THIRD_PARTIES
                )
                .into()
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let hidden_arg = std::env::args().any(|a| a == "--hidden");
    let builder = specta_builder();
    let app = tauri::Builder::default()
        // First, so a second start only brings this window forward.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            show_main(app)
        }))
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .invoke_handler(builder.invoke_handler())
        .register_asynchronous_uri_scheme_protocol("cover", covers::protocol)
        .setup(move |app| {
            builder.mount_events(app);
            setup(app, hidden_arg)
        })
        .on_window_event(|window, event| {
            // Closing the window keeps the app in the tray when there is one.
            if let WindowEvent::CloseRequested { api, .. } = event
                && window.app_handle().state::<HasTray>().0
            {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            eprintln!("moodshelf-desktop: {e}");
            std::process::exit(1);
        }
    }
}

/// Opens the library, builds the tray, shows the window unless it starts
/// hidden (in the tray), and starts the background work.
fn setup(app: &mut App, hidden_arg: bool) -> Result<(), Box<dyn std::error::Error>> {
    let paths = moodshelf_engine::Paths::resolve(None, None).map_err(|e| e.message)?;
    let state = tauri::async_runtime::block_on(AppState::open(paths))
        .map_err(|e| format!("cannot open the library: {}", e.message))?;
    let hidden = hidden_arg || state.prefs().start_hidden;
    app.manage(state);
    let has_tray = match tray::build(app.handle()) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("no tray icon on this desktop: {e}");
            false
        }
    };
    app.manage(HasTray(has_tray));
    if !hidden || !has_tray {
        show_main(app.handle());
    }
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        jobs::start_watching(&handle).await;
        jobs::warm_up_model(&handle);
        jobs::start_background(&handle);
        loop {
            tray::refresh(&handle).await;
            tokio::time::sleep(TRAY_REFRESH).await;
        }
    });
    Ok(())
}

struct HasTray(bool);

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed bindings match the Rust types; CI fails when they
    /// drift. `UPDATE_BINDINGS=1` rewrites them.
    #[test]
    fn bindings_are_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let committed = root.join(BINDINGS_PATH);
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            export_bindings(&committed).unwrap();
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("bindings.ts");
        export_bindings(&fresh).unwrap();
        let fresh = std::fs::read_to_string(fresh).unwrap();
        let old = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            fresh == old,
            "{} is out of date: run `UPDATE_BINDINGS=1 cargo test -p moodshelf-desktop bindings` and commit it",
            committed.display()
        );
    }
}
