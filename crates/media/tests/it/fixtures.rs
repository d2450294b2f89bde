//! Every file in `../shared/fixtures/media` goes through extraction: real
//! files written by real taggers and encoders, many deliberately broken.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use moodshelf_media::{Error, Kind, Metadata, extract, extract_any};

fn fixtures() -> PathBuf {
    let shared = std::env::var_os("MOODSHELF_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("fixtures/media");
    assert!(
        dir.is_dir(),
        "fixtures not found at {} (set MOODSHELF_SHARED_DIR)",
        dir.display()
    );
    dir
}

fn all_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(fixtures())
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// Runs extraction on another thread so that a hang is reported with the
/// file's name instead of stalling the suite.
fn extract_all(files: Vec<PathBuf>) -> Vec<(PathBuf, Result<Metadata, Error>)> {
    enum Msg {
        Started(PathBuf),
        Done(PathBuf, Box<Result<Metadata, Error>>),
    }
    let (tx, rx) = mpsc::channel();
    let expected = files.len();
    std::thread::spawn(move || {
        for f in files {
            tx.send(Msg::Started(f.clone())).unwrap();
            let r = extract_any(&f);
            tx.send(Msg::Done(f, Box::new(r))).unwrap();
        }
    });
    let mut done = Vec::with_capacity(expected);
    for _ in 0..expected {
        let Ok(Msg::Started(started)) = rx.recv() else {
            panic!("extraction worker died")
        };
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Msg::Done(path, r)) => done.push((path, *r)),
            _ => panic!("extraction hangs on {}", started.display()),
        }
    }
    done
}

#[test]
fn every_fixture_is_read_or_refused_alone() {
    let files = all_files();
    assert!(files.len() > 750, "expected the ~800 shared fixtures");
    let results = extract_all(files);
    let mut ok = 0;
    for (path, r) in &results {
        match r {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.path(), path, "an error names its own file");
                assert!(
                    !matches!(e, Error::Crashed { .. }),
                    "a reader panicked on {}: {e}",
                    path.display()
                );
                assert!(!e.to_string().is_empty());
            }
        }
    }
    // Regression guard: today 610 of 796 files yield metadata; the rest are
    // raw tag blobs, images and deliberately broken files.
    assert!(ok >= 600, "only {ok} fixtures were readable");
}

#[test]
fn broken_files_fail_with_reasons() {
    let dir = fixtures();
    for name in [
        "audio/lofty/oom-48ae4cd061ff8578ad3f23dc87624bd365cf5216.wav",
        "audio/lofty/segfault.wav",
        "audio/lofty/infloop.wv",
        "audio/lofty/longloop.ape",
        "audio/mutagen/emptyfile.mp3",
        "audio/mutagen/ooming-header.flac",
        "audio/taglib/zerodiv.mpc",
    ] {
        let path = dir.join(name);
        match extract(&path) {
            Err(Error::Malformed { reason, .. }) => {
                assert!(reason.len() > 10, "{name}: reason too vague: {reason}")
            }
            other => panic!("{name}: expected a Malformed error, got {other:?}"),
        }
    }
    let missing = dir.join("audio/does-not-exist.mp3");
    assert!(matches!(
        extract(&missing),
        Err(Error::Malformed { .. } | Error::Unreadable { .. })
    ));
}

struct Expect {
    file: &'static str,
    kind: Kind,
    title: &'static str,
    creator: Option<&'static str>,
    album: Option<&'static str>,
    year: Option<i32>,
    genre: Option<&'static str>,
    duration: Option<f64>,
    cover: bool,
}

const fn e(file: &'static str, kind: Kind, title: &'static str) -> Expect {
    Expect {
        file,
        kind,
        title,
        creator: None,
        album: None,
        year: None,
        genre: None,
        duration: None,
        cover: false,
    }
}

#[test]
fn known_values_per_format() {
    use Kind::*;
    let cases = [
        Expect {
            creator: Some("piman"),
            album: Some("Quod Libet Test Data"),
            year: Some(2004),
            genre: Some("Silence"),
            duration: Some(3.684),
            cover: true,
            ..e("audio/mutagen/silence-44-s.flac", Music, "Silence")
        },
        Expect {
            creator: Some("Basshunter"),
            album: Some("I Can Walk On Water I Can Fly"),
            year: Some(2007),
            genre: Some("Dance"),
            duration: Some(222.198),
            ..e(
                "audio/mutagen/vbri.mp3",
                Music,
                "I Can Walk On Water I Can Fly",
            )
        },
        Expect {
            creator: Some("Left Wing Fascists"),
            year: Some(1991),
            genre: Some("Punk"),
            cover: true,
            ..e(
                "audio/lofty/duplicate_id3v2.mp3",
                Music,
                "Jo Ones Ugly After 2 AM",
            )
        },
        Expect {
            creator: Some("UVERworld"),
            album: Some("Timeless"),
            year: Some(2006),
            genre: Some("JRock"),
            ..e("audio/mutagen/multipage-setup.ogg", Music, "Burst")
        },
        Expect {
            creator: Some("Foo artist"),
            duration: Some(1.428),
            ..e("audio/lofty/full_test.opus", Music, "full test")
        },
        Expect {
            creator: Some("Foo artist"),
            ..e("audio/lofty/full_test.ape", Music, "full test")
        },
        Expect {
            creator: Some("Foo artist"),
            ..e("audio/lofty/full_test.aiff", Music, "full test")
        },
        Expect {
            creator: Some("Lorna Hunt"),
            album: Some("All in One Day"),
            year: Some(1999),
            ..e(
                "audio/taglib/dsd_stereo.wv",
                Music,
                "Long Hard Road (excerpt)",
            )
        },
        Expect {
            genre: Some("Ska"),
            ..e("audio/lofty/gnre.m4a", Music, "gnre")
        },
        Expect {
            creator: Some("piman"),
            year: Some(2004),
            cover: true,
            duration: Some(2.0),
            ..e(
                "audio/mutagen/silence-2s-PCM-44100-16-ID3v23.wav",
                Music,
                "Silence",
            )
        },
        Expect {
            creator: Some("Kaizers Orchestra"),
            album: Some("Live at Vega"),
            year: Some(2006),
            duration: Some(40.613),
            ..e("audio/mutagen/issue_29.wma", Music, "Señor Flamingos Adieu")
        },
        Expect {
            creator: Some("Aleron Kong"),
            year: Some(2018),
            genre: Some("Audiobook"),
            cover: true,
            ..e(
                "audio/mutagen/nero-chapters.m4b",
                Book,
                "The Land: Predators: A LitRPG Saga: Chaos Seeds, Book 7 (Unabridged)",
            )
        },
        Expect {
            creator: Some("John Schember"),
            cover: true,
            ..e("ebooks/eng.epub", Book, "Quick Start Guide")
        },
        Expect {
            creator: Some("John Schember"),
            year: Some(2015),
            genre: Some("Anleitung"),
            cover: true,
            ..e("ebooks/deu.epub", Book, "Kurzanleitung")
        },
        Expect {
            creator: Some("Live Systems Project <debian-live@lists.debian.org>"),
            year: Some(2015),
            ..e("ebooks/live-manual.en.epub", Book, "Live Systems Manual")
        },
        Expect {
            creator: Some("Zack Snyder"),
            year: Some(2017),
            genre: Some("Sci-Fi"),
            duration: Some(6268.0),
            ..e("nfo/Justice League.nfo", Video, "Justice League")
        },
        Expect {
            album: Some("Arrival"),
            year: Some(1976),
            genre: Some("Pop"),
            ..e("nfo/Dancing Queen.nfo", Video, "Dancing Queen")
        },
        Expect {
            duration: Some(0.12),
            year: Some(2023),
            ..e("video/tags-before-cues.mkv", Video, "handbrake")
        },
        Expect {
            duration: Some(1.015),
            ..e(
                "video/vbr_requires_parsespeed_1.mp4",
                Video,
                "vbr requires parsespeed 1",
            )
        },
        Expect {
            duration: Some(0.444),
            ..e("video/no-tags.mka", Music, "no-tags")
        },
    ];
    let dir = fixtures();
    for c in cases {
        let m = extract_any(&dir.join(c.file)).unwrap_or_else(|err| panic!("{}: {err}", c.file));
        assert_eq!(m.kind, c.kind, "{}", c.file);
        assert_eq!(m.title.as_deref(), Some(c.title), "{}", c.file);
        if let Some(cr) = c.creator {
            assert!(
                m.creators.iter().any(|x| x == cr),
                "{}: creators {:?} lack {cr}",
                c.file,
                m.creators
            );
        }
        assert_eq!(
            m.album.as_deref().filter(|_| c.album.is_some()),
            c.album,
            "{}",
            c.file
        );
        if c.year.is_some() {
            assert_eq!(m.year, c.year, "{}", c.file);
        }
        if let Some(g) = c.genre {
            assert!(
                m.genres.iter().any(|x| x == g),
                "{}: genres {:?}",
                c.file,
                m.genres
            );
        }
        if let Some(d) = c.duration {
            let got = m
                .duration_secs
                .unwrap_or_else(|| panic!("{}: no duration", c.file));
            assert!((got - d).abs() < 0.01, "{}: duration {got} != {d}", c.file);
        }
        assert_eq!(m.cover.is_some(), c.cover, "{}: cover", c.file);
    }
}

#[test]
fn nfo_details() {
    let dir = fixtures().join("nfo");
    let n = moodshelf_media::read_nfo(&dir.join("Justice League.nfo")).unwrap();
    assert_eq!(n.rating, Some(6.4), "the default <ratings> entry wins");
    assert_eq!(n.mpaa.as_deref(), Some("M"));
    assert!(n.actors.iter().any(|a| a == "Ben Affleck"));
    assert_eq!(n.set.as_deref(), Some("Justice League Collection"));
    let n = moodshelf_media::read_nfo(&dir.join("CommunityRating_Comma.nfo")).unwrap();
    assert_eq!(n.rating, Some(7.5));
    let n = moodshelf_media::read_nfo(&dir.join("CommunityRating_OutOfRange.nfo")).unwrap();
    assert_eq!(n.rating, None);
    let n = moodshelf_media::read_nfo(&dir.join("Radarr.nfo")).unwrap();
    assert_eq!(n.root, "url");
    assert_eq!(n.ids.len(), 2);
}
