//! The Moodshelf engine: everything both hosts (the `moodshelf` CLI and the
//! desktop app) need, with no knowledge of either. It knows nothing of
//! Tauri; a test runs it with no desktop around.
//!
//! [`Library`] is the entry point and the only type that knows every room:
//! open one on a data dir, add folders, scan and keep it live (the ingest
//! crate: [`scan`], [`live`]), ask (the recommend crate: [`recommend`]).
//! The rooms are re-exported here under the paths hosts have always used.
//! Errors crossing into a host are [`Error`]s with a small [`Code`].
//!
//! Time and paths are always passed in: nothing here reads the clock, and
//! every path comes from [`Paths`].

pub mod library;

pub use moodshelf_core::{
    config, context, describe, error, hearing, jobs, models, names, profile, store, taste, vocab,
    work,
};
pub use moodshelf_ingest::{analysis, enrich, live, reader, scan, watch};
pub use moodshelf_recommend as recommend;
pub use moodshelf_recommend::{listens, people, playlist, series, similar, suggest};

pub use config::{Paths, RawSettings, Settings};
pub use context::{Context, Hemisphere, Holiday};
pub use error::{Code, Error, Result};
pub use jobs::{FileError, Phase, Progress, ProgressFn};
pub use library::{Library, RootInfo, Status};
pub use live::{WatchEvent, WatchHandle, WatchOptions};
pub use moodshelf_media::Kind;
pub use recommend::intent::Intent;
pub use recommend::{Mode, Moment, Pick, RecEvent, RecommendRequest, Recommendation};
pub use scan::{ScanOptions, ScanReport};
pub use suggest::{Suggestion, suggestions};

/// The log filter hosts use when `MOODSHELF_LOG` (CLI) or `RUST_LOG` (app)
/// is not set: our warnings, but not the notes third-party libraries
/// print for developers (lance's deprecations, llama.cpp's model-loading
/// remarks), which a person can do nothing about.
pub const QUIET_THIRD_PARTIES: &str = "lance=error,lancedb=error,llama-cpp-2=error";
