//! The library as a whole: its folders (`library add/remove/list`), its
//! state (`status`) and the files that could not be read (`errors`).

use std::path::PathBuf;

use clap::Subcommand;
use moodshelf_engine::{Library, Paths, Status};

use crate::out::{print_json, shown};

#[derive(Subcommand)]
pub enum LibraryAction {
    /// Add folders (scan afterwards).
    Add { paths: Vec<PathBuf> },
    /// Remove a folder and forget its items.
    Remove { path: PathBuf },
    /// List the folders.
    List,
}

/// `library add/remove/list`.
pub async fn folders(
    paths: Paths,
    action: LibraryAction,
    now: i64,
    json: bool,
) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    act_on_folders(&lib, action, now, json).await?;
    lib.close().await;
    Ok(())
}

async fn act_on_folders(
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

/// `status`: counts, folders, models and the last scan.
pub async fn status(paths: Paths, json: bool) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let status = lib.status().await?;
    if json {
        print_json(&status);
    } else {
        print_status(&status);
    }
    Ok(())
}

fn print_status(status: &Status) {
    println!("Data:    {}", status.data_dir);
    println!("Models:  {}", status.models_dir);
    println!(
        "Library: {} music, {} books, {} videos ({} files, {} unreadable)",
        status.music, status.books, status.videos, status.files, status.file_errors
    );
    print_work_left(status);
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
            s.status.as_str(),
            s.phase.map_or("?", |p| p.as_str()),
            s.message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        );
    }
}

/// The lines under "Library:" that say what is still to do, and which
/// command does it.
fn print_work_left(status: &Status) {
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
}

/// `errors`: the files that could not be read, and why.
pub async fn errors(paths: Paths, limit: i64, json: bool) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let errors = lib.file_errors(limit).await?;
    if json {
        print_json(&serde_json::json!({ "errors": errors }));
    } else {
        for e in &errors {
            println!("{}\n    {}", shown(&e.path), shown(&e.error));
        }
    }
    Ok(())
}
