//! The commands the window calls, one file per domain. Each is a few lines
//! over the engine; long work is started here (see [`crate::jobs`]) and
//! reported on a channel or by events, and what the window gets is built
//! in [`crate::dto`].
//!
//! Every command is re-exported here, so the invoke handler and the
//! TypeScript bindings (`crate::specta_builder`) name them all as
//! `commands::name`.

mod answers;
mod library;
mod models;
mod person;
mod playlists;
mod settings;

pub use answers::*;
pub use library::*;
pub use models::*;
pub use person::*;
pub use playlists::*;
pub use settings::*;
