//! Playlists: what one is made from (a request or a journey), its shape,
//! the tracks as the window shows them, and the formats it is saved in.

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::dto::answers::Card;

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
