//! Reading a request into an [`Intent`]: hard constraints by rules, needs
//! by the vocabulary's cues, the rest as content.
//!
//! Time and occasion words ("this evening", "on Friday", "on the train",
//! "cooking dinner") are needs, never title keywords: they are read into
//! descriptors and taken out of the text that is embedded and searched, so
//! a film is never chosen because its title says "Friday". Only words no
//! descriptor explains are searched as words; only what the request names
//! ("like Norah Jones", "by Dickens") is matched against titles and
//! creators. What the rules cannot read falls back to the embedding (the
//! request's content is still embedded and compared with every item), and
//! with a model, to the model's reading under a grammar
//! (`prompts`), merged so that it can add needs but
//! never invent hard constraints.

use std::sync::LazyLock;

use regex::Regex;

use super::intent::{Audience, Direction, Intent, NeedSource, PickRef};
use crate::context::{Context, DayPart, Holiday, Season};
use crate::cues;
use crate::cues::stop_word;
use crate::shaping::{SHAPING, Shaping};
use crate::vocab::{D, DESCRIPTORS, Facet, KNOWN, Origin, is_quality_word, kind_of_word};
use moodshelf_media::Kind;

/// The numbers reading shapes a request with (the weight of a need by who
/// read it), set by hand in `weights.toml`'s `[shaping]`.
fn shaping() -> &'static Shaping {
    &SHAPING
}

static NUM: &str = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|forty five|forty|fifty|sixty|ninety)";

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
static N_MINUTE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d+) minute\b").unwrap());
static AGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2}) ?(?:year|yr)s? old\b").unwrap());
static THEIR_DECADE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:in (?:their|his|her|my|our) |aged? )(\d)0'?s\b").unwrap());
static DECADE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:(19|20)(\d)0|(\d)0)'?s\b").unwrap());
static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:before|older than|earlier than|pre) ((?:19|20)\d\d)\b").unwrap()
});
static AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:after|since|newer than|later than|post) ((?:19|20)\d\d)\b").unwrap()
});
static FROM_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:from|in|of) ((?:19|20)\d\d)\b").unwrap());
static EXCLUDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(no|not|nothing|without|avoid|skip|never|except|none|anything but|but no)\s+(too\s+|very\s+|overly\s+|so\s+|any\s+|anything\s+|more\s+)?([a-z][a-z']*)(\s+[a-z][a-z']*)?").unwrap()
});
/// Words that ask for what the person has had before.
static AGAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(re[- ]?watch\w*|re[- ]?read\w*|re[- ]?listen\w*|again|(?:old |all-time )?favou?rites?|(?:seen|watched|read) (?:it |them )?before|(?:something|one|anything) (?:i|we) (?:already )?(?:love|loved|know|like)|(?:an? )?old friend)\b").unwrap()
});
/// Words that ask for what the person has not had yet.
static FRESH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(something new|anything new|new to (?:me|us)|(?:i|we) (?:have|haven't|havent|'ve) never (?:seen|heard|read)|(?:i|we) haven'?t (?:seen|heard|read)|(?:never|not yet) (?:seen|heard|read|watched|played))\b").unwrap()
});
/// Words that ask for the next of a series.
static NEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(the next (?:one|book|episode|part|volume|instal?ments?)|next (?:episode|book|volume|part)|continue (?:my |the |with (?:my |the )?)?(?:series|show|book|reading|watching|story)|carry on (?:with )?(?:my |the )?(?:series|show|book|reading|watching)|where (?:i|we) left off|keep (?:reading|watching))\b").unwrap()
});
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z'])(?:more |something |anything )?(?:like|similar to|in the style of|reminds? me of|along the lines of|in the vein of)\s+([^,.;!?]+?)(?:\s+but\b|\s+and\b|\s+for\b|\s+with\b|\s+only\b|[,.;!?]|$)").unwrap()
});
static BY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:by|from)\s+([A-Z][\w'.]*(?:\s+(?:[A-Z][\w'.]*|de|van|von|la|le|of|the))*)")
        .unwrap()
});
static PICK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bthe (first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th|seventh|7th|eighth|8th|ninth|9th|tenth|10th|last)(?: one| pick| item)?\b|\b(?:number|#)\s?(\d{1,2})\b").unwrap()
});
static LESS_MORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(less|more|fewer)\s+([a-z][a-z]*)").unwrap());

/// A request in lower case with its clauses marked, and which bytes of it
/// were already read as something (so that nothing is read twice).
struct Text {
    s: String,
    read: Vec<bool>,
}

impl Text {
    fn new(text: &str) -> Text {
        let s = normalize(text);
        let read = vec![false; s.len()];
        Text { s, read }
    }

    fn mark(&mut self, start: usize, end: usize) {
        for r in &mut self.read[start..end] {
            *r = true;
        }
    }

    fn is_read(&self, start: usize, end: usize) -> bool {
        self.read[start..end].iter().any(|r| *r)
    }

    /// Every word, with its byte range (read or not).
    fn words(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in self
            .s
            .char_indices()
            .chain(std::iter::once((self.s.len(), ' ')))
        {
            let word_char = c.is_alphanumeric() || c == '\'' || c == '.' || c == '#';
            match (word_char, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    out.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    fn word(&self, (s, e): (usize, usize)) -> &str {
        self.s[s..e].trim_end_matches('.')
    }
}

/// Cues of the vocabulary as word lists, longest first, so "fall asleep"
/// is read before "fall" and "fairy tales" before "tales".
static CUES: LazyLock<Vec<(Vec<String>, D)>> = LazyLock::new(|| {
    let mut cues: Vec<(Vec<String>, D)> = D::all()
        .flat_map(|d| {
            d.get().cues.iter().map(move |c| {
                (
                    normalize(c)
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                    d,
                )
            })
        })
        .collect();
    cues.sort_by(|a, b| {
        b.0.len()
            .cmp(&a.0.len())
            .then(b.0.join(" ").len().cmp(&a.0.join(" ").len()))
    });
    cues
});

/// Reads a request with rules only. `ctx` supplies the current year for
/// "recent".
pub fn read_rules(text: &str, ctx: &Context) -> Intent {
    let mut t = Text::new(text);
    let mut intent = Intent::default();
    audience(&mut t, &mut intent);
    lengths(&mut t, &mut intent);
    years(&mut t, &mut intent, ctx);
    next_or_fresh(&mut t, &mut intent);
    exclusions(&mut t, &mut intent);
    again(&mut t, &mut intent);
    directions(&mut t, &mut intent);
    references(&mut t, &mut intent, text);
    let mut content: Vec<(usize, String)> = Vec::new();
    needs(&mut t, &mut intent, &mut content);
    kinds_and_keywords(&mut t, &mut intent, &mut content);
    if intent.audience == Some(Audience::Kids) && !intent.exclude.iter().any(|e| e == "scary") {
        push(&mut intent.avoid, "scary");
    }
    intent.season = intent
        .needs
        .iter()
        .filter(|n| n.from == NeedSource::Words)
        .find_map(|n| Season::parse(&n.descriptor));
    intent.query = content_query(content, &intent);
    intent.names = names(&t, text, &intent);
    intent.vagueness = vagueness(&intent);
    intent.summarize();
    intent
}

fn audience(t: &mut Text, intent: &mut Intent) {
    // First: "parents in their 60s" is not a decade.
    if let Some(c) = THEIR_DECADE.captures(&t.s.clone()) {
        let decade: u32 = c[1].parse().unwrap_or(0);
        if decade >= 5 {
            intent.audience = Some(Audience::OlderAdults);
        }
        let m = c.get(0).expect("whole match");
        t.mark(m.start(), m.end());
    }
    if let Some(c) = AGE.captures(&t.s.clone()) {
        let age: u32 = c[1].parse().unwrap_or(30);
        if age < 13 {
            intent.audience = Some(Audience::Kids);
        } else if age >= 60 {
            intent.audience = Some(Audience::OlderAdults);
        }
        let m = c.get(0).expect("whole match");
        t.mark(m.start(), m.end());
    }
    if intent.audience.is_some() {
        return;
    }
    let words: Vec<String> = t.words().iter().map(|w| t.word(*w).to_string()).collect();
    let has = |list: &[&str]| list.iter().any(|w| words.iter().any(|x| x == w));
    intent.audience = if has(&[
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
        "family",
    ]) {
        Some(Audience::Kids)
    } else if has(&[
        "parents",
        "grandparents",
        "grandma",
        "grandpa",
        "granny",
        "retirees",
        "elderly",
    ]) {
        Some(Audience::OlderAdults)
    } else if has(&[
        "friends", "group", "guests", "crowd", "everyone", "party", "mates",
    ]) {
        Some(Audience::Group)
    } else if has(&["alone", "myself", "solo"]) || t.s.contains("on my own") {
        Some(Audience::Alone)
    } else if has(&[
        "date",
        "partner",
        "wife",
        "husband",
        "girlfriend",
        "boyfriend",
        "couple",
    ]) {
        Some(Audience::Partner)
    } else {
        None
    };
}

fn lengths(t: &mut Text, intent: &mut Intent) {
    let s = t.s.clone();
    if let Some((m, range)) = minutes(&MAX_LEN, &s) {
        intent.max_minutes = Some(m);
        t.mark(range.0, range.1);
    } else if let Some(c) = N_MINUTE.captures(&s) {
        intent.max_minutes = c[1].parse().ok();
        let m = c.get(0).expect("whole match");
        t.mark(m.start(), m.end());
    }
    if let Some((m, range)) = minutes(&MIN_LEN, &s) {
        intent.min_minutes = Some(m);
        t.mark(range.0, range.1);
    }
}

fn years(t: &mut Text, intent: &mut Intent, ctx: &Context) {
    let s = t.s.clone();
    let year_now: i32 = ctx
        .local_time
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2026);
    for c in DECADE.captures_iter(&s) {
        let m = c.get(0).expect("whole match");
        if t.is_read(m.start(), m.end()) {
            continue;
        }
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
            t.mark(m.start(), m.end());
        }
    }
    for (i, j) in t.words() {
        if let Some(start) = cues::decade(&s[i..j]) {
            intent.year_from = Some(start);
            intent.year_to = Some(start + 9);
            t.mark(i, j);
        }
    }
    if let Some(c) = BEFORE.captures(&s) {
        intent.year_to = c[1].parse::<i32>().ok().map(|y| y - 1);
        let m = c.get(0).expect("whole match");
        t.mark(m.start(), m.end());
    }
    if let Some(c) = AFTER.captures(&s) {
        intent.year_from = c[1]
            .parse::<i32>()
            .ok()
            .map(|y| if c[0].starts_with("since") { y } else { y + 1 });
        let m = c.get(0).expect("whole match");
        t.mark(m.start(), m.end());
    }
    if intent.year_from.is_none()
        && intent.year_to.is_none()
        && let Some(c) = FROM_YEAR.captures(&s)
    {
        let y = c[1].parse::<i32>().ok();
        intent.year_from = y;
        intent.year_to = y;
        let m = c.get(0).expect("whole match");
        t.mark(m.start(), m.end());
    }
    for (i, j) in t.words() {
        if intent.year_from.is_none() && ["recent", "latest", "newest"].contains(&&s[i..j]) {
            intent.year_from = Some(year_now - 5);
            t.mark(i, j);
        }
    }
}

fn exclusions(t: &mut Text, intent: &mut Intent) {
    let s = t.s.clone();
    for c in EXCLUDE.captures_iter(&s) {
        let whole = c.get(0).expect("whole match");
        let word = c[3].to_string();
        if t.is_read(whole.start(), whole.end())
            || cues::not_exclusion(&word)
            || cues::media_noun(&word)
        {
            continue;
        }
        let soft = c
            .get(2)
            .is_some_and(|m| !m.as_str().trim().starts_with("any"));
        let mut term = word.clone();
        let mut end = c.get(3).expect("word").end();
        if let Some(second) = c.get(4)
            && !cues::media_noun(second.as_str().trim())
            && !stop_word(second.as_str().trim())
            && cue_of(&word).is_none()
        {
            term = format!("{word} {}", second.as_str().trim());
            end = second.end();
        }
        t.mark(whole.start(), end);
        if soft {
            // "not too sad" avoids the quality, named as the vocabulary
            // names it.
            let canonical = cue_of(&term).map_or(term.clone(), |d| d.name().to_string());
            push(&mut intent.avoid, &canonical);
        } else {
            push(&mut intent.exclude, &term);
        }
    }
}

/// "A comfort rewatch", "one of my favourites": the person wants what
/// they have had before.
fn again(t: &mut Text, intent: &mut Intent) {
    let s = t.s.clone();
    for m in AGAIN.find_iter(&s) {
        if !t.is_read(m.start(), m.end()) {
            t.mark(m.start(), m.end());
            intent.again = true;
        }
    }
}

/// "The next one", "continue my series"; "something new".
fn next_or_fresh(t: &mut Text, intent: &mut Intent) {
    let s = t.s.clone();
    for (re, flag) in [(&*NEXT, &mut intent.next), (&*FRESH, &mut intent.fresh)] {
        for m in re.find_iter(&s) {
            if !t.is_read(m.start(), m.end()) {
                t.mark(m.start(), m.end());
                *flag = true;
            }
        }
    }
}

fn directions(t: &mut Text, intent: &mut Intent) {
    let s = t.s.clone();
    for c in LESS_MORE.captures_iter(&s) {
        let whole = c.get(0).expect("whole match");
        let what = &c[2];
        if ["like", "than", "of", "the", "a", "an", "and"].contains(&what)
            || t.is_read(whole.start(), whole.end())
        {
            continue;
        }
        let canonical = cue_of(what).map_or(what.to_string(), |d| d.name().to_string());
        t.mark(whole.start(), whole.end());
        if &c[1] == "more" {
            if let Some(d) = D::find(&canonical) {
                intent.add_need(d, shaping().need_from_words, NeedSource::Words);
            }
            intent.refine.push(Direction::More(canonical));
        } else {
            push(&mut intent.avoid, &canonical);
            intent.refine.push(Direction::Less(canonical));
        }
    }
    for (i, j) in t.words() {
        let w = &s[i..j];
        if let Some(r) = cues::comparative(w) {
            let d = Direction::parse(r);
            match &d {
                Direction::More(q) => {
                    if let Some(x) = D::find(q) {
                        intent.add_need(x, shaping().need_from_words, NeedSource::Words);
                    }
                }
                Direction::Less(q) => push(&mut intent.avoid, q),
                _ => {}
            }
            if !intent.refine.contains(&d) {
                intent.refine.push(d);
            }
            t.mark(i, j);
        }
    }
}

fn references(t: &mut Text, intent: &mut Intent, original: &str) {
    for c in REFERENCE.captures_iter(original) {
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
        let before = original[..c.get(0).map_or(0, |m| m.start())].to_lowercase();
        let before = before.trim_end();
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
        let norm = normalize(target);
        if let Some(i) = t.s.find(&norm) {
            t.mark(i, i + norm.len());
        }
        push(&mut intent.like, target);
    }
    let s = t.s.clone();
    let referential = s.contains("like") || s.contains("similar") || s.contains("more of");
    for c in PICK.captures_iter(&s) {
        let pick = match (c.get(1), c.get(2)) {
            (Some(w), _) if w.as_str() == "last" => Some(PickRef::Last),
            (Some(w), _) => cues::ordinal(w.as_str()).map(PickRef::Nth),
            (_, Some(d)) => d.as_str().parse().ok().map(PickRef::Nth),
            _ => None,
        };
        if let Some(p) = pick.filter(|_| referential) {
            if !intent.like_picks.contains(&p) {
                intent.like_picks.push(p);
            }
            let m = c.get(0).expect("whole match");
            t.mark(m.start(), m.end());
        }
    }
}

/// The vocabulary's cues, longest first, each read once.
/// `content` collects the words of cues that describe items (not
/// occasions or times), with their positions, for the embedded query.
fn needs(t: &mut Text, intent: &mut Intent, content: &mut Vec<(usize, String)>) {
    let words = t.words();
    let tokens: Vec<&str> = words.iter().map(|w| t.word(*w)).collect();
    let mut taken = vec![false; words.len()];
    let mut found: Vec<(usize, D)> = Vec::new();
    for (cue, d) in CUES.iter() {
        let n = cue.len();
        if n == 0 || n > tokens.len() {
            continue;
        }
        for start in 0..=tokens.len() - n {
            let fits = (0..n).all(|k| {
                let (tok, c) = (tokens[start + k], cue[k].as_str());
                !taken[start + k]
                    && (tok == c || (k == n - 1 && c.len() > 3 && tok.strip_suffix('s') == Some(c)))
            });
            if fits && !t.is_read(words[start].0, words[start + n - 1].1) {
                for k in 0..n {
                    taken[start + k] = true;
                }
                found.push((start, *d));
                if !matches!(d.get().facet, Facet::Occasion | Facet::Time) {
                    content.push((
                        words[start].0,
                        t.s[words[start].0..words[start + n - 1].1].to_string(),
                    ));
                }
            }
        }
    }
    found.sort_by_key(|(pos, _)| *pos);
    for (_, d) in &found {
        let weight = if d.get().facet == Facet::Time {
            shaping().need_from_time_words
        } else {
            shaping().need_from_words
        };
        intent.add_need(*d, weight, NeedSource::Words);
    }
    for (_, d) in found {
        for (x, w) in crate::vocab::implied(d) {
            if !intent.asks_for(x) {
                intent.add_need(x, w, NeedSource::Implied);
            }
        }
    }
    for (k, w) in words.iter().enumerate() {
        if taken[k] {
            t.mark(w.0, w.1);
        }
    }
}

fn kinds_and_keywords(t: &mut Text, intent: &mut Intent, content: &mut Vec<(usize, String)>) {
    let kind_of = kind_of_word;
    // A kind word inside a cue ("a love story", "a ghost story") names a
    // kind only when no other word does ("a love story to watch" is a film).
    let words = t.words();
    let free: Vec<Kind> = words
        .iter()
        .filter(|w| !t.is_read(w.0, w.1))
        .filter_map(|w| kind_of(t.word(*w)))
        .collect();
    for (i, j) in words {
        let w = t.word((i, j)).to_string();
        // "Continue my series" is any series: a book's or a show's.
        if intent.next && w == "series" && t.is_read(i, j) {
            continue;
        }
        if let Some(kind) = kind_of(&w) {
            if (free.is_empty() || free.contains(&kind)) && !intent.kinds.contains(&kind) {
                intent.kinds.push(kind);
            }
            t.mark(i, j);
            continue;
        }
        if t.is_read(i, j) {
            continue;
        }
        // Praise says nothing of what is wanted, and an origin is matched
        // against what items say of themselves: neither is a word to find
        // in titles ("a great film", "a French novel").
        if is_quality_word(&w) {
            t.mark(i, j);
            continue;
        }
        if let Some(o) = Origin::of(&w) {
            push(&mut intent.origins, o.name());
            // Content to embed (retrieval measures a title that holds it
            // without the title), never a keyword.
            content.push((i, w.clone()));
            t.mark(i, j);
            continue;
        }
        if w.chars().count() > 2
            && !stop_word(&w)
            && !w.chars().all(|c| c.is_ascii_digit())
            && cues::number_word(&w).is_none()
        {
            push(&mut intent.keywords, &w);
            content.push((i, w.clone()));
        }
    }
    // "a poem" or "a play" names the form and the kind; so does
    // "something animated".
    let forms = [
        (KNOWN.poetry, Kind::Book),
        (KNOWN.plays, Kind::Book),
        (KNOWN.short_stories, Kind::Book),
        (KNOWN.animation, Kind::Video),
    ];
    for (form, kind) in forms {
        if intent.kinds.is_empty() && intent.asks_for(form) {
            intent.kinds.push(kind);
        }
    }
    // The kind is what can satisfy the request: a running time of an hour
    // or more is a film's (no track runs that long, and books have none).
    if intent.kinds.is_empty()
        && [intent.max_minutes, intent.min_minutes]
            .iter()
            .any(|m| m.is_some_and(|m| m >= 60))
    {
        intent.kinds.push(Kind::Video);
    }
}

/// The content of a request, to embed: its own words for what it asks of
/// items (moods, themes, forms, seasons, audiences) and the words no
/// descriptor explains, in their order, with a noun for the kind.
/// Occasion and time words are left out: they say when and why, not what.
fn content_query(mut content: Vec<(usize, String)>, intent: &Intent) -> String {
    if content.is_empty() {
        return String::new();
    }
    content.sort_by_key(|(pos, _)| *pos);
    content.dedup_by(|a, b| a.0 == b.0);
    let mut words: Vec<String> = content.into_iter().map(|(_, w)| w).collect();
    if let [kind] = intent.kinds.as_slice() {
        words.push(
            match kind {
                Kind::Music => "music",
                Kind::Book => "book",
                Kind::Video => "film",
            }
            .to_string(),
        );
    }
    words.join(" ")
}

/// 1 when the request says nothing about what it wants beyond a kind and a
/// time; less the more it says.
fn vagueness(i: &Intent) -> f32 {
    let explicit = i
        .needs
        .iter()
        .filter(|n| n.from != NeedSource::Earlier && n.from != NeedSource::Implied)
        .filter_map(|n| n.d())
        .filter(|d| d.get().facet != Facet::Time)
        .count()
        + i.keywords.len()
        + i.origins.len()
        + i.like.len()
        + i.like_picks.len();
    match explicit {
        0 => 1.0,
        1 => 0.4,
        _ => 0.2,
    }
}

/// The needs the moment suggests when the request leaves room: the season
/// (hemisphere aware), holidays near the date, the time of day and the
/// weekend. Whatever facet the request names itself, the moment leaves
/// alone: "a summer read" in December is a summer read.
pub fn moment_needs(ctx: &Context, intent: &Intent) -> Vec<(D, f32)> {
    let mut out: Vec<(D, f32)> = Vec::new();
    let mut add = |name: &str, w: f32| {
        let d = D::named(name);
        match out.iter_mut().find(|(x, _)| *x == d) {
            Some((_, v)) => *v = v.max(w),
            None => out.push((d, w)),
        }
    };
    let seasonal = intent.names_facet(Facet::Season) || intent.names_facet(Facet::Holiday);
    if !seasonal {
        for (name, w) in cues::season_needs(ctx.season) {
            add(name, *w);
        }
        for &h in &ctx.holidays {
            for (name, w) in cues::holiday_needs(h) {
                add(name, *w);
            }
            // A northern Christmas adds winter (a southern one falls in summer).
            if h == Holiday::Christmas && ctx.season == Season::Winter {
                for (name, w) in &cues::CUES.moment.christmas_in_winter {
                    add(name, *w);
                }
            }
        }
    }
    // Time words in the request are the moment it is for: "this evening"
    // on a Monday morning is an evening.
    let said = |d: D| intent.asks_for(d);
    let k = &*KNOWN;
    let day_part = if said(k.night) {
        DayPart::Night
    } else if said(k.evening) {
        DayPart::Evening
    } else if said(k.afternoon) {
        DayPart::Afternoon
    } else if said(k.morning) {
        DayPart::Morning
    } else {
        ctx.day_part
    };
    let weekend = ctx.weekend || said(k.weekend);
    for (name, w) in cues::day_part_needs(day_part) {
        add(name, *w);
    }
    let weekend_evening = (matches!(ctx.weekday.as_str(), "Friday" | "Saturday")
        || said(k.weekend))
        && matches!(day_part, DayPart::Evening | DayPart::Night);
    if weekend || weekend_evening {
        for (name, w) in &cues::CUES.moment.weekend {
            add(name, *w);
        }
    }
    if weekend_evening {
        for (name, w) in &cues::CUES.moment.weekend_evening {
            add(name, *w);
        }
    }
    out
}

/// What the model read, added to the rules' reading. The rules' reading
/// stands: the model adds needs (weighted below the request's own words)
/// and soft dislikes, but a hard constraint (an exclusion, a kind, an
/// audience) only where the request's own words support it, so a confused
/// model cannot hide half the library.
pub fn merge(rules: &Intent, model: &ModelReading, text: &str) -> Intent {
    let lower = normalize(text);
    let positive = positive_text(text);
    let mut out = rules.clone();
    for name in model.needs.iter().take(4) {
        if let Some(d) = D::find(name)
            && !out.asks_for(d)
            && !out.avoid.iter().chain(&out.exclude).any(|x| x == d.name())
        {
            out.add_need(d, shaping().need_from_model, NeedSource::Model);
        }
    }
    for e in &model.exclude {
        if positive.contains(e.as_str()) {
            continue;
        }
        if lower.contains(e.as_str()) {
            push(&mut out.exclude, e);
        } else {
            push(&mut out.avoid, e);
        }
    }
    if out.kinds.is_empty() && model.kinds.len() < 3 {
        out.kinds = model.kinds.clone();
    }
    let mentions_people = [
        "my ", "our ", "with ", "for the ", "friends", "family", "guests",
    ]
    .iter()
    .any(|w| lower.contains(w));
    if mentions_people && out.audience.is_none() {
        out.audience = model.audience;
    }
    out.vagueness = vagueness(&out);
    out.summarize();
    out
}

/// The model's reading of a request, as its grammar allows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelReading {
    pub kinds: Vec<Kind>,
    pub needs: Vec<String>,
    pub audience: Option<Audience>,
    pub exclude: Vec<String>,
}

/// Needs the embedding suggests when the words suggest none: the request's
/// content is compared with every descriptor's prototype, and the few that
/// stand out (by `cosines`, one per descriptor) are added, lightly.
pub fn embedding_needs(intent: &mut Intent, cosines: &[f32]) {
    let explicit = intent
        .needs
        .iter()
        .filter_map(|n| n.d())
        .any(|d| d.get().facet != Facet::Time);
    if explicit || intent.query.is_empty() || cosines.len() != DESCRIPTORS.len() {
        return;
    }
    let n = cosines.len() as f32;
    let mean = cosines.iter().sum::<f32>() / n;
    let sd = (cosines.iter().map(|c| (c - mean).powi(2)).sum::<f32>() / n)
        .sqrt()
        .max(1e-3);
    let mut ranked: Vec<(D, f32)> = D::all()
        .map(|d| (d, (cosines[d.index()] - mean) / sd))
        .filter(|(d, z)| *z > 2.0 && !matches!(d.get().facet, Facet::Time))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (d, _) in ranked.into_iter().take(2) {
        intent.add_need(d, shaping().need_from_embedding, NeedSource::Embedding);
    }
    intent.summarize();
}

/// Applies a follow-up to the intent of the answer it refines.
pub fn refine(prev: &Intent, delta: &Intent) -> Intent {
    let mut out = prev.clone();
    for n in &mut out.needs {
        if n.from == NeedSource::Words {
            n.from = NeedSource::Earlier;
            n.weight = n.weight.min(shaping().need_from_earlier);
        }
    }
    if !delta.kinds.is_empty() && delta.kinds != prev.kinds {
        // Another kind of thing: lengths and references were about the
        // old kind ("only books" after films under two hours).
        out.kinds = delta.kinds.clone();
        out.max_minutes = None;
        out.min_minutes = None;
        out.like.clear();
    }
    for n in &delta.needs {
        if let Some(d) = n.d() {
            // "Livelier" after "calm": the two ends of one scale do not
            // stand together; the newer word wins.
            if let Some(other) = cues::opposite(d.name()) {
                out.needs.retain(|m| m.descriptor != other);
            }
            out.add_need(d, n.weight, n.from);
        }
    }
    for a in &delta.avoid {
        push(&mut out.avoid, a);
    }
    out.needs.retain(|n| !delta.avoid.contains(&n.descriptor));
    out.avoid
        .retain(|a| !delta.needs.iter().any(|n| &n.descriptor == a));
    for e in &delta.exclude {
        push(&mut out.exclude, e);
    }
    macro_rules! take {
        ($($f:ident),*) => { $( if delta.$f.is_some() { out.$f = delta.$f.clone(); } )* };
    }
    take!(
        audience,
        season,
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
    for o in &delta.origins {
        push(&mut out.origins, o);
    }
    // What was named stays first while the follow-up narrows the same ask
    // ("only films", "shorter"), not when it points elsewhere ("more like
    // the second one", "something else").
    if !delta.like.is_empty()
        || !delta.like_picks.is_empty()
        || delta.refine.contains(&Direction::Different)
    {
        out.names.clear();
    }
    for n in &delta.names {
        push(&mut out.names, n);
    }
    out.occasion = None;
    out.again |= delta.again;
    out.fresh |= delta.fresh;
    out.next |= delta.next;
    out.vagueness = prev.vagueness.min(vagueness(&out));
    out.summarize();
    out
}

/// The descriptor a word or phrase names, if it is one of the vocabulary's
/// cues.
pub fn cue_of(phrase: &str) -> Option<D> {
    let words: Vec<String> = normalize(phrase)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    CUES.iter()
        .find(|(cue, _)| {
            *cue == words
                || (cue.len() == words.len()
                    && words.last().and_then(|w| w.strip_suffix('s'))
                        == cue.last().map(String::as_str)
                    && cue[..cue.len() - 1] == words[..words.len() - 1])
        })
        .map(|(_, d)| *d)
}

/// The request with its exclusions taken out, so that "no horror" does not
/// pull horror closer in embedding space (and a dislike is remembered for
/// what was wanted).
pub fn positive_text(text: &str) -> String {
    let lower = normalize(text);
    let mut out = lower.clone();
    for c in EXCLUDE.captures_iter(&lower) {
        if !cues::not_exclusion(&c[3]) {
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

static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""([^"]+)"|“([^”]+)”|(?:^|[\s(])['‘]([^'‘’]+)['’](?:$|[\s,.;:!?)])"#).unwrap()
});

/// A title or a name as names are compared: lower case, "&" as "and",
/// apostrophes dropped, punctuation as spaces, and no leading article
/// ("The Matrix", "Matrix, The" and "the matrix" are one key).
pub fn name_key(s: &str) -> String {
    let lower = s
        .to_lowercase()
        .replace('&', " and ")
        .replace(['\'', '\u{2019}', '\u{2018}'], "");
    let lower = lower.trim();
    let lower = [", the", ", a", ", an"]
        .iter()
        .find_map(|a| lower.strip_suffix(a))
        .unwrap_or(lower);
    let mut words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() > 1 && ["the", "a", "an"].contains(&words[0]) {
        words.remove(0);
    }
    words.join(" ")
}

/// Whether a title is one of the phrases the request names, whole: with
/// or without what it adds in brackets ("Heat (1995)", "Amélie (Le
/// fabuleux destin…)").
pub fn names_title(title: &str, names: &[String]) -> bool {
    if names.is_empty() {
        return false;
    }
    let bare = BRACKETS.replace_all(title, " ");
    [name_key(title), name_key(&bare)]
        .iter()
        .any(|k| !k.is_empty() && names.contains(k))
}

static NAME_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{L}\p{N}][\p{L}\p{N}'\u{2019}&-]*").unwrap());

static BRACKETS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\([^)]*\)|\[[^\]]*\]").unwrap());

/// Whether a creator, or one of several ("Simon & Garfunkel" is one,
/// "Austen, Jane" another way to write one), is a phrase the request
/// names, whole.
pub fn names_creator(creator: &str, names: &[String]) -> bool {
    if names.is_empty() {
        return false;
    }
    let mut forms = vec![creator.to_string()];
    forms.extend(
        creator
            .split([';', '/', ','])
            .flat_map(|p| p.split(" & "))
            .flat_map(|p| p.split(" and "))
            .map(str::to_string),
    );
    if let [last, first] = creator.split(',').collect::<Vec<_>>()[..] {
        forms.push(format!("{first} {last}"));
    }
    forms
        .iter()
        .map(|f| name_key(f))
        .any(|k| !k.is_empty() && names.contains(&k))
}

/// Phrases of the request that may name a title or a creator: what it
/// quotes, what it writes with capitals mid-sentence ("a Jane Austen
/// novel"), and runs of words no rule read that hold a content word
/// ("pride and prejudice"). A word that means something (a mood, a kind,
/// praise, a nationality, a day) is never a name by itself, so "a calm
/// French film" names nothing, whatever the library's titles say.
fn names(t: &Text, original: &str, intent: &Intent) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in QUOTED.captures_iter(original) {
        if let Some(m) = c.iter().skip(1).flatten().next() {
            out.push(name_key(m.as_str()));
        }
    }
    out.extend(capitalized_runs(original));
    out.extend(free_runs(t, intent));
    // What is excluded or only resembled is no name to put first.
    let not_named: Vec<String> = intent
        .like
        .iter()
        .chain(&intent.exclude)
        .chain(&intent.avoid)
        .map(|x| name_key(x))
        .collect();
    out.retain(|n| {
        n.chars().filter(|c| c.is_alphanumeric()).count() >= 3
            && !not_named.iter().any(|x| x.contains(n.as_str()))
    });
    let mut seen = std::collections::HashSet::new();
    out.retain(|n| seen.insert(n.clone()));
    out
}

/// Runs of words written with a capital, joined by the small words
/// titles hold, as name keys. A sentence's first word is capitalised
/// anyway: a run that is only that word is no name unless it is the whole
/// request ("Jaws"), and a run that opens with the request's own words
/// ("Play", "Watch", "A") is also tried without them.
fn capitalized_runs(original: &str) -> Vec<String> {
    // Each word, whether it starts a sentence, and whether punctuation
    // parts it from the word before.
    let mut tokens: Vec<(&str, bool, bool)> = Vec::new();
    let mut prev = 0;
    for m in NAME_WORD.find_iter(original) {
        let gap = &original[prev..m.start()];
        let starts = tokens.is_empty() || gap.contains(['.', '!', '?', '\n']);
        let parted = starts || gap.contains([',', ';', '"', '(', ')', '\u{201c}', '\u{201d}']);
        tokens.push((m.as_str(), starts, parted));
        prev = m.end();
    }
    let capital = |w: &str| {
        w.chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
    };
    let mut out = Vec::new();
    let mut k = 0;
    while k < tokens.len() {
        if !capital(tokens[k].0) {
            k += 1;
            continue;
        }
        let mut end = k + 1;
        let mut last = k + 1;
        while end < tokens.len() && !tokens[end].2 {
            let w = tokens[end].0;
            if capital(w) {
                last = end + 1;
            } else if !cues::name_joiner(&w.to_lowercase()) {
                break;
            }
            end += 1;
        }
        let run: Vec<&str> = tokens[k..last].iter().map(|t| t.0).collect();
        let lone_first = tokens[k].1 && run.len() == 1 && tokens.len() > 1;
        let lowered: Vec<String> = run.iter().map(|w| w.to_lowercase()).collect();
        let named_something = lowered
            .iter()
            .any(|w| !cues::always_capitalized(w) && !stop_word(w) && Origin::of(w).is_none())
            && run
                .iter()
                .any(|w| w.chars().next().is_some_and(char::is_uppercase));
        let lone_meaning = run.len() == 1 && meaning_word(&lowered[0]);
        if !lone_first && named_something && !lone_meaning {
            out.push(name_key(&run.join(" ")));
            // A sentence's first words may be the request's own ("Play
            // Norah Jones", "A Jane Austen novel"); the name may also be
            // what follows them.
            if tokens[k].1 {
                let own = lowered.iter().take_while(|w| request_word(w)).count();
                if own > 0 && own < run.len() {
                    out.push(name_key(&run[own..].join(" ")));
                }
            }
        }
        k = last.max(k + 1);
    }
    out
}

/// A word that belongs to the request rather than to a name it gives.
fn request_word(w: &str) -> bool {
    stop_word(w) || kind_of_word(w).is_some()
}

/// A word the rules read as what it means: a cue, a kind, praise, an
/// origin, a day or a holiday.
fn meaning_word(w: &str) -> bool {
    cue_of(w).is_some()
        || kind_of_word(w).is_some()
        || is_quality_word(w)
        || Origin::of(w).is_some()
        || cues::always_capitalized(w)
}

/// Runs of two or more words that no rule read, unbroken by punctuation,
/// holding at least one content word: "i want pride and prejudice
/// tonight" gives "pride and prejudice".
fn free_runs(t: &Text, intent: &Intent) -> Vec<String> {
    let words = t.words();
    let mut out = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, out: &mut Vec<String>| {
        let edge = |w: &&str| stop_word(w) || cues::number_word(w).is_some();
        while run.first().is_some_and(edge) {
            run.remove(0);
        }
        while run.last().is_some_and(edge) {
            run.pop();
        }
        if run.len() >= 2 && run.iter().any(|w| intent.keywords.iter().any(|k| k == w)) {
            out.push(name_key(&run.join(" ")));
        }
        run.clear();
    };
    for (k, &(i, j)) in words.iter().enumerate() {
        let broken = k > 0 && t.s[words[k - 1].1..i].contains(',');
        if broken || t.is_read(i, j) {
            flush(&mut run, &mut out);
        }
        if !t.is_read(i, j) {
            run.push(t.word((i, j)));
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Names the request asks for by: "by Dickens", "from Pink Floyd". Read
/// from the original text, where names keep their capitals.
pub fn creators_named(text: &str) -> Vec<String> {
    BY.captures_iter(text)
        .map(|c| c[1].trim().to_string())
        .filter(|n| n.chars().filter(|c| c.is_alphabetic()).count() >= 3)
        .collect()
}

fn minutes(re: &Regex, text: &str) -> Option<(u32, (usize, usize))> {
    let c = re.captures(text)?;
    let whole = c.get(0)?;
    let range = (whole.start(), whole.end());
    if c.get(1).is_some() {
        return Some((30, range));
    }
    if c.get(2).is_some() {
        return Some((90, range));
    }
    let n = c.get(3)?.as_str();
    let n: f64 = n.parse().ok().or_else(|| cues::number_word(n))?;
    let unit = c.get(4)?.as_str();
    let mins = if unit.starts_with('h') { n * 60.0 } else { n };
    Some((mins.round() as u32, range))
}

/// Lowercase words, hyphens read as spaces ("feel-good" is "feel good"),
/// clause punctuation kept as "," tokens, and a "," put before every
/// negation, so that "no horror nothing dystopian" reads as two
/// exclusions.
pub(crate) fn normalize(text: &str) -> String {
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
            c if c.is_alphanumeric() || c == '\'' || c == '.' || c == '#' => c,
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
        if cues::CUES.negations.iter().any(|n| n == w) && out.last().is_some_and(|l| *l != ",") {
            out.push(",");
        }
        out.push(w);
    }
    out.join(" ")
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

    /// The needs the request's own words name.
    fn needs(i: &Intent) -> Vec<&str> {
        i.needs
            .iter()
            .filter(|n| n.from == NeedSource::Words)
            .map(|n| n.descriptor.as_str())
            .collect()
    }

    #[test]
    fn family_film_with_limits_and_exclusions() {
        let i = read("A film for family night with an 8-year-old, under two hours, no horror");
        assert_eq!(i.kinds, vec![Kind::Video]);
        assert_eq!(i.audience, Some(Audience::Kids));
        assert_eq!(i.max_minutes, Some(120));
        assert_eq!(i.exclude, vec!["horror"]);
        assert_eq!(i.occasion.as_deref(), Some("family"));
        assert!(i.keywords.is_empty(), "{:?}", i.keywords);
    }

    #[test]
    fn moods_seasons_and_soft_dislikes() {
        let i = read("cozy music for a rainy winter evening, not too loud");
        assert_eq!(i.kinds, vec![Kind::Music]);
        assert_eq!(needs(&i), vec!["cozy", "rainy", "winter", "evening"]);
        assert_eq!(i.season, Some(Season::Winter));
        assert_eq!(i.avoid, vec!["energetic"]);
        assert!(i.exclude.is_empty());
        assert_eq!(i.energy, Some(super::super::intent::Energy::Low));
        assert_eq!(
            i.query, "cozy winter music",
            "occasion and time words are not content"
        );
        let i = read("a book for the beach house, nothing too heavy, nothing dystopian");
        assert_eq!(i.kinds, vec![Kind::Book]);
        assert_eq!(i.avoid, vec!["serious"]);
        assert_eq!(i.exclude, vec!["dystopian"]);
        assert_eq!(i.occasion.as_deref(), Some("beach"));
    }

    #[test]
    fn asking_for_something_again_is_read_and_is_no_content() {
        for t in [
            "a comfort rewatch for tonight",
            "a book to re-read this winter",
            "one of my old favourites",
            "a film I've seen before",
            "play it again",
        ] {
            let i = read(t);
            assert!(i.again, "{t}");
            for w in ["rewatch", "re-read", "favourites", "before", "again"] {
                assert!(!i.query.contains(w), "{t}: {:?}", i.query);
                assert!(!i.keywords.iter().any(|k| k == w), "{t}: {:?}", i.keywords);
            }
        }
        for t in [
            "a film for tonight",
            "something new to read",
            "a book about reading",
        ] {
            assert!(!read(t).again, "{t}");
        }
    }

    #[test]
    fn next_of_a_series_and_something_new_are_read_and_are_no_content() {
        for t in [
            "the next one",
            "continue my series",
            "the next episode",
            "pick up where I left off",
            "the next book please",
        ] {
            let i = read(t);
            assert!(i.next && !i.fresh, "{t}");
            assert!(
                i.query.is_empty() || !i.query.contains("next"),
                "{t}: {:?}",
                i.query
            );
        }
        for t in [
            "something new to read",
            "music I have never heard",
            "a film I haven't seen",
        ] {
            let i = read(t);
            assert!(i.fresh && !i.next && !i.again, "{t}");
        }
        assert!(
            read("continue my series").kinds.is_empty(),
            "a book's or a show's"
        );
        assert_eq!(read("the next episode").kinds, vec![Kind::Video]);
        assert!(read("something I love for tonight").again);
        assert!(!read("a film about a new series of murders").next);
    }

    /// Issue 9: time and occasion words are needs, never title keywords.
    #[test]
    fn time_and_occasion_words_are_needs_not_keywords() {
        for (text, need) in [
            ("something to watch this evening", "evening"),
            ("a film to watch with friends on Friday", "weekend"),
            ("music for cooking dinner", "dinner"),
            ("a book to read on the train", "commute"),
            ("a ghost story for a long night", "night"),
            ("music for a Monday morning", "morning"),
        ] {
            let i = read(text);
            assert!(i.keywords.is_empty(), "{text}: keywords {:?}", i.keywords);
            assert!(needs(&i).contains(&need), "{text}: {:?}", needs(&i));
            for w in [
                "evening", "friday", "dinner", "train", "night", "morning", "cooking",
            ] {
                assert!(
                    !i.query.contains(w),
                    "{text}: {w} is in the query {:?}",
                    i.query
                );
            }
        }
        let i = read("something to watch this evening");
        assert_eq!(i.vagueness, 1.0, "a time is not a want");
        assert_eq!(i.query, "");
        let i = read("a ghost story for a long night");
        assert!(needs(&i).contains(&"supernatural"));
        assert!(i.vagueness < 1.0);
    }

    #[test]
    fn longest_cues_win_and_kinds_are_read() {
        let i = read("music to fall asleep to");
        assert_eq!(needs(&i), vec!["sleep"], "not autumn");
        let i = read("fairy tales");
        assert_eq!(needs(&i), vec!["fantasy"]);
        let i = read("a feel-good movie");
        assert_eq!(needs(&i), vec!["uplifting"]);
        let i = read("a book of poems");
        assert_eq!(i.kinds, vec![Kind::Book]);
        let i = read("something about the Vietnam war");
        assert_eq!(i.keywords, vec!["vietnam"]);
        assert!(needs(&i).contains(&"war"));
    }

    #[test]
    fn years_and_audiences_are_not_confused() {
        let i = read("films from the 90s my parents in their 60s would enjoy");
        assert_eq!((i.year_from, i.year_to), (Some(1990), Some(1999)));
        assert_eq!(i.audience, Some(Audience::OlderAdults));
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
        assert!(i.refine.contains(&Direction::More("energetic".into())));
        let i = read("more like the second one");
        assert_eq!(i.like_picks, vec![PickRef::Nth(2)]);
        assert!(i.like.is_empty());
        assert!(i.is_follow_up("more like the second one"));
        let i = read("more like the last one");
        assert_eq!(i.like_picks, vec![PickRef::Last]);
        let i = read("less sad");
        assert_eq!(i.avoid, vec!["melancholic"]);
        assert!(i.is_follow_up("less sad"));
        let i = read("only books");
        assert_eq!(i.kinds, vec![Kind::Book]);
        assert!(i.is_follow_up("only books"));
        let i = read("I'd like a calm album for a long drive through the mountains");
        assert!(i.like.is_empty(), "{i:?}");
        let i = read("no more than 45 minutes");
        assert!(i.exclude.is_empty());
        assert_eq!(i.max_minutes, Some(45));
        assert_eq!(
            creators_named("a novel by Charles Dickens, please"),
            vec!["Charles Dickens"]
        );
        assert!(creators_named("music by the fire").is_empty());
    }

    #[test]
    fn refining_keeps_what_was_asked() {
        let first = read("a film for family night, under two hours, no horror");
        let next = refine(&first, &read("shorter"));
        assert_eq!(next.exclude, vec!["horror"]);
        assert_eq!(next.refine, vec![Direction::Shorter]);
        assert!(
            next.needs
                .iter()
                .any(|n| n.descriptor == "family" && n.from == NeedSource::Earlier)
        );
        let next = refine(&first, &read("only books"));
        assert_eq!(next.kinds, vec![Kind::Book]);
        assert_eq!(
            next.max_minutes, None,
            "a film's length limit does not bind books"
        );
        assert_eq!(next.exclude, vec!["horror"]);
        let dark = read("a dark thriller");
        let lighter = refine(&dark, &read("less dark"));
        assert!(!lighter.asks_for(D::named("dark")), "{:?}", lighter.needs);
        assert!(lighter.avoid.contains(&"dark".to_string()));
        let calm = read("calm quiet music");
        let livelier = refine(&calm, &read("livelier"));
        assert!(
            livelier.asks_for(D::named("energetic")),
            "{:?}",
            livelier.needs
        );
        assert!(
            !livelier.asks_for(D::named("calm")),
            "one end of a scale at a time"
        );
        let named = read("Pride and Prejudice");
        assert_eq!(
            refine(&named, &read("only films")).names,
            vec!["pride and prejudice"]
        );
        assert!(
            refine(&named, &read("more like the second one"))
                .names
                .is_empty()
        );
        assert!(refine(&named, &read("something else")).names.is_empty());
        assert_eq!(read("faster").refine, vec![Direction::Faster]);
        assert_eq!(read("a bit slower please").refine, vec![Direction::Slower]);
    }

    #[test]
    fn the_model_cannot_invent_hard_constraints() {
        let rules = read("something for tonight");
        let model = ModelReading {
            exclude: vec!["jazz".into()],
            needs: vec!["calm".into(), "not-a-descriptor".into()],
            kinds: vec![Kind::Book],
            audience: Some(Audience::Kids),
        };
        let m = merge(&rules, &model, "something for tonight");
        assert!(m.exclude.is_empty(), "{m:?}");
        assert_eq!(m.avoid, vec!["jazz"]);
        assert_eq!(m.audience, None);
        assert!(m.asks_for(D::named("calm")));
        assert_eq!(m.kinds, vec![Kind::Book]);
        let m = merge(&read("no jazz please"), &model, "no jazz please");
        assert_eq!(m.exclude, vec!["jazz"]);
        // What the request asks for is never refused.
        let text = "science fiction books, nothing dystopian";
        let model = ModelReading {
            exclude: vec!["science fiction".into(), "dystopian".into()],
            ..ModelReading::default()
        };
        let m = merge(&read(text), &model, text);
        assert_eq!(m.exclude, vec!["dystopian"]);
    }

    #[test]
    fn the_moment_steps_aside_for_what_the_request_names() {
        let vague = read("something for tonight");
        let m = moment_needs(&ctx(), &vague);
        let names: Vec<&str> = m.iter().map(|(d, _)| d.name()).collect();
        assert!(
            names.contains(&"christmas") && names.contains(&"winter"),
            "{names:?}"
        );
        let summer = read("a summer read");
        let m = moment_needs(&ctx(), &summer);
        assert!(
            m.iter()
                .all(|(d, _)| !matches!(d.get().facet, Facet::Season | Facet::Holiday)),
            "{m:?}"
        );
        let south = Context::new(
            chrono::NaiveDateTime::parse_from_str("2026-12-24T20:00", "%Y-%m-%dT%H:%M").unwrap(),
            Hemisphere::South,
        );
        let names: Vec<&str> = moment_needs(&south, &vague)
            .iter()
            .map(|(d, _)| d.name())
            .collect();
        assert!(
            names.contains(&"summer") && names.contains(&"christmas"),
            "{names:?}"
        );
    }

    /// Issue 23: words that mean something are read as what they mean,
    /// never left as words to find in titles.
    #[test]
    fn quality_origin_and_form_words_are_read_not_searched() {
        for (text, kinds, origins) in [
            ("a great film", vec![Kind::Video], vec![]),
            ("the best book", vec![Kind::Book], vec![]),
            (
                "an excellent, critically acclaimed album",
                vec![Kind::Music],
                vec![],
            ),
            ("a French film", vec![Kind::Video], vec!["french"]),
            ("an Italian novel", vec![Kind::Book], vec!["italian"]),
            (
                "a brilliant Japanese biopic",
                vec![Kind::Video],
                vec!["japanese"],
            ),
            ("a documentary", vec![Kind::Video], vec![]),
            ("a sitcom", vec![Kind::Video], vec![]),
            ("a memoir", vec![Kind::Book], vec![]),
            ("a novella", vec![Kind::Book], vec![]),
            ("a short story collection", vec![Kind::Book], vec![]),
            ("a concerto", vec![Kind::Music], vec![]),
            ("something animated", vec![Kind::Video], vec![]),
        ] {
            let i = read(text);
            assert_eq!(i.kinds, kinds, "{text}");
            assert_eq!(i.origins, origins, "{text}");
            assert!(i.keywords.is_empty(), "{text}: {:?}", i.keywords);
            assert!(i.names.is_empty(), "{text}: {:?}", i.names);
            for w in ["great", "best", "excellent", "acclaimed"] {
                assert!(!i.query.contains(w), "{text}: {w} in {:?}", i.query);
            }
        }
        // A nationality still makes the request precise.
        assert!(read("a French film").vagueness < 1.0);
    }

    #[test]
    fn a_length_in_hours_is_a_film() {
        assert_eq!(read("something under two hours").kinds, vec![Kind::Video]);
        assert_eq!(
            read("something at least an hour long").kinds,
            vec![Kind::Video]
        );
        assert_eq!(read("something under 90 minutes").kinds, vec![Kind::Video]);
        assert!(read("something under 10 minutes").kinds.is_empty());
        assert_eq!(
            read("an album under two hours").kinds,
            vec![Kind::Music],
            "a kind named stands"
        );
    }

    /// Issue 23: what a request names is read as a name, whole.
    #[test]
    fn titles_and_creators_named_are_phrases() {
        let names = |t: &str| read(t).names;
        assert_eq!(names("Pride and Prejudice"), vec!["pride and prejudice"]);
        assert_eq!(names("pride and prejudice"), vec!["pride and prejudice"]);
        assert!(
            names("I'd like to read pride and prejudice tonight")
                .contains(&"pride and prejudice".to_string())
        );
        assert_eq!(
            names("a Jane Austen novel for a quiet Sunday"),
            vec!["jane austen"]
        );
        assert_eq!(
            names("a jane austen novel for a quiet sunday"),
            vec!["jane austen"]
        );
        assert!(names("Play Norah Jones").contains(&"norah jones".to_string()));
        assert!(
            names("watch \"The Night Before Dinner\"").contains(&"night before dinner".to_string())
        );
        assert!(
            names("I want to watch The Night Before Dinner")
                .contains(&"night before dinner".to_string())
        );
        assert_eq!(names("A Christmas Carol"), vec!["christmas carol"]);
        assert_eq!(names("Jaws"), vec!["jaws"]);
        // Words that mean something name nothing on their own.
        for t in [
            "a French film for Friday",
            "calm music for a rainy evening",
            "Calm music for a rainy evening",
            "a great cozy winter film",
            "a film about pride",
            "something like Norah Jones",
            "no Stephen King",
        ] {
            assert!(names(t).is_empty(), "{t}: {:?}", names(t));
        }
    }

    #[test]
    fn names_match_whole_titles_and_creators() {
        let n = |s: &[&str]| s.iter().map(|x| name_key(x)).collect::<Vec<_>>();
        assert!(names_title(
            "Pride and Prejudice",
            &n(&["pride and prejudice"])
        ));
        assert!(names_title("The Matrix", &n(&["matrix"])));
        assert!(names_title("Matrix, The", &n(&["the matrix"])));
        assert!(names_title("Heat (1995)", &n(&["heat"])));
        assert!(names_title("Schindler's List", &n(&["schindlers list"])));
        assert!(!names_title("Pride", &n(&["pride and prejudice"])));
        assert!(!names_title(
            "Pride and Prejudice and Zombies",
            &n(&["pride and prejudice"])
        ));
        assert!(names_creator("Jane Austen", &n(&["jane austen"])));
        assert!(names_creator("Austen, Jane", &n(&["jane austen"])));
        assert!(names_creator(
            "Simon & Garfunkel",
            &n(&["simon and garfunkel"])
        ));
        assert!(names_creator(
            "Norah Jones; Some Band",
            &n(&["norah jones"])
        ));
        assert!(!names_creator("Jane Austen Society", &n(&["jane austen"])));
    }

    #[test]
    fn positive_text_drops_exclusions() {
        assert_eq!(
            positive_text("A film, no horror, nothing dystopian"),
            "a film"
        );
        let i = read("I don't want anything violent, no horror nothing dystopian");
        assert_eq!(i.exclude, vec!["violent", "horror", "dystopian"]);
    }
}
