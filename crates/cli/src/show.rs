//! `show PATH`: one item as a person sees its details, what its file says
//! and what the reasoning model understood of its work.

use std::path::PathBuf;

use moodshelf_engine::enrich::ItemDetails;
use moodshelf_engine::work::Understanding;
use moodshelf_engine::{Library, Paths};

use crate::out::{print_json, shown};

pub async fn run(paths: Paths, path: PathBuf, json: bool) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let details = lib.item_details(&path).await;
    lib.close().await;
    print(&details?, json);
    Ok(())
}

fn print(d: &ItemDetails, json: bool) {
    if json {
        print_json(d);
        return;
    }
    let v = &d.item;
    let by = v
        .creator
        .as_deref()
        .map_or(String::new(), |c| format!(" — {}", shown(c)));
    let year = v.year.map_or(String::new(), |y| format!(" ({y})"));
    println!("{}{by}{year}  [{}]", shown(&v.title), v.kind);
    println!("  file: {}", shown(&v.path));
    if let Some(a) = &v.album {
        println!("  album: {}", shown(a));
    }
    if !v.genres.is_empty() {
        println!("  genres (from the file): {}", shown(&v.genres.join(", ")));
    }
    match &d.understanding {
        None => println!("  not yet read by the reasoning model (run `moodshelf enrich`)"),
        Some(u) => understanding(u, d.understood_by.as_deref().unwrap_or("?")),
    }
}

fn understanding(u: &Understanding, model: &str) {
    let known = match u.known.as_str() {
        "yes" => "knows this work",
        "partly" => "does not know this work; read what its file says",
        _ => "does not know this work (nothing recorded)",
    };
    let familiarity = u
        .familiarity
        .map_or(String::new(), |f| format!(", familiarity {f:.2}"));
    println!("  understood by {}: {known}{familiarity}", shown(model));
    let line = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            println!("    {label}: {}", shown(&v));
        }
    };
    let list = |l: &[String]| (!l.is_empty()).then(|| l.join(", "));
    line("what it is", u.about.clone());
    line("style", u.style.clone());
    line("genres", list(&u.genres));
    line("moods", list(&u.moods));
    line("themes", list(&u.themes));
    line("place", u.place.clone());
    line("era", u.era.clone());
    line("tone", u.tone.clone());
    line("pace", u.pace.clone());
    line("audience", u.audience.clone());
    line("energy", u.energy.clone());
    line("offers", u.offers.clone());
}
