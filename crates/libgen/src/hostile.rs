//! A corpus of hostile files, written by the tests themselves: the broken,
//! oversized, special and malicious files found in downloads and on old
//! disks. Sizes that lie, structures that make naive readers quadratic,
//! zip and entity bombs, deep nesting, FIFOs, sockets, links to devices,
//! out of the folder and back up it, and names no one would choose.
//!
//! Every entry says what a scanner must make of it: a special file must be
//! left untouched (not opened, not listed), a hostile file must become
//! either an item with sane fields or a per-file error, quickly.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::formats::{self, AudioTags, VideoTags};

/// What a scanner must make of one corpus entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Not a regular file (FIFO, socket, device link) or a link out of the
    /// folder: never opened, never listed.
    Untouched,
    /// A media file: an item with sane fields, or a per-file error.
    ItemOrError,
    /// A sidecar: it may change its neighbour, never the scan.
    Sidecar,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    pub why: &'static str,
    pub expect: Expect,
}

struct Writer {
    dir: PathBuf,
    entries: Vec<Entry>,
}

impl Writer {
    fn file(&mut self, name: &str, why: &'static str, expect: Expect, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("write {}", path.display()))?;
        self.entries.push(Entry { path, why, expect });
        Ok(())
    }

    fn media(&mut self, name: &str, why: &'static str, bytes: &[u8]) -> Result<()> {
        self.file(name, why, Expect::ItemOrError, bytes)
    }
}

/// Writes the corpus into `dir` (created) and returns what it wrote.
/// About 60 entries, 10 MB on disk (the 2 GiB PDF is sparse).
pub fn write(dir: &Path) -> Result<Vec<Entry>> {
    std::fs::create_dir_all(dir)?;
    let mut w = Writer {
        dir: dir.to_path_buf(),
        entries: Vec::new(),
    };

    quadratic(&mut w)?;
    bombs(&mut w)?;
    lying_sizes(&mut w)?;
    long_values(&mut w)?;
    broken(&mut w)?;
    odd_names(&mut w)?;
    special_files(&mut w)?;
    Ok(w.entries)
}

/// Structures that make naive readers quadratic or worse.
fn quadratic(w: &mut Writer) -> Result<()> {
    let mut attrs = String::from("<movie");
    for i in 0..300_000 {
        attrs.push_str(&format!(" a{i}=\"\""));
    }
    attrs.push_str("><title>Attributes</title></movie>");
    w.media(
        "quadratic/Attributes (2001).mkv",
        "video beside a hostile .nfo",
        &formats::mkv(&VideoTags::default()),
    )?;
    w.file(
        "quadratic/Attributes (2001).nfo",
        "300,000 attributes on the root",
        Expect::Sidecar,
        attrs.as_bytes(),
    )?;
    let opf_attrs = attrs
        .replace("<movie", "<package")
        .replace("</movie>", "</package>");
    w.media(
        "quadratic/attributes.epub",
        "an OPF with 300,000 attributes",
        &epub_with_opf(&opf_attrs)?,
    )?;
    w.media(
        "quadratic/simpletag.mkv",
        "a SimpleTag with a million nested children",
        &mkv_nested_simple_tags(1_000_000),
    )?;
    let mut deep = "<movie>".repeat(200_000);
    deep.push_str("</movie>");
    w.file(
        "quadratic/Deep (1999).nfo",
        "200,000 nested elements",
        Expect::Sidecar,
        deep.as_bytes(),
    )?;
    w.media(
        "quadratic/Deep (1999).mkv",
        "video beside a deep .nfo",
        &formats::mkv(&VideoTags::default()),
    )?;
    Ok(())
}

/// Bombs: an archive and entities that expand without end.
fn bombs(w: &mut Writer) -> Result<()> {
    w.media(
        "bombs/zipbomb.epub",
        "container.xml inflating to 64 MiB",
        &zip_bomb(64 << 20)?,
    )?;
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]><movie><title>&lol9;</title></movie>",
        (1..10)
            .map(|i| format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&lol{};", i - 1)
                    .replace("&lol0;", "&lol;")
                    .repeat(10)
            ))
            .collect::<String>()
    );
    w.file(
        "bombs/Laughs (2000).nfo",
        "a billion laughs",
        Expect::Sidecar,
        laughs.as_bytes(),
    )?;
    w.media(
        "bombs/Laughs (2000).mkv",
        "video beside an entity bomb",
        &formats::mkv(&VideoTags::default()),
    )?;
    Ok(())
}

/// Sizes that lie.
fn lying_sizes(w: &mut Writer) -> Result<()> {
    let mut id3 = b"ID3\x04\x00\x00".to_vec();
    id3.extend_from_slice(&[0x7F, 0x7F, 0x7F, 0x7F]); // 256 MiB tag
    id3.extend_from_slice(b"TIT2\x7F\x7F\x7F\x7F\x00\x00\x03x");
    w.media("sizes/lying-id3.mp3", "an ID3 tag claiming 256 MiB", &id3)?;
    let mut flac = b"fLaC".to_vec();
    flac.extend_from_slice(&[0x84, 0xFF, 0xFF, 0xFF]); // a 16 MiB comment block
    flac.extend_from_slice(&[0xFF; 64]);
    w.media(
        "sizes/lying.flac",
        "a FLAC block longer than the file",
        &flac,
    )?;
    let mut mp4 = 0xFFFF_FFFFu32.to_be_bytes().to_vec();
    mp4.extend_from_slice(b"ftypisom");
    mp4.extend_from_slice(&1u32.to_be_bytes());
    mp4.extend_from_slice(b"moov");
    mp4.extend_from_slice(&u64::MAX.to_be_bytes());
    w.media("sizes/lying.mp4", "MP4 boxes of 4 GiB and 2^64 bytes", &mp4)?;
    let mut asf = hex_guid("75B22630-668E-11CF-A6D9-00AA0062CE6C").to_vec();
    asf.extend_from_slice(&u64::MAX.to_le_bytes());
    asf.extend_from_slice(&u32::MAX.to_le_bytes());
    asf.extend_from_slice(&[1, 2]);
    w.media("sizes/lying.wma", "an ASF header of 2^64 bytes", &asf)?;
    let mut mkv = vec![
        0x1A, 0x45, 0xDF, 0xA3, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    ];
    mkv.extend_from_slice(&[0x42, 0x82, 0x88]);
    w.media("sizes/lying.mkv", "an EBML header of 2^56 bytes", &mkv)?;
    w.media("sizes/huge.pdf", "a 2 GiB PDF (sparse)", b"")?;
    write_sparse_pdf(&w.dir.join("sizes/huge.pdf"), 2 << 30)?;
    let mut pdf_loop = b"%PDF-1.4\n".to_vec();
    let at = pdf_loop.len();
    pdf_loop.extend_from_slice(
        format!("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Prev {at} /Info 1 0 R >>\nstartxref\n{at}\n%%EOF\n").as_bytes(),
    );
    w.media(
        "sizes/prev-loop.pdf",
        "a cross-reference section that is its own /Prev",
        &pdf_loop,
    )?;
    Ok(())
}

/// Many values and long ones.
fn long_values(w: &mut Writer) -> Result<()> {
    let genres: Vec<String> = (0..100_000).map(|i| format!("Genre{i}")).collect();
    let tags = AudioTags {
        title: "\u{202E}kcart\u{200B} with\u{1b}[31m escapes".into(),
        artist: "Someone".into(),
        album: "Many".into(),
        track: 1,
        genre: Some(genres.join(";")),
        ..AudioTags::default()
    };
    w.media(
        "values/many-genres.mp3",
        "100,000 genres, bidi and escapes in the title",
        &formats::mp3(&tags, 10.0),
    )?;
    let cjk = AudioTags {
        title: "夜".repeat(20_000),
        artist: "長".repeat(5_000),
        album: "冬".repeat(5_000),
        track: 1,
        ..AudioTags::default()
    };
    w.media(
        "values/long-cjk.mp3",
        "a 20,000-character CJK title",
        &formats::mp3(&cjk, 10.0),
    )?;
    Ok(())
}

/// Truncated, empty and random files of every kind read.
fn broken(w: &mut Writer) -> Result<()> {
    let good_mp3 = whole_mp3();
    w.media(
        "broken/truncated.mp3",
        "an MP3 cut inside its tag",
        &good_mp3[..good_mp3.len().min(40)],
    )?;
    let book = formats::epub(
        &formats::BookMeta {
            title: "Whole".into(),
            ..formats::BookMeta::default()
        },
        true,
    )?;
    w.media(
        "broken/truncated.epub",
        "half an EPUB",
        &book[..book.len() / 2],
    )?;
    for ext in [
        "mp3", "flac", "ogg", "m4a", "wma", "wav", "epub", "pdf", "m4b", "mkv", "mp4", "avi",
    ] {
        w.media(&format!("broken/empty.{ext}"), "an empty file", b"")?;
        w.media(
            &format!("broken/random.{ext}"),
            "random bytes",
            &pseudo_random(ext.len() as u64, 64 * 1024),
        )?;
    }
    Ok(())
}

/// Names no one would choose.
fn odd_names(w: &mut Writer) -> Result<()> {
    let good_mp3 = whole_mp3();
    w.media(
        "names/\u{1b}[31mred\u{1b}[0m.mp3",
        "ANSI escapes in the name",
        &good_mp3,
    )?;
    w.media(
        "names/evil\u{202E}3pm.exe.mp3",
        "a bidi override in the name",
        &good_mp3,
    )?;
    w.media("names/line\nbreak.mp3", "a newline in the name", &good_mp3)?;
    w.media(
        &format!("names/{}.mp3", "n".repeat(250)),
        "a 254-byte name",
        &good_mp3,
    )?;
    w.media("names/ .mp3", "a name that is one space", &good_mp3)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        // "Café Noir.mp3" in Latin-1, as old disks and archives hold it.
        let name = std::ffi::OsStr::from_bytes(b"Caf\xe9 Noir.mp3");
        let path = w.dir.join("names").join(name);
        std::fs::write(&path, &good_mp3)?;
        w.entries.push(Entry {
            path,
            why: "a name that is not UTF-8",
            expect: Expect::ItemOrError,
        });
    }
    Ok(())
}

/// A small, whole MP3 titled "Whole".
fn whole_mp3() -> Vec<u8> {
    formats::mp3(
        &AudioTags {
            title: "Whole".into(),
            ..AudioTags::default()
        },
        5.0,
    )
}

#[cfg(unix)]
fn special_files(w: &mut Writer) -> Result<()> {
    use std::os::unix::fs::symlink;
    let special = w.dir.join("special");
    std::fs::create_dir_all(&special)?;
    let fifo = special.join("fifo.mp3");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .context("run mkfifo")?;
    anyhow::ensure!(made.success(), "mkfifo failed");
    w.entries.push(Entry {
        path: fifo,
        why: "a FIFO named like a song",
        expect: Expect::Untouched,
    });
    let socket = special.join("socket.flac");
    // The listener is dropped at once; the socket file stays.
    std::os::unix::net::UnixListener::bind(&socket).context("bind a socket")?;
    w.entries.push(Entry {
        path: socket,
        why: "a socket named like a song",
        expect: Expect::Untouched,
    });
    for (name, target, why) in [
        ("zero.mkv", "/dev/zero", "a link to an endless device"),
        ("random.mp3", "/dev/urandom", "a link to an endless device"),
        ("passwd.nfo", "/etc/passwd", "a link out of the folder"),
    ] {
        let link = special.join(name);
        symlink(target, &link)?;
        w.entries.push(Entry {
            path: link,
            why,
            expect: Expect::Untouched,
        });
    }
    let root_link = special.join("everything");
    symlink("/", &root_link)?;
    w.entries.push(Entry {
        path: root_link,
        why: "a link to / (it would walk /proc)",
        expect: Expect::Untouched,
    });
    let up = special.join("loop");
    symlink("..", &up)?;
    w.entries.push(Entry {
        path: up,
        why: "a link back to its own parent",
        expect: Expect::Untouched,
    });
    Ok(())
}

#[cfg(not(unix))]
fn special_files(_: &mut Writer) -> Result<()> {
    Ok(())
}

fn epub_with_opf(opf: &str) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let deflated = SimpleFileOptions::default();
        z.start_file("mimetype", deflated)?;
        z.write_all(b"application/epub+zip")?;
        z.start_file("META-INF/container.xml", deflated)?;
        z.write_all(
            b"<container><rootfiles><rootfile full-path=\"content.opf\"/></rootfiles></container>",
        )?;
        z.start_file("content.opf", deflated)?;
        z.write_all(opf.as_bytes())?;
        z.finish()?;
    }
    Ok(buf.into_inner())
}

/// An EPUB whose `container.xml` inflates to `inflated` bytes of spaces.
fn zip_bomb(inflated: usize) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let deflated = SimpleFileOptions::default()
            .compression_level(Some(9))
            .large_file(inflated as u64 > u32::MAX as u64);
        z.start_file("mimetype", deflated)?;
        z.write_all(b"application/epub+zip")?;
        z.start_file("META-INF/container.xml", deflated)?;
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..inflated / chunk.len() {
            z.write_all(&chunk)?;
        }
        z.finish()?;
    }
    Ok(buf.into_inner())
}

fn mkv_nested_simple_tags(children: usize) -> Vec<u8> {
    fn element(out: &mut Vec<u8>, id: &[u8], body: &[u8]) {
        out.extend_from_slice(id);
        out.push(0x01);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
        out.extend_from_slice(body);
    }
    let mut inner = Vec::with_capacity(children * 3 + 32);
    element(&mut inner, &[0x45, 0xA3], b"TITLE");
    element(&mut inner, &[0x44, 0x87], b"Nested");
    for _ in 0..children {
        inner.extend_from_slice(&[0x67, 0xC8, 0x80]);
    }
    let mut simple = Vec::new();
    element(&mut simple, &[0x67, 0xC8], &inner);
    let mut tag = Vec::new();
    element(&mut tag, &[0x73, 0x73], &simple);
    let mut tags = Vec::new();
    element(&mut tags, &[0x12, 0x54, 0xC3, 0x67], &tag);
    let mut head = Vec::new();
    element(&mut head, &[0x42, 0x82], b"matroska");
    let mut out = Vec::new();
    element(&mut out, &[0x1A, 0x45, 0xDF, 0xA3], &head);
    element(&mut out, &[0x18, 0x53, 0x80, 0x67], &tags);
    out
}

/// A PDF of `len` bytes on paper whose objects sit at the end, after a
/// hole: cheap on disk, ruinous for a reader that loads the whole file.
pub fn write_sparse_pdf(path: &Path, len: u64) -> Result<()> {
    use std::io::{Seek, SeekFrom};
    let object = "1 0 obj\n<< /Title (A Very Large Book) /Author (Someone Patient) >>\nendobj\n";
    let mut tail = String::new();
    let body_at = len.saturating_sub(4096).max(16);
    let xref = body_at + object.len() as u64;
    tail.push_str(object);
    tail.push_str(&format!(
        "xref\n0 2\n0000000000 65535 f \n{body_at:010} 00000 n \ntrailer\n<< /Size 2 /Info 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ));
    let mut f = std::fs::File::create(path)?;
    f.write_all(b"%PDF-1.4\n")?;
    f.seek(SeekFrom::Start(body_at))?;
    f.write_all(tail.as_bytes())?;
    Ok(())
}

fn hex_guid(s: &str) -> [u8; 16] {
    let hex: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b'-')
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0))
        .collect();
    // GUIDs are stored with their first three fields little-endian.
    let mut g = [0u8; 16];
    g[0..4].copy_from_slice(&[hex[3], hex[2], hex[1], hex[0]]);
    g[4..6].copy_from_slice(&[hex[5], hex[4]]);
    g[6..8].copy_from_slice(&[hex[7], hex[6]]);
    g[8..16].copy_from_slice(&hex[8..16]);
    g
}

/// Deterministic noise (xorshift), so a failure can be reproduced.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Ways to damage a real file for the mutation run.
#[derive(Debug, Clone, Copy)]
pub enum Mutation {
    /// Cut at a fraction of the length.
    Truncate(f64),
    /// Flip `n` bits at deterministic places.
    FlipBits(u64, usize),
    /// Overwrite 4 bytes at a fraction of the length with 0xFFFFFFF0, the
    /// shape of an inflated size field.
    InflateSize(f64),
}

impl Mutation {
    pub fn apply(self, data: &[u8]) -> Vec<u8> {
        let at = |f: f64| ((data.len() as f64 * f) as usize).min(data.len().saturating_sub(1));
        match self {
            Mutation::Truncate(f) => data[..at(f)].to_vec(),
            Mutation::FlipBits(seed, n) => {
                let mut out = data.to_vec();
                if out.is_empty() {
                    return out;
                }
                let noise = pseudo_random(seed, n * 8);
                for chunk in noise.chunks(8) {
                    let r = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                    let bit = (r % (out.len() as u64 * 8)) as usize;
                    out[bit / 8] ^= 1 << (bit % 8);
                }
                out
            }
            Mutation::InflateSize(f) => {
                let mut out = data.to_vec();
                let i = at(f);
                for (k, b) in [0xFF, 0xFF, 0xFF, 0xF0].into_iter().enumerate() {
                    if let Some(slot) = out.get_mut(i + k) {
                        *slot = b;
                    }
                }
                out
            }
        }
    }

    /// The mutations tried per file: `n` of them, spread over the kinds.
    pub fn series(seed: u64, n: usize) -> Vec<Mutation> {
        let noise = pseudo_random(seed, n * 2);
        (0..n)
            .map(|i| {
                let f = f64::from(noise[2 * i]) / 256.0;
                match i % 3 {
                    0 => Mutation::Truncate(f),
                    1 => Mutation::FlipBits(
                        seed.wrapping_add(i as u64),
                        1 + noise[2 * i + 1] as usize % 16,
                    ),
                    _ => Mutation::InflateSize(f),
                }
            })
            .collect()
    }
}
