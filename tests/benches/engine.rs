//! Engine benchmarks on real files, real SQLite, real LanceDB and the real
//! embedding model: `cargo bench -p moodshelf-tests --bench engine`.
//!
//! Measures what DESIGN.md sets targets for: metadata-only scan rate of
//! tagged audio, the unchanged rescan of a 10,000-file library, scanning
//! with embedding (items/s), and ask latency (p50/p95) at 1k and 10k
//! items, and the recommender's fast path at the same sizes.
//! `BENCH_QUICK=1` shrinks every size by 10× for a smoke run;
//! `BENCH_MODEL=1` also times the reasoning model's first reason at 1k.
//!
//! `sound` is the audio analysis through the library (reader processes
//! at low priority, results stored): seconds per minute of audio on one
//! and two workers, recorded MP3s from Debian's `asc-music` and
//! synthesized WAV. The analysis alone and its memory per track are the
//! sound crate's bench (`cargo bench --workspace --bench analysis`).
//!
//! `understand` (run only when named: `cargo bench --workspace --bench
//! engine -- understand`; `BENCH_REASONING_MODEL=path.gguf`, default the
//! models dir's reasoning model) reads the works of a thin and a tagged
//! library with the reasoning model: works and items per second against
//! the previous enrichment's way (one item at a time, no shared prefix,
//! four short fields), and a 40,000-track library projected in hours.
//!
//! `large` (run only when named: `cargo bench --workspace --bench engine --
//! large`) is the 100,000-item library: metadata scan, embedding, unchanged
//! rescan, peak memory, the fast path, and the vector index against exact
//! search. Its library and data dir are kept in `BENCH_LARGE_DIR` (default
//! `~/.cache/moodshelf/bench/large-<n>`), so a second run measures the
//! index and queries without embedding again.

use std::time::Instant;

use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{Kind, RecommendRequest, ScanOptions};
use moodshelf_libgen::Spec;
use moodshelf_llm::Cancel;
use moodshelf_tests::{NOW, TestLibrary, moment, search};

#[path = "engine/understanding.rs"]
mod understanding;

const QUERIES: &[&str] = &[
    "cozy music for a rainy winter evening",
    "something upbeat for a summer road trip",
    "a book for the beach house, nothing too heavy",
    "a film for family night with an 8-year-old, no horror",
    "dark atmospheric thriller",
    "calm piano to focus on work",
    "a ghost story for christmas",
    "epic fantasy adventure",
    "music for a dinner party with friends",
    "a short funny movie",
    "sad songs about the end of summer",
    "classic novel about the sea",
    "documentary about nature",
    "romantic comedy for a date night",
    "energetic songs for running",
    "mystery novel set in london",
    "western with a lone hero",
    "lullabies for a sleepy baby",
    "science fiction about space travel",
    "jazz for a sunday morning",
];

fn scale(n: usize) -> usize {
    if std::env::var_os("BENCH_QUICK").is_some() {
        (n / 10).max(10)
    } else {
        n
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters by name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let run = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "machine: {} cores; profile: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    rt.block_on(async {
        if run("scan_metadata") {
            scan_metadata(scale(10_000)).await;
        }
        if run("scan_embed") {
            scan_embed("mixed", scale(1_000), scale(500), scale(500)).await;
            scan_embed("music", scale(2_000), 0, 0).await;
        }
        if run("embed_raw") {
            embed_raw(scale(1_000)).await;
        }
        if run("ask") {
            for n in [scale(1_000), scale(10_000)] {
                ask_latency(n).await;
            }
        }
        if run("sound") {
            sound_analysis().await;
        }
        if filter.as_deref() == Some("large") {
            large(scale(100_000)).await;
        }
        if filter.as_deref() == Some("understand") {
            understanding::run(scale(48)).await;
        }
    });
}

/// Tagged audio only: the metadata path without the model.
async fn scan_metadata(n: usize) {
    let t = TestLibrary::new(Spec {
        music: n,
        books: 0,
        videos: 0,
    })
    .await;
    t.lib.add_root(&t.root, NOW).await.unwrap();
    drop_caches_hint();
    let mut opts = ScanOptions::new(NOW);
    opts.embed = false;
    let started = Instant::now();
    let report = t.lib.scan(opts).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "scan_metadata: {} audio files in {secs:.2} s = {:.0} files/s (target >= 2000)",
        report.discovered,
        report.discovered as f64 / secs
    );
    for (phase, s) in &report.phase_secs {
        println!("  {:>9}: {s:.3} s", phase.as_str());
    }
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut opts = ScanOptions::new(NOW);
        opts.embed = false;
        let started = Instant::now();
        let r = t.lib.scan(opts).await.unwrap();
        assert_eq!(r.unchanged, r.discovered);
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "rescan_unchanged: {} files in {best:.3} s, best of 3 (target < 2 s at 10,000)",
        report.discovered
    );
}

/// A full scan with describing and embedding: a mixed library (books and
/// videos carry long descriptions) and a music-only one (short cards).
async fn scan_embed(label: &str, music: usize, books: usize, videos: usize) {
    let t = TestLibrary::new(Spec {
        music,
        books,
        videos,
    })
    .await;
    t.lib.add_root(&t.root, NOW).await.unwrap();
    // Load the model first: it is loaded once per process, not per scan.
    t.lib.embedder().await.unwrap();
    let started = Instant::now();
    let report = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    let embed_secs = report
        .phase_secs
        .iter()
        .find(|(p, _)| p.as_str() == "embed")
        .map_or(secs, |(_, s)| *s);
    println!(
        "scan_embed ({label}): {} items ({} files) in {secs:.1} s = {:.0} items/s overall; embed phase {:.0} items/s (target >= 150)",
        report.embedded,
        report.discovered,
        report.embedded as f64 / secs,
        report.embedded as f64 / embed_secs
    );
}

/// `n` items: half music, a quarter books, a quarter videos.
fn mixed(n: usize) -> Spec {
    Spec {
        music: n / 2,
        books: n / 4,
        videos: n - n / 2 - n / 4,
    }
}

/// The embedder alone on the cards of a mixed library, under several
/// batch shapes: tokens/s is what compares with llama.cpp's own
/// `llama-bench -embd 1` on the same model.
async fn embed_raw(n: usize) {
    let t = TestLibrary::new(mixed(n)).await;
    t.lib.add_root(&t.root, NOW).await.unwrap();
    let mut opts = ScanOptions::new(NOW);
    opts.embed = false;
    t.lib.scan(opts).await.unwrap();
    let texts: Vec<String> = t
        .lib
        .catalog()
        .items_to_index(0, n as i64 * 2)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.text().to_string())
        .collect();
    // BENCH_EMBED_SAME=1: one card repeated, llama-bench's own shape (the
    // same sequence length every batch).
    let texts = if std::env::var_os("BENCH_EMBED_SAME").is_some() {
        vec![texts[0].clone(); texts.len()]
    } else {
        texts
    };
    let model = moodshelf_tests::models_dir().join(moodshelf_engine::config::DEFAULT_EMBED_MODEL);
    let shapes: Vec<(usize, usize, usize)> = std::env::var("BENCH_EMBED_SHAPES")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| {
                    let p: Vec<usize> = s.split('x').filter_map(|x| x.parse().ok()).collect();
                    (p.len() == 3).then(|| (p[0], p[1], p[2]))
                })
                .collect()
        })
        .unwrap_or_else(|| vec![(128, 512, 16)]);
    for (max_tokens, batch_tokens, batch_sequences) in shapes {
        let e = moodshelf_llm::Embedder::load(
            &model,
            moodshelf_llm::EmbedOptions {
                threads: None,
                max_tokens,
                batch_tokens,
                batch_sequences,
            },
        )
        .unwrap();
        let tokens: usize = e.token_counts(texts.clone()).unwrap().iter().sum();
        let started = Instant::now();
        let mut done = 0;
        for chunk in texts.chunks(128) {
            done += e.embed(chunk.to_vec()).unwrap().len();
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "embed_raw max {max_tokens} batch {batch_tokens}x{batch_sequences}: {done} texts, {:.1} tokens each, {:.0} texts/s, {:.0} tokens/s",
            tokens as f64 / done as f64,
            done as f64 / secs,
            tokens as f64 / secs
        );
    }
}

async fn ask_latency(n: usize) {
    let t = TestLibrary::new(mixed(n)).await;
    t.add_and_scan().await;
    ask_latency_on(&t, n).await;
}

async fn ask_latency_on(t: &TestLibrary, n: usize) {
    // Warm up: model loaded, index open, caches hot.
    for q in QUERIES.iter().take(3) {
        search(&t.lib, q, None, 10).await.unwrap();
    }
    let mut totals = Vec::new();
    let mut embeds = Vec::new();
    let mut searches = Vec::new();
    for round in 0..5 {
        for (i, q) in QUERIES.iter().enumerate() {
            let kind = match (i + round) % 4 {
                0 => Some(Kind::Music),
                1 => Some(Kind::Book),
                2 => Some(Kind::Video),
                _ => None,
            };
            let a = search(&t.lib, q, kind, 10).await.unwrap();
            totals.push(a.timings_ms.total_ms);
            embeds.push(a.timings_ms.embed_ms);
            searches.push(a.timings_ms.vector_ms + a.timings_ms.text_ms);
        }
    }
    for v in [&mut totals, &mut embeds, &mut searches] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "search only @ {n} items: total p50 {:.1} ms, p95 {:.1} ms; embed p50 {:.1} ms; search p50 {:.1} ms ({} requests)",
        percentile(&totals, 0.5),
        percentile(&totals, 0.95),
        percentile(&embeds, 0.5),
        percentile(&searches, 0.5),
        totals.len()
    );

    // The recommender's fast path on the same library: rules, filters,
    // feedback, ranking, diversity (no model).
    let mut totals = Vec::new();
    let mut ranks = Vec::new();
    for round in 0..5 {
        for (i, q) in QUERIES.iter().enumerate() {
            let mut r = RecommendRequest::new(
                *q,
                moment(if (i + round) % 2 == 0 {
                    "2026-12-24T20:00"
                } else {
                    "2026-07-04T09:00"
                }),
            );
            r.mode = Mode::Rules;
            r.remember = false;
            let a = t
                .lib
                .recommend(&r, &Cancel::default(), &mut |_| {})
                .await
                .unwrap();
            totals.push(a.timings_ms.total_ms);
            ranks.push(a.timings_ms.rank_ms);
        }
    }
    totals.sort_by(f64::total_cmp);
    ranks.sort_by(f64::total_cmp);
    println!(
        "recommend (fast path) @ {n} items: total p50 {:.1} ms, p95 {:.1} ms (target p95 < 150 ms at 10k); rank p50 {:.1} ms ({} requests)",
        percentile(&totals, 0.5),
        percentile(&totals, 0.95),
        percentile(&ranks, 0.5),
        totals.len()
    );

    // With the reasoning model (the default one, when present): when the
    // first picks and the first reason arrive.
    if n >= 10_000 || std::env::var_os("BENCH_MODEL").is_none() {
        return;
    }
    // As the desktop app does at start: load the model and cache the
    // explaining prompt's fixed part.
    let warm = Instant::now();
    if t.lib.warm_up().await.is_err() {
        println!("recommend with model: skipped (no reasoning model in the models dir)");
        return;
    }
    println!(
        "model warm-up (load + system prompt) @ {n} items: {:.0} ms",
        warm.elapsed().as_secs_f64() * 1e3
    );
    let mut picks = Vec::new();
    let mut first = Vec::new();
    let mut reasons = Vec::new();
    let mut totals = Vec::new();
    for q in QUERIES.iter().take(8) {
        let mut r = RecommendRequest::new(*q, moment("2026-12-24T20:00"));
        r.mode = Mode::Model;
        r.remember = false;
        let a = t
            .lib
            .recommend(&r, &Cancel::default(), &mut |_| {})
            .await
            .unwrap();
        picks.push(a.timings_ms.first_picks_ms);
        first.extend(a.timings_ms.explain_first_token_ms);
        reasons.extend(a.timings_ms.first_reason_ms);
        totals.push(a.timings_ms.total_ms);
    }
    for v in [&mut picks, &mut first, &mut reasons, &mut totals] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "recommend with model @ {n} items: first picks p50 {:.0} ms; first reason token p50 {:.0} ms, p95 {:.0} ms (target < 1 s); first checked reason p50 {:.0} ms, p95 {:.0} ms ({} of {} requests had one); whole answer (all reasons written) p50 {:.0} ms, p95 {:.0} ms ({} requests)",
        percentile(&picks, 0.5),
        percentile(&first, 0.5),
        percentile(&first, 0.95),
        percentile(&reasons, 0.5),
        percentile(&reasons, 0.95),
        reasons.len(),
        totals.len(),
        percentile(&totals, 0.5),
        percentile(&totals, 0.95),
        totals.len()
    );
}

/// The 100k-item library, mixed kinds, real files.
async fn large(n: usize) {
    let dir = std::env::var_os("BENCH_LARGE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/moodshelf/bench")
        })
        .join(format!("large-{n}"));
    let reused = dir.join("data/catalog.sqlite").exists();
    let started = Instant::now();
    let t = moodshelf_tests::TestLibrary::kept(&dir, mixed(n), "").await;
    println!(
        "large: {} items written in {:.1} s under {} ({})",
        t.generated.items.len(),
        started.elapsed().as_secs_f64(),
        dir.display(),
        if reused {
            "data dir kept from an earlier run: the scans below are rescans"
        } else {
            "fresh data dir"
        }
    );
    drop_caches_hint();
    t.lib.add_root(&t.root, NOW).await.unwrap();

    // Metadata first (no model), then embedding, as two scans, so that
    // each rate is its own.
    let mut opts = ScanOptions::new(NOW);
    opts.embed = false;
    let report = t.lib.scan(opts).await.unwrap();
    println!(
        "large metadata scan: {} files ({} new) in {:.1} s = {:.0} files/s",
        report.discovered,
        report.added,
        report.elapsed_secs,
        report.discovered as f64 / report.elapsed_secs
    );
    for (phase, s) in &report.phase_secs {
        println!("  {:>9}: {s:.2} s", phase.as_str());
    }
    t.lib.embedder().await.unwrap();
    let report = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
    let phase = |name: &str| {
        report
            .phase_secs
            .iter()
            .find(|(p, _)| p.as_str() == name)
            .map_or(0.0, |(_, s)| *s)
    };
    println!(
        "large embedding scan: {} items embedded in {:.1} s; embed phase {:.0} items/s; \
         index upkeep (full-text and vector index, compaction) {:.1} s",
        report.embedded,
        report.elapsed_secs,
        report.embedded as f64 / phase("embed").max(1e-9),
        phase("persist")
    );
    let mut best = f64::MAX;
    for _ in 0..3 {
        let r = t.lib.scan(ScanOptions::new(NOW)).await.unwrap();
        assert_eq!(r.unchanged, r.discovered);
        best = best.min(r.elapsed_secs);
    }
    println!(
        "large rescan_unchanged: {} files in {best:.2} s, best of 3",
        report.discovered
    );

    // The vector leg alone: the approximate index against exact search,
    // on requests and on items used as queries ("more like this").
    let index = t.lib.index().await.unwrap();
    let rows = index.count().await.unwrap();
    let indexed = index.has_vector_index().await.unwrap();
    println!(
        "large index: {rows} rows, vector index {} (built from {} rows)",
        if indexed { "present" } else { "absent" },
        moodshelf_index::VECTOR_INDEX_MIN_ROWS
    );
    let embedder = t.lib.embedder().await.unwrap();
    let mut queries = embedder
        .embed(QUERIES.iter().map(|q| q.to_string()).collect())
        .unwrap();
    let ids = index.ids().await.unwrap();
    let sample: Vec<i64> = ids
        .iter()
        .step_by((ids.len() / 80).max(1))
        .copied()
        .collect();
    queries.extend(index.vectors(&sample).await.unwrap().into_values());
    let filters = [
        moodshelf_index::Filter::default(),
        moodshelf_index::Filter {
            kinds: vec![Kind::Book],
            ..Default::default()
        },
        moodshelf_index::Filter {
            kinds: vec![Kind::Video],
            min_year: Some(1990),
            ..Default::default()
        },
    ];
    let filter_names = ["no filter", "books", "films from 1990"];
    for k in [10, 100] {
        #[derive(Clone, Default)]
        struct Leg {
            exact_ms: Vec<f64>,
            index_ms: Vec<f64>,
            found: usize,
            total: usize,
        }
        let mut legs = vec![Leg::default(); filters.len()];
        for (i, q) in queries.iter().enumerate() {
            let leg = &mut legs[i % filters.len()];
            let f = &filters[i % filters.len()];
            let started = Instant::now();
            let exact = index.nearest(q, f, k, true).await.unwrap();
            leg.exact_ms.push(started.elapsed().as_secs_f64() * 1e3);
            let started = Instant::now();
            let approx = index.nearest(q, f, k, false).await.unwrap();
            leg.index_ms.push(started.elapsed().as_secs_f64() * 1e3);
            let truth: std::collections::HashSet<i64> = exact.iter().map(|h| h.0).collect();
            leg.found += approx.iter().filter(|h| truth.contains(&h.0)).count();
            leg.total += exact.len();
        }
        let all = |pick: fn(&Leg) -> &Vec<f64>| {
            let mut v: Vec<f64> = legs.iter().flat_map(|l| pick(l).iter().copied()).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let (exact_ms, approx_ms) = (all(|l| &l.exact_ms), all(|l| &l.index_ms));
        let found: usize = legs.iter().map(|l| l.found).sum();
        let total: usize = legs.iter().map(|l| l.total).sum();
        println!(
            "large vector leg, top {k} ({} queries: 20 requests, the rest items as \"more like this\"): \
             exact p50 {:.1} ms, p95 {:.1} ms; {} p50 {:.1} ms, p95 {:.1} ms; recall@{k} {:.3}",
            queries.len(),
            percentile(&exact_ms, 0.5),
            percentile(&exact_ms, 0.95),
            if indexed {
                "index"
            } else {
                "flat again (no index)"
            },
            percentile(&approx_ms, 0.5),
            percentile(&approx_ms, 0.95),
            found as f64 / total.max(1) as f64
        );
        for (name, leg) in filter_names.iter().zip(&mut legs) {
            leg.exact_ms.sort_by(f64::total_cmp);
            leg.index_ms.sort_by(f64::total_cmp);
            let (exact, approx) = (&leg.exact_ms, &leg.index_ms);
            let (found, total) = (leg.found, leg.total);
            println!(
                "  {name:>15}: exact p50 {:.1} ms, p95 {:.1} ms; index p50 {:.1} ms, p95 {:.1} ms; recall@{k} {:.3}",
                percentile(exact, 0.5),
                percentile(exact, 0.95),
                percentile(approx, 0.5),
                percentile(approx, 0.95),
                found as f64 / total.max(1) as f64
            );
        }
    }
    drop(index);
    ask_latency_on(&t, n).await;
    println!("large peak resident memory: {}", peak_rss());
}

/// Sound analysis through the library: seconds per minute of audio on one
/// and on two workers, for real recorded music (the MP3s of Debian's
/// `asc-music`, copied four times) and for synthesized WAV.
async fn sound_analysis() {
    use moodshelf_engine::analysis::AnalyzeOptions;
    use moodshelf_tests::sound::two_families;
    let music = std::path::Path::new("/usr/share/games/asc/music");
    let dir = tempfile::tempdir().expect("temp dir");
    let mp3 = dir.path().join("mp3");
    let wav = dir.path().join("wav");
    std::fs::create_dir_all(&mp3).unwrap();
    std::fs::create_dir_all(&wav).unwrap();
    let recorded: Vec<_> = std::fs::read_dir(music)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    if recorded.is_empty() {
        println!(
            "sound: {} is missing (install asc-music); recorded music skipped",
            music.display()
        );
    }
    for copy in 0..4 {
        for f in &recorded {
            let name = format!("{copy}-{}", f.file_name().unwrap().to_string_lossy());
            std::fs::copy(f, mp3.join(name)).unwrap();
        }
    }
    for (i, s) in two_families(6, 60.0).into_iter().enumerate() {
        s.write_wav(&wav.join(format!("{i:02}.wav"))).unwrap();
    }
    for (label, root) in [("recorded MP3", &mp3), ("synthesized WAV", &wav)] {
        for workers in [1, 2] {
            let base = dir.path().join(format!("data-{label}-{workers}"));
            let lib = moodshelf_tests::open(&base).await;
            lib.add_root(root, NOW).await.unwrap();
            let mut scan = ScanOptions::new(NOW);
            scan.embed = false;
            lib.scan(scan).await.unwrap();
            let mut opts = AnalyzeOptions::new(NOW);
            opts.workers = workers;
            let r = lib.analyze(opts).await.unwrap();
            if r.analyzed == 0 {
                continue;
            }
            println!(
                "sound {label}, {workers} worker(s): {} tracks, {:.1} min of audio in {:.1} s: {:.3} s per minute of audio ({:.0}× real time), {} failed",
                r.analyzed,
                r.minutes,
                r.secs,
                r.secs / r.minutes.max(1e-9),
                r.minutes * 60.0 / r.secs.max(1e-9),
                r.failed
            );
            lib.close().await;
        }
    }
    // Memory per track: `cargo bench --workspace --bench analysis`.
}

/// A memory field of /proc/self/status, in KiB (0 if unknown).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The process's peak resident set (VmHWM), as Linux reports it.
fn peak_rss() -> String {
    match status_kib("VmHWM:") {
        0 => "unknown".into(),
        kib => format!("{kib} kB"),
    }
}

/// The files were just written, so they are in the page cache: this
/// measures the scanner, not the disk. Said here so nobody is misled.
fn drop_caches_hint() {
    println!("(files were just generated and are in the page cache: warm-cache numbers)");
}
