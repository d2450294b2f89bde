//! The Moodshelf engine: everything both hosts (the `moodshelf` CLI and the
//! desktop app) need, with no knowledge of either. It knows nothing of
//! Tauri; a test runs it with no desktop around.
//!
//! [`Library`] is the entry point: open one on a data dir, add folders,
//! scan ([`scan`]), keep it live ([`live`]), ask ([`recommend`]). Model files
//! are fetched and verified by [`models`]. Errors crossing into a host are
//! [`Error`]s with a small [`Code`].
//!
//! Time and paths are always passed in: nothing here reads the clock, and
//! every path comes from [`Paths`].

mod absence;
pub mod analysis;
pub mod config;
pub mod context;
pub mod describe;
pub mod enrich;
pub mod error;
pub mod hearing;
mod index_dir;
pub mod library;
pub mod listens;
pub mod live;
pub mod models;
pub mod names;
pub mod people;
pub mod playlist;
pub mod profile;
pub mod reader;
mod reading;
pub mod recommend;
pub mod scan;
pub mod series;
pub mod similar;
pub mod suggest;
pub mod taste;
pub mod vocab;
pub mod watch;
pub mod work;
mod writer;

pub use config::{Paths, RawSettings, Settings};
pub use context::{Context, Hemisphere};
pub use error::{Code, Error, Result};
pub use library::{Library, RootInfo, Status};
pub use live::{WatchEvent, WatchHandle, WatchOptions};
pub use moodshelf_media::Kind;
pub use recommend::intent::Intent;
pub use recommend::{Mode, Moment, Pick, RecEvent, RecommendRequest, Recommendation};
pub use scan::{Phase, Progress, ProgressFn, ScanOptions, ScanReport};
pub use suggest::{Suggestion, suggestions};

/// The log filter hosts use when `MOODSHELF_LOG` (CLI) or `RUST_LOG` (app)
/// is not set: our warnings, but not the notes third-party libraries
/// print for developers (lance's deprecations, llama.cpp's model-loading
/// remarks), which a person can do nothing about.
pub const QUIET_THIRD_PARTIES: &str = "lance=error,lancedb=error,llama-cpp-2=error";
