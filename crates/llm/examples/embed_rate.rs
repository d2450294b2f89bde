//! Embedding throughput for a few batch shapes, to choose the defaults:
//! `cargo run --release -p moodshelf-llm --example embed_rate -- MODEL.gguf`

use std::time::Instant;

use moodshelf_llm::{EmbedOptions, Embedder};

fn main() {
    let model = std::env::args()
        .nth(1)
        .expect("usage: embed_rate MODEL.gguf");
    // Descriptions shaped like the scanner's: a short card, some with a plot.
    let texts: Vec<String> = (0..512)
        .map(|i| {
            let mut t = format!(
                "Song number {i} by Some Artist (2001). From the album Nights {i}. Genre: Jazz, Soul. {} BPM.",
                90 + i % 60
            );
            if i % 3 == 0 {
                t.push_str(" A quiet story of a family that moves to the coast one winter, and of the storm that changes them.");
            }
            t
        })
        .collect();
    for (tokens, seqs) in [(256, 1), (256, 4), (512, 8), (1024, 32)] {
        let opts = EmbedOptions {
            batch_tokens: tokens,
            batch_sequences: seqs,
            ..EmbedOptions::default()
        };
        let e = Embedder::load(std::path::Path::new(&model), opts).expect("load");
        e.embed(texts[..16].to_vec()).expect("warm up");
        let started = Instant::now();
        e.embed(texts.clone()).expect("embed");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "batch {tokens:>4} tokens / {seqs:>2} texts: {:.0} texts/s",
            texts.len() as f64 / secs
        );
    }
}
