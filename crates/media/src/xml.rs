//! A small, bounded XML tree for the sidecar formats (OPF, Kodi `.nfo`).
//!
//! Those documents are tiny and read whole, so a tree is simpler than
//! streaming. Names are kept as local names (namespace prefixes dropped)
//! because real files disagree on prefixes (`dc:title`, `title`,
//! `opf:role`). Hostile input is bounded: depth and node count are capped, and
//! entity references are resolved only for the XML/HTML predefined names and
//! numeric characters, never by expansion of a DTD.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

const MAX_DEPTH: usize = 64;
const MAX_NODES: usize = 200_000;
/// Attributes kept per element. Sidecars use two or three; quick-xml's
/// duplicate check is quadratic in their number, so it is off and the rest
/// are not even parsed.
const MAX_ATTRS: usize = 32;

#[derive(Debug, Default, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Text directly inside this element (children's text excluded).
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Direct children with this local name (case-insensitive: `.nfo` files
    /// written by hand are not consistent).
    pub fn children_named<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a Element> + use<'a, 'n> {
        self.children
            .iter()
            .filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children_named(name).next()
    }

    /// Trimmed text of the first child with this name, if not empty.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.children_named(name).find_map(Element::text_trimmed)
    }

    /// Trimmed, non-empty texts of every child with this name.
    pub fn child_texts(&self, name: &str) -> Vec<String> {
        self.children_named(name)
            .filter_map(Element::text_trimmed)
            .collect()
    }

    pub fn text_trimmed(&self) -> Option<String> {
        let t = self.text.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    /// Depth-first search for elements with this local name.
    pub fn descendants_named<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        for c in &self.children {
            if c.name.eq_ignore_ascii_case(name) {
                out.push(c);
            }
            c.descendants_named(name, out);
        }
    }
}

/// Parses a whole document and returns its root element.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut nodes = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("XML error at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) => {
                nodes += 1;
                if stack.len() > MAX_DEPTH || nodes > MAX_NODES {
                    return Err("XML nested too deep or too large".into());
                }
                stack.push(element(&e));
            }
            Event::Empty(e) => {
                nodes += 1;
                if nodes > MAX_NODES {
                    return Err("XML too large".into());
                }
                let el = element(&e);
                stack.last_mut().expect("root").children.push(el);
            }
            Event::End(_) if stack.len() > 1 => {
                let done = stack.pop().expect("checked");
                stack.last_mut().expect("root").children.push(done);
            }
            Event::Text(t) => {
                let s = t.xml_content().map_err(|e| e.to_string())?;
                stack.last_mut().expect("root").text.push_str(&s);
            }
            Event::CData(t) => {
                let s = t.xml_content().map_err(|e| e.to_string())?;
                stack.last_mut().expect("root").text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| e.to_string())?;
                if let Some(s) = resolve_entity(&name) {
                    stack.last_mut().expect("root").text.push_str(&s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // Unclosed elements (truncated files) are folded into their parents so a
    // partially written sidecar still yields what it has.
    while stack.len() > 1 {
        let done = stack.pop().expect("checked");
        stack.last_mut().expect("root").children.push(done);
    }
    let doc = stack.pop().expect("root");
    doc.children
        .into_iter()
        .next()
        .ok_or_else(|| "no root element".to_string())
}

fn element(e: &BytesStart<'_>) -> Element {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut attributes = e.attributes();
    attributes.with_checks(false);
    let attrs = attributes
        .take(MAX_ATTRS)
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
            (key, value)
        })
        .collect();
    Element {
        name,
        attrs,
        ..Element::default()
    }
}

fn resolve_entity(name: &str) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).map(String::from);
    }
    quick_xml::escape::resolve_html5_entity(name).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_and_prefixes() {
        let doc = parse(
            r#"<?xml version="1.0"?><package xmlns:dc="x"><dc:title opf:role="aut">Tom &amp; Jerry &#233;</dc:title><x/></package>"#,
        )
        .unwrap();
        let title = doc.child("title").unwrap();
        assert_eq!(title.text, "Tom & Jerry é");
        assert_eq!(title.attr("role"), Some("aut"));
    }

    #[test]
    fn truncated_document_keeps_what_it_has() {
        let doc = parse("<movie><title>Half</title><plot>cut off").unwrap();
        assert_eq!(doc.child_text("title").as_deref(), Some("Half"));
    }

    #[test]
    fn a_root_with_half_a_million_attributes_parses_in_linear_time() {
        // With quick-xml's duplicate check this took minutes (issue 10).
        let mut doc = String::from("<movie");
        for i in 0..500_000 {
            doc.push_str(&format!(" a{i}=\"x\""));
        }
        doc.push_str("><title>Kept</title></movie>");
        let started = std::time::Instant::now();
        let root = parse(&doc).unwrap();
        assert_eq!(root.attrs.len(), MAX_ATTRS);
        assert_eq!(root.child_text("title").as_deref(), Some("Kept"));
        // Linear work is well under a second even in a debug build; the
        // quadratic check needs about 10^11 comparisons.
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = "<a>".repeat(MAX_DEPTH + 5);
        assert!(parse(&doc).is_err());
    }
}
