//! The describe phase: one short text per item, built from its metadata,
//! that is both embedded and full-text indexed.
//!
//! The text reads like a catalogue card ("Title by Artist. Album ... Genre:
//! Jazz.") because that is what a sentence embedding model understands
//! best. It holds what the item's metadata says, then what the reasoning
//! model understood of its work ([`crate::work`]), if it has been read;
//! what the app makes of it (moods, occasions, seasons) is the item's
//! profile ([`crate::profile`]), kept apart so the two can be weighed
//! apart. It is capped in length: the embedding model reads at
//! most a few hundred tokens, and a hostile description cannot bloat the
//! index. Changing this function means bumping [`DESCRIBE_VERSION`], which
//! makes the next scan describe and embed every item again.

use moodshelf_media::{Kind, Metadata};

use crate::work::Understanding;

/// Bump when [`describe`] changes output for the same metadata.
pub const DESCRIBE_VERSION: u32 = 4;

/// Longest description stored, in characters.
const MAX_CHARS: usize = 1200;
/// Longest title in the card: a title of thousands of characters would
/// otherwise be all the embedding model reads of the item.
const MAX_TITLE_CHARS: usize = 150;

pub fn describe(m: &Metadata, fallback_title: &str, understood: Option<&Understanding>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let title = m.title.as_deref().unwrap_or(fallback_title);
    let title: String = match title.char_indices().nth(MAX_TITLE_CHARS) {
        Some((cut, _)) => format!("{}…", &title[..cut]),
        None => title.to_string(),
    };
    let creators = list(&m.creators, 3);
    let head = match (m.kind, creators.is_empty()) {
        (Kind::Music, false) => format!("{title} by {creators}"),
        (Kind::Book, false) => format!("{title}, a book by {creators}"),
        (Kind::Video, false) => format!("{title}, directed by {creators}"),
        (Kind::Book, true) => format!("{title}, a book"),
        (_, true) => title.to_string(),
    };
    parts.push(match m.year {
        Some(y) => format!("{head} ({y})."),
        None => format!("{head}."),
    });
    if let Some(series) = &m.series {
        parts.push(format!("Part of {series}."));
    }
    if let Some(album) = &m.album
        && m.kind == Kind::Music
    {
        parts.push(format!("From the album {album}."));
    }
    if !m.genres.is_empty() {
        let label = if m.kind == Kind::Book {
            "Subjects"
        } else {
            "Genre"
        };
        parts.push(format!("{label}: {}.", list(&m.genres, 8)));
    }
    if !m.tags.is_empty() {
        parts.push(format!("Tags: {}.", list(&m.tags, 12)));
    }
    if let Some(bpm) = m.bpm {
        parts.push(format!("{} BPM.", bpm.round()));
    }
    if let Some(d) = m.duration_secs
        && m.kind == Kind::Video
    {
        parts.push(format!("{} minutes.", (d / 60.0).round()));
    }
    if let Some(c) = &m.certification {
        parts.push(format!("Rated {c}."));
    }
    if !m.actors.is_empty() {
        parts.push(format!("Starring {}.", list(&m.actors, 4)));
    }
    // Before the file's own long text, which the length cap cuts.
    if let Some(u) = understood
        .map(Understanding::card)
        .filter(|c| !c.is_empty())
    {
        parts.push(u);
    }
    if let Some(d) = &m.description {
        parts.push(d.clone());
    } else if let Some(c) = &m.comment {
        parts.push(c.clone());
    }
    let mut text = parts.join(" ");
    if text.chars().count() > MAX_CHARS {
        text = text.chars().take(MAX_CHARS).collect();
    }
    text
}

/// A hash of everything the index row depends on: the text and the version
/// of this function.
pub fn description_hash(text: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(&DESCRIBE_VERSION.to_le_bytes());
    h.update(text.as_bytes());
    h.finalize().to_hex()[..32].to_string()
}

/// Up to `max` entries, each cut to 80 characters.
fn list(items: &[String], max: usize) -> String {
    items
        .iter()
        .take(max)
        .map(|s| match s.char_indices().nth(80) {
            Some((cut, _)) => format!("{}…", &s[..cut]),
            None => s.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A genre as a reason shows it: library subject headings such as
/// "Speeches, addresses, etc., American -- Politics -- 1775-1783" are cut
/// to their head ("Speeches").
pub fn short_genre(g: &str) -> &str {
    let head = g.split(" -- ").next().unwrap_or(g).trim();
    if head.chars().count() > 24 {
        head.split(',').next().unwrap_or(head).trim()
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_a_card() {
        let mut m = Metadata::new(Kind::Music, "mp3");
        m.title = Some("Blue Room".into());
        m.creators = vec!["Some Band".into()];
        m.album = Some("Nights".into());
        m.year = Some(1999);
        m.genres = vec!["Jazz".into()];
        m.tags = vec!["calm".into()];
        let d = describe(&m, "file", None);
        assert_eq!(
            d,
            "Blue Room by Some Band (1999). From the album Nights. Genre: Jazz. Tags: calm."
        );
        assert_eq!(description_hash(&d), description_hash(&d));
        assert_ne!(description_hash(&d), description_hash("other"));
    }

    #[test]
    fn long_descriptions_are_capped() {
        let mut m = Metadata::new(Kind::Book, "epub");
        m.description = Some("word ".repeat(1000));
        assert!(describe(&m, "A Book", None).chars().count() <= MAX_CHARS);
        assert!(describe(&m, "A Book", None).starts_with("A Book, a book."));
    }
}
