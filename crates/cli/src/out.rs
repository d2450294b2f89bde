//! Output helpers shared by every command: one JSON object on stdout,
//! library text made safe for a terminal, and durations as `m:ss`.

use serde::Serialize;

pub(crate) fn format_duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

pub(crate) fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot encode output: {e}"),
    }
}

/// Text from the library (file names, folder names, messages that quote
/// them) as it is safe to print on a terminal: control characters (an
/// escape sequence in a file name would otherwise drive the terminal, a
/// newline fake a line) and bidirectional overrides are shown escaped.
pub(crate) fn shown(s: &str) -> String {
    let s = moodshelf_engine::names::display(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
        {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod shown_tests {
    #[test]
    fn escapes_reach_the_terminal_as_text() {
        assert_eq!(super::shown("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\u{a}c");
        assert_eq!(super::shown("evil\u{202E}gpj.mp3"), "evil\\u{202e}gpj.mp3");
        assert_eq!(super::shown("Café/夜"), "Café/夜");
    }
}
