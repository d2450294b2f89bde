//! What the person's history adds to an answer's reasons: the place of a
//! series' next work ("Next in Winter Tales: book 3, after book 2, which
//! you finished"), and, for a vague request their taste shaped, the loved
//! work a pick is closest to with what their records say of it ("Close to
//! Heat, which you rated 9/10 and watched twice"). Every word of it comes
//! from their stored history, never from the model.

use super::answer::Pick;
use super::intent::Intent;
use super::rank::Scored;
use crate::Kind;
use crate::error::Result;
use crate::shaping::SHAPING;
use crate::store::Store;
use moodshelf_catalog::Person;

/// Puts the history's reasons on `picks` (see the module's notes);
/// `chosen` are the ranked candidates they were made from, with the
/// vectors retrieval loaded.
pub(super) async fn history_reasons(
    store: &Store,
    person: &Person,
    intent: &Intent,
    chosen: &[Scored],
    picks: &mut [Pick],
) -> Result<()> {
    if picks.is_empty() {
        return Ok(());
    }
    if intent.next {
        let next = crate::series::next_up(store, person).await?;
        for p in picks.iter_mut() {
            if let Some(n) = next.iter().find(|n| n.item_id == p.item.id) {
                p.why = n.why();
            }
        }
        return Ok(());
    }
    // Below the vague threshold the request chose the pick, not the
    // history (the taste leg's threshold too).
    if intent.vagueness < SHAPING.vague || !intent.with.is_empty() {
        return Ok(());
    }
    let state = store.taste_state(person.id).await?;
    // A taste borrowed from other kinds says so ("a book" from a
    // history of music).
    let borrowed = match state.direction(&intent.kinds) {
        Some((_, others)) if !others.is_empty() => Some(borrowed_from(&others)),
        _ => None,
    };
    for (p, c) in picks.iter_mut().zip(chosen) {
        let cited = c.vector.as_deref().and_then(|v| state.reason(p.item.id, v));
        if let Some(c) = cited {
            p.why = format!("{c}. {}", p.why);
        } else if let Some(b) = &borrowed {
            p.why = format!("{b}. {}", p.why);
        }
    }
    Ok(())
}

/// "From your taste in music and films".
fn borrowed_from(kinds: &[Kind]) -> String {
    let mut names: Vec<&str> = kinds
        .iter()
        .map(|k| match k {
            Kind::Book => "books",
            Kind::Video => "films",
            Kind::Music => "music",
        })
        .collect();
    names.sort_unstable();
    format!("From your taste in {}", names.join(" and "))
}
