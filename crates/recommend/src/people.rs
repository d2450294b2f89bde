//! The people who share a library: who is asking now (a host setting that
//! survives restarts), adding, renaming and removing them, and reading a
//! request for a group ("for me and Sam") against their names.

use std::sync::LazyLock;

use moodshelf_catalog::{OWNER, Person};
use regex::Regex;

use crate::error::{Code, Error, Result};
use crate::store::Store;

/// Catalog setting naming the person who asks.
const CURRENT_KEY: &str = "person.current";

/// Words that join people in a request: "for me and Sam", "with Sam".
static JOINED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:for|with|and|&|plus)\s*$").unwrap());

/// The person whose answers, feedback and history these are.
pub async fn person(store: &Store) -> Result<Person> {
    let people = store.catalog().people().await?;
    let id = store
        .catalog()
        .setting(CURRENT_KEY)
        .await?
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(OWNER);
    Ok(people
        .iter()
        .find(|p| p.id == id)
        .or_else(|| people.iter().find(|p| p.id == OWNER))
        .cloned()
        .unwrap_or(Person {
            id: OWNER,
            name: "Me".into(),
        }))
}

/// Makes the person named `name` (whatever its case) the one who asks.
pub async fn use_person(store: &Store, name: &str) -> Result<Person> {
    let p = person_named(store, name).await?;
    store
        .catalog()
        .set_setting(CURRENT_KEY, &p.id.to_string())
        .await?;
    Ok(p)
}

/// The person named `name`, or a clear error naming who there is.
pub async fn person_named(store: &Store, name: &str) -> Result<Person> {
    let people = store.catalog().people().await?;
    let wanted = name.trim();
    people
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(wanted))
        .cloned()
        .ok_or_else(|| {
            Error::new(
                Code::InvalidInput,
                format!(
                    "no one here is called {wanted}: there is {}",
                    people
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// Removes a person and all that was theirs; the one who asks becomes
/// the owner if it was them.
pub async fn remove_person(store: &Store, name: &str) -> Result<Person> {
    let p = person_named(store, name).await?;
    let current = person(store).await?;
    store.catalog().remove_person(p.id).await?;
    if current.id == p.id {
        store
            .catalog()
            .set_setting(CURRENT_KEY, &OWNER.to_string())
            .await?;
    }
    Ok(p)
}

/// One use of an item from Moodshelf (opened from an answer, played
/// from the CLI), in the history of the one who asks: a pick opened is
/// a play, where a pick only shown is not.
pub async fn played(store: &Store, item_id: i64, now: i64) -> Result<()> {
    let person = person(store).await?;
    store.catalog().record_use(person.id, item_id, now).await?;
    Ok(())
}

/// The other people a request is for: those whose name follows "for",
/// "with" or "and" ("for me and Sam", "with Sam and Alex"), in the
/// order named. The one who asks is never among them.
pub async fn group_in(store: &Store, text: &str, asking: i64) -> Result<Vec<Person>> {
    let people = store.catalog().people().await?;
    Ok(named_after_joins(text, &people, asking))
}

/// See [`Library::group_in`].
fn named_after_joins(text: &str, people: &[Person], asking: i64) -> Vec<Person> {
    let lower = text.to_lowercase();
    let mut found: Vec<(usize, Person)> = Vec::new();
    for p in people.iter().filter(|p| p.id != asking) {
        let name = p.name.to_lowercase();
        let at = lower.match_indices(&name).find(|(i, _)| {
            let end = i + name.len();
            let bounded = !lower[..*i].ends_with(|c: char| c.is_alphanumeric())
                && !lower[end..].starts_with(|c: char| c.is_alphanumeric());
            // "for me and Sam": a join before the name, perhaps with
            // "me" or other names between.
            let before = lower[..*i].trim_end();
            bounded && (JOINED.is_match(before) || before.ends_with(','))
        });
        if let Some((i, _)) = at {
            found.push((i, p.clone()));
        }
    }
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<Person> {
        ["Me", "Sam", "Alex", "Jo"]
            .iter()
            .enumerate()
            .map(|(i, n)| Person {
                id: i as i64 + 1,
                name: n.to_string(),
            })
            .collect()
    }

    fn names(text: &str) -> Vec<String> {
        named_after_joins(text, &people(), 1)
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    #[test]
    fn a_group_is_the_people_a_request_is_for() {
        assert_eq!(names("a film for me and Sam"), vec!["Sam"]);
        assert_eq!(
            names("something to watch with alex, Sam and jo"),
            vec!["Alex", "Sam", "Jo"]
        );
        assert!(
            names("a film about Sam").is_empty(),
            "a name alone is content"
        );
        assert!(
            names("samurai films for me and samantha").is_empty(),
            "whole words"
        );
        assert!(names("a book for me").is_empty());
        assert!(
            named_after_joins("for Me and Sam", &people(), 2)
                .iter()
                .all(|p| p.name == "Me"),
            "the one asking is not their own guest"
        );
    }
}
