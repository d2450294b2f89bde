//! The small vocabulary the fast path understands: moods, occasions,
//! seasons and energy, and how genres, subjects and tags suggest them.
//!
//! Used twice: at index time, an item's genres, tags, tempo and rating are
//! turned into descriptors ("calm", "winter", "family") that go into its
//! card, so that a request for "something cosy for a winter evening" finds
//! a jazz album that never says "cosy"; at ask time, the same words are
//! recognised in the request. This is general knowledge of genres, never
//! knowledge of particular titles.

/// Genre, subject or tag fragments (lowercase, matched as substrings) and
/// the descriptors they suggest.
pub const GENRE_HINTS: &[(&[&str], &[&str])] = &[
    (
        &["christmas", "xmas", "holiday"],
        &["christmas", "winter", "festive", "cozy"],
    ),
    (
        &[
            "horror",
            "slasher",
            "zombie",
            "vampire",
            "ghost",
            "haunt",
            "supernatural",
        ],
        &["scary", "dark", "halloween", "night"],
    ),
    (
        &[
            "thriller",
            "suspense",
            "mystery",
            "detective",
            "crime",
            "noir",
        ],
        &["tense", "gripping", "night"],
    ),
    (
        &[
            "comedy", "humor", "humour", "funny", "satire", "parod", "wit",
        ],
        &["funny", "light", "uplifting"],
    ),
    (&["romance", "romantic", "love stor"], &["romantic", "date"]),
    (
        &[
            "animation",
            "family",
            "children",
            "juvenile",
            "fairy tale",
            "kids",
            "picture book",
        ],
        &["family", "kids", "light"],
    ),
    (
        &["adventure", "action", "swashbuck", "western"],
        &["exciting", "energetic"],
    ),
    (&["war", "military", "battle"], &["intense", "heavy"]),
    (&["drama", "tragedy", "tragic"], &["moving", "emotional"]),
    (
        &[
            "documentary",
            "biography",
            "history",
            "historical",
            "memoir",
            "essays",
        ],
        &["thoughtful", "informative"],
    ),
    (
        &["sci-fi", "science fiction", "fantasy", "space", "magic"],
        &["imaginative"],
    ),
    (&["dystop", "apocalyp"], &["dystopian", "dark", "heavy"]),
    (&["poetry", "poems", "verse"], &["reflective", "quiet"]),
    (
        &["sea stor", "voyage", "island", "beach", "surf"],
        &["summer", "travel", "beach"],
    ),
    (&["travel", "road"], &["travel", "road trip"]),
    (&["musical", "music"], &["uplifting"]),
    (
        &["jazz", "swing", "bossa"],
        &["mellow", "evening", "cozy", "dinner"],
    ),
    (&["blues"], &["melancholic", "evening"]),
    (
        &["classical", "baroque", "symphon", "piano", "instrumental"],
        &["calm", "focus"],
    ),
    (
        &["ambient", "chillout", "chill", "new age", "lo-fi", "lofi"],
        &["calm", "focus", "sleep"],
    ),
    (
        &["metal", "hardcore", "punk", "grunge"],
        &["loud", "intense", "energetic"],
    ),
    (&["rock"], &["energetic", "loud"]),
    (&["pop"], &["upbeat"]),
    (
        &["dance", "electronic", "house", "techno", "disco", "edm"],
        &["dance", "party", "energetic"],
    ),
    (
        &["folk", "acoustic", "singer-songwriter", "country"],
        &["acoustic", "warm", "calm"],
    ),
    (&["hip hop", "hip-hop", "rap"], &["energetic", "party"]),
    (&["soul", "r&b", "funk"], &["smooth", "warm", "dinner"]),
    (
        &["reggae", "latin", "samba", "tropical"],
        &["sunny", "summer"],
    ),
    (&["lullab", "sleep"], &["sleep", "calm", "kids"]),
    (&["psycholog", "dark"], &["dark"]),
    (
        &[
            "feel-good",
            "feel good",
            "heartwarming",
            "uplifting",
            "inspiring",
        ],
        &["uplifting", "warm"],
    ),
    (&["winter", "snow"], &["winter", "cozy"]),
    (&["summer"], &["summer"]),
    (&["autumn"], &["autumn"]),
    (&["spring"], &["spring"]),
    (&["rain"], &["rainy", "cozy"]),
    (&["sad", "melanchol", "grief"], &["melancholic"]),
    (&["atmospheric", "dreamy"], &["atmospheric", "dreamy"]),
];

/// Request words (and their variants) and the descriptor each means.
pub const MOODS: &[(&[&str], &str)] = &[
    (
        &["cozy", "cosy", "snug", "comforting", "comfy", "hygge"],
        "cozy",
    ),
    (
        &[
            "calm",
            "relaxing",
            "relax",
            "relaxed",
            "chill",
            "chilled",
            "mellow",
            "peaceful",
            "quiet",
            "soothing",
            "gentle",
            "soft",
            "laid-back",
            "laid back",
        ],
        "calm",
    ),
    (
        &[
            "happy",
            "cheerful",
            "upbeat",
            "feel-good",
            "joyful",
            "sunny",
            "uplifting",
            "bright",
            "optimistic",
        ],
        "uplifting",
    ),
    (
        &[
            "sad",
            "melancholy",
            "melancholic",
            "blue",
            "gloomy",
            "tearjerker",
            "heartbreak",
        ],
        "melancholic",
    ),
    (&["romantic", "romance", "love"], "romantic"),
    (
        &["scary", "spooky", "creepy", "frightening", "horror"],
        "scary",
    ),
    (
        &[
            "funny",
            "hilarious",
            "comedy",
            "laugh",
            "witty",
            "lighthearted",
            "light-hearted",
        ],
        "funny",
    ),
    (
        &[
            "exciting",
            "thrilling",
            "gripping",
            "action-packed",
            "adventurous",
        ],
        "exciting",
    ),
    (&["dark", "bleak", "grim"], "dark"),
    (&["light", "easy", "breezy", "fun"], "light"),
    (&["heavy", "serious", "intense"], "heavy"),
    (
        &[
            "energetic",
            "lively",
            "livelier",
            "pumped",
            "high-energy",
            "powerful",
        ],
        "energetic",
    ),
    (&["dreamy", "atmospheric", "ethereal"], "dreamy"),
    (&["nostalgic", "retro", "old-school"], "nostalgic"),
    (&["tense", "suspenseful", "edge"], "tense"),
    (
        &["thoughtful", "reflective", "deep", "meaningful", "moving"],
        "thoughtful",
    ),
    (&["loud", "noisy"], "loud"),
    (&["festive", "christmassy", "christmasy"], "festive"),
];

/// Occasions and the words that name them.
pub const OCCASIONS: &[(&[&str], &str)] = &[
    (&["dinner party", "dinner"], "dinner"),
    (&["road trip", "drive", "driving", "car"], "road trip"),
    (
        &["workout", "gym", "running", "run", "exercise", "training"],
        "workout",
    ),
    (
        &[
            "focus",
            "study",
            "studying",
            "concentrate",
            "concentration",
            "work",
            "working",
            "coding",
        ],
        "focus",
    ),
    (
        &["sleep", "bedtime", "falling asleep", "wind down"],
        "sleep",
    ),
    (&["party", "celebration", "dancing", "dance"], "party"),
    (&["date night", "date"], "date"),
    (&["family night", "family movie"], "family"),
    (
        &["beach", "pool", "holiday by the sea", "beach house"],
        "beach",
    ),
    (&["commute", "train ride", "bus"], "commute"),
    (&["rainy", "rain", "raining"], "rainy"),
    (&["cooking", "kitchen"], "cooking"),
    (&["flight", "plane", "travel", "trip", "journey"], "travel"),
    (&["christmas", "xmas"], "christmas"),
    (&["halloween"], "halloween"),
    (&["morning", "breakfast", "wake up"], "morning"),
    (&["tonight", "evening"], "evening"),
];

/// Descriptors that lower or raise energy.
pub const LOW_ENERGY: &[&str] = &[
    "calm",
    "cozy",
    "sleep",
    "focus",
    "melancholic",
    "dreamy",
    "thoughtful",
    "quiet",
    "mellow",
    "acoustic",
];
pub const HIGH_ENERGY: &[&str] = &[
    "energetic",
    "party",
    "workout",
    "exciting",
    "loud",
    "dance",
    "upbeat",
];

/// Exclusion words and the descriptors that imply them: "no horror" also
/// rules out what the index calls "scary".
pub const IMPLIED: &[(&str, &[&str])] = &[
    ("horror", &["scary", "horror", "slasher", "zombie"]),
    ("scary", &["scary", "horror"]),
    ("dystopian", &["dystopian", "dystop", "apocalyp"]),
    ("violent", &["violen", "war", "gore"]),
    ("violence", &["violen", "war", "gore"]),
    ("sad", &["melancholic", "sad", "tragedy", "tragic"]),
    (
        "depressing",
        &["melancholic", "tragedy", "tragic", "depress"],
    ),
    ("loud", &["loud", "metal", "punk"]),
    ("romance", &["romantic", "romance"]),
    ("romantic", &["romantic", "romance"]),
    ("war", &["war", "military"]),
    ("christmas", &["christmas", "xmas"]),
    ("kids", &["kids", "children", "juvenile"]),
];

/// Certifications that are not for children.
pub const ADULT_RATINGS: &[&str] = &["R", "NC-17", "X", "TV-MA", "18", "A", "UNRATED"];
/// Certifications that are fine for children.
pub const FAMILY_RATINGS: &[&str] = &[
    "G", "PG", "U", "TV-Y", "TV-Y7", "TV-G", "TV-PG", "UA", "ALL",
];

/// Descriptors suggested by an item's genres, tags and other facts, in a
/// stable order without repeats.
pub fn descriptors(
    labels: &[&str],
    bpm: Option<f64>,
    certification: Option<&str>,
) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut push = |w: &'static str| {
        if !out.contains(&w) {
            out.push(w);
        }
    };
    for label in labels {
        let l = label.to_lowercase();
        for (keys, words) in GENRE_HINTS {
            if keys.iter().any(|k| l.contains(k)) {
                words.iter().for_each(|w| push(w));
            }
        }
    }
    if let Some(b) = bpm.filter(|b| *b > 0.0) {
        match b {
            b if b < 85.0 => ["slow", "calm"].iter().for_each(|w| push(w)),
            b if b >= 128.0 => ["fast", "energetic", "workout"]
                .iter()
                .for_each(|w| push(w)),
            _ => push("mid-tempo"),
        }
    }
    if let Some(c) = certification {
        let c = c.trim().to_ascii_uppercase();
        let c = c.strip_prefix("RATED ").unwrap_or(&c);
        if FAMILY_RATINGS.contains(&c) {
            push("family friendly");
        }
    }
    out
}

/// The canonical mood for a request word, if it names one.
pub fn mood_of(word: &str) -> Option<&'static str> {
    MOODS
        .iter()
        .find(|(keys, _)| keys.contains(&word))
        .map(|(_, m)| *m)
}

/// Fragments that, found in an item's text, mean it has the excluded
/// quality.
pub fn exclusion_fragments(term: &str) -> Vec<String> {
    let term = term.trim().to_lowercase();
    let mut out = vec![stem(&term)];
    for (word, implied) in IMPLIED {
        if stem(word) == stem(&term) {
            out.extend(implied.iter().map(|s| s.to_string()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A crude stem: enough that "dystopian" finds "Dystopias" and "violent"
/// finds "violence", never shorter than four letters.
pub fn stem(word: &str) -> String {
    let w: Vec<char> = word.trim().to_lowercase().chars().collect();
    let n = w.len();
    let keep = if n <= 4 { n } else { (n - 2).max(4) };
    w[..keep].iter().collect()
}

/// A kind as a person names a collection of it: "music", "books", "videos".
pub fn kind_plural(kind: &str) -> &str {
    match kind {
        "book" => "books",
        "video" => "videos",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genres_suggest_descriptors() {
        let d = descriptors(&["Jazz", "Christmas music"], Some(70.0), None);
        assert!(
            d.contains(&"cozy") && d.contains(&"winter") && d.contains(&"slow"),
            "{d:?}"
        );
        let d = descriptors(&["Animation"], None, Some("Rated PG"));
        assert!(
            d.contains(&"family") && d.contains(&"family friendly"),
            "{d:?}"
        );
        assert!(descriptors(&[], None, Some("R")).is_empty());
    }

    #[test]
    fn exclusions_reach_related_words() {
        let f = exclusion_fragments("dystopian");
        assert!(f.iter().any(|x| "dystopias".contains(x.as_str())), "{f:?}");
        let f = exclusion_fragments("horror");
        assert!(f.contains(&"scary".to_string()));
        assert_eq!(stem("violent"), "viole");
        assert_eq!(stem("sad"), "sad");
        assert_eq!(mood_of("cosy"), Some("cozy"));
    }
}
