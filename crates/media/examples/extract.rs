//! Prints what Moodshelf reads from files or folders, as JSON lines:
//! `cargo run -p moodshelf-media --example extract -- PATH...`

fn main() {
    for arg in std::env::args().skip(1) {
        for entry in walkdir::WalkDir::new(&arg).into_iter().flatten() {
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.path();
            if moodshelf_media::classify(path).is_none() && !arg.ends_with(&*path.to_string_lossy())
            {
                continue;
            }
            match moodshelf_media::extract_any(path) {
                Ok(m) => println!(
                    "{}\t{}",
                    path.display(),
                    serde_json::to_string(&m).unwrap_or_default()
                ),
                Err(e) => println!("{}\tERROR {e}", path.display()),
            }
        }
    }
}
