//! The fixed vocabulary both sides of a recommendation are read into:
//! moods, occasions, times, seasons and holidays, audiences, themes and
//! forms. An item gets a score for every descriptor at index time
//! ([`crate::profile`]); a request is read as weights over the same
//! descriptors (`recommend::understand`); ranking compares the two.
//!
//! Each descriptor carries three kinds of knowledge, all general (never a
//! title, an artist or a label from any dataset):
//! - `about`: sentences describing items that have the quality, embedded
//!   once and compared with every item's embedding (zero-shot);
//! - `labels`: genre, subject and tag fragments that are evidence of it,
//!   matched at word starts (a trailing `*` allows any ending);
//! - `cues`: words and phrases a request uses to ask for it.
//!
//! The words themselves are data, in `data/vocabulary.toml`: loaded and
//! checked once when the engine starts ([`check`]), so a descriptor
//! named twice, a cue not in lower case or an implied descriptor that does
//! not exist is an error at start and in the tests, never a panic in the
//! middle of an answer. Changing a descriptor there changes item profiles:
//! bump its `version`.

use std::sync::LazyLock;

use moodshelf_media::Kind;
use serde::Deserialize;

/// The vocabulary as the engine ships it.
const VOCABULARY_TOML: &str = include_str!("../data/vocabulary.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Facet {
    Mood,
    Occasion,
    Time,
    Season,
    Holiday,
    Audience,
    Theme,
    Form,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    pub name: String,
    pub facet: Facet,
    /// Sentences describing items that have the quality (embedded once).
    pub about: Vec<String>,
    /// Genre, subject and tag fragments that are evidence of it.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Words and phrases a request uses to ask for it.
    pub cues: Vec<String>,
    /// What it asks of an item as other descriptors, by name and weight.
    #[serde(default)]
    pub implies: Vec<(String, f32)>,
}

/// Words that name a kind of item, or a form only one kind takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindWords {
    pub kind: Kind,
    pub words: Vec<String>,
}

/// Where a work is from, as a request says it ("a French film") and as an
/// item's own data may say it: the country's name, the adjective, or the
/// language code of a book.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// The adjectives a request uses; the first is the origin's name.
    pub words: Vec<String>,
    pub place: String,
    /// ISO 639 codes (two and three letters) of the language it implies.
    pub languages: Vec<String>,
}

/// Everything `data/vocabulary.toml` holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// Bumped when descriptors, their order, `about` or `labels` change:
    /// item profiles and prototypes are computed again.
    pub version: u32,
    #[serde(rename = "descriptor")]
    pub descriptors: Vec<Descriptor>,
    pub kind_words: Vec<KindWords>,
    /// Words that praise without describing ("a great film").
    pub quality_words: Vec<String>,
    /// Descriptor pairs one work cannot be at once.
    pub contradictions: Vec<(String, String)>,
    #[serde(rename = "origin")]
    pub origins: Vec<Origin>,
}

impl Vocabulary {
    /// Reads and checks a vocabulary.
    pub fn parse(text: &str) -> Result<Vocabulary, String> {
        let v: Vocabulary = toml::from_str(text).map_err(|e| e.to_string())?;
        v.check()?;
        Ok(v)
    }

    /// What every vocabulary must hold to: unique names (fewer than 256,
    /// as descriptors are indexed by a byte), something to embed and a cue
    /// for each, words in lower case, and implied descriptors that exist
    /// with weights in (0, 1].
    fn check(&self) -> Result<(), String> {
        let mut names: Vec<&str> = self.descriptors.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("the descriptor {:?} is named twice", w[0]));
        }
        if self.descriptors.len() >= 256 {
            return Err("descriptors are indexed by a byte: at most 255".into());
        }
        let known = |n: &str| names.binary_search(&n).is_ok();
        for d in &self.descriptors {
            if d.about.is_empty() || d.cues.is_empty() {
                return Err(format!("{} needs an `about` sentence and a cue", d.name));
            }
            if let Some(w) = d
                .labels
                .iter()
                .chain(&d.cues)
                .find(|w| **w != w.to_lowercase())
            {
                return Err(format!("{}: {w:?} is not in lower case", d.name));
            }
            for (n, w) in &d.implies {
                if !known(n) || *w <= 0.0 || *w > 1.0 {
                    return Err(format!(
                        "{} implies {n:?} ({w}), which names no descriptor or weighs outside (0, 1]",
                        d.name
                    ));
                }
            }
        }
        for (a, b) in &self.contradictions {
            if !known(a) || !known(b) {
                return Err(format!(
                    "the contradiction {a:?} / {b:?} names no descriptor"
                ));
            }
        }
        Ok(())
    }

    /// Reads a vocabulary the engine can run on: a valid one that has every
    /// descriptor the code names ([`Known`]).
    pub fn parse_for_engine(text: &str) -> Result<Vocabulary, String> {
        let v = Vocabulary::parse(text)?;
        let missing: Vec<&str> = Known::NAMES
            .iter()
            .copied()
            .filter(|n| !v.descriptors.iter().any(|d| d.name == *n))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the engine names descriptors the vocabulary lacks: {missing:?}"
            ));
        }
        Ok(v)
    }
}

/// Declares [`Known`] from one table of field and descriptor name, so the
/// struct, the names checked at load and the look-up cannot drift apart.
macro_rules! known {
    ($($field:ident = $name:literal),* $(,)?) => {
        /// The descriptors the engine's code names, each a field: a misspelt
        /// one is a compile error, and one the vocabulary lacks an error when
        /// the vocabulary loads ([`Vocabulary::parse_for_engine`]), never a
        /// panic mid-answer.
        #[derive(Debug)]
        pub struct Known {
            $(pub $field: D,)*
            /// [`Vocabulary::contradictions`], as descriptors.
            pub contradictions: Vec<(D, D)>,
        }

        impl Known {
            /// Every name a field of [`Known`] stands for.
            const NAMES: &[&str] = &[$($name),*];

            fn look_up() -> Known {
                // Every name was checked when the vocabulary loaded.
                Known {
                    $($field: D::named($name),)*
                    contradictions: VOCABULARY
                        .contradictions
                        .iter()
                        .map(|(a, b)| (D::named(a), D::named(b)))
                        .collect(),
                }
            }
        }
    };
}

known! {
    calm = "calm",
    sleep = "sleep",
    energetic = "energetic",
    workout = "workout",
    party = "party",
    kids = "kids",
    family = "family",
    teens = "teens",
    morning = "morning",
    afternoon = "afternoon",
    evening = "evening",
    night = "night",
    weekend = "weekend",
    poetry = "poetry",
    plays = "plays",
    short_stories = "short stories",
    animation = "animation",
}

/// The descriptors the code names (see [`Known`]).
pub static KNOWN: LazyLock<Known> = LazyLock::new(Known::look_up);

/// The shipped vocabulary, read and checked once per process.
static LOADED: LazyLock<Result<Vocabulary, String>> =
    LazyLock::new(|| Vocabulary::parse_for_engine(VOCABULARY_TOML));

/// The vocabulary, loaded and checked on first use; [`check`] makes that
/// first use the engine's start.
pub static VOCABULARY: LazyLock<&'static Vocabulary> = LazyLock::new(|| {
    LOADED
        .as_ref()
        .unwrap_or_else(|e| panic!("data/vocabulary.toml is not a valid vocabulary: {e}"))
});

/// Loads the vocabulary now, so that a broken one stops the engine at
/// start with its reason rather than in the middle of an answer.
pub fn check() -> Result<(), String> {
    LOADED.as_ref().map_err(Clone::clone)?;
    LazyLock::force(&KNOWN);
    Ok(())
}

/// The vocabulary's version (see [`Vocabulary::version`]).
pub fn version() -> u32 {
    VOCABULARY.version
}

/// Every descriptor, in order: [`D`] is a place in this list.
pub static DESCRIPTORS: LazyLock<&'static [Descriptor]> =
    LazyLock::new(|| VOCABULARY.descriptors.as_slice());

/// A descriptor by its place in [`DESCRIPTORS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct D(pub u8);

impl D {
    pub fn get(self) -> &'static Descriptor {
        &DESCRIPTORS[self.0 as usize]
    }
    pub fn name(self) -> &'static str {
        &self.get().name
    }
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// The descriptor named `name`, for names from the checked data files
    /// and for tests. Panics on a name not in the vocabulary: the code
    /// names descriptors through [`KNOWN`] instead.
    pub fn named(name: &str) -> D {
        D::find(name).unwrap_or_else(|| panic!("{name:?} is not in the vocabulary"))
    }
    pub fn find(name: &str) -> Option<D> {
        DESCRIPTORS
            .iter()
            .position(|d| d.name == name)
            .map(|i| D(i as u8))
    }
    pub fn all() -> impl Iterator<Item = D> {
        (0..DESCRIPTORS.len()).map(|i| D(i as u8))
    }
}

/// The kind a word names ("a biopic" is a film), if it names one.
pub fn kind_of_word(word: &str) -> Option<Kind> {
    VOCABULARY
        .kind_words
        .iter()
        .find(|k| k.words.iter().any(|w| w == word))
        .map(|k| k.kind)
}

/// Whether a word praises without describing ("great", "best").
pub fn is_quality_word(word: &str) -> bool {
    VOCABULARY.quality_words.iter().any(|w| w == word)
}

impl Origin {
    /// The origin a request's word names ("french" → France).
    pub fn of(word: &str) -> Option<&'static Origin> {
        VOCABULARY
            .origins
            .iter()
            .find(|o| o.words.iter().any(|w| w == word))
    }

    pub fn name(&self) -> &str {
        &self.words[0]
    }
}

/// The needs a descriptor implies, by name and weight.
pub fn implied(d: D) -> Vec<(D, f32)> {
    d.get()
        .implies
        .iter()
        .map(|(n, w)| (D::named(n), *w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_vocabulary_loads() {
        check().unwrap();
        assert!(DESCRIPTORS.len() > 50);
        assert_eq!(D::named("calm").name(), "calm");
        assert!(D::find("no such thing").is_none());
        assert!(!implied(D::named("dinner")).is_empty());
        assert_eq!(kind_of_word("biopic"), Some(Kind::Video));
        assert_eq!(
            Origin::of("french").map(|o| o.place.as_str()),
            Some("france")
        );
    }

    fn one(descriptor: &str) -> String {
        format!(
            "version = 1\nkind_words = []\nquality_words = []\ncontradictions = []\norigin = []\n\n{descriptor}"
        )
    }

    #[test]
    fn a_cue_or_an_implied_name_that_names_no_descriptor_fails_at_load() {
        let good = "[[descriptor]]\nname = \"calm\"\nfacet = \"mood\"\nabout = [\"Calm.\"]\ncues = [\"calm\"]\n";
        assert!(Vocabulary::parse(&one(good)).is_ok());
        let implies_nothing = format!("{good}implies = [[\"serene\", 0.5]]\n");
        let e = Vocabulary::parse(&one(&implies_nothing)).unwrap_err();
        assert!(e.contains("serene"), "{e}");
        let twice = format!("{good}\n{good}");
        assert!(
            Vocabulary::parse(&one(&twice))
                .unwrap_err()
                .contains("twice")
        );
        let loud = good.replace("cues = [\"calm\"]", "cues = [\"Calm\"]");
        assert!(
            Vocabulary::parse(&one(&loud))
                .unwrap_err()
                .contains("lower case")
        );
        let no_cue = good.replace("cues = [\"calm\"]", "cues = []");
        assert!(Vocabulary::parse(&one(&no_cue)).is_err());
        let unknown_facet = good.replace("\"mood\"", "\"vibe\"");
        assert!(Vocabulary::parse(&one(&unknown_facet)).is_err());
        let shipped = VOCABULARY_TOML.replace("[\"kids\", \"scary\"]", "[\"kids\", \"spooky\"]");
        assert!(Vocabulary::parse(&shipped).unwrap_err().contains("spooky"));
        let renamed = VOCABULARY_TOML.replace("name = \"workout\"", "name = \"exercise\"");
        assert!(Vocabulary::parse(&renamed).is_ok(), "a valid vocabulary");
        let e = Vocabulary::parse_for_engine(&renamed).unwrap_err();
        assert!(e.contains("workout"), "the engine names it: {e}");
    }
}
