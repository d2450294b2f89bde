//! `moodshelf`: the headless host. Every command is a thin wrapper over one
//! engine call; this file parses arguments, reads the clock (the only place
//! that does), shows progress on stderr and prints results on stdout, as
//! text or, with `--json`, as one JSON object for scripts.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use moodshelf_catalog::Verdict;
use moodshelf_engine::analysis::{AnalyzeOptions, AnalyzeReport};
use moodshelf_engine::enrich::{EnrichOptions, EnrichReport};
use moodshelf_engine::models::{self, FetchEvent, FetchOptions};
use moodshelf_engine::playlist::{Format, Playlist, PlaylistRequest, PlaylistSource, Shape};
use moodshelf_engine::reader;
use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{
    Code, Error, Kind, Library, Moment, Paths, Progress, ProgressFn, ScanOptions, ScanReport,
    WatchEvent, WatchOptions,
};
use serde::Serialize;

mod history;
mod person;
mod show;
mod talk;

#[derive(Parser)]
#[command(
    name = "moodshelf",
    version,
    about = "Recommendations from the music, books and videos you own, offline."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// Where the catalog, index, covers and settings live.
    #[arg(long, global = true, env = "MOODSHELF_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Where model files live (default: <data dir>/models).
    #[arg(long, global = true, env = "MOODSHELF_MODELS_DIR", value_name = "DIR")]
    models_dir: Option<PathBuf>,
    /// The time to act at, as RFC 3339 ("2026-12-24T20:00:00Z") or Unix
    /// seconds; defaults to now. Makes runs repeatable.
    #[arg(long, global = true, value_name = "TIME")]
    now: Option<String>,
    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Manage the folders in the library.
    Library {
        #[command(subcommand)]
        action: LibraryAction,
    },
    /// Scan every folder: read new and changed files, embed, index.
    Scan {
        /// Read metadata only; embedding waits for the next scan.
        #[arg(long, conflicts_with = "enrich")]
        no_embed: bool,
        /// Then let the reasoning model read every work it has not read
        /// (as `moodshelf enrich` does).
        #[arg(long)]
        enrich: bool,
    },
    /// Let the reasoning model read every work of the library once (each
    /// film and book, each album or artist for music) and say what it
    /// knows of it: genres, moods, themes, setting, tone, audience, what
    /// it offers; "unknown" for works it does not know. Answers then find
    /// items by what they are about, even when their files carry only a
    /// title. Resumable: Ctrl-C stops it and the next run goes on.
    Enrich {
        /// Read at most this many works now.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Listen to the tracks: analyse the audio of every track not yet
    /// analysed in its current form (tempo, loudness, energy, key), so
    /// "calm" and "driving" are heard, not only read. Runs at low priority;
    /// resumable: Ctrl-C stops it and the next run goes on.
    Analyze {
        /// Analyse at most this many tracks now.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// One item: what its file says and what the reasoning model
    /// understood of its work.
    Show { path: PathBuf },
    /// The tracks that sound most like the one at PATH.
    Similar {
        path: PathBuf,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// A playlist: the tracks a request asks for, or a journey from one
    /// track to another; printed with its energy curve, written as M3U8
    /// or XSPF.
    Playlist {
        /// What it is for ("an hour of calm music for cooking").
        request: Vec<String>,
        /// Fill this many minutes (within one).
        #[arg(long, value_name = "MIN")]
        minutes: Option<f64>,
        /// From the calmest track to the most energetic.
        #[arg(long, conflicts_with = "winding_down")]
        rising: bool,
        /// From the most energetic track to the calmest.
        #[arg(long)]
        winding_down: bool,
        /// A journey: from this track…
        #[arg(long, value_name = "PATH", requires = "to", conflicts_with = "request")]
        from: Option<PathBuf>,
        /// …to this one…
        #[arg(long, value_name = "PATH", requires = "from")]
        to: Option<PathBuf>,
        /// …in this many tracks between them.
        #[arg(long, default_value_t = 8)]
        steps: usize,
        /// Write it as extended M3U (UTF-8) here.
        #[arg(long, value_name = "FILE")]
        m3u: Option<PathBuf>,
        /// Write it as XSPF here.
        #[arg(long, value_name = "FILE")]
        xspf: Option<PathBuf>,
    },
    /// Keep the library up to date as files change (until Ctrl-C).
    Watch {
        /// Scan once before watching.
        #[arg(long)]
        scan: bool,
    },
    /// Ask for something from the library.
    Ask {
        /// What you are in the mood for.
        query: Vec<String>,
        #[command(flatten)]
        talk: TalkArgs,
        /// Continue the most recent conversation (follow-ups refine it).
        #[arg(long = "continue", conflicts_with = "conversation")]
        continue_last: bool,
        /// Continue this conversation.
        #[arg(long, value_name = "ID")]
        conversation: Option<i64>,
    },
    /// A conversation on the terminal: ask, refine, give feedback.
    Chat {
        #[command(flatten)]
        talk: TalkArgs,
        /// Resume this conversation.
        #[arg(long, value_name = "ID")]
        conversation: Option<i64>,
    },
    /// Like, dislike or set aside an item, by its path.
    Feedback {
        path: PathBuf,
        #[arg(long, group = "verdict", required = true)]
        like: bool,
        #[arg(long, group = "verdict")]
        dislike: bool,
        #[arg(long = "not-now", group = "verdict")]
        not_now: bool,
    },
    /// The stored conversations, newest first.
    Conversations {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Library counts, folders, models and the last scan.
    Status,
    /// Files that could not be read, and why.
    Errors {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// The person's history from elsewhere (ListenBrainz, Last.fm).
    History {
        #[command(subcommand)]
        action: history::HistoryAction,
    },
    #[command(flatten)]
    Person(person::PersonCommand),
    /// Maintain the search index.
    Index {
        #[command(subcommand)]
        action: IndexAction,
    },
    /// Fetch and list model files.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
}

#[derive(Args)]
struct TalkArgs {
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Let the reasoning model read the request and write a reason tailored
    /// to it for the top picks (slower). Without it, picks come at once
    /// with reasons composed from what the model understood of each item
    /// at index time (`moodshelf enrich`).
    #[arg(long, conflicts_with_all = ["search_only", "no_llm"])]
    explain: bool,
    /// The fast path only (the default; kept for scripts).
    #[arg(long, conflicts_with = "search_only")]
    no_llm: bool,
    /// Embedding search only, as the first version did (for comparisons).
    #[arg(long)]
    search_only: bool,
    /// Which months are winter (default: settings, else north).
    #[arg(long, value_name = "north|south")]
    hemisphere: Option<String>,
}

impl TalkArgs {
    fn options(&self, json: bool) -> anyhow::Result<talk::TalkOptions> {
        Ok(talk::TalkOptions {
            kind: self.kind.map(KindArg::kind),
            limit: self.limit,
            mode: if self.search_only {
                Mode::Search
            } else if self.explain {
                Mode::Model
            } else {
                Mode::Rules
            },
            hemisphere: self
                .hemisphere
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e: String| Error::new(Code::InvalidInput, e))?,
            json,
            one_shot: false,
        })
    }
}

impl KindArg {
    fn kind(self) -> Kind {
        match self {
            KindArg::Music => Kind::Music,
            KindArg::Book => Kind::Book,
            KindArg::Video => Kind::Video,
        }
    }
}

#[derive(Subcommand)]
enum LibraryAction {
    /// Add folders (scan afterwards).
    Add { paths: Vec<PathBuf> },
    /// Remove a folder and forget its items.
    Remove { path: PathBuf },
    /// List the folders.
    List,
}

#[derive(Subcommand)]
enum IndexAction {
    /// Drop the index and rebuild it from the catalog.
    Rebuild,
}

#[derive(Subcommand)]
enum ModelsAction {
    /// Download (or convert) and verify the models of a profile.
    Fetch {
        #[arg(long, value_enum, default_value_t = ProfileArg::Default)]
        profile: ProfileArg,
    },
    /// Show which models are present.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Music,
    Book,
    Video,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProfileArg {
    Default,
    Test,
}

fn main() -> ExitCode {
    // This executable also reads files for itself, one child per reading
    // thread, where memory and time limits are enforced (engine `reader`).
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == reader::WORKER_ARG)
    {
        reader::serve();
    }
    if let Ok(exe) = std::env::current_exe() {
        reader::use_reader_processes(exe);
    }
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MOODSHELF_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(format!(
                    "warn,{}",
                    moodshelf_engine::QUIET_THIRD_PARTIES
                ))
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let (code, message) = match e.downcast_ref::<Error>() {
                Some(err) => (err.code, err.message.clone()),
                None => (Code::Internal, format!("{e:#}")),
            };
            if json {
                print_json(&serde_json::json!({ "error": { "code": code, "message": message } }));
            }
            eprintln!("error: {}", shown(&message));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = &cli.global;
    let moment = parse_moment(g.now.as_deref())?;
    let now = moment.unix;
    let paths = Paths::resolve(g.data_dir.clone(), g.models_dir.clone())?;
    match cli.command {
        Command::Models { action } => models_cmd(action, &paths, g.json).await,
        Command::Person(cmd) => person::run(paths, cmd, now, g.json).await,
        Command::History { action } => {
            let lib = Library::open(paths).await?;
            let done = history::run(&lib, action, now, g.json).await;
            lib.close().await;
            done
        }
        Command::Library { action } => {
            let lib = Library::open(paths).await?;
            library_cmd(&lib, action, now, g.json).await?;
            lib.close().await;
            Ok(())
        }
        Command::Scan { no_embed, enrich } => {
            let lib = Library::open(paths).await?;
            let mut opts = ScanOptions::new(now);
            opts.embed = !no_embed;
            let report = scan_with_progress(&lib, opts).await?;
            if !enrich {
                lib.close().await;
                print_report(&report, g.json);
                return Ok(());
            }
            if !g.json {
                print_report(&report, false);
            }
            let enriched = enrich_with_progress(&lib, now, None).await?;
            lib.close().await;
            if g.json {
                print_json(&serde_json::json!({ "scan": report, "enrich": enriched }));
            } else {
                print_enrich(&enriched);
            }
            Ok(())
        }
        Command::Enrich { limit } => {
            let lib = Library::open(paths).await?;
            let report = enrich_with_progress(&lib, now, limit).await?;
            lib.close().await;
            if g.json {
                print_json(&report);
            } else {
                print_enrich(&report);
            }
            Ok(())
        }
        Command::Analyze { limit } => {
            let lib = Library::open(paths).await?;
            let report = analyze_with_progress(&lib, now, limit).await?;
            lib.close().await;
            if g.json {
                print_json(&report);
            } else {
                print_analyze(&report);
            }
            Ok(())
        }
        Command::Show { path } => {
            let lib = Library::open(paths).await?;
            let details = lib.item_details(&path).await;
            lib.close().await;
            show::print(&details?, g.json);
            Ok(())
        }
        Command::Similar { path, limit } => {
            let lib = Library::open(paths).await?;
            let alike = lib.sounds_like(&path, limit).await?;
            lib.close().await;
            if g.json {
                print_json(&serde_json::json!({ "similar": alike }));
            } else {
                for a in &alike {
                    println!(
                        "{:.2}  {} ({})",
                        a.distance,
                        shown(&a.item.path),
                        a.heard.join(", ")
                    );
                }
            }
            Ok(())
        }
        Command::Playlist {
            request,
            minutes,
            rising,
            winding_down,
            from,
            to,
            steps,
            m3u,
            xspf,
        } => {
            let text = request.join(" ");
            let source = match (from, to) {
                (Some(from), Some(to)) => PlaylistSource::Journey { from, to, steps },
                _ if text.trim().is_empty() => {
                    anyhow::bail!(Error::new(
                        Code::InvalidInput,
                        "say what the playlist is for, or give --from and --to",
                    ))
                }
                _ => PlaylistSource::Request {
                    text: text.clone(),
                    moment,
                },
            };
            let shape = if rising {
                Shape::Rising
            } else if winding_down {
                Shape::WindingDown
            } else {
                Shape::Steady
            };
            let lib = Library::open(paths).await?;
            let req = PlaylistRequest {
                source,
                minutes,
                shape,
            };
            let list = lib
                .playlist(&req, &moodshelf_llm::Cancel::default())
                .await?;
            let title = if text.trim().is_empty() {
                "Journey".to_string()
            } else {
                text.clone()
            };
            for (file, format) in [(&m3u, Format::M3u8), (&xspf, Format::Xspf)] {
                if let Some(file) = file {
                    lib.save_playlist(&list, &title, file, format).await?;
                }
            }
            lib.close().await;
            if g.json {
                print_json(&list);
            } else {
                print_playlist(&list);
            }
            Ok(())
        }
        Command::Watch { scan } => {
            let lib = Library::open(paths).await?;
            if scan {
                let report = scan_with_progress(&lib, ScanOptions::new(now)).await?;
                if !g.json {
                    print_report(&report, false);
                }
            }
            watch_cmd(&lib, g.json).await?;
            lib.close().await;
            Ok(())
        }
        Command::Ask {
            query,
            talk: t,
            continue_last,
            conversation,
        } => {
            let lib = Library::open(paths).await?;
            let opts = talk::TalkOptions {
                one_shot: true,
                ..t.options(g.json)?
            };
            let conversation = match (continue_last, conversation) {
                (true, _) => lib.catalog().conversations(1).await?.first().map(|c| c.id),
                (_, c) => c,
            };
            talk::ask(&lib, &query.join(" "), conversation, moment, &opts).await?;
            lib.close().await;
            Ok(())
        }
        Command::Chat {
            talk: t,
            conversation,
        } => {
            let lib = Library::open(paths).await?;
            let opts = t.options(g.json)?;
            let fixed = g.now.is_some();
            talk::chat(
                &lib,
                conversation,
                || {
                    if fixed {
                        moment
                    } else {
                        parse_moment(None).unwrap_or(moment)
                    }
                },
                &opts,
            )
            .await?;
            lib.close().await;
            Ok(())
        }
        Command::Feedback {
            path,
            like,
            dislike,
            not_now: _,
        } => {
            let lib = Library::open(paths).await?;
            let verdict = if like {
                Verdict::Like
            } else if dislike {
                Verdict::Dislike
            } else {
                Verdict::NotNow
            };
            talk::feedback(&lib, &path, verdict, now, g.json).await?;
            lib.close().await;
            Ok(())
        }
        Command::Conversations { limit } => {
            let lib = Library::open(paths).await?;
            let list = lib.catalog().conversations(limit).await?;
            if g.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|c| serde_json::json!({"id": c.id, "title": c.title, "updated_at": c.updated_at}))
                    .collect();
                print_json(&v);
            } else {
                for c in &list {
                    println!("{:>4}  {}", c.id, c.title);
                }
            }
            lib.close().await;
            Ok(())
        }
        Command::Status => {
            let lib = Library::open(paths).await?;
            let status = lib.status().await?;
            if g.json {
                print_json(&status);
            } else {
                println!("Data:    {}", status.data_dir);
                println!("Models:  {}", status.models_dir);
                println!(
                    "Library: {} music, {} books, {} videos ({} files, {} unreadable)",
                    status.music, status.books, status.videos, status.files, status.file_errors
                );
                if status.pending_index > 0 {
                    println!(
                        "         {} items wait to be indexed (run `moodshelf scan`)",
                        status.pending_index
                    );
                }
                if status.enriched_items < status.thin_items {
                    println!(
                        "         {} of {} works read by the reasoning model (run `moodshelf enrich`)",
                        status.enriched_items, status.thin_items
                    );
                }
                if status.analyzed_tracks < status.tracks {
                    println!(
                        "         {} of {} tracks analysed by their sound (run `moodshelf analyze`)",
                        status.analyzed_tracks, status.tracks
                    );
                }
                if status.unavailable_items > 0 {
                    println!(
                        "         {} items are hidden: their folder is not available or their file was not seen (kept until a scan finds them or sees the folder whole)",
                        status.unavailable_items
                    );
                }
                if let Some(problem) = &status.settings_problem {
                    println!("Settings: {problem}");
                }
                if let Some(url) = &status.reasoning_endpoint {
                    println!(
                        "Reasoning: {url} (requests and the picks' titles, creators, years and genres go there; embeddings stay here)"
                    );
                }
                for r in &status.roots {
                    println!("Folder:  {} [{}]", shown(&r.path), r.state);
                }
                for m in &status.models {
                    println!(
                        "Model:   {} {} [{}]",
                        m.role,
                        m.path,
                        if m.present {
                            "present"
                        } else {
                            "missing: run `moodshelf models fetch`"
                        }
                    );
                }
                if let Some(s) = &status.last_scan {
                    println!(
                        "Scan:    {} at phase {}{}",
                        s.status,
                        s.phase,
                        s.message
                            .as_deref()
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        Command::Errors { limit } => {
            let lib = Library::open(paths).await?;
            let errors = lib.file_errors(limit).await?;
            if g.json {
                print_json(&serde_json::json!({ "errors": errors }));
            } else {
                for e in &errors {
                    println!("{}\n    {}", shown(&e.path), shown(&e.error));
                }
            }
            Ok(())
        }
        Command::Index {
            action: IndexAction::Rebuild,
        } => {
            let lib = Library::open(paths).await?;
            let mut opts = ScanOptions::new(now);
            opts.progress = progress_bar();
            let report = lib.rebuild_index(opts).await?;
            lib.close().await;
            print_report(&report, g.json);
            Ok(())
        }
    }
}

async fn library_cmd(
    lib: &Library,
    action: LibraryAction,
    now: i64,
    json: bool,
) -> anyhow::Result<()> {
    match action {
        LibraryAction::Add { paths } => {
            anyhow::ensure!(!paths.is_empty(), "name at least one folder to add");
            let mut added = Vec::new();
            for p in paths {
                added.push(lib.add_root(&p, now).await?);
            }
            if json {
                print_json(&serde_json::json!({ "roots": added }));
            } else {
                for r in &added {
                    println!("Added {}", shown(&r.path));
                }
                eprintln!("Run `moodshelf scan` to read them.");
            }
        }
        LibraryAction::Remove { path } => {
            let n = lib.remove_root(&path).await?;
            if json {
                print_json(&serde_json::json!({ "removed_items": n }));
            } else {
                println!(
                    "Removed {} and its {n} items",
                    shown(&path.to_string_lossy())
                );
            }
        }
        LibraryAction::List => {
            let roots = lib.roots().await?;
            if json {
                print_json(&serde_json::json!({ "roots": roots }));
            } else {
                for r in roots {
                    println!("{} [{}]", shown(&r.path), r.state);
                }
            }
        }
    }
    Ok(())
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

/// One line per track with its energy as a bar: the playlist's curve.
fn print_playlist(p: &Playlist) {
    for (i, t) in p.tracks.iter().enumerate() {
        let bar = t.energy.map_or("   ?    ".to_string(), |e| {
            let n = (e * 8.0).round() as usize;
            format!("{:<8}", "█".repeat(n.min(8)))
        });
        let by = t
            .item
            .creator
            .as_deref()
            .map_or(String::new(), |c| format!(" — {}", shown(c)));
        let mins = t.item.duration_secs.map_or(String::new(), |d| {
            format!(" [{}:{:02}]", (d / 60.0) as u64, d as u64 % 60)
        });
        println!("{:>3}. {bar} {}{by}{mins}", i + 1, shown(&t.item.title));
        if !t.heard.is_empty() {
            println!("              {}", t.heard.join(", "));
        }
    }
    println!(
        "{} tracks, {:.0} minutes",
        p.tracks.len(),
        p.total_secs / 60.0
    );
    for n in &p.notes {
        eprintln!("note: {n}");
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

async fn models_cmd(action: ModelsAction, paths: &Paths, json: bool) -> anyhow::Result<()> {
    match action {
        ModelsAction::List => {
            let list = models::list(&paths.models_dir);
            if json {
                let rows: Vec<_> = list
                    .iter()
                    .map(|(m, present)| serde_json::json!({"name": m.name, "role": m.role, "file": m.file, "size": m.size, "profiles": m.profiles, "present": present}))
                    .collect();
                print_json(&serde_json::json!({ "models_dir": paths.models_dir, "models": rows }));
            } else {
                println!("Models dir: {}", paths.models_dir.display());
                for (m, present) in list {
                    println!(
                        "  {:<30} {:<9} {:>7.1} MB  {}  [{}]",
                        m.name,
                        m.role,
                        m.size as f64 / 1e6,
                        m.profiles.join(","),
                        if present { "present" } else { "missing" }
                    );
                }
            }
            Ok(())
        }
        ModelsAction::Fetch { profile } => {
            let name = match profile {
                ProfileArg::Default => "default",
                ProfileArg::Test => "test",
            };
            let specs = models::profile(name)?;
            let opts = FetchOptions {
                models_dir: paths.models_dir.clone(),
                python: None,
                cancel: Arc::new(AtomicBool::new(false)),
            };
            let cancel = opts.cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    cancel.store(true, Ordering::Relaxed);
                }
            });
            let installed = tokio::task::spawn_blocking(move || {
                let bar = ProgressBar::new(0);
                let tty = std::io::stderr().is_terminal();
                if !tty {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
                }
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                let say = |msg: String| {
                    if tty {
                        bar.println(msg);
                    } else {
                        eprintln!("{msg}");
                    }
                };
                let on_event = |e: FetchEvent| match e {
                    FetchEvent::Downloading { name, done, total } => {
                        bar.set_message(format!("downloading {name}"));
                        bar.set_length(total.unwrap_or(done));
                        bar.set_position(done);
                    }
                    FetchEvent::Verifying { name, done, total } => {
                        bar.set_message(format!("verifying {name}"));
                        bar.set_length(total);
                        bar.set_position(done);
                    }
                    FetchEvent::Converting { name } => say(format!("{name}: converting to GGUF…")),
                    FetchEvent::Trying { name, source } => say(format!("{name}: trying {source}")),
                    FetchEvent::SourceFailed {
                        name,
                        source,
                        error,
                    } => say(format!("{name}: {source} failed: {error}")),
                    FetchEvent::Present { name, path } => {
                        say(format!("{name}: present and verified ({path})"))
                    }
                    FetchEvent::Installed { name, path } => {
                        say(format!("{name}: installed {path}"))
                    }
                };
                let r = models::fetch(&specs, &opts, &on_event);
                bar.finish_and_clear();
                r
            })
            .await
            .context("fetch task")??;
            if json {
                print_json(&serde_json::json!({ "installed": installed }));
            } else {
                println!(
                    "{} models ready in {}",
                    installed.len(),
                    paths.models_dir.display()
                );
            }
            Ok(())
        }
    }
}

/// The moment to act at. `--now` takes Unix seconds, RFC 3339 (the wall
/// time in its offset is the user's local time) or a bare local time
/// "2026-12-24T20:00"; without it, the system clock and time zone.
fn parse_moment(s: Option<&str>) -> anyhow::Result<Moment> {
    let Some(s) = s else {
        let now = chrono::Local::now();
        return Ok(Moment {
            unix: now.timestamp(),
            local: now.naive_local(),
        });
    };
    if let Ok(secs) = s.parse::<i64>() {
        let t = chrono::DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| Error::new(Code::InvalidInput, format!("--now {s}: out of range")))?;
        return Ok(Moment {
            unix: secs,
            local: t.naive_utc(),
        });
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Moment {
            unix: t.timestamp(),
            local: t.naive_local(),
        });
    }
    let t = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            Error::new(
                Code::InvalidInput,
                format!(
                    "--now {s:?}: use a local time (2026-12-24T20:00), RFC 3339 (2026-12-24T20:00:00+01:00) or Unix seconds"
                ),
            )
        })?;
    Ok(Moment {
        unix: t.and_utc().timestamp(),
        local: t,
    })
}

pub(crate) fn format_duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

pub(crate) fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot encode output: {e}"),
    }
}

/// Text from the library (file names, folder names, messages that quote
/// them) as it is safe to print on a terminal: control characters (an
/// escape sequence in a file name would otherwise drive the terminal, a
/// newline fake a line) and bidirectional overrides are shown escaped.
pub(crate) fn shown(s: &str) -> String {
    let s = moodshelf_engine::names::display(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
        {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod shown_tests {
    #[test]
    fn escapes_reach_the_terminal_as_text() {
        assert_eq!(super::shown("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\u{a}c");
        assert_eq!(super::shown("evil\u{202E}gpj.mp3"), "evil\\u{202e}gpj.mp3");
        assert_eq!(super::shown("Café/夜"), "Café/夜");
    }
}
