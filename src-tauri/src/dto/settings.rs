//! The settings page: the engine's settings the window may change (the
//! hemisphere) and the host's preferences.

use moodshelf_engine::{Hemisphere, Kind};
use serde::{Deserialize, Serialize};
use specta::Type;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AppSettings {
    /// "north" or "south".
    pub hemisphere: String,
    /// Kinds included in answers.
    pub kinds: Vec<Kind>,
    /// Let the local reasoning model read the library's works in the
    /// background (what each is, its moods and themes) and explain a pick
    /// when asked.
    pub use_model: bool,
    pub autostart: bool,
    /// Start in the tray, without a window.
    pub start_hidden: bool,
}

/// The hemisphere as `AppSettings::hemisphere` says it.
pub fn hemisphere_name(h: Hemisphere) -> String {
    match h {
        Hemisphere::North => "north".into(),
        Hemisphere::South => "south".into(),
    }
}
