//! `history import FILE`: a ListenBrainz or Last.fm export becomes the
//! person's listening history, with a report of what matched and why the
//! rest did not.

use std::path::PathBuf;

use clap::Subcommand;
use moodshelf_engine::listens::ImportReport;
use moodshelf_engine::{Library, Paths};

use crate::out::{print_json, shown};

#[derive(Subcommand)]
pub enum HistoryAction {
    /// Import a ListenBrainz export (JSON or JSON Lines) or Last.fm
    /// scrobbles (CSV); importing it again changes nothing.
    Import { file: PathBuf },
}

pub async fn run(paths: Paths, action: HistoryAction, now: i64, json: bool) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let done = dispatch(&lib, action, now, json).await;
    lib.close().await;
    done
}

async fn dispatch(
    lib: &Library,
    action: HistoryAction,
    now: i64,
    json: bool,
) -> anyhow::Result<()> {
    match action {
        HistoryAction::Import { file } => {
            let report = lib.import_history(&file, now).await?;
            if json {
                print_json(&report);
            } else {
                print_import(&report);
            }
        }
    }
    Ok(())
}

fn print_import(r: &ImportReport) {
    println!(
        "{} export: {} listens, {} matched to {} tracks of the library",
        r.service.as_str(),
        r.listens,
        r.matched,
        r.tracks
    );
    for (why, n) in &r.unmatched {
        println!("  {n} not matched: {}", why.says());
    }
    if r.unreadable > 0 {
        println!(
            "  {} rows were not listens (no artist or title)",
            r.unreadable
        );
    }
    if !r.examples.is_empty() {
        println!("  for example:");
        for e in &r.examples {
            println!("    {}", shown(e));
        }
    }
}
