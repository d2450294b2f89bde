//! What the user said and did: conversations, feedback, stated preferences
//! and what was shown. This is user data: it lives only here, is never
//! rebuilt, and survives restarts and rescans.

use sqlx::Row;

use crate::{Catalog, Error, QueryContext, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Like,
    Dislike,
    NotNow,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Like => "like",
            Verdict::Dislike => "dislike",
            Verdict::NotNow => "not_now",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "like" => Some(Verdict::Like),
            "dislike" => Some(Verdict::Dislike),
            "not_now" | "not-now" => Some(Verdict::NotNow),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub item_id: i64,
    pub verdict: Verdict,
    pub request: Option<String>,
    pub request_vector: Option<Vec<f32>>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub role: String,
    pub text: String,
    /// JSON, when the message carries an intent.
    pub intent: Option<String>,
    pub items: Vec<i64>,
    pub created_at: i64,
}

/// Whether a stated preference draws a person to a term or away from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    Prefer,
    Avoid,
}

impl Polarity {
    /// As the catalog stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Prefer => "prefer",
            Polarity::Avoid => "avoid",
        }
    }

    fn parse(s: &str) -> Option<Polarity> {
        match s {
            "prefer" => Some(Polarity::Prefer),
            "avoid" => Some(Polarity::Avoid),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preference {
    pub id: i64,
    pub polarity: Polarity,
    pub term: String,
    pub source: String,
}

fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_blob(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Catalog {
    /// Records `person`'s verdict on an item.
    pub async fn add_feedback(&self, person: i64, f: &Feedback) -> Result<()> {
        sqlx::query(
            "INSERT INTO feedback (person_id, item_id, verdict, request, request_vector, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(person)
        .bind(f.item_id)
        .bind(f.verdict.as_str())
        .bind(&f.request)
        .bind(f.request_vector.as_deref().map(to_blob))
        .bind(f.created_at)
        .execute(&self.pool)
        .await
        .ctx("add feedback")?;
        Ok(())
    }

    /// Every verdict of `person`, newest first.
    pub async fn feedback(&self, person: i64) -> Result<Vec<Feedback>> {
        let rows = sqlx::query(
            "SELECT item_id, verdict, request, request_vector, created_at
             FROM feedback WHERE person_id = ? ORDER BY created_at DESC, id DESC",
        )
        .bind(person)
        .fetch_all(&self.pool)
        .await
        .ctx("read feedback")?;
        rows.iter()
            .map(|r| {
                let verdict: String = r.get("verdict");
                Ok(Feedback {
                    item_id: r.get("item_id"),
                    verdict: Verdict::parse(&verdict).ok_or_else(|| Error::Corrupt {
                        what: "feedback verdict",
                        detail: verdict.clone(),
                    })?,
                    request: r.get("request"),
                    request_vector: r
                        .get::<Option<Vec<u8>>, _>("request_vector")
                        .map(|b| from_blob(&b)),
                    created_at: r.get("created_at"),
                })
            })
            .collect()
    }

    pub async fn new_conversation(&self, title: &str, now: i64) -> Result<i64> {
        let title: String = title.chars().take(80).collect();
        let id = sqlx::query(
            "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
        )
        .bind(title)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await
        .ctx("new conversation")?
        .last_insert_rowid();
        Ok(id)
    }

    pub async fn conversations(&self, limit: i64) -> Result<Vec<Conversation>> {
        let rows = sqlx::query(
            "SELECT id, title, created_at, updated_at FROM conversations
             ORDER BY updated_at DESC, id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("list conversations")?;
        Ok(rows
            .iter()
            .map(|r| Conversation {
                id: r.get("id"),
                title: r.get("title"),
                created_at: r.get("created_at"),
                updated_at: r.get("updated_at"),
            })
            .collect())
    }

    pub async fn conversation(&self, id: i64) -> Result<Option<Conversation>> {
        let r =
            sqlx::query("SELECT id, title, created_at, updated_at FROM conversations WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .ctx("read conversation")?;
        Ok(r.map(|r| Conversation {
            id: r.get("id"),
            title: r.get("title"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        }))
    }

    /// Appends a message and touches its conversation, atomically.
    pub async fn add_message(
        &self,
        conversation_id: i64,
        role: &str,
        text: &str,
        intent: Option<&str>,
        items: &[i64],
        now: i64,
    ) -> Result<i64> {
        let items = serde_json::to_string(items).map_err(|e| Error::Corrupt {
            what: "message items",
            detail: e.to_string(),
        })?;
        let mut tx = self.pool.begin().await.ctx("begin")?;
        let id = sqlx::query(
            "INSERT INTO messages (conversation_id, role, text, intent, items, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(conversation_id)
        .bind(role)
        .bind(text)
        .bind(intent)
        .bind(items)
        .bind(now)
        .execute(&mut *tx)
        .await
        .ctx("add message")?
        .last_insert_rowid();
        sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await
            .ctx("touch conversation")?;
        tx.commit().await.ctx("commit")?;
        Ok(id)
    }

    pub async fn messages(&self, conversation_id: i64) -> Result<Vec<Message>> {
        let rows = sqlx::query(
            "SELECT id, conversation_id, role, text, intent, items, created_at
             FROM messages WHERE conversation_id = ? ORDER BY id",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await
        .ctx("read messages")?;
        rows.iter()
            .map(|r| {
                let items: String = r.get("items");
                Ok(Message {
                    id: r.get("id"),
                    conversation_id: r.get("conversation_id"),
                    role: r.get("role"),
                    text: r.get("text"),
                    intent: r.get("intent"),
                    items: serde_json::from_str(&items).map_err(|e| Error::Corrupt {
                        what: "message items",
                        detail: e.to_string(),
                    })?,
                    created_at: r.get("created_at"),
                })
            })
            .collect()
    }

    /// Records what `person` said they love or cannot stand.
    pub async fn add_preference(
        &self,
        person: i64,
        polarity: Polarity,
        term: &str,
        source: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        // A new statement replaces its opposite ("I like jazz now").
        sqlx::query("DELETE FROM preferences WHERE person_id = ? AND term = ? AND polarity != ?")
            .bind(person)
            .bind(term)
            .bind(polarity.as_str())
            .execute(&mut *tx)
            .await
            .ctx("replace preference")?;
        sqlx::query(
            "INSERT INTO preferences (person_id, polarity, term, source, created_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (person_id, polarity, term) DO UPDATE SET source = excluded.source",
        )
        .bind(person)
        .bind(polarity.as_str())
        .bind(term)
        .bind(source)
        .bind(now)
        .execute(&mut *tx)
        .await
        .ctx("add preference")?;
        tx.commit().await.ctx("commit")?;
        Ok(())
    }

    pub async fn preferences(&self, person: i64) -> Result<Vec<Preference>> {
        let rows = sqlx::query(
            "SELECT id, polarity, term, source FROM preferences WHERE person_id = ? ORDER BY id",
        )
        .bind(person)
        .fetch_all(&self.pool)
        .await
        .ctx("read preferences")?;
        // Only this module writes the column; a value it does not know
        // (a newer version's) is left out rather than misread.
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(Preference {
                    id: r.get("id"),
                    polarity: Polarity::parse(r.get("polarity"))?,
                    term: r.get("term"),
                    source: r.get("source"),
                })
            })
            .collect())
    }

    pub async fn remove_preference(&self, person: i64, id: i64) -> Result<bool> {
        let n = sqlx::query("DELETE FROM preferences WHERE id = ? AND person_id = ?")
            .bind(id)
            .bind(person)
            .execute(&self.pool)
            .await
            .ctx("remove preference")?
            .rows_affected();
        Ok(n > 0)
    }

    pub async fn mark_shown(&self, item_ids: &[i64], now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for id in item_ids {
            sqlx::query("INSERT INTO shown (item_id, shown_at) VALUES (?, ?)")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .ctx("mark shown")?;
        }
        tx.commit().await.ctx("commit")?;
        Ok(())
    }

    /// How often each item was shown since `since`.
    pub async fn shown_since(&self, since: i64) -> Result<Vec<(i64, i64)>> {
        sqlx::query_as("SELECT item_id, COUNT(*) FROM shown WHERE shown_at >= ? GROUP BY item_id")
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .ctx("read shown")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_blobs() {
        let v = vec![0.5f32, -1.25, 3.0];
        assert_eq!(from_blob(&to_blob(&v)), v);
    }
}
