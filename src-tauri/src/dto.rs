//! What crosses the IPC boundary. Each type here is exported to
//! `ui/src/lib/bindings.ts` by tauri-specta; the engine's own types stay
//! free of any desktop dependency, and these are built from them.

use moodshelf_catalog::ItemView;
use moodshelf_engine::{Code, Error, Pick};
use serde::{Deserialize, Serialize};
use specta::Type;

/// The one error shape every command returns.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    ModelMissing,
    LibraryUnavailable,
    IndexBusy,
    IndexEmpty,
    InvalidInput,
    FetchFailed,
    Busy,
    Internal,
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        let code = match e.code {
            Code::ModelMissing => ErrorCode::ModelMissing,
            Code::LibraryUnavailable => ErrorCode::LibraryUnavailable,
            Code::IndexBusy => ErrorCode::IndexBusy,
            Code::IndexEmpty => ErrorCode::IndexEmpty,
            Code::InvalidInput => ErrorCode::InvalidInput,
            Code::FetchFailed => ErrorCode::FetchFailed,
            Code::Internal => ErrorCode::Internal,
        };
        AppError {
            code,
            message: e.message,
        }
    }
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::new(ErrorCode::Internal, e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// One pick as the window shows it. Paths are shown, never opened by the
/// webview: Open and Show in folder go through commands that take the id.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub creator: Option<String>,
    pub album: Option<String>,
    pub year: Option<i32>,
    pub duration_secs: Option<f64>,
    pub path: String,
    pub has_cover: bool,
    pub why: String,
}

impl From<&Pick> for Card {
    fn from(p: &Pick) -> Self {
        Card {
            id: p.item.id,
            kind: p.item.kind.clone(),
            title: p.item.title.clone(),
            creator: p.item.creator.clone(),
            album: p.item.album.clone(),
            year: p.item.year,
            duration_secs: p.item.duration_secs,
            path: moodshelf_engine::names::display(&p.item.path).into_owned(),
            has_cover: p.item.cover.is_some(),
            why: p.why.clone(),
        }
    }
}

/// What the reasoning model understood of a pick's work, for its details
/// (read at index time: `moodshelf enrich`, or in the background after a
/// scan).
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Understood {
    /// "yes" (the model knows the work), "partly" (read from what its file
    /// says), "no"; `None` until the work is read.
    pub known: Option<String>,
    /// One sentence of what the work is (only when known).
    pub about: Option<String>,
    /// Facets in words: ("Genres", "courtroom drama, coming of age").
    pub facets: Vec<FacetLine>,
    /// The model that read it.
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct FacetLine {
    pub label: String,
    pub value: String,
}

impl From<moodshelf_engine::enrich::ItemDetails> for Understood {
    fn from(d: moodshelf_engine::enrich::ItemDetails) -> Self {
        let Some(u) = d.understanding else {
            return Understood {
                known: None,
                about: None,
                facets: Vec::new(),
                by: d.understood_by,
            };
        };
        let setting: Vec<String> = [u.place.clone(), u.era.clone()]
            .into_iter()
            .flatten()
            .collect();
        let lines = [
            ("Style", u.style.clone()),
            ("Genres", Some(u.genres.join(", "))),
            ("About", Some(u.themes.join(", "))),
            ("Set in", Some(setting.join(", "))),
            ("Feels", Some(u.moods.join(", "))),
            ("Tone", u.tone.clone()),
            ("Pace", u.pace.clone()),
            ("Energy", u.energy.clone()),
            ("For", u.audience.clone()),
        ];
        Understood {
            known: Some(u.known.clone()),
            about: u.about.clone(),
            facets: lines
                .into_iter()
                .filter_map(|(label, v)| {
                    v.filter(|v| !v.is_empty()).map(|value| FacetLine {
                        label: label.into(),
                        value,
                    })
                })
                .collect(),
            by: d.understood_by,
        }
    }
}

/// The model's tailored reason for one pick ("Explain more"): a reason
/// that passed the check, or what the check refused and why.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct MoreReason {
    pub why: Option<String>,
    /// Why the model's reason was not shown ("claims a genre the item
    /// does not have"); the pick keeps its own.
    pub refused: Option<String>,
}

impl From<moodshelf_engine::recommend::more::MoreReason> for MoreReason {
    fn from(r: moodshelf_engine::recommend::more::MoreReason) -> Self {
        use moodshelf_engine::recommend::more::MoreReason as M;
        match r {
            M::Reason(why) => MoreReason {
                why: Some(why),
                refused: None,
            },
            M::Refused { refused_for, .. } => MoreReason {
                why: None,
                refused: Some(refused_for),
            },
        }
    }
}

/// A stored pick: reasons are not kept.
impl From<&ItemView> for Card {
    fn from(v: &ItemView) -> Self {
        Card {
            id: v.id,
            kind: v.kind.clone(),
            title: v.title.clone(),
            creator: v.creator.clone(),
            album: v.album.clone(),
            year: v.year,
            duration_secs: v.duration_secs,
            path: moodshelf_engine::names::display(&v.path).into_owned(),
            has_cover: v.cover.is_some(),
            why: String::new(),
        }
    }
}

/// What an answer streams while it is made.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AnswerEvent {
    /// How the request was read, as short phrases ("no horror").
    Understood {
        phrases: Vec<String>,
    },
    /// The picks, with rule-based reasons, before the model explains.
    Picks {
        cards: Vec<Card>,
    },
    /// A piece of the model's reply (for a live "thinking" line).
    Piece {
        text: String,
    },
    /// A checked reason from the model for one pick.
    Why {
        id: i64,
        why: String,
    },
    Notice {
        message: String,
    },
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub conversation_id: Option<i64>,
    pub cards: Vec<Card>,
    pub understood: Vec<String>,
    pub follow_up: bool,
    pub explained_by: String,
    pub notices: Vec<String>,
    pub first_picks_ms: f64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Like,
    Dislike,
    NotNow,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub label: String,
    pub prompt: String,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub id: i64,
    pub title: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// "user" or "assistant".
    pub role: String,
    pub text: String,
    pub cards: Vec<Card>,
}

/// How a library folder is kept up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum WatchState {
    /// File events arrive as they happen.
    Live,
    /// Checked every so often (network drives, too many folders).
    Polling,
    /// Not mounted or not readable; its items are kept, hidden.
    Unavailable,
    /// Watching is paused by the user.
    Paused,
    /// Not watched yet (starting).
    Idle,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    pub path: String,
    pub watch: WatchState,
    pub last_scan_at: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub music: i64,
    pub books: i64,
    pub videos: i64,
    pub files: i64,
    pub file_errors: i64,
    pub pending_index: i64,
    pub unavailable: i64,
    /// Tracks whose sound is analysed, and those that cannot be (silent,
    /// undecodable).
    pub heard_tracks: i64,
    pub unheard_tracks: i64,
}

/// The scan in progress, or the last one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct ScanStatus {
    pub running: bool,
    /// discover, read, describe, embed, persist; empty when idle.
    pub phase: String,
    pub done: u64,
    pub total: Option<u64>,
    /// Items per second in this phase.
    pub rate: f64,
    pub seconds_left: Option<f64>,
    /// One line for the tray and the status bar.
    pub summary: String,
    pub error: Option<String>,
    /// Background work after the scan, when there is some: the reasoning
    /// model reading the library's works ("Reading the works of the
    /// library: 120 of 2,044, 20m left"), then the tracks' audio analysis.
    pub background: Option<String>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct LibraryStatus {
    pub counts: Counts,
    pub folders: Vec<Folder>,
    pub scan: ScanStatus,
    pub watching_paused: bool,
    /// A reasoning model file is there, or a reasoning endpoint is set:
    /// picks can be explained more.
    pub reasoning_ready: bool,
    /// Why `settings.toml` is not in use (the defaults are); saving the
    /// settings from the window repairs it.
    pub settings_problem: Option<String>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct FileError {
    pub path: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ModelEntry {
    pub name: String,
    /// "embedding" or "reasoning".
    pub role: String,
    pub file: String,
    pub size_bytes: u64,
    pub present: bool,
    /// The file the app uses for this role.
    pub in_use: bool,
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Models {
    pub dir: String,
    pub models: Vec<ModelEntry>,
    pub embedding_path: String,
    pub reasoning_path: String,
    pub reasoning_present: bool,
    pub reasoning_loaded: bool,
    /// The reasoning endpoint on another machine, when one is set.
    pub endpoint: Option<EndpointView>,
    /// Resident memory of the app now (bytes), 0 when unknown.
    pub memory_bytes: u64,
}

/// A reasoning endpoint as the window shows it: never the key itself.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView {
    pub url: String,
    pub model: Option<String>,
    pub key_set: bool,
    /// Whether `MOODSHELF_REASONING_ENDPOINT` set it (the window cannot
    /// change it then).
    pub from_env: bool,
}

/// Model download progress, on the fetch command's channel.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FetchProgress {
    Step {
        model: String,
        message: String,
    },
    Bytes {
        model: String,
        done: u64,
        total: Option<u64>,
    },
    Done {
        model: String,
        path: String,
    },
    Failed {
        model: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AppSettings {
    /// "north" or "south".
    pub hemisphere: String,
    /// Kinds included in answers: any of "music", "book", "video".
    pub kinds: Vec<String>,
    /// Let the local reasoning model read the library's works in the
    /// background (what each is, its moods and themes) and explain a pick
    /// when asked.
    pub use_model: bool,
    pub autostart: bool,
    /// Start in the tray, without a window.
    pub start_hidden: bool,
}

/// A watcher message worth showing (a root went away, polling instead).
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct LibraryNote {
    pub message: String,
}

/// The library changed (scan finished, watcher applied changes).
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct LibraryChanged {
    pub added: u64,
    pub removed: u64,
}

/// What a playlist is made from: a request, or a journey between two
/// tracks of the library.
#[derive(Debug, Clone, Deserialize, Type)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PlaylistSource {
    /// "calm music for cooking", filled to `minutes` when given.
    #[serde(rename_all = "camelCase")]
    Request { text: String, minutes: Option<f64> },
    /// From one track to another with `steps` tracks between them.
    #[serde(rename_all = "camelCase")]
    Journey {
        from_id: i64,
        to_id: i64,
        steps: u32,
    },
}

/// The energy curve a playlist follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum PlaylistShape {
    Steady,
    Rising,
    WindingDown,
}

impl From<PlaylistShape> for moodshelf_engine::playlist::Shape {
    fn from(s: PlaylistShape) -> Self {
        use moodshelf_engine::playlist::Shape;
        match s {
            PlaylistShape::Steady => Shape::Steady,
            PlaylistShape::Rising => Shape::Rising,
            PlaylistShape::WindingDown => Shape::WindingDown,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistEntry {
    pub card: Card,
    /// 0 (still) to 1 (driving); none before the track is analysed.
    pub energy: Option<f32>,
    /// What was heard ("quiet", "slow (68 BPM)", "in A minor").
    pub heard: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistView {
    pub tracks: Vec<PlaylistEntry>,
    pub total_secs: f64,
    pub notes: Vec<String>,
}

impl From<&moodshelf_engine::playlist::Playlist> for PlaylistView {
    fn from(p: &moodshelf_engine::playlist::Playlist) -> Self {
        PlaylistView {
            tracks: p
                .tracks
                .iter()
                .map(|t| PlaylistEntry {
                    card: Card::from(&t.item),
                    energy: t.energy,
                    heard: t.heard.clone(),
                })
                .collect(),
            total_secs: p.total_secs,
            notes: p.notes.clone(),
        }
    }
}

/// The formats a playlist is saved in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum PlaylistFormat {
    M3u8,
    Xspf,
}

impl From<PlaylistFormat> for moodshelf_engine::playlist::Format {
    fn from(f: PlaylistFormat) -> Self {
        match f {
            PlaylistFormat::M3u8 => Self::M3u8,
            PlaylistFormat::Xspf => Self::Xspf,
        }
    }
}
