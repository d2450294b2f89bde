//! The taste evaluation (issue 24): MovieLens users 1 to 400 (the others
//! are kept aside as an independent check) whose ratings of films in the
//! evaluation library are split by time; the earlier part is written into
//! the library as a media centre would (`.nfo` `userrating`, `playcount`,
//! `lastplayed`), and picks are judged by the later part (rated 4 or more:
//! relevant). Users with an odd id tune, users with an even id check.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use moodshelf_libgen::datasets::unarticle;

use super::Half;

/// The last user id read: users above it are never read here.
pub const LAST_USER: u32 = 400;

/// Share of a user's ratings (oldest first) written as their history.
pub const HISTORY_SHARE: f64 = 0.7;

/// One rating of `ratings.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    pub user: u32,
    pub movie: u32,
    /// 0.5 to 5 stars.
    pub stars: f32,
    /// Unix seconds.
    pub at: i64,
}

impl Rating {
    /// What Kodi's `userrating` (0–10) would say.
    pub fn userrating(&self) -> u32 {
        (self.stars * 2.0).round().clamp(1.0, 10.0) as u32
    }

    pub fn relevant(&self) -> bool {
        self.stars >= 4.0
    }
}

/// The ratings of users 1 to [`LAST_USER`], in file order.
pub fn ratings(datasets: &Path) -> Vec<Rating> {
    let path = datasets.join("movielens-small/ratings.csv");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let user: u32 = f.next()?.parse().ok()?;
            let r = Rating {
                user,
                movie: f.next()?.parse().ok()?,
                stars: f.next()?.parse().ok()?,
                at: f.next()?.trim().parse().ok()?,
            };
            (user <= LAST_USER).then_some(r)
        })
        .collect()
}

/// A film's key as libgen titles it: "Toy Story|1995" (MovieLens writes
/// "American President, The (1995)", libgen "The American President").
pub fn film_key(title: &str, year: Option<i32>) -> String {
    format!("{}|{}", title.trim().to_lowercase(), year.unwrap_or(0))
}

/// MovieLens movie ids by [`film_key`].
pub fn movie_ids(datasets: &Path) -> HashMap<String, u32> {
    let path = datasets.join("movielens-small/movies.csv");
    let mut rows =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut out = HashMap::new();
    for r in rows.records().flatten() {
        let (Some(id), Some(raw)) = (r.get(0).and_then(|i| i.parse().ok()), r.get(1)) else {
            continue;
        };
        let (title, year) = match raw.trim().rfind(" (") {
            Some(i) if raw.trim().ends_with(')') => {
                let raw = raw.trim();
                (&raw[..i], raw[i + 2..raw.len() - 1].parse().ok())
            }
            _ => (raw.trim(), None),
        };
        out.insert(film_key(&unarticle(title), year), id);
    }
    out
}

/// One user: what they watched first (their history) and what they
/// rated later (the judge).
#[derive(Debug, Clone)]
pub struct Person {
    pub user: u32,
    pub history: Vec<Rating>,
    pub later: Vec<Rating>,
}

impl Person {
    pub fn half(&self) -> Half {
        match self.user % 2 {
            1 => Half::Tune,
            _ => Half::Check,
        }
    }

    pub fn watched(&self) -> HashSet<u32> {
        self.history.iter().map(|r| r.movie).collect()
    }

    pub fn relevant(&self) -> HashSet<u32> {
        self.later
            .iter()
            .filter(|r| r.relevant())
            .map(|r| r.movie)
            .collect()
    }
}

/// Users with at least `min` ratings of films in the library and at least
/// one relevant later rating, each split by time.
pub fn people(ratings: &[Rating], in_library: &HashSet<u32>, min: usize) -> Vec<Person> {
    let mut by_user: HashMap<u32, Vec<Rating>> = HashMap::new();
    for r in ratings.iter().filter(|r| in_library.contains(&r.movie)) {
        by_user.entry(r.user).or_default().push(*r);
    }
    let mut out: Vec<Person> = by_user
        .into_iter()
        .filter(|(_, rs)| rs.len() >= min)
        .map(|(user, mut rs)| {
            rs.sort_by_key(|r| (r.at, r.movie));
            let cut = ((rs.len() as f64) * HISTORY_SHARE).round() as usize;
            let later = rs.split_off(cut);
            Person {
                user,
                history: rs,
                later,
            }
        })
        .filter(|p| !p.relevant().is_empty())
        .collect();
    out.sort_by_key(|p| p.user);
    out
}

/// How many of the users read rated each film: the baseline a personal
/// app cannot know.
pub fn popularity(ratings: &[Rating]) -> HashMap<u32, usize> {
    let mut n = HashMap::new();
    for r in ratings {
        *n.entry(r.movie).or_default() += 1;
    }
    n
}

/// `history` as the lines a media centre adds to a movie's `.nfo`.
pub fn nfo_lines(r: &Rating) -> String {
    let t = chrono::DateTime::from_timestamp(r.at, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    format!(
        "    <userrating>{}</userrating>\n    <playcount>1</playcount>\n    <lastplayed>{t}</lastplayed>\n",
        r.userrating()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(user: u32, movie: u32, stars: f32, at: i64) -> Rating {
        Rating {
            user,
            movie,
            stars,
            at,
        }
    }

    #[test]
    fn each_user_is_split_by_time_and_halves_by_id() {
        let ratings: Vec<Rating> = (0..10)
            .map(|i| r(3, i, if i < 2 { 4.5 } else { 2.0 }, 1000 - i as i64))
            .chain([r(4, 1, 5.0, 1), r(4, 99, 5.0, 2)])
            .collect();
        let lib: HashSet<u32> = (0..10).collect();
        let p = people(&ratings, &lib, 5);
        assert_eq!(p.len(), 1, "user 4 has one film in the library");
        assert_eq!(p[0].half(), Half::Tune);
        // Newest first in the file: the oldest seven are the history.
        let history: HashSet<u32> = p[0].watched();
        assert_eq!(history, (3..10).collect::<HashSet<u32>>());
        assert_eq!(p[0].relevant(), HashSet::from([0, 1]));
    }

    #[test]
    fn a_rating_is_written_as_kodi_writes_it() {
        let line = nfo_lines(&r(1, 1, 3.5, 1_609_459_140));
        assert!(line.contains("<userrating>7</userrating>"));
        assert!(line.contains("<lastplayed>2020-12-31 23:59:00</lastplayed>"));
        assert_eq!(movie_key_roundtrip(), "the american president|1995");
    }

    fn movie_key_roundtrip() -> String {
        film_key(&unarticle("American President, The"), Some(1995))
    }
}
