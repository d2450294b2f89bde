//! The words the rules read a request with, besides the vocabulary's cues:
//! data in `data/cues.toml`, loaded and checked once when the engine
//! starts ([`check`]). A comparative, an opposite or a moment's need that
//! names no descriptor, or a moment that is no season, holiday or part of
//! the day, is an error there and in the tests, never a panic in the middle
//! of an answer.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

use crate::context::{DayPart, Holiday, Season};
use crate::vocab::D;

const CUES_TOML: &str = include_str!("../data/cues.toml");

/// A need by descriptor name, with its weight.
pub type NamedNeed = (String, f32);

/// Everything `data/cues.toml` holds (see its notes).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cues {
    pub stop_words: HashSet<String>,
    pub number_words: Vec<(String, f64)>,
    pub ordinals: Vec<(String, usize)>,
    pub decades: Vec<(String, i32)>,
    pub negations: Vec<String>,
    pub exclusion_implies: Vec<(String, Vec<String>)>,
    pub not_exclusion: Vec<String>,
    pub media_nouns: Vec<String>,
    pub comparatives: Vec<(String, String)>,
    pub opposites: Vec<(String, String)>,
    pub name_joiners: Vec<String>,
    pub always_capitalized: Vec<String>,
    pub moment: Moment,
}

/// What the moment suggests, by season, holiday and part of the day (each
/// keyed by its name in words).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    pub season: BTreeMap<String, Vec<NamedNeed>>,
    pub holiday: BTreeMap<String, Vec<NamedNeed>>,
    pub day_part: BTreeMap<String, Vec<NamedNeed>>,
    /// What a northern Christmas adds (a southern one falls in summer).
    pub christmas_in_winter: Vec<NamedNeed>,
    /// What a weekend suggests, and a Friday or Saturday evening besides.
    pub weekend: Vec<NamedNeed>,
    pub weekend_evening: Vec<NamedNeed>,
}

/// Directions a comparative may name besides "more" or "less" and a
/// descriptor.
const PLAIN_DIRECTIONS: &[&str] = &[
    "shorter",
    "longer",
    "newer",
    "older",
    "different",
    "faster",
    "slower",
];

impl Cues {
    /// Reads and checks cues.
    pub fn parse(text: &str) -> Result<Cues, String> {
        let c: Cues = toml::from_str(text).map_err(|e| e.to_string())?;
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> Result<(), String> {
        let known = |what: &str, name: &str| match D::find(name) {
            Some(_) => Ok(()),
            None => Err(format!("{what} names {name:?}, which is no descriptor")),
        };
        for (word, direction) in &self.comparatives {
            match direction.split_once(' ') {
                Some(("more" | "less", d)) => known(&format!("the comparative {word:?}"), d)?,
                _ if PLAIN_DIRECTIONS.contains(&direction.as_str()) => {}
                _ => return Err(format!("the comparative {word:?} names no direction")),
            }
        }
        let plain = |w: &String| !w.trim().is_empty() && *w == w.to_lowercase();
        if let Some(w) = self.negations.iter().find(|w| !plain(w)) {
            return Err(format!("the negation {w:?} is not one lowercase word"));
        }
        for (word, fragments) in &self.exclusion_implies {
            if !plain(word) || fragments.is_empty() || !fragments.iter().all(plain) {
                return Err(format!(
                    "the exclusion {word:?} implies {fragments:?}: lowercase, none empty"
                ));
            }
        }
        for (a, b) in &self.opposites {
            known("an opposite", a)?;
            known("an opposite", b)?;
        }
        let moments = [
            (
                "season",
                &self.moment.season,
                Self::is_season as fn(&str) -> bool,
            ),
            ("holiday", &self.moment.holiday, Self::is_holiday),
            ("part of the day", &self.moment.day_part, Self::is_day_part),
        ];
        for (what, table, valid) in moments {
            for (key, needs) in table {
                if !valid(key) {
                    return Err(format!("{key:?} is no {what}"));
                }
                Self::check_needs(&format!("the {what} {key:?}"), needs)?;
            }
        }
        let m = &self.moment;
        Self::check_needs("a northern Christmas", &m.christmas_in_winter)?;
        Self::check_needs("the weekend", &m.weekend)?;
        Self::check_needs("a weekend evening", &m.weekend_evening)?;
        Ok(())
    }

    /// Needs that name descriptors, with weights in (0, 1].
    fn check_needs(what: &str, needs: &[NamedNeed]) -> Result<(), String> {
        for (name, w) in needs {
            if D::find(name).is_none() {
                return Err(format!("{what} names {name:?}, which is no descriptor"));
            }
            if !(*w > 0.0 && *w <= 1.0) {
                return Err(format!("{what} weighs {name:?} {w}"));
            }
        }
        Ok(())
    }

    fn is_season(key: &str) -> bool {
        Season::parse(key).is_some_and(|s| s.as_str() == key)
    }

    fn is_holiday(key: &str) -> bool {
        Holiday::ALL.iter().any(|h| h.as_str() == key)
    }

    fn is_day_part(key: &str) -> bool {
        DayPart::ALL.iter().any(|p| p.as_str() == key)
    }
}

/// The shipped cues, read and checked once per process.
static LOADED: LazyLock<Result<Cues, String>> = LazyLock::new(|| Cues::parse(CUES_TOML));

/// The cues, loaded and checked on first use; [`check`] makes that first
/// use the engine's start.
pub static CUES: LazyLock<&'static Cues> = LazyLock::new(|| {
    LOADED
        .as_ref()
        .unwrap_or_else(|e| panic!("data/cues.toml is not valid: {e}"))
});

/// Loads the cues now, so that broken ones stop the engine at start with
/// their reason.
pub fn check() -> Result<(), String> {
    LOADED.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// Whether a word carries no content of its own.
pub fn stop_word(w: &str) -> bool {
    CUES.stop_words.contains(w)
}

/// A number written in words ("two", "forty five").
pub fn number_word(w: &str) -> Option<f64> {
    CUES.number_words
        .iter()
        .find(|(n, _)| n == w)
        .map(|(_, v)| *v)
}

/// An ordinal ("second", "3rd").
pub fn ordinal(w: &str) -> Option<usize> {
    CUES.ordinals.iter().find(|(o, _)| o == w).map(|(_, n)| *n)
}

/// The first year of a decade in words ("seventies" → 1970).
pub fn decade(w: &str) -> Option<i32> {
    CUES.decades.iter().find(|(d, _)| d == w).map(|(_, y)| *y)
}

/// Whether a word after "no" or "not" does not make an exclusion.
pub fn not_exclusion(w: &str) -> bool {
    CUES.not_exclusion.iter().any(|x| x == w)
}

/// Whether a word is a media noun an exclusion drops ("movies").
pub fn media_noun(w: &str) -> bool {
    CUES.media_nouns.iter().any(|x| x == w)
}

/// The follow-up direction a comparative names ("calmer" → "less
/// energetic").
pub fn comparative(w: &str) -> Option<&'static str> {
    CUES.comparatives
        .iter()
        .find(|(c, _)| c == w)
        .map(|(_, d)| d.as_str())
}

/// The descriptor at the other end of a scale.
pub fn opposite(name: &str) -> Option<&'static str> {
    CUES.opposites.iter().find_map(|(a, b)| {
        if a == name {
            Some(b.as_str())
        } else if b == name {
            Some(a.as_str())
        } else {
            None
        }
    })
}

/// Whether a lower-case word stands inside names written with capitals.
pub fn name_joiner(w: &str) -> bool {
    CUES.name_joiners.iter().any(|x| x == w)
}

/// Whether a word is written with a capital whatever it means.
pub fn always_capitalized(w: &str) -> bool {
    CUES.always_capitalized.iter().any(|x| x == w)
}

/// What a season suggests.
pub fn season_needs(s: Season) -> &'static [NamedNeed] {
    CUES.moment
        .season
        .get(s.as_str())
        .map_or(&[], Vec::as_slice)
}

/// What a holiday near the date suggests.
pub fn holiday_needs(h: Holiday) -> &'static [NamedNeed] {
    CUES.moment
        .holiday
        .get(h.as_str())
        .map_or(&[], Vec::as_slice)
}

/// What a part of the day suggests.
pub fn day_part_needs(p: DayPart) -> &'static [NamedNeed] {
    CUES.moment
        .day_part
        .get(p.as_str())
        .map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_cues_load() {
        check().unwrap();
        assert_eq!(comparative("calmer"), Some("less energetic"));
        assert_eq!(opposite("energetic"), Some("calm"));
        assert!(stop_word("please") && !stop_word("jazz"));
        assert!(!season_needs(Season::Winter).is_empty());
    }

    #[test]
    fn a_cue_that_names_no_descriptor_fails_at_load() {
        let good = CUES_TOML.to_string();
        let broken = [
            good.replace("\"less energetic\"", "\"less twitchy\""),
            good.replace("[\"calm\", \"energetic\"]", "[\"calm\", \"frantic\"]"),
            good.replace("[\"dreamy\", 0.2]", "[\"sleepy-ish\", 0.2]"),
            good.replace(
                "[moment.day_part]\nmorning",
                "[moment.day_part]\nbrunchtime",
            ),
            // An empty fragment would exclude everything.
            good.replace("[\"scary\", [\"horror\"]]", "[\"scary\", [\"\"]]"),
            good.replace("\"without\", \"avoid\"", "\"Without\", \"avoid\""),
        ];
        for text in &broken {
            assert_ne!(text, &good, "the test's edit must change the file");
            let e = Cues::parse(text).unwrap_err();
            assert!(!e.is_empty());
        }
        assert!(Cues::parse(&good).is_ok());
    }
}
