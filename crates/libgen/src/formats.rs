//! Writers for real, small media files, built byte by byte from the format
//! specifications (not with the reader under test, so reader and writer
//! cannot share a bug): MP3 with an ID3v2.4 tag and a Xing header that
//! carries the track's real length, FLAC with STREAMINFO and Vorbis
//! comments, Matroska and MP4 video headers, EPUB packages, Kodi `.nfo` and
//! Calibre `metadata.opf` sidecars.

use std::io::Write;

use anyhow::Result;

/// A 1×1 PNG: real, valid cover art in 67 bytes.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

#[derive(Debug, Clone, Default)]
pub struct AudioTags {
    pub title: String,
    pub artist: String,
    pub album: String,
    pub album_artist: Option<String>,
    pub track: u32,
    pub date: Option<String>,
    pub genre: Option<String>,
    pub bpm: Option<u32>,
    pub cover_png: bool,
    /// A player's record of the person's listening: ID3v2's POPM frame.
    pub popularimeter: Option<Popularimeter>,
    /// A player's freedesktop FMPS record: the rating (0–1) and the play
    /// count, as Vorbis comments in FLAC and TXXX frames in ID3v2.
    pub fmps: Option<(f32, u32)>,
}

/// FMPS values are floats in text: "0.8", "5.0".
fn fmps_values((rating, plays): (f32, u32)) -> (String, String) {
    (rating.to_string(), format!("{:.1}", f64::from(plays)))
}

/// ID3v2's POPM: who rated (the player's "email"), the rating byte
/// (1–255; Windows Media Player writes 1, 64, 128, 196, 255 for one to
/// five stars) and the play counter.
#[derive(Debug, Clone, Default)]
pub struct Popularimeter {
    pub email: String,
    pub rating: u8,
    pub plays: u32,
}

fn syncsafe(n: u32) -> [u8; 4] {
    [
        ((n >> 21) & 0x7F) as u8,
        ((n >> 14) & 0x7F) as u8,
        ((n >> 7) & 0x7F) as u8,
        (n & 0x7F) as u8,
    ]
}

fn id3_frame(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&syncsafe(body.len() as u32));
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
}

fn id3_text(out: &mut Vec<u8>, id: &[u8; 4], text: &str) {
    let mut body = vec![3u8]; // UTF-8
    body.extend_from_slice(text.as_bytes());
    id3_frame(out, id, &body);
}

/// An ID3v2.4 tag.
pub fn id3v24(t: &AudioTags) -> Vec<u8> {
    let mut frames = Vec::new();
    id3_text(&mut frames, b"TIT2", &t.title);
    id3_text(&mut frames, b"TPE1", &t.artist);
    id3_text(&mut frames, b"TALB", &t.album);
    if let Some(a) = &t.album_artist {
        id3_text(&mut frames, b"TPE2", a);
    }
    id3_text(&mut frames, b"TRCK", &t.track.to_string());
    if let Some(d) = &t.date {
        id3_text(&mut frames, b"TDRC", d);
    }
    if let Some(g) = &t.genre {
        id3_text(&mut frames, b"TCON", g);
    }
    if let Some(b) = t.bpm {
        id3_text(&mut frames, b"TBPM", &b.to_string());
    }
    if let Some(p) = &t.popularimeter {
        let mut body = p.email.as_bytes().to_vec();
        body.push(0);
        body.push(p.rating);
        body.extend_from_slice(&p.plays.to_be_bytes());
        id3_frame(&mut frames, b"POPM", &body);
    }
    if let Some(f) = t.fmps {
        let (rating, plays) = fmps_values(f);
        for (description, value) in [("FMPS_Rating", rating), ("FMPS_Playcount", plays)] {
            let body = [&[3u8][..], description.as_bytes(), &[0], value.as_bytes()].concat();
            id3_frame(&mut frames, b"TXXX", &body);
        }
    }
    if t.cover_png {
        let mut body = vec![0u8]; // Latin-1 description
        body.extend_from_slice(b"image/png\0");
        body.push(3); // front cover
        body.push(0); // empty description
        body.extend_from_slice(TINY_PNG);
        id3_frame(&mut frames, b"APIC", &body);
    }
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    tag.extend_from_slice(&syncsafe(frames.len() as u32));
    tag.extend(frames);
    tag
}

/// MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono: 417-byte frames of
/// silence; the first carries a Xing header with the frame count, so
/// players and taggers read the intended length from a file of a few KB.
pub fn mp3(tags: &AudioTags, seconds: f64) -> Vec<u8> {
    const FRAME: usize = 417;
    let header = [0xFF, 0xFB, 0x90, 0xC0];
    let frames = ((seconds * 44_100.0 / 1152.0).round() as u32).max(1);
    let mut out = id3v24(tags);
    let mut xing = vec![0u8; FRAME];
    xing[..4].copy_from_slice(&header);
    // Side information for mono MPEG-1 is 17 bytes; the Xing tag follows.
    let at = 4 + 17;
    xing[at..at + 4].copy_from_slice(b"Xing");
    // Flags: frame count and byte count present (players need both).
    xing[at + 4..at + 8].copy_from_slice(&3u32.to_be_bytes());
    xing[at + 8..at + 12].copy_from_slice(&frames.to_be_bytes());
    xing[at + 12..at + 16].copy_from_slice(&(frames * FRAME as u32).to_be_bytes());
    out.extend(xing);
    for _ in 0..3 {
        let mut f = vec![0u8; FRAME];
        f[..4].copy_from_slice(&header);
        out.extend(f);
    }
    out
}

/// FLAC metadata: STREAMINFO with the real length (44.1 kHz, 16-bit
/// stereo), Vorbis comments and an optional PICTURE block; the audio frames
/// are left out (the file's size is not the point).
pub fn flac(tags: &AudioTags, seconds: f64) -> Vec<u8> {
    let mut out = b"fLaC".to_vec();
    let total_samples = (seconds * 44_100.0).round() as u64;
    let mut si = Vec::with_capacity(34);
    si.extend_from_slice(&4096u16.to_be_bytes());
    si.extend_from_slice(&4096u16.to_be_bytes());
    si.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // min/max frame size unknown
    // 20 bits sample rate, 3 bits channels-1, 5 bits bps-1, 36 bits samples.
    let packed: u64 =
        (44_100u64 << 44) | (1u64 << 41) | (15u64 << 36) | (total_samples & 0xF_FFFF_FFFF);
    si.extend_from_slice(&packed.to_be_bytes());
    si.extend_from_slice(&[0u8; 16]); // MD5 unknown
    let mut comments: Vec<String> = vec![
        format!("TITLE={}", tags.title),
        format!("ARTIST={}", tags.artist),
        format!("ALBUM={}", tags.album),
        format!("TRACKNUMBER={}", tags.track),
    ];
    if let Some(a) = &tags.album_artist {
        comments.push(format!("ALBUMARTIST={a}"));
    }
    if let Some(d) = &tags.date {
        comments.push(format!("DATE={d}"));
    }
    if let Some(g) = &tags.genre {
        comments.push(format!("GENRE={g}"));
    }
    if let Some(b) = tags.bpm {
        comments.push(format!("BPM={b}"));
    }
    if let Some(f) = tags.fmps {
        let (rating, plays) = fmps_values(f);
        comments.push(format!("FMPS_RATING={rating}"));
        comments.push(format!("FMPS_PLAYCOUNT={plays}"));
    }
    let mut vc = Vec::new();
    let vendor = b"moodshelf-libgen";
    vc.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    vc.extend_from_slice(vendor);
    vc.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in &comments {
        vc.extend_from_slice(&(c.len() as u32).to_le_bytes());
        vc.extend_from_slice(c.as_bytes());
    }
    let mut blocks: Vec<(u8, Vec<u8>)> = vec![(0, si), (4, vc)];
    if tags.cover_png {
        let mut pic = Vec::new();
        pic.extend_from_slice(&3u32.to_be_bytes());
        pic.extend_from_slice(&9u32.to_be_bytes());
        pic.extend_from_slice(b"image/png");
        pic.extend_from_slice(&0u32.to_be_bytes());
        for v in [1u32, 1, 32, 0] {
            pic.extend_from_slice(&v.to_be_bytes());
        }
        pic.extend_from_slice(&(TINY_PNG.len() as u32).to_be_bytes());
        pic.extend_from_slice(TINY_PNG);
        blocks.push((6, pic));
    }
    let n = blocks.len();
    for (i, (kind, body)) in blocks.into_iter().enumerate() {
        let last = if i + 1 == n { 0x80 } else { 0 };
        out.push(last | kind);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend(body);
    }
    out
}

fn ebml_id(out: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.extend_from_slice(&bytes[skip..]);
}

fn ebml_size(out: &mut Vec<u8>, n: usize) {
    // Always 8-byte sizes: simple and valid.
    out.push(0x01);
    out.extend_from_slice(&(n as u64).to_be_bytes()[1..]);
}

fn ebml(out: &mut Vec<u8>, id: u32, body: &[u8]) {
    ebml_id(out, id);
    ebml_size(out, body.len());
    out.extend_from_slice(body);
}

#[derive(Debug, Clone, Default)]
pub struct VideoTags {
    pub title: Option<String>,
    pub seconds: Option<f64>,
    pub date: Option<String>,
    pub genre: Option<String>,
    pub director: Option<String>,
}

/// A Matroska file: EBML header, Segment with Info (duration, title) and
/// Tags, and no clusters (nothing to play, everything to read).
pub fn mkv(v: &VideoTags) -> Vec<u8> {
    let mut head = Vec::new();
    ebml(&mut head, 0x4286, &[1]); // EBMLVersion
    ebml(&mut head, 0x42F7, &[1]); // EBMLReadVersion
    ebml(&mut head, 0x4282, b"matroska");
    ebml(&mut head, 0x4287, &[4]); // DocTypeVersion
    ebml(&mut head, 0x4285, &[2]);
    let mut out = Vec::new();
    ebml(&mut out, 0x1A45_DFA3, &head);

    let mut info = Vec::new();
    ebml(&mut info, 0x2A_D7B1, &1_000_000u32.to_be_bytes()); // 1 ms ticks
    if let Some(s) = v.seconds {
        ebml(&mut info, 0x4489, &(s * 1000.0).to_be_bytes());
    }
    if let Some(t) = &v.title {
        ebml(&mut info, 0x7BA9, t.as_bytes());
    }
    ebml(&mut info, 0x4D80, b"moodshelf-libgen"); // MuxingApp
    ebml(&mut info, 0x5741, b"moodshelf-libgen"); // WritingApp
    let mut segment = Vec::new();
    ebml(&mut segment, 0x1549_A966, &info);

    let mut simple_tags = Vec::new();
    for (name, value) in [
        ("DATE_RELEASED", v.date.as_deref()),
        ("GENRE", v.genre.as_deref()),
        ("DIRECTOR", v.director.as_deref()),
    ] {
        if let Some(value) = value {
            let mut st = Vec::new();
            ebml(&mut st, 0x45A3, name.as_bytes());
            ebml(&mut st, 0x4487, value.as_bytes());
            ebml(&mut simple_tags, 0x67C8, &st);
        }
    }
    if !simple_tags.is_empty() {
        let mut tag = Vec::new();
        let mut targets = Vec::new();
        ebml(&mut targets, 0x68CA, &[50]); // movie level
        ebml(&mut tag, 0x63C0, &targets);
        tag.extend(simple_tags);
        let mut tags = Vec::new();
        ebml(&mut tags, 0x7373, &tag);
        ebml(&mut segment, 0x1254_C367, &tags);
    }
    ebml(&mut out, 0x1853_8067, &segment);
    out
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// An MP4: ftyp and a moov with the movie header (duration); no tracks.
pub fn mp4(seconds: f64) -> Vec<u8> {
    let mut out = mp4_box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41");
    let mut mvhd = vec![0u8; 100];
    // version 0, flags 0, creation, modification, timescale, duration
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&((seconds * 1000.0) as u32).to_be_bytes());
    mvhd[20..24].copy_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd[24..26].copy_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    out.extend(mp4_box(b"moov", &mp4_box(b"mvhd", &mvhd)));
    out
}

/// A minimal, valid one-page PDF with the given Info dictionary, the byte
/// offsets of its cross-reference table computed exactly.
pub fn pdf(info: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        info,
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(Debug, Clone, Default)]
pub struct BookMeta {
    pub title: String,
    pub authors: Vec<String>,
    pub subjects: Vec<String>,
    pub language: Option<String>,
    pub date: Option<String>,
    pub description: Option<String>,
    pub identifier: String,
}

/// An OPF package document (EPUB 2 style, as Calibre writes it).
pub fn opf(b: &BookMeta, cover_href: Option<&str>) -> String {
    let mut m = String::new();
    m.push_str(&format!(
        "    <dc:title>{}</dc:title>\n",
        xml_escape(&b.title)
    ));
    for a in &b.authors {
        m.push_str(&format!(
            "    <dc:creator opf:role=\"aut\">{}</dc:creator>\n",
            xml_escape(a)
        ));
    }
    for s in &b.subjects {
        m.push_str(&format!("    <dc:subject>{}</dc:subject>\n", xml_escape(s)));
    }
    if let Some(l) = &b.language {
        m.push_str(&format!(
            "    <dc:language>{}</dc:language>\n",
            xml_escape(l)
        ));
    }
    if let Some(d) = &b.date {
        m.push_str(&format!("    <dc:date>{}</dc:date>\n", xml_escape(d)));
    }
    if let Some(d) = &b.description {
        m.push_str(&format!(
            "    <dc:description>{}</dc:description>\n",
            xml_escape(d)
        ));
    }
    m.push_str(&format!(
        "    <dc:identifier id=\"uid\">{}</dc:identifier>\n",
        xml_escape(&b.identifier)
    ));
    let mut manifest = String::from(
        "    <item id=\"text\" href=\"text.xhtml\" media-type=\"application/xhtml+xml\"/>\n",
    );
    if let Some(href) = cover_href {
        m.push_str("    <meta name=\"cover\" content=\"cover\"/>\n");
        manifest.push_str(&format!(
            "    <item id=\"cover\" href=\"{href}\" media-type=\"image/png\"/>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<package xmlns=\"http://www.idpf.org/2007/opf\" unique-identifier=\"uid\" version=\"2.0\">\n  <metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:opf=\"http://www.idpf.org/2007/opf\">\n{m}  </metadata>\n  <manifest>\n{manifest}  </manifest>\n  <spine><itemref idref=\"text\"/></spine>\n</package>\n"
    )
}

/// An EPUB: `mimetype` stored first, the container, the package, one page.
pub fn epub(b: &BookMeta, with_cover: bool) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let stored =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let deflated = SimpleFileOptions::default();
        z.start_file("mimetype", stored)?;
        z.write_all(b"application/epub+zip")?;
        z.start_file("META-INF/container.xml", deflated)?;
        z.write_all(
            b"<?xml version=\"1.0\"?>\n<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n  <rootfiles><rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/></rootfiles>\n</container>\n",
        )?;
        z.start_file("OEBPS/content.opf", deflated)?;
        z.write_all(opf(b, with_cover.then_some("images/cover.png")).as_bytes())?;
        z.start_file("OEBPS/text.xhtml", deflated)?;
        z.write_all(
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>{0}</title></head><body><h1>{0}</h1></body></html>\n",
                xml_escape(&b.title)
            )
            .as_bytes(),
        )?;
        if with_cover {
            z.start_file("OEBPS/images/cover.png", stored)?;
            z.write_all(TINY_PNG)?;
        }
        z.finish()?;
    }
    Ok(buf.into_inner())
}

#[derive(Debug, Clone, Default)]
pub struct NfoMovie {
    pub title: String,
    pub year: Option<i32>,
    pub plot: Option<String>,
    pub genres: Vec<String>,
    pub tags: Vec<String>,
    pub runtime_min: Option<u32>,
    pub mpaa: Option<String>,
    pub director: Option<String>,
    pub actors: Vec<String>,
    pub rating: Option<f32>,
}

/// A Kodi movie `.nfo`.
pub fn nfo(m: &NfoMovie) -> String {
    let mut s =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\" ?>\n<movie>\n");
    let mut el = |name: &str, value: &str| {
        s.push_str(&format!("    <{name}>{}</{name}>\n", xml_escape(value)));
    };
    el("title", &m.title);
    if let Some(y) = m.year {
        el("year", &y.to_string());
    }
    if let Some(p) = &m.plot {
        el("plot", p);
    }
    if let Some(r) = m.runtime_min {
        el("runtime", &r.to_string());
    }
    if let Some(c) = &m.mpaa {
        el("mpaa", c);
    }
    for g in &m.genres {
        el("genre", g);
    }
    for t in &m.tags {
        el("tag", t);
    }
    if let Some(d) = &m.director {
        el("director", d);
    }
    if let Some(r) = m.rating {
        s.push_str(&format!(
            "    <ratings>\n        <rating name=\"imdb\" max=\"10\" default=\"true\">\n            <value>{r:.1}</value>\n        </rating>\n    </ratings>\n"
        ));
    }
    for a in &m.actors {
        s.push_str(&format!(
            "    <actor>\n        <name>{}</name>\n    </actor>\n",
            xml_escape(a)
        ));
    }
    s.push_str("</movie>\n");
    s
}

/// How far a person read a book, as KOReader records it.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub title: String,
    pub percent_finished: f64,
    /// "reading", "complete" or "abandoned".
    pub status: String,
    /// 1–5 stars.
    pub rating: Option<u8>,
    /// "YYYY-MM-DD".
    pub modified: String,
}

/// KOReader's settings file for a book (`<book>.sdr/metadata.<ext>.lua`) as
/// its `dump()` writes it: `-- ` comment line, `return` of a table with
/// sorted keys, four-space indents and strings quoted the way Lua's `%q`
/// quotes them.
pub fn koreader_settings(r: &Reading) -> String {
    let q = |s: &str| {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    let mut summary = vec![format!("        [\"modified\"] = {},", q(&r.modified))];
    if let Some(stars) = r.rating {
        summary.push(format!("        [\"rating\"] = {stars},"));
    }
    summary.push(format!("        [\"status\"] = {},", q(&r.status)));
    format!(
        "-- we can read Lua syntax here!\nreturn {{\n    [\"cre_dom_version\"] = 20240114,\n    \
         [\"doc_pages\"] = 312,\n    [\"percent_finished\"] = {},\n    [\"stats\"] = {{\n        \
         [\"pages\"] = 312,\n        [\"title\"] = {},\n    }},\n    [\"summary\"] = {{\n{}\n    }},\n}}\n",
        r.percent_finished,
        q(&r.title),
        summary.join("\n")
    )
}
