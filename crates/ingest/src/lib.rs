//! Getting a library in and keeping it current: the scan in phases
//! ([`scan`]), the watcher and its controller ([`watch`], [`live`]),
//! reading files in reader processes ([`reader`]), sound analysis
//! ([`analysis`]) and the reasoning model's reading of works
//! ([`enrich`]). Every job here is a function over a
//! [`Store`](moodshelf_core::Store), reports in
//! [`jobs`](moodshelf_core::jobs), and writes only under the writer lock.

mod absence;
pub mod analysis;
pub mod enrich;
pub mod live;
pub mod reader;
mod reading;
pub mod scan;
pub mod watch;

// The shared rooms, under the names this crate's modules use for them.
use moodshelf_core::{describe, error, index_dir, jobs, names, profile, store, work};

pub use live::{WatchEvent, WatchHandle, WatchOptions};
pub use scan::{ScanOptions, ScanReport};
