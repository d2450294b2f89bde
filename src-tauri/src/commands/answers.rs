//! Answer commands: asking (and following up, in the same conversation),
//! stopping an answer, feedback on a pick, stored conversations, a pick's
//! details and "Explain more", and the requests worth making now.

use moodshelf_engine::{Mode, RecEvent, RecommendRequest};
use tauri::State;
use tauri::ipc::Channel;

use crate::dto::{
    Answer, AnswerEvent, AppResult, ChatMessage, ConversationSummary, MoreReason, Suggestion,
    Understood, Verdict, engine_err,
};
use crate::state::{self, AppState, now_moment, now_unix};

type S<'a> = State<'a, AppState>;

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
        let _ = on_event.send(AnswerEvent::from(ev));
    };
    let rec = lib.recommend(&req, &cancel, &mut forward).await?;
    Ok(Answer::from(rec))
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
    let lib = state.library().await;
    lib.feedback(item_id, verdict.into(), request.as_deref(), now_unix())
        .await?;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn conversations(state: S<'_>) -> AppResult<Vec<ConversationSummary>> {
    let lib = state.library().await;
    let list = lib.catalog().conversations(50).await.map_err(engine_err)?;
    Ok(list.into_iter().map(ConversationSummary::from).collect())
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
        .map(|m| ChatMessage::stored(m, &views))
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

/// Requests worth making now (time of day, weekday, season, holidays).
#[tauri::command]
#[specta::specta]
pub async fn suggestions(state: S<'_>) -> AppResult<Vec<Suggestion>> {
    let lib = state.library().await;
    Ok(moodshelf_engine::suggestions(&state::context_now(&lib))
        .into_iter()
        .map(Suggestion::from)
        .collect())
}
