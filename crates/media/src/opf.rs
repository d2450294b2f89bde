//! OPF package documents: the metadata inside an EPUB, and Calibre's
//! `metadata.opf` sidecar that sits beside a book in a Calibre library.

use std::path::Path;

use crate::text::{clean, leading_number, strip_html, year_in};
use crate::xml::{self, Element};
use crate::{Error, Kind, Metadata, Result};

/// Largest OPF file read; real ones are a few kilobytes.
pub const MAX_OPF_BYTES: u64 = 4 * 1024 * 1024;

/// What an OPF package says about a book.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Opf {
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub subjects: Vec<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub date: Option<String>,
    pub publisher: Option<String>,
    pub series: Option<String>,
    pub series_index: Option<f32>,
    /// Calibre's rating, 0–10: the person's own, so it becomes their
    /// history, not the book's rating.
    pub rating: Option<f32>,
    /// Path of the cover image inside the package, relative to the OPF.
    pub cover_href: Option<String>,
}

impl Opf {
    pub fn into_metadata(self, kind: Kind, format: &str) -> Metadata {
        let mut m = Metadata::new(kind, format);
        m.year = self.date.as_deref().and_then(year_in);
        m.title = self.title;
        m.creators = self.authors;
        m.genres = self.subjects;
        m.description = self.description;
        m.language = self.language;
        m.publisher = self.publisher;
        m.series = self.series;
        m.series_index = self.series_index;
        m.history = self
            .rating
            .and_then(|r| {
                crate::History {
                    rating: Some(r),
                    ..crate::History::of("calibre")
                }
                .tidy()
            })
            .into_iter()
            .collect();
        m
    }
}

/// Reads a standalone OPF file such as Calibre's `metadata.opf`.
pub fn read_opf_file(path: &Path) -> Result<Opf> {
    let bytes = crate::open::read_capped(path, MAX_OPF_BYTES, "OPF file")?;
    parse_opf(&String::from_utf8_lossy(&bytes)).map_err(|e| Error::malformed(path, e))
}

pub fn parse_opf(text: &str) -> std::result::Result<Opf, String> {
    let root = xml::parse(text)?;
    if !root.name.eq_ignore_ascii_case("package") {
        return Err(format!("not an OPF package (root <{}>)", root.name));
    }
    let metadata = root
        .child("metadata")
        .ok_or("OPF package has no <metadata>")?;
    // EPUB 2 puts dc:* inside <dc-metadata>; flatten both layouts.
    let mut fields: Vec<&Element> = metadata.children.iter().collect();
    for legacy in metadata
        .children_named("dc-metadata")
        .chain(metadata.children_named("x-metadata"))
    {
        fields.extend(legacy.children.iter());
    }
    let metas: Vec<&Element> = fields
        .iter()
        .copied()
        .filter(|e| e.name.eq_ignore_ascii_case("meta"))
        .collect();
    let mut opf = Opf::default();
    for e in &fields {
        read_dc(&mut opf, e, &metas);
    }
    let cover_id = read_metas(&mut opf, &metas);
    if let Some(manifest) = root.child("manifest") {
        opf.cover_href = cover_href(manifest, cover_id.as_deref());
    }
    Ok(opf)
}

/// The EPUB 3 refinement `property` of the element with `id`.
fn refined(metas: &[&Element], id: Option<&str>, property: &str) -> Option<String> {
    let id = id?;
    metas.iter().find_map(|m| {
        (m.attr("refines") == Some(&format!("#{id}")) && m.attr("property") == Some(property))
            .then(|| m.text_trimmed())
            .flatten()
    })
}

/// Reads one Dublin Core field (`dc:title`, `dc:creator`, ...).
fn read_dc(opf: &mut Opf, e: &Element, metas: &[&Element]) {
    let name = e.name.to_ascii_lowercase();
    let Some(value) = e.text_trimmed() else {
        return;
    };
    match name.as_str() {
        "title" => {
            let main = refined(metas, e.attr("id"), "title-type").is_none_or(|t| t == "main");
            if opf.title.is_none() && main {
                opf.title = clean(&value);
            }
        }
        "creator" => {
            let role = e
                .attr("role")
                .map(str::to_string)
                .or_else(|| refined(metas, e.attr("id"), "role"));
            if role
                .as_deref()
                .is_none_or(|r| r.eq_ignore_ascii_case("aut"))
            {
                opf.authors.push(value);
            }
        }
        "subject" => opf.subjects.push(value),
        "description" if opf.description.is_none() => {
            opf.description = clean(&strip_html(&value));
        }
        "language" if opf.language.is_none() => opf.language = Some(value),
        "date" => {
            // Prefer the publication date over modification dates.
            let event = e.attr("event").unwrap_or("publication");
            if opf.date.is_none() || event.eq_ignore_ascii_case("publication") {
                opf.date = Some(value);
            }
        }
        "publisher" if opf.publisher.is_none() => opf.publisher = Some(value),
        _ => {}
    }
}

/// Reads Calibre's and EPUB 3's `<meta>`s (series, rating); returns the
/// id of the cover an EPUB 2 `<meta name="cover">` names.
fn read_metas(opf: &mut Opf, metas: &[&Element]) -> Option<String> {
    let mut cover_id = None;
    for m in metas {
        let content = m.attr("content").map(str::to_string);
        match (m.attr("name"), m.attr("property")) {
            (Some("calibre:series"), _) => opf.series = content.and_then(|c| clean(&c)),
            (Some("calibre:series_index"), _) => {
                opf.series_index = content.as_deref().and_then(leading_number)
            }
            (Some("calibre:rating"), _) => {
                opf.rating = content
                    .as_deref()
                    .and_then(leading_number)
                    .filter(|r| (0.0..=10.0).contains(r))
            }
            (Some("cover"), _) => cover_id = content,
            (_, Some("belongs-to-collection")) if opf.series.is_none() => {
                opf.series = m.text_trimmed();
                opf.series_index = refined(metas, m.attr("id"), "group-position")
                    .as_deref()
                    .and_then(leading_number);
            }
            _ => {}
        }
    }
    cover_id
}

/// The cover image's href: the manifest item marked `cover-image`, else
/// the one `cover_id` names, else an image whose id says "cover".
fn cover_href(manifest: &Element, cover_id: Option<&str>) -> Option<String> {
    let items: Vec<&Element> = manifest.children_named("item").collect();
    let by_properties = items.iter().find(|i| {
        i.attr("properties")
            .is_some_and(|p| p.split_whitespace().any(|x| x == "cover-image"))
    });
    let by_id = cover_id.and_then(|id| items.iter().find(|i| i.attr("id") == Some(id)));
    let by_name = items.iter().find(|i| {
        i.attr("id")
            .is_some_and(|id| id.to_ascii_lowercase().contains("cover"))
            && i.attr("media-type")
                .is_some_and(|t| t.starts_with("image/"))
    });
    by_properties
        .or(by_id)
        .or(by_name)
        .and_then(|i| i.attr("href"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epub3_refines_and_calibre_meta() {
        let opf = parse_opf(
            r##"<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
  <dc:title id="t1">Main Title</dc:title>
  <dc:title id="t2">A Subtitle</dc:title>
  <meta refines="#t2" property="title-type">subtitle</meta>
  <dc:creator id="c1">Jane Writer</dc:creator>
  <meta refines="#c1" property="role" scheme="marc:relators">aut</meta>
  <dc:creator opf:role="trl">Tom Translator</dc:creator>
  <dc:subject>Ghost stories</dc:subject>
  <dc:description>&lt;p&gt;A &lt;i&gt;quiet&lt;/i&gt; tale.&lt;/p&gt;</dc:description>
  <dc:date opf:event="modification">2020-01-01</dc:date>
  <dc:date>1898</dc:date>
  <meta name="calibre:series" content="Winter Tales"/>
  <meta name="calibre:series_index" content="2.0"/>
  <meta name="calibre:rating" content="8"/>
  <meta name="cover" content="cov"/>
 </metadata>
 <manifest><item id="cov" href="images/c%20over.jpg" media-type="image/jpeg"/></manifest>
</package>"##,
        )
        .unwrap();
        assert_eq!(opf.title.as_deref(), Some("Main Title"));
        assert_eq!(
            opf.authors,
            vec!["Jane Writer"],
            "translators are not authors"
        );
        assert_eq!(opf.subjects, vec!["Ghost stories"]);
        assert_eq!(opf.description.as_deref(), Some("A quiet tale."));
        assert_eq!(opf.date.as_deref(), Some("1898"));
        assert_eq!(opf.series.as_deref(), Some("Winter Tales"));
        assert_eq!(opf.series_index, Some(2.0));
        assert_eq!(opf.cover_href.as_deref(), Some("images/c%20over.jpg"));
        let m = opf.into_metadata(Kind::Book, "opf");
        assert_eq!(m.rating, None, "a Calibre rating is the person's own");
        let h = &m.history[0];
        assert_eq!((h.source.as_str(), h.rating), ("calibre", Some(8.0)));
    }

    #[test]
    fn not_a_package() {
        assert!(parse_opf("<html/>").is_err());
    }
}
