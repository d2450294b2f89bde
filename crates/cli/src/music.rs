//! Music by its sound: `similar` (the tracks that sound like one) and
//! `playlist` (a request or a journey, with its energy curve, written as
//! M3U8 or XSPF).

use std::path::PathBuf;

use clap::Args;
use moodshelf_engine::playlist::{Format, Playlist, PlaylistRequest, PlaylistSource, Shape};
use moodshelf_engine::{Code, Error, Library, Moment, Paths};

use crate::out::{print_json, shown};

// The doc comment of `Command::Playlist` is the command's help; these are
// its arguments.
#[derive(Args)]
pub struct PlaylistArgs {
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
}

/// `similar PATH`: the tracks that sound most like it.
pub async fn similar(paths: Paths, path: PathBuf, limit: usize, json: bool) -> anyhow::Result<()> {
    let lib = Library::open(paths).await?;
    let alike = lib.sounds_like(&path, limit).await?;
    lib.close().await;
    if json {
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

/// `playlist`: builds it, writes the files asked for, prints it.
pub async fn playlist(
    paths: Paths,
    args: PlaylistArgs,
    moment: Moment,
    json: bool,
) -> anyhow::Result<()> {
    let text = args.request.join(" ");
    let req = PlaylistRequest {
        source: source(&args, &text, moment)?,
        minutes: args.minutes,
        shape: shape(&args),
    };
    let lib = Library::open(paths).await?;
    let list = lib
        .playlist(&req, &moodshelf_llm::Cancel::default())
        .await?;
    let title = if text.trim().is_empty() {
        "Journey".to_string()
    } else {
        text.clone()
    };
    for (file, format) in [(&args.m3u, Format::M3u8), (&args.xspf, Format::Xspf)] {
        if let Some(file) = file {
            lib.save_playlist(&list, &title, file, format).await?;
        }
    }
    lib.close().await;
    if json {
        print_json(&list);
    } else {
        print_playlist(&list);
    }
    Ok(())
}

/// A journey with `--from` and `--to`, else the request in words.
fn source(args: &PlaylistArgs, text: &str, moment: Moment) -> anyhow::Result<PlaylistSource> {
    Ok(match (&args.from, &args.to) {
        (Some(from), Some(to)) => PlaylistSource::Journey {
            from: from.clone(),
            to: to.clone(),
            steps: args.steps,
        },
        _ if text.trim().is_empty() => {
            anyhow::bail!(Error::new(
                Code::InvalidInput,
                "say what the playlist is for, or give --from and --to",
            ))
        }
        _ => PlaylistSource::Request {
            text: text.to_string(),
            moment,
        },
    })
}

fn shape(args: &PlaylistArgs) -> Shape {
    if args.rising {
        Shape::Rising
    } else if args.winding_down {
        Shape::WindingDown
    } else {
        Shape::Steady
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
