//! Books: EPUB packages, PDFs, audiobooks (`.m4b`), and the Calibre
//! `metadata.opf` sidecar that overrides what the file says.

use std::io::Read;
use std::path::Path;

use crate::opf::{self, MAX_OPF_BYTES};
use crate::text::{clean, split_multi, year_in};
use crate::{Cover, Error, Kind, Metadata, Result, audio, pdf, xml};

/// Largest cover image taken out of an EPUB.
const MAX_COVER_BYTES: u64 = 16 * 1024 * 1024;

pub fn read_epub(path: &Path) -> Result<Metadata> {
    let file = crate::open_regular(path)?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| Error::parse(path, &e))?;

    let container = read_member(&mut zip, "META-INF/container.xml", MAX_OPF_BYTES)
        .map_err(|e| Error::malformed(path, e))?;
    let container = xml::parse(&String::from_utf8_lossy(&container))
        .map_err(|e| Error::malformed(path, format!("container.xml: {e}")))?;
    let mut rootfiles = Vec::new();
    container.descendants_named("rootfile", &mut rootfiles);
    let opf_path = rootfiles
        .iter()
        .find_map(|r| r.attr("full-path"))
        .ok_or_else(|| Error::malformed(path, "container.xml names no package file"))?
        .to_string();

    let opf_bytes =
        read_member(&mut zip, &opf_path, MAX_OPF_BYTES).map_err(|e| Error::malformed(path, e))?;
    let package = opf::parse_opf(&String::from_utf8_lossy(&opf_bytes))
        .map_err(|e| Error::malformed(path, format!("{opf_path}: {e}")))?;

    let cover = package.cover_href.as_deref().and_then(|href| {
        let base = opf_path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let member = join_zip_path(base, &percent_decode(href));
        let data = read_member(&mut zip, &member, MAX_COVER_BYTES).ok()?;
        Some(Cover::Embedded {
            mime: String::new(),
            data,
        })
    });

    let mut meta = package.into_metadata(Kind::Book, "epub");
    meta.cover = cover;
    apply_book_sidecars(path, &mut meta)?;
    Ok(meta)
}

pub fn read_pdf(path: &Path) -> Result<Metadata> {
    let info = pdf::read_info(path)?.unwrap_or_default();
    let mut meta = Metadata::new(Kind::Book, "pdf");
    meta.title = info.title.as_deref().and_then(clean);
    meta.creators = info.author.as_deref().map(split_multi).unwrap_or_default();
    meta.description = info.subject.as_deref().and_then(clean);
    meta.tags = info
        .keywords
        .as_deref()
        .map(|k| k.split([',', ';']).filter_map(clean).collect())
        .unwrap_or_default();
    meta.year = info.creation_date.as_deref().and_then(year_in);
    apply_book_sidecars(path, &mut meta)?;
    Ok(meta)
}

/// Audiobooks carry MP4 tags: the artist is the author (or narrator).
pub fn read_audiobook(path: &Path) -> Result<Metadata> {
    let mut meta = audio::read(path, Kind::Book, "m4b")?;
    if meta.title.is_none() {
        meta.title = meta.album.clone();
    }
    apply_book_sidecars(path, &mut meta)?;
    Ok(meta)
}

/// Calibre keeps the metadata the user curated in `metadata.opf` beside the
/// book, with `cover.jpg`; it wins over what is inside the file. KOReader
/// keeps how far the person read in `<book>.sdr/` (their history).
fn apply_book_sidecars(path: &Path, meta: &mut Metadata) -> Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    let sidecar = dir.join("metadata.opf");
    if sidecar.is_file() {
        // A broken sidecar must not hide a readable book.
        if let Ok(opf) = opf::read_opf_file(&sidecar) {
            let over = opf.into_metadata(Kind::Book, &meta.format);
            meta.override_with(over);
        }
    }
    if let Some(h) = crate::koreader::read_history(path) {
        meta.history.push(h);
    }
    if meta.cover.is_none() {
        meta.cover = crate::cover_beside(path);
    }
    if meta.title.is_none() {
        let guess = crate::parse_file_name(path);
        meta.title = guess.title;
        meta.year = meta.year.or(guess.year);
    }
    Ok(())
}

fn read_member<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    limit: u64,
) -> std::result::Result<Vec<u8>, String> {
    let entry = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    if entry.size() > limit {
        return Err(format!(
            "{name} is implausibly large ({} bytes)",
            entry.size()
        ));
    }
    let mut out = Vec::with_capacity(entry.size() as usize);
    // The declared size may lie (zip bombs): cap what is actually inflated.
    entry
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(out)
}

fn join_zip_path(base: &str, href: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for seg in href.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let Some(v) = hex {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_paths() {
        assert_eq!(join_zip_path("OEBPS", "images/c.jpg"), "OEBPS/images/c.jpg");
        assert_eq!(join_zip_path("OEBPS/text", "../c.jpg"), "OEBPS/c.jpg");
        assert_eq!(join_zip_path("", "c.jpg"), "c.jpg");
        assert_eq!(percent_decode("c%20over.jpg"), "c over.jpg");
        assert_eq!(percent_decode("bad%2"), "bad%2");
    }
}

#[cfg(test)]
mod pdf_tests {
    use super::*;

    #[test]
    fn pdf_info_dictionary() {
        let dir = std::env::temp_dir().join(format!("ms-pdf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("book.pdf");
        std::fs::write(
            &path,
            moodshelf_libgen::formats::pdf(
                "<< /Title (A Winter Journey) /Author (Ann Writer) /Subject (Travel notes) \
                 /Keywords (snow, trains) /CreationDate (D:19990101000000Z) >>",
            ),
        )
        .unwrap();
        let m = crate::extract(&path).unwrap();
        assert_eq!(m.kind, Kind::Book);
        assert_eq!(m.title.as_deref(), Some("A Winter Journey"));
        assert_eq!(m.creators, vec!["Ann Writer"]);
        assert_eq!(m.year, Some(1999));
        assert_eq!(m.tags, vec!["snow", "trains"]);

        std::fs::write(&path, b"%PDF-1.4\ngarbage").unwrap();
        assert!(matches!(
            crate::extract(&path),
            Err(Error::Malformed { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
