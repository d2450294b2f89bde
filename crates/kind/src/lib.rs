//! [`Kind`]: music, books or videos. It lives alone so that the file
//! readers (`media`), the catalog and the engine share one type without
//! the catalog depending on the readers. With the `specta` feature it is
//! exported to the window's TypeScript as `"music" | "book" | "video"`.

use serde::{Deserialize, Serialize};

/// The three kinds of things Moodshelf recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Music,
    Book,
    Video,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Music, Kind::Book, Kind::Video];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Music => "music",
            Kind::Book => "book",
            Kind::Video => "video",
        }
    }

    /// The kind as a person names a collection of it: "music", "books",
    /// "videos".
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Music => "music",
            Kind::Book => "books",
            Kind::Video => "videos",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "music" | "audio" | "song" | "track" => Some(Kind::Music),
            "book" | "books" | "ebook" => Some(Kind::Book),
            "video" | "videos" | "movie" | "film" | "show" => Some(Kind::Video),
            _ => None,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
