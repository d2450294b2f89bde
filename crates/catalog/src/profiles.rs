//! What the app understood about each item: descriptor profiles computed
//! at index time and a small cache of derived blobs (the model's
//! understanding of works is in `understanding.rs`). All of it is derived; none of it is user
//! data.

use sqlx::Row;

use crate::items::{Described, ITEM_VIEW, described_from_row};
use crate::{Catalog, Error, Kind, QueryContext, Result};

/// One item's stored profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub item_id: i64,
    pub source: String,
    pub evidence: Vec<u8>,
    pub zero_shot: Vec<u8>,
}

/// Everything ranking reads about one item, in one row.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    pub id: i64,
    pub kind: Kind,
    pub root_id: i64,
    pub year: Option<i32>,
    pub duration_secs: Option<f64>,
    /// A rating normalised to 0–10, when the metadata has one.
    pub rating: Option<f64>,
    pub evidence: Vec<u8>,
    pub zero_shot: Vec<u8>,
    /// Descriptor names from the model's understanding of the item's
    /// work, most fitting first.
    pub enriched: Vec<String>,
}

/// Indexed items whose profile is missing or was computed from another
/// description or profile version (the one parameter is the version, the
/// prefix of a fresh profile's source): the tail of an [`ITEM_VIEW`] query.
const PROFILE_STALE: &str = "LEFT JOIN profiles p ON p.item_id = i.id
     WHERE i.description IS NOT NULL AND i.indexed_hash = i.description_hash
       AND (p.source IS NULL OR p.source != ? || ':' || i.description_hash)";

impl Catalog {
    /// Indexed items whose profile is missing or was computed from another
    /// description or profile version (`version` is the prefix of a fresh
    /// profile's source), in id order after `after`.
    pub async fn items_to_profile(
        &self,
        version: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Described>> {
        sqlx::query(&format!(
            "{ITEM_VIEW} {PROFILE_STALE} AND i.id > ? ORDER BY i.id LIMIT ?"
        ))
        .bind(version)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("items to profile")?
        .iter()
        .map(described_from_row)
        .collect()
    }

    /// How many indexed items lack a fresh profile: the rows
    /// [`Catalog::items_to_profile`] goes through.
    pub async fn profiles_pending(&self, version: &str) -> Result<i64> {
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM ({ITEM_VIEW} {PROFILE_STALE})"
        ))
        .bind(version)
        .fetch_one(&self.pool)
        .await
        .ctx("count profiles pending")
    }

    /// Stores profiles, replacing older ones, in one transaction.
    pub async fn set_profiles(&self, profiles: &[Profile]) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for p in profiles {
            sqlx::query(
                "INSERT INTO profiles (item_id, source, evidence, zero_shot) VALUES (?, ?, ?, ?)
                 ON CONFLICT(item_id) DO UPDATE SET source = excluded.source,
                   evidence = excluded.evidence, zero_shot = excluded.zero_shot",
            )
            .bind(p.item_id)
            .bind(&p.source)
            .bind(&p.evidence)
            .bind(&p.zero_shot)
            .execute(&mut *tx)
            .await
            .ctx("store profile")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// Every profiled item with what ranking needs, for items whose folder
    /// is available.
    pub async fn profile_rows(&self) -> Result<Vec<ProfileRow>> {
        let rows = sqlx::query(
            "SELECT i.id, i.kind, f.root_id, i.year, i.duration_secs,
                    json_extract(i.meta, '$.rating') AS rating,
                    p.evidence, p.zero_shot,
                    u.descriptors AS enriched
             FROM items i
             JOIN available_media f ON f.item_id = i.id
             JOIN profiles p ON p.item_id = i.id
             LEFT JOIN understanding u ON u.subject = i.subject
             ORDER BY i.id",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("read profiles")?;
        rows.iter()
            .map(|r| {
                let get = |source| Error::Query {
                    what: "read profile row",
                    source,
                };
                let enriched: Option<String> = r.try_get("enriched").map_err(get)?;
                Ok(ProfileRow {
                    id: r.try_get("id").map_err(get)?,
                    kind: crate::kind_at(r, "kind").map_err(get)?,
                    root_id: r.try_get("root_id").map_err(get)?,
                    year: r.try_get("year").map_err(get)?,
                    duration_secs: r.try_get("duration_secs").map_err(get)?,
                    rating: r.try_get("rating").map_err(get)?,
                    evidence: r.try_get("evidence").map_err(get)?,
                    zero_shot: r.try_get("zero_shot").map_err(get)?,
                    enriched: enriched
                        .and_then(|j| serde_json::from_str(&j).ok())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn cached(&self, key: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT value FROM cache WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .ctx("read cache")
    }

    pub async fn set_cached(&self, key: &str, value: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO cache (key, value) VALUES (?, ?)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .ctx("write cache")?;
        Ok(())
    }
}
