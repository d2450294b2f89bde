//! The main window, as the tray, a second start and the setup bring it
//! forward.

use tauri::{AppHandle, Manager};

/// Shows the main window, unminimised and focused.
pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}
