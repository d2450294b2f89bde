//! The person's use of their items (migration 0007): one record per item
//! and source. Records read from an item's own files (a Kodi `.nfo`'s play
//! count, a tag's rating) are replaced each time the file is read, so they
//! follow what the person's other software last wrote; a read that fails
//! keeps them.

use sqlx::{Row, Sqlite, Transaction};

use crate::{Catalog, Kind, QueryContext, Result};

/// One item's use as one source recorded it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UseRecord {
    /// Whose record it is ("kodi", …).
    pub source: String,
    pub plays: Option<u32>,
    /// Unix seconds.
    pub last_played: Option<i64>,
    /// The person's own rating, 0–10.
    pub rating: Option<f32>,
    /// Share read or watched, 0–1.
    pub progress: Option<f32>,
    pub finished: Option<bool>,
}

/// One item of a series and its place in it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesItem {
    pub id: i64,
    pub kind: Kind,
    pub series: String,
    /// A book's number in its series.
    pub index: Option<f32>,
    pub season: Option<u32>,
    pub episode: Option<u32>,
}

impl UseRecord {
    /// Watched, read through or played at least once.
    pub fn used(&self) -> bool {
        self.finished == Some(true) || self.plays.is_some_and(|p| p > 0)
    }
}

/// Replaces what the files of `item_id` said of its use with `records`
/// (none: the files no longer say anything). Part of the transaction that
/// records the read.
pub(crate) async fn replace_from_file(
    tx: &mut Transaction<'_, Sqlite>,
    item_id: i64,
    records: &[UseRecord],
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM history WHERE item_id = ? AND from_file = 1 AND person_id = ?")
        .bind(item_id)
        .bind(crate::OWNER)
        .execute(&mut **tx)
        .await
        .ctx("forget a file's history")?;
    for r in records {
        insert(tx, item_id, crate::OWNER, r, true, now).await?;
    }
    Ok(())
}

async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    item_id: i64,
    person: i64,
    r: &UseRecord,
    from_file: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO history (item_id, person_id, source, from_file, plays, last_played, rating, progress, finished, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(item_id, person_id, source) DO UPDATE SET
           from_file = excluded.from_file, plays = excluded.plays,
           last_played = excluded.last_played, rating = excluded.rating,
           progress = excluded.progress, finished = excluded.finished,
           updated_at = excluded.updated_at",
    )
    .bind(item_id)
    .bind(person)
    .bind(&r.source)
    .bind(from_file)
    .bind(r.plays.map(i64::from))
    .bind(r.last_played)
    .bind(r.rating)
    .bind(r.progress)
    .bind(r.finished)
    .bind(now)
    .execute(&mut **tx)
    .await
    .ctx("record history")?;
    Ok(())
}

impl Catalog {
    /// Replaces everything imported from `source` (a ListenBrainz or
    /// Last.fm export) into `person`'s history with `records`, in one
    /// transaction: importing the same export twice leaves the same history.
    pub async fn replace_imported(
        &self,
        person: i64,
        source: &str,
        records: &[(i64, UseRecord)],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        sqlx::query("DELETE FROM history WHERE source = ? AND from_file = 0 AND person_id = ?")
            .bind(source)
            .bind(person)
            .execute(&mut *tx)
            .await
            .ctx("forget an import")?;
        for (item, r) in records {
            insert(&mut tx, *item, person, r, false, now).await?;
        }
        tx.commit().await.ctx("commit")
    }

    /// Records one use of an item from Moodshelf itself (opened from an
    /// answer, played from the CLI): one more play for `person`, now.
    pub async fn record_use(&self, person: i64, item_id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO history (item_id, person_id, source, from_file, plays, last_played, updated_at)
             VALUES (?, ?, 'moodshelf', 0, 1, ?, ?)
             ON CONFLICT(item_id, person_id, source) DO UPDATE SET
               plays = COALESCE(plays, 0) + 1, last_played = excluded.last_played,
               updated_at = excluded.updated_at",
        )
        .bind(item_id)
        .bind(person)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await
        .ctx("record use")?;
        Ok(())
    }

    /// A stamp that changes whenever what `person`'s taste is made of
    /// changes: their history, feedback and forgotten parts, the files
    /// present (under any root, mounted or not, as [`Catalog::history`]
    /// reads them) and the items' metadata.
    pub async fn memory_stamp(&self, person: i64) -> Result<String> {
        sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) || '.' || IFNULL(MAX(updated_at), 0) || '.' || IFNULL(SUM(plays), 0)
                     FROM history WHERE person_id = ?1)
                 || '/' || (SELECT COUNT(*) || '.' || IFNULL(MAX(id), 0) FROM feedback WHERE person_id = ?1)
                 || '/' || (SELECT COUNT(*) || '.' || IFNULL(MAX(created_at), 0)
                            FROM taste_forgotten WHERE person_id = ?1)
                 || '/' || (SELECT COUNT(*) FROM files WHERE role = 'media' AND missing_since IS NULL)
                 || '/' || (SELECT IFNULL(MAX(updated_at), 0) FROM items)",
        )
        .bind(person)
        .fetch_one(&self.pool)
        .await
        .ctx("memory stamp")
    }

    /// Every available item that belongs to a series (a book's series, a
    /// show's episodes) with its place in it.
    pub async fn series_items(&self) -> Result<Vec<SeriesItem>> {
        let rows = sqlx::query(
            "SELECT i.id, i.kind, json_extract(i.meta, '$.series'),
                    json_extract(i.meta, '$.series_index'),
                    json_extract(i.meta, '$.season'), json_extract(i.meta, '$.episode')
             FROM items i
             WHERE json_extract(i.meta, '$.series') IS NOT NULL
               AND EXISTS (SELECT 1 FROM available_media a WHERE a.item_id = i.id)
             ORDER BY i.id",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("series items")?;
        rows.iter()
            .map(|r| {
                Ok(SeriesItem {
                    id: r.get(0),
                    kind: crate::kind_at(r, "kind").map_err(|source| crate::Error::Query {
                        what: "series item",
                        source,
                    })?,
                    series: r.get(2),
                    index: r.get::<Option<f64>, _>(3).map(|v| v as f32),
                    season: r.get::<Option<i64>, _>(4).map(|v| v.clamp(0, 9999) as u32),
                    episode: r.get::<Option<i64>, _>(5).map(|v| v.clamp(0, 9999) as u32),
                })
            })
            .collect()
    }

    /// Every available track as listens are matched to it: id, title,
    /// artist (the album artist where the track has none) and album.
    pub async fn tracks_for_matching(
        &self,
    ) -> Result<Vec<(i64, String, Option<String>, Option<String>)>> {
        sqlx::query_as(
            "SELECT i.id, i.title,
                    COALESCE(i.creator, json_extract(i.meta, '$.album_artist')), i.album
             FROM items i
             WHERE i.kind = 'music'
               AND EXISTS (SELECT 1 FROM available_media a WHERE a.item_id = i.id)
             ORDER BY i.id",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("tracks for matching")
    }

    /// Every use record of `person`, by item, of items whose files are
    /// present, newest play first. Not `available_media`: what is on a
    /// disk unmounted for now still says what the person likes.
    pub async fn history(&self, person: i64) -> Result<Vec<(i64, UseRecord)>> {
        let rows = sqlx::query(
            "SELECT h.item_id, h.source, h.plays, h.last_played, h.rating,
                    h.progress, h.finished
             FROM history h
             WHERE h.person_id = ? AND EXISTS (SELECT 1 FROM files f
                           WHERE f.item_id = h.item_id AND f.role = 'media' AND f.missing_since IS NULL)
             ORDER BY h.last_played DESC NULLS LAST, h.item_id",
        )
        .bind(person)
        .fetch_all(&self.pool)
        .await
        .ctx("history")?;
        Ok(rows
            .iter()
            .map(|r| {
                let record = UseRecord {
                    source: r.get(1),
                    plays: r
                        .get::<Option<i64>, _>(2)
                        .map(|p| p.clamp(0, u32::MAX.into()) as u32),
                    last_played: r.get(3),
                    rating: r.get::<Option<f64>, _>(4).map(|v| v as f32),
                    progress: r.get::<Option<f64>, _>(5).map(|v| v as f32),
                    finished: r.get(6),
                };
                (r.get(0), record)
            })
            .collect())
    }
}
