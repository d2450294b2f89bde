//! How tracks sound: the features the background analysis computed from
//! each track's decoded audio, kept beside the item and keyed by the file
//! content and the analysis version they came from.

use sqlx::Row;

use crate::{Catalog, Error, QueryContext, Result};

/// A track whose sound is not known in its current form.
#[derive(Debug, Clone, PartialEq)]
pub struct SoundWork {
    pub id: i64,
    /// The media file, as the catalog stores paths.
    pub path: String,
    /// The key its analysis will be stored under.
    pub source: String,
    pub duration_secs: Option<f64>,
}

/// One analysis result: features as JSON, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub struct SoundResult {
    pub item_id: i64,
    pub source: String,
    pub features: Option<String>,
    pub error: Option<String>,
}

/// Where the analysis stands.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SoundCounts {
    /// Tracks whose audio is analysed in its current form.
    pub analyzed: i64,
    /// Of those, tracks that could not be (damaged, an unsupported codec).
    pub failed: i64,
    /// Tracks on available folders.
    pub tracks: i64,
    /// Minutes of audio still to analyse, as far as durations are known.
    pub minutes_left: f64,
}

/// The key of a media file's current content for analysis version
/// `version`: its size and fingerprint (its modification time when it has
/// none). A move keeps both, so a moved track keeps its analysis; a retag
/// changes the fingerprint and costs one analysis more, as audio and tags
/// cannot be told apart without decoding.
fn source_sql(version: u32) -> String {
    format!("'a{version}:' || f.size || ':' || COALESCE(f.fingerprint, f.mtime_ns)")
}

/// Music items whose media file is present on an available folder.
const TRACKS: &str = "FROM items i
     JOIN available_media f ON f.item_id = i.id AND f.state = 'ok'
     LEFT JOIN sound s ON s.item_id = i.id
     WHERE i.kind = 'music'";

impl Catalog {
    /// Tracks whose sound was not analysed by `version` from their current
    /// file, in id order after `after`.
    pub async fn items_to_analyze(
        &self,
        version: u32,
        after: i64,
        limit: i64,
    ) -> Result<Vec<SoundWork>> {
        let source = source_sql(version);
        sqlx::query(&format!(
            "SELECT i.id, f.path, {source} AS source, i.duration_secs
             {TRACKS}
               AND (s.source IS NULL OR s.source != {source})
               AND i.id > ?
             ORDER BY i.id LIMIT ?"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("tracks to analyse")?
        .iter()
        .map(|r| {
            let get = |source| Error::Query {
                what: "read sound work",
                source,
            };
            Ok(SoundWork {
                id: r.try_get("id").map_err(get)?,
                path: r.try_get("path").map_err(get)?,
                source: r.try_get("source").map_err(get)?,
                duration_secs: r.try_get("duration_secs").map_err(get)?,
            })
        })
        .collect()
    }

    /// Stores analysis results, in one transaction.
    pub async fn set_sound(&self, results: &[SoundResult], now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for r in results {
            sqlx::query(
                "INSERT INTO sound (item_id, source, features, error, analyzed_at)
                 VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT(item_id) DO UPDATE SET source = excluded.source,
                   features = excluded.features, error = excluded.error,
                   analyzed_at = excluded.analyzed_at",
            )
            .bind(r.item_id)
            .bind(&r.source)
            .bind(&r.features)
            .bind(&r.error)
            .bind(now)
            .execute(&mut *tx)
            .await
            .ctx("store sound")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// Where the analysis by `version` stands.
    pub async fn sound_counts(&self, version: u32) -> Result<SoundCounts> {
        let source = source_sql(version);
        let (analyzed, failed, tracks, seconds_left): (i64, i64, i64, f64) =
            sqlx::query_as(&format!(
                "SELECT COALESCE(SUM(s.source = {source}), 0),
                        COALESCE(SUM(s.source = {source} AND s.features IS NULL), 0),
                        COUNT(*),
                        COALESCE(SUM(CASE WHEN s.source IS NULL OR s.source != {source}
                                          THEN COALESCE(i.duration_secs, 0) END), 0.0)
                 {TRACKS}"
            ))
            .fetch_one(&self.pool)
            .await
            .ctx("count sound")?;
        Ok(SoundCounts {
            analyzed,
            failed,
            tracks,
            minutes_left: seconds_left / 60.0,
        })
    }

    /// The features of every track on an available folder whose analysis
    /// by `version` matches its current file: `(item id, features JSON)`.
    pub async fn sound_rows(&self, version: u32) -> Result<Vec<(i64, String)>> {
        let source = source_sql(version);
        sqlx::query_as(&format!(
            "SELECT i.id, s.features {TRACKS}
               AND s.source = {source} AND s.features IS NOT NULL
             ORDER BY i.id"
        ))
        .fetch_all(&self.pool)
        .await
        .ctx("read sound")
    }
}
