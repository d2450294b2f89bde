//! Video files: container facts (duration, embedded tags), then the `.nfo`
//! sidecar a media manager wrote, then the file name as a last resort.

use std::path::{Path, PathBuf};

use lofty::config::ParseOptions;
use lofty::file::TaggedFileExt;

use crate::{Kind, Metadata, Result, audio, mkv, mp4, nfo};

pub fn read(path: &Path, ext: &str) -> Result<Metadata> {
    let mut meta = Metadata::new(Kind::Video, ext);
    match ext {
        "mkv" | "mk3d" | "webm" => mkv::read(path, &mut meta)?,
        "mp4" | "m4v" | "mov" => {
            meta.duration_secs = mp4::duration(path)?;
            // Tags are a bonus: a video lofty cannot read still has a
            // duration, a sidecar and a name.
            if let Ok(tagged) = audio::probe(path)
                .map(|p| p.options(ParseOptions::new().read_properties(false)).read())
                && let Ok(tagged) = tagged
            {
                for tag in tagged.tags() {
                    audio::fill_from_tag(&mut meta, tag);
                }
            }
        }
        // AVI, MPEG-TS and friends: the sidecar and the name must do.
        _ => {
            crate::open_regular(path)?;
        }
    }

    if let Some(sidecar) = nfo_for(path)
        && let Ok(n) = nfo::read_nfo(&sidecar)
        && n.root != "url"
    {
        meta.override_with(n.into_metadata());
    }
    let guess = crate::parse_file_name(path);
    let mut from_name = Metadata::new(Kind::Video, ext);
    from_name.title = guess.title;
    from_name.year = guess.year;
    from_name.series = guess.series;
    from_name.season = guess.season;
    from_name.episode = guess.episode;
    meta.fill_from(from_name);
    if meta.cover.is_none() {
        meta.cover = crate::cover_beside(path);
    }
    Ok(meta)
}

/// `<stem>.nfo` beside the video, else the folder's `movie.nfo`.
pub fn nfo_for(path: &Path) -> Option<PathBuf> {
    let own = path.with_extension("nfo");
    if own.is_file() {
        return Some(own);
    }
    let folder = path.parent()?.join("movie.nfo");
    folder.is_file().then_some(folder)
}
