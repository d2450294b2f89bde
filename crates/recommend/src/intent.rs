//! What a request means, as a structure: the needs it expresses (weights
//! over the descriptor vocabulary), its hard constraints (kinds, lengths,
//! years, exclusions, audience), what it names (references, picks of the
//! previous answer), and how much room it leaves to the moment.
//!
//! This is also the `intent` object of `ask --json` and of stored
//! conversations: fields are only added, and older stored intents still
//! read (see [`PickRef`]'s and [`Direction`]'s serde forms).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::context::Season;
use crate::vocab::{D, Facet};
use moodshelf_media::Kind;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Intent {
    /// The content of the request: what is embedded for the vector leg,
    /// without exclusions, limits and time words (a follow-up adds its
    /// words to the previous query).
    pub query: String,
    /// Empty means any kind.
    pub kinds: Vec<Kind>,
    /// What the request asks for, as weighted descriptors.
    pub needs: Vec<Need>,
    /// The needs of facet mood, by name (kept for scripts).
    pub moods: Vec<String>,
    /// The first occasion among the needs.
    pub occasion: Option<String>,
    pub audience: Option<Audience>,
    /// A season the request names (the moment's season is in `context`).
    pub season: Option<Season>,
    pub energy: Option<Energy>,
    pub max_minutes: Option<u32>,
    pub min_minutes: Option<u32>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    /// Names or titles the answer should resemble ("like Norah Jones").
    pub like: Vec<String>,
    /// Picks of the previous answer to resemble.
    pub like_picks: Vec<PickRef>,
    /// Hard exclusions: an item with any of these is never returned.
    pub exclude: Vec<String>,
    /// Soft anti-preferences: ranked down, not removed.
    pub avoid: Vec<String>,
    /// Follow-up directions.
    pub refine: Vec<Direction>,
    /// Content words no descriptor explains, for the full-text leg.
    pub keywords: Vec<String>,
    /// Where the wanted works are from ("a French film": "french"), read
    /// against what items say of themselves, never their titles.
    pub origins: Vec<String>,
    /// Phrases that may name a title or a creator, as
    /// [`crate::understand::name_key`] writes them: an item is
    /// named when its whole title or creator is one of them.
    pub names: Vec<String>,
    /// How much the moment (season, time, holidays) may shape the answer:
    /// 1 for "something for tonight", near 0 for a precise request.
    pub vagueness: f32,
    /// The request asks for something the person has had before ("a
    /// comfort rewatch", "one of my favourites"): films and books they
    /// have watched or read are offered, which otherwise are held back.
    pub again: bool,
    /// "Something new", "never seen": nothing they have watched, read or
    /// played is offered, music included.
    pub fresh: bool,
    /// "The next one", "continue my series": the next unread book of a
    /// series they are reading, the next unwatched episode of a show.
    pub next: bool,
    /// The other people the request is for ("for me and Sam"), by name:
    /// their hard dislikes are kept out, and their tastes blended in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<String>,
}

/// One descriptor the request asks for, and how strongly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Need {
    pub descriptor: String,
    pub weight: f32,
    /// Who read it.
    pub from: NeedSource,
}

/// Who read a need; stored and shown in lower case ("words").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeedSource {
    /// The request says it.
    Words,
    /// What an occasion the request names asks for.
    Implied,
    /// The request's vector is close to it.
    Embedding,
    /// The reasoning model read it.
    Model,
    /// Stated earlier ("I love jazz").
    Preference,
    /// A previous request of the conversation.
    Earlier,
    /// The moment (season, holiday, time of day), not the request.
    Moment,
}

impl Need {
    pub fn d(&self) -> Option<D> {
        D::find(&self.descriptor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    #[serde(rename = "kids")]
    Kids,
    #[serde(rename = "older adults")]
    OlderAdults,
    #[serde(rename = "group")]
    Group,
    #[serde(rename = "partner")]
    Partner,
    #[serde(rename = "alone")]
    Alone,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Kids => "kids",
            Audience::OlderAdults => "older adults",
            Audience::Group => "group",
            Audience::Partner => "partner",
            Audience::Alone => "alone",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        match s.trim() {
            "kids" => Some(Audience::Kids),
            "older adults" => Some(Audience::OlderAdults),
            "group" => Some(Audience::Group),
            "partner" => Some(Audience::Partner),
            "alone" => Some(Audience::Alone),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Energy {
    Low,
    High,
}

/// A pick of the previous answer: "the second one", "the last one".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickRef {
    /// 1-based.
    Nth(usize),
    Last,
}

impl PickRef {
    /// The index in a list of `len` picks, if there is such a pick.
    pub fn index(self, len: usize) -> Option<usize> {
        match self {
            PickRef::Nth(n) if n >= 1 && n <= len => Some(n - 1),
            PickRef::Last if len > 0 => Some(len - 1),
            _ => None,
        }
    }
}

/// A number for the n-th pick, `"last"` for the last one.
impl Serialize for PickRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PickRef::Nth(n) => s.serialize_u64(*n as u64),
            PickRef::Last => s.serialize_str("last"),
        }
    }
}

impl<'de> Deserialize<'de> for PickRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        Ok(match Raw::deserialize(d)? {
            // Stored conversations of earlier versions wrote the last pick
            // as usize::MAX.
            Raw::N(n) if n > 1000 => PickRef::Last,
            Raw::N(n) => PickRef::Nth(n as usize),
            Raw::S(s) if s == "last" => PickRef::Last,
            Raw::S(s) => {
                return Err(serde::de::Error::custom(format!("not a pick: {s:?}")));
            }
        })
    }
}

/// A follow-up's direction relative to the previous answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    Shorter,
    Longer,
    Newer,
    Older,
    /// Nothing from the previous answer.
    Different,
    /// A quicker tempo than the previous answer's tracks.
    Faster,
    /// A slower tempo than the previous answer's tracks.
    Slower,
    /// More of a quality ("more energetic", "livelier").
    More(String),
    /// Less of a quality ("less sad", "calmer").
    Less(String),
}

impl Direction {
    /// The move in sound space this direction asks for, if it asks for one.
    pub fn in_sound(&self) -> Option<crate::hearing::SoundMove> {
        use crate::hearing::SoundMove;
        match self {
            Direction::More(q) if q == "energetic" => Some(SoundMove::Livelier),
            Direction::Less(q) if q == "energetic" => Some(SoundMove::Calmer),
            Direction::Faster => Some(SoundMove::Faster),
            Direction::Slower => Some(SoundMove::Slower),
            _ => None,
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            Direction::Shorter => "shorter".into(),
            Direction::Longer => "longer".into(),
            Direction::Newer => "newer".into(),
            Direction::Older => "older".into(),
            Direction::Different => "different".into(),
            Direction::Faster => "faster".into(),
            Direction::Slower => "slower".into(),
            Direction::More(q) => format!("more {q}"),
            Direction::Less(q) => format!("less {q}"),
        }
    }

    pub fn parse(s: &str) -> Direction {
        match s {
            "shorter" => Direction::Shorter,
            "longer" => Direction::Longer,
            "newer" => Direction::Newer,
            "older" => Direction::Older,
            "different" => Direction::Different,
            "faster" => Direction::Faster,
            "slower" => Direction::Slower,
            other => match other.split_once(' ') {
                Some(("less", q)) => Direction::Less(q.to_string()),
                Some(("more", q)) => Direction::More(q.to_string()),
                _ => Direction::More(other.to_string()),
            },
        }
    }
}

/// The words a person would use ("shorter", "more energetic").
impl Serialize for Direction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for Direction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Direction::parse(&String::deserialize(d)?))
    }
}

impl Intent {
    /// True when the request reads as a change to the previous answer
    /// rather than a new request.
    pub fn is_follow_up(&self, text: &str) -> bool {
        let t = text.trim().to_lowercase();
        let words = t.split_whitespace().count();
        !self.refine.is_empty()
            || !self.like_picks.is_empty()
            || FOLLOW_UP_START.is_match(&t)
            || (words <= 3 && self.occasion.is_none() && self.like.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        *self == Intent::default()
    }

    /// Adds a need, or raises the weight of one already there.
    pub fn add_need(&mut self, d: D, weight: f32, from: NeedSource) {
        match self.needs.iter_mut().find(|n| n.descriptor == d.name()) {
            Some(n) => n.weight = n.weight.max(weight),
            None => self.needs.push(Need {
                descriptor: d.name().to_string(),
                weight,
                from,
            }),
        }
    }

    /// The needs as descriptors with weights.
    pub fn weighted(&self) -> Vec<(D, f32)> {
        self.needs
            .iter()
            .filter_map(|n| n.d().map(|d| (d, n.weight)))
            .collect()
    }

    pub fn asks_for(&self, d: D) -> bool {
        self.needs.iter().any(|n| n.descriptor == d.name())
    }

    /// Whether the request itself names something of this facet (then the
    /// moment's reading of that facet steps aside).
    pub fn names_facet(&self, facet: Facet) -> bool {
        self.needs
            .iter()
            .filter(|n| n.from == NeedSource::Words)
            .filter_map(Need::d)
            .any(|d| d.get().facet == facet)
    }

    /// Fills the summary fields (`moods`, `occasion`, `energy`) from the
    /// needs, for scripts and the window.
    pub fn summarize(&mut self) {
        self.moods = self
            .needs
            .iter()
            .filter(|n| n.d().is_some_and(|d| d.get().facet == Facet::Mood))
            .map(|n| n.descriptor.clone())
            .collect();
        if self.occasion.is_none() {
            self.occasion = self
                .needs
                .iter()
                .find(|n| n.d().is_some_and(|d| d.get().facet == Facet::Occasion))
                .map(|n| n.descriptor.clone());
        }
        let has = |names: &[&str]| {
            self.needs
                .iter()
                .any(|n| names.contains(&n.descriptor.as_str()))
        };
        let high = has(&["energetic", "party", "workout", "exciting"])
            || self.refine.contains(&Direction::More("energetic".into()));
        let low = has(&["calm", "sleep", "focus", "cozy"])
            || self.avoid.iter().any(|a| a == "loud" || a == "energetic")
            || self.refine.contains(&Direction::Less("energetic".into()));
        self.energy = match (high, low) {
            (true, false) => Some(Energy::High),
            (false, true) => Some(Energy::Low),
            _ => None,
        };
    }
}

static FOLLOW_UP_START: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^(only|just|more|less|something (shorter|longer|newer|older|else|different|similar)|but|and|make it|now|same|another|fewer|instead|not that|no,)\b").unwrap()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tempo_and_energy_move_in_sound() {
        use crate::hearing::SoundMove;
        assert_eq!(Direction::Older.in_sound(), None);
        assert_eq!(Direction::More("funny".into()).in_sound(), None);
        assert_eq!(Direction::Slower.in_sound(), Some(SoundMove::Slower));
        assert_eq!(
            Direction::Less("energetic".into()).in_sound(),
            Some(SoundMove::Calmer)
        );
    }

    #[test]
    fn picks_read_old_and_new_forms() {
        let old: Vec<PickRef> = serde_json::from_str("[2, 18446744073709551615]").unwrap();
        assert_eq!(old, vec![PickRef::Nth(2), PickRef::Last]);
        assert_eq!(
            serde_json::to_string(&vec![PickRef::Nth(2), PickRef::Last]).unwrap(),
            r#"[2,"last"]"#
        );
        assert_eq!(PickRef::Last.index(3), Some(2));
        assert_eq!(PickRef::Nth(4).index(3), None);
        assert_eq!(PickRef::Nth(0).index(3), None);
    }

    #[test]
    fn directions_read_as_words() {
        let d: Vec<Direction> =
            serde_json::from_str(r#"["shorter","less melancholic","more energetic"]"#).unwrap();
        assert_eq!(
            d,
            vec![
                Direction::Shorter,
                Direction::Less("melancholic".into()),
                Direction::More("energetic".into())
            ]
        );
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"["shorter","less melancholic","more energetic"]"#
        );
    }

    #[test]
    fn an_old_stored_intent_still_reads() {
        let json = r#"{"query":"a film","kinds":["video"],"moods":["calm"],"occasion":"family",
            "audience":"kids","season":"winter","energy":"low","max_minutes":120,"like":[],
            "like_picks":[18446744073709551615],"exclude":["horror"],"avoid":[],"refine":["shorter"],
            "keywords":["film"]}"#;
        let i: Intent = serde_json::from_str(json).unwrap();
        assert_eq!(i.kinds, vec![Kind::Video]);
        assert_eq!(i.audience, Some(Audience::Kids));
        assert_eq!(i.season, Some(Season::Winter));
        assert_eq!(i.like_picks, vec![PickRef::Last]);
        assert_eq!(i.refine, vec![Direction::Shorter]);
        assert!(i.needs.is_empty());
    }
}
