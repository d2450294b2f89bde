//! The people who share one library (migration 0008): each has their own
//! feedback, preferences, history and corrections to their taste. Person
//! [`OWNER`] always exists: what the files say of their use is theirs.

use sqlx::Row;

use crate::{Catalog, Error, QueryContext, Result};

/// The library's owner, who always exists.
pub const OWNER: i64 = 1;

/// The longest name a person may have, in characters.
const MAX_NAME: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

/// A part of a person's taste they asked to forget.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Forgotten {
    /// "genre", "creator", "era" or "theme".
    pub facet: String,
    pub value: String,
}

fn check_name(name: &str) -> Result<String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Error::Invalid(format!(
            "a person's name is 1 to {MAX_NAME} characters"
        )));
    }
    Ok(name)
}

impl Catalog {
    /// Everyone, the owner first.
    pub async fn people(&self) -> Result<Vec<Person>> {
        let rows = sqlx::query("SELECT id, name FROM people ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .ctx("people")?;
        Ok(rows
            .iter()
            .map(|r| Person {
                id: r.get(0),
                name: r.get(1),
            })
            .collect())
    }

    /// Adds a person (names are unique, whatever their case); returns them,
    /// or the one already so named.
    pub async fn add_person(&self, name: &str, now: i64) -> Result<Person> {
        let name = check_name(name)?;
        sqlx::query("INSERT INTO people (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(&name)
            .bind(now)
            .execute(&self.pool)
            .await
            .ctx("add person")?;
        let r = sqlx::query("SELECT id, name FROM people WHERE name = ?")
            .bind(&name)
            .fetch_one(&self.pool)
            .await
            .ctx("read person")?;
        Ok(Person {
            id: r.get(0),
            name: r.get(1),
        })
    }

    /// Renames a person; false when there is no such person.
    pub async fn rename_person(&self, id: i64, name: &str) -> Result<bool> {
        let name = check_name(name)?;
        let n = sqlx::query("UPDATE people SET name = ? WHERE id = ?")
            .bind(&name)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(
                |e| match e.as_database_error().map(|d| d.is_unique_violation()) {
                    Some(true) => Error::Invalid(format!("someone is already called {name}")),
                    _ => Error::Query {
                        what: "rename person",
                        source: e,
                    },
                },
            )?
            .rows_affected();
        Ok(n > 0)
    }

    /// Removes a person and everything that was theirs, in one
    /// transaction. The owner cannot be removed.
    pub async fn remove_person(&self, id: i64) -> Result<bool> {
        if id == OWNER {
            return Err(Error::Invalid(
                "the library's owner cannot be removed".into(),
            ));
        }
        let mut tx = self.pool.begin().await.ctx("begin")?;
        sqlx::query("DELETE FROM feedback WHERE person_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("forget feedback")?;
        let n = sqlx::query("DELETE FROM people WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("remove person")?
            .rows_affected();
        tx.commit().await.ctx("commit")?;
        Ok(n > 0)
    }

    /// What `person` asked their taste to forget.
    pub async fn forgotten(&self, person: i64) -> Result<Vec<Forgotten>> {
        let rows = sqlx::query(
            "SELECT facet, value FROM taste_forgotten WHERE person_id = ? ORDER BY created_at, facet, value",
        )
        .bind(person)
        .fetch_all(&self.pool)
        .await
        .ctx("forgotten taste")?;
        Ok(rows
            .iter()
            .map(|r| Forgotten {
                facet: r.get(0),
                value: r.get(1),
            })
            .collect())
    }

    /// Forgets (`forget`) or restores one part of `person`'s taste; true
    /// when that changed anything.
    pub async fn set_forgotten(
        &self,
        person: i64,
        part: &Forgotten,
        forget: bool,
        now: i64,
    ) -> Result<bool> {
        let q = match forget {
            true => sqlx::query(
                "INSERT INTO taste_forgotten (person_id, facet, value, created_at)
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(person)
            .bind(&part.facet)
            .bind(&part.value)
            .bind(now),
            false => sqlx::query(
                "DELETE FROM taste_forgotten WHERE person_id = ? AND facet = ? AND value = ?",
            )
            .bind(person)
            .bind(&part.facet)
            .bind(&part.value),
        };
        let n = q
            .execute(&self.pool)
            .await
            .ctx("forget taste")?
            .rows_affected();
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_person_removed_takes_their_memory_along() {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(&dir.path().join("c.db")).await.unwrap();
        let sam = c.add_person("  Sam ", 5).await.unwrap();
        assert_eq!(sam.name, "Sam");
        assert_eq!(c.add_person("sam", 6).await.unwrap().id, sam.id, "one Sam");
        c.add_preference(sam.id, crate::Polarity::Avoid, "horror", "I hate horror", 7)
            .await
            .unwrap();
        c.add_preference(OWNER, crate::Polarity::Prefer, "jazz", "I love jazz", 7)
            .await
            .unwrap();
        let part = Forgotten {
            facet: "genre".into(),
            value: "Horror".into(),
        };
        assert!(c.set_forgotten(sam.id, &part, true, 8).await.unwrap());
        assert!(!c.set_forgotten(sam.id, &part, true, 9).await.unwrap());
        assert_eq!(c.preferences(sam.id).await.unwrap().len(), 1);
        assert!(c.remove_person(sam.id).await.unwrap());
        assert!(c.remove_person(OWNER).await.is_err(), "the owner stays");
        assert!(c.preferences(sam.id).await.unwrap().is_empty());
        assert!(c.forgotten(sam.id).await.unwrap().is_empty());
        assert_eq!(c.preferences(OWNER).await.unwrap().len(), 1, "theirs kept");
        assert_eq!(c.people().await.unwrap().len(), 1);
        assert!(c.add_person(" ", 1).await.is_err());
    }
}
