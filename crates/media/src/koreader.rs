//! KOReader's record of reading a book: `Book.sdr/metadata.epub.lua` beside
//! `Book.epub`, a Lua table the reader writes as it goes
//! (`["percent_finished"] = 0.53`, and in `["summary"]` the `status`
//! "reading", "complete" or "abandoned", a 1–5 `rating` and the date it
//! was `modified`). Only those values are read, by pattern, never run.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::history::{History, parse_datetime};

/// Largest settings file read; real ones are a few kilobytes (highlights
/// and notes make them longer).
const MAX_LUA_BYTES: u64 = 2 * 1024 * 1024;

static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\[\s*"(percent_finished|status|rating|modified)"\s*\]\s*=\s*("([^"\\\n]{0,64})"|[0-9.eE+-]{1,24})"#,
    )
    .expect("a valid pattern")
});

/// The settings file KOReader keeps for `book`, where it exists:
/// `<stem>.sdr/metadata.<ext>.lua` beside it.
pub fn settings_for(book: &Path) -> Option<PathBuf> {
    let stem = book.file_stem()?.to_string_lossy();
    let ext = book.extension()?.to_string_lossy().to_ascii_lowercase();
    let sdr = book.with_file_name(format!("{stem}.sdr"));
    let lua = sdr.join(format!("metadata.{ext}.lua"));
    lua.is_file().then_some(lua)
}

/// Whether `path` is a KOReader settings file (`X.sdr/metadata.*.lua`).
pub fn is_settings(path: &Path) -> bool {
    let in_sdr = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d.to_string_lossy().ends_with(".sdr"));
    let name = path.file_name().map(|n| n.to_string_lossy());
    in_sdr
        && name.is_some_and(|n| n.starts_with("metadata.") && n.ends_with(".lua") && n.len() > 13)
}

/// What the settings file of `book` records of its reading, if anything.
pub fn read_history(book: &Path) -> Option<History> {
    let lua = settings_for(book)?;
    let bytes = crate::open::read_capped(&lua, MAX_LUA_BYTES, "KOReader settings").ok()?;
    parse(&String::from_utf8_lossy(&bytes))
}

/// Reads the values out of a settings file's text.
pub fn parse(text: &str) -> Option<History> {
    let mut h = History::of("koreader");
    for c in ENTRY.captures_iter(text) {
        let value = c.get(3).map_or_else(|| c[2].trim(), |q| q.as_str());
        match &c[1] {
            "percent_finished" => h.progress = value.parse().ok(),
            "status" => {
                h.finished = match value {
                    "complete" | "finished" => Some(true),
                    "reading" | "abandoned" | "new" => Some(false),
                    _ => h.finished,
                }
            }
            "rating" => {
                h.rating = value
                    .parse::<f32>()
                    .ok()
                    .filter(|r| (1.0..=5.0).contains(r))
                    .map(|r| r * 2.0)
            }
            "modified" => h.last_played = parse_datetime(value),
            _ => {}
        }
    }
    h.tidy()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As KOReader 2024.x writes it (trimmed).
    const SETTINGS: &str = r#"-- we can read Lua syntax here!
return {
    ["cre_dom_version"] = 20240114,
    ["doc_pages"] = 312,
    ["percent_finished"] = 0.41346153846154,
    ["stats"] = {
        ["authors"] = "Jane Writer",
        ["title"] = "A Quiet Tale",
    },
    ["summary"] = {
        ["modified"] = "2026-11-20",
        ["rating"] = 4,
        ["status"] = "reading",
    },
}
"#;

    #[test]
    fn reading_progress_status_and_rating_are_read() {
        let h = parse(SETTINGS).unwrap();
        assert_eq!(h.source, "koreader");
        assert!((h.progress.unwrap() - 0.4135).abs() < 1e-3);
        assert_eq!(h.finished, Some(false));
        assert_eq!(h.rating, Some(8.0));
        assert_eq!(h.last_played, parse_datetime("2026-11-20"));
        let done = parse(&SETTINGS.replace("\"reading\"", "\"complete\"")).unwrap();
        assert_eq!(done.finished, Some(true));
    }

    #[test]
    fn a_title_cannot_pose_as_a_value() {
        let hostile = r#"return { ["stats"] = { ["title"] = "[\"rating\"] = 5" }, }"#;
        assert_eq!(parse(hostile), None);
        assert_eq!(parse("return {}"), None);
    }

    #[test]
    fn settings_files_are_told_apart() {
        assert!(is_settings(Path::new("/b/Tale.sdr/metadata.epub.lua")));
        assert!(!is_settings(Path::new("/b/Tale.sdr/custom.lua")));
        assert!(!is_settings(Path::new("/b/metadata.epub.lua")));
    }
}
