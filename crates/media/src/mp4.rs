//! MP4 / QuickTime video: the movie duration from `moov/mvhd`, found by
//! walking box headers and seeking over `mdat`, so a file's media data is
//! never read. Tags (`ilst`) come from lofty, which reads them well.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::{Error, Result};

/// Boxes visited before giving up on a file.
const MAX_BOXES: usize = 10_000;

/// The movie's duration in seconds.
pub fn duration(path: &Path) -> Result<Option<f64>> {
    let file = crate::open_regular(path)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut r = BufReader::with_capacity(8 * 1024, file);
    let Some((moov_start, moov_end)) =
        find_box(&mut r, 0, len, b"moov").map_err(|e| Error::io(path, e))?
    else {
        return Err(Error::malformed(path, "MP4: no moov box"));
    };
    let Some((mvhd_start, mvhd_end)) =
        find_box(&mut r, moov_start, moov_end, b"mvhd").map_err(|e| Error::io(path, e))?
    else {
        // A moov without a movie header carries tags but no timing.
        return Ok(None);
    };
    r.seek(SeekFrom::Start(mvhd_start))
        .map_err(|e| Error::io(path, e))?;
    let mut body = vec![0u8; (mvhd_end - mvhd_start).min(120) as usize];
    r.read_exact(&mut body).map_err(|e| Error::io(path, e))?;
    let be32 = |b: &[u8]| u32::from_be_bytes(b.try_into().expect("4 bytes"));
    let be64 = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("8 bytes"));
    let (timescale, duration) = match body.first() {
        Some(1) if body.len() >= 32 => (be32(&body[20..24]), be64(&body[24..32])),
        Some(0) if body.len() >= 20 => (be32(&body[12..16]), u64::from(be32(&body[16..20]))),
        _ => return Err(Error::malformed(path, "MP4: mvhd too short")),
    };
    // All-ones means "unknown" in fragmented files.
    if timescale == 0 || duration == 0 || duration == u64::from(u32::MAX) || duration == u64::MAX {
        return Ok(None);
    }
    Ok(Some(duration as f64 / f64::from(timescale)))
}

/// Finds the first box of `kind` among the boxes in `[start, end)` and
/// returns the range of its body.
fn find_box<R: Read + Seek>(
    r: &mut R,
    start: u64,
    end: u64,
    kind: &[u8; 4],
) -> std::io::Result<Option<(u64, u64)>> {
    let mut pos = start;
    for _ in 0..MAX_BOXES {
        if pos + 8 > end {
            return Ok(None);
        }
        r.seek(SeekFrom::Start(pos))?;
        let mut head = [0u8; 8];
        r.read_exact(&mut head)?;
        let size32 = u32::from_be_bytes(head[..4].try_into().expect("4 bytes"));
        let mut header_len = 8u64;
        let size = match size32 {
            0 => end - pos,
            1 => {
                let mut large = [0u8; 8];
                r.read_exact(&mut large)?;
                header_len = 16;
                u64::from_be_bytes(large)
            }
            n => u64::from(n),
        };
        if size < header_len || pos.saturating_add(size) > end {
            return Ok(None);
        }
        if &head[4..8] == kind {
            return Ok(Some((pos + header_len, pos + size)));
        }
        pos += size;
    }
    Ok(None)
}
