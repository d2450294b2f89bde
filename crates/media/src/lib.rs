//! Reads what a person's media files say about themselves.
//!
//! One call, [`extract`], takes one path and returns its [`Metadata`]: tags of
//! audio files (through lofty), EPUB OPF packages and Calibre `metadata.opf`
//! sidecars, PDF info dictionaries, Kodi/Jellyfin `.nfo` sidecars, MP4 and
//! Matroska containers, and whatever a file name like
//! `Movie.Title.2010.1080p.mkv` gives away. Every failure is an [`Error`] for
//! that one file: malformed, truncated or hostile files never panic out of
//! this crate and never allocate without bound.
//!
//! This crate knows nothing of databases or scans; [`classify`] tells a
//! scanner which paths matter, and [`fingerprint`] gives it a cheap content
//! identity to recognise moved files.

mod asf;
mod audio;
mod book;
mod history;
mod koreader;
mod mkv;
mod mp4;
mod name;
mod nfo;
mod open;
mod opf;
mod pdf;
mod text;
mod video;
mod xml;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use history::History;
pub use name::{NameGuess, parse_file_name};
pub use nfo::{Nfo, read_nfo};
pub use open::open_regular;
pub use opf::{Opf, read_opf_file};

pub use moodshelf_kind::Kind;

/// What a path is to a scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A file that becomes an item.
    Media(Kind),
    /// A file that describes media beside it (`.nfo`, `metadata.opf`, a
    /// poster): a change to it means its neighbours must be read again.
    Sidecar,
}

const MUSIC_EXT: &[&str] = &[
    "mka", "mp3", "mp2", "mp1", "flac", "ogg", "oga", "opus", "spx", "m4a", "aac", "alac", "wav",
    "wave", "aif", "aiff", "aifc", "ape", "wv", "mpc", "mp+", "mpp", "wma", "asf", "tta", "dsf",
    "dff",
];
const BOOK_EXT: &[&str] = &["epub", "pdf", "m4b"];
const VIDEO_EXT: &[&str] = &[
    "mkv", "mk3d", "webm", "mp4", "m4v", "mov", "avi", "wmv", "mpg", "mpeg", "ts", "m2ts", "ogv",
];
const IMAGE_NAMES: &[&str] = &[
    "cover", "folder", "front", "poster", "thumb", "fanart", "album",
];

fn ext_lower(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// Decides by name alone whether a path is media, a sidecar, or neither.
/// Hidden files (dot files, e.g. macOS `._` resource forks) are neither.
pub fn classify(path: &Path) -> Option<Role> {
    // Names that are not UTF-8 are classified too (by their lossy form):
    // old disks are full of Latin-1 names.
    let name = path.file_name()?.to_string_lossy();
    if name.starts_with('.') {
        return None;
    }
    let ext = ext_lower(path)?;
    let ext = ext.as_str();
    if MUSIC_EXT.contains(&ext) {
        return Some(Role::Media(Kind::Music));
    }
    if BOOK_EXT.contains(&ext) {
        return Some(Role::Media(Kind::Book));
    }
    if VIDEO_EXT.contains(&ext) {
        return Some(Role::Media(Kind::Video));
    }
    if ext == "nfo" || ext == "opf" || (ext == "lua" && koreader::is_settings(path)) {
        return Some(Role::Sidecar);
    }
    if matches!(ext, "jpg" | "jpeg" | "png" | "webp") {
        let stem = path.file_stem()?.to_string_lossy().to_ascii_lowercase();
        let is_art = IMAGE_NAMES
            .iter()
            .any(|n| stem == *n || stem.ends_with(&format!("-{n}")));
        return is_art.then_some(Role::Sidecar);
    }
    None
}

/// The folder whose media a sidecar describes: its own, or for KOReader's
/// `Book.sdr/metadata.epub.lua` the folder that holds `Book.sdr`.
pub fn described_folder(sidecar: &Path) -> Option<&Path> {
    let dir = sidecar.parent()?;
    match koreader::is_settings(sidecar) {
        true => dir.parent(),
        false => Some(dir),
    }
}

/// Cover art for an item: embedded bytes, or an image file beside it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cover {
    Embedded { mime: String, data: Vec<u8> },
    File(PathBuf),
}

impl Cover {
    /// A file extension for storing embedded art.
    pub fn extension(&self) -> &str {
        match self {
            Cover::Embedded { mime, data } => image_ext(mime, data),
            Cover::File(p) => p.extension().and_then(|e| e.to_str()).unwrap_or("img"),
        }
    }
}

/// The web image formats cover art is served in, by their first bytes:
/// `(extension, MIME type)`.
pub fn sniff_image(data: &[u8]) -> Option<(&'static str, &'static str)> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("jpg", "image/jpeg"))
    } else if data.starts_with(b"\x89PNG") {
        Some(("png", "image/png"))
    } else if data.starts_with(b"GIF8") {
        Some(("gif", "image/gif"))
    } else if data.len() > 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some(("webp", "image/webp"))
    } else {
        None
    }
}

fn image_ext<'a>(mime: &'a str, data: &[u8]) -> &'a str {
    if let Some((ext, _)) = sniff_image(data) {
        ext
    } else if data.starts_with(&[0xFF, 0xD8]) {
        "jpg"
    } else if data.len() > 12 && &data[8..12] == b"WEBP" {
        "webp"
    } else if data.starts_with(b"BM") {
        "bmp"
    } else {
        match mime {
            "image/jpeg" | "image/jpg" => "jpg",
            "image/png" => "png",
            _ => "img",
        }
    }
}

/// Everything Moodshelf knows about one file, from the file itself and its
/// sidecars. Fields a format does not carry stay empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub kind: Kind,
    /// Container or codec family, lower case: "mp3", "flac", "epub", "mkv".
    pub format: String,
    pub title: Option<String>,
    /// Artists for music, authors for books, directors for video.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creators: Vec<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub track: Option<u32>,
    pub disc: Option<u32>,
    pub year: Option<i32>,
    /// Genres, and for books the subjects (e.g. "Ghost stories").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub genres: Vec<String>,
    /// Free tags: moods, `.nfo` tags, keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A plot, blurb or description.
    pub description: Option<String>,
    pub comment: Option<String>,
    pub lyrics: Option<String>,
    pub language: Option<String>,
    pub series: Option<String>,
    pub series_index: Option<f32>,
    pub season: Option<u32>,
    pub episode: Option<u32>,
    pub duration_secs: Option<f64>,
    pub bitrate_kbps: Option<u32>,
    pub bpm: Option<f32>,
    /// A rating normalised to 0–10.
    pub rating: Option<f32>,
    /// Age certification, e.g. "PG-13".
    pub certification: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
    /// Publisher, studio or label.
    pub publisher: Option<String>,
    #[serde(skip)]
    pub cover: Option<Cover>,
    /// What the person's other software recorded of their use of the file
    /// (a play count, their rating): their history, which a scanner stores
    /// apart and never as the item's metadata.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

impl Metadata {
    pub fn new(kind: Kind, format: impl Into<String>) -> Self {
        Metadata {
            kind,
            format: format.into(),
            title: None,
            creators: Vec::new(),
            album: None,
            album_artist: None,
            track: None,
            disc: None,
            year: None,
            genres: Vec::new(),
            tags: Vec::new(),
            description: None,
            comment: None,
            lyrics: None,
            language: None,
            series: None,
            series_index: None,
            season: None,
            episode: None,
            duration_secs: None,
            bitrate_kbps: None,
            bpm: None,
            rating: None,
            certification: None,
            actors: Vec::new(),
            publisher: None,
            cover: None,
            history: Vec::new(),
        }
    }

    /// The main creator to show beside a title.
    pub fn creator(&self) -> Option<&str> {
        self.creators
            .first()
            .map(String::as_str)
            .or(self.album_artist.as_deref())
    }

    /// Fills empty fields from a less trusted source (e.g. the file name).
    fn fill_from(&mut self, other: Metadata) {
        macro_rules! fill {
            ($($f:ident),*) => {$( if self.$f.is_none() { self.$f = other.$f; } )*};
        }
        macro_rules! fill_vec {
            ($($f:ident),*) => {$( if self.$f.is_empty() { self.$f = other.$f; } )*};
        }
        fill!(
            title,
            album,
            album_artist,
            track,
            disc,
            year,
            description,
            comment,
            lyrics,
            language,
            series,
            series_index,
            season,
            episode,
            duration_secs,
            bitrate_kbps,
            bpm,
            rating,
            certification,
            publisher,
            cover
        );
        fill_vec!(creators, genres, tags, actors);
        for h in other.history {
            if !self.history.iter().any(|x| x.source == h.source) {
                self.history.push(h);
            }
        }
    }

    /// Overrides fields with a more trusted source (a sidecar the user
    /// edited), keeping technical facts (duration, bitrate) from the file.
    fn override_with(&mut self, mut other: Metadata) {
        other.duration_secs = other.duration_secs.or(self.duration_secs);
        other.bitrate_kbps = other.bitrate_kbps.or(self.bitrate_kbps);
        other.kind = self.kind;
        other.format = std::mem::take(&mut self.format);
        let base = std::mem::replace(self, other);
        self.fill_from(base);
    }

    /// Trims text fields, drops empty ones and duplicate list entries.
    fn tidy(&mut self) {
        for f in [
            &mut self.title,
            &mut self.album,
            &mut self.album_artist,
            &mut self.description,
            &mut self.comment,
            &mut self.lyrics,
            &mut self.language,
            &mut self.series,
            &mut self.certification,
            &mut self.publisher,
        ] {
            *f = f.take().and_then(|s| text::clean(&s));
        }
        for list in [
            &mut self.creators,
            &mut self.genres,
            &mut self.tags,
            &mut self.actors,
        ] {
            let mut seen = std::collections::HashSet::new();
            list.retain_mut(|s| match text::clean_short(s) {
                Some(c) => {
                    *s = c;
                    seen.len() < text::MAX_LIST_ENTRIES && seen.insert(s.to_lowercase())
                }
                None => false,
            });
        }
        if self
            .duration_secs
            .is_some_and(|d| !d.is_finite() || d <= 0.0)
        {
            self.duration_secs = None;
        }
        if self
            .rating
            .is_some_and(|r| !r.is_finite() || !(0.0..=10.0).contains(&r))
        {
            self.rating = None;
        }
        if self.year.is_some_and(|y| !(1000..=2200).contains(&y)) {
            self.year = None;
        }
    }
}

/// Why one file could not be read. The scan goes on without it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a media file Moodshelf reads")]
    Unsupported { path: PathBuf },
    #[error("{path}: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path}: the reader crashed on this file ({reason})")]
    Crashed { path: PathBuf, reason: String },
    #[error("{path}: {what}, not a regular file; left untouched")]
    NotRegular { path: PathBuf, what: &'static str },
    #[error("{path}: reading took longer than {secs} s and was abandoned")]
    TimedOut { path: PathBuf, secs: u64 },
}

impl Error {
    pub fn path(&self) -> &Path {
        match self {
            Error::Unreadable { path, .. }
            | Error::Unsupported { path }
            | Error::Malformed { path, .. }
            | Error::Crashed { path, .. }
            | Error::NotRegular { path, .. }
            | Error::TimedOut { path, .. } => path,
        }
    }

    /// True when the file is there and readable but what it says could not
    /// be understood (or not in time): it is still a media file, and can be
    /// listed by its name, as players list it.
    pub fn is_content_error(&self) -> bool {
        matches!(
            self,
            Error::Malformed { .. } | Error::Crashed { .. } | Error::TimedOut { .. }
        )
    }

    pub(crate) fn malformed(path: &Path, reason: impl std::fmt::Display) -> Error {
        Error::Malformed {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    /// Like [`Error::malformed`], with the whole chain of causes: lofty's
    /// top-level message alone ("failed to parse Mpeg file") hides why.
    pub(crate) fn parse(path: &Path, err: &dyn std::error::Error) -> Error {
        let mut reason = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !text.is_empty() && !reason.contains(&text) {
                reason.push_str(": ");
                reason.push_str(&text);
            }
            source = s.source();
        }
        Error::malformed(path, reason)
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Unreadable {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Reads one media file (and its sidecars) by its extension.
///
/// A reader that panics on a hostile file is caught here and reported as
/// [`Error::Crashed`] for that file alone.
pub fn extract(path: &Path) -> Result<Metadata> {
    let Some(Role::Media(kind)) = classify(path) else {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
        });
    };
    guarded(path, || read_media(path, kind))
}

/// The readers' version, recorded with every file read. Raised when a
/// reader learns to read files it used to refuse, so those are read again.
pub const READER_VERSION: i64 = 4;

/// Files read by readers older than this are read again once, read well
/// or not: the readers since learnt something from files they read well
/// (3: a media centre's record of the person's use, [`History`]; 4: a
/// player's FMPS rating and play count, and ID3v2's play counter).
pub const READ_AGAIN_BELOW: i64 = 4;

/// How long one file may take to read before it is abandoned: generous for
/// a slow network disk, short against a reader that would never finish.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(20);

/// Readers abandoned and still running; past [`MAX_STUCK`] no new read starts
/// until one of them ends, so runaway readers cannot pile up.
static STUCK: AtomicUsize = AtomicUsize::new(0);
const MAX_STUCK: usize = 4;

/// Like [`extract`], with a deadline that is enforced rather than hoped for:
/// the read runs on a thread of its own, and when `deadline` passes the
/// caller gets [`Error::TimedOut`] and goes on while the thread is left to
/// finish alone. A scan therefore never waits on one file longer than the
/// deadline, whatever the file does to a reader.
pub fn extract_within(path: &Path, deadline: Duration) -> Result<Metadata> {
    const RUNNING: u8 = 0;
    const DONE: u8 = 1;
    const ABANDONED: u8 = 2;
    if STUCK.load(Ordering::Acquire) >= MAX_STUCK {
        return Err(Error::TimedOut {
            path: path.to_path_buf(),
            secs: 0,
        });
    }
    let state = Arc::new(AtomicU8::new(RUNNING));
    let (tx, rx) = mpsc::sync_channel(1);
    let owned = path.to_path_buf();
    let thread_state = state.clone();
    std::thread::Builder::new()
        .name("moodshelf-read".into())
        .spawn(move || {
            let result = extract(&owned);
            if thread_state
                .compare_exchange(RUNNING, DONE, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                STUCK.fetch_sub(1, Ordering::AcqRel);
            }
            let _ = tx.send(result);
        })
        .map_err(|e| Error::io(path, e))?;
    match rx.recv_timeout(deadline) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            if state
                .compare_exchange(RUNNING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                STUCK.fetch_add(1, Ordering::AcqRel);
                return Err(Error::TimedOut {
                    path: path.to_path_buf(),
                    secs: deadline.as_secs().max(1),
                });
            }
            // It finished just as time ran out.
            rx.recv()
                .unwrap_or_else(|_| Err(crashed(path, "reader thread ended")))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(crashed(path, "reader thread ended")),
    }
}

fn crashed(path: &Path, reason: &str) -> Error {
    Error::Crashed {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// What a media file's names say when the file itself cannot be read: the
/// title (and year, series, episode) from the file name, for music the album
/// from its folder. Players list such files by name; so does Moodshelf.
pub fn from_names(path: &Path, kind: Kind) -> Metadata {
    let mut meta = Metadata::new(kind, ext_lower(path).unwrap_or_default());
    let guess = parse_file_name(path);
    meta.title = guess.title;
    meta.year = guess.year;
    meta.series = guess.series;
    meta.season = guess.season;
    meta.episode = guess.episode;
    if kind == Kind::Music {
        meta.album = path
            .parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned());
    }
    meta.cover = cover_beside(path);
    meta.tidy();
    meta
}

/// Like [`extract`], but for files with no or a misleading extension: the
/// content decides. Used for stray files, never by the scanner.
pub fn extract_any(path: &Path) -> Result<Metadata> {
    match classify(path) {
        Some(Role::Media(_)) => return extract(path),
        Some(Role::Sidecar) if !matches!(ext_lower(path).as_deref(), Some("nfo" | "opf")) => {
            // Cover images describe their neighbours; they have no metadata.
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
            });
        }
        _ => {}
    }
    match ext_lower(path).as_deref() {
        Some("nfo") => return guarded(path, || nfo::read_nfo(path).map(|n| n.into_metadata())),
        Some("opf") => {
            return guarded(path, || {
                opf::read_opf_file(path).map(|o| o.into_metadata(Kind::Book, "opf"))
            });
        }
        _ => {}
    }
    guarded(path, || {
        let mut head = [0u8; 16];
        let n = open_regular(path)?
            .read(&mut head)
            .map_err(|e| Error::io(path, e))?;
        let head = &head[..n];
        if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            video::read(path, "mkv")
        } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
            // Could be audio (m4a) or video: lofty knows audio ones better.
            audio::read(path, Kind::Music, "mp4").or_else(|_| video::read(path, "mp4"))
        } else if asf::sniff(head) {
            audio::read(path, Kind::Music, "wma")
        } else if head.starts_with(b"PK\x03\x04") {
            book::read_epub(path)
        } else if head.starts_with(b"%PDF") {
            book::read_pdf(path)
        } else {
            audio::read(path, Kind::Music, "audio")
        }
    })
}

fn read_media(path: &Path, kind: Kind) -> Result<Metadata> {
    let ext = ext_lower(path).unwrap_or_default();
    match (kind, ext.as_str()) {
        (Kind::Book, "epub") => book::read_epub(path),
        (Kind::Book, "pdf") => book::read_pdf(path),
        (Kind::Book, _) => book::read_audiobook(path),
        (Kind::Music, "mka") => {
            let mut m = Metadata::new(Kind::Music, "mka");
            mkv::read(path, &mut m)?;
            if m.title.is_none() {
                m.title = parse_file_name(path).title;
            }
            Ok(m)
        }
        (Kind::Music, ext) => audio::read(path, Kind::Music, ext),
        (Kind::Video, ext) => video::read(path, ext),
    }
}

fn guarded(path: &Path, f: impl FnOnce() -> Result<Metadata>) -> Result<Metadata> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(mut m)) => {
            m.tidy();
            Ok(m)
        }
        Ok(Err(e)) => Err(e),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            Err(Error::Crashed {
                path: path.to_path_buf(),
                reason,
            })
        }
    }
}

/// How many bytes of each end of a file go into its fingerprint.
const FINGERPRINT_SPAN: u64 = 16 * 1024;

/// A cheap content identity: BLAKE3 over the size, the first and last
/// 16 KiB, and 16 KiB at a quarter, half and three quarters of the file.
/// It survives renames and moves, and changes whenever tags at either end,
/// the length or the content between change: two recordings of one length
/// with the same tags and silent ends (which the ends alone confused, so a
/// like could move to the wrong track) differ in their middles. Five reads,
/// not the whole file.
pub fn fingerprint(path: &Path) -> Result<String> {
    let mut file = open_regular(path)?;
    let io = |e| Error::io(path, e);
    let len = file.metadata().map_err(io)?.len();
    let mut hasher = blake3::Hasher::new();
    hasher.update(&len.to_le_bytes());
    let mut buf = vec![0u8; FINGERPRINT_SPAN as usize];
    if len <= FINGERPRINT_SPAN * 5 {
        // Small enough to hash whole.
        let mut all = Vec::with_capacity(len as usize);
        file.read_to_end(&mut all).map_err(io)?;
        hasher.update(&all);
    } else {
        for at in [0, len / 4, len / 2, len / 4 * 3, len - FINGERPRINT_SPAN] {
            file.seek(SeekFrom::Start(at)).map_err(io)?;
            let n = read_up_to(&mut file, &mut buf).map_err(io)?;
            hasher.update(&buf[..n]);
        }
    }
    Ok(hasher.finalize().to_hex()[..32].to_string())
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Looks for cover art files beside `path`: `<stem>-poster.jpg`,
/// `<stem>.jpg`, then the conventional folder images.
pub(crate) fn cover_beside(path: &Path) -> Option<Cover> {
    let dir = path.parent()?;
    let stem = path.file_stem()?.to_str()?;
    let mut names: Vec<String> = ["poster", "cover", "thumb"]
        .iter()
        .flat_map(|s| ["jpg", "png"].map(|e| format!("{stem}-{s}.{e}")))
        .collect();
    names.extend(["jpg", "png"].map(|e| format!("{stem}.{e}")));
    for base in ["cover", "folder", "poster", "front"] {
        for e in ["jpg", "jpeg", "png"] {
            names.push(format!("{base}.{e}"));
        }
    }
    names
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .map(Cover::File)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_by_extension() {
        assert_eq!(
            classify(Path::new("/m/a/Song.MP3")),
            Some(Role::Media(Kind::Music))
        );
        assert_eq!(
            classify(Path::new("/b/x.epub")),
            Some(Role::Media(Kind::Book))
        );
        assert_eq!(
            classify(Path::new("/v/Movie.2010.mkv")),
            Some(Role::Media(Kind::Video))
        );
        assert_eq!(classify(Path::new("/v/movie.nfo")), Some(Role::Sidecar));
        assert_eq!(classify(Path::new("/v/folder.jpg")), Some(Role::Sidecar));
        assert_eq!(classify(Path::new("/v/holiday.jpg")), None);
        assert_eq!(classify(Path::new("/m/._Song.mp3")), None);
        assert_eq!(classify(Path::new("/m/notes.txt")), None);
    }

    #[test]
    fn recordings_of_one_length_with_the_same_ends_differ() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str, middle: u8| {
            let mut bytes = vec![0u8; 4 * 1024 * 1024];
            bytes[..64].copy_from_slice(&[7u8; 64]);
            for b in &mut bytes[1024 * 1024..3 * 1024 * 1024] {
                *b = middle;
            }
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let (a, b) = (make("a.flac", 1), make("b.flac", 2));
        assert_ne!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        assert_eq!(
            fingerprint(&a).unwrap(),
            fingerprint(&make("c.flac", 1)).unwrap()
        );
    }

    #[test]
    fn fingerprint_follows_content_not_name() {
        let dir = std::env::temp_dir().join(format!("ms-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.bin");
        let b = dir.join("b.bin");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&a, &data).unwrap();
        std::fs::write(&b, &data).unwrap();
        assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        let mut changed = data.clone();
        *changed.last_mut().unwrap() ^= 1;
        std::fs::write(&b, &changed).unwrap();
        assert_ne!(
            fingerprint(&a).unwrap(),
            fingerprint(&b).unwrap(),
            "a change in the tail must change the fingerprint"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
