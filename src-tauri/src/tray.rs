//! The tray: quick picks for now (from the fast path, so the menu never
//! waits on the model), "Surprise me", the scan status, open, pause
//! watching, quit. On Linux a tray menu can be changed but not replaced,
//! so the pick entries are fixed slots whose text changes.
//!
//! The tray follows the host without being called by it: it subscribes to
//! [`AppState`]'s scan status, watching pause and "picks are stale"
//! channels when it is built.

use std::collections::BTreeMap;
use std::sync::Mutex;

use moodshelf_engine::{Library, Mode, RecommendRequest};
use moodshelf_llm::Cancel;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, Wry};
use tauri_plugin_opener::OpenerExt as _;

use crate::jobs;
use crate::state::{AppState, context_now, now_moment};

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
    /// Item ids behind the quick-pick entries, by menu id.
    targets: Mutex<BTreeMap<String, i64>>,
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
    let mut items: Vec<&dyn IsMenuItem<Wry>> = vec![&header];
    items.extend(picks.iter().map(|p| p as &dyn IsMenuItem<Wry>));
    items.extend([
        &next as &dyn IsMenuItem<Wry>,
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
        targets: Mutex::new(BTreeMap::new()),
    });
    follow(app);
    Ok(())
}

/// Keeps the menu in step with the host: the scan line, the pause check
/// and, when picks went stale, the quick picks.
fn follow(app: &AppHandle) {
    let state = app.state::<AppState>();
    let mut scan = state.subscribe_scan();
    let mut paused = state.subscribe_paused();
    let mut stale = state.subscribe_stale();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let summary = scan.borrow_and_update().summary.clone();
            show_scan(&handle, &summary);
            if scan.changed().await.is_err() {
                break;
            }
        }
    });
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let now = *paused.borrow_and_update();
            if let Some(items) = handle.try_state::<TrayItems<Wry>>() {
                let _ = items.pause.set_checked(now);
            }
            if paused.changed().await.is_err() {
                break;
            }
        }
    });
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while stale.changed().await.is_ok() {
            refresh(&handle).await;
        }
    });
}

async fn on_menu(app: &AppHandle, id: &str) {
    let state = app.state::<AppState>();
    match id {
        "surprise" => {
            if let Some(item) = surprise(&state).await {
                open(app, item).await;
            }
        }
        "open" => crate::window::show_main(app),
        "pause" => {
            let paused = !state.is_paused();
            jobs::set_paused(app, &state, paused).await;
        }
        "quit" => app.exit(0),
        other => {
            let item = app
                .try_state::<TrayItems<Wry>>()
                .and_then(|items| items.targets.lock().expect("tray lock").get(other).copied());
            if let Some(item) = item {
                open(app, item).await;
            }
        }
    }
}

async fn open(app: &AppHandle, item: i64) {
    let state = app.state::<AppState>();
    match crate::items::path(&state, item).await {
        Ok(path) => {
            match app
                .opener()
                .open_path(path.display().to_string(), None::<&str>)
            {
                Ok(()) => crate::items::opened(&state, item).await,
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
    let ctx = context_now(&lib);
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
    let Some(items) = app.try_state::<TrayItems<Wry>>() else {
        return;
    };
    let state = app.state::<AppState>();
    let lib = state.library().await;
    let suggestions = moodshelf_engine::suggestions(&context_now(&lib));
    let mut used = Vec::new();
    let mut map = BTreeMap::new();
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
    *items.targets.lock().expect("tray lock") = map;
}

fn show_scan(app: &AppHandle, summary: &str) {
    if let Some(items) = app.try_state::<TrayItems<Wry>>() {
        let _ = items.scan.set_text(cut(summary));
    }
}

/// "Continue: …" names the next of the series used most lately.
async fn continue_slot(slot: &MenuItem<Wry>, lib: &Library, map: &mut BTreeMap<String, i64>) {
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
