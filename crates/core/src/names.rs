//! File names that are not UTF-8 (Latin-1 names from old disks and
//! archives, broken encodings), kept exactly.
//!
//! The catalog keeps paths as text. A path that is valid UTF-8 is kept as it
//! is; in one that is not, each byte that is not part of valid UTF-8 becomes
//! a character of Unicode's last private-use plane (U+10FF00 + the byte),
//! which names do not use. [`decode`] gives back the exact bytes, so such a
//! file is scanned, watched and opened like any other; [`display`] shows the
//! bytes as U+FFFD, as file managers do.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

const BASE: u32 = 0x10_FF00;

fn is_escape(c: char) -> bool {
    (BASE..=BASE + 0xFF).contains(&(c as u32))
}

/// The catalog's text for a path.
pub fn encode(p: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = p.as_os_str().as_bytes();
        if let Ok(s) = std::str::from_utf8(bytes) {
            return s.to_string();
        }
        let mut out = String::with_capacity(bytes.len() + 8);
        for chunk in bytes.utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                out.push(char::from_u32(BASE + u32::from(*b)).expect("a valid code point"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().into_owned()
    }
}

/// The exact path the catalog's text stands for.
pub fn decode(s: &str) -> PathBuf {
    if !s.chars().any(is_escape) {
        return PathBuf::from(s);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        let mut bytes = Vec::with_capacity(s.len());
        for c in s.chars() {
            if is_escape(c) {
                bytes.push((c as u32 - BASE) as u8);
            } else {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        PathBuf::from(std::ffi::OsString::from_vec(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(s)
    }
}

/// The catalog's text as a person should see it.
pub fn display(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_escape) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if is_escape(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn latin1_names_survive_the_round_trip() {
        let raw = std::ffi::OsStr::from_bytes(b"/music/Caf\xe9 del Mar/01 \xc0 bient\xf4t.mp3");
        let p = Path::new(raw);
        let text = encode(p);
        assert_eq!(decode(&text), p, "the exact bytes come back");
        assert_eq!(
            display(&text),
            "/music/Caf\u{FFFD} del Mar/01 \u{FFFD} bient\u{FFFD}t.mp3"
        );
        let other = Path::new(std::ffi::OsStr::from_bytes(b"/music/Caf\xe8 del Mar"));
        assert_ne!(
            encode(other),
            encode(Path::new(std::ffi::OsStr::from_bytes(
                b"/music/Caf\xe9 del Mar"
            ))),
            "distinct names stay distinct"
        );
        assert_eq!(encode(Path::new("/music/Café")), "/music/Café");
        assert_eq!(decode("/music/Café"), Path::new("/music/Café"));
    }
}
