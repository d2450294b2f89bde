//! Whether a file the library knew is really gone. A file not seen is
//! deleted only when its absence is confirmed: not found, in a folder
//! that lists (and, for a scan, does not list empty where several files
//! were), under a root that is there and watched by the system's own
//! events. Anything less (a share that stops listing,
//! an empty mount point, an unreadable folder, a polled root) only hides
//! it: it keeps its id, likes and history until it is seen again, or
//! until [`SCANS_TO_AGREE`] scans in a row miss it.

use std::path::{Path, PathBuf};

use moodshelf_catalog::Root;

/// How many scans in a row must miss a file whose absence cannot be
/// confirmed before it is forgotten.
pub(crate) const SCANS_TO_AGREE: i64 = 3;

/// The nearest folder above `p` that exists.
pub(crate) fn nearest_folder(p: &Path) -> Option<&Path> {
    p.ancestors().skip(1).find(|d| d.is_dir())
}

/// Folders that list empty where several files were seen before: a disk
/// mounted there was pulled, a share lists nothing for a moment. Absences
/// under them are not confirmed (one file deleted from its folder is).
pub(crate) fn emptied<'a>(missing: impl Iterator<Item = &'a Path>) -> Vec<PathBuf> {
    let mut lost: std::collections::HashMap<&Path, usize> = Default::default();
    for p in missing {
        if let Some(d) = nearest_folder(p) {
            *lost.entry(d).or_default() += 1;
        }
    }
    lost.into_iter()
        .filter(|(d, n)| *n > 1 && !has_entries(d))
        .map(|(d, _)| d.to_path_buf())
        .collect()
}

pub(crate) fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// Whether a path is there, and if not, whether its absence can be
/// trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Present,
    /// Not found, in a folder that lists fine, under a root that is there
    /// and watched by the system's own events: deleted.
    Gone,
    /// Not seen, but the folder could not be read, the root is gone or
    /// empty, or the root is polled (a share that stops listing looks like
    /// deletions): missing, never deleted on this alone.
    Unconfirmed,
}

pub(crate) fn presence(p: &Path, roots: &[Root], polled: &[PathBuf]) -> Presence {
    match std::fs::symlink_metadata(p) {
        Ok(_) => return Presence::Present,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // Permission denied, I/O error, a stale handle: unknown.
        Err(_) => return Presence::Unconfirmed,
    }
    let Some(root) = roots
        .iter()
        .filter(|r| p.starts_with(&r.path))
        .max_by_key(|r| r.path.as_os_str().len())
    else {
        return Presence::Gone; // outside the library: nothing to keep
    };
    if polled.contains(&root.path) || !has_entries(&root.path) {
        return Presence::Unconfirmed;
    }
    // The nearest folder above it that exists must list: a parent removed
    // whole is fine, an unreadable one is not.
    let mut dir = p.parent();
    while let Some(d) = dir {
        match std::fs::read_dir(d) {
            Ok(_) => return Presence::Gone,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && d != root.path => {
                dir = d.parent();
            }
            Err(_) => return Presence::Unconfirmed,
        }
    }
    Presence::Unconfirmed
}
