//! What a request means, as a structure: kinds, moods, occasion, audience,
//! season, energy, length and year limits, references and exclusions.
//!
//! Two readers fill it. [`read_rules`] is fast, deterministic and always
//! there; the reasoning model (see `understand`) reads the same request
//! under a grammar and [`merge`] adds what it understood, keeping the rules'
//! hard constraints and accepting the model's only where the request itself
//! supports them. So an answer never depends on the model alone.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::context::{Context, Season};
use crate::lexicon;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Intent {
    /// What is searched for: the request without its exclusions (a
    /// follow-up adds its words to the previous query).
    pub query: String,
    /// `music`, `book`, `video`; empty means any.
    pub kinds: Vec<String>,
    /// Canonical moods wanted ("calm", "cozy", "uplifting").
    pub moods: Vec<String>,
    pub occasion: Option<String>,
    /// `alone`, `kids`, `older adults`, `group`, `partner`.
    pub audience: Option<String>,
    /// A season the request names (not the current one).
    pub season: Option<String>,
    /// `low` or `high`.
    pub energy: Option<String>,
    pub max_minutes: Option<u32>,
    pub min_minutes: Option<u32>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    /// Names or titles the answer should resemble ("like Norah Jones").
    pub like: Vec<String>,
    /// Positions (1-based) in the previous answer to resemble.
    pub like_picks: Vec<usize>,
    /// Hard exclusions: an item with any of these is never returned.
    pub exclude: Vec<String>,
    /// Soft anti-preferences: ranked down, not removed.
    pub avoid: Vec<String>,
    /// Follow-up directions: `shorter`, `longer`, `newer`, `older`,
    /// `different`.
    pub refine: Vec<String>,
    /// Remaining content words, for full-text search.
    pub keywords: Vec<String>,
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
}

static FOLLOW_UP_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(only|just|more|less|something (shorter|longer|newer|older|else|different|similar)|but|and|make it|now|same|another|fewer|instead|not that|no,)\b").unwrap()
});

const KIND_WORDS: &[(&[&str], &str)] = &[
    (
        &[
            "music",
            "song",
            "songs",
            "track",
            "tracks",
            "album",
            "albums",
            "playlist",
            "listen",
            "listening",
            "tunes",
            "soundtrack",
        ],
        "music",
    ),
    (
        &[
            "book", "books", "novel", "novels", "read", "reading", "ebook", "story", "stories",
            "poems", "poetry",
        ],
        "book",
    ),
    (
        &[
            "film",
            "films",
            "movie",
            "movies",
            "watch",
            "watching",
            "video",
            "videos",
            "show",
            "series",
            "documentary",
            "cinema",
        ],
        "video",
    ),
];

const STOP: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "but",
    "for",
    "with",
    "to",
    "of",
    "in",
    "on",
    "at",
    "by",
    "from",
    "me",
    "my",
    "i",
    "we",
    "us",
    "our",
    "something",
    "anything",
    "some",
    "any",
    "please",
    "thanks",
    "want",
    "need",
    "would",
    "like",
    "could",
    "can",
    "you",
    "give",
    "suggest",
    "recommend",
    "find",
    "play",
    "put",
    "is",
    "are",
    "be",
    "it",
    "this",
    "that",
    "these",
    "those",
    "what",
    "which",
    "good",
    "nice",
    "great",
    "bit",
    "little",
    "very",
    "too",
    "really",
    "more",
    "less",
    "much",
    "get",
    "let",
    "have",
    "has",
    "do",
    "does",
    "one",
    "ones",
    "so",
    "just",
    "only",
    "all",
    "about",
    "under",
    "over",
    "than",
    "hours",
    "hour",
    "minutes",
    "minute",
    "mins",
    "min",
    "long",
    "no",
    "not",
    "nothing",
    "without",
    "tonight",
    "now",
    "today",
    "while",
    "during",
    "into",
    "up",
    "out",
    "who",
    "as",
    "s",
    "im",
    "i'm",
    "also",
    "stuff",
    "things",
];

const NUMBER_WORDS: &[(&str, f64)] = &[
    ("a", 1.0),
    ("an", 1.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("twelve", 12.0),
    ("fifteen", 15.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("forty-five", 45.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("ninety", 90.0),
];

const ORDINALS: &[(&str, usize)] = &[
    ("first", 1),
    ("1st", 1),
    ("second", 2),
    ("2nd", 2),
    ("third", 3),
    ("3rd", 3),
    ("fourth", 4),
    ("4th", 4),
    ("fifth", 5),
    ("5th", 5),
    ("sixth", 6),
    ("6th", 6),
    ("seventh", 7),
    ("7th", 7),
    ("eighth", 8),
    ("8th", 8),
    ("ninth", 9),
    ("9th", 9),
    ("tenth", 10),
    ("10th", 10),
];

const DECADE_WORDS: &[(&str, i32)] = &[
    ("fifties", 1950),
    ("sixties", 1960),
    ("seventies", 1970),
    ("eighties", 1980),
    ("nineties", 1990),
];

static NUM: &str = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|forty|forty-five|fifty|sixty|ninety)";

static MAX_LEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:under|less than|shorter than|at most|no more than|no longer than|nothing longer than|not longer than|nothing over|nothing more than|max(?:imum)?|within|below|up to|not more than|not over)\s+(?:(half an hour)|(an hour and a half)|{NUM}\s*(hours?|hrs?|h|minutes?|mins?|m)\b)"
    ))
    .unwrap()
});
static MIN_LEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:over|more than|longer than|at least)\s+(?:(half an hour)|(an hour and a half)|{NUM}\s*(hours?|hrs?|h|minutes?|mins?|m)\b)"
    ))
    .unwrap()
});
static N_MINUTE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d+)[- ]minute\b").unwrap());
static AGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2})[- ]?(?:year|yr)s?[- ]old\b").unwrap());
static THEIR_DECADE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:in (?:their|his|her|my|our) |aged? )(\d)0'?s\b").unwrap());
static DECADE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:(19|20)(\d)0|(\d)0)'?s\b").unwrap());
static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:before|older than|earlier than|pre)[- ]((?:19|20)\d\d)\b").unwrap()
});
static AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:after|since|newer than|later than|post)[- ]((?:19|20)\d\d)\b").unwrap()
});
static FROM_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:from|in|of) ((?:19|20)\d\d)\b").unwrap());
static EXCLUDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(no|not|nothing|without|avoid|skip|never|except|none|don't want|do not want|anything but|but no)\s+(too\s+|very\s+|overly\s+|so\s+|any\s+|anything\s+|more\s+)?([a-z][a-z'-]*)(\s+[a-z][a-z'-]*)?").unwrap()
});
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z'])(?:more |something |anything )?(?:like|similar to|in the style of|reminds? me of|along the lines of|in the vein of)\s+([^,.;!?]+?)(?:\s+but\b|\s+and\b|\s+for\b|\s+with\b|\s+only\b|[,.;!?]|$)").unwrap()
});
static PICK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bthe (first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th|seventh|7th|eighth|8th|ninth|9th|tenth|10th|last)(?: one| pick| item)?\b|\b(?:number|#)\s?(\d{1,2})\b").unwrap()
});
static LESS_MORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(less|more|fewer)\s+([a-z][a-z-]*)").unwrap());

/// Words after "no"/"not" that are not exclusions ("no more than").
const NOT_EXCLUSION: &[&str] = &[
    "more", "longer", "less", "later", "earlier", "older", "newer", "than", "matter", "idea",
    "problem", "need", "that", "now", "sure", "a", "an", "the", "one", "too", "much", "many",
    "really", "so", "just", "only", "in", "with", "for", "to", "be",
];
/// Media nouns dropped from an exclusion ("no horror movies" → "horror").
const MEDIA_NOUNS: &[&str] = &[
    "movies", "movie", "films", "film", "books", "book", "songs", "song", "music", "stuff",
    "please", "thanks", "tracks", "shows", "novels", "stories", "and", "or", "for", "under",
    "with", "but", "from", "in", "on", "at", "by", "that", "this", "please",
];

/// Reads a request with rules only. `ctx` supplies the current year for
/// "recent".
pub fn read_rules(text: &str, ctx: &Context) -> Intent {
    let lower = normalize(text);
    let mut intent = Intent::default();
    let mut consumed: Vec<String> = Vec::new();

    // Audience first: "parents in their 60s" is not a decade.
    let mut scrubbed = lower.clone();
    if let Some(c) = THEIR_DECADE.captures(&lower) {
        let decade: u32 = c[1].parse().unwrap_or(0);
        if decade >= 5 {
            intent.audience = Some("older adults".into());
        }
        scrubbed = scrubbed.replace(&c[0], " ");
    }
    if let Some(c) = AGE.captures(&lower) {
        let age: u32 = c[1].parse().unwrap_or(30);
        if age < 13 {
            intent.audience = Some("kids".into());
        } else if age >= 60 {
            intent.audience = Some("older adults".into());
        }
        scrubbed = scrubbed.replace(&c[0], " ");
    }
    let words: Vec<&str> = scrubbed.split_whitespace().collect();
    let has = |w: &str| words.contains(&w);
    if intent.audience.is_none() {
        intent.audience = if [
            "kids",
            "kid",
            "children",
            "child",
            "toddler",
            "toddlers",
            "son",
            "daughter",
            "grandkids",
            "nephew",
            "niece",
        ]
        .iter()
        .any(|w| has(w))
            || lower.contains("family")
        {
            Some("kids".into())
        } else if [
            "parents",
            "grandparents",
            "grandma",
            "grandpa",
            "granny",
            "retirees",
            "elderly",
        ]
        .iter()
        .any(|w| has(w))
        {
            Some("older adults".into())
        } else if ["friends", "group", "guests", "crowd", "everyone", "party"]
            .iter()
            .any(|w| has(w))
        {
            Some("group".into())
        } else if ["alone", "myself", "solo"].iter().any(|w| has(w)) || lower.contains("on my own")
        {
            Some("alone".into())
        } else if [
            "date",
            "partner",
            "wife",
            "husband",
            "girlfriend",
            "boyfriend",
            "couple",
        ]
        .iter()
        .any(|w| has(w))
        {
            Some("partner".into())
        } else {
            None
        };
    }

    // Kinds.
    for (keys, kind) in KIND_WORDS {
        if keys.iter().any(|k| has(k)) && !intent.kinds.contains(&kind.to_string()) {
            intent.kinds.push(kind.to_string());
        }
    }

    // Length limits.
    if let Some(m) = minutes(&MAX_LEN, &scrubbed) {
        intent.max_minutes = Some(m);
    } else if let Some(c) = N_MINUTE.captures(&scrubbed) {
        intent.max_minutes = c[1].parse().ok();
    }
    if let Some(m) = minutes(&MIN_LEN, &scrubbed) {
        intent.min_minutes = Some(m);
    }

    // Years.
    let year_now: i32 = ctx
        .local_time
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2026);
    if let Some(c) = DECADE.captures(&scrubbed) {
        let start = match (c.get(1), c.get(2), c.get(3)) {
            (Some(century), Some(d), _) => {
                century.as_str().parse::<i32>().unwrap_or(19) * 100
                    + d.as_str().parse::<i32>().unwrap_or(0) * 10
            }
            (_, _, Some(d)) => {
                let d: i32 = d.as_str().parse().unwrap_or(0);
                if d <= (year_now % 100) / 10 {
                    2000 + d * 10
                } else {
                    1900 + d * 10
                }
            }
            _ => 0,
        };
        if start > 0 {
            intent.year_from = Some(start);
            intent.year_to = Some(start + 9);
        }
    }
    for (w, start) in DECADE_WORDS {
        if has(w) {
            intent.year_from = Some(*start);
            intent.year_to = Some(start + 9);
        }
    }
    if let Some(c) = BEFORE.captures(&scrubbed) {
        intent.year_to = c[1].parse::<i32>().ok().map(|y| y - 1);
    }
    if let Some(c) = AFTER.captures(&scrubbed) {
        intent.year_from = c[1]
            .parse::<i32>()
            .ok()
            .map(|y| if c[0].starts_with("since") { y } else { y + 1 });
    }
    if intent.year_from.is_none()
        && intent.year_to.is_none()
        && let Some(c) = FROM_YEAR.captures(&scrubbed)
    {
        let y = c[1].parse::<i32>().ok();
        intent.year_from = y;
        intent.year_to = y;
    }
    if intent.year_from.is_none() && ["recent", "new", "latest", "newest"].iter().any(|w| has(w)) {
        intent.year_from = Some(year_now - 5);
    }

    // Exclusions and anti-preferences.
    for c in EXCLUDE.captures_iter(&scrubbed) {
        let word = c[3].to_string();
        if NOT_EXCLUSION.contains(&word.as_str()) || MEDIA_NOUNS.contains(&word.as_str()) {
            continue;
        }
        let soft = c
            .get(2)
            .is_some_and(|m| !m.as_str().trim().starts_with("any"));
        let mut term = word.clone();
        if let Some(second) = c.get(4).map(|m| m.as_str().trim().to_string())
            && !MEDIA_NOUNS.contains(&second.as_str())
            && !STOP.contains(&second.as_str())
            && lexicon::mood_of(&word).is_none()
        {
            term = format!("{word} {second}");
        }
        consumed.push(c[0].to_string());
        let term = lexicon::mood_of(&term).map_or(term.clone(), |m| {
            if soft { m.to_string() } else { term.clone() }
        });
        if soft {
            push(&mut intent.avoid, &term);
        } else {
            push(&mut intent.exclude, &term);
        }
    }
    if intent.audience.as_deref() == Some("kids") {
        push(&mut intent.avoid, "scary");
    }

    // Follow-up directions.
    for c in LESS_MORE.captures_iter(&scrubbed) {
        let dir = &c[1];
        let what = &c[2];
        if what == "like" || what == "than" {
            continue;
        }
        let canon = lexicon::mood_of(what)
            .map(str::to_string)
            .unwrap_or_else(|| what.to_string());
        consumed.push(c[0].to_string());
        match dir {
            "more" => {
                push(&mut intent.moods, &canon);
                intent.refine.push(format!("more {canon}"));
            }
            _ => {
                push(&mut intent.avoid, &canon);
                intent.refine.push(format!("less {canon}"));
            }
        }
    }
    for (w, r) in [
        ("shorter", "shorter"),
        ("quicker", "shorter"),
        ("longer", "longer"),
        ("newer", "newer"),
        ("older", "older"),
        ("else", "different"),
        ("different", "different"),
        ("other", "different"),
        ("calmer", "less energetic"),
        ("quieter", "less energetic"),
        ("livelier", "more energetic"),
        ("happier", "more uplifting"),
    ] {
        if has(w) && !intent.refine.iter().any(|x| x == r) {
            intent.refine.push(r.to_string());
        }
    }

    // References.
    for c in REFERENCE.captures_iter(text) {
        let target = c[1].trim();
        let tl = target.to_lowercase();
        let first = tl.split_whitespace().next().unwrap_or("");
        if [
            "to",
            "a",
            "an",
            "some",
            "something",
            "anything",
            "it",
            "this",
            "that",
            "i",
            "me",
            "you",
            "we",
        ]
        .contains(&first)
        {
            continue;
        }
        let before = &text[..c.get(0).map_or(0, |m| m.start())].to_lowercase();
        if before.ends_with("would")
            || before.ends_with("'d")
            || before.ends_with(" i")
            || before.ends_with("we")
            || before == "i"
        {
            continue;
        }
        if PICK.is_match(&tl) {
            continue;
        }
        consumed.push(tl.clone());
        push(&mut intent.like, target);
    }
    for c in PICK.captures_iter(&scrubbed) {
        let n = match (c.get(1), c.get(2)) {
            (Some(w), _) if w.as_str() == "last" => usize::MAX,
            (Some(w), _) => ORDINALS
                .iter()
                .find(|(o, _)| *o == w.as_str())
                .map_or(0, |(_, n)| *n),
            (_, Some(d)) => d.as_str().parse().unwrap_or(0),
            _ => 0,
        };
        let referential =
            lower.contains("like") || lower.contains("similar") || lower.contains("more of");
        if n > 0 && referential && !intent.like_picks.contains(&n) {
            intent.like_picks.push(n);
        }
    }

    // Moods, occasion, season, energy.
    for w in &words {
        if let Some(m) = lexicon::mood_of(w) {
            let excluded = intent
                .avoid
                .iter()
                .chain(&intent.exclude)
                .any(|x| x == m || x == w);
            if !excluded {
                push(&mut intent.moods, m);
            }
        }
    }
    for (keys, occasion) in lexicon::OCCASIONS {
        if keys.iter().any(|k| contains_phrase(&scrubbed, k)) {
            intent.occasion = Some(occasion.to_string());
            break;
        }
    }
    for w in &words {
        if let Some(s) = Season::parse(w) {
            intent.season = Some(s.as_str().to_string());
        }
    }
    let high = intent
        .moods
        .iter()
        .any(|m| lexicon::HIGH_ENERGY.contains(&m.as_str()))
        || matches!(intent.occasion.as_deref(), Some("workout" | "party"))
        || intent.refine.iter().any(|r| r == "more energetic");
    let low = intent
        .moods
        .iter()
        .any(|m| lexicon::LOW_ENERGY.contains(&m.as_str()))
        || matches!(intent.occasion.as_deref(), Some("sleep" | "focus"))
        || intent.avoid.iter().any(|a| a == "loud" || a == "energetic")
        || intent.refine.iter().any(|r| r == "less energetic");
    intent.energy = match (high, low) {
        (true, false) => Some("high".into()),
        (false, true) => Some("low".into()),
        _ => None,
    };

    // What is left: content words for full-text search.
    let mut rest = scrubbed.clone();
    for c in &consumed {
        rest = rest.replace(c.as_str(), " ");
    }
    for w in rest.split_whitespace() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if w.len() > 2
            && !STOP.contains(&w)
            && !w.chars().all(|c| c.is_ascii_digit())
            && !KIND_WORDS.iter().any(|(keys, _)| keys.contains(&w))
        {
            push(&mut intent.keywords, w);
        }
    }
    intent
}

/// The request with its exclusions taken out, so that "no horror" does not
/// pull horror closer in embedding space.
pub fn positive_text(text: &str) -> String {
    let lower = normalize(text);
    let mut out = lower.clone();
    for c in EXCLUDE.captures_iter(&lower) {
        if !NOT_EXCLUSION.contains(&&c[3]) {
            out = out.replace(&c[0], " ");
        }
    }
    for c in LESS_MORE.captures_iter(&lower) {
        if &c[1] != "more" {
            out = out.replace(&c[0], " ");
        }
    }
    out.split_whitespace()
        .filter(|w| *w != ",")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Applies a follow-up to the intent of the answer it refines.
pub fn refine(prev: &Intent, delta: &Intent) -> Intent {
    let mut out = prev.clone();
    if !delta.kinds.is_empty() && delta.kinds != prev.kinds {
        // Another kind of thing: lengths and references were about the
        // old kind ("only books" after films under two hours).
        out.kinds = delta.kinds.clone();
        out.max_minutes = None;
        out.min_minutes = None;
        out.like.clear();
    }
    for m in &delta.moods {
        push(&mut out.moods, m);
    }
    for a in &delta.avoid {
        push(&mut out.avoid, a);
    }
    out.moods.retain(|m| !delta.avoid.contains(m));
    out.avoid.retain(|a| !delta.moods.contains(a));
    for e in &delta.exclude {
        push(&mut out.exclude, e);
    }
    macro_rules! take {
        ($($f:ident),*) => { $( if delta.$f.is_some() { out.$f = delta.$f.clone(); } )* };
    }
    take!(
        occasion,
        audience,
        season,
        energy,
        max_minutes,
        min_minutes,
        year_from,
        year_to
    );
    if !delta.like.is_empty() || !delta.like_picks.is_empty() {
        out.like = delta.like.clone();
        out.like_picks = delta.like_picks.clone();
    } else {
        out.like_picks.clear();
    }
    out.refine = delta.refine.clone();
    for k in &delta.keywords {
        push(&mut out.keywords, k);
    }
    out
}

/// Adds what the model understood to what the rules read. The rules'
/// reading stands; the model adds soft preferences freely, but a hard
/// constraint (an exclusion, a limit, a kind) only where the request's own
/// words support it, so a confused model cannot hide half the library.
pub fn merge(rules: &Intent, model: &Intent, text: &str) -> Intent {
    let lower = normalize(text);
    let positive = positive_text(text);
    let asked_for = |t: &str| positive.contains(&lexicon::stem(t));
    let mut out = rules.clone();
    // Moods fill a gap; they never dilute a reading that has its own.
    if out.moods.is_empty() {
        for m in model.moods.iter().take(2) {
            let m = lexicon::mood_of(m).unwrap_or(m.as_str()).to_string();
            if !out.avoid.contains(&m) && !out.exclude.contains(&m) && !asked_against(&m, &out) {
                push(&mut out.moods, &m);
            }
        }
    }
    // A refusal is hard only where the request refuses it (the word is in
    // the request, but not in its positive part); a model that reads
    // "science fiction, nothing dystopian" as refusing science fiction is
    // ignored.
    for e in &model.exclude {
        if asked_for(e) {
            continue;
        }
        if lower.contains(&lexicon::stem(e)) {
            push(&mut out.exclude, e);
        } else {
            push(&mut out.avoid, e);
        }
    }
    for a in &model.avoid {
        if !asked_for(a) && !out.moods.contains(a) {
            push(&mut out.avoid, a);
        }
    }
    if out.kinds.is_empty() {
        out.kinds = model
            .kinds
            .iter()
            .filter(|k| matches!(k.as_str(), "music" | "book" | "video"))
            .cloned()
            .collect();
        if out.kinds.len() == 3 {
            out.kinds.clear();
        }
    }
    out.occasion = out
        .occasion
        .or_else(|| model.occasion.clone().filter(|o| !o.is_empty()));
    // An audience changes what is allowed (kids), so it needs people in
    // the request.
    let mentions_people = [
        "my ", "our ", "with ", "for the ", "friends", "family", "guests",
    ]
    .iter()
    .any(|w| lower.contains(w));
    if mentions_people {
        out.audience = out
            .audience
            .or_else(|| model.audience.clone().filter(|a| !a.is_empty()));
    }
    out
}

fn asked_against(m: &str, i: &Intent) -> bool {
    i.avoid
        .iter()
        .chain(&i.exclude)
        .any(|x| lexicon::stem(x) == lexicon::stem(m))
}

/// Whether the rules' reading is too thin to act on alone: no kinds, no
/// moods, no occasion, no limits and at most one content word ("something
/// for later", "surprise me"). Only then is the model's reading worth its
/// seconds.
pub fn is_thin(i: &Intent) -> bool {
    i.kinds.is_empty()
        && i.moods.is_empty()
        && i.occasion.is_none()
        && i.like.is_empty()
        && i.like_picks.is_empty()
        && i.max_minutes.is_none()
        && i.year_from.is_none()
        && i.year_to.is_none()
        && i.keywords.len() <= 2
}

fn minutes(re: &Regex, text: &str) -> Option<u32> {
    let c = re.captures(text)?;
    if c.get(1).is_some() {
        return Some(30);
    }
    if c.get(2).is_some() {
        return Some(90);
    }
    let n = c.get(3)?.as_str();
    let n: f64 = n
        .parse()
        .ok()
        .or_else(|| NUMBER_WORDS.iter().find(|(w, _)| *w == n).map(|(_, v)| *v))?;
    let unit = c.get(4)?.as_str();
    let mins = if unit.starts_with('h') { n * 60.0 } else { n };
    Some(mins.round() as u32)
}

/// Lowercase words, with clause punctuation kept as "," tokens and a ","
/// put before every negation, so that "no horror nothing dystopian" reads
/// as two exclusions.
fn normalize(text: &str) -> String {
    let mut lower = text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
    for phrase in [
        "do not want",
        "don't want",
        "dont want",
        "would rather not have",
        "anything but",
    ] {
        lower = lower.replace(phrase, "no");
    }
    let cleaned: String = lower
        .chars()
        .map(|c| match c {
            c if c.is_alphanumeric() || c == '\'' || c == '-' || c == '.' || c == '#' => c,
            ',' | ';' | ':' | '!' | '?' | '(' | ')' => ',',
            _ => ' ',
        })
        .collect();
    let mut out: Vec<&str> = Vec::new();
    for w in cleaned
        .split(',')
        .flat_map(|clause| std::iter::once(",").chain(clause.split_whitespace()))
        .skip(1)
    {
        let w = w.trim_end_matches('.');
        if w.is_empty() {
            continue;
        }
        if NEGATIONS.contains(&w) && out.last().is_some_and(|l| *l != ",") {
            out.push(",");
        }
        out.push(w);
    }
    out.join(" ")
}

const NEGATIONS: &[&str] = &[
    "no", "not", "nothing", "without", "avoid", "skip", "never", "except",
];

fn contains_phrase(haystack: &str, phrase: &str) -> bool {
    haystack.match_indices(phrase).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Adds `s` unless the list has it already (ignoring case).
pub(crate) fn push(list: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if !s.is_empty() && !list.iter().any(|x| x.eq_ignore_ascii_case(s)) {
        list.push(s.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Hemisphere;

    fn ctx() -> Context {
        Context::new(
            chrono::NaiveDateTime::parse_from_str("2026-12-24T20:00", "%Y-%m-%dT%H:%M").unwrap(),
            Hemisphere::North,
        )
    }

    fn read(t: &str) -> Intent {
        read_rules(t, &ctx())
    }

    #[test]
    fn family_film_with_limits_and_exclusions() {
        let i = read("A film for family night with an 8-year-old, under two hours, no horror");
        assert_eq!(i.kinds, vec!["video"]);
        assert_eq!(i.audience.as_deref(), Some("kids"));
        assert_eq!(i.max_minutes, Some(120));
        assert_eq!(i.exclude, vec!["horror"]);
        assert_eq!(i.occasion.as_deref(), Some("family"));
    }

    #[test]
    fn moods_seasons_and_soft_dislikes() {
        let i = read("cozy music for a rainy winter evening, not too loud");
        assert_eq!(i.kinds, vec!["music"]);
        assert!(i.moods.contains(&"cozy".to_string()), "{i:?}");
        assert_eq!(i.season.as_deref(), Some("winter"));
        assert_eq!(i.avoid, vec!["loud"]);
        assert!(i.exclude.is_empty());
        assert_eq!(i.energy.as_deref(), Some("low"));
        let i = read("a book for the beach house, nothing too heavy, nothing dystopian");
        assert_eq!(i.kinds, vec!["book"]);
        assert_eq!(i.avoid, vec!["heavy"]);
        assert_eq!(i.exclude, vec!["dystopian"]);
        assert_eq!(i.occasion.as_deref(), Some("beach"));
    }

    #[test]
    fn years_and_audiences_are_not_confused() {
        let i = read("films from the 90s my parents in their 60s would enjoy");
        assert_eq!((i.year_from, i.year_to), (Some(1990), Some(1999)));
        assert_eq!(i.audience.as_deref(), Some("older adults"));
        let i = read("music for my parents in their 60s");
        assert_eq!((i.year_from, i.year_to), (None, None));
        let i = read("novels written before 1900");
        assert_eq!(i.year_to, Some(1899));
        let i = read("eighties movies over 2 hours");
        assert_eq!(i.year_from, Some(1980));
        assert_eq!(i.min_minutes, Some(120));
        assert_eq!(i.max_minutes, None);
        let i = read("a crime thriller, nothing longer than 100 minutes");
        assert_eq!(i.max_minutes, Some(100));
        assert!(i.exclude.is_empty(), "{i:?}");
        let i = read("a 90-minute movie");
        assert_eq!(i.max_minutes, Some(90));
    }

    #[test]
    fn references_and_follow_ups() {
        let i = read("something like Norah Jones but livelier");
        assert_eq!(i.like, vec!["Norah Jones"]);
        assert!(i.refine.contains(&"more energetic".to_string()));
        let i = read("more like the second one");
        assert_eq!(i.like_picks, vec![2]);
        assert!(i.like.is_empty());
        assert!(i.is_follow_up("more like the second one"));
        let i = read("less sad");
        assert_eq!(i.avoid, vec!["melancholic"]);
        assert!(i.is_follow_up("less sad"));
        let i = read("only books");
        assert_eq!(i.kinds, vec!["book"]);
        assert!(i.is_follow_up("only books"));
        let i = read("I'd like a calm album for a long drive through the mountains");
        assert!(i.like.is_empty(), "{i:?}");
        assert!(!i.is_follow_up("I'd like a calm album for a long drive through the mountains"));
        let i = read("no more than 45 minutes");
        assert!(i.exclude.is_empty());
        assert_eq!(i.max_minutes, Some(45));
    }

    #[test]
    fn refining_keeps_what_was_asked() {
        let first = read("a film for family night, under two hours, no horror");
        let next = refine(&first, &read("shorter"));
        assert_eq!(next.exclude, vec!["horror"]);
        assert_eq!(next.refine, vec!["shorter"]);
        let next = refine(&first, &read("only books"));
        assert_eq!(next.kinds, vec!["book"]);
        assert_eq!(
            next.max_minutes, None,
            "a film's length limit does not bind books"
        );
        assert_eq!(next.exclude, vec!["horror"]);
    }

    #[test]
    fn the_model_cannot_invent_hard_constraints() {
        let rules = read("something for tonight");
        let model = Intent {
            exclude: vec!["jazz".into()],
            max_minutes: Some(10),
            moods: vec!["calm".into()],
            kinds: vec!["book".into()],
            audience: Some("kids".into()),
            ..Intent::default()
        };
        let m = merge(&rules, &model, "something for tonight");
        assert!(m.exclude.is_empty(), "{m:?}");
        assert_eq!(m.avoid, vec!["jazz"]);
        assert_eq!(m.max_minutes, None);
        assert_eq!(m.audience, None);
        assert!(m.moods.contains(&"calm".to_string()));
        assert_eq!(m.kinds, vec!["book"]);
        let m = merge(&read("no jazz please"), &model, "no jazz please");
        assert_eq!(m.exclude, vec!["jazz"]);
        // What the request asks for is never refused.
        let text = "science fiction books, nothing dystopian";
        let model = Intent {
            exclude: vec!["science fiction".into(), "dystopian".into()],
            avoid: vec!["books".into()],
            ..Intent::default()
        };
        let m = merge(&read(text), &model, text);
        assert_eq!(m.exclude, vec!["dystopian"]);
        assert!(m.avoid.is_empty(), "{m:?}");
        assert!(is_thin(&read("something for later")));
        assert!(!is_thin(&read("a calm film")));
    }

    #[test]
    fn positive_text_drops_exclusions() {
        assert_eq!(
            positive_text("A film, no horror, nothing dystopian"),
            "a film"
        );
        assert_eq!(positive_text("calm but less sad"), "calm but");
        let i = read("I don't want anything violent, no horror nothing dystopian");
        assert_eq!(i.exclude, vec!["violent", "horror", "dystopian"]);
    }
}
