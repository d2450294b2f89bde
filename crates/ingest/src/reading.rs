//! Reading one media file into what the catalog records of it: its
//! metadata (or, when its contents cannot be read, what its names say),
//! its fingerprint, its art brought into the covers folder, and the
//! person's history its tags hold. Runs in a reader process
//! ([`crate::reader`]) or, for hosts that do not opt in, in process.

use std::path::Path;
use std::time::Duration;

use moodshelf_catalog::ItemData;
use moodshelf_media::{Cover, Metadata, Role};
use serde::Serialize;

/// The reader version recorded for a read that said nothing of the file
/// (a reader out of time, crashed or lost, a share that hiccuped): older
/// than every reader, so the next scan reads the file again.
pub(crate) const RETRY: i64 = 0;

/// What reading one media file gave; it crosses from a reader process as
/// one line of JSON.
#[derive(Debug, Serialize, serde::Deserialize)]
pub(crate) struct FileRead {
    pub fingerprint: Option<String>,
    pub reader: i64,
    pub outcome: ReadOutcome,
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub(crate) enum ReadOutcome {
    Item(ItemData),
    Listed(ItemData, String),
    Failed(String),
}

impl FileRead {
    /// A file whose reader was lost (killed at its deadline, out of memory,
    /// crashed): listed by its names, with the reason.
    pub(crate) fn lost(path: &Path, covers: &Path, reason: &str) -> FileRead {
        let reason = format!("{}: {reason}", path.display());
        FileRead {
            fingerprint: None,
            reader: RETRY,
            // Without its art: that may be what the reader choked on.
            outcome: listed(path, covers, reason, false),
        }
    }
}

/// A media file listed by what its names say, with `reason` beside it
/// (art beside it too, unless `with_cover` is false).
fn listed(path: &Path, covers: &Path, reason: String, with_cover: bool) -> ReadOutcome {
    match moodshelf_media::classify(path) {
        Some(Role::Media(kind)) => {
            let mut meta = moodshelf_media::from_names(path, kind);
            if !with_cover {
                meta.cover = None;
            }
            ReadOutcome::Listed(item_data(meta, path, covers), reason)
        }
        _ => ReadOutcome::Failed(reason),
    }
}

/// Reads one media file here: `deadline` abandons a reader thread that
/// runs past it (a reader process is stopped by its parent instead).
pub(crate) fn read_file(path: &Path, covers: &Path, deadline: Option<Duration>) -> FileRead {
    // Readers refuse links; one that discovery confined to its root is read
    // through its target.
    let real = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    };
    let fingerprint = moodshelf_media::fingerprint(&real).ok();
    let result = match deadline {
        Some(d) => moodshelf_media::extract_within(&real, d),
        None => moodshelf_media::extract(&real),
    };
    let mut reader = moodshelf_media::READER_VERSION;
    let outcome = match result {
        Ok(meta) => ReadOutcome::Item(item_data(meta, path, covers)),
        Err(e) if e.is_content_error() => {
            if matches!(
                e,
                moodshelf_media::Error::TimedOut { .. } | moodshelf_media::Error::Crashed { .. }
            ) {
                // The reader, not the file, failed: read it again later.
                reader = RETRY;
            }
            listed(path, covers, e.to_string(), true)
        }
        Err(e) => {
            if matches!(e, moodshelf_media::Error::Unreadable { .. }) {
                // Possibly transient (a share that hiccuped): read again at
                // the next scan, whatever the readers' version.
                reader = RETRY;
            }
            ReadOutcome::Failed(e.to_string())
        }
    };
    FileRead {
        fingerprint,
        reader,
        outcome,
    }
}

fn item_data(mut meta: Metadata, path: &Path, covers: &Path) -> ItemData {
    let title = meta.title.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    meta.title = Some(title.clone());
    let cover = meta.cover.take().and_then(|c| store_cover(c, covers));
    // The person's use is their history, not what the item is.
    let history = std::mem::take(&mut meta.history)
        .into_iter()
        .map(|h| moodshelf_catalog::UseRecord {
            source: h.source,
            plays: h.plays,
            last_played: h.last_played,
            rating: h.rating,
            progress: h.progress,
            finished: h.finished,
        })
        .collect();
    ItemData {
        kind: meta.kind,
        creator: meta.creator().map(str::to_string),
        album: meta.album.clone(),
        year: meta.year,
        duration_secs: meta.duration_secs,
        genres: meta.genres.clone(),
        meta: serde_json::to_string(&meta).unwrap_or_else(|_| "{}".into()),
        title,
        cover,
        history,
    }
}

/// Cover art smaller than this is kept as it is; larger art (a 20 MB scan
/// of a record sleeve) becomes a thumbnail.
const COVER_AS_IS_BYTES: usize = 512 * 1024;
/// Longest side of a cover thumbnail, in pixels.
const COVER_THUMB_PX: u32 = 600;
/// Largest image file read beside media.
const COVER_MAX_SOURCE: u64 = 32 * 1024 * 1024;

/// Brings an item's art into the covers folder, where the window serves it
/// from (it serves nothing else): embedded art and art beside the media
/// (`folder.jpg`, Calibre's `cover.jpg`) alike. Each distinct image is
/// stored once, named by its content (an album's tracks share one file);
/// only real JPEG, PNG, GIF or WebP data is kept, large images become
/// bounded thumbnails, and decoding is capped against decompression bombs.
fn store_cover(cover: Cover, dir: &Path) -> Option<String> {
    let data = match cover {
        Cover::Embedded { data, .. } => data,
        Cover::File(p) => {
            use std::io::Read;
            let mut data = Vec::new();
            moodshelf_media::open_regular(&p)
                .ok()?
                .take(COVER_MAX_SOURCE + 1)
                .read_to_end(&mut data)
                .ok()?;
            (data.len() as u64 <= COVER_MAX_SOURCE).then_some(data)?
        }
    };
    let (ext, _) = moodshelf_media::sniff_image(&data)?;
    let hash = blake3::hash(&data).to_hex();
    let sub = dir.join(&hash[..2]);
    let small = data.len() <= COVER_AS_IS_BYTES;
    let name = format!("{}.{}", &hash[..24], if small { ext } else { "jpg" });
    let target = sub.join(&name);
    if !target.exists() {
        let bytes = if small { data } else { thumbnail(&data)? };
        std::fs::create_dir_all(&sub).ok()?;
        let tmp = sub.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&tmp, bytes).ok()?;
        std::fs::rename(&tmp, &target).ok()?;
    }
    Some(crate::names::encode(&target))
}

/// A JPEG no larger than [`COVER_THUMB_PX`] on its longest side.
fn thumbnail(data: &[u8]) -> Option<Vec<u8>> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(data))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().ok()?;
    let thumb = image.thumbnail(COVER_THUMB_PX, COVER_THUMB_PX).to_rgb8();
    let mut out = Vec::new();
    thumb
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn art_beside_media_is_brought_in_and_large_art_becomes_a_thumbnail() {
        let dir = tempfile::tempdir().unwrap();
        let covers = dir.path().join("covers");
        // A noisy 1600×1600 PNG: several megabytes, as scanned sleeves are.
        let mut x = 1u32;
        let big = image::RgbImage::from_fn(1600, 1600, |_, _| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
        });
        let folder_jpg = dir.path().join("folder.png");
        big.save(&folder_jpg).unwrap();
        assert!(std::fs::metadata(&folder_jpg).unwrap().len() > COVER_AS_IS_BYTES as u64);
        let stored = store_cover(Cover::File(folder_jpg.clone()), &covers).unwrap();
        assert!(Path::new(&stored).starts_with(&covers), "{stored}");
        let thumb = image::open(&stored).unwrap();
        assert_eq!(thumb.width().max(thumb.height()), COVER_THUMB_PX);
        // The same art again is the same file, not a second decode.
        assert_eq!(
            store_cover(Cover::File(folder_jpg), &covers).unwrap(),
            stored
        );

        // Small art is kept byte for byte; what is not an image is refused.
        let mut png = Vec::new();
        image::RgbImage::new(2, 2)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let small = store_cover(
            Cover::Embedded {
                mime: String::new(),
                data: png.clone(),
            },
            &covers,
        )
        .unwrap();
        assert_eq!(std::fs::read(&small).unwrap(), png);
        let fake = dir.path().join("cover.jpg");
        std::fs::write(&fake, b"<html>not an image</html>").unwrap();
        assert_eq!(store_cover(Cover::File(fake), &covers), None);
        assert_eq!(
            store_cover(Cover::File(std::path::PathBuf::from("/dev/zero")), &covers),
            None
        );
    }
}
