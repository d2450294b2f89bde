//! `moodshelf`: the headless host. Every command is a thin wrapper over one
//! engine call; this crate parses arguments, reads the clock (the only place
//! that does), shows progress on stderr and prints results on stdout, as
//! text or, with `--json`, as one JSON object for scripts. This file holds
//! the arguments and hands each command to the module of its group.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use moodshelf_engine::{Code, Error, Paths, reader};

use crate::moment::parse_moment;
use crate::out::{print_json, shown};

mod history;
mod jobs;
mod library;
mod models;
mod moment;
mod music;
mod out;
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
        action: library::LibraryAction,
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
    Playlist(music::PlaylistArgs),
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
        talk: talk::TalkArgs,
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
        talk: talk::TalkArgs,
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
        action: jobs::IndexAction,
    },
    /// Fetch and list model files.
    Models {
        #[command(subcommand)]
        action: models::ModelsAction,
    },
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
    let json = g.json;
    match cli.command {
        Command::Models { action } => models::run(action, &paths, json).await,
        Command::Person(cmd) => person::run(paths, cmd, now, json).await,
        Command::History { action } => history::run(paths, action, now, json).await,
        Command::Library { action } => library::folders(paths, action, now, json).await,
        Command::Scan { no_embed, enrich } => jobs::scan(paths, now, no_embed, enrich, json).await,
        Command::Enrich { limit } => jobs::enrich(paths, now, limit, json).await,
        Command::Analyze { limit } => jobs::analyze(paths, now, limit, json).await,
        Command::Show { path } => show::run(paths, path, json).await,
        Command::Similar { path, limit } => music::similar(paths, path, limit, json).await,
        Command::Playlist(args) => music::playlist(paths, args, moment, json).await,
        Command::Watch { scan } => jobs::watch(paths, now, scan, json).await,
        Command::Ask {
            query,
            talk: t,
            continue_last,
            conversation,
        } => talk::ask_cmd(paths, &query, &t, continue_last, conversation, moment, json).await,
        Command::Chat {
            talk: t,
            conversation,
        } => talk::chat_cmd(paths, &t, conversation, moment, g.now.is_some(), json).await,
        Command::Feedback {
            path,
            like,
            dislike,
            not_now: _,
        } => talk::feedback_cmd(paths, path, like, dislike, now, json).await,
        Command::Conversations { limit } => talk::conversations(paths, limit, json).await,
        Command::Status => library::status(paths, json).await,
        Command::Errors { limit } => library::errors(paths, limit, json).await,
        Command::Index { action } => jobs::index(paths, action, now, json).await,
    }
}
