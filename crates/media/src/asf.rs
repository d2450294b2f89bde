//! Windows Media (ASF: `.wma`, `.asf`): duration and tags from the header
//! object. lofty does not read ASF, and older Windows libraries are full of
//! it. Only the header is read, never the media packets.

use std::io::Read;
use std::path::Path;

use crate::text::{clean, leading_number, split_multi, year_in};
use crate::{Error, Kind, Metadata, Result};

const HEADER: [u8; 16] = guid("75B22630-668E-11CF-A6D9-00AA0062CE6C");
const FILE_PROPERTIES: [u8; 16] = guid("8CABDCA1-A947-11CF-8EE4-00C00C205365");
const CONTENT_DESCRIPTION: [u8; 16] = guid("75B22633-668E-11CF-A6D9-00AA0062CE6C");
const EXTENDED_CONTENT: [u8; 16] = guid("D2D0A440-E307-11D2-97F0-00A0C95EA850");

/// Largest header object read into memory (embedded pictures live there).
const MAX_HEADER: u64 = 32 * 1024 * 1024;

/// True when the file starts with the ASF header object.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(&HEADER)
}

pub fn read(path: &Path, kind: Kind) -> Result<Metadata> {
    let bad = |why: &str| Error::malformed(path, format!("ASF: {why}"));
    let mut file = crate::open_regular(path)?;
    let mut head = [0u8; 30];
    file.read_exact(&mut head)
        .map_err(|_| bad("file too short for a header"))?;
    if !sniff(&head) {
        return Err(bad("no ASF header object"));
    }
    let size = u64::from_le_bytes(head[16..24].try_into().expect("8 bytes"));
    if !(30..=MAX_HEADER).contains(&size) {
        return Err(bad("implausible header size"));
    }
    let mut body = Vec::with_capacity((size - 30) as usize);
    file.take(size - 30)
        .read_to_end(&mut body)
        .map_err(|e| Error::io(path, e))?;

    let mut meta = Metadata::new(kind, "wma");
    let mut pos = 0usize;
    while pos + 24 <= body.len() {
        let id: [u8; 16] = body[pos..pos + 16].try_into().expect("16 bytes");
        let len = u64::from_le_bytes(body[pos + 16..pos + 24].try_into().expect("8 bytes"));
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| pos.checked_add(l))
            .filter(|e| *e <= body.len() && len >= 24);
        let Some(end) = end else { break };
        let data = &body[pos + 24..end];
        match id {
            FILE_PROPERTIES if data.len() >= 64 => {
                let le64 = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().expect("8"));
                let play_100ns = le64(40);
                let preroll_ms = le64(56);
                let secs = play_100ns as f64 / 1e7 - preroll_ms as f64 / 1e3;
                meta.duration_secs = (secs > 0.0).then_some(secs);
            }
            CONTENT_DESCRIPTION => content_description(data, &mut meta),
            EXTENDED_CONTENT => extended_content(data, &mut meta),
            _ => {}
        }
        pos = end;
    }
    Ok(meta)
}

fn content_description(data: &[u8], meta: &mut Metadata) {
    if data.len() < 10 {
        return;
    }
    let lens: Vec<usize> = (0..5)
        .map(|i| usize::from(u16::from_le_bytes([data[i * 2], data[i * 2 + 1]])))
        .collect();
    let mut off = 10;
    let mut fields = Vec::with_capacity(5);
    for len in lens {
        let Some(bytes) = data.get(off..off + len) else {
            return;
        };
        fields.push(utf16(bytes));
        off += len;
    }
    meta.title = clean(&fields[0]);
    meta.creators = split_multi(&fields[1]);
    meta.description = clean(&fields[3]);
}

fn extended_content(data: &[u8], meta: &mut Metadata) {
    let mut r = data;
    let Some(count) = take_u16(&mut r) else {
        return;
    };
    for _ in 0..count {
        let Some(name_len) = take_u16(&mut r) else {
            return;
        };
        let Some(name) = take(&mut r, name_len.into()) else {
            return;
        };
        let name = utf16(name);
        let (Some(kind), Some(value_len)) = (take_u16(&mut r), take_u16(&mut r)) else {
            return;
        };
        let Some(value) = take(&mut r, value_len.into()) else {
            return;
        };
        let text = match kind {
            0 => utf16(value),
            3 if value.len() == 4 => {
                u32::from_le_bytes(value.try_into().expect("4 bytes")).to_string()
            }
            5 if value.len() == 2 => u16::from_le_bytes([value[0], value[1]]).to_string(),
            _ => continue,
        };
        match name.as_str() {
            "WM/AlbumTitle" => meta.album = clean(&text),
            "WM/AlbumArtist" => meta.album_artist = clean(&text),
            "WM/Genre" => meta.genres.extend(split_multi(&text)),
            "WM/Mood" => meta.tags.extend(split_multi(&text)),
            "WM/Year" | "WM/OriginalReleaseYear" if meta.year.is_none() => {
                meta.year = year_in(&text)
            }
            "WM/TrackNumber" | "WM/Track" if meta.track.is_none() => {
                meta.track = leading_number(&text).map(|t| t as u32).filter(|t| *t > 0)
            }
            "WM/PartOfSet" => meta.disc = leading_number(&text).map(|d| d as u32),
            "WM/BeatsPerMinute" => meta.bpm = leading_number(&text),
            "WM/Lyrics" => meta.lyrics = clean(&text),
            "WM/Publisher" => meta.publisher = clean(&text),
            "WM/Language" => meta.language = clean(&text),
            _ => {}
        }
    }
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = r.split_at_checked(n)?;
    *r = rest;
    Some(head)
}

fn take_u16(r: &mut &[u8]) -> Option<u16> {
    take(r, 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// A GUID in its textual form, laid out as ASF stores it (the first three
/// groups little-endian).
const fn guid(s: &str) -> [u8; 16] {
    let b = s.as_bytes();
    let mut hex = [0u8; 16];
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        if b[i] != b'-' {
            let hi = hex_val(b[i]);
            let lo = hex_val(b[i + 1]);
            hex[n] = hi << 4 | lo;
            n += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    [
        hex[3], hex[2], hex[1], hex[0], hex[5], hex[4], hex[7], hex[6], hex[8], hex[9], hex[10],
        hex[11], hex[12], hex[13], hex[14], hex[15],
    ]
}

const fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not a hex digit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_layout() {
        assert_eq!(
            HEADER,
            [
                0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62,
                0xCE, 0x6C
            ]
        );
    }
}
