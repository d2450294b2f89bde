//! What the reasoning model knows of each work, keyed by the work's
//! subject (`items.subject`, set by the engine's describe phase): one row
//! per film, book, album or artist, shared by the items that read alike.
//! Storing a reading sends its items back to the describe phase, so that
//! their catalogue cards, embeddings and profiles take it in.

use std::collections::HashMap;

use sqlx::Row;

use crate::{Catalog, Error, Kind, QueryContext, Result};

/// A work the model has not read in its current form.
#[derive(Debug, Clone, PartialEq)]
pub struct UnderstandWork {
    pub subject: String,
    /// The first item read as this work: what its prompt is built from.
    pub id: i64,
    pub kind: Kind,
    /// The item's `media::Metadata` as JSON.
    pub meta: String,
}

/// Where understanding stands for one model.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct UnderstandCounts {
    /// Works read by this model.
    pub understood: i64,
    /// Works in all (on available folders).
    pub works: i64,
    /// Items whose work is read by this model.
    pub items_covered: i64,
}

/// Items that say nothing but names and numbers.
const THIN: &str = "(i.genres = '[]' AND json_extract(i.meta, '$.tags') IS NULL
     AND json_extract(i.meta, '$.description') IS NULL)";

impl Catalog {
    /// Works on available folders that `model` has not read, as (subject,
    /// first item id), thin works first (the model changes most there),
    /// then in id order.
    pub async fn works_to_understand(&self, model: &str) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(&format!(
            "SELECT i.subject, MIN(i.id) AS id
             FROM items i
             JOIN available_media f ON f.item_id = i.id
             LEFT JOIN understanding u ON u.subject = i.subject
             WHERE i.subject IS NOT NULL AND (u.subject IS NULL OR u.model != ?)
             GROUP BY i.subject
             ORDER BY MAX({THIN}) DESC, id"
        ))
        .bind(model)
        .fetch_all(&self.pool)
        .await
        .ctx("works to understand")
    }

    /// Items whose subject was made by another version of item
    /// understanding (its key does not start with `prefix`) are described
    /// again, which gives them this version's subject. Returns how many.
    pub async fn forget_stale_subjects(&self, prefix: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE items SET description = NULL
             WHERE subject IS NOT NULL AND substr(subject, 1, length(?1)) != ?1",
        )
        .bind(prefix)
        .execute(&self.pool)
        .await
        .ctx("forget stale subjects")?;
        Ok(done.rows_affected())
    }

    /// The items `ids` as understanding work, with their subjects, in one
    /// query.
    pub async fn understand_work(&self, ids: &[i64]) -> Result<Vec<UnderstandWork>> {
        let ids = serde_json::to_string(ids).map_err(|e| Error::Corrupt {
            what: "item ids",
            detail: e.to_string(),
        })?;
        sqlx::query(
            "SELECT id, subject, kind, meta FROM items
             WHERE id IN (SELECT value FROM json_each(?)) AND subject IS NOT NULL
             ORDER BY id",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .ctx("read understanding work")?
        .iter()
        .map(|r| {
            let get = |source| Error::Query {
                what: "read understanding work",
                source,
            };
            Ok(UnderstandWork {
                subject: r.try_get("subject").map_err(get)?,
                id: r.try_get("id").map_err(get)?,
                kind: crate::kind_at(r, "kind").map_err(get)?,
                meta: r.try_get("meta").map_err(get)?,
            })
        })
        .collect()
    }

    /// Stores readings `(subject, reading JSON, descriptors JSON)` by
    /// `model`, and sends the items of each subject back to be described,
    /// in one transaction.
    pub async fn set_understanding(
        &self,
        model: &str,
        rows: &[(String, String, String)],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for (subject, reading, descriptors) in rows {
            sqlx::query(
                "INSERT INTO understanding (subject, model, reading, descriptors, created_at)
                 VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT(subject) DO UPDATE SET model = excluded.model,
                   reading = excluded.reading, descriptors = excluded.descriptors,
                   created_at = excluded.created_at",
            )
            .bind(subject)
            .bind(model)
            .bind(reading)
            .bind(descriptors)
            .bind(now)
            .execute(&mut *tx)
            .await
            .ctx("store understanding")?;
            sqlx::query("UPDATE items SET description = NULL WHERE subject = ?")
                .bind(subject)
                .execute(&mut *tx)
                .await
                .ctx("describe understood items again")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// The stored readings of `subjects` (those that have one), in one
    /// query: the describe phase asks for a thousand items at a time.
    pub async fn understandings(&self, subjects: &[&str]) -> Result<HashMap<String, String>> {
        if subjects.is_empty() {
            return Ok(HashMap::new());
        }
        let keys = serde_json::to_string(subjects).map_err(|e| Error::Corrupt {
            what: "subjects",
            detail: e.to_string(),
        })?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT subject, reading FROM understanding
             WHERE subject IN (SELECT value FROM json_each(?))",
        )
        .bind(keys)
        .fetch_all(&self.pool)
        .await
        .ctx("read understanding")?;
        Ok(rows.into_iter().collect())
    }

    /// An item's reading and the model that wrote it.
    pub async fn item_understanding(&self, item_id: i64) -> Result<Option<(String, String)>> {
        sqlx::query_as(
            "SELECT u.reading, u.model FROM items i JOIN understanding u ON u.subject = i.subject
             WHERE i.id = ?",
        )
        .bind(item_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("read an item's understanding")
    }

    pub async fn understand_counts(&self, model: &str) -> Result<UnderstandCounts> {
        let (understood, works): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(u.model = ?), 0), COUNT(*)
             FROM (SELECT DISTINCT i.subject FROM items i
                   JOIN available_media f ON f.item_id = i.id
                   WHERE i.subject IS NOT NULL) w
             LEFT JOIN understanding u ON u.subject = w.subject",
        )
        .bind(model)
        .fetch_one(&self.pool)
        .await
        .ctx("count understanding")?;
        let items_covered: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM items i JOIN understanding u ON u.subject = i.subject
             WHERE u.model = ?",
        )
        .bind(model)
        .fetch_one(&self.pool)
        .await
        .ctx("count understood items")?;
        Ok(UnderstandCounts {
            understood,
            works,
            items_covered,
        })
    }

    /// Drops readings no item is read as any more (their items changed or
    /// went away). Returns how many went.
    pub async fn prune_understanding(&self) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM understanding
             WHERE subject NOT IN (SELECT subject FROM items WHERE subject IS NOT NULL)",
        )
        .execute(&self.pool)
        .await
        .ctx("prune understanding")?
        .rows_affected())
    }
}
