//! `moodshelf-libgen`: writes a test library from the public datasets.

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Write a realistic test library (real files, real tags) from ../shared/datasets")]
struct Args {
    /// Folder to write the library into.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 300)]
    music: usize,
    #[arg(long, default_value_t = 200)]
    books: usize,
    #[arg(long, default_value_t = 200)]
    videos: usize,
    /// The datasets folder (default: ../shared/datasets beside the repository).
    #[arg(long, env = "MOODSHELF_DATASETS")]
    datasets: Option<PathBuf>,
    /// Write a thin library: bare `Title (Year).mkv` films, EPUBs with a
    /// title and an author only, tracks with a title, an artist and an
    /// album only (the same works as without it).
    #[arg(long)]
    thin: bool,
    /// Also write the hostile corpus (broken, oversized, special and
    /// malicious files) into <out>/Hostile.
    #[arg(long)]
    hostile: bool,
    /// Also write this many still and as many driving synthesized tracks,
    /// 20 s each, with neutral names and no tags, into <out>/Sounds.
    #[arg(long, default_value_t = 0)]
    sounds: usize,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let datasets = a.datasets.unwrap_or_else(moodshelf_libgen::datasets_dir);
    let started = std::time::Instant::now();
    let spec = moodshelf_libgen::Spec {
        music: a.music,
        books: a.books,
        videos: a.videos,
    };
    let g = if a.thin {
        moodshelf_libgen::generate_thin(&datasets, &a.out, spec)?
    } else {
        moodshelf_libgen::generate(&datasets, &a.out, spec)?
    };
    eprintln!(
        "wrote {} items under {} in {:.1} s",
        g.items.len(),
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    if a.hostile {
        let entries = moodshelf_libgen::hostile::write(&a.out.join("Hostile"))?;
        eprintln!(
            "wrote {} hostile files under {}",
            entries.len(),
            a.out.join("Hostile").display()
        );
    }
    if a.sounds > 0 {
        let dir = a.out.join("Sounds");
        let written = moodshelf_libgen::sound::write_neutral_tracks(&dir, a.sounds, 20.0)?;
        eprintln!(
            "wrote {} synthesized tracks under {}",
            written.len(),
            dir.display()
        );
    }
    Ok(())
}
