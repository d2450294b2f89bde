//! Text clean-up shared by the readers: whitespace, control characters,
//! HTML in descriptions, years inside date strings, multi-value fields.

/// Longest text kept for one field. Descriptions longer than this are
/// truncated at a character boundary: a hostile tag cannot blow up the
/// catalog or a prompt.
pub const MAX_FIELD_CHARS: usize = 8_000;
/// Longest entry of a list field (a genre, a tag, an author's name).
pub const MAX_ENTRY_CHARS: usize = 200;
/// Entries kept of one list field: a tag with a hundred thousand genres
/// says nothing a person reads.
pub const MAX_LIST_ENTRIES: usize = 64;

/// Characters that change how text around them is displayed without being
/// seen: bidirectional overrides, embeddings, isolates and marks (a title
/// that renders as something else), zero-width spaces and joiners used to
/// hide words, and the byte order mark. The zero-width (non-)joiner is kept:
/// Persian, Indic scripts and emoji sequences need it.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{061C}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Trims, collapses runs of whitespace, drops control characters (NUL
/// padding from ID3v1 among them) and caps the length. `None` when nothing
/// is left.
pub fn clean(s: &str) -> Option<String> {
    clean_to(s, MAX_FIELD_CHARS)
}

/// [`clean`] for one entry of a list field.
pub fn clean_short(s: &str) -> Option<String> {
    clean_to(s, MAX_ENTRY_CHARS)
}

fn clean_to(s: &str, max_chars: usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(max_chars));
    let mut pending_space = false;
    let mut chars = 0usize;
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{0}' {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_invisible_format(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        chars += 1;
        if chars >= max_chars {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Removes markup from a description (`<p>`, `<br/>`, entities), keeping
/// paragraph breaks as spaces.
pub fn strip_html(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// The first plausible year (1000–2199) in a date string such as
/// "2010-05-01", "D:20100501", "May 2010" or "2010".
pub fn year_in(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 4 <= b.len() {
        let w = &b[i..i + 4];
        let before_ok = i == 0 || !b[i - 1].is_ascii_digit();
        let after_ok = i + 4 == b.len() || !b[i + 4].is_ascii_digit();
        if w.iter().all(u8::is_ascii_digit) && (before_ok && (after_ok || b.len() >= i + 8)) {
            let y: i32 = std::str::from_utf8(w).ok()?.parse().ok()?;
            if (1000..2200).contains(&y) {
                return Some(y);
            }
        }
        i += 1;
    }
    None
}

/// Splits a multi-value tag written as one string ("Rock; Pop", values
/// separated by NUL as ID3v2.4 does, or " / " as ID3v2.3 taggers do). A bare
/// slash or ampersand is left alone: "AC/DC" and "Simon & Garfunkel" are one
/// artist each.
pub fn split_multi(s: &str) -> Vec<String> {
    s.split([';', '\u{0}'])
        .flat_map(|part| part.split(" / "))
        .filter_map(clean)
        .collect()
}

/// A number from a tag that may carry junk ("128.0", " 92 ", "7/12").
pub fn leading_number(s: &str) -> Option<f32> {
    let t = s.trim();
    let end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == ','))
        .map_or(t.len(), |(i, _)| i);
    t[..end].replace(',', ".").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_collapses_and_strips() {
        assert_eq!(clean("  a \n\t b\0\0").as_deref(), Some("a b"));
        assert_eq!(clean("\0\0 "), None);
        let long = "x".repeat(MAX_FIELD_CHARS * 2);
        assert_eq!(clean(&long).unwrap().len(), MAX_FIELD_CHARS);
    }

    #[test]
    fn invisible_and_reordering_characters_are_dropped() {
        // "Evil\u{202E}gpj.exe" displays as "Evilexe.jpg".
        assert_eq!(clean("Evil\u{202E}gpj.exe").as_deref(), Some("Evilgpj.exe"));
        assert_eq!(clean("Wi\u{200B}nter\u{2066}").as_deref(), Some("Winter"));
        assert_eq!(clean("\u{1b}[31mRed\u{7}").as_deref(), Some("[31mRed"));
        // Persian needs the zero-width non-joiner.
        assert_eq!(clean("می\u{200C}خواهم").as_deref(), Some("می\u{200C}خواهم"));
        assert_eq!(
            clean_short(&"g".repeat(10_000)).unwrap().len(),
            MAX_ENTRY_CHARS
        );
    }

    #[test]
    fn years() {
        assert_eq!(year_in("2010-05-01"), Some(2010));
        assert_eq!(year_in("D:20100501120000"), Some(2010));
        assert_eq!(year_in("May 1999"), Some(1999));
        assert_eq!(year_in("12345"), None);
        assert_eq!(year_in("track 0042"), None);
    }

    #[test]
    fn multi_values() {
        assert_eq!(split_multi("Rock; Pop\0Jazz"), vec!["Rock", "Pop", "Jazz"]);
        assert_eq!(split_multi("AC/DC"), vec!["AC/DC"]);
        assert_eq!(split_multi("piman / jzig"), vec!["piman", "jzig"]);
    }

    #[test]
    fn html_is_stripped() {
        assert_eq!(
            clean(&strip_html("<p>A <b>dark</b> tale&amp;more</p>")).as_deref(),
            Some("A dark tale&more")
        );
    }
}
