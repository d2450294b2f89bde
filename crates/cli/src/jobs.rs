//! The long jobs over the whole library: `scan`, `enrich`, `analyze`,
//! `watch` and `index rebuild`, with their progress bar on stderr and the
//! Ctrl-C handling that lets the next run go on where one stopped.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use moodshelf_engine::analysis::{AnalyzeOptions, AnalyzeReport};
use moodshelf_engine::enrich::{EnrichOptions, EnrichReport};
use moodshelf_engine::{
    Library, Paths, Progress, ProgressFn, ScanOptions, ScanReport, WatchEvent, WatchOptions,
};

use crate::out::{print_json, shown};

#[derive(Subcommand)]
pub enum IndexAction {
    /// Drop the index and rebuild it from the catalog.
    Rebuild,
}

/// `scan`, then with `--enrich` what `enrich` does.
pub async fn scan(
    paths: Paths,
    now: i64,
    no_embed: bool,
    enrich: bool,
    json: bool,
) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let mut opts = ScanOptions::new(now);
    opts.embed = !no_embed;
    let report = scan_with_progress(&lib, opts).await?;
    if !enrich {
        lib.close().await;
        print_report(&report, json);
        return Ok(());
    }
    if !json {
        print_report(&report, false);
    }
    let enriched = enrich_with_progress(&lib, now, None).await?;
    lib.close().await;
    if json {
        print_json(&serde_json::json!({ "scan": report, "enrich": enriched }));
    } else {
        print_enrich(&enriched);
    }
    Ok(())
}

/// `enrich`: the reasoning model reads the works it has not read.
pub async fn enrich(
    paths: Paths,
    now: i64,
    limit: Option<usize>,
    json: bool,
) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let report = enrich_with_progress(&lib, now, limit).await?;
    lib.close().await;
    if json {
        print_json(&report);
    } else {
        print_enrich(&report);
    }
    Ok(())
}

/// `analyze`: the audio of the tracks not yet analysed.
pub async fn analyze(
    paths: Paths,
    now: i64,
    limit: Option<usize>,
    json: bool,
) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let report = analyze_with_progress(&lib, now, limit).await?;
    lib.close().await;
    if json {
        print_json(&report);
    } else {
        print_analyze(&report);
    }
    Ok(())
}

/// `watch`, with `--scan` a scan first.
pub async fn watch(paths: Paths, now: i64, scan: bool, json: bool) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    if scan {
        let report = scan_with_progress(&lib, ScanOptions::new(now)).await?;
        if !json {
            print_report(&report, false);
        }
    }
    watch_cmd(&lib, json).await?;
    lib.close().await;
    Ok(())
}

/// `index rebuild`.
pub async fn index(paths: Paths, action: IndexAction, now: i64, json: bool) -> anyhow::Result<()> {
    match action {
        IndexAction::Rebuild => {
            let lib = Library::open(paths).await?;
            let mut opts = ScanOptions::new(now);
            opts.progress = progress_bar();
            let report = lib.rebuild_index(opts).await?;
            lib.close().await;
            print_report(&report, json);
            Ok(())
        }
    }
}

async fn enrich_with_progress(
    lib: &Library,
    now: i64,
    limit: Option<usize>,
) -> anyhow::Result<EnrichReport> {
    let mut opts = EnrichOptions::new(now);
    opts.max_items = limit;
    opts.progress = progress_bar();
    let ctrl_c = stop_on_ctrl_c(
        opts.cancel.clone(),
        "\nstopping after the works being read; the next run goes on from here…",
    );
    let report = lib.enrich(opts).await;
    ctrl_c.abort();
    Ok(report?)
}

/// The first Ctrl-C sets `cancel` (the work stops where the next run goes
/// on) after saying `message`; a second one quits at once.
fn stop_on_ctrl_c(cancel: Arc<AtomicBool>, message: &'static str) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("{message}");
            cancel.store(true, Ordering::Relaxed);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    })
}

async fn analyze_with_progress(
    lib: &Library,
    now: i64,
    limit: Option<usize>,
) -> anyhow::Result<AnalyzeReport> {
    let mut opts = AnalyzeOptions::new(now);
    opts.max_items = limit;
    opts.progress = progress_bar();
    let ctrl_c = stop_on_ctrl_c(
        opts.cancel.clone(),
        "\nstopping after the tracks under way; the next run goes on from here…",
    );
    let report = lib.analyze(opts).await;
    ctrl_c.abort();
    Ok(report?)
}

fn print_analyze(r: &AnalyzeReport) {
    println!(
        "Analysed {} tracks ({:.0} minutes of audio) in {:.0} s; {} could not be; {} of {} still to analyse.",
        r.analyzed, r.minutes, r.secs, r.failed, r.remaining, r.tracks
    );
    for e in &r.error_samples {
        eprintln!("  {}: {}", shown(&e.path), shown(&e.error));
    }
}

fn print_enrich(r: &EnrichReport) {
    let rate = if r.secs > 0.0 {
        r.read as f64 / r.secs
    } else {
        0.0
    };
    println!(
        "Read {} works in {:.0} s ({rate:.2} a second): {} known to the model, {} more read from \
         their files; {} items' cards updated; {} of {} works still to read.",
        r.read,
        r.secs,
        r.known,
        r.described.saturating_sub(r.known),
        r.items_refreshed,
        r.remaining,
        r.thin
    );
}

async fn scan_with_progress(lib: &Library, mut opts: ScanOptions) -> anyhow::Result<ScanReport> {
    opts.progress = progress_bar();
    let ctrl_c = stop_on_ctrl_c(
        opts.cancel.clone(),
        "\nstopping after the current batch (Ctrl-C again to quit now)…",
    );
    let report = lib.scan(opts).await;
    ctrl_c.abort();
    Ok(report?)
}

/// A progress bar on stderr, one phase at a time: counts, rate and time
/// left. Hidden when stderr is not a terminal.
fn progress_bar() -> Option<ProgressFn> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    let phase = std::sync::Mutex::new(None);
    Some(Arc::new(move |p: &Progress| {
        let mut current = phase.lock().unwrap_or_else(|e| e.into_inner());
        if *current != Some(p.phase) {
            *current = Some(p.phase);
            bar.reset();
            let style = match p.total {
                Some(_) => ProgressStyle::with_template(
                    "{msg:>9} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)",
                ),
                None => ProgressStyle::with_template("{msg:>9} {spinner} {pos} files ({per_sec})"),
            }
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(p.phase.as_str());
        }
        if let Some(t) = p.total {
            bar.set_length(t);
        }
        bar.set_position(p.done);
        let last = matches!(
            p.phase,
            moodshelf_engine::Phase::Persist
                | moodshelf_engine::Phase::Enrich
                | moodshelf_engine::Phase::Analyze
        );
        if last && p.total == Some(p.done) {
            bar.finish_and_clear();
        }
    }))
}

fn print_report(r: &ScanReport, json: bool) {
    if json {
        print_json(r);
        return;
    }
    println!(
        "Scanned {} files in {:.1} s: {} new, {} changed, {} moved, {} removed, {} unchanged, {} unreadable; {} embedded.",
        r.discovered,
        r.elapsed_secs,
        r.added,
        r.changed,
        r.moved,
        r.removed,
        r.unchanged,
        r.errors,
        r.embedded
    );
    for (phase, secs) in &r.phase_secs {
        eprintln!("  {:>9}: {secs:.2} s", phase.as_str());
    }
    for w in &r.warnings {
        eprintln!("note: {}", shown(w));
    }
    if r.errors > 0 {
        eprintln!(
            "{} files could not be read; `moodshelf errors` lists them.",
            r.errors
        );
    }
}

async fn watch_cmd(lib: &Library, json: bool) -> anyhow::Result<()> {
    let clock: moodshelf_engine::live::Clock = Arc::new(|| chrono::Utc::now().timestamp());
    let handle = lib
        .watch(WatchOptions::new(clock), move |ev: WatchEvent| {
            if json {
                print_json(&ev);
                return;
            }
            match ev {
                WatchEvent::Watching { root, mode } => eprintln!("watching {} ({mode:?})", shown(&root)),
                WatchEvent::Note { message } => eprintln!("note: {}", shown(&message)),
                WatchEvent::Updated { added, changed, moved, removed, errors, embedded, elapsed_ms } => println!(
                    "updated: {added} new, {changed} changed, {moved} moved, {removed} removed, {errors} unreadable, {embedded} embedded ({elapsed_ms:.0} ms)"
                ),
                WatchEvent::RootUnavailable { root } => println!("{} is gone; its items are kept until it is back", shown(&root)),
                WatchEvent::RootAvailable { root } => println!("{} is back; rescanning", shown(&root)),
                WatchEvent::Rescanned { root, added, changed, removed } => {
                    println!("rescanned {}: {added} new, {changed} changed, {removed} removed", shown(&root))
                }
                WatchEvent::Error { message } => eprintln!("error: {}", shown(&message)),
            }
        })
        .await?;
    if !json {
        eprintln!("Watching for changes; Ctrl-C to stop.");
    }
    wait_for_stop().await;
    handle.stop().await?;
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
