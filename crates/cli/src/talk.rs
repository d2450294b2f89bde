//! `ask`, `chat` and `feedback`: the recommender on the command line.
//! Picks are printed as soon as they are chosen; the model's reasons
//! follow as they are written. Ctrl-C stops the model, not the answer.

use std::io::Write;
use std::path::Path;

use moodshelf_catalog::Verdict;
use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{
    Hemisphere, Library, Moment, Pick, RecEvent, RecommendRequest, Recommendation,
};
use moodshelf_llm::Cancel;
use tokio::io::AsyncBufReadExt;

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
        crate::print_json(&answer);
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
        let length = item
            .duration_secs
            .map(crate::format_duration)
            .unwrap_or_default();
        println!(
            "{line}  [{}{}{}]",
            item.kind,
            if length.is_empty() { "" } else { ", " },
            length
        );
        println!("    {}", crate::shown(&p.why));
        println!("    {}", crate::shown(&item.path));
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
        crate::print_json(&serde_json::json!({
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
