//! The catalog: one SQLite file that is the source of truth about the
//! library. It records the folders a person added (roots), every file seen
//! under them, the items those files became, the text each item is
//! described by, and the scan runs that built it.
//!
//! The LanceDB index is derived from this catalog and can be rebuilt from it;
//! nothing here depends on the index. The database runs in WAL mode with
//! numbered migrations (`migrations/`) that are frozen once merged, so a
//! crash at any point leaves a database that opens, and a newer app can
//! always read an older file.
//!
//! Times are Unix seconds passed in by the caller; this crate never reads a
//! clock.

mod history;
mod items;
mod memory;
mod people;
mod profiles;
mod roots;
mod scans;
mod sound;
mod understanding;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use history::{SeriesItem, UseRecord};
pub use items::{
    Counts, Described, FileRecord, FileRole, FileState, FileUpdate, ItemData, ItemView, Outcome,
};
pub use memory::{Conversation, Feedback, Message, Polarity, Preference, Verdict};
pub use moodshelf_kind::Kind;
pub use people::{Forgotten, OWNER, Person};
pub use profiles::{Profile, ProfileRow};
pub use roots::{Root, RootState};
pub use scans::{ScanCounters, ScanRun, ScanStatus};
pub use sound::{SoundCounts, SoundResult, SoundWork};
pub use understanding::{UnderstandCounts, UnderstandWork};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open the catalog at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot upgrade the catalog at {path}: {source}")]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("catalog query failed ({what}): {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("{0} is not in the library")]
    UnknownRoot(String),
    #[error("corrupt catalog row ({what}): {detail}")]
    Corrupt { what: &'static str, detail: String },
    /// A request the catalog refuses (an empty name, the owner removed).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Attaches the name of the operation to a sqlx error.
pub(crate) trait QueryContext<T> {
    fn ctx(self, what: &'static str) -> Result<T>;
}

impl<T> QueryContext<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, what: &'static str) -> Result<T> {
        self.map_err(|source| Error::Query { what, source })
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A handle on the catalog database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Catalog {
    pool: SqlitePool,
    path: PathBuf,
}

impl Catalog {
    /// Opens (creating if needed) and migrates the catalog at `path`.
    pub async fn open(path: &Path) -> Result<Catalog> {
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|source| Error::Open {
                path: path.to_path_buf(),
                source,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode never corrupts the database on a crash; it
            // may lose the last transactions on power loss, which a rescan
            // repeats.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|source| Error::Open {
                path: path.to_path_buf(),
                source,
            })?;
        MIGRATOR.run(&pool).await.map_err(|source| Error::Migrate {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Catalog {
            pool,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for pending work and closes every connection, checkpointing the
    /// WAL so the database is a single file again.
    pub async fn close(self) {
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }

    /// Reads a setting stored by the hosts.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .ctx("read setting")
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .ctx("write setting")?;
        Ok(())
    }

    /// Runs SQLite's own consistency check; used after a crash test.
    pub async fn integrity_check(&self) -> Result<String> {
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await
            .ctx("integrity check")
    }
}

/// The kind stored in column `col` ("music", "book" or "video"); another
/// value is a decoding error, never a guess.
pub(crate) fn kind_at(
    r: &sqlx::sqlite::SqliteRow,
    col: &str,
) -> std::result::Result<Kind, sqlx::Error> {
    use sqlx::Row;
    let stored: String = r.try_get(col)?;
    Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == stored)
        .ok_or_else(|| sqlx::Error::ColumnDecode {
            index: col.to_string(),
            source: format!("unknown item kind {stored:?}").into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_twice_and_keeps_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        let c = Catalog::open(&path).await.unwrap();
        c.set_setting("hemisphere", "south").await.unwrap();
        c.close().await;
        let c = Catalog::open(&path).await.unwrap();
        assert_eq!(
            c.setting("hemisphere").await.unwrap().as_deref(),
            Some("south"),
            "settings survive a reopen (migrations must not run twice)"
        );
        assert_eq!(c.integrity_check().await.unwrap(), "ok");
    }
}
