//! A library for knowledge checks: works that exist nowhere (films, books
//! and albums whose titles and creators are made of invented words) beside
//! real works from the datasets, all written thin (see [`crate::thin`]).
//! A model that describes an invented work invented the description; what
//! it says of a real one can be compared with the public labels.
//!
//! Invented words are built from syllables by a seeded generator, so the
//! same spec always gives the same works, and no invented word is a word of
//! any title, author, director, actor, artist or album in the datasets.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::datasets::{self, AudioFeatures, Book, Movie, Track};
use crate::thin::{self, Taken};
use crate::{GenItem, Generated};

#[derive(Debug, Clone, Copy)]
pub struct KnowledgeSpec {
    /// Invented works of each kind (tracks for music, two to an album).
    pub invented: usize,
    /// Real works of each kind, spread evenly over the labelled rows.
    pub real: usize,
    pub seed: u64,
}

impl Default for KnowledgeSpec {
    fn default() -> Self {
        KnowledgeSpec {
            invented: 20,
            real: 20,
            seed: 0x6b6e_6f77,
        }
    }
}

/// What was written, and which of it is invented.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub generated: Generated,
    pub invented: HashSet<PathBuf>,
}

impl Knowledge {
    pub fn is_invented(&self, item: &GenItem) -> bool {
        self.invented.contains(&item.path)
    }
}

/// Writes the knowledge library under `out`. Deterministic.
pub fn generate_knowledge(datasets: &Path, out: &Path, spec: KnowledgeSpec) -> Result<Knowledge> {
    std::fs::create_dir_all(out)?;
    let mut k = Knowledge {
        generated: Generated {
            root: out.to_path_buf(),
            items: Vec::new(),
        },
        invented: HashSet::new(),
    };
    let mut taken = Taken::default();
    let mut namer = Namer::new(spec.seed, dataset_words(datasets)?);
    let invented = invented_items(&mut namer, spec.invented, out, &mut taken)?;
    k.invented = invented.iter().map(|i| i.path.clone()).collect();
    k.generated.items.extend(invented);
    k.generated
        .items
        .extend(real_items(datasets, spec.real, out, &mut taken)?);
    Ok(k)
}

fn invented_items(
    namer: &mut Namer,
    n: usize,
    out: &Path,
    taken: &mut Taken,
) -> Result<Vec<GenItem>> {
    let mut items = Vec::new();
    for i in 0..n {
        let title = namer.title();
        let movie = Movie {
            title: title.clone(),
            year: Some(1950 + (namer.next() % 70) as i32),
            genres: Vec::new(),
            tags: Vec::new(),
            runtime_min: Some(80 + (namer.next() % 60) as u32),
            certificate: None,
            overview: None,
            director: None,
            stars: Vec::new(),
            rating: None,
        };
        items.push(thin::film(&movie, &title, out, taken)?);
        let book = Book {
            title: namer.title(),
            authors: vec![namer.person()],
            year: None,
            language: Some("en".into()),
            subjects: Vec::new(),
        };
        items.push(thin::book(&book, &book.title, i, out, taken)?);
    }
    let (mut artist, mut album) = (String::new(), String::new());
    for i in 0..n {
        if i % 2 == 0 {
            artist = namer.person();
            album = namer.title();
        }
        let track = Track {
            title: namer.title(),
            album: album.clone(),
            artist: artist.clone(),
            year: None,
            date: None,
            length_ms: 150_000 + namer.next() % 150_000,
            tempo: None,
            features: AudioFeatures::default(),
        };
        let no = (i % 2 + 1) as u32;
        items.push(thin::track(&track, &album, no, false, out, taken)?);
    }
    Ok(items)
}

/// `n` of each kind, evenly spaced over the rows that carry labels: films
/// from the IMDb rows (genres and a plot), Gutenberg books with subjects,
/// and tracks (their labels are audio features).
fn real_items(datasets: &Path, n: usize, out: &Path, taken: &mut Taken) -> Result<Vec<GenItem>> {
    let mut items = Vec::new();
    let films: Vec<Movie> = datasets::movies(datasets)?
        .into_iter()
        .filter(|m| m.overview.is_some() && !m.genres.is_empty())
        .collect();
    for m in spread(&films, n) {
        items.push(thin::film(m, &m.title, out, taken)?);
    }
    let books: Vec<Book> = datasets::books(datasets)?
        .into_iter()
        .filter(|b| !b.subjects.is_empty())
        .collect();
    for (i, b) in spread(&books, n).into_iter().enumerate() {
        items.push(thin::book(b, &b.title, 100_000 + i, out, taken)?);
    }
    let tracks = datasets::spotify(datasets)?;
    for t in spread(&tracks, n) {
        items.push(thin::track(t, &t.album, 1, false, out, taken)?);
    }
    Ok(items)
}

fn spread<T>(rows: &[T], n: usize) -> Vec<&T> {
    let n = n.min(rows.len());
    (0..n).map(|k| &rows[k * rows.len() / n.max(1)]).collect()
}

/// Every word (lowercase, letters and digits) of every title and name in
/// the datasets: titles, authors, directors, actors, artists and albums.
pub fn dataset_words(datasets: &Path) -> Result<HashSet<String>> {
    let mut words = HashSet::new();
    let mut add = |s: &str| {
        for w in s.split(|c: char| !c.is_alphanumeric()) {
            if !w.is_empty() {
                words.insert(w.to_lowercase());
            }
        }
    };
    for m in datasets::movies(datasets)? {
        add(&m.title);
        m.director.iter().for_each(|d| add(d));
        m.stars.iter().for_each(|s| add(s));
    }
    for b in datasets::books(datasets)? {
        add(&b.title);
        b.authors.iter().for_each(|a| add(a));
    }
    for t in datasets::spotify(datasets)? {
        add(&t.title);
        add(&t.album);
        add(&t.artist);
    }
    Ok(words)
}

/// Invented words, titles and names from a seeded generator.
pub struct Namer {
    state: u64,
    forbidden: HashSet<String>,
    used: HashSet<String>,
}

const ONSETS: &[&str] = &[
    "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "st", "tr",
    "gr", "th",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "o", "a", "e"];
const CODAS: &[&str] = &["", "", "", "n", "r", "l", "s", "m", "th", "v"];
/// Plain words that make an invented name read like a title.
const NOUNS: &[&str] = &[
    "Harbour", "Winter", "Daughter", "Garden", "River", "Letters", "House", "Road", "Summer",
    "Night", "Stone", "Silence", "Island", "Crown", "Lantern", "Orchard", "Mirror", "Hollow",
    "Valley", "Station", "Bridge", "Sister", "Fire", "Songs", "Hours",
];

impl Namer {
    /// `forbidden`: lowercase words an invented word must not be.
    pub fn new(seed: u64, forbidden: HashSet<String>) -> Namer {
        Namer {
            state: seed,
            forbidden,
            used: HashSet::new(),
        }
    }

    /// SplitMix64.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }

    /// A capitalised word of two (sometimes three) plain syllables that
    /// reads like a name ("Beran", "Tolith"), never a dataset word and never
    /// the same twice.
    pub fn word(&mut self) -> String {
        loop {
            let syllables = 2 + u64::from(self.next().is_multiple_of(4));
            let mut w = String::new();
            for _ in 0..syllables {
                w.push_str(self.pick(ONSETS));
                w.push_str(self.pick(VOWELS));
                w.push_str(self.pick(CODAS));
            }
            if w.len() >= 5 && !self.forbidden.contains(&w) && self.used.insert(w.clone()) {
                let mut c = w.chars();
                let first = c.next().map(|f| f.to_ascii_uppercase());
                return first.into_iter().chain(c).collect();
            }
        }
    }

    /// A title: one invented word with a plain one, "The Tolith Lantern",
    /// "Winter at Marsen", "Beran's Daughter", "The Crown of Gravon", or the
    /// invented word alone.
    pub fn title(&mut self) -> String {
        let w = self.word();
        let noun = self.pick(NOUNS);
        match self.next() % 5 {
            0 => format!("The {w} {noun}"),
            1 => format!("{noun} at {w}"),
            2 => format!("{w}'s {noun}"),
            3 => format!("The {noun} of {w}"),
            _ => w,
        }
    }

    /// A person's (or a band's) name: two invented words.
    pub fn person(&mut self) -> String {
        format!("{} {}", self.word(), self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_works_exist_nowhere_in_the_datasets() {
        let dir = crate::Scratch::new("knowledge");
        let datasets = crate::datasets_dir();
        let spec = KnowledgeSpec {
            invented: 10,
            real: 6,
            ..KnowledgeSpec::default()
        };
        let k = generate_knowledge(&datasets, dir.path(), spec).unwrap();
        assert_eq!(k.invented.len(), 30);
        assert_eq!(k.generated.items.len(), 30 + 18);
        let words = dataset_words(&datasets).unwrap();
        let invented: Vec<&GenItem> = k
            .generated
            .items
            .iter()
            .filter(|i| k.is_invented(i))
            .collect();
        let titles: HashSet<String> = datasets::movies(&datasets)
            .unwrap()
            .into_iter()
            .map(|m| m.title)
            .chain(
                datasets::books(&datasets)
                    .unwrap()
                    .into_iter()
                    .map(|b| b.title),
            )
            .chain(
                datasets::spotify(&datasets)
                    .unwrap()
                    .into_iter()
                    .flat_map(|t| [t.title, t.album]),
            )
            .map(|t| t.to_lowercase())
            .collect();
        for i in &invented {
            assert!(i.truth.is_empty() && i.plot.is_none(), "{i:?}");
            assert!(
                !titles.contains(&i.title.to_lowercase()),
                "{} is a dataset title",
                i.title
            );
            let named = format!("{} {}", i.title, i.creator.clone().unwrap_or_default());
            for w in named.split(|c: char| !c.is_alphanumeric()) {
                let w = w.to_lowercase();
                let plain = ["the", "of", "at", "s", ""].contains(&w.as_str())
                    || NOUNS.iter().any(|n| n.eq_ignore_ascii_case(&w));
                if !plain {
                    assert!(!words.contains(&w), "{w} of {named:?} is a dataset word");
                }
            }
        }
        // Real works carry labels to compare with.
        for i in k.generated.items.iter().filter(|i| !k.is_invented(i)) {
            assert!(!i.truth.is_empty() || i.features.is_some(), "{i:?}");
        }
        // Same spec, same works.
        let again = crate::Scratch::new("knowledge-again");
        let k2 = generate_knowledge(&datasets, again.path(), spec).unwrap();
        let titles = |k: &Knowledge| -> Vec<String> {
            k.generated.items.iter().map(|i| i.title.clone()).collect()
        };
        assert_eq!(titles(&k), titles(&k2));
    }
}
