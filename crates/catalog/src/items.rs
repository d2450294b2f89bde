//! Files and the items they became, and the describe/index bookkeeping that
//! lets an interrupted scan resume where it stopped.

use sqlx::{QueryBuilder, Row, Sqlite};

use crate::{Catalog, Error, Kind, QueryContext, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// A file that is an item.
    Media,
    /// A file that describes its neighbours (`.nfo`, `metadata.opf`, art).
    Sidecar,
}

impl FileRole {
    fn as_str(self) -> &'static str {
        match self {
            FileRole::Media => "media",
            FileRole::Sidecar => "sidecar",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Ok,
    /// Reading failed; retried when the file changes.
    Error,
}

/// A file as the catalog last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    pub id: i64,
    pub root_id: i64,
    pub path: String,
    pub role: FileRole,
    pub size: i64,
    pub mtime_ns: i64,
    pub fingerprint: Option<String>,
    pub item_id: Option<i64>,
    pub state: FileState,
    /// The media readers' version that produced `state`.
    pub reader: i64,
    /// When the file was last found missing without its absence being
    /// confirmed (see migration 0004); its item is hidden meanwhile.
    pub missing_since: Option<i64>,
}

/// The catalog's view of an item's metadata (the engine converts from the
/// media crate's type; this crate stays independent of it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemData {
    pub kind: Kind,
    pub title: String,
    pub creator: Option<String>,
    pub album: Option<String>,
    pub year: Option<i32>,
    pub duration_secs: Option<f64>,
    pub genres: Vec<String>,
    /// All metadata as JSON.
    pub meta: String,
    pub cover: Option<String>,
    /// What the files say of the person's use of it (see [`crate::history`]):
    /// kept apart from `meta`, as their history.
    pub history: Vec<crate::UseRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Item(ItemData),
    /// The file could not be read, but it is a media file and is listed by
    /// what its names say; the error is kept beside it.
    Listed(ItemData, String),
    Failed(String),
    Sidecar,
}

/// The result of reading one file, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct FileUpdate {
    pub root_id: i64,
    pub path: String,
    pub role: FileRole,
    pub size: i64,
    pub mtime_ns: i64,
    pub fingerprint: Option<String>,
    pub outcome: Outcome,
    /// The media readers' version that read it.
    pub reader: i64,
}

/// An item as the engine and the hosts see it: the one shape an item has
/// from the catalog to a host's card. Serialized, it is an answer's item
/// for scripts (`ask --json`); the raw metadata, the card text and the
/// availability stay out of that.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemView {
    pub id: i64,
    pub path: String,
    /// The root (library folder) its file is under.
    #[serde(skip)]
    pub root_id: i64,
    pub kind: Kind,
    pub title: String,
    pub creator: Option<String>,
    pub album: Option<String>,
    pub year: Option<i32>,
    pub duration_secs: Option<f64>,
    pub genres: Vec<String>,
    pub cover: Option<String>,
    #[serde(skip)]
    pub meta: String,
    /// The card the describe phase wrote (genres, tags, plot).
    #[serde(skip)]
    pub description: Option<String>,
    /// False while the item's root is unavailable (unmounted).
    #[serde(skip)]
    pub available: bool,
    /// What the reasoning model understood of the item's work (JSON), once
    /// read.
    #[serde(skip)]
    pub understood: Option<String>,
}

impl ItemView {
    /// An item known by its id, kind and title alone (an empty path under
    /// root 1, no metadata, available): the base of an item made up where
    /// no catalog is read, with `..ItemView::bare(..)`.
    pub fn bare(id: i64, kind: Kind, title: &str) -> ItemView {
        ItemView {
            id,
            path: String::new(),
            root_id: 1,
            kind,
            title: title.to_string(),
            creator: None,
            album: None,
            year: None,
            duration_secs: None,
            genres: Vec::new(),
            cover: None,
            meta: "{}".into(),
            description: None,
            available: true,
            understood: None,
        }
    }
}

/// A described item (its `description` is set) with that description's
/// hash: what indexing and profiling it need.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub item: ItemView,
    pub description_hash: String,
}

impl Described {
    /// The described text, what the index matches.
    pub fn text(&self) -> &str {
        self.item.description.as_deref().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub music: i64,
    pub book: i64,
    pub video: i64,
    pub files: i64,
    pub file_errors: i64,
    /// Items whose description or index row is missing or stale.
    pub pending_index: i64,
    pub unavailable: i64,
}

fn genres_from(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn file_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<FileRecord> {
    let get = |source| Error::Query {
        what: "read file row",
        source,
    };
    let role: String = row.try_get("role").map_err(get)?;
    let state: String = row.try_get("state").map_err(get)?;
    Ok(FileRecord {
        id: row.try_get("id").map_err(get)?,
        root_id: row.try_get("root_id").map_err(get)?,
        path: row.try_get("path").map_err(get)?,
        role: if role == "media" {
            FileRole::Media
        } else {
            FileRole::Sidecar
        },
        size: row.try_get("size").map_err(get)?,
        mtime_ns: row.try_get("mtime_ns").map_err(get)?,
        fingerprint: row.try_get("fingerprint").map_err(get)?,
        item_id: row.try_get("item_id").map_err(get)?,
        state: if state == "error" {
            FileState::Error
        } else {
            FileState::Ok
        },
        reader: row.try_get("reader").map_err(get)?,
        missing_since: row.try_get("missing_since").map_err(get)?,
    })
}

impl Catalog {
    /// Every file recorded under a root, for the diff phase.
    pub async fn files_under(&self, root_id: i64) -> Result<Vec<FileRecord>> {
        let rows = sqlx::query("SELECT * FROM files WHERE root_id = ?")
            .bind(root_id)
            .fetch_all(&self.pool)
            .await
            .ctx("list files")?;
        rows.iter().map(file_from_row).collect()
    }

    pub async fn file_by_path(&self, path: &str) -> Result<Option<FileRecord>> {
        let row = sqlx::query("SELECT * FROM files WHERE path = ?")
            .bind(path)
            .fetch_optional(&self.pool)
            .await
            .ctx("find file")?;
        row.as_ref().map(file_from_row).transpose()
    }

    /// Files whose path starts with `prefix` (a folder path ending in the
    /// separator): everything recorded under a folder.
    pub async fn files_with_prefix(&self, prefix: &str) -> Result<Vec<FileRecord>> {
        // A range scan on the path index: every string that starts with
        // "dir/" sorts between "dir/" and "dir0" ('0' follows '/').
        let Some(stem) = prefix.strip_suffix(['/', '\\']) else {
            return Ok(Vec::new());
        };
        let sep = &prefix[stem.len()..];
        let upper = format!("{stem}{}", if sep == "/" { "0" } else { "]" });
        let rows = sqlx::query("SELECT * FROM files WHERE path >= ? AND path < ?")
            .bind(prefix)
            .bind(upper)
            .fetch_all(&self.pool)
            .await
            .ctx("files under folder")?;
        rows.iter().map(file_from_row).collect()
    }

    /// Records what reading a batch of files produced, in one transaction.
    ///
    /// An item whose metadata did not change keeps its description, so a
    /// touched-but-unchanged file is not embedded again. A file that fails
    /// to read keeps its previous item: a transient error loses nothing.
    pub async fn apply(&self, updates: &[FileUpdate], now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for u in updates {
            let existing: Option<(i64, Option<i64>)> =
                sqlx::query_as("SELECT id, item_id FROM files WHERE path = ?")
                    .bind(&u.path)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx("find file")?;
            let mut item_id = existing.and_then(|(_, item)| item);
            let (state, error) = match &u.outcome {
                Outcome::Item(data) => {
                    let id = upsert_item(&mut tx, item_id, data, now).await?;
                    crate::history::replace_from_file(&mut tx, id, &data.history, now).await?;
                    item_id = Some(id);
                    ("ok", None)
                }
                Outcome::Listed(data, reason) => {
                    item_id = Some(upsert_item(&mut tx, item_id, data, now).await?);
                    ("error", Some(reason.as_str()))
                }
                Outcome::Failed(reason) => ("error", Some(reason.as_str())),
                Outcome::Sidecar => ("ok", None),
            };
            sqlx::query(
                "INSERT INTO files (root_id, path, role, size, mtime_ns, fingerprint, item_id, state, error, reader)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT(path) DO UPDATE SET
                   root_id = excluded.root_id, role = excluded.role, size = excluded.size,
                   mtime_ns = excluded.mtime_ns,
                   fingerprint = COALESCE(excluded.fingerprint, files.fingerprint),
                   item_id = excluded.item_id, state = excluded.state, error = excluded.error,
                   reader = excluded.reader, missing_since = NULL, missed_scans = 0",
            )
            .bind(u.root_id)
            .bind(&u.path)
            .bind(u.role.as_str())
            .bind(u.size)
            .bind(u.mtime_ns)
            .bind(&u.fingerprint)
            .bind(item_id)
            .bind(state)
            .bind(error)
            .bind(u.reader)
            .execute(&mut *tx)
            .await
            .ctx("upsert file")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// A file moved or was renamed: same content, same item, new path.
    pub async fn move_file(
        &self,
        file_id: i64,
        root_id: i64,
        new_path: &str,
        size: i64,
        mtime_ns: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        // Whatever was recorded at the destination is replaced by the mover.
        let displaced: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT id, item_id FROM files WHERE path = ? AND id != ?")
                .bind(new_path)
                .bind(file_id)
                .fetch_optional(&mut *tx)
                .await
                .ctx("find move target")?;
        if let Some((id, item)) = displaced {
            sqlx::query("DELETE FROM files WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("drop displaced file")?;
            if let Some(item) = item {
                sqlx::query("DELETE FROM items WHERE id = ?")
                    .bind(item)
                    .execute(&mut *tx)
                    .await
                    .ctx("drop displaced item")?;
            }
        }
        sqlx::query(
            "UPDATE files SET root_id = ?, path = ?, size = ?, mtime_ns = ?, missing_since = NULL, missed_scans = 0
             WHERE id = ?",
        )
        .bind(root_id)
        .bind(new_path)
        .bind(size)
        .bind(mtime_ns)
        .bind(file_id)
        .execute(&mut *tx)
        .await
        .ctx("move file")?;
        tx.commit().await.ctx("commit")
    }

    /// Marks files as missing without forgetting them: their items are
    /// hidden and keep their ids, likes and history until a scan either
    /// finds them again or sees their root whole without them.
    pub async fn mark_missing(&self, file_ids: &[i64], now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for id in file_ids {
            sqlx::query("UPDATE files SET missing_since = COALESCE(missing_since, ?) WHERE id = ?")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("mark missing")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// Files found again where they were: their items show again.
    /// Marks files a scan missed without confirming their absence: hidden
    /// (as [`Catalog::mark_missing`]), with one more scan that missed them.
    /// Returns each file's count of scans in a row that missed it.
    pub async fn mark_missed_by_scan(&self, file_ids: &[i64], now: i64) -> Result<Vec<(i64, i64)>> {
        let mut out = Vec::with_capacity(file_ids.len());
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for id in file_ids {
            let n: Option<i64> = sqlx::query_scalar(
                "UPDATE files SET missing_since = COALESCE(missing_since, ?),
                                  missed_scans = missed_scans + 1
                 WHERE id = ? RETURNING missed_scans",
            )
            .bind(now)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx("mark missed")?;
            if let Some(n) = n {
                out.push((*id, n));
            }
        }
        tx.commit().await.ctx("commit")?;
        Ok(out)
    }

    pub async fn clear_missing(&self, file_ids: &[i64]) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for id in file_ids {
            sqlx::query("UPDATE files SET missing_since = NULL, missed_scans = 0 WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("clear missing")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// Forgets files that are gone. Returns the ids of the items removed
    /// with them.
    pub async fn remove_files(&self, file_ids: &[i64]) -> Result<Vec<i64>> {
        let mut removed = Vec::new();
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for id in file_ids {
            let item: Option<Option<i64>> =
                sqlx::query_scalar("DELETE FROM files WHERE id = ? RETURNING item_id")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx("delete file")?;
            if let Some(Some(item)) = item {
                sqlx::query("DELETE FROM items WHERE id = ?")
                    .bind(item)
                    .execute(&mut *tx)
                    .await
                    .ctx("delete item")?;
                removed.push(item);
            }
        }
        tx.commit().await.ctx("commit")?;
        Ok(removed)
    }

    /// Items whose description is missing, in id order after `after`.
    pub async fn items_to_describe(&self, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        sqlx::query_as(
            "SELECT id, meta FROM items WHERE description IS NULL AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("items to describe")
    }

    /// Stores descriptions: `(item id, text, hash, subject)`, the subject
    /// being the work the item is read as (see `understanding.rs`).
    pub async fn set_descriptions(
        &self,
        rows: &[(i64, String, String, Option<String>)],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for (id, text, hash, subject) in rows {
            sqlx::query(
                "UPDATE items SET description = ?, description_hash = ?, subject = ? WHERE id = ?",
            )
            .bind(text)
            .bind(hash)
            .bind(subject)
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("store description")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// Described items whose index row is missing or stale, in id order
    /// after `after`, each with its description (the text the index
    /// matches) and that description's hash.
    pub async fn items_to_index(&self, after: i64, limit: i64) -> Result<Vec<Described>> {
        let rows = sqlx::query(&format!(
            "{ITEM_VIEW}
             WHERE i.description IS NOT NULL
               AND (i.indexed_hash IS NULL OR i.indexed_hash != i.description_hash)
               AND i.id > ?
             ORDER BY i.id LIMIT ?"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("items to index")?;
        rows.iter().map(described_from_row).collect()
    }

    /// Records that the index now holds these `(item id, description hash)`.
    pub async fn mark_indexed(&self, rows: &[(i64, String)]) -> Result<()> {
        let mut tx = self.pool.begin().await.ctx("begin")?;
        for (id, hash) in rows {
            sqlx::query("UPDATE items SET indexed_hash = ? WHERE id = ?")
                .bind(hash)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("mark indexed")?;
        }
        tx.commit().await.ctx("commit")
    }

    /// Marks every item as not indexed (before an index rebuild, or when the
    /// embedding model changed).
    pub async fn forget_index(&self) -> Result<()> {
        sqlx::query("UPDATE items SET indexed_hash = NULL")
            .execute(&self.pool)
            .await
            .ctx("forget index")?;
        Ok(())
    }

    /// Marks some items as not indexed (their index rows went missing).
    pub async fn forget_indexed(&self, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(500) {
            let mut q =
                QueryBuilder::<Sqlite>::new("UPDATE items SET indexed_hash = NULL WHERE id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id);
            }
            q.push(")");
            q.build().execute(&self.pool).await.ctx("forget indexed")?;
        }
        Ok(())
    }

    /// Drops every description (when the describe step itself changed).
    pub async fn forget_descriptions(&self) -> Result<()> {
        sqlx::query("UPDATE items SET description = NULL, description_hash = NULL")
            .execute(&self.pool)
            .await
            .ctx("forget descriptions")?;
        Ok(())
    }

    pub async fn item_ids(&self) -> Result<Vec<i64>> {
        sqlx::query_scalar("SELECT id FROM items ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .ctx("list item ids")
    }

    /// Items by id in the order of `ids`; ids not in the catalog are
    /// left out.
    pub async fn items_in_order(&self, ids: &[i64]) -> Result<Vec<ItemView>> {
        let mut by_id: std::collections::HashMap<i64, ItemView> = self
            .items_by_ids(ids)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Items by id, in no particular order; ids not in the catalog are
    /// simply absent from the result.
    pub async fn items_by_ids(&self, ids: &[i64]) -> Result<Vec<ItemView>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut q = QueryBuilder::<Sqlite>::new(ITEM_VIEW);
            q.push(" WHERE i.id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id);
            }
            q.push(")");
            let rows = q.build().fetch_all(&self.pool).await.ctx("items by id")?;
            for r in rows {
                out.push(view_from_row(&r)?);
            }
        }
        Ok(out)
    }

    /// Items whose creator or title contains `name` (case-insensitive),
    /// creators first: what "like Norah Jones" refers to.
    pub async fn items_named(&self, name: &str, limit: i64) -> Result<Vec<i64>> {
        let escaped = name
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        if escaped.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
            return Ok(Vec::new());
        }
        let pattern = format!("%{escaped}%");
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM items
             WHERE lower(creator) LIKE ?1 ESCAPE '\\' OR lower(title) LIKE ?1 ESCAPE '\\'
             ORDER BY (lower(creator) LIKE ?1 ESCAPE '\\') DESC, id LIMIT ?2",
        )
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("items by name")?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Items whose creator is `name` or starts with it (case-insensitive):
    /// what "by Dickens" asks for.
    pub async fn items_by_creator(&self, name: &str, limit: i64) -> Result<Vec<i64>> {
        let escaped = name
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        if escaped.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM items
             WHERE lower(creator) = ?1 OR lower(creator) LIKE ?2 ESCAPE '\\'
                OR lower(creator) LIKE ?3 ESCAPE '\\'
             ORDER BY id LIMIT ?4",
        )
        .bind(&escaped)
        .bind(format!("{escaped} %"))
        .bind(format!("% {escaped}"))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("items by creator")?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    pub async fn item_by_path(&self, path: &str) -> Result<Option<ItemView>> {
        let row = sqlx::query(&format!("{ITEM_VIEW} WHERE f.path = ?"))
            .bind(path)
            .fetch_optional(&self.pool)
            .await
            .ctx("item by path")?;
        row.as_ref().map(view_from_row).transpose()
    }

    pub async fn counts(&self) -> Result<Counts> {
        let per_kind: Vec<(String, i64)> =
            sqlx::query_as("SELECT kind, COUNT(*) FROM items GROUP BY kind")
                .fetch_all(&self.pool)
                .await
                .ctx("count items")?;
        let mut c = Counts::default();
        for (kind, n) in per_kind {
            match kind.as_str() {
                "music" => c.music = n,
                "book" => c.book = n,
                "video" => c.video = n,
                _ => {}
            }
        }
        let (files, errors): (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(state = 'error'), 0) FROM files")
                .fetch_one(&self.pool)
                .await
                .ctx("count files")?;
        c.files = files;
        c.file_errors = errors;
        c.pending_index = sqlx::query_scalar(
            "SELECT COUNT(*) FROM items
             WHERE description IS NULL OR indexed_hash IS NULL OR indexed_hash != description_hash",
        )
        .fetch_one(&self.pool)
        .await
        .ctx("count pending")?;
        c.unavailable = sqlx::query_scalar(
            "SELECT COUNT(*) FROM files f JOIN roots r ON r.id = f.root_id
             WHERE f.item_id IS NOT NULL
               AND (r.state = 'unavailable' OR f.missing_since IS NOT NULL)",
        )
        .fetch_one(&self.pool)
        .await
        .ctx("count unavailable")?;
        Ok(c)
    }

    /// Files that failed to read, with the reason: `(path, error)`.
    pub async fn file_errors(&self, limit: i64) -> Result<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT path, COALESCE(error, '') FROM files WHERE state = 'error' ORDER BY path LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("list file errors")
    }
}

/// The columns of an [`ItemView`]: an item with its media file and the
/// state of that file's root.
pub(crate) const ITEM_VIEW: &str =
    "SELECT i.id, f.path, f.root_id, i.kind, i.title, i.creator, i.album,
        i.year, i.duration_secs, i.genres, i.cover, i.meta, i.description, i.description_hash,
        (r.state = 'ok' AND f.missing_since IS NULL) AS available,
        u.reading AS understood
     FROM items i
     JOIN files f ON f.item_id = i.id AND f.role = 'media'
     JOIN roots r ON r.id = f.root_id
     LEFT JOIN understanding u ON u.subject = i.subject";

/// A row of [`ITEM_VIEW`] with a description, as a [`Described`].
pub(crate) fn described_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<Described> {
    let item = view_from_row(r)?;
    let description_hash = r
        .try_get("description_hash")
        .map_err(|source| Error::Query {
            what: "read description hash",
            source,
        })?;
    Ok(Described {
        item,
        description_hash,
    })
}

fn view_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<ItemView> {
    let get = |source| Error::Query {
        what: "read item",
        source,
    };
    Ok(ItemView {
        id: r.try_get("id").map_err(get)?,
        path: r.try_get("path").map_err(get)?,
        root_id: r.try_get("root_id").map_err(get)?,
        kind: crate::kind_at(r, "kind").map_err(get)?,
        title: r.try_get("title").map_err(get)?,
        creator: r.try_get("creator").map_err(get)?,
        album: r.try_get("album").map_err(get)?,
        year: r.try_get("year").map_err(get)?,
        duration_secs: r.try_get("duration_secs").map_err(get)?,
        genres: genres_from(&r.try_get::<String, _>("genres").map_err(get)?),
        cover: r.try_get("cover").map_err(get)?,
        meta: r.try_get("meta").map_err(get)?,
        description: r.try_get("description").map_err(get)?,
        available: r.try_get::<bool, _>("available").map_err(get)?,
        understood: r.try_get("understood").map_err(get)?,
    })
}

async fn upsert_item(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    existing: Option<i64>,
    d: &ItemData,
    now: i64,
) -> Result<i64> {
    let genres = serde_json::to_string(&d.genres).map_err(|e| Error::Corrupt {
        what: "genres",
        detail: e.to_string(),
    })?;
    if let Some(id) = existing {
        // The description survives only when the metadata is unchanged.
        let updated = sqlx::query(
            "UPDATE items SET kind = ?, title = ?, creator = ?, album = ?, year = ?,
                duration_secs = ?, genres = ?, cover = ?, updated_at = ?,
                description = CASE WHEN meta = ? THEN description ELSE NULL END,
                description_hash = CASE WHEN meta = ? THEN description_hash ELSE NULL END,
                meta = ?
             WHERE id = ?",
        )
        .bind(d.kind.as_str())
        .bind(&d.title)
        .bind(&d.creator)
        .bind(&d.album)
        .bind(d.year)
        .bind(d.duration_secs)
        .bind(&genres)
        .bind(&d.cover)
        .bind(now)
        .bind(&d.meta)
        .bind(&d.meta)
        .bind(&d.meta)
        .bind(id)
        .execute(&mut **tx)
        .await
        .ctx("update item")?;
        if updated.rows_affected() == 1 {
            return Ok(id);
        }
    }
    sqlx::query_scalar(
        "INSERT INTO items (kind, title, creator, album, year, duration_secs, genres, meta, cover,
                            created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(d.kind.as_str())
    .bind(&d.title)
    .bind(&d.creator)
    .bind(&d.album)
    .bind(d.year)
    .bind(d.duration_secs)
    .bind(&genres)
    .bind(&d.meta)
    .bind(&d.cover)
    .bind(now)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .ctx("insert item")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn item(title: &str, meta: &str) -> Outcome {
        Outcome::Item(ItemData {
            kind: Kind::Music,
            title: title.into(),
            creator: Some("Someone".into()),
            album: None,
            year: Some(1999),
            duration_secs: Some(200.0),
            genres: vec!["Jazz".into()],
            meta: meta.into(),
            cover: None,
            history: Vec::new(),
        })
    }

    fn update(root: i64, path: &str, outcome: Outcome) -> FileUpdate {
        FileUpdate {
            root_id: root,
            path: path.into(),
            role: FileRole::Media,
            size: 10,
            mtime_ns: 1,
            fingerprint: Some("fp".into()),
            outcome,
            reader: 1,
        }
    }

    async fn catalog() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(&dir.path().join("c.sqlite")).await.unwrap();
        (dir, c)
    }

    #[tokio::test]
    async fn describe_and_index_bookkeeping() {
        let (_d, c) = catalog().await;
        let root = c.add_root(Path::new("/music"), 0).await.unwrap();
        c.apply(
            &[update(root.id, "/music/a.mp3", item("A", "{\"v\":1}"))],
            1,
        )
        .await
        .unwrap();
        let todo = c.items_to_describe(0, 10).await.unwrap();
        assert_eq!(todo.len(), 1);
        let id = todo[0].0;
        assert!(
            c.items_to_index(0, 10).await.unwrap().is_empty(),
            "undescribed items are not indexable"
        );
        c.set_descriptions(&[(id, "A jazz song".into(), "h1".into(), None)])
            .await
            .unwrap();
        let rows = c.items_to_index(0, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].item.genres, vec!["Jazz"]);
        assert_eq!(
            (rows[0].text(), rows[0].description_hash.as_str()),
            ("A jazz song", "h1")
        );
        c.mark_indexed(&[(id, "h1".into())]).await.unwrap();
        assert!(c.items_to_index(0, 10).await.unwrap().is_empty());
        assert_eq!(c.counts().await.unwrap().pending_index, 0);

        // Touched but unchanged: the description (and so the index) stays.
        c.apply(
            &[update(root.id, "/music/a.mp3", item("A", "{\"v\":1}"))],
            2,
        )
        .await
        .unwrap();
        assert!(c.items_to_describe(0, 10).await.unwrap().is_empty());
        // Changed metadata: describe again, same item id.
        c.apply(
            &[update(root.id, "/music/a.mp3", item("A2", "{\"v\":2}"))],
            3,
        )
        .await
        .unwrap();
        let again = c.items_to_describe(0, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].0, id, "an edited file keeps its item");
    }

    #[tokio::test]
    async fn move_keeps_identity_and_remove_returns_items() {
        let (_d, c) = catalog().await;
        let root = c.add_root(Path::new("/m"), 0).await.unwrap();
        c.apply(&[update(root.id, "/m/old.mp3", item("X", "{}"))], 1)
            .await
            .unwrap();
        let before = c.file_by_path("/m/old.mp3").await.unwrap().unwrap();
        c.move_file(before.id, root.id, "/m/sub/new.mp3", 10, 2)
            .await
            .unwrap();
        assert!(c.file_by_path("/m/old.mp3").await.unwrap().is_none());
        let after = c.file_by_path("/m/sub/new.mp3").await.unwrap().unwrap();
        assert_eq!(after.item_id, before.item_id, "a moved file keeps its item");
        let view = c.item_by_path("/m/sub/new.mp3").await.unwrap().unwrap();
        assert_eq!(view.title, "X");
        assert!(view.available);

        let under = c.files_with_prefix("/m/sub/").await.unwrap();
        assert_eq!(under.len(), 1);
        assert!(c.files_with_prefix("/m/su/").await.unwrap().is_empty());
        assert_eq!(c.files_with_prefix("/m/").await.unwrap().len(), 1);

        let removed = c.remove_files(&[after.id]).await.unwrap();
        assert_eq!(removed, vec![before.item_id.unwrap()]);
        assert!(c.item_ids().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn failed_read_keeps_previous_item() {
        let (_d, c) = catalog().await;
        let root = c.add_root(Path::new("/m"), 0).await.unwrap();
        c.apply(&[update(root.id, "/m/a.mp3", item("A", "{}"))], 1)
            .await
            .unwrap();
        c.apply(
            &[update(
                root.id,
                "/m/a.mp3",
                Outcome::Failed("truncated".into()),
            )],
            2,
        )
        .await
        .unwrap();
        let f = c.file_by_path("/m/a.mp3").await.unwrap().unwrap();
        assert_eq!(f.state, FileState::Error);
        assert!(f.item_id.is_some(), "the item survives a failed re-read");
        assert_eq!(c.file_errors(10).await.unwrap()[0].1, "truncated");
    }

    #[tokio::test]
    async fn a_files_record_of_use_follows_the_file_and_survives_a_failed_read() {
        let (_d, c) = catalog().await;
        let root = c.add_root(Path::new("/m"), 0).await.unwrap();
        let played = |plays: u32| {
            let Outcome::Item(mut d) = item("A", "{}") else {
                unreachable!()
            };
            d.history = vec![crate::UseRecord {
                source: "kodi".into(),
                plays: Some(plays),
                rating: Some(8.0),
                ..Default::default()
            }];
            Outcome::Item(d)
        };
        c.apply(&[update(root.id, "/m/a.mkv", played(1))], 1)
            .await
            .unwrap();
        c.apply(&[update(root.id, "/m/a.mkv", played(3))], 2)
            .await
            .unwrap();
        let h = c.history(crate::OWNER).await.unwrap();
        assert_eq!(h.len(), 1, "one record a source: {h:?}");
        assert_eq!((h[0].1.plays, h[0].1.rating), (Some(3), Some(8.0)));
        assert!(h[0].1.used(), "played, so used");

        let failed = Outcome::Failed("truncated".into());
        c.apply(&[update(root.id, "/m/a.mkv", failed)], 3)
            .await
            .unwrap();
        assert_eq!(
            c.history(crate::OWNER).await.unwrap().len(),
            1,
            "a failed read keeps it"
        );
        c.apply(&[update(root.id, "/m/a.mkv", item("A", "{}"))], 4)
            .await
            .unwrap();
        assert!(
            c.history(crate::OWNER).await.unwrap().is_empty(),
            "a file that no longer records use has none"
        );
    }

    #[tokio::test]
    async fn unavailable_root_hides_items_without_deleting() {
        let (_d, c) = catalog().await;
        let root = c.add_root(Path::new("/usb"), 0).await.unwrap();
        c.apply(&[update(root.id, "/usb/a.mp3", item("A", "{}"))], 1)
            .await
            .unwrap();
        c.set_root_state(root.id, crate::RootState::Unavailable)
            .await
            .unwrap();
        let ids = c.item_ids().await.unwrap();
        let views = c.items_by_ids(&ids).await.unwrap();
        assert_eq!(views.len(), 1);
        assert!(!views[0].available);
        assert_eq!(c.counts().await.unwrap().unavailable, 1);
        let removed = c.remove_root(Path::new("/usb")).await.unwrap();
        assert_eq!(removed, ids);
        assert!(c.roots().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_missing_file_hides_its_item_and_keeps_it() {
        let (_d, c) = catalog().await;
        let root = c.add_root(Path::new("/nas"), 0).await.unwrap();
        c.apply(&[update(root.id, "/nas/a.mp3", item("A", "{}"))], 1)
            .await
            .unwrap();
        let file = c.file_by_path("/nas/a.mp3").await.unwrap().unwrap();
        let ids = c.item_ids().await.unwrap();
        c.mark_missing(&[file.id], 50).await.unwrap();
        let views = c.items_by_ids(&ids).await.unwrap();
        assert_eq!(views.len(), 1, "kept");
        assert!(!views[0].available, "hidden");
        assert_eq!(c.counts().await.unwrap().unavailable, 1);
        let again = c.file_by_path("/nas/a.mp3").await.unwrap().unwrap();
        assert_eq!(again.missing_since, Some(50));
        c.mark_missing(&[file.id], 90).await.unwrap();
        let again = c.file_by_path("/nas/a.mp3").await.unwrap().unwrap();
        assert_eq!(again.missing_since, Some(50), "the first sighting counts");
        c.clear_missing(&[file.id]).await.unwrap();
        assert!(c.items_by_ids(&ids).await.unwrap()[0].available);
        assert_eq!(c.item_ids().await.unwrap(), ids, "same item id");
    }

    #[tokio::test]
    async fn an_unreadable_media_file_is_listed_with_its_error() {
        let (_d, c) = catalog().await;
        let root = c.add_root(Path::new("/m"), 0).await.unwrap();
        let Outcome::Item(data) = item("From Its Name", "{}") else {
            unreachable!()
        };
        c.apply(
            &[update(
                root.id,
                "/m/x.mp3",
                Outcome::Listed(data, "bad ID3 frame".into()),
            )],
            1,
        )
        .await
        .unwrap();
        let ids = c.item_ids().await.unwrap();
        assert_eq!(ids.len(), 1, "an item");
        assert_eq!(c.counts().await.unwrap().file_errors, 1, "and an error");
        assert_eq!(c.file_errors(10).await.unwrap()[0].1, "bad ID3 frame");
        let f = c.file_by_path("/m/x.mp3").await.unwrap().unwrap();
        assert_eq!(f.reader, 1);
        assert_eq!(f.item_id, Some(ids[0]));
    }
}
