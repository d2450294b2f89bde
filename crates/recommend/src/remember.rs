//! What an answer leaves behind: the conversation (request, reading,
//! picks), stated preferences ("I can't stand country"), what was shown
//! when, and feedback on items. All of it is user data in the catalog,
//! keyed by item ids that survive moves and rescans.

use moodshelf_catalog::{ItemView, Person, Verdict};

use super::answer::Pick;
use super::intent::Intent;
use super::understand::positive_text;
use crate::error::{Code, Error, Result};
use crate::store::Store;
use moodshelf_catalog::Polarity;

/// The last answer of a conversation, which a follow-up refines.
pub(super) struct Previous {
    pub intent: Intent,
    pub items: Vec<ItemView>,
}

/// Records feedback on an item, with the request it answered when
/// known (a dislike then applies to similar requests only).
pub async fn feedback(
    store: &Store,
    item_id: i64,
    verdict: Verdict,
    request: Option<&str>,
    now: i64,
) -> Result<()> {
    let request_vector = match request.filter(|r| !r.trim().is_empty()) {
        Some(r) => Some(store.embed_one(positive_text(r)).await?),
        None => None,
    };
    let person = crate::people::person(store).await?;
    store
        .catalog()
        .add_feedback(
            person.id,
            &moodshelf_catalog::Feedback {
                item_id,
                verdict,
                request: request.map(str::to_string),
                request_vector,
                created_at: now,
            },
        )
        .await?;
    Ok(())
}

/// The request an item was last recommended for, from the stored
/// conversations (for feedback given later by path).
pub async fn last_request_for(store: &Store, item_id: i64) -> Result<Option<String>> {
    for c in store.catalog().conversations(20).await? {
        let msgs = store.catalog().messages(c.id).await?;
        for (i, m) in msgs.iter().enumerate().rev() {
            if m.role == "assistant" && m.items.contains(&item_id) && i > 0 {
                return Ok(Some(msgs[i - 1].text.clone()));
            }
        }
    }
    Ok(None)
}

pub(super) async fn previous_answer(store: &Store, conversation: i64) -> Result<Option<Previous>> {
    if store.catalog().conversation(conversation).await?.is_none() {
        return Err(Error::new(
            Code::InvalidInput,
            format!("there is no conversation {conversation}"),
        ));
    }
    let msgs = store.catalog().messages(conversation).await?;
    let Some(last) = msgs.iter().rev().find(|m| m.role == "assistant") else {
        return Ok(None);
    };
    let intent: Intent = last
        .intent
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    let items = store.catalog().items_in_order(&last.items).await?;
    Ok(Some(Previous { intent, items }))
}

/// "I can't stand country music" and "I love jazz" are kept as
/// preferences for every later request.
pub(super) async fn learn_preferences(
    store: &Store,
    person: &Person,
    text: &str,
    now: i64,
) -> Result<()> {
    for (polarity, term) in stated_preferences(text) {
        store
            .catalog()
            .add_preference(person.id, polarity, &term, text, now)
            .await?;
    }
    Ok(())
}

/// Stores a request and its answer in a conversation (a new one unless
/// `conversation` names a stored one), and marks the picks as shown.
pub(super) async fn remember(
    store: &Store,
    conversation: Option<i64>,
    text: &str,
    rules: &Intent,
    intent: &Intent,
    picks: &[Pick],
    now: i64,
) -> Result<i64> {
    let id = match conversation {
        Some(id) if store.catalog().conversation(id).await?.is_some() => id,
        _ => store.catalog().new_conversation(text, now).await?,
    };
    let stored = serde_json::to_string(intent).map_err(Error::internal)?;
    let read = serde_json::to_string(rules).map_err(Error::internal)?;
    let item_ids: Vec<i64> = picks.iter().map(|p| p.item.id).collect();
    store
        .catalog()
        .add_message(id, "user", text, Some(&read), &[], now)
        .await?;
    let summary = picks
        .iter()
        .map(|p| p.item.title.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    store
        .catalog()
        .add_message(id, "assistant", &summary, Some(&stored), &item_ids, now)
        .await?;
    store.catalog().mark_shown(&item_ids, now).await?;
    Ok(id)
}

/// A person's preferences (polarity, term) as they stand once what `text`
/// states is learned, as the catalog stores them: a new statement replaces
/// its opposite, and one not stored yet comes last. Understanding reads
/// them so; the last stage writes them.
pub(super) fn as_learned(
    stored: Vec<moodshelf_catalog::Preference>,
    text: &str,
) -> Vec<(Polarity, String)> {
    let mut out: Vec<(Polarity, String)> =
        stored.into_iter().map(|p| (p.polarity, p.term)).collect();
    for (polarity, term) in stated_preferences(text) {
        out.retain(|(p, t)| *t != term || *p == polarity);
        if !out.iter().any(|(p, t)| *t == term && *p == polarity) {
            out.push((polarity, term));
        }
    }
    out
}

pub(super) fn stated_preferences(text: &str) -> Vec<(Polarity, String)> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\bi\s+(really\s+)?(hate|dislike|can't stand|cannot stand|don't like|do not like|love|adore|really like)\s+([a-z][a-z' -]{2,30}?)(?:\s+(?:music|movies|films|books|novels|songs|stuff))?(?:[,.;!]|\s+but\b|\s+so\b|\s+and\b|$)").unwrap()
    });
    RE.captures_iter(text)
        .filter_map(|c| {
            let verb = c[2].to_lowercase();
            let term = c[3].trim().to_lowercase();
            let first = term.split_whitespace().next().unwrap_or("");
            if term.split_whitespace().count() > 3
                || [
                    "it", "this", "that", "them", "to", "when", "how", "you", "my", "your", "the",
                    "a", "an",
                ]
                .contains(&first)
            {
                return None;
            }
            let polarity = if ["love", "adore", "really like"].contains(&verb.as_str()) {
                Polarity::Prefer
            } else {
                Polarity::Avoid
            };
            Some((polarity, term))
        })
        .collect()
}

/// Follow-up directions that depend on the previous answer's items:
/// "shorter" than its median length, "newer" than its median year.
pub(super) fn apply_directions(intent: &mut Intent, prev: &[ItemView]) {
    use super::intent::Direction;
    let median = |mut xs: Vec<f64>| -> Option<f64> {
        if xs.is_empty() {
            return None;
        }
        xs.sort_by(f64::total_cmp);
        Some(xs[xs.len() / 2])
    };
    let durations: Vec<f64> = prev.iter().filter_map(|v| v.duration_secs).collect();
    let years: Vec<f64> = prev.iter().filter_map(|v| v.year.map(f64::from)).collect();
    for r in intent.refine.clone() {
        match r {
            Direction::Shorter => {
                if let Some(m) = median(durations.clone()) {
                    let cap = ((m * 0.85) / 60.0).floor().max(1.0) as u32;
                    intent.max_minutes = Some(intent.max_minutes.map_or(cap, |x| x.min(cap)));
                    intent.min_minutes = None;
                }
            }
            Direction::Longer => {
                if let Some(m) = median(durations.clone()) {
                    intent.min_minutes = Some(((m * 1.15) / 60.0).ceil() as u32);
                    intent.max_minutes = None;
                }
            }
            Direction::Newer => {
                if let Some(m) = median(years.clone()) {
                    intent.year_from = Some(m as i32 + 1);
                    intent.year_to = None;
                }
            }
            Direction::Older => {
                if let Some(m) = median(years.clone()) {
                    intent.year_to = Some(m as i32 - 1);
                    intent.year_from = None;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::intent::Direction;
    use super::*;

    #[test]
    fn stated_preferences_are_recognised() {
        assert_eq!(
            stated_preferences("I can't stand country music, give me something calm"),
            vec![(Polarity::Avoid, "country".to_string())]
        );
        assert_eq!(
            stated_preferences("I love jazz."),
            vec![(Polarity::Prefer, "jazz".to_string())]
        );
        assert!(stated_preferences("something I love to hear").is_empty());
    }

    #[test]
    fn follow_up_directions_use_the_previous_answer() {
        let view = |d: f64, y: i32| ItemView {
            year: Some(y),
            duration_secs: Some(d),
            ..ItemView::bare(1, crate::Kind::Video, "")
        };
        let prev = vec![view(6000.0, 1990), view(7200.0, 2000), view(8000.0, 2010)];
        let mut i = Intent {
            refine: vec![Direction::Shorter],
            ..Intent::default()
        };
        apply_directions(&mut i, &prev);
        assert_eq!(i.max_minutes, Some(102));
        let mut i = Intent {
            refine: vec![Direction::Newer],
            ..Intent::default()
        };
        apply_directions(&mut i, &prev);
        assert_eq!(i.year_from, Some(2001));
    }
}
