//! Builds realistic test libraries: N items of each kind taken from the
//! public datasets in `../shared/datasets` and written as real files with
//! real tags, laid out the way people's folders are:
//!
//! - music: `Music/Artist/Album/NN - Title.mp3|flac` with ID3v2.4 or Vorbis
//!   comments, the track's real length, BPM, and some embedded covers;
//! - books: `Books/Author/Title.epub` (EPUB OPF with subjects), a Calibre
//!   library with `metadata.opf` sidecars, and a few PDFs;
//! - video: `Movies/Title (Year)/Title (Year).mkv|mp4` with Kodi `.nfo`
//!   sidecars (plot, genres, tags, runtime, rating, certification, cast),
//!   plus scene-named files with no sidecar at all.
//!
//! [`generate_thin`] writes the same works as a *thin* library (bare
//! `Title (Year).mkv` films, EPUBs with a title and an author, tracks with
//! a title, an artist and an album): what the files say is no longer the
//! answer key, so an evaluation measures understanding rather than string
//! matching. [`knowledge`] writes works that exist nowhere beside real
//! thin ones, to measure whether a model invents facts.
//!
//! Tests and benchmarks share it. Nothing it reads ends up in the product:
//! the datasets are test data only, and the held-out yardstick is never read.

pub mod datasets;
pub mod formats;
pub mod hostile;
pub mod knowledge;
pub mod sound;
pub mod thin;

pub use thin::generate_thin;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use formats::{AudioTags, BookMeta, NfoMovie, VideoTags};

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub music: usize,
    pub books: usize,
    pub videos: usize,
}

/// What was written, for tests to check against.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GenItem {
    pub path: PathBuf,
    /// "music", "book" or "video".
    pub kind: &'static str,
    pub title: String,
    pub creator: Option<String>,
    pub year: Option<i32>,
    pub genres: Vec<String>,
    pub tags: Vec<String>,
    pub duration_secs: Option<f64>,
    /// Whether a sidecar (`.nfo`, `metadata.opf`) carries the metadata.
    pub sidecar: bool,
    /// What the source record says, whether or not the file carries it
    /// (genres, tags, subjects, certification): ground truth for
    /// evaluations, never given to the app.
    pub truth: Vec<String>,
    /// Spotify audio features of a track (music only).
    pub features: Option<datasets::AudioFeatures>,
    /// The film's plot (IMDb overview) and rating, written into the
    /// `.nfo` unless the film is a bare scene release; kept here as ground
    /// truth either way.
    pub plot: Option<String>,
    pub rating: Option<f32>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Generated {
    pub root: PathBuf,
    pub items: Vec<GenItem>,
}

impl Generated {
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = &GenItem> {
        self.items.iter().filter(move |i| i.kind == kind)
    }
}

/// The datasets folder: `MOODSHELF_DATASETS`, else `../shared/datasets`
/// beside the workspace.
pub fn datasets_dir() -> PathBuf {
    std::env::var_os("MOODSHELF_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"))
}

/// Makes a file name safe on every platform.
pub fn safe_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim().trim_matches('.').trim();
    let mut out: String = trimmed.chars().take(80).collect();
    if out.is_empty() {
        out.push_str("untitled");
    }
    out
}

/// Writes a library of `spec` items under `out`. Deterministic: the same
/// spec gives the same files.
pub fn generate(datasets: &Path, out: &Path, spec: Spec) -> Result<Generated> {
    std::fs::create_dir_all(out).with_context(|| format!("create {}", out.display()))?;
    let mut lib = Generated {
        root: out.to_path_buf(),
        items: Vec::new(),
    };
    if spec.music > 0 {
        music(&datasets::spotify(datasets)?, out, spec.music, &mut lib)?;
    }
    if spec.books > 0 {
        books(&datasets::books(datasets)?, out, spec.books, &mut lib)?;
    }
    if spec.videos > 0 {
        videos(&datasets::movies(datasets)?, out, spec.videos, &mut lib)?;
    }
    Ok(lib)
}

/// A scratch folder for tests, removed when dropped (the crate has no
/// dependency for temporary folders and needs none).
#[cfg(test)]
pub(crate) struct Scratch(PathBuf);

#[cfg(test)]
impl Scratch {
    pub(crate) fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("moodshelf-libgen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Names for the n-th repetition of a dataset row, so large libraries have
/// distinct items with realistic metadata.
pub(crate) fn variant(base: &str, round: usize) -> String {
    const SUFFIXES: &[&str] = &[
        "Live",
        "Remastered",
        "Acoustic",
        "Demo",
        "Radio Edit",
        "Extended Mix",
        "Alternate Take",
        "Mono",
    ];
    match round {
        0 => base.to_string(),
        r => format!(
            "{base} ({} {})",
            SUFFIXES[(r - 1) % SUFFIXES.len()],
            (r - 1) / SUFFIXES.len() + 1
        ),
    }
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("write {}", path.display()))
}

fn music(tracks: &[datasets::Track], out: &Path, n: usize, lib: &mut Generated) -> Result<()> {
    anyhow::ensure!(!tracks.is_empty(), "no tracks in the dataset");
    let mut track_no: HashMap<(String, String), u32> = HashMap::new();
    let mut taken: HashSet<PathBuf> = HashSet::new();
    for i in 0..n {
        let t = &tracks[i % tracks.len()];
        let round = i / tracks.len();
        let album = variant(&t.album, round);
        let no = track_no
            .entry((t.artist.clone(), album.clone()))
            .and_modify(|n| *n += 1)
            .or_insert(1);
        let flac = i % 4 == 3;
        let ext = if flac { "flac" } else { "mp3" };
        let dir = out
            .join("Music")
            .join(safe_name(&t.artist))
            .join(safe_name(&album));
        let mut path = dir.join(format!("{:02} - {}.{ext}", no, safe_name(&t.title)));
        let mut k = 2;
        while !taken.insert(path.clone()) {
            path = dir.join(format!("{:02} - {} ({k}).{ext}", no, safe_name(&t.title)));
            k += 1;
        }
        let seconds = t.length_ms as f64 / 1000.0;
        let tags = AudioTags {
            title: t.title.clone(),
            artist: t.artist.clone(),
            album: album.clone(),
            album_artist: Some(t.artist.clone()),
            track: *no,
            date: t.year.map(|y| y.to_string()),
            genre: None,
            bpm: t.tempo.map(|b| b.round() as u32),
            cover_png: i % 5 == 0,
            popularimeter: None,
            fmps: None,
        };
        let bytes = if flac {
            formats::flac(&tags, seconds)
        } else {
            formats::mp3(&tags, seconds)
        };
        write(&path, &bytes)?;
        lib.items.push(GenItem {
            path,
            kind: "music",
            title: t.title.clone(),
            creator: Some(t.artist.clone()),
            year: t.year,
            genres: Vec::new(),
            tags: Vec::new(),
            duration_secs: Some(seconds),
            sidecar: false,
            truth: Vec::new(),
            features: Some(t.features),
            plot: None,
            rating: None,
        });
    }
    Ok(())
}

fn books(rows: &[datasets::Book], out: &Path, n: usize, lib: &mut Generated) -> Result<()> {
    anyhow::ensure!(!rows.is_empty(), "no books in the dataset");
    let mut taken: HashSet<PathBuf> = HashSet::new();
    for i in 0..n {
        let b = &rows[i % rows.len()];
        let round = i / rows.len();
        let title = variant(&b.title, round);
        let author = b
            .authors
            .first()
            .cloned()
            .unwrap_or_else(|| "Unknown".into());
        let meta = BookMeta {
            title: title.clone(),
            authors: b.authors.clone(),
            subjects: b.subjects.clone(),
            language: b.language.clone(),
            date: b.year.map(|y| y.to_string()),
            description: None,
            identifier: format!("urn:moodshelf:libgen:{i}"),
        };
        // One book in five lives in a Calibre library: the metadata the user
        // curated sits in metadata.opf beside the file, which says less.
        let calibre = i % 5 == 4;
        let pdf = i % 25 == 7;
        let dir = if calibre {
            out.join("Books/Calibre Library")
                .join(safe_name(&author))
                .join(format!("{} ({i})", safe_name(&title)))
        } else {
            out.join("Books").join(safe_name(&author))
        };
        let ext = if pdf { "pdf" } else { "epub" };
        let path = free_path(&mut taken, &dir, &safe_name(&title), ext);
        if calibre {
            write_calibre_book(&path, &meta, pdf)?;
        } else if pdf {
            write(&path, &pdf_bytes(&title, &b.authors.join(", ")))?;
        } else {
            write(&path, &formats::epub(&meta, i % 3 == 0)?)?;
        }
        lib.items.push(GenItem {
            path,
            kind: "book",
            title,
            creator: b.authors.first().cloned(),
            // A bare PDF's info dictionary carries no publication year.
            year: if pdf && !calibre { None } else { b.year },
            genres: b.subjects.clone(),
            tags: Vec::new(),
            duration_secs: None,
            sidecar: calibre,
            truth: b.subjects.clone(),
            features: None,
            plot: None,
            rating: None,
        });
    }
    Ok(())
}

/// `dir/stem.ext`, or `dir/stem (2).ext` and so on when that is taken.
fn free_path(taken: &mut HashSet<PathBuf>, dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut path = dir.join(format!("{stem}.{ext}"));
    let mut k = 2;
    while !taken.insert(path.clone()) {
        path = dir.join(format!("{stem} ({k}).{ext}"));
        k += 1;
    }
    path
}

/// A book as a Calibre library keeps it: the file says only its title,
/// `metadata.opf` beside it says what the person curated, with a cover.
fn write_calibre_book(path: &Path, meta: &BookMeta, pdf: bool) -> Result<()> {
    let inner = BookMeta {
        title: safe_name(&meta.title),
        authors: Vec::new(),
        subjects: Vec::new(),
        ..meta.clone()
    };
    let bytes = if pdf {
        pdf_bytes(&inner.title, "")
    } else {
        formats::epub(&inner, false)?
    };
    write(path, &bytes)?;
    let dir = path.parent().expect("a book's path has a folder");
    write(
        &dir.join("metadata.opf"),
        formats::opf(meta, None).as_bytes(),
    )?;
    write(&dir.join("cover.png"), formats::TINY_PNG)
}

/// What a film's source record says of it: genres, user tags and the
/// certificate (as `certificate:R`).
pub(crate) fn movie_truth(m: &datasets::Movie) -> Vec<String> {
    m.genres
        .iter()
        .chain(&m.tags)
        .cloned()
        .chain(m.certificate.iter().map(|c| format!("certificate:{c}")))
        .collect()
}

/// A PDF whose Info dictionary names the title and author.
fn pdf_bytes(title: &str, author: &str) -> Vec<u8> {
    let esc = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii() && !c.is_control())
            .collect::<String>()
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)")
    };
    formats::pdf(&format!(
        "<< /Title ({}) /Author ({}) >>",
        esc(title),
        esc(author)
    ))
}

/// A film's file, and for all but a scene release its `.nfo`.
fn write_video(
    path: &Path,
    m: &datasets::Movie,
    title: &str,
    scene: bool,
    mp4: bool,
) -> Result<()> {
    let seconds = m.runtime_min.map(|r| f64::from(r) * 60.0);
    let bytes = if mp4 {
        formats::mp4(seconds.unwrap_or(5400.0))
    } else {
        formats::mkv(&VideoTags {
            title: (!scene).then(|| title.to_string()),
            seconds,
            date: m.year.map(|y| y.to_string()),
            genre: None,
            director: None,
        })
    };
    write(path, &bytes)?;
    if scene {
        return Ok(());
    }
    let nfo = NfoMovie {
        title: title.to_string(),
        year: m.year,
        plot: m.overview.clone(),
        genres: m.genres.clone(),
        tags: m.tags.iter().take(12).cloned().collect(),
        runtime_min: m.runtime_min,
        mpaa: m.certificate.clone(),
        director: m.director.clone(),
        actors: m.stars.clone(),
        rating: m.rating,
    };
    write(&path.with_extension("nfo"), formats::nfo(&nfo).as_bytes())
}

fn videos(rows: &[datasets::Movie], out: &Path, n: usize, lib: &mut Generated) -> Result<()> {
    anyhow::ensure!(!rows.is_empty(), "no movies in the dataset");
    let mut taken: HashSet<PathBuf> = HashSet::new();
    for i in 0..n {
        let m = &rows[i % rows.len()];
        let round = i / rows.len();
        let title = match round {
            0 => m.title.clone(),
            r => format!("{} (Cut {r})", m.title),
        };
        let year_part = m.year.map(|y| format!(" ({y})")).unwrap_or_default();
        let seconds = m.runtime_min.map(|r| f64::from(r) * 60.0);
        // One film in ten is a scene release with nothing but its name.
        let scene = i % 10 == 9 && m.year.is_some();
        let mp4 = i % 5 == 2;
        let ext = if mp4 { "mp4" } else { "mkv" };
        let (dir, stem) = if scene {
            let dotted: String = safe_name(&title)
                .chars()
                .map(|c| if c == ' ' { '.' } else { c })
                .collect();
            (
                out.join("Movies/Incoming"),
                format!(
                    "{dotted}.{}.1080p.BluRay.x264-GRP",
                    m.year.unwrap_or_default()
                ),
            )
        } else {
            let name = format!("{}{year_part}", safe_name(&title));
            (out.join("Movies").join(&name), name)
        };
        let path = free_path(&mut taken, &dir, &stem, ext);
        write_video(&path, m, &title, scene, mp4)?;
        lib.items.push(GenItem {
            path,
            kind: "video",
            // What a reader can recover from a scene name: the words.
            title: if scene {
                safe_name(&title)
                    .split([' ', '_', '.'])
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                title
            },
            creator: if scene { None } else { m.director.clone() },
            year: m.year,
            genres: if scene { Vec::new() } else { m.genres.clone() },
            tags: if scene { Vec::new() } else { m.tags.clone() },
            duration_secs: if mp4 {
                Some(seconds.unwrap_or(5400.0))
            } else {
                seconds
            },
            sidecar: !scene,
            truth: movie_truth(m),
            features: None,
            plot: m.overview.clone(),
            rating: m.rating,
        });
    }
    Ok(())
}
