//! `cargo bench --bench eval -- taste`: does a person's history change
//! their answers for the better? See `moodshelf_tests::eval::taste`.
//!
//! `EVAL_TASTE_SIZE` (default 4,830) sizes the library, `EVAL_TASTE_USERS`
//! caps the users of each half (default 60), `EVAL_TASTE_MIN` the ratings
//! of library films a user needs (default 10), `EVAL_TASTE_VAGUE` and
//! `EVAL_TASTE_SPECIFIC` (numbers) try other taste weights than
//! `weights.toml`'s, `EVAL_TASTE_QUALITY` another weight of a film's public
//! rating; `EVAL_HALF=tune|check` runs one half.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use moodshelf_engine::recommend::{Mode, RecommendRequest};
use moodshelf_engine::{Kind, Library};
use moodshelf_llm::Cancel;
use moodshelf_tests::eval::taste::{self, Person, Rating};
use moodshelf_tests::eval::{Half, ndcg_and_precision};
use moodshelf_tests::moment;

use super::{Shape, env_usize, eval_base, open_data, scan_root, write_library};

/// Requests a person makes without saying much, and two that say more.
const VAGUE: &[&str] = &["something to watch tonight", "a film for this evening"];
const SPECIFIC: &[&str] = &["a funny film", "a tense thriller"];

/// Sums of one ranker's scores over a half's users.
#[derive(Default)]
struct Sums {
    ndcg: f64,
    precision: f64,
    /// Picks the person had already watched, and all picks.
    watched: usize,
    picks: usize,
    n: usize,
}

impl Sums {
    /// One answer's picks, by MovieLens id (`None`: a film MovieLens does
    /// not know, which the person never rated).
    fn add(&mut self, picks: &[Option<u32>], p: &Person) {
        let relevant = p.relevant();
        let seen = p.watched();
        let judged: Vec<Option<bool>> = picks
            .iter()
            .map(|m| Some(m.is_some_and(|m| relevant.contains(&m))))
            .collect();
        let (ndcg, precision) = ndcg_and_precision(&judged, relevant.len(), 10);
        self.ndcg += ndcg;
        self.precision += precision;
        self.watched += picks
            .iter()
            .filter(|m| m.is_some_and(|m| seen.contains(&m)))
            .count();
        self.picks += picks.len();
        self.n += 1;
    }

    fn row(&self, name: &str) {
        let n = self.n.max(1) as f64;
        println!(
            "| {name} | {:.3} | {:.3} | {}/{} | {} |",
            self.precision / n,
            self.ndcg / n,
            self.watched,
            self.picks,
            self.n
        );
    }
}

/// The library's films with an `.nfo`, by MovieLens id: the `.nfo` path.
fn films(
    generated: &moodshelf_libgen::Generated,
    ids: &HashMap<String, u32>,
) -> HashMap<u32, PathBuf> {
    generated
        .items
        .iter()
        .filter(|g| g.kind == "video" && g.sidecar)
        .filter_map(|g| {
            let id = ids.get(&taste::film_key(&g.title, g.year))?;
            Some((*id, g.path.with_extension("nfo")))
        })
        .collect()
}

/// Writes (or, with `undo`, removes) a person's history in the `.nfo`s.
fn write_history(
    p: &Person,
    nfos: &HashMap<u32, PathBuf>,
    originals: &mut HashMap<PathBuf, String>,
) {
    for r in &p.history {
        let Some(nfo) = nfos.get(&r.movie) else {
            continue;
        };
        let text = std::fs::read_to_string(nfo).expect("read .nfo");
        originals.entry(nfo.clone()).or_insert_with(|| text.clone());
        let with = text.replacen("</movie>", &format!("{}</movie>", taste::nfo_lines(r)), 1);
        std::fs::write(nfo, with).expect("write .nfo");
    }
}

fn restore(originals: &mut HashMap<PathBuf, String>) {
    for (path, text) in originals.drain() {
        std::fs::write(&path, text).expect("restore .nfo");
    }
}

/// The MovieLens ids of an answer's films.
async fn ask(lib: &Library, text: &str, by_path: &HashMap<String, u32>) -> Vec<Option<u32>> {
    let mut req = RecommendRequest::new(text, moment("2026-12-04T20:00"));
    req.mode = Mode::Rules;
    req.kind = Some(Kind::Video);
    req.limit = 10;
    req.remember = false;
    req.weights = Some(weights());
    let answer = lib
        .recommend(&req, &Cancel::default(), &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    answer
        .items
        .iter()
        .map(|p| {
            let nfo = Path::new(&p.item.path).with_extension("nfo");
            by_path.get(&nfo.to_string_lossy().into_owned()).copied()
        })
        .collect()
}

/// `weights.toml`'s weights, with the taste weights the environment names.
fn weights() -> moodshelf_engine::recommend::rank::Weights {
    let mut w = *moodshelf_engine::recommend::rank::FITTED;
    let num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f32>().ok());
    if let Some(v) = num("EVAL_TASTE_VAGUE") {
        w.taste_vague = v;
    }
    if let Some(v) = num("EVAL_TASTE_SPECIFIC") {
        w.taste_specific = v;
    }
    if let Some(v) = num("EVAL_TASTE_QUALITY") {
        w.quality_vague = v;
    }
    w
}

/// The most widely rated films the person has not watched.
fn popular(p: &Person, order: &[u32]) -> Vec<Option<u32>> {
    let seen = p.watched();
    order
        .iter()
        .filter(|m| !seen.contains(m))
        .take(10)
        .map(|m| Some(*m))
        .collect()
}

/// Ten films the person has not watched, drawn by their id.
fn random(p: &Person, films: &[u32]) -> Vec<Option<u32>> {
    let seen = p.watched();
    let mut state = u64::from(p.user).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::new();
    let pool: Vec<u32> = films
        .iter()
        .filter(|m| !seen.contains(m))
        .copied()
        .collect();
    while out.len() < 10 && out.len() < pool.len() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let m = pool[(state % pool.len() as u64) as usize];
        if !out.contains(&Some(m)) {
            out.push(Some(m));
        }
    }
    out
}

pub async fn run() {
    let size = env_usize("EVAL_TASTE_SIZE").unwrap_or(4830);
    let per_half = env_usize("EVAL_TASTE_USERS").unwrap_or(60);
    let min = env_usize("EVAL_TASTE_MIN").unwrap_or(10);
    let base = eval_base().join(format!("taste-{size}"));
    let generated = write_library(Shape::Full, &base, size);
    let datasets = moodshelf_libgen::datasets_dir();
    let nfos = films(&generated, &taste::movie_ids(&datasets));
    let by_path: HashMap<String, u32> = nfos
        .iter()
        .map(|(m, p)| (p.to_string_lossy().into_owned(), *m))
        .collect();
    let ratings: Vec<Rating> = taste::ratings(&datasets);
    let in_library: HashSet<u32> = nfos.keys().copied().collect();
    let popularity = taste::popularity(&ratings);
    let mut order: Vec<u32> = in_library.iter().copied().collect();
    order.sort_by_key(|m| {
        (
            std::cmp::Reverse(popularity.get(m).copied().unwrap_or(0)),
            *m,
        )
    });
    let mut all_films: Vec<u32> = in_library.iter().copied().collect();
    all_films.sort_unstable();

    let lib = open_data(&base, "data", "").await;
    let mut originals = HashMap::new();
    // A run cut short left some history behind: the library starts clean.
    scan_root(&lib, &base.join("library")).await;
    let people = taste::people(&ratings, &in_library, min);
    let w = weights();
    println!(
        "\n## taste: {} films with an .nfo matched to MovieLens, {} users with {min}+ of their ratings (users 1-{}); taste weights {} vague, {} specific\n",
        in_library.len(),
        people.len(),
        taste::LAST_USER,
        w.taste_vague,
        w.taste_specific
    );
    let halves = match std::env::var("EVAL_HALF").as_deref() {
        Ok("tune") => vec![Half::Tune],
        Ok("check") => vec![Half::Check],
        _ => vec![Half::Tune, Half::Check],
    };
    for half in halves {
        let mut rows: Vec<(&str, Sums)> = [
            "vague, no history",
            "vague, with history",
            "specific, with history",
            "random unwatched",
            "most rated unwatched",
        ]
        .into_iter()
        .map(|n| (n, Sums::default()))
        .collect();
        for p in people.iter().filter(|p| p.half() == half).take(per_half) {
            for q in VAGUE {
                let picks = ask(&lib, q, &by_path).await;
                rows[0].1.add(&picks, p);
            }
            write_history(p, &nfos, &mut originals);
            lib.scan(moodshelf_engine::ScanOptions::new(moodshelf_tests::NOW))
                .await
                .expect("scan");
            for q in VAGUE {
                let picks = ask(&lib, q, &by_path).await;
                rows[1].1.add(&picks, p);
            }
            for q in SPECIFIC {
                let picks = ask(&lib, q, &by_path).await;
                rows[2].1.add(&picks, p);
            }
            rows[3].1.add(&random(p, &all_films), p);
            rows[4].1.add(&popular(p, &order), p);
            restore(&mut originals);
            lib.scan(moodshelf_engine::ScanOptions::new(moodshelf_tests::NOW))
                .await
                .expect("scan");
        }
        println!("\n### {} half\n", half.as_str());
        println!("| ranker | P@10 | nDCG@10 | already watched offered | answers |");
        println!("|---|---|---|---|---|");
        for (name, s) in &rows {
            s.row(name);
        }
    }
    lib.close().await;
}
