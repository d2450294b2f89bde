//! Matroska / WebM: duration, title, date and tags from the EBML structure.
//!
//! Only the Segment's `Info` and `Tags` children are read; clusters (the
//! media data) are skipped by seeking over them, so reading a 40 GB file
//! costs a few kilobytes. Every size read from the file is checked against
//! the file length and a per-element cap before anything is allocated.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::text::{clean, year_in};
use crate::{Error, Kind, Metadata, Result};

const EBML: u64 = 0x1A45_DFA3;
const DOC_TYPE: u64 = 0x4282;
const SEGMENT: u64 = 0x1853_8067;
const INFO: u64 = 0x1549_A966;
const TIMECODE_SCALE: u64 = 0x2A_D7B1;
const DURATION: u64 = 0x4489;
const TITLE: u64 = 0x7BA9;
const DATE_UTC: u64 = 0x4461;
const TAGS: u64 = 0x1254_C367;
const TAG: u64 = 0x7373;
const SIMPLE_TAG: u64 = 0x67C8;
const TAG_NAME: u64 = 0x45A3;
const TAG_STRING: u64 = 0x4487;

/// Largest Info or Tags element read into memory.
const MAX_META_ELEMENT: u64 = 4 * 1024 * 1024;
/// Top-level elements visited before giving up (a file of tiny clusters).
const MAX_TOP_LEVEL: usize = 100_000;

pub fn read(path: &Path, meta: &mut Metadata) -> Result<()> {
    let file = crate::open_regular(path)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut r = BufReader::with_capacity(16 * 1024, file);
    let bad = |why: &str| Error::malformed(path, format!("Matroska: {why}"));
    ebml_header(&mut r).map_err(|why| bad(&why))?;
    let (id, seg_size) = header(&mut r).ok_or_else(|| bad("no Segment"))?;
    if id != SEGMENT {
        return Err(bad("no Segment after the header"));
    }
    let seg_start = r.stream_position().map_err(|e| Error::io(path, e))?;
    let seg_end = seg_size.map_or(len, |s| seg_start.saturating_add(s).min(len));

    let mut scale_ns = 1_000_000u64;
    let mut duration_ticks = None;
    let mut tags: Vec<(String, String)> = Vec::new();
    let mut tag_budget = MAX_TAG_ELEMENTS;
    for _ in 0..MAX_TOP_LEVEL {
        let pos = r.stream_position().map_err(|e| Error::io(path, e))?;
        if pos >= seg_end {
            break;
        }
        let Some((id, size)) = header(&mut r) else {
            break;
        };
        let Some(size) = size else {
            // An unknown-size cluster runs to the end: nothing after it is
            // reachable without parsing the media data.
            break;
        };
        let body_start = r.stream_position().map_err(|e| Error::io(path, e))?;
        if body_start.saturating_add(size) > len {
            // Truncated file: keep what was read so far.
            break;
        }
        match id {
            INFO | TAGS if size <= MAX_META_ELEMENT => {
                let body = read_body(&mut r, size).ok_or_else(|| bad("truncated element"))?;
                if id == INFO {
                    read_info(&body, meta, &mut scale_ns, &mut duration_ticks);
                } else {
                    collect_tags(&body, &mut tags, 0, &mut tag_budget);
                }
            }
            _ => {
                r.seek(SeekFrom::Start(body_start + size))
                    .map_err(|e| Error::io(path, e))?;
            }
        }
    }

    if let Some(ticks) = duration_ticks.filter(|t| t.is_finite() && *t > 0.0) {
        meta.duration_secs = Some(ticks * scale_ns as f64 / 1e9);
    }
    apply_tags(meta, tags);
    if meta.kind == Kind::Video && meta.format.is_empty() {
        meta.format = "mkv".into();
    }
    Ok(())
}

/// Reads the EBML header and checks that it is Matroska's or WebM's.
fn ebml_header(r: &mut impl Read) -> std::result::Result<(), String> {
    let (id, size) = header(r).ok_or("no EBML header")?;
    if id != EBML || size.is_none_or(|s| s > 4096) {
        return Err("not an EBML file".into());
    }
    let head = read_body(r, size.unwrap_or(0)).ok_or("truncated header")?;
    let doc_type = children(&head)
        .find(|(id, _)| *id == DOC_TYPE)
        .map(|(_, d)| {
            String::from_utf8_lossy(d)
                .trim_end_matches('\0')
                .to_string()
        });
    match doc_type.as_deref() {
        Some("matroska") | Some("webm") | None => Ok(()),
        Some(other) => Err(format!("unexpected DocType {other:?}")),
    }
}

/// Reads the segment's Info element: the timecode scale, the duration in
/// its ticks, the title and the muxing date.
fn read_info(body: &[u8], meta: &mut Metadata, scale_ns: &mut u64, duration: &mut Option<f64>) {
    for (cid, data) in children(body) {
        match cid {
            TIMECODE_SCALE => *scale_ns = uint(data).filter(|s| *s > 0).unwrap_or(*scale_ns),
            DURATION => *duration = float(data),
            TITLE => meta.title = clean(&String::from_utf8_lossy(data)),
            // Nanoseconds since 2001-01-01.
            DATE_UTC if meta.year.is_none() && data.len() == 8 => {
                let ns = i64::from_be_bytes(data.try_into().expect("8 bytes"));
                let years = ns as f64 / 1e9 / 31_556_952.0;
                meta.year = Some(2001 + years.floor() as i32);
            }
            _ => {}
        }
    }
}

/// Fills what the simple tags (`TITLE`, `ARTIST`, ...) say and the
/// container did not.
fn apply_tags(meta: &mut Metadata, tags: Vec<(String, String)>) {
    for (name, value) in tags {
        let Some(value) = clean(&value) else { continue };
        match name.to_ascii_uppercase().as_str() {
            "TITLE" if meta.title.is_none() => meta.title = Some(value),
            "ARTIST" | "DIRECTOR" if meta.creators.is_empty() => meta.creators.push(value),
            "GENRE" => meta.genres.push(value),
            "KEYWORDS" | "MOOD" => meta.tags.push(value),
            "DESCRIPTION" | "SYNOPSIS" | "SUMMARY" | "COMMENT" if meta.description.is_none() => {
                meta.description = Some(value)
            }
            "DATE_RELEASED" | "DATE_RECORDED" | "DATE" if meta.year.is_none() => {
                meta.year = year_in(&value)
            }
            "LAW_RATING" if meta.certification.is_none() => meta.certification = Some(value),
            "ACTOR" => meta.actors.push(value),
            _ => {}
        }
    }
}

/// Tag elements visited in one file, whatever their nesting: each is
/// visited once, so the work is linear in the Tags element's size.
const MAX_TAG_ELEMENTS: usize = 100_000;
/// Name/value pairs kept.
const MAX_TAGS: usize = 1000;
/// Nesting of Tag and SimpleTag elements followed.
const MAX_TAG_DEPTH: usize = 8;

fn collect_tags(body: &[u8], out: &mut Vec<(String, String)>, depth: usize, budget: &mut usize) {
    for (id, data) in children(body) {
        if *budget == 0 || out.len() >= MAX_TAGS {
            return;
        }
        *budget -= 1;
        match id {
            TAG if depth < MAX_TAG_DEPTH => collect_tags(data, out, depth + 1, budget),
            SIMPLE_TAG => simple_tag(data, out, depth, budget),
            _ => {}
        }
    }
}

/// One SimpleTag: its name and value, then the SimpleTags nested in it
/// (each read from its own body, never from its parent's again).
fn simple_tag(body: &[u8], out: &mut Vec<(String, String)>, depth: usize, budget: &mut usize) {
    let mut name = None;
    let mut value = None;
    for (id, data) in children(body) {
        if *budget == 0 || out.len() >= MAX_TAGS {
            break;
        }
        *budget -= 1;
        match id {
            TAG_NAME => name = Some(String::from_utf8_lossy(data).into_owned()),
            TAG_STRING => value = Some(String::from_utf8_lossy(data).into_owned()),
            SIMPLE_TAG if depth < MAX_TAG_DEPTH => simple_tag(data, out, depth + 1, budget),
            _ => {}
        }
    }
    if let (Some(n), Some(v)) = (name, value)
        && out.len() < MAX_TAGS
    {
        out.push((n, v));
    }
}

/// Reads an element header: the ID (with its marker bits, as the spec
/// writes IDs) and the size (`None` for "unknown").
fn header<R: Read>(r: &mut R) -> Option<(u64, Option<u64>)> {
    let id = vint(r, true)?;
    let size = vint(r, false)?;
    Some((id.0, (!size.1).then_some(size.0)))
}

/// A variable-length integer. Returns the value and whether all value bits
/// were ones (the "unknown size" marker).
fn vint<R: Read>(r: &mut R, keep_marker: bool) -> Option<(u64, bool)> {
    let mut first = [0u8; 1];
    r.read_exact(&mut first).ok()?;
    let len = first[0].leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let mut value = if keep_marker {
        u64::from(first[0])
    } else {
        u64::from(first[0]) & ((1u64 << (8 - len)) - 1)
    };
    let mut all_ones = value == (1u64 << (8 - len)) - 1;
    for _ in 1..len {
        let mut b = [0u8; 1];
        r.read_exact(&mut b).ok()?;
        all_ones &= b[0] == 0xFF;
        value = (value << 8) | u64::from(b[0]);
    }
    Some((value, all_ones && !keep_marker))
}

fn read_body<R: Read>(r: &mut R, size: u64) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(size as usize);
    r.take(size).read_to_end(&mut buf).ok()?;
    (buf.len() as u64 == size).then_some(buf)
}

/// Iterates the child elements inside an in-memory body, stopping at the
/// first malformed or overlong one.
fn children(body: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut cursor = std::io::Cursor::new(body);
    std::iter::from_fn(move || {
        let (id, size) = header(&mut cursor)?;
        let start = cursor.position() as usize;
        let size = size? as usize;
        let end = start.checked_add(size).filter(|e| *e <= body.len())?;
        cursor.set_position(end as u64);
        Some((id, &body[start..end]))
    })
}

fn uint(data: &[u8]) -> Option<u64> {
    (data.len() <= 8).then(|| data.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
}

fn float(data: &[u8]) -> Option<f64> {
    match data.len() {
        4 => Some(f64::from(f32::from_be_bytes(data.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(data.try_into().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints() {
        let mut c = std::io::Cursor::new([0x81u8]);
        assert_eq!(vint(&mut c, false), Some((1, false)));
        let mut c = std::io::Cursor::new([0x1A, 0x45, 0xDF, 0xA3]);
        assert_eq!(vint(&mut c, true), Some((EBML, false)));
        let mut c = std::io::Cursor::new([0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(vint(&mut c, false).map(|v| v.1), Some(true), "unknown size");
        let mut c = std::io::Cursor::new([0x00u8]);
        assert_eq!(vint(&mut c, false), None, "a zero first byte is invalid");
    }

    fn element(out: &mut Vec<u8>, id: u64, body: &[u8]) {
        let id_bytes = id.to_be_bytes();
        let skip = id_bytes.iter().take_while(|b| **b == 0).count();
        out.extend_from_slice(&id_bytes[skip..]);
        out.push(0x01);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
        out.extend_from_slice(body);
    }

    #[test]
    fn a_simple_tag_with_a_million_nested_children_is_walked_once() {
        // Each nested SimpleTag used to walk its parent's whole body again.
        let mut inner = Vec::new();
        element(&mut inner, TAG_NAME, b"GENRE");
        element(&mut inner, TAG_STRING, b"Drama");
        for _ in 0..1_000_000 {
            inner.extend_from_slice(&[0x67, 0xC8, 0x80]); // an empty SimpleTag
        }
        let mut simple = Vec::new();
        element(&mut simple, SIMPLE_TAG, &inner);
        let mut tag = Vec::new();
        element(&mut tag, TAG, &simple);
        let mut tags = Vec::new();
        let mut budget = MAX_TAG_ELEMENTS;
        collect_tags(&tag, &mut tags, 0, &mut budget);
        assert_eq!(tags, vec![("GENRE".to_string(), "Drama".to_string())]);
        assert_eq!(budget, 0, "the walk stops at its budget");
    }

    #[test]
    fn nested_simple_tags_are_read() {
        let mut child = Vec::new();
        element(&mut child, TAG_NAME, b"ARTIST");
        element(&mut child, TAG_STRING, b"Someone");
        let mut parent = Vec::new();
        element(&mut parent, TAG_NAME, b"TITLE");
        element(&mut parent, TAG_STRING, b"Something");
        element(&mut parent, SIMPLE_TAG, &child);
        let mut body = Vec::new();
        element(&mut body, SIMPLE_TAG, &parent);
        let mut tags = Vec::new();
        collect_tags(&body, &mut tags, 0, &mut MAX_TAG_ELEMENTS.clone());
        assert_eq!(tags.len(), 2, "{tags:?}");
    }

    #[test]
    fn overlong_child_stops_iteration() {
        // ID 0x4489, size 8, but only 2 bytes follow.
        let body = [0x44, 0x89, 0x88, 0x00, 0x00];
        assert_eq!(children(&body).count(), 0);
    }
}
