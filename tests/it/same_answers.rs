//! The picks of every development request, kept in
//! `tests/eval/same-answers.txt`: a move of code that should change no
//! behaviour (issue 26's split of the engine) changes none of them. After a
//! change that is meant to change answers, `UPDATE_ANSWERS=1` writes them
//! again, and the diff of that file shows what it changed.
//!
//! The answers are the fast path's (`Mode::Rules`): everything but the
//! reasoning model's reading, which has a test of its own. Picks are named
//! by their path in the library and carry their reasons.

use std::fmt::Write as _;

use moodshelf_engine::recommend::Mode;
use moodshelf_engine::{Hemisphere, RecommendRequest};
use moodshelf_libgen::Spec;
use moodshelf_llm::Cancel;
use moodshelf_tests::eval::{DECEMBER, DEFAULT_NOW, DevSet, JULY};
use moodshelf_tests::{TestLibrary, moment};

const KEPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/same-answers.txt");

async fn answer(t: &TestLibrary, text: &str, now: &str, south: bool, out: &mut String) {
    let mut req = RecommendRequest::new(text, moment(now));
    req.mode = Mode::Rules;
    req.limit = 10;
    req.remember = false;
    if south {
        req.hemisphere = Some(Hemisphere::South);
    }
    let a = t
        .lib
        .recommend(&req, &Cancel::default(), &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    let at = if south {
        format!("{now} south")
    } else {
        now.to_string()
    };
    writeln!(out, "## {text} @ {at}").unwrap();
    for p in &a.items {
        let path = std::path::Path::new(&p.item.path);
        let rel = path.strip_prefix(&t.root).unwrap_or(path);
        writeln!(out, "{} | {}", rel.display(), p.why).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_development_request_gets_the_answer_it_got_before() {
    let t = TestLibrary::new(Spec {
        music: 60,
        books: 150,
        videos: 150,
    })
    .await;
    t.add_and_scan().await;
    let dev = DevSet::load();
    let mut out = String::new();
    for c in &dev.cases {
        answer(&t, &c.text, &c.now, c.south, &mut out).await;
    }
    for m in &dev.moments {
        for (now, south) in [(DECEMBER, false), (JULY, false), (DECEMBER, true)] {
            answer(&t, &m.text, now, south, &mut out).await;
        }
    }
    for (_, text) in &dev.probes {
        answer(&t, text, DEFAULT_NOW, false, &mut out).await;
    }
    if std::env::var_os("UPDATE_ANSWERS").is_some() {
        std::fs::write(KEPT, &out).expect("write the kept answers");
        return;
    }
    let kept = std::fs::read_to_string(KEPT)
        .expect("tests/eval/same-answers.txt (UPDATE_ANSWERS=1 writes it)");
    if kept != out {
        let first = kept
            .lines()
            .zip(out.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(kept.lines().count().min(out.lines().count()));
        let show = |s: &str| {
            s.lines()
                .skip(first.saturating_sub(2))
                .take(6)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "answers changed from line {}:\nkept:\n{}\nnow:\n{}\n(UPDATE_ANSWERS=1 keeps the new ones)",
            first + 1,
            show(&kept),
            show(&out)
        );
    }
}
