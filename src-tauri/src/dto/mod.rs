//! What crosses the IPC boundary. Each type here is exported to
//! `ui/src/lib/bindings.ts` by tauri-specta; the engine's own types stay
//! free of any desktop dependency, and these are built from them: turning
//! an engine value into what the window gets (presentation) happens here,
//! never in the commands.
//!
//! One file per domain, like the commands; everything is re-exported here,
//! so the rest of the host names `crate::dto::Card` and the like.

mod answers;
mod error;
mod library;
mod models;
mod person;
mod playlists;
mod settings;

pub use answers::*;
pub use error::*;
pub use library::*;
pub use models::*;
pub use person::*;
pub use playlists::*;
pub use settings::*;
