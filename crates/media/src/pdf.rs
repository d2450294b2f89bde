//! A PDF's document information (title, author, subject, keywords, creation
//! date), read from the end of the file with bounded memory.
//!
//! A PDF says where everything is at its end: `startxref` names the newest
//! cross-reference section, whose trailer names the `/Info` dictionary, whose
//! offset the section gives. So the reader reads the last 64 KiB, one window
//! per cross-reference section (following `/Prev` a few times), and one
//! window at the Info object: a few hundred kilobytes whatever the file's
//! size, where lopdf's `load_metadata` reads the whole file (2 GB of memory
//! for a 2 GB scan).
//!
//! Cross-reference streams (PDF 1.5) are compressed; their dictionary still
//! names `/Info`, and the object is then looked for in the windows at both
//! ends of the file. Small files whose information is elsewhere (in an object
//! stream) are left to lopdf, which reads everything; large ones keep what
//! their names say.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::{Error, Result};

/// Bytes read at the end of the file, and per window elsewhere.
const WINDOW: u64 = 64 * 1024;
/// Bytes at the start searched for the Info object when no table names it.
const HEAD: u64 = 1024 * 1024;
/// Cross-reference sections followed through `/Prev` (incremental updates).
const MAX_SECTIONS: usize = 16;
/// Subsection headers of one section walked before giving up.
const MAX_SUBSECTIONS: usize = 4096;
/// Files up to this size whose Info the tail does not reach go to lopdf.
pub const WHOLE_FILE_LIMIT: u64 = 16 * 1024 * 1024;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Info {
    pub title: Option<String>,
    pub author: Option<String>,
    pub subject: Option<String>,
    pub keywords: Option<String>,
    pub creation_date: Option<String>,
}

/// Reads the document information. `Ok(None)` when the file is a PDF but its
/// information cannot be reached by bounded reading.
pub fn read_info(path: &Path) -> Result<Option<Info>> {
    let mut file = crate::open_regular(path)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let head = read_at(&mut file, 0, 1024).map_err(|e| Error::io(path, e))?;
    if find(&head, b"%PDF-").is_none() {
        return Err(Error::malformed(path, "PDF: no %PDF header"));
    }
    let mut reader = Reader { file, len };
    if let Some(info) = reader.info() {
        return Ok(Some(info));
    }
    if len <= WHOLE_FILE_LIMIT {
        let info = lopdf::Document::load_metadata(path).map_err(|e| Error::parse(path, &e))?;
        return Ok(Some(Info {
            title: info.title,
            author: info.author,
            subject: info.subject,
            keywords: info.keywords,
            creation_date: info.creation_date,
        }));
    }
    Ok(None)
}

struct Reader {
    file: File,
    len: u64,
}

/// Where objects can be looked for: the classic cross-reference tables
/// found (offsets of their first subsection), and the file's last window.
struct Where {
    tables: Vec<u64>,
    tail: Vec<u8>,
    tail_start: u64,
}

impl Reader {
    fn window(&mut self, at: u64) -> Option<Vec<u8>> {
        (at < self.len)
            .then(|| read_at(&mut self.file, at, WINDOW).ok())
            .flatten()
    }

    fn info(&mut self) -> Option<Info> {
        let tail_start = self.len.saturating_sub(WINDOW);
        let tail = self.window(tail_start)?;
        let at = rfind(&tail, b"startxref")?;
        let mut xref = number_after(&tail[at + b"startxref".len()..])?;

        let mut info_ref = None;
        let mut tables = Vec::new();
        for _ in 0..MAX_SECTIONS {
            let win = self.window(xref)?;
            let body = skip_ws(&win);
            let dict = if body.starts_with(b"xref") {
                tables.push(xref + (win.len() - body.len()) as u64 + 4);
                // The trailer follows the table; a table larger than the
                // window has its trailer in the tail.
                let t = find(&win, b"trailer")
                    .map(|t| &win[t + 7..])
                    .or_else(|| rfind(&tail, b"trailer").map(|t| &tail[t + 7..]))?;
                parse_dict(skip_ws(t))?
            } else {
                // A cross-reference stream: "N G obj << ... >> stream".
                let open = find(&win, b"<<")?;
                parse_dict(&win[open..])?
            };
            if info_ref.is_none() {
                info_ref = dict.iter().find_map(|(k, v)| match v {
                    Value::Ref(n, g) if k == b"Info" => Some((*n, *g)),
                    _ => None,
                });
            }
            match dict.iter().find_map(|(k, v)| match v {
                Value::Int(p) if k == b"Prev" && *p >= 0 => Some(*p as u64),
                _ => None,
            }) {
                Some(prev) if prev != xref => xref = prev,
                _ => break,
            }
        }
        let (num, gen_) = info_ref?;
        let at = Where {
            tables,
            tail,
            tail_start,
        };
        let dict = self.object_dict(num, gen_, &at)?;
        let mut info = Info::default();
        for (key, value) in dict {
            let text = match value {
                Value::Str(bytes) => decode_text(&bytes),
                Value::Ref(n, g) => match self.object_value(n, g, &at) {
                    Some(Value::Str(bytes)) => decode_text(&bytes),
                    _ => continue,
                },
                _ => continue,
            };
            let slot = match key.as_slice() {
                b"Title" => &mut info.title,
                b"Author" => &mut info.author,
                b"Subject" => &mut info.subject,
                b"Keywords" => &mut info.keywords,
                b"CreationDate" => &mut info.creation_date,
                _ => continue,
            };
            *slot = Some(text);
        }
        Some(info)
    }

    /// The bytes from `num gen obj` on, found through the tables or, failing
    /// that, in the windows at both ends.
    fn object(&mut self, num: u64, gen_: u64, at: &Where) -> Option<Vec<u8>> {
        let header = format!("{num} {gen_} obj");
        for &table in &at.tables {
            if let Some(offset) = self.table_offset(table, num) {
                let win = self.window(offset)?;
                let body = skip_ws(&win);
                if body.starts_with(header.as_bytes()) {
                    return Some(body[header.len()..].to_vec());
                }
            }
        }
        let found_in = |bytes: &[u8]| {
            let mut from = 0;
            while let Some(i) = find(&bytes[from..], header.as_bytes()) {
                let at = from + i;
                if at == 0 || is_ws(bytes[at - 1]) {
                    return Some(at + header.len());
                }
                from = at + 1;
            }
            None
        };
        if let Some(i) = found_in(&at.tail) {
            let start = at.tail_start + i as u64;
            return self.window(start);
        }
        let head = read_at(&mut self.file, 0, HEAD.min(self.len)).ok()?;
        let at = found_in(&head)?;
        self.window(at as u64)
    }

    fn object_dict(&mut self, num: u64, gen_: u64, at: &Where) -> Option<Vec<(Vec<u8>, Value)>> {
        let body = self.object(num, gen_, at)?;
        let body = skip_ws(&body);
        body.starts_with(b"<<").then(|| parse_dict(body)).flatten()
    }

    fn object_value(&mut self, num: u64, gen_: u64, at: &Where) -> Option<Value> {
        let body = self.object(num, gen_, at)?;
        parse_value(&mut Cursor::new(skip_ws(&body)))
    }

    /// The offset a classic cross-reference table gives object `num`.
    /// Entries are 20 bytes each, so only the subsection headers are walked
    /// and one entry is read, however long the table.
    fn table_offset(&mut self, table: u64, num: u64) -> Option<u64> {
        let mut pos = table;
        for _ in 0..MAX_SUBSECTIONS {
            let line = read_at(&mut self.file, pos, 64).ok()?;
            let ws = line.len() - skip_ws(&line).len();
            let mut c = Cursor::new(&line[ws..]);
            let start = c.uint()?;
            c.skip_ws();
            let count = c.uint()?;
            // The header line ends at its end-of-line.
            let mut end = ws + c.pos;
            while end < line.len() && matches!(line[end], b' ' | b'\r' | b'\n') {
                end += 1;
                if line[end - 1] == b'\n' {
                    break;
                }
            }
            let entries = pos + end as u64;
            if (start..start.saturating_add(count)).contains(&num) {
                let entry = read_at(&mut self.file, entries + (num - start) * 20, 20).ok()?;
                let text = std::str::from_utf8(&entry).ok()?;
                let mut fields = text.split_ascii_whitespace();
                let offset: u64 = fields.next()?.parse().ok()?;
                let _gen: u64 = fields.next()?.parse().ok()?;
                return (fields.next()? == "n").then_some(offset);
            }
            pos = entries.checked_add(count.checked_mul(20)?)?;
            if pos >= self.len {
                return None;
            }
        }
        None
    }
}

fn read_at(file: &mut File, at: u64, len: u64) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(at))?;
    let mut out = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut out)?;
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0C' | b'\0')
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| is_ws(**c)).count();
    &b[n..]
}

fn number_after(b: &[u8]) -> Option<u64> {
    Cursor::new(skip_ws(b)).uint()
}

/// A PDF value, as far as document information needs one.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(Vec<u8>),
    Int(i64),
    Ref(u64, u64),
    Other,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

/// Nesting of arrays and dictionaries skipped inside a value.
const MAX_NESTING: usize = 32;
/// Entries read from one dictionary.
const MAX_ENTRIES: usize = 256;
/// Longest string kept (an Info value is a line of text).
const MAX_STRING: usize = 16 * 1024;

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8]) -> Cursor<'a> {
        Cursor { b, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        &self.b[self.pos.min(self.b.len())..]
    }

    fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                Some(c) if is_ws(c) => self.pos += 1,
                Some(b'%') => {
                    while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }

    fn uint(&mut self) -> Option<u64> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.b[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }

    fn name(&mut self) -> Vec<u8> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !is_ws(c) && !b"/<>[]()%{}".contains(&c))
        {
            self.pos += 1;
        }
        self.b[start..self.pos].to_vec()
    }
}

/// Parses `<< /Key value ... >>` at the start of `b`.
fn parse_dict(b: &[u8]) -> Option<Vec<(Vec<u8>, Value)>> {
    let mut c = Cursor::new(b);
    c.skip_ws();
    if !c.rest().starts_with(b"<<") {
        return None;
    }
    c.pos += 2;
    let mut out = Vec::new();
    for _ in 0..MAX_ENTRIES {
        c.skip_ws();
        if c.rest().starts_with(b">>") {
            return Some(out);
        }
        if c.peek()? != b'/' {
            return None;
        }
        c.pos += 1;
        let key = c.name();
        c.skip_ws();
        let value = parse_value(&mut c)?;
        out.push((key, value));
    }
    Some(out)
}

fn parse_value(c: &mut Cursor<'_>) -> Option<Value> {
    c.skip_ws();
    match c.peek()? {
        b'(' => literal(c).map(Value::Str),
        b'<' if c.rest().starts_with(b"<<") => skip_nested(c).map(|()| Value::Other),
        b'<' => hex(c).map(Value::Str),
        b'[' => skip_nested(c).map(|()| Value::Other),
        b'/' => {
            c.pos += 1;
            c.name();
            Some(Value::Other)
        }
        b'0'..=b'9' | b'-' | b'+' | b'.' => {
            let negative = c.peek() == Some(b'-');
            if matches!(c.peek(), Some(b'-' | b'+')) {
                c.pos += 1;
            }
            let first = c.uint();
            if c.peek() == Some(b'.') {
                c.pos += 1;
                c.uint();
                return Some(Value::Other);
            }
            let first = first?;
            // "N G R" is a reference; look ahead without consuming otherwise.
            let save = c.pos;
            c.skip_ws();
            if let Some(gen_) = c.uint() {
                c.skip_ws();
                if c.peek() == Some(b'R') {
                    c.pos += 1;
                    return Some(Value::Ref(first, gen_));
                }
            }
            c.pos = save;
            let v = i64::try_from(first).ok()?;
            Some(Value::Int(if negative { -v } else { v }))
        }
        _ => {
            // true, false, null, or something this reader does not need.
            let word = c.name();
            (!word.is_empty()).then_some(Value::Other)
        }
    }
}

fn literal(c: &mut Cursor<'_>) -> Option<Vec<u8>> {
    c.pos += 1;
    let mut out = Vec::new();
    let mut depth = 1usize;
    loop {
        let b = c.peek()?;
        c.pos += 1;
        match b {
            b'\\' => {
                let e = c.peek()?;
                c.pos += 1;
                let v = match e {
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'b' => Some(8),
                    b'f' => Some(12),
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match c.peek() {
                                Some(d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    c.pos += 1;
                                }
                                _ => break,
                            }
                        }
                        Some(v as u8)
                    }
                    b'\r' | b'\n' => {
                        if e == b'\r' && c.peek() == Some(b'\n') {
                            c.pos += 1;
                        }
                        None
                    }
                    other => Some(other),
                };
                if let Some(v) = v {
                    out.push(v);
                }
            }
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(out);
                }
                out.push(b);
            }
            _ => out.push(b),
        }
        if out.len() > MAX_STRING {
            return None;
        }
    }
}

fn hex(c: &mut Cursor<'_>) -> Option<Vec<u8>> {
    c.pos += 1;
    let mut digits = Vec::new();
    loop {
        let b = c.peek()?;
        c.pos += 1;
        match b {
            b'>' => break,
            b if b.is_ascii_hexdigit() => digits.push(b),
            b if is_ws(b) => {}
            _ => return None,
        }
        if digits.len() > MAX_STRING * 2 {
            return None;
        }
    }
    if digits.len() % 2 == 1 {
        digits.push(b'0');
    }
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

/// Skips a balanced `[...]` or `<<...>>`, strings inside included.
fn skip_nested(c: &mut Cursor<'_>) -> Option<()> {
    let mut depth = 0usize;
    loop {
        match c.peek()? {
            b'(' => {
                literal(c)?;
                continue;
            }
            b'[' => {
                depth += 1;
                c.pos += 1;
            }
            b'<' if c.rest().starts_with(b"<<") => {
                depth += 1;
                c.pos += 2;
            }
            b'<' => {
                hex(c)?;
                continue;
            }
            b']' => {
                depth = depth.checked_sub(1)?;
                c.pos += 1;
            }
            b'>' if c.rest().starts_with(b">>") => {
                depth = depth.checked_sub(1)?;
                c.pos += 2;
            }
            _ => c.pos += 1,
        }
        if depth == 0 {
            return Some(());
        }
        if depth > MAX_NESTING {
            return None;
        }
    }
}

/// Text strings are UTF-16BE with a byte order mark, UTF-8 with one (PDF
/// 2.0), or PDFDocEncoding, which agrees with Latin-1 where it matters.
fn decode_text(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    b.iter().map(|&c| char::from(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ms-pdf-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn info_through_the_table() {
        let p = write(
            "t.pdf",
            &moodshelf_libgen::formats::pdf(
                "<< /Title (Caf\\351 \\(Night\\)) /Author <FEFF0041006E006E> /Keywords [1 2] /CreationDate (D:19990101) >>",
            ),
        );
        let info = read_info(&p).unwrap().unwrap();
        assert_eq!(info.title.as_deref(), Some("Café (Night)"));
        assert_eq!(info.author.as_deref(), Some("Ann"));
        assert_eq!(info.keywords, None, "an array is not text");
        assert_eq!(info.creation_date.as_deref(), Some("D:19990101"));
    }

    #[test]
    fn a_two_gigabyte_pdf_is_read_from_its_ends() {
        // A sparse file: 2 GiB on paper, a few KiB on disk. lopdf would read
        // (and hold) all of it.
        let p = write("big.pdf", b"%PDF-1.4\n");
        let pad = 2u64 << 30;
        let object = "1 0 obj\n<< /Title (Far Away) /Author 2 0 R >>\nendobj\n";
        let second = "2 0 obj\n(Someone)\nendobj\n";
        let xref = pad + (object.len() + second.len()) as u64;
        let tail = format!(
            "{object}{second}xref\n0 3\n0000000000 65535 f \n{pad:010} 00000 n \n{:010} 00000 n \n\
             trailer\n<< /Size 3 /Info 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            pad + object.len() as u64
        );
        let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        use std::io::Write;
        f.seek(SeekFrom::Start(pad)).unwrap();
        f.write_all(tail.as_bytes()).unwrap();
        drop(f);
        let info = read_info(&p).unwrap().unwrap();
        assert_eq!(info.title.as_deref(), Some("Far Away"));
        assert_eq!(info.author.as_deref(), Some("Someone"), "an indirect value");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for (i, bytes) in [
            &b"%PDF-1.7\nstartxref\n999999999\n%%EOF"[..],
            b"%PDF-1.7\ntrailer << /Info 1 0 R >>\nstartxref\n9\n%%EOF",
            b"%PDF-1.7\n1 0 obj << /Title (unterminated \nstartxref 9",
            b"not a pdf at all",
        ]
        .iter()
        .enumerate()
        {
            let p = write(&format!("g{i}.pdf"), bytes);
            let _ = read_info(&p);
        }
    }
}
