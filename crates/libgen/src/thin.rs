//! Thin libraries: the works of [`crate::generate`], written as files that
//! say as little as real bare files do.
//!
//! - films: `Movies/Title (Year).mkv`, a Matroska header with the length
//!   and nothing else (no title element, no tags, no `.nfo`);
//! - books: `Books/Author/Title.epub` whose package names the title, the
//!   authors, the language and an identifier (the last two are required by
//!   EPUB) and nothing else: no subjects, no description, no date;
//! - tracks: `Music/Artist/Album/NN - Title.mp3|flac` tagged with the
//!   title, the artist, the album and the track number: no genre, no BPM,
//!   no date, no cover.
//!
//! Everything the source record says is kept in [`GenItem::truth`],
//! `plot`, `features` and `rating` as ground truth for evaluations, and
//! none of it is in the files: judging a thin library by those labels
//! measures what a recommender understands, not what it can match.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::datasets::{self, Book, Movie, Track};
use crate::formats::{self, AudioTags, BookMeta, VideoTags};
use crate::{GenItem, Generated, Spec, movie_truth, safe_name, variant, write};

/// Writes `spec` works as a thin library under `out`: the same works, in
/// the same order, as [`crate::generate`] writes for the same spec, so a
/// thin and a full library of one size hold the same works. Deterministic.
pub fn generate_thin(datasets: &Path, out: &Path, spec: Spec) -> Result<Generated> {
    std::fs::create_dir_all(out)?;
    let mut lib = Generated {
        root: out.to_path_buf(),
        items: Vec::new(),
    };
    let mut taken = Taken::default();
    if spec.music > 0 {
        let tracks = datasets::spotify(datasets)?;
        anyhow::ensure!(!tracks.is_empty(), "no tracks in the dataset");
        let mut numbers = std::collections::HashMap::new();
        for i in 0..spec.music {
            let t = &tracks[i % tracks.len()];
            let album = variant(&t.album, i / tracks.len());
            let no = numbers
                .entry((t.artist.clone(), album.clone()))
                .and_modify(|n| *n += 1)
                .or_insert(1u32);
            lib.items
                .push(track(t, &album, *no, i % 4 == 3, out, &mut taken)?);
        }
    }
    if spec.books > 0 {
        let rows = datasets::books(datasets)?;
        anyhow::ensure!(!rows.is_empty(), "no books in the dataset");
        for i in 0..spec.books {
            let b = &rows[i % rows.len()];
            let title = variant(&b.title, i / rows.len());
            lib.items.push(book(b, &title, i, out, &mut taken)?);
        }
    }
    if spec.videos > 0 {
        let rows = datasets::movies(datasets)?;
        anyhow::ensure!(!rows.is_empty(), "no movies in the dataset");
        for i in 0..spec.videos {
            let m = &rows[i % rows.len()];
            let title = match i / rows.len() {
                0 => m.title.clone(),
                r => format!("{} (Cut {r})", m.title),
            };
            lib.items.push(film(m, &title, out, &mut taken)?);
        }
    }
    Ok(lib)
}

/// Paths already written, so that two works of one name get two files.
#[derive(Default)]
pub struct Taken(HashSet<PathBuf>);

impl Taken {
    /// `dir/stem.ext`, or `dir/stem (2).ext` and so on when taken.
    pub fn path(&mut self, dir: &Path, stem: &str, ext: &str) -> PathBuf {
        let mut path = dir.join(format!("{stem}.{ext}"));
        let mut k = 2;
        while !self.0.insert(path.clone()) {
            path = dir.join(format!("{stem} ({k}).{ext}"));
            k += 1;
        }
        path
    }
}

/// A bare film file: `Movies/Title (Year).mkv` with only its length inside.
pub fn film(m: &Movie, title: &str, out: &Path, taken: &mut Taken) -> Result<GenItem> {
    let seconds = m.runtime_min.map(|r| f64::from(r) * 60.0);
    let year_part = m.year.map(|y| format!(" ({y})")).unwrap_or_default();
    let stem = format!("{}{year_part}", safe_name(title));
    let path = taken.path(&out.join("Movies"), &stem, "mkv");
    write(
        &path,
        &formats::mkv(&VideoTags {
            seconds,
            ..VideoTags::default()
        }),
    )?;
    Ok(GenItem {
        path,
        kind: "video",
        title: title.to_string(),
        creator: None,
        // The file's name says the year.
        year: m.year,
        genres: Vec::new(),
        tags: Vec::new(),
        duration_secs: seconds,
        sidecar: false,
        truth: movie_truth(m),
        features: None,
        plot: m.overview.clone(),
        rating: m.rating,
    })
}

/// An EPUB that names its title and authors and nothing of what it is.
/// `n` makes its identifier unique.
pub fn book(b: &Book, title: &str, n: usize, out: &Path, taken: &mut Taken) -> Result<GenItem> {
    let author = b
        .authors
        .first()
        .cloned()
        .unwrap_or_else(|| "Unknown".into());
    let meta = BookMeta {
        title: title.to_string(),
        authors: b.authors.clone(),
        subjects: Vec::new(),
        language: b.language.clone(),
        date: None,
        description: None,
        identifier: format!("urn:moodshelf:libgen:thin:{n}"),
    };
    let dir = out.join("Books").join(safe_name(&author));
    let path = taken.path(&dir, &safe_name(title), "epub");
    write(&path, &formats::epub(&meta, false)?)?;
    Ok(GenItem {
        path,
        kind: "book",
        title: title.to_string(),
        creator: b.authors.first().cloned(),
        year: None,
        genres: Vec::new(),
        tags: Vec::new(),
        duration_secs: None,
        sidecar: false,
        truth: b.subjects.clone(),
        features: None,
        plot: None,
        rating: None,
    })
}

/// A track tagged with its title, artist, album and number only.
pub fn track(
    t: &Track,
    album: &str,
    no: u32,
    flac: bool,
    out: &Path,
    taken: &mut Taken,
) -> Result<GenItem> {
    let ext = if flac { "flac" } else { "mp3" };
    let dir = out
        .join("Music")
        .join(safe_name(&t.artist))
        .join(safe_name(album));
    let path = taken.path(&dir, &format!("{no:02} - {}", safe_name(&t.title)), ext);
    let seconds = t.length_ms as f64 / 1000.0;
    let tags = AudioTags {
        title: t.title.clone(),
        artist: t.artist.clone(),
        album: album.to_string(),
        track: no,
        ..AudioTags::default()
    };
    let bytes = if flac {
        formats::flac(&tags, seconds)
    } else {
        formats::mp3(&tags, seconds)
    };
    write(&path, &bytes)?;
    Ok(GenItem {
        path,
        kind: "music",
        title: t.title.clone(),
        creator: Some(t.artist.clone()),
        year: None,
        genres: Vec::new(),
        tags: Vec::new(),
        duration_secs: Some(seconds),
        sidecar: false,
        truth: Vec::new(),
        features: Some(t.features),
        plot: None,
        rating: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Spec {
        Spec {
            music: 12,
            books: 12,
            videos: 12,
        }
    }

    #[test]
    fn thin_files_say_only_names() {
        let dir = crate::Scratch::new("thin-names");
        let g = generate_thin(&crate::datasets_dir(), dir.path(), small()).unwrap();
        assert_eq!(g.items.len(), 36);
        for i in &g.items {
            assert!(i.path.is_file(), "{}", i.path.display());
            assert!(i.genres.is_empty() && i.tags.is_empty(), "{i:?}");
            let bytes = std::fs::read(&i.path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            match i.kind {
                "video" => {
                    assert_eq!(i.path.extension().unwrap(), "mkv");
                    assert!(!i.path.with_extension("nfo").exists());
                    // No tags element, no title element.
                    assert!(!bytes.windows(4).any(|w| w == [0x12, 0x54, 0xC3, 0x67]));
                    assert!(!text.contains(&i.title) || i.title.len() < 4);
                    let name = i.path.file_stem().unwrap().to_string_lossy().to_string();
                    if let Some(y) = i.year {
                        assert!(name.ends_with(&format!("({y})")), "{name}");
                    }
                }
                "book" => {
                    assert_eq!(i.path.extension().unwrap(), "epub");
                    let opf = epub_package(&i.path);
                    assert!(opf.contains("<dc:title>"), "{opf}");
                    for absent in ["dc:subject", "dc:description", "dc:date"] {
                        assert!(!opf.contains(absent), "{absent} in {opf}");
                    }
                }
                "music" => {
                    for absent in ["TCON", "TBPM", "TDRC", "GENRE=", "BPM=", "DATE=", "APIC"] {
                        assert!(!text.contains(absent), "{absent} in {}", i.path.display());
                    }
                    assert!(i.features.is_some());
                }
                k => panic!("kind {k}"),
            }
        }
        // The answer key stays with the items, outside the files.
        assert!(g.of_kind("video").all(|i| !i.truth.is_empty()));
        assert!(g.of_kind("book").any(|i| !i.truth.is_empty()));
    }

    #[test]
    fn thin_and_full_hold_the_same_works() {
        let (a, b) = (
            crate::Scratch::new("thin-same-full"),
            crate::Scratch::new("thin-same-thin"),
        );
        let full = crate::generate(&crate::datasets_dir(), a.path(), small()).unwrap();
        let thin = generate_thin(&crate::datasets_dir(), b.path(), small()).unwrap();
        let works = |g: &Generated, kind: &str| -> Vec<(String, Vec<String>)> {
            g.of_kind(kind)
                .map(|i| (i.title.clone(), i.truth.clone()))
                .collect()
        };
        assert_eq!(works(&full, "book"), works(&thin, "book"));
        assert_eq!(works(&full, "music"), works(&thin, "music"));
        // Scene releases shorten a full film's title; the truth is the same.
        let truth = |g: &Generated| -> Vec<Vec<String>> {
            g.of_kind("video").map(|i| i.truth.clone()).collect()
        };
        assert_eq!(truth(&full), truth(&thin));
    }

    fn epub_package(path: &Path) -> String {
        use std::io::Read;
        let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut s = String::new();
        z.by_name("OEBPS/content.opf")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }
}
