//! The person behind the answers: who asks (`people`), their taste in
//! words and its corrections (`taste`), what comes next in their series
//! (`next`), and what they played outside an answer (`played`).

use std::path::PathBuf;

use clap::Subcommand;
use moodshelf_engine::taste::{FACETS, TasteProfile};
use moodshelf_engine::{Library, Paths};

use crate::out::{print_json, shown};

#[derive(Subcommand)]
pub enum PersonCommand {
    /// The people who share this library; add, switch to, remove one.
    People {
        #[command(subcommand)]
        action: Option<PeopleAction>,
    },
    /// Your taste in words: what you come back to and avoid, per kind.
    Taste {
        #[command(subcommand)]
        action: Option<TasteAction>,
        /// Someone else's taste.
        #[arg(long, value_name = "NAME")]
        person: Option<String>,
    },
    /// What comes next in each series you have begun: the next book, the
    /// next episode, the one you are in the middle of.
    Next,
    /// Record that you played, watched or read the item at PATH.
    Played { path: PathBuf },
}

#[derive(Subcommand)]
pub enum PeopleAction {
    /// Add a person.
    Add { name: String },
    /// Ask as this person from now on (in the window too).
    Use { name: String },
    /// Remove a person and everything that was theirs.
    Remove { name: String },
}

#[derive(Subcommand)]
pub enum TasteAction {
    /// Stop a part of your taste from shaping answers: FACET is genre,
    /// creator, era or theme ("taste forget genre horror").
    Forget { facet: String, value: Vec<String> },
    /// Let a forgotten part count again.
    Restore { facet: String, value: Vec<String> },
}

pub async fn run(paths: Paths, cmd: PersonCommand, now: i64, json: bool) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let done = dispatch(&lib, cmd, now, json).await;
    lib.close().await;
    done
}

async fn dispatch(lib: &Library, cmd: PersonCommand, now: i64, json: bool) -> anyhow::Result<()> {
    match cmd {
        PersonCommand::People { action } => people(lib, action, now, json).await,
        PersonCommand::Taste {
            action: None,
            person,
        } => {
            let t = lib.taste(person.as_deref()).await?;
            match json {
                true => print_json(&t),
                false => print_taste(&t),
            }
            Ok(())
        }
        PersonCommand::Taste {
            action: Some(a),
            person: _,
        } => {
            let (forget, facet, value) = match a {
                TasteAction::Forget { facet, value } => (true, facet, value.join(" ")),
                TasteAction::Restore { facet, value } => (false, facet, value.join(" ")),
            };
            let changed = lib.forget_taste(&facet, &value, forget, now).await?;
            let what = if forget { "forgotten" } else { "restored" };
            match (json, changed) {
                (true, _) => print_json(&serde_json::json!({ what: changed })),
                (false, true) => println!("{facet} {} {what}", shown(&value)),
                (false, false) => println!("{facet} {} was already {what}", shown(&value)),
            }
            Ok(())
        }
        PersonCommand::Next => {
            let next = lib.next_up().await?;
            let items = lib
                .catalog()
                .items_in_order(&next.iter().map(|n| n.item_id).collect::<Vec<_>>())
                .await?;
            if json {
                print_json(&serde_json::json!({ "next": next, "items": items }));
                return Ok(());
            }
            if next.is_empty() {
                println!("No series begun: finish a book or an episode of one first.");
            }
            for (n, v) in next.iter().zip(&items) {
                println!(
                    "{}\n  {}\n  {}",
                    shown(&v.title),
                    shown(&n.why()),
                    shown(&v.path)
                );
            }
            Ok(())
        }
        PersonCommand::Played { path } => {
            let item = lib.item_at(&path).await?;
            lib.played(item.id, now).await?;
            match json {
                true => print_json(&serde_json::json!({ "played": item.id })),
                false => println!("Played: {}", shown(&item.title)),
            }
            Ok(())
        }
    }
}

async fn people(
    lib: &Library,
    action: Option<PeopleAction>,
    now: i64,
    json: bool,
) -> anyhow::Result<()> {
    match action {
        Some(PeopleAction::Add { name }) => {
            let p = lib.catalog().add_person(&name, now).await?;
            println!(
                "{} can now ask: moodshelf people use {}",
                shown(&p.name),
                shown(&p.name)
            );
        }
        Some(PeopleAction::Use { name }) => {
            let p = lib.use_person(&name).await?;
            println!("Asking as {}", shown(&p.name));
        }
        Some(PeopleAction::Remove { name }) => {
            let p = lib.remove_person(&name).await?;
            println!(
                "Removed {} and their history, feedback and taste",
                shown(&p.name)
            );
        }
        None => {
            let all = lib.catalog().people().await?;
            let me = lib.person().await?;
            if json {
                print_json(&serde_json::json!({ "people": all, "asking": me }));
                return Ok(());
            }
            for p in all {
                let mark = if p.id == me.id { "*" } else { " " };
                println!("{mark} {}", shown(&p.name));
            }
        }
    }
    Ok(())
}

fn print_taste(t: &TasteProfile) {
    println!("{}'s taste", shown(&t.person.name));
    if t.kinds.is_empty() {
        println!("  Nothing yet: play, rate, like or import a history first.");
    }
    for k in &t.kinds {
        println!("\n{} ({} works)", shown(&k.words), k.works);
        for p in &k.comes_back_to {
            println!("  + {} {} ({} works)", p.facet, shown(&p.value), p.works);
        }
        for p in &k.avoids {
            println!("  - {} {} ({} works)", p.facet, shown(&p.value), p.works);
        }
    }
    if !t.across_kinds.is_empty() {
        let across: Vec<String> = t.across_kinds.iter().map(|p| shown(&p.value)).collect();
        println!("\nAcross kinds: {}", across.join(", "));
    }
    if !t.forgotten.is_empty() {
        println!("\nForgotten (taste restore FACET VALUE brings one back):");
        for f in &t.forgotten {
            println!("  {} {}", f.facet, shown(&f.value));
        }
    }
    println!(
        "\nForget a part: moodshelf taste forget FACET VALUE ({})",
        FACETS.join(", ")
    );
}
