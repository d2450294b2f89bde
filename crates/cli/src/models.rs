//! `models fetch` and `models list`: the model files in the models dir,
//! downloaded (or converted) and verified, with a byte progress bar.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use moodshelf_engine::Paths;
use moodshelf_engine::models::{self, FetchEvent, FetchOptions, ModelSpec};

use crate::out::print_json;

#[derive(Subcommand)]
pub enum ModelsAction {
    /// Download (or convert) and verify the models of a profile.
    Fetch {
        #[arg(long, value_enum, default_value_t = ProfileArg::Default)]
        profile: ProfileArg,
    },
    /// Show which models are present.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ProfileArg {
    Default,
    Test,
}

pub async fn run(action: ModelsAction, paths: &Paths, json: bool) -> anyhow::Result<()> {
    match action {
        ModelsAction::List => {
            list(paths, json);
            Ok(())
        }
        ModelsAction::Fetch { profile } => fetch(profile, paths, json).await,
    }
}

fn list(paths: &Paths, json: bool) {
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
}

async fn fetch(profile: ProfileArg, paths: &Paths, json: bool) -> anyhow::Result<()> {
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
    let installed = tokio::task::spawn_blocking(move || fetch_with_bar(&specs, &opts))
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

/// Fetches `specs` (blocking) with a byte progress bar on stderr and one
/// line per step; on a pipe, the lines alone.
fn fetch_with_bar(
    specs: &[ModelSpec],
    opts: &FetchOptions,
) -> moodshelf_engine::Result<Vec<PathBuf>> {
    let bar = ProgressBar::new(0);
    let tty = std::io::stderr().is_terminal();
    if !tty {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let r = models::fetch(specs, opts, &|e| show_event(&bar, tty, e));
    bar.finish_and_clear();
    r
}

/// One fetch event: the bar follows bytes; every other step is a line.
fn show_event(bar: &ProgressBar, tty: bool, e: FetchEvent) {
    let say = |msg: String| {
        if tty {
            bar.println(msg);
        } else {
            eprintln!("{msg}");
        }
    };
    match e {
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
        FetchEvent::Present { name, path } => say(format!("{name}: present and verified ({path})")),
        FetchEvent::Installed { name, path } => say(format!("{name}: installed {path}")),
    }
}
