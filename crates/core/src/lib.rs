//! What ingest and recommend share, and nothing else: the [`Store`] they
//! both work on (the catalog, the index, the models and what answering
//! keeps of the library), settings and paths, the moment, the descriptor
//! vocabulary, item profiles and the model's understanding of works,
//! tastes, the writer lock, and the [`jobs`] every long job reports in.
//!
//! Time and paths are always passed in: nothing here reads the clock, and
//! every path comes from [`Paths`].

pub mod config;
pub mod context;
pub mod describe;
pub mod error;
pub mod hearing;
pub mod index_dir;
pub mod jobs;
pub mod models;
pub mod names;
pub mod profile;
pub mod shaping;
pub mod store;
pub mod taste;
pub mod vocab;
pub mod work;
pub mod writer;

pub use config::{Paths, RawSettings, Settings};
pub use context::{Context, Hemisphere, Holiday};
pub use error::{Code, Error, Result};
pub use jobs::{FileError, Phase, Progress, ProgressFn};
pub use moodshelf_media::Kind;
pub use store::Store;
