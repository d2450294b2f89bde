//! The tray: quick picks for now (from the fast path, so the menu never
//! waits on the model), "Surprise me", the scan status, open, pause
//! watching, quit. On Linux a tray menu can be changed but not replaced,
//! so the pick entries are fixed slots whose text changes.

use std::sync::atomic::Ordering;

use moodshelf_engine::{Mode, RecommendRequest};
use moodshelf_llm::Cancel;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_opener::OpenerExt as _;
use tauri_specta::Event;

use crate::dto::LibraryChanged;
use crate::state::{self, AppState, now_moment};

/// Quick-pick entries in the menu.
const PICK_SLOTS: usize = 4;
/// Menu text is cut here: tray menus are narrow.
const MAX_TEXT: usize = 60;

struct TrayItems<R: Runtime> {
    picks: Vec<MenuItem<R>>,
    /// "Continue: …": the next of the series used most lately.
    next: MenuItem<R>,
    scan: MenuItem<R>,
    pause: CheckMenuItem<R>,
}

pub fn build(app: &AppHandle) -> Result<(), Box<dyn std::error::Error>> {
    let header = MenuItem::with_id(app, "header", "Quick picks for now", false, None::<&str>)?;
    let picks = (0..PICK_SLOTS)
        .map(|i| MenuItem::with_id(app, format!("pick-{i}"), "…", false, None::<&str>))
        .collect::<tauri::Result<Vec<_>>>()?;
    let next = MenuItem::with_id(app, "continue", "Continue: …", false, None::<&str>)?;
    let surprise = MenuItem::with_id(app, "surprise", "Surprise me", true, None::<&str>)?;
    let scan = MenuItem::with_id(app, "scan", "Idle", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Moodshelf", true, None::<&str>)?;
    let pause = CheckMenuItem::with_id(app, "pause", "Pause watching", true, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep1 = PredefinedMenuItem::separator(app)?;
    let sep2 = PredefinedMenuItem::separator(app)?;
    let mut items: Vec<&dyn tauri::menu::IsMenuItem<tauri::Wry>> = vec![&header];
    items.extend(
        picks
            .iter()
            .map(|p| p as &dyn tauri::menu::IsMenuItem<tauri::Wry>),
    );
    items.extend([
        &next as &dyn tauri::menu::IsMenuItem<tauri::Wry>,
        &surprise,
        &sep1,
        &scan,
        &open,
        &pause,
        &sep2,
        &quit,
    ]);
    let menu = Menu::with_items(app, &items)?;
    let icon = app.default_window_icon().cloned().ok_or("no app icon")?;
    TrayIconBuilder::with_id("main")
        .icon(icon)
        .tooltip("Moodshelf")
        .menu(&menu)
        .on_menu_event(|app, event| {
            let app = app.clone();
            let id = event.id.as_ref().to_string();
            tauri::async_runtime::spawn(async move { on_menu(&app, &id).await });
        })
        .build(app)?;
    app.manage(TrayItems {
        picks,
        next,
        scan,
        pause,
    });
    Ok(())
}

async fn on_menu(app: &AppHandle, id: &str) {
    let state = app.state::<AppState>();
    match id {
        "surprise" => {
            if let Some(item) = surprise(&state).await {
                open(app, item).await;
            }
        }
        "open" => crate::show_main(app),
        "pause" => {
            let paused = !state.watching_paused.load(Ordering::Relaxed);
            set_paused(app, &state, paused).await;
        }
        "quit" => app.exit(0),
        other => {
            let item = state
                .tray_picks
                .lock()
                .expect("tray lock")
                .get(other)
                .copied();
            if let Some(item) = item {
                open(app, item).await;
            }
        }
    }
}

async fn open(app: &AppHandle, item: i64) {
    let state = app.state::<AppState>();
    match crate::commands::item_path(&state, item).await {
        Ok(path) => {
            match app
                .opener()
                .open_path(path.display().to_string(), None::<&str>)
            {
                Ok(()) => crate::person::opened(&state, item).await,
                Err(e) => tracing::warn!("opening {}: {e}", path.display()),
            }
        }
        Err(e) => tracing::warn!("opening item {item}: {}", e.message),
    }
}

/// Picks `limit` items for `prompt` from the fast path, without storing a
/// conversation.
async fn fast_picks(state: &AppState, prompt: &str, limit: usize) -> Vec<(i64, String)> {
    let lib = state.library().await;
    let mut req = RecommendRequest::new(prompt, now_moment());
    req.mode = Mode::Rules;
    req.remember = false;
    req.limit = limit;
    req.included_kinds = state.prefs().included_kinds();
    match lib.recommend(&req, &Cancel::default(), &mut |_| {}).await {
        Ok(rec) => rec
            .items
            .iter()
            .map(|p| {
                let text = match &p.item.creator {
                    Some(c) => format!("{} — {c}", p.item.title),
                    None => p.item.title.clone(),
                };
                (p.item.id, text)
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

async fn surprise(state: &AppState) -> Option<i64> {
    let lib = state.library().await;
    let ctx = state::context_now(&lib);
    let prompt = format!(
        "something good for this {} {}",
        ctx.season.as_str(),
        ctx.day_part.as_str()
    );
    let picks = fast_picks(state, &prompt, 20).await;
    if picks.is_empty() {
        return None;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as usize)
        .unwrap_or(0);
    Some(picks[nanos % picks.len()].0)
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_TEXT {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(MAX_TEXT - 1).collect();
        s.push('…');
        s
    }
}

/// Recomputes the quick picks for now.
pub async fn refresh(app: &AppHandle) {
    let Some(items) = app.try_state::<TrayItems<tauri::Wry>>() else {
        return;
    };
    let state = app.state::<AppState>();
    let lib = state.library().await;
    let suggestions = moodshelf_engine::suggestions(&state::context_now(&lib));
    let mut used = Vec::new();
    let mut map = std::collections::BTreeMap::new();
    for (i, slot) in items.picks.iter().enumerate() {
        let Some(s) = suggestions.get(i) else {
            let _ = slot.set_text("");
            let _ = slot.set_enabled(false);
            continue;
        };
        let picks = fast_picks(&state, &s.prompt, 5).await;
        match picks.into_iter().find(|(id, _)| !used.contains(id)) {
            Some((id, text)) => {
                used.push(id);
                map.insert(format!("pick-{i}"), id);
                let _ = slot.set_text(cut(&format!("{}: {text}", s.label)));
                let _ = slot.set_enabled(true);
            }
            None => {
                let _ = slot.set_text(cut(&format!("{}: nothing yet", s.label)));
                let _ = slot.set_enabled(false);
            }
        }
    }
    continue_slot(&items.next, &lib, &mut map).await;
    *state.tray_picks.lock().expect("tray lock") = map;
}

pub fn show_scan(app: &AppHandle, summary: &str) {
    if let Some(items) = app.try_state::<TrayItems<tauri::Wry>>() {
        let _ = items.scan.set_text(cut(summary));
    }
}

pub async fn set_paused(app: &AppHandle, state: &AppState, paused: bool) {
    state.watching_paused.store(paused, Ordering::Relaxed);
    if paused {
        state.stop_watching().await;
    } else {
        state::start_watching(app).await;
    }
    if let Some(items) = app.try_state::<TrayItems<tauri::Wry>>() {
        let _ = items.pause.set_checked(paused);
    }
    let _ = LibraryChanged {
        added: 0,
        removed: 0,
    }
    .emit(app);
}

/// "Continue: …" names the next of the series used most lately.
async fn continue_slot(
    slot: &MenuItem<tauri::Wry>,
    lib: &moodshelf_engine::Library,
    map: &mut std::collections::BTreeMap<String, i64>,
) {
    let next = lib.next_up().await.ok().and_then(|n| n.into_iter().next());
    let title = match &next {
        Some(n) => lib
            .catalog()
            .items_by_ids(&[n.item_id])
            .await
            .ok()
            .and_then(|v| v.into_iter().next())
            .map(|v| format!("Continue: {} ({})", v.title, n.place)),
        None => None,
    };
    match (next, title) {
        (Some(n), Some(text)) => {
            map.insert("continue".into(), n.item_id);
            let _ = slot.set_text(cut(&text));
            let _ = slot.set_enabled(true);
        }
        _ => {
            let _ = slot.set_text("Continue: nothing begun");
            let _ = slot.set_enabled(false);
        }
    }
}
