//! Library roots: the folders a person added.

use std::path::{Path, PathBuf};

use sqlx::Row;

use crate::{Catalog, Error, QueryContext, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootState {
    Ok,
    /// The folder is gone or empty (an unmounted disk): its items are kept
    /// but not recommended until it comes back.
    Unavailable,
}

impl RootState {
    fn as_str(self) -> &'static str {
        match self {
            RootState::Ok => "ok",
            RootState::Unavailable => "unavailable",
        }
    }

    fn parse(s: &str) -> RootState {
        match s {
            "unavailable" => RootState::Unavailable,
            _ => RootState::Ok,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Root {
    pub id: i64,
    pub path: PathBuf,
    pub added_at: i64,
    pub state: RootState,
    pub last_scan_at: Option<i64>,
}

fn root_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Root> {
    let get = |e: sqlx::Error| Error::Query {
        what: "read root",
        source: e,
    };
    Ok(Root {
        id: row.try_get("id").map_err(get)?,
        path: PathBuf::from(row.try_get::<String, _>("path").map_err(get)?),
        added_at: row.try_get("added_at").map_err(get)?,
        state: RootState::parse(&row.try_get::<String, _>("state").map_err(get)?),
        last_scan_at: row.try_get("last_scan_at").map_err(get)?,
    })
}

impl Catalog {
    /// Adds a root, or returns the existing one with that path.
    pub async fn add_root(&self, path: &Path, now: i64) -> Result<Root> {
        let text = path.to_string_lossy();
        sqlx::query(
            "INSERT INTO roots (path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING",
        )
        .bind(text.as_ref())
        .bind(now)
        .execute(&self.pool)
        .await
        .ctx("add root")?;
        self.root_by_path(path)
            .await?
            .ok_or_else(|| Error::UnknownRoot(text.into_owned()))
    }

    pub async fn root_by_path(&self, path: &Path) -> Result<Option<Root>> {
        let row = sqlx::query("SELECT * FROM roots WHERE path = ?")
            .bind(path.to_string_lossy().as_ref())
            .fetch_optional(&self.pool)
            .await
            .ctx("find root")?;
        row.as_ref().map(root_from_row).transpose()
    }

    pub async fn roots(&self) -> Result<Vec<Root>> {
        let rows = sqlx::query("SELECT * FROM roots ORDER BY path")
            .fetch_all(&self.pool)
            .await
            .ctx("list roots")?;
        rows.iter().map(root_from_row).collect()
    }

    /// Removes a root with its files and items. Returns the ids of the
    /// removed items so the index can drop them too.
    pub async fn remove_root(&self, path: &Path) -> Result<Vec<i64>> {
        let root = self
            .root_by_path(path)
            .await?
            .ok_or_else(|| Error::UnknownRoot(path.display().to_string()))?;
        let mut tx = self.pool.begin().await.ctx("begin")?;
        let items: Vec<i64> = sqlx::query_scalar(
            "SELECT item_id FROM files WHERE root_id = ? AND item_id IS NOT NULL",
        )
        .bind(root.id)
        .fetch_all(&mut *tx)
        .await
        .ctx("list root items")?;
        sqlx::query("DELETE FROM files WHERE root_id = ?")
            .bind(root.id)
            .execute(&mut *tx)
            .await
            .ctx("delete root files")?;
        for id in &items {
            sqlx::query("DELETE FROM items WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("delete root items")?;
        }
        sqlx::query("DELETE FROM roots WHERE id = ?")
            .bind(root.id)
            .execute(&mut *tx)
            .await
            .ctx("delete root")?;
        tx.commit().await.ctx("commit")?;
        Ok(items)
    }

    pub async fn set_root_state(&self, id: i64, state: RootState) -> Result<()> {
        sqlx::query("UPDATE roots SET state = ? WHERE id = ?")
            .bind(state.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("set root state")?;
        Ok(())
    }

    pub async fn set_root_scanned(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE roots SET last_scan_at = ?, state = 'ok' WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("mark root scanned")?;
        Ok(())
    }
}
