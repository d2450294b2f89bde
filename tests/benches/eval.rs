//! Development evaluation of the recommender:
//! `cargo bench -p moodshelf-tests --bench eval`.
//!
//! A library is generated from `../shared/datasets` (never the held-out yardstick) and
//! a fixed set of requests is answered by three configurations side by
//! side: embedding search only, rules (the fast path), and rules + the
//! reasoning model. Relevance labels come from the public data each item
//! was made from (IMDb and MovieLens genres and tags, Gutenberg subjects,
//! Spotify audio features), including what a file does not carry (scene-
//! named videos have no sidecar, but their film still has genres). The
//! table gives nDCG@10 and precision@10, the share of picks that break a
//! hard constraint of the request, the share not in the library (both must
//! be 0), and latency p50/p95.
//!
//! `EVAL_MODEL=path.gguf` picks the reasoning model (default: the models
//! dir's default); `EVAL_SIZE` scales the library (default 3000 items);
//! `EVAL_SKIP_MODEL=1` runs the first two configurations only.

use std::time::Instant;

use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{Library, RecommendRequest};
use moodshelf_libgen::{GenItem, Spec};
use moodshelf_llm::Cancel;
use moodshelf_tests::{TestLibrary, moment};

type Pred = fn(&GenItem) -> bool;

struct Case {
    text: &'static str,
    /// Relevant items.
    relevant: Pred,
    /// Hard constraints of the request (kind included): a pick that fails
    /// this is a violation.
    allowed: Pred,
}

fn has(i: &GenItem, words: &[&str]) -> bool {
    i.truth.iter().chain(&i.genres).chain(&i.tags).any(|g| {
        let g = g.to_lowercase();
        words.iter().any(|w| g.contains(w))
    })
}

/// What the item's own files say (a scene-named video without a sidecar
/// says nothing of its genre): hard constraints are judged on this, since
/// no recommender can know more than the library tells it.
fn has_meta(i: &GenItem, words: &[&str]) -> bool {
    i.genres.iter().chain(&i.tags).any(|g| {
        let g = g.to_lowercase();
        words.iter().any(|w| g.contains(w))
    })
}

fn video(i: &GenItem) -> bool {
    i.kind == "video"
}
fn book(i: &GenItem) -> bool {
    i.kind == "book"
}
fn music(i: &GenItem) -> bool {
    i.kind == "music"
}
fn minutes(i: &GenItem) -> f64 {
    i.duration_secs.unwrap_or(f64::MAX) / 60.0
}
fn feat(i: &GenItem) -> moodshelf_libgen::datasets::AudioFeatures {
    i.features.unwrap_or_default()
}

const CASES: &[Case] = &[
    Case {
        text: "a funny film for tonight",
        relevant: |i| video(i) && has(i, &["comedy"]),
        allowed: video,
    },
    Case {
        text: "a scary movie for halloween",
        relevant: |i| video(i) && has(i, &["horror"]),
        allowed: video,
    },
    Case {
        text: "a romantic film for date night",
        relevant: |i| video(i) && has(i, &["romance"]),
        allowed: video,
    },
    Case {
        text: "an animated film for family night with an 8-year-old, under two hours, no horror",
        relevant: |i| video(i) && has(i, &["animation", "children", "family"]),
        allowed: |i| video(i) && minutes(i) <= 120.0 && !has_meta(i, &["horror"]),
    },
    Case {
        text: "a war film from the 90s",
        relevant: |i| video(i) && has(i, &["war"]),
        allowed: |i| video(i) && i.year.is_some_and(|y| (1990..=1999).contains(&y)),
    },
    Case {
        text: "a crime thriller, nothing longer than 100 minutes",
        relevant: |i| video(i) && has(i, &["crime", "thriller"]),
        allowed: |i| video(i) && minutes(i) <= 100.0,
    },
    Case {
        text: "a science fiction film, no horror",
        relevant: |i| video(i) && has(i, &["sci-fi", "science fiction"]),
        allowed: |i| video(i) && !has_meta(i, &["horror"]),
    },
    Case {
        text: "a documentary to watch",
        relevant: |i| video(i) && has(i, &["documentary"]),
        allowed: video,
    },
    Case {
        text: "a western film",
        relevant: |i| video(i) && has(i, &["western"]),
        allowed: video,
    },
    Case {
        text: "an atmospheric, dark film",
        relevant: |i| video(i) && has(i, &["atmospheric", "dark", "noir"]),
        allowed: video,
    },
    Case {
        text: "christmas stories to read by the fire",
        relevant: |i| book(i) && has(i, &["christmas"]),
        allowed: book,
    },
    Case {
        text: "ghost stories for a dark winter night",
        relevant: |i| book(i) && has(i, &["ghost", "horror", "supernatural"]),
        allowed: book,
    },
    Case {
        text: "a humorous book to cheer me up",
        relevant: |i| book(i) && has(i, &["humor", "humorous", "wit"]),
        allowed: book,
    },
    Case {
        text: "poetry for a quiet evening",
        relevant: |i| book(i) && has(i, &["poetry", "poems"]),
        allowed: book,
    },
    Case {
        text: "a detective novel",
        relevant: |i| book(i) && has(i, &["detective", "mystery"]),
        allowed: book,
    },
    Case {
        text: "sea stories for the summer holiday",
        relevant: |i| book(i) && has(i, &["sea stories", "voyages", "sea"]),
        allowed: book,
    },
    Case {
        text: "a love story to read",
        relevant: |i| book(i) && has(i, &["love stories", "romance", "courtship"]),
        allowed: book,
    },
    Case {
        text: "science fiction books, nothing dystopian",
        relevant: |i| book(i) && has(i, &["science fiction"]),
        allowed: |i| book(i) && !has_meta(i, &["dystop"]),
    },
    Case {
        text: "calm acoustic music for studying",
        relevant: |i| music(i) && feat(i).acousticness > 0.6 && feat(i).energy < 0.5,
        allowed: music,
    },
    Case {
        text: "upbeat dance music for a party",
        relevant: |i| music(i) && feat(i).danceability > 0.7 && feat(i).energy > 0.6,
        allowed: music,
    },
    Case {
        text: "sad songs for a rainy day",
        relevant: |i| music(i) && feat(i).valence < 0.3,
        allowed: music,
    },
    Case {
        text: "high energy songs for a workout",
        relevant: |i| music(i) && feat(i).energy > 0.8,
        allowed: music,
    },
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Row {
    ndcg: f64,
    precision: f64,
    violations: usize,
    foreign: usize,
    picks: usize,
    latency: Vec<f64>,
    first_token: Vec<f64>,
}

async fn run(lib: &Library, items: &[GenItem], mode: Mode) -> Row {
    let by_path: std::collections::HashMap<String, &GenItem> = items
        .iter()
        .map(|i| {
            (
                std::fs::canonicalize(&i.path)
                    .unwrap()
                    .display()
                    .to_string(),
                i,
            )
        })
        .collect();
    let mut row = Row {
        ndcg: 0.0,
        precision: 0.0,
        violations: 0,
        foreign: 0,
        picks: 0,
        latency: vec![],
        first_token: vec![],
    };
    for case in CASES {
        let mut req = RecommendRequest::new(case.text, moment("2026-11-27T20:00"));
        req.mode = mode;
        req.limit = 10;
        req.remember = false;
        let started = Instant::now();
        let answer = lib
            .recommend(&req, &Cancel::default(), &mut |_| {})
            .await
            .expect("answer");
        row.latency.push(started.elapsed().as_secs_f64() * 1e3);
        if let Some(f) = answer.timings_ms.explain_first_token_ms {
            row.first_token.push(f);
        }
        let total_relevant = items.iter().filter(|i| (case.relevant)(i)).count();
        let mut dcg = 0.0;
        let mut hits = 0;
        for (rank, p) in answer.items.iter().enumerate() {
            row.picks += 1;
            let Some(item) = by_path.get(&p.item.path) else {
                row.foreign += 1;
                continue;
            };
            if !(case.allowed)(item) {
                row.violations += 1;
                if std::env::var_os("EVAL_VERBOSE").is_some() {
                    println!(
                        "    violation: {:?} {} {:?} {:?} min {:?}",
                        mode,
                        item.title,
                        item.year,
                        item.duration_secs.map(|d| d / 60.0),
                        item.genres
                    );
                }
            }
            if (case.relevant)(item) {
                hits += 1;
                dcg += 1.0 / ((rank + 2) as f64).log2();
            }
        }
        let ideal: f64 = (0..total_relevant.min(10))
            .map(|r| 1.0 / ((r + 2) as f64).log2())
            .sum();
        let ndcg = if ideal > 0.0 { dcg / ideal } else { 0.0 };
        row.ndcg += ndcg / CASES.len() as f64;
        row.precision += hits as f64 / 10.0 / CASES.len() as f64;
        if std::env::var_os("EVAL_VERBOSE").is_some() {
            println!(
                "  {:?} {:<70} nDCG {ndcg:.2} P {hits}/10 (of {total_relevant} relevant)",
                mode, case.text
            );
        }
    }
    row.latency.sort_by(f64::total_cmp);
    row.first_token.sort_by(f64::total_cmp);
    row
}

fn main() {
    let size: usize = std::env::var("EVAL_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let model = std::env::var("EVAL_MODEL").ok();
        let settings = model
            .as_ref()
            .map(|m| format!("[models]\nreasoning = {m:?}\n"))
            .unwrap_or_default();
        let spec = Spec { music: size / 5, books: size * 2 / 5, videos: size * 2 / 5 };
        let t = TestLibrary::with_settings(spec, &settings).await;
        let report = t.add_and_scan().await;
        println!(
            "machine: {} cores; profile: {}; library: {} items ({} music, {} books, {} videos); {} requests",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            if cfg!(debug_assertions) { "debug" } else { "release" },
            report.embedded,
            spec.music,
            spec.books,
            spec.videos,
            CASES.len()
        );
        let mut modes = vec![("embedding search only", Mode::Search), ("rules", Mode::Rules)];
        if std::env::var_os("EVAL_SKIP_MODEL").is_none() {
            match t.lib.generator().await {
                Ok(g) => {
                    println!("reasoning model: {}", g.path().display());
                    modes.push(("rules + model", Mode::Model));
                }
                Err(e) => println!("rules + model skipped: {}", e.message),
            }
        }
        // Warm up the embedder and index once.
        let _ = run(&t.lib, &t.generated.items, Mode::Search).await;
        println!("| configuration | nDCG@10 | P@10 | constraint violations | not in library | p50 ms | p95 ms | first reason p50/p95 ms |");
        println!("|---|---|---|---|---|---|---|---|");
        for (name, mode) in modes {
            let r = run(&t.lib, &t.generated.items, mode).await;
            let first = if r.first_token.is_empty() {
                "–".to_string()
            } else {
                format!("{:.0} / {:.0}", percentile(&r.first_token, 0.5), percentile(&r.first_token, 0.95))
            };
            println!(
                "| {name} | {:.3} | {:.3} | {}/{} | {}/{} | {:.0} | {:.0} | {first} |",
                r.ndcg,
                r.precision,
                r.violations,
                r.picks,
                r.foreign,
                r.picks,
                percentile(&r.latency, 0.5),
                percentile(&r.latency, 0.95),
            );
        }
    });
}
