//! `ask`, `chat`, `feedback` and `conversations`: the recommender on the
//! command line, with the options they share (`TalkArgs`). Picks are
//! printed as soon as they are chosen; the model's reasons follow as they
//! are written. Ctrl-C stops the model, not the answer.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use moodshelf_catalog::Verdict;
use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{
    Code, Error, Hemisphere, Kind, Library, Moment, Paths, Pick, RecEvent, RecommendRequest,
    Recommendation,
};
use moodshelf_llm::Cancel;
use tokio::io::AsyncBufReadExt;

use crate::moment::parse_moment;
use crate::out::{format_duration, print_json, shown};

#[derive(Args)]
pub struct TalkArgs {
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
    fn options(&self, json: bool) -> anyhow::Result<TalkOptions> {
        Ok(TalkOptions {
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

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Music,
    Book,
    Video,
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

/// `ask`: one request, in a new conversation, the most recent one
/// (`continue_last`) or the one given.
pub async fn ask_cmd(
    paths: Paths,
    query: &[String],
    talk: &TalkArgs,
    continue_last: bool,
    conversation: Option<i64>,
    moment: Moment,
    json: bool,
) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let opts = TalkOptions {
        one_shot: true,
        ..talk.options(json)?
    };
    let conversation = match (continue_last, conversation) {
        (true, _) => lib.catalog().conversations(1).await?.first().map(|c| c.id),
        (_, c) => c,
    };
    ask(&lib, &query.join(" "), conversation, moment, &opts).await?;
    lib.close().await;
    Ok(())
}

/// `chat`: each request acts at `moment` when `--now` fixed it
/// (`fixed`), else at the time it is made.
pub async fn chat_cmd(
    paths: Paths,
    talk: &TalkArgs,
    conversation: Option<i64>,
    moment: Moment,
    fixed: bool,
    json: bool,
) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let opts = talk.options(json)?;
    chat(
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

/// `feedback PATH --like|--dislike|--not-now`.
pub async fn feedback_cmd(
    paths: Paths,
    path: PathBuf,
    like: bool,
    dislike: bool,
    now: i64,
    json: bool,
) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let verdict = if like {
        Verdict::Like
    } else if dislike {
        Verdict::Dislike
    } else {
        Verdict::NotNow
    };
    feedback(&lib, &path, verdict, now, json).await?;
    lib.close().await;
    Ok(())
}

/// `conversations`: the stored ones, newest first.
pub async fn conversations(paths: Paths, limit: i64, json: bool) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let list = lib.catalog().conversations(limit).await?;
    if json {
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

pub struct TalkOptions {
    pub kind: Option<moodshelf_engine::Kind>,
    pub limit: usize,
    pub mode: Mode,
    pub hemisphere: Option<Hemisphere>,
    pub json: bool,
    /// One request and exit (`ask`, not `chat`).
    pub one_shot: bool,
}

/// One request; prints the answer; returns it.
pub async fn ask(
    lib: &Library,
    text: &str,
    conversation: Option<i64>,
    moment: Moment,
    opts: &TalkOptions,
) -> anyhow::Result<Recommendation> {
    let mut req = RecommendRequest::new(text, moment);
    req.kind = opts.kind;
    req.limit = opts.limit;
    req.mode = opts.mode;
    req.hemisphere = opts.hemisphere;
    req.conversation = conversation;
    req.one_shot = opts.one_shot;

    let cancel = Cancel::default();
    let stopper = {
        let c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\n(stopping the model; the picks stand)");
                c.cancel();
            }
        })
    };
    let json = opts.json;
    let mut shown: Vec<Pick> = Vec::new();
    let mut on_event = |e: RecEvent| {
        if json {
            return;
        }
        match e {
            RecEvent::Picks(picks) => {
                print_picks(&picks);
                shown = picks;
                if opts.mode == Mode::Model && !shown.is_empty() {
                    eprintln!("(the model is writing reasons…)");
                }
            }
            RecEvent::Why { id, why } => {
                if let Some(n) = shown.iter().position(|p| p.item.id == id) {
                    println!("  {:>2}. {why}", n + 1);
                    let _ = std::io::stdout().flush();
                }
            }
            RecEvent::Notice(n) => eprintln!("note: {n}"),
            RecEvent::Intent(_) | RecEvent::Piece(_) => {}
        }
    };
    let result = lib.recommend(&req, &cancel, &mut on_event).await;
    stopper.abort();
    let answer = result?;
    if json {
        print_json(&answer);
    } else {
        if answer.items.is_empty() {
            println!("Nothing in the library fits that.");
        }
        eprintln!(
            "({:.0} ms to picks, {:.0} ms in all{})",
            answer.timings_ms.first_picks_ms,
            answer.timings_ms.total_ms,
            answer
                .conversation_id
                .map(|c| format!("; conversation {c}"))
                .unwrap_or_default()
        );
    }
    Ok(answer)
}

fn print_picks(picks: &[Pick]) {
    for (i, p) in picks.iter().enumerate() {
        let item = &p.item;
        let mut line = format!("{:>2}. {}", i + 1, item.title);
        if let Some(c) = &item.creator {
            line.push_str(&format!(" — {c}"));
        }
        if let Some(y) = item.year {
            line.push_str(&format!(" ({y})"));
        }
        let length = item.duration_secs.map(format_duration).unwrap_or_default();
        println!(
            "{line}  [{}{}{}]",
            item.kind,
            if length.is_empty() { "" } else { ", " },
            length
        );
        println!("    {}", shown(&p.why));
        println!("    {}", shown(&item.path));
    }
    let _ = std::io::stdout().flush();
}

/// An interactive conversation on the terminal. Follow-ups refine the last
/// answer; `/like 2`, `/dislike 2`, `/notnow 2` give feedback on a pick;
/// `/new` starts over; `/quit` or an empty line at EOF ends.
pub async fn chat(
    lib: &Library,
    mut conversation: Option<i64>,
    moment: impl Fn() -> Moment,
    opts: &TalkOptions,
) -> anyhow::Result<()> {
    eprintln!(
        "Ask for something; follow-ups refine the answer. /like N, /dislike N, /notnow N, /new, /quit."
    );
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut last: Vec<Pick> = Vec::new();
    let mut last_text = String::new();
    loop {
        eprint!("> ");
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(cmd) = line.strip_prefix('/') {
            let mut parts = cmd.split_whitespace();
            let verb = parts.next().unwrap_or("");
            let n: Option<usize> = parts.next().and_then(|n| n.parse().ok());
            let verdict = match verb {
                "quit" | "q" | "exit" => break,
                "new" => {
                    conversation = None;
                    last.clear();
                    eprintln!("(new conversation)");
                    continue;
                }
                "like" => Verdict::Like,
                "dislike" => Verdict::Dislike,
                "notnow" | "not-now" => Verdict::NotNow,
                _ => {
                    eprintln!("unknown command /{verb}");
                    continue;
                }
            };
            match n.and_then(|n| last.get(n.wrapping_sub(1))) {
                Some(p) => {
                    lib.feedback(p.item.id, verdict, Some(&last_text), moment().unix)
                        .await?;
                    eprintln!("(noted: {} {})", verdict.as_str(), p.item.title);
                }
                None => eprintln!("give the number of a pick, e.g. /{verb} 2"),
            }
            continue;
        }
        match ask(lib, line, conversation, moment(), opts).await {
            Ok(answer) => {
                conversation = answer.conversation_id;
                last = answer.items;
                last_text = line.to_string();
            }
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
    Ok(())
}

/// Feedback on a file of the library, by path.
pub async fn feedback(
    lib: &Library,
    path: &Path,
    verdict: Verdict,
    now: i64,
    json: bool,
) -> anyhow::Result<()> {
    let item = lib.item_at(path).await?;
    let request = lib.last_request_for(item.id).await?;
    lib.feedback(item.id, verdict, request.as_deref(), now)
        .await?;
    if json {
        print_json(&serde_json::json!({
            "id": item.id, "path": item.path, "verdict": verdict.as_str(), "request": request
        }));
    } else {
        println!(
            "{}: {}{}",
            verdict.as_str().replace('_', " "),
            item.title,
            request
                .map(|r| format!(" (for \"{r}\")"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
