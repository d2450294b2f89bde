//! Audio tags and properties through lofty: ID3v1/v2, APE, Vorbis comments,
//! MP4 ilst, RIFF INFO and AIFF text chunks, whichever a file carries.

use std::io::BufReader;
use std::path::Path;
use std::sync::Once;

use lofty::config::{GlobalOptions, ParseOptions, ParsingMode, apply_global_options};
use lofty::file::{AudioFile, FileType, TaggedFileExt};
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

/// A lofty probe over a file opened by [`crate::open_regular`], its type
/// guessed from the extension until the content says otherwise (as
/// `Probe::open` does, which would follow links and block on FIFOs).
pub(crate) fn probe(path: &Path) -> Result<Probe<BufReader<std::fs::File>>> {
    let reader = BufReader::new(crate::open_regular(path)?);
    Ok(match FileType::from_path(path) {
        Some(t) => Probe::with_file_type(reader, t),
        None => Probe::new(reader),
    })
}

fn read_with_lofty(path: &Path, kind: Kind, format: &str) -> Result<Metadata> {
    let probe = probe(path)?
        .options(
            ParseOptions::new()
                .read_cover_art(true)
                .parsing_mode(ParsingMode::Relaxed),
        )
        .guess_file_type()
        .map_err(|e| Error::io(path, e))?;
    let file_type = probe.file_type();
    let tagged = match probe.read() {
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
    Ok(meta)
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

pub(crate) fn fill_from_tag(meta: &mut Metadata, tag: &Tag) {
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
    if meta.cover.is_none() {
        let pics = tag.pictures();
        let best = pics
            .iter()
            .find(|p| p.pic_type() == PictureType::CoverFront)
            .or_else(|| pics.first());
        meta.cover = best
            .filter(|p| !p.data().is_empty())
            .map(|p| Cover::Embedded {
                mime: p
                    .mime_type()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
                data: p.data().to_vec(),
            });
    }
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
    use super::*;

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
