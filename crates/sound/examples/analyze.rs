//! `cargo run --release --example analyze -- FILE...`: one line per file,
//! its features as JSON or its error, and the seconds it took.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn main() {
    let cancel = AtomicBool::new(false);
    for path in std::env::args().skip(1) {
        let started = Instant::now();
        let result = moodshelf_sound::analyze(std::path::Path::new(&path), &cancel);
        let secs = started.elapsed().as_secs_f64();
        match result {
            Ok(f) => println!(
                "{path}\t{secs:.3}\t{}",
                serde_json::to_string(&f).expect("features serialize")
            ),
            Err(e) => println!("{path}\t{secs:.3}\terror: {e}"),
        }
    }
}
