//! Audio tags and properties through lofty: ID3v1/v2, APE, Vorbis comments,
//! MP4 ilst, RIFF INFO and AIFF text chunks, whichever a file carries.

use std::io::BufReader;
use std::path::Path;
use std::sync::Once;

use lofty::config::{GlobalOptions, ParseOptions, ParsingMode, apply_global_options};
use lofty::error::FileParseError;
use lofty::file::{AudioFile, FileType, TaggedFile, TaggedFileExt};
use lofty::flac::FlacFile;
use lofty::id3::v2::{Frame, Id3v2Tag};
use lofty::mpeg::MpegFile;
use lofty::ogg::tag::VorbisComments;
use lofty::ogg::{OpusFile, SpeexFile, VorbisFile};
use lofty::picture::PictureType;
use lofty::prelude::{Accessor, ItemKey};
use lofty::probe::Probe;
use lofty::tag::{Tag, TagType};

use crate::text::{clean, leading_number, split_multi, year_in};
use crate::{Cover, Error, Kind, Metadata, Result, asf};

/// No single allocation lofty makes for one file may exceed this. Cover art
/// is the largest legitimate item; anything beyond is a corrupt size field.
const ALLOCATION_LIMIT: usize = 32 * 1024 * 1024;

static LOFTY_OPTIONS: Once = Once::new();

pub fn read(path: &Path, kind: Kind, format: &str) -> Result<Metadata> {
    LOFTY_OPTIONS.call_once(|| {
        apply_global_options(GlobalOptions::new().allocation_limit(ALLOCATION_LIMIT));
    });
    let mut meta = if matches!(format, "wma" | "asf") {
        asf::read(path, kind)?
    } else {
        read_with_lofty(path, kind, format)?
    };
    if meta.title.is_none() {
        meta.title = crate::parse_file_name(path).title;
    }
    if meta.cover.is_none() {
        meta.cover = crate::cover_beside(path);
    }
    Ok(meta)
}

/// What [`probe`] gives: lofty's probe over a buffered regular file.
type FileProbe = Probe<BufReader<std::fs::File>>;

/// A lofty probe over a file opened by [`crate::open_regular`], its type
/// guessed from the extension until the content says otherwise (as
/// `Probe::open` does, which would follow links and block on FIFOs).
pub(crate) fn probe(path: &Path) -> Result<FileProbe> {
    let reader = BufReader::new(crate::open_regular(path)?);
    Ok(match FileType::from_path(path) {
        Some(t) => Probe::with_file_type(reader, t),
        None => Probe::new(reader),
    })
}

fn read_with_lofty(path: &Path, kind: Kind, format: &str) -> Result<Metadata> {
    let options = ParseOptions::new()
        .read_cover_art(true)
        .parsing_mode(ParsingMode::Relaxed);
    let probe = probe(path)?
        .options(options)
        .guess_file_type()
        .map_err(|e| Error::io(path, e))?;
    let file_type = probe.file_type();
    let (tagged, records) = match read_tagged(probe, options) {
        Ok(t) => t,
        // Real files in formats lofty does not read (DSD, TTA): the file
        // is fine and plays elsewhere, so it is listed by its name.
        Err(e) if e.is_unknown_format() && has_known_magic(path, format) => {
            return Ok(Metadata::new(kind, format));
        }
        Err(e) => return Err(Error::parse(path, &e)),
    };

    let format = match format {
        "" | "audio" | "mp4" => file_type
            .map(|t| format!("{t:?}").to_ascii_lowercase())
            .unwrap_or_else(|| format.to_string()),
        f => f.to_string(),
    };
    let mut meta = Metadata::new(kind, format);
    let props = tagged.properties();
    let secs = props.duration().as_secs_f64();
    meta.duration_secs = (secs > 0.0).then_some(secs);
    meta.bitrate_kbps = props
        .audio_bitrate()
        .or(props.overall_bitrate())
        .filter(|b| *b > 0);

    // The primary tag first (ID3v2 for MP3), then the others fill gaps.
    let mut tags: Vec<&Tag> = tagged.primary_tag().into_iter().collect();
    for t in tagged.tags() {
        if !tags.iter().any(|p| std::ptr::eq(*p, t)) {
            tags.push(t);
        }
    }
    for tag in tags {
        fill_from_tag(&mut meta, tag);
        if let Some(h) = listening(tag)
            && !meta.history.iter().any(|x| x.source == h.source)
        {
            meta.history.push(h);
        }
    }
    for h in records {
        add_record(&mut meta.history, h);
    }
    Ok(meta)
}

/// Reads the file into lofty's `TaggedFile`, and the listening records its
/// tags hold that lofty's generic [`Tag`] drops. FLAC, Ogg and MP3 files
/// are read as lofty's own type for them, whose tags keep every field, and
/// then converted, as `Probe::read` converts them: still one parse a file.
fn read_tagged(
    probe: FileProbe,
    options: ParseOptions,
) -> std::result::Result<(TaggedFile, Vec<crate::History>), FileParseError> {
    match probe.file_type() {
        Some(FileType::Flac) => read_as(probe, options, |f: &FlacFile| {
            let mut found: Vec<_> = f
                .vorbis_comments()
                .and_then(fmps_in_vorbis)
                .into_iter()
                .collect();
            found.extend(f.id3v2().map(records_in_id3v2).unwrap_or_default());
            found
        }),
        Some(FileType::Mpeg) => read_as(probe, options, |f: &MpegFile| {
            f.id3v2().map(records_in_id3v2).unwrap_or_default()
        }),
        Some(FileType::Vorbis) => read_as(probe, options, |f: &VorbisFile| {
            fmps_in_vorbis(f.vorbis_comments()).into_iter().collect()
        }),
        Some(FileType::Opus) => read_as(probe, options, |f: &OpusFile| {
            fmps_in_vorbis(f.vorbis_comments()).into_iter().collect()
        }),
        Some(FileType::Speex) => read_as(probe, options, |f: &SpeexFile| {
            fmps_in_vorbis(f.vorbis_comments()).into_iter().collect()
        }),
        _ => probe.read().map(|t| (t, Vec::new())),
    }
}

/// Reads the probed file as lofty's type `F`, takes `records` from it and
/// converts it into a `TaggedFile`.
fn read_as<F: AudioFile + Into<TaggedFile>>(
    probe: FileProbe,
    options: ParseOptions,
    records: impl FnOnce(&F) -> Vec<crate::History>,
) -> std::result::Result<(TaggedFile, Vec<crate::History>), FileParseError> {
    let file = F::read_from(&mut probe.into_inner(), options)?;
    let found = records(&file);
    Ok((file.into(), found))
}

/// Adds a record, or completes the one already there from the same
/// source: a player that counts plays in both POPM and PCNT may have
/// stopped updating one, so of two counts the larger is kept.
fn add_record(history: &mut Vec<crate::History>, h: crate::History) {
    match history.iter_mut().find(|x| x.source == h.source) {
        Some(x) => {
            x.plays = x.plays.max(h.plays);
            x.rating = x.rating.or(h.rating);
            x.last_played = x.last_played.or(h.last_played);
        }
        None => history.push(h),
    }
}

/// The freedesktop FMPS rating and play count as Vorbis comments
/// (`FMPS_RATING`, `FMPS_PLAYCOUNT`), as Amarok, Clementine and
/// Strawberry write them.
fn fmps_in_vorbis(tag: &VorbisComments) -> Option<crate::History> {
    fmps(tag.get("FMPS_RATING"), tag.get("FMPS_PLAYCOUNT"))
}

/// What an ID3v2 tag records beyond its POPM: the FMPS rating and play
/// count in TXXX frames (`FMPS_Rating`, `FMPS_Playcount`), and the PCNT
/// play counter, which belongs with the tag's own "id3" record.
fn records_in_id3v2(tag: &Id3v2Tag) -> Vec<crate::History> {
    let user_text = |description: &str| {
        tag.iter().find_map(|f| match f {
            Frame::UserText(t) if t.description.eq_ignore_ascii_case(description) => {
                Some(&*t.content)
            }
            _ => None,
        })
    };
    let counter = tag.iter().find_map(|f| match f {
        Frame::Binary(b) if b.id().as_str() == "PCNT" => play_counter(&b.data),
        _ => None,
    });
    let pcnt = crate::History {
        plays: counter,
        ..crate::History::of("id3")
    }
    .tidy();
    fmps(user_text("FMPS_Rating"), user_text("FMPS_Playcount"))
        .into_iter()
        .chain(pcnt)
        .collect()
}

/// An FMPS record from its rating (0–1, stored to a tenth of the 0–10
/// scale) and play count (whole plays). A value that is not a number
/// within its range is a broken tagger's, and left out alone.
fn fmps(rating: Option<&str>, plays: Option<&str>) -> Option<crate::History> {
    let rating = rating
        .and_then(fmps_number)
        .filter(|r| *r <= 1.0)
        .map(|r| ((r * 100.0).round() / 10.0) as f32);
    let plays = plays
        .and_then(fmps_number)
        .filter(|p| *p >= 1.0 && *p <= f64::from(u32::MAX))
        .map(|p| p as u32);
    crate::History {
        rating,
        plays,
        ..crate::History::of("fmps")
    }
    .tidy()
}

/// A non-negative, finite FMPS number; ID3v2.4 may hold several values
/// apart by NULs, of which the first is taken.
fn fmps_number(s: &str) -> Option<f64> {
    let v: f64 = s.split('\0').next()?.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// ID3v2's PCNT: a big-endian counter of at least four bytes, longer once
/// it outgrows them. A count past `u32::MAX` is a corrupt frame.
fn play_counter(data: &[u8]) -> Option<u32> {
    if data.len() < 4 {
        return None;
    }
    let n = data
        .iter()
        .try_fold(0u64, |n, b| n.checked_mul(256).map(|n| n | u64::from(*b)))?;
    u32::try_from(n).ok()
}

/// A player's or tagger's record of the person's listening: their star
/// rating and play counter (ID3v2 POPM, a Vorbis comment `RATING`, MP4
/// `rate`), through lofty's popularimeter.
fn listening(tag: &Tag) -> Option<crate::History> {
    let p = tag.ratings().next()?;
    let source = match tag.tag_type() {
        TagType::Id3v2 => "id3",
        TagType::VorbisComments => "vorbis",
        TagType::Mp4Ilst => "mp4",
        TagType::Ape => "ape",
        _ => "tag",
    };
    crate::History {
        rating: Some(f32::from(p.rating as u8) * 2.0),
        plays: u32::try_from(p.play_counter).ok().filter(|n| *n > 0),
        ..crate::History::of(source)
    }
    .tidy()
}

/// Whether the file starts the way its (lofty-unsupported) format must.
fn has_known_magic(path: &Path, format: &str) -> bool {
    let magic: &[u8] = match format {
        "dsf" => b"DSD ",
        "dff" => b"FRM8",
        "tta" => b"TTA1",
        _ => return false,
    };
    let mut head = [0u8; 4];
    crate::open_regular(path)
        .is_ok_and(|mut f| std::io::Read::read_exact(&mut f, &mut head).is_ok() && head == magic)
}

/// Fills what `tag` says and `meta` does not have yet.
pub(crate) fn fill_from_tag(meta: &mut Metadata, tag: &Tag) {
    fill_identity(meta, tag);
    fill_words(meta, tag);
    if meta.cover.is_none() {
        meta.cover = cover_of(tag);
    }
}

/// The title, artists, album, track, disc and year.
fn fill_identity(meta: &mut Metadata, tag: &Tag) {
    if meta.title.is_none() {
        meta.title = tag.title().and_then(|s| clean(&s));
    }
    if meta.creators.is_empty() {
        let mut artists: Vec<String> = tag
            .get_strings(ItemKey::TrackArtists)
            .flat_map(split_multi)
            .collect();
        if artists.is_empty() {
            artists = tag
                .get_strings(ItemKey::TrackArtist)
                .flat_map(split_multi)
                .collect();
        }
        meta.creators = artists;
    }
    if meta.album.is_none() {
        meta.album = tag.album().and_then(|s| clean(&s));
    }
    if meta.album_artist.is_none() {
        meta.album_artist = tag.get_string(ItemKey::AlbumArtist).and_then(clean);
    }
    if meta.track.is_none() {
        meta.track = tag.track().filter(|t| *t > 0);
    }
    if meta.disc.is_none() {
        meta.disc = tag.disk().filter(|d| *d > 0);
    }
    if meta.year.is_none() {
        meta.year = tag
            .date()
            .map(|d| i32::from(d.year))
            .filter(|y| *y > 0)
            .or_else(|| {
                [
                    ItemKey::Year,
                    ItemKey::RecordingDate,
                    ItemKey::ReleaseDate,
                    ItemKey::OriginalReleaseDate,
                ]
                .into_iter()
                .find_map(|k| tag.get_string(k).and_then(year_in))
            });
    }
}

/// The genres, moods, comment, description, lyrics, tempo, language and
/// label.
fn fill_words(meta: &mut Metadata, tag: &Tag) {
    if meta.genres.is_empty() {
        meta.genres = tag
            .get_strings(ItemKey::Genre)
            .flat_map(split_multi)
            .map(|g| resolve_id3_genre(&g))
            .collect();
    }
    for mood in tag.get_strings(ItemKey::Mood).flat_map(split_multi) {
        meta.tags.push(mood);
    }
    if meta.comment.is_none() {
        meta.comment = tag.get_strings(ItemKey::Comment).find_map(useful_comment);
    }
    if meta.description.is_none() {
        meta.description = [ItemKey::Description, ItemKey::PodcastDescription]
            .into_iter()
            .find_map(|k| tag.get_string(k).and_then(clean));
    }
    if meta.lyrics.is_none() {
        meta.lyrics = [ItemKey::Lyrics, ItemKey::UnsyncLyrics]
            .into_iter()
            .find_map(|k| tag.get_string(k).and_then(clean));
    }
    if meta.bpm.is_none() {
        meta.bpm = [ItemKey::Bpm, ItemKey::IntegerBpm]
            .into_iter()
            .find_map(|k| tag.get_string(k).and_then(leading_number))
            .filter(|b| *b > 0.0 && *b < 1000.0);
    }
    if meta.language.is_none() {
        meta.language = tag.get_string(ItemKey::Language).and_then(clean);
    }
    if meta.publisher.is_none() {
        meta.publisher = [ItemKey::Label, ItemKey::Publisher]
            .into_iter()
            .find_map(|k| tag.get_string(k).and_then(clean));
    }
}

/// The front cover, else the first picture.
fn cover_of(tag: &Tag) -> Option<Cover> {
    let pics = tag.pictures();
    let best = pics
        .iter()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pics.first());
    best.filter(|p| !p.data().is_empty())
        .map(|p| Cover::Embedded {
            mime: p
                .mime_type()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            data: p.data().to_vec(),
        })
}

/// Players store ID3 genres as "(17)", "17" or "(17)Rock"; show the name.
fn resolve_id3_genre(g: &str) -> String {
    let t = g.trim();
    let inner = t
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(n, rest)| (n, rest.trim()));
    match inner {
        Some((_, rest)) if !rest.is_empty() => rest.to_string(),
        Some((n, _)) => genre_by_number(n).unwrap_or(t).to_string(),
        None => genre_by_number(t).unwrap_or(t).to_string(),
    }
}

fn genre_by_number(n: &str) -> Option<&'static str> {
    let i: usize = n.parse().ok()?;
    lofty::id3::v1::GENRES.get(i).copied()
}

/// iTunes and rippers store machine data in comments (iTunNORM, encoder
/// strings, hex blobs); those say nothing about the music.
fn useful_comment(c: &str) -> Option<String> {
    let c = clean(c)?;
    let hexish = c
        .chars()
        .filter(|ch| ch.is_ascii_hexdigit() || *ch == ' ')
        .count();
    if hexish * 10 >= c.chars().count() * 9 && c.len() > 16 {
        return None;
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use lofty::config::WriteOptions;
    use lofty::id3::v2::{BinaryFrame, FrameId, PopularimeterFrame};
    use lofty::tag::TagExt;

    use super::*;
    use crate::History;

    /// A copy of a real file from the shared fixtures, writable, in a
    /// temporary folder of its own.
    fn fixture_copy(name: &str, as_name: &str) -> (tempfile::TempDir, PathBuf) {
        let shared = std::env::var_os("MOODSHELF_SHARED_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        let src = shared.join("fixtures/media/audio").join(name);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(as_name);
        // Written, not copied: the fixtures are read-only, and so would be
        // a copy's permissions.
        std::fs::write(&path, std::fs::read(&src).unwrap()).unwrap();
        (dir, path)
    }

    /// Sets Vorbis comments in a FLAC, Ogg Vorbis or Opus file through
    /// lofty's own type for it, keeping what the file already holds.
    fn set_vorbis_comments(path: &Path, comments: &[(&str, &str)]) {
        let set = |tag: &mut VorbisComments| {
            for (k, v) in comments {
                tag.insert((*k).to_string(), (*v).to_string());
            }
        };
        let mut file = std::fs::File::open(path).unwrap();
        let (opts, write) = (ParseOptions::new(), WriteOptions::default());
        match path.extension().and_then(|e| e.to_str()) {
            Some("flac") => {
                let mut f = FlacFile::read_from(&mut file, opts).unwrap();
                if f.vorbis_comments().is_none() {
                    f.set_vorbis_comments(VorbisComments::default());
                }
                set(f.vorbis_comments_mut().unwrap());
                f.save_to_path(path, write).unwrap();
            }
            Some("ogg") => {
                let mut f = VorbisFile::read_from(&mut file, opts).unwrap();
                set(f.vorbis_comments_mut());
                f.save_to_path(path, write).unwrap();
            }
            Some("opus") => {
                let mut f = OpusFile::read_from(&mut file, opts).unwrap();
                set(f.vorbis_comments_mut());
                f.save_to_path(path, write).unwrap();
            }
            other => panic!("no Vorbis comments in {other:?}"),
        }
    }

    /// The MP3's ID3v2 tag, read through lofty's `MpegFile`.
    fn id3v2_of(path: &Path) -> Id3v2Tag {
        let mut file = std::fs::File::open(path).unwrap();
        let f = MpegFile::read_from(&mut file, ParseOptions::new()).unwrap();
        f.id3v2().cloned().unwrap_or_default()
    }

    fn pcnt(count: &[u8]) -> Frame<'static> {
        Frame::Binary(BinaryFrame::new(
            FrameId::new("PCNT").unwrap(),
            count.to_vec(),
        ))
    }

    fn record<'a>(history: &'a [History], source: &str) -> Option<&'a History> {
        history.iter().find(|h| h.source == source)
    }

    #[test]
    fn fmps_vorbis_comments_are_history() {
        for name in ["full_test.flac", "full_test.ogg", "full_test.opus"] {
            let as_name = format!("track.{}", name.rsplit('.').next().unwrap());
            let (_dir, path) = fixture_copy(&format!("lofty/{name}"), &as_name);
            set_vorbis_comments(&path, &[("FMPS_RATING", "0.8"), ("FMPS_PLAYCOUNT", "3.0")]);
            let meta = crate::extract(&path).unwrap();
            let h = record(&meta.history, "fmps").unwrap_or_else(|| panic!("{name}: no FMPS"));
            assert_eq!((h.rating, h.plays), (Some(8.0), Some(3)), "{name}");
            assert!(
                meta.title.is_some(),
                "{name}: the other tags are still read"
            );
            assert!(meta.duration_secs.is_some(), "{name}: and its properties");
        }
    }

    #[test]
    fn fmps_frames_and_the_play_counter_in_id3v2_are_history() {
        let (_dir, path) = fixture_copy("lofty/full_test.mp3", "track.mp3");
        let mut tag = id3v2_of(&path);
        tag.insert_user_text("FMPS_Rating".into(), "0.6".into());
        tag.insert_user_text("FMPS_Playcount".into(), "12".into());
        tag.insert(Frame::Popularimeter(PopularimeterFrame::new(
            "Windows Media Player 9 Series",
            196,
            4,
        )));
        tag.insert(pcnt(&9u32.to_be_bytes()));
        tag.save_to_path(&path, WriteOptions::default()).unwrap();
        let meta = crate::extract(&path).unwrap();
        let id3 = record(&meta.history, "id3").expect("the tag's own record");
        assert_eq!(
            (id3.rating, id3.plays),
            (Some(8.0), Some(9)),
            "POPM's rating, and PCNT's count as the larger"
        );
        let fmps = record(&meta.history, "fmps").expect("the FMPS record");
        assert_eq!((fmps.rating, fmps.plays), (Some(6.0), Some(12)));

        // PCNT alone, grown past four bytes, is the tag's record.
        let mut tag = id3v2_of(&path);
        tag.remove(&FrameId::new("POPM").unwrap()).for_each(drop);
        tag.remove_user_text("FMPS_Rating");
        tag.remove_user_text("FMPS_Playcount");
        tag.insert(pcnt(&[0, 0, 0, 1, 2]));
        tag.save_to_path(&path, WriteOptions::default()).unwrap();
        let meta = crate::extract(&path).unwrap();
        assert_eq!(meta.history.len(), 1, "{:?}", meta.history);
        assert_eq!(record(&meta.history, "id3").unwrap().plays, Some(258));
    }

    #[test]
    fn a_broken_fmps_value_is_ignored_alone() {
        let (_dir, path) = fixture_copy("lofty/full_test.flac", "track.flac");
        set_vorbis_comments(&path, &[("FMPS_RATING", "lots"), ("FMPS_PLAYCOUNT", "-2")]);
        let meta = crate::extract(&path).unwrap();
        assert!(
            record(&meta.history, "fmps").is_none(),
            "{:?}",
            meta.history
        );
        assert!(meta.title.is_some(), "the file is still read");

        for bad in ["NaN", "1.5", "-0.2", "inf", ""] {
            set_vorbis_comments(&path, &[("FMPS_RATING", bad), ("FMPS_PLAYCOUNT", "4")]);
            let meta = crate::extract(&path).unwrap();
            let h = record(&meta.history, "fmps").expect("the play count stands");
            assert_eq!((h.rating, h.plays), (None, Some(4)), "rating {bad:?}");
        }
    }

    #[test]
    fn fmps_and_play_counter_values() {
        let r = |rating, plays| fmps(rating, plays).map(|h| (h.rating, h.plays));
        assert_eq!(r(Some(" 0.8 "), Some("3.0")), Some((Some(8.0), Some(3))));
        assert_eq!(r(Some("0.35"), None), Some((Some(3.5), None)));
        assert_eq!(r(Some("1"), Some("2.7")), Some((Some(10.0), Some(2))));
        assert_eq!(r(Some("0.6\u{0}0.2"), None), Some((Some(6.0), None)));
        assert_eq!(r(Some("0"), Some("0")), None, "unrated and unplayed");
        assert_eq!(r(Some("1e9"), Some("1e12")), None);
        assert_eq!(play_counter(&[0, 0, 1]), None, "shorter than four bytes");
        assert_eq!(play_counter(&[0, 0, 0, 7]), Some(7));
        assert_eq!(play_counter(&[1, 0, 0, 0, 0]), None, "past u32");
    }

    #[test]
    fn a_corrupt_flac_fails_alone_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.flac");
        std::fs::write(&path, b"fLaC\x00\x00\x00\x22truncated").unwrap();
        let err = crate::extract(&path).unwrap_err().to_string();
        assert!(err.contains("broken.flac"), "{err}");
    }

    #[test]
    fn id3_genres() {
        assert_eq!(resolve_id3_genre("(17)"), "Rock");
        assert_eq!(resolve_id3_genre("17"), "Rock");
        assert_eq!(resolve_id3_genre("(17)Rock & Roll"), "Rock & Roll");
        assert_eq!(resolve_id3_genre("Shoegaze"), "Shoegaze");
    }

    #[test]
    fn machine_comments_are_dropped() {
        assert_eq!(
            useful_comment(" 00000A2C 00000A2C 00004C45 00004C45 0000000B"),
            None
        );
        assert_eq!(
            useful_comment("Recorded live in Oslo").as_deref(),
            Some("Recorded live in Oslo")
        );
    }
}
