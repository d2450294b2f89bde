//! The commands the window calls. Each is a few lines over the engine;
//! long work is started here and reported on a channel or by events.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use moodshelf_engine::models::{self, FetchEvent, FetchOptions};
use moodshelf_engine::recommend::intent::PickRef;
use moodshelf_engine::recommend::kind_plural;
use moodshelf_engine::{Hemisphere, Intent, Kind, Mode, RawSettings, RecEvent, RecommendRequest};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_dialog::DialogExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::dto::*;
use crate::state::{self, AppState, now_moment, now_unix};

type S<'a> = State<'a, AppState>;

#[tauri::command]
#[specta::specta]
pub async fn library_status(state: S<'_>) -> AppResult<LibraryStatus> {
    let lib = state.library().await;
    let st = lib.status().await?;
    let folders = st
        .roots
        .iter()
        .map(|r| Folder {
            path: r.path.clone(),
            watch: state.watch_state(&r.path, r.state == "ok"),
            last_scan_at: r.last_scan_at,
        })
        .collect();
    Ok(LibraryStatus {
        counts: Counts {
            music: st.music,
            books: st.books,
            videos: st.videos,
            files: st.files,
            file_errors: st.file_errors,
            pending_index: st.pending_index,
            unavailable: st.unavailable_items,
            heard_tracks: st.analyzed_tracks,
            unheard_tracks: st.unanalyzable_tracks,
        },
        folders,
        scan: state.scan_status(),
        watching_paused: state.watching_paused.load(Ordering::Relaxed),
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
    state::start_scan(&app, Some(vec![PathBuf::from(&root.path)]))?;
    state.stop_watching().await;
    state::start_watching(&app).await;
    Ok(Folder {
        watch: state.watch_state(&root.path, root.state == "ok"),
        path: root.path,
        last_scan_at: root.last_scan_at,
    })
}

/// Removes a folder and its items (the files stay on disk). Returns how
/// many items left the library.
#[tauri::command]
#[specta::specta]
pub async fn remove_folder(app: AppHandle, state: S<'_>, path: String) -> AppResult<u32> {
    state.stop_watching().await;
    let removed = state.library().await.remove_root(Path::new(&path)).await;
    state.watch_states.lock().expect("watch lock").remove(&path);
    state::start_watching(&app).await;
    crate::tray::refresh(&app).await;
    Ok(removed? as u32)
}

#[tauri::command]
#[specta::specta]
pub async fn scan_now(app: AppHandle) -> AppResult<()> {
    state::start_scan(&app, None)
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
    Ok(errors
        .into_iter()
        .map(|e| FileError {
            path: e.path,
            error: e.error,
        })
        .collect())
}

/// Answers a request; picks, the model's pieces and its reasons stream
/// on `on_event`, and the whole answer is returned at the end.
#[tauri::command]
#[specta::specta]
pub async fn ask(
    state: S<'_>,
    text: String,
    conversation_id: Option<i64>,
    on_event: Channel<AnswerEvent>,
) -> AppResult<Answer> {
    let lib = state.library().await;
    let prefs = state.prefs();
    let mut req = RecommendRequest::new(text, now_moment());
    req.conversation = conversation_id;
    req.included_kinds = prefs.included_kinds();
    // Picks and their reasons at once, from what was understood at index
    // time; the model explains a pick only when asked (`explain_more`).
    req.mode = Mode::Rules;
    let cancel = state.begin_answer();
    let mut forward = |ev: RecEvent| {
        let out = match ev {
            RecEvent::Intent(i) => AnswerEvent::Understood {
                phrases: understood(&i),
            },
            RecEvent::Picks(picks) => AnswerEvent::Picks {
                cards: picks.iter().map(Card::from).collect(),
            },
            RecEvent::Piece(text) => AnswerEvent::Piece { text },
            RecEvent::Why { id, why } => AnswerEvent::Why { id, why },
            RecEvent::Notice(message) => AnswerEvent::Notice { message },
        };
        let _ = on_event.send(out);
    };
    let rec = lib.recommend(&req, &cancel, &mut forward).await?;
    Ok(Answer {
        conversation_id: rec.conversation_id,
        cards: rec.items.iter().map(Card::from).collect(),
        understood: understood(&rec.intent),
        follow_up: rec.follow_up,
        explained_by: rec.explained_by,
        notices: rec.notices,
        first_picks_ms: rec.timings_ms.first_picks_ms,
        total_ms: rec.timings_ms.total_ms,
    })
}

/// Stops the model's explanation (Esc); the picks already shown stay.
#[tauri::command]
#[specta::specta]
pub async fn stop_answer(state: S<'_>) -> AppResult<bool> {
    Ok(state.stop_answer())
}

#[tauri::command]
#[specta::specta]
pub async fn feedback(
    state: S<'_>,
    item_id: i64,
    verdict: Verdict,
    request: Option<String>,
) -> AppResult<()> {
    let v = match verdict {
        Verdict::Like => moodshelf_catalog::Verdict::Like,
        Verdict::Dislike => moodshelf_catalog::Verdict::Dislike,
        Verdict::NotNow => moodshelf_catalog::Verdict::NotNow,
    };
    let lib = state.library().await;
    lib.feedback(item_id, v, request.as_deref(), now_unix())
        .await?;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn conversations(state: S<'_>) -> AppResult<Vec<ConversationSummary>> {
    let lib = state.library().await;
    let list = lib.catalog().conversations(50).await.map_err(engine_err)?;
    Ok(list
        .into_iter()
        .map(|c| ConversationSummary {
            id: c.id,
            title: c.title,
            updated_at: c.updated_at,
        })
        .collect())
}

/// A stored conversation, with its picks as cards (reasons are not kept).
#[tauri::command]
#[specta::specta]
pub async fn conversation(state: S<'_>, id: i64) -> AppResult<Vec<ChatMessage>> {
    let lib = state.library().await;
    let messages = lib.catalog().messages(id).await.map_err(engine_err)?;
    // Every message's items in one query.
    let ids: Vec<i64> = messages
        .iter()
        .flat_map(|m| m.items.iter().copied())
        .collect();
    let views = lib.catalog().items_by_ids(&ids).await.map_err(engine_err)?;
    Ok(messages
        .into_iter()
        .map(|m| ChatMessage {
            cards: m
                .items
                .iter()
                .filter_map(|id| views.iter().find(|v| v.id == *id))
                .map(Card::from)
                .collect(),
            role: m.role,
            text: m.text,
        })
        .collect())
}

/// What the reasoning model understood of an item's work.
#[tauri::command]
#[specta::specta]
pub async fn item_details(state: S<'_>, id: i64) -> AppResult<Understood> {
    let lib = state.library().await;
    Ok(lib.item_details_by_id(id).await?.into())
}

/// "Explain more": the reasoning model's reason why the pick `id` fits
/// `request`, checked like every reason.
#[tauri::command]
#[specta::specta]
pub async fn explain_more(state: S<'_>, request: String, id: i64) -> AppResult<MoreReason> {
    let lib = state.library().await;
    Ok(lib.explain_more(&request, id).await?.into())
}

/// Opens or plays an item with the system's default app.
#[tauri::command]
#[specta::specta]
pub async fn open_item(app: AppHandle, state: S<'_>, id: i64) -> AppResult<()> {
    let path = item_path(&state, id).await?;
    app.opener()
        .open_path(path.display().to_string(), None::<&str>)
        .map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("cannot open {}: {e}", path.display()),
            )
        })?;
    crate::person::opened(&state, id).await;
    Ok(())
}

/// Shows an item in the system's file manager.
#[tauri::command]
#[specta::specta]
pub async fn reveal_item(app: AppHandle, state: S<'_>, id: i64) -> AppResult<()> {
    let path = item_path(&state, id).await?;
    app.opener().reveal_item_in_dir(&path).map_err(|e| {
        AppError::new(
            ErrorCode::Internal,
            format!("cannot show {}: {e}", path.display()),
        )
    })
}

/// Requests worth making now (time of day, weekday, season, holidays).
#[tauri::command]
#[specta::specta]
pub async fn suggestions(state: S<'_>) -> AppResult<Vec<Suggestion>> {
    let lib = state.library().await;
    Ok(moodshelf_engine::suggestions(&state::context_now(&lib))
        .into_iter()
        .map(|s| Suggestion {
            label: s.label,
            prompt: s.prompt,
        })
        .collect())
}

#[tauri::command]
#[specta::specta]
pub async fn models(state: S<'_>) -> AppResult<Models> {
    let lib = state.library().await;
    let s = lib.settings();
    let entries = models::list(&state.paths.models_dir)
        .into_iter()
        .map(|(m, present)| {
            let path = state.paths.models_dir.join(&m.file);
            ModelEntry {
                in_use: path == s.embedding_model || path == s.reasoning_model,
                name: m.name,
                role: m.role,
                file: m.file,
                size_bytes: m.size,
                present,
                profiles: m.profiles,
            }
        })
        .collect();
    Ok(Models {
        dir: state.paths.models_dir.display().to_string(),
        models: entries,
        embedding_path: s.embedding_model.display().to_string(),
        reasoning_path: s.reasoning_model.display().to_string(),
        reasoning_present: s.reasoning_model.is_file(),
        reasoning_loaded: lib.generator_loaded().await,
        endpoint: s.endpoint.as_ref().map(|e| EndpointView {
            url: e.url.clone(),
            model: e.model.clone(),
            key_set: e.api_key.is_some(),
            from_env: std::env::var_os(moodshelf_engine::config::ENV_REASONING_ENDPOINT)
                .is_some_and(|v| !v.is_empty()),
        }),
        memory_bytes: state::resident_bytes(),
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
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let mut slot = state.fetch_cancel.lock().expect("fetch lock");
        if slot.is_some() {
            return Err(AppError::new(
                ErrorCode::Busy,
                "models are already being fetched",
            ));
        }
        *slot = Some(cancel.clone());
    }
    let opts = FetchOptions {
        models_dir: state.paths.models_dir.clone(),
        python: None,
        cancel,
    };
    let result = tauri::async_runtime::spawn_blocking(move || {
        models::fetch(&specs, &opts, &|ev| {
            let _ = on_event.send(fetch_progress(ev));
        })
    })
    .await
    .map_err(AppError::internal);
    *state.fetch_cancel.lock().expect("fetch lock") = None;
    result??;
    state.reopen(&app).await
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_fetch(state: S<'_>) -> AppResult<bool> {
    Ok(
        match state.fetch_cancel.lock().expect("fetch lock").as_ref() {
            Some(c) => {
                c.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        },
    )
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
    state.reopen(&app).await?;
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
    state.reopen(&app).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(app: AppHandle, state: S<'_>) -> AppResult<AppSettings> {
    let lib = state.library().await;
    let prefs = state.prefs();
    Ok(AppSettings {
        hemisphere: match lib.settings().hemisphere {
            Hemisphere::North => "north".into(),
            Hemisphere::South => "south".into(),
        },
        kinds: prefs.kinds,
        use_model: prefs.use_model,
        autostart: app.autolaunch().is_enabled().unwrap_or(prefs.autostart),
        start_hidden: prefs.start_hidden,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn set_settings(app: AppHandle, state: S<'_>, settings: AppSettings) -> AppResult<()> {
    let kinds: Vec<String> = settings
        .kinds
        .iter()
        .filter_map(|k| Kind::parse(k).map(|k| k.as_str().to_string()))
        .collect();
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
        state.reopen(&app).await?;
    }
    let autolaunch = app.autolaunch();
    let autostart_result = if settings.autostart {
        autolaunch.enable()
    } else {
        autolaunch.disable()
    };
    let prefs = state::Prefs {
        kinds,
        use_model: settings.use_model,
        autostart: settings.autostart,
        start_hidden: settings.start_hidden,
    };
    prefs.save(&state.paths)?;
    *state.prefs.lock().expect("prefs lock") = prefs;
    crate::tray::refresh(&app).await;
    autostart_result.map_err(|e| {
        AppError::new(
            ErrorCode::Internal,
            format!("settings saved, but starting with the system could not be changed: {e}"),
        )
    })
}

/// Pauses or resumes watching the library folders.
#[tauri::command]
#[specta::specta]
pub async fn pause_watching(app: AppHandle, state: S<'_>, paused: bool) -> AppResult<()> {
    crate::tray::set_paused(&app, &state, paused).await;
    Ok(())
}

pub(crate) async fn item_path(state: &AppState, id: i64) -> AppResult<PathBuf> {
    let lib = state.library().await;
    let views = lib
        .catalog()
        .items_by_ids(&[id])
        .await
        .map_err(engine_err)?;
    let view = views
        .into_iter()
        .next()
        .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("no item {id}")))?;
    let path = moodshelf_engine::names::decode(&view.path);
    if !view.available || !path.exists() {
        return Err(AppError::new(
            ErrorCode::LibraryUnavailable,
            format!(
                "{} is not reachable now (is its drive connected?)",
                moodshelf_engine::names::display(&view.path)
            ),
        ));
    }
    Ok(path)
}

fn engine_err(e: moodshelf_catalog::Error) -> AppError {
    moodshelf_engine::Error::from(e).into()
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

fn fetch_progress(ev: FetchEvent) -> FetchProgress {
    let step = |model: String, message: String| FetchProgress::Step { model, message };
    match ev {
        FetchEvent::Present { name, path } => FetchProgress::Done { model: name, path },
        FetchEvent::Trying { name, source } => step(name, format!("trying {source}")),
        FetchEvent::Downloading { name, done, total } => FetchProgress::Bytes {
            model: name,
            done,
            total,
        },
        FetchEvent::Converting { name } => step(name, "converting".into()),
        FetchEvent::Verifying { name, done, total } => step(
            name,
            format!(
                "verifying {:.0}%",
                100.0 * done as f64 / total.max(1) as f64
            ),
        ),
        FetchEvent::Installed { name, path } => FetchProgress::Done { model: name, path },
        FetchEvent::SourceFailed {
            name,
            source,
            error,
        } => FetchProgress::Failed {
            model: name,
            message: format!("{source}: {error}"),
        },
    }
}

/// The reading of a request as short phrases for the window.
pub fn understood(i: &Intent) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if !i.kinds.is_empty() && i.kinds.len() < 3 {
        let kinds: Vec<&str> = i.kinds.iter().map(|k| kind_plural(k.as_str())).collect();
        out.push(kinds.join(" or "));
    }
    out.extend(
        i.needs
            .iter()
            .filter(|n| n.from != "earlier")
            .map(|n| n.descriptor.clone()),
    );
    out.extend(i.audience.iter().map(|a| format!("for {}", a.as_str())));
    if let Some(m) = i.max_minutes {
        out.push(format!("under {m} min"));
    }
    if let Some(m) = i.min_minutes {
        out.push(format!("over {m} min"));
    }
    match (i.year_from, i.year_to) {
        (Some(a), Some(b)) => out.push(format!("{a}–{b}")),
        (Some(a), None) => out.push(format!("from {a}")),
        (None, Some(b)) => out.push(format!("up to {b}")),
        (None, None) => {}
    }
    out.extend(i.like.iter().map(|l| format!("like {l}")));
    out.extend(i.like_picks.iter().map(|p| match p {
        PickRef::Nth(n) => format!("like pick {n}"),
        PickRef::Last => "like the last pick".to_string(),
    }));
    out.extend(i.exclude.iter().map(|e| format!("no {e}")));
    out.extend(i.avoid.iter().map(|a| format!("not too {a}")));
    out.extend(i.refine.iter().map(|r| r.as_string()));
    out
}

/// Makes a playlist from a request or a journey between two tracks.
#[tauri::command]
#[specta::specta]
pub async fn make_playlist(
    state: S<'_>,
    source: PlaylistSource,
    shape: PlaylistShape,
) -> AppResult<PlaylistView> {
    use moodshelf_engine::playlist::{self as pl, PlaylistRequest};
    let lib = state.library().await;
    let (source, minutes) = match source {
        PlaylistSource::Request { text, minutes } => {
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
            (
                pl::PlaylistSource::Request {
                    text,
                    moment: now_moment(),
                },
                minutes,
            )
        }
        PlaylistSource::Journey {
            from_id,
            to_id,
            steps,
        } => {
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
            (
                pl::PlaylistSource::Journey {
                    from: path(from_id)?,
                    to: path(to_id)?,
                    steps: steps.clamp(1, 50) as usize,
                },
                None,
            )
        }
    };
    let req = PlaylistRequest {
        source,
        minutes,
        shape: shape.into(),
    };
    let list = lib
        .playlist(&req, &moodshelf_llm::Cancel::default())
        .await?;
    Ok(PlaylistView::from(&list))
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
    let format = moodshelf_engine::playlist::Format::from(format);
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
    use moodshelf_engine::playlist::Format;
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
async fn tracks_playlist(
    lib: &moodshelf_engine::Library,
    ids: Vec<i64>,
) -> AppResult<moodshelf_engine::playlist::Playlist> {
    use moodshelf_engine::playlist::{PlaylistRequest, PlaylistSource, Shape};
    let req = PlaylistRequest {
        source: PlaylistSource::Tracks(ids),
        minutes: None,
        shape: Shape::Steady,
    };
    Ok(lib
        .playlist(&req, &moodshelf_llm::Cancel::default())
        .await?)
}

/// A title as a file name: path separators and control characters out,
/// at most 80 characters.
pub(crate) fn file_stem(title: &str) -> String {
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
