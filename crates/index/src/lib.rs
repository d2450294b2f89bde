//! The search index: one LanceDB table of items with their embedding, the
//! fields answers are filtered on (kind, year, duration, genres, root) and
//! the described text under a full-text (BM25) index.
//!
//! The index is derived: the catalog can always rebuild it. Writes are
//! upserts keyed by the catalog's item id, so replaying a batch after a
//! crash is harmless; Lance commits each write atomically, so a killed
//! process leaves the table at its last committed version.
//!
//! [`Index::search`] runs the vector and the full-text query separately,
//! with the same filters, and fuses the two rankings with reciprocal rank
//! fusion; the per-leg ranks are kept so callers can explain a hit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::types::Float32Type;
use arrow_array::{
    Array, FixedSizeListArray, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    RecordBatchIterator, StringArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use futures::TryStreamExt;
use lancedb::index::Index as LanceIndex;
use lancedb::index::scalar::{
    BTreeIndexBuilder, BitmapIndexBuilder, FtsIndexBuilder, FullTextSearchQuery,
};
use lancedb::index::vector::IvfHnswSqIndexBuilder;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::table::OptimizeAction;
use lancedb::{Connection, DistanceType, Table};
pub use moodshelf_kind::Kind;

const TABLE: &str = "items";
/// Reciprocal rank fusion constant (the usual 60): damps the difference
/// between rank 1 and rank 2 so that neither leg dominates.
const RRF_K: f32 = 60.0;

/// Rows from which the vector leg searches an approximate index instead of
/// comparing the query with every stored vector. Below it a flat scan is
/// exact and fast enough; the 100k-item benchmark (`cargo bench --bench
/// engine -- large`) measures both sides and the index's recall@10.
pub const VECTOR_INDEX_MIN_ROWS: usize = 50_000;

/// The approximate index re-ranks this many times the asked-for candidates
/// by their exact distance: the 8-bit quantized distances decide what is
/// near, the stored vectors decide the order and the reported distance.
const REFINE_FACTOR: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open the index at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: lancedb::Error,
    },
    #[error(
        "the index holds {found}-dimensional vectors but the embedding model gives {expected}; rebuild it"
    )]
    Dimension { expected: usize, found: usize },
    #[error("the index table has column {column} as {found}, not {expected}; rebuild it")]
    Schema {
        column: String,
        expected: String,
        found: String,
    },
    #[error("index {what} failed: {source}")]
    Lance {
        what: &'static str,
        #[source]
        source: lancedb::Error,
    },
    #[error("index {what} failed: {source}")]
    Arrow {
        what: &'static str,
        #[source]
        source: arrow_schema::ArrowError,
    },
    #[error("the index at {path} is damaged: reading it crashed ({reason})")]
    Damaged { path: PathBuf, reason: String },
    #[error("vector has {got} dimensions, the index {expected}")]
    BadVector { expected: usize, got: usize },
}

pub type Result<T> = std::result::Result<T, Error>;

trait LanceContext<T> {
    fn ctx(self, what: &'static str) -> Result<T>;
}

impl<T> LanceContext<T> for std::result::Result<T, lancedb::Error> {
    fn ctx(self, what: &'static str) -> Result<T> {
        self.map_err(|source| Error::Lance { what, source })
    }
}

/// One item as the index stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    pub root_id: i64,
    pub kind: Kind,
    pub title: String,
    pub creator: Option<String>,
    pub year: Option<i32>,
    pub duration_secs: Option<f64>,
    pub genres: Vec<String>,
    /// The described text: what full-text search matches.
    pub text: String,
    pub vector: Vec<f32>,
}

/// Hard constraints every hit must satisfy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Empty means every kind.
    pub kinds: Vec<Kind>,
    /// Roots whose items must not appear (unavailable disks).
    pub exclude_roots: Vec<i64>,
    pub max_duration_secs: Option<f64>,
    pub min_duration_secs: Option<f64>,
    pub min_year: Option<i32>,
    pub max_year: Option<i32>,
}

impl Filter {
    /// The filter as a SQL predicate, or `None` when it filters nothing.
    /// Values are numbers or kinds' fixed names, so nothing from a request
    /// reaches the predicate.
    pub fn to_sql(&self) -> Option<String> {
        let mut parts = Vec::new();
        let kinds: Vec<String> = self.kinds.iter().map(|k| format!("'{k}'")).collect();
        if !kinds.is_empty() {
            parts.push(format!("kind IN ({})", kinds.join(", ")));
        }
        if !self.exclude_roots.is_empty() {
            let ids: Vec<String> = self.exclude_roots.iter().map(i64::to_string).collect();
            parts.push(format!("root_id NOT IN ({})", ids.join(", ")));
        }
        if let Some(d) = self.max_duration_secs.filter(|d| d.is_finite()) {
            parts.push(format!(
                "duration_secs IS NOT NULL AND duration_secs <= {d}"
            ));
        }
        if let Some(d) = self.min_duration_secs.filter(|d| d.is_finite()) {
            parts.push(format!(
                "duration_secs IS NOT NULL AND duration_secs >= {d}"
            ));
        }
        if let Some(y) = self.min_year {
            parts.push(format!("year IS NOT NULL AND year >= {y}"));
        }
        if let Some(y) = self.max_year {
            parts.push(format!("year IS NOT NULL AND year <= {y}"));
        }
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }
}

#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub text: &'a str,
    pub vector: &'a [f32],
    pub filter: Filter,
    pub limit: usize,
    /// How many candidates each leg fetches before fusion.
    pub depth: usize,
}

/// One result, with how each leg ranked it (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: i64,
    /// Fused score, scaled to 0–1 (1 = first in both legs).
    pub score: f32,
    pub vector_rank: Option<usize>,
    pub text_rank: Option<usize>,
    /// Cosine distance from the query vector, when the vector leg found it.
    pub distance: Option<f32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchTimings {
    pub vector_ms: f64,
    pub text_ms: f64,
}

/// The LanceDB table of items.
#[derive(Clone)]
pub struct Index {
    table: Table,
    schema: SchemaRef,
    dim: usize,
    path: PathBuf,
    vector_index_min_rows: usize,
}

fn schema(dim: usize) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("root_id", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("creator", DataType::Utf8, true),
        Field::new("year", DataType::Int32, true),
        Field::new("duration_secs", DataType::Float64, true),
        Field::new(
            "genres",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
        Field::new("text", DataType::Utf8, false),
        Field::new(
            "vector",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, true)),
                dim as i32,
            ),
            true,
        ),
    ]))
}

async fn connect(dir: &Path) -> Result<Connection> {
    lancedb::connect(&dir.to_string_lossy())
        // Another process (a watcher) may write; see its commits promptly.
        .read_consistency_interval(Duration::from_secs(1))
        .execute()
        .await
        .map_err(|source| Error::Open {
            path: dir.to_path_buf(),
            source,
        })
}

impl Index {
    /// Opens the index in `dir`, creating an empty table if there is none.
    /// Fails with [`Error::Dimension`] when the table was built for another
    /// embedding size.
    ///
    /// A damaged table can make the storage layer panic while it reads the
    /// manifest; that is caught here and reported as [`Error::Damaged`], so
    /// the caller can set the directory aside and rebuild it.
    pub async fn open(dir: &Path, dim: usize) -> Result<Index> {
        use futures::FutureExt;
        match std::panic::AssertUnwindSafe(Index::open_unguarded(dir, dim))
            .catch_unwind()
            .await
        {
            Ok(result) => result,
            Err(panic) => Err(Error::Damaged {
                path: dir.to_path_buf(),
                reason: panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into()),
            }),
        }
    }

    async fn open_unguarded(dir: &Path, dim: usize) -> Result<Index> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Open {
            path: dir.to_path_buf(),
            source: lancedb::Error::Runtime {
                message: e.to_string(),
            },
        })?;
        let db = connect(dir).await?;
        let schema = schema(dim);
        let names = db.table_names().execute().await.ctx("list tables")?;
        let table = if names.iter().any(|n| n == TABLE) {
            db.open_table(TABLE).execute().await.ctx("open table")?
        } else {
            db.create_empty_table(TABLE, schema.clone())
                .execute()
                .await
                .ctx("create table")?
        };
        let found = table.schema().await.ctx("read schema")?;
        let found_dim = found
            .field_with_name("vector")
            .ok()
            .and_then(|f| match f.data_type() {
                DataType::FixedSizeList(_, n) => Some(*n as usize),
                _ => None,
            })
            .unwrap_or(0);
        if found_dim != dim {
            return Err(Error::Dimension {
                expected: dim,
                found: found_dim,
            });
        }
        // Every column as this code writes and reads it: a table written by
        // another version (or damaged) is refused here, not half-read later.
        for field in schema.fields() {
            let actual = found.field_with_name(field.name()).ok();
            let same = actual.is_some_and(|a| match (a.data_type(), field.data_type()) {
                (DataType::List(x), DataType::List(y)) => x.data_type() == y.data_type(),
                (DataType::FixedSizeList(x, n), DataType::FixedSizeList(y, m)) => {
                    x.data_type() == y.data_type() && n == m
                }
                (x, y) => x == y,
            });
            if !same {
                return Err(Error::Schema {
                    column: field.name().clone(),
                    expected: field.data_type().to_string(),
                    found: actual.map_or("missing".into(), |a| a.data_type().to_string()),
                });
            }
        }
        Ok(Index {
            table,
            schema,
            dim,
            path: dir.to_path_buf(),
            vector_index_min_rows: VECTOR_INDEX_MIN_ROWS,
        })
    }

    /// Builds the vector index from `rows` rows instead of
    /// [`VECTOR_INDEX_MIN_ROWS`] (tests reach it with a small table).
    pub fn with_vector_index_min_rows(mut self, rows: usize) -> Index {
        self.vector_index_min_rows = rows;
        self
    }

    /// Whether the vector column has an approximate index.
    pub async fn has_vector_index(&self) -> Result<bool> {
        Ok(self.indexed_columns().await?.iter().any(|c| c == "vector"))
    }

    /// The columns that have an index of any kind.
    async fn indexed_columns(&self) -> Result<Vec<String>> {
        let indices = self.table.list_indices().await.ctx("list indices")?;
        Ok(indices.into_iter().flat_map(|i| i.columns).collect())
    }

    /// Drops the table and starts an empty one (for `index rebuild`).
    pub async fn recreate(dir: &Path, dim: usize) -> Result<Index> {
        let db = connect(dir).await?;
        let names = db.table_names().execute().await.ctx("list tables")?;
        if names.iter().any(|n| n == TABLE) {
            db.drop_table(TABLE, &[]).await.ctx("drop table")?;
        }
        Index::open(dir, dim).await
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn count(&self) -> Result<usize> {
        self.table.count_rows(None).await.ctx("count rows")
    }

    /// Inserts or replaces rows by item id.
    pub async fn upsert(&self, rows: &[Row]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch = self.batch(rows)?;
        let reader = RecordBatchIterator::new(vec![Ok(batch)], self.schema.clone());
        let mut merge = self.table.merge_insert(&["id"]);
        merge
            .when_matched_update_all(None)
            .when_not_matched_insert_all();
        merge.execute(Box::new(reader)).await.ctx("upsert")?;
        Ok(())
    }

    pub async fn delete(&self, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(1000) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            self.table
                .delete(format!("id IN ({})", list.join(", ")).as_str())
                .await
                .ctx("delete")?;
        }
        Ok(())
    }

    /// Every item id in the index (to reconcile with the catalog).
    pub async fn ids(&self) -> Result<Vec<i64>> {
        let batches: Vec<RecordBatch> = self
            .table
            .query()
            .select(Select::columns(&["id"]))
            .execute()
            .await
            .ctx("list ids")?
            .try_collect()
            .await
            .ctx("list ids")?;
        let mut ids = Vec::new();
        for b in &batches {
            ids.extend(int64(b, "id")?.iter().flatten());
        }
        Ok(ids)
    }

    /// The stored vectors of some items (for similarity between items:
    /// references, likes, diversity). Unknown ids are left out.
    pub async fn vectors(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<f32>>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let batches: Vec<RecordBatch> = self
                .table
                .query()
                .only_if(format!("id IN ({})", list.join(", ")))
                .select(Select::columns(&["id", "vector"]))
                .execute()
                .await
                .ctx("read vectors")?
                .try_collect()
                .await
                .ctx("read vectors")?;
            for b in &batches {
                let ids = int64(b, "id")?;
                let Some(vectors) = b
                    .column_by_name("vector")
                    .and_then(|c| c.as_any().downcast_ref::<FixedSizeListArray>())
                else {
                    continue;
                };
                for i in 0..b.num_rows() {
                    let v = vectors.value(i);
                    if let Some(f) = v.as_any().downcast_ref::<Float32Array>() {
                        out.insert(ids.value(i), f.values().to_vec());
                    }
                }
            }
        }
        Ok(out)
    }

    /// Builds the full-text index if it is missing and the vector index
    /// once the table reaches [`VECTOR_INDEX_MIN_ROWS`], folds new rows
    /// into both, compacts small fragments and prunes old versions. Cheap
    /// when there is nothing to do; call after a scan or a burst of watcher
    /// writes.
    pub async fn optimize(&self) -> Result<()> {
        let rows = self.count().await?;
        if rows == 0 {
            return Ok(());
        }
        let indexed = self.indexed_columns().await?;
        let large = rows >= self.vector_index_min_rows;
        // Full-text always. Past the threshold: IVF partitions with an
        // HNSW graph each over 8-bit quantized vectors (a quarter of the
        // vectors' size, recall close to exact with the refine step), and
        // scalar indices on the filtered columns, since the approximate
        // search applies filters first as a row mask and without them that
        // mask is a scan costing more than the vector search itself. Once
        // built they stay (a library that shrinks below the threshold keeps
        // a correct, fast index); rows added later are searched flat until
        // `OptimizeAction::All` below folds them in.
        let wanted = [
            (
                "text",
                true,
                LanceIndex::FTS(FtsIndexBuilder::default()),
                "create full-text index",
            ),
            (
                "vector",
                large,
                LanceIndex::IvfHnswSq(
                    IvfHnswSqIndexBuilder::default().distance_type(DistanceType::Cosine),
                ),
                "create vector index",
            ),
            (
                "kind",
                large,
                LanceIndex::Bitmap(BitmapIndexBuilder::default()),
                "create kind index",
            ),
            (
                "year",
                large,
                LanceIndex::BTree(BTreeIndexBuilder::default()),
                "create year index",
            ),
        ];
        for (column, want, index, what) in wanted {
            if want && !indexed.iter().any(|c| c == column) {
                self.table
                    .create_index(&[column], index)
                    .execute()
                    .await
                    .ctx(what)?;
            }
        }
        self.table
            .optimize(OptimizeAction::All)
            .await
            .ctx("optimize")?;
        // Every write is a version; keep a few minutes of history for
        // readers in other processes, drop the rest.
        self.table
            .optimize(OptimizeAction::Prune {
                older_than: lancedb::table::optimize::Duration::try_minutes(5),
                delete_unverified: Some(false),
                error_if_tagged_old_versions: Some(false),
            })
            .await
            .ctx("prune versions")?;
        Ok(())
    }

    /// Hybrid search: the vector and the full-text legs with the same
    /// filter, fused by reciprocal rank.
    pub async fn search(&self, q: &Query<'_>) -> Result<(Vec<Hit>, SearchTimings)> {
        if q.vector.len() != self.dim {
            return Err(Error::BadVector {
                expected: self.dim,
                got: q.vector.len(),
            });
        }
        let filter = q.filter.to_sql();
        let depth = q.depth.max(q.limit);
        let mut timings = SearchTimings::default();

        let started = Instant::now();
        let vector_hits = self
            .nearest_filtered(q.vector, filter.as_deref(), depth, false)
            .await?;
        timings.vector_ms = started.elapsed().as_secs_f64() * 1e3;

        let started = Instant::now();
        let text_hits = if q.text.trim().is_empty() {
            Vec::new()
        } else {
            let mut tq = self
                .table
                .query()
                .full_text_search(FullTextSearchQuery::new(q.text.to_string()))
                .select(Select::columns(&["id"]))
                .limit(depth);
            if let Some(f) = &filter {
                tq = tq.only_if(f);
            }
            match tq.execute().await {
                Ok(stream) => collect_ids(stream, "_score").await?,
                // A query made only of stop words or punctuation has no
                // terms; the vector leg answers alone.
                Err(lancedb::Error::InvalidInput { .. }) => Vec::new(),
                Err(source) => {
                    return Err(Error::Lance {
                        what: "full-text query",
                        source,
                    });
                }
            }
        };
        timings.text_ms = started.elapsed().as_secs_f64() * 1e3;

        Ok((fuse(&vector_hits, &text_hits, q.limit), timings))
    }

    /// The `k` items nearest to `vector` (cosine) that pass `filter`, with
    /// their distances. `exact` compares with every stored vector even when
    /// the table has an approximate index: the ground truth its recall is
    /// measured against.
    pub async fn nearest(
        &self,
        vector: &[f32],
        filter: &Filter,
        k: usize,
        exact: bool,
    ) -> Result<Vec<(i64, Option<f32>)>> {
        if vector.len() != self.dim {
            return Err(Error::BadVector {
                expected: self.dim,
                got: vector.len(),
            });
        }
        self.nearest_filtered(vector, filter.to_sql().as_deref(), k, exact)
            .await
    }

    async fn nearest_filtered(
        &self,
        vector: &[f32],
        filter: Option<&str>,
        k: usize,
        exact: bool,
    ) -> Result<Vec<(i64, Option<f32>)>> {
        let mut vq = self
            .table
            .query()
            .nearest_to(vector)
            .ctx("vector query")?
            .column("vector")
            .distance_type(DistanceType::Cosine)
            .select(Select::columns(&["id"]))
            .limit(k);
        // Ignored by a flat scan; with the index it re-ranks by exact
        // distance.
        vq = if exact {
            vq.bypass_vector_index()
        } else {
            vq.refine_factor(REFINE_FACTOR)
        };
        if let Some(f) = filter {
            vq = vq.only_if(f);
        }
        collect_ids(vq.execute().await.ctx("vector query")?, "_distance").await
    }

    fn batch(&self, rows: &[Row]) -> Result<RecordBatch> {
        for r in rows {
            if r.vector.len() != self.dim {
                return Err(Error::BadVector {
                    expected: self.dim,
                    got: r.vector.len(),
                });
            }
        }
        let mut genres = ListBuilder::new(StringBuilder::new());
        for r in rows {
            for g in &r.genres {
                genres.values().append_value(g);
            }
            genres.append(true);
        }
        let vectors = FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(
            rows.iter()
                .map(|r| Some(r.vector.iter().copied().map(Some).collect::<Vec<_>>())),
            self.dim as i32,
        );
        RecordBatch::try_new(
            self.schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.id))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.root_id))),
                Arc::new(StringArray::from_iter_values(
                    rows.iter().map(|r| r.kind.as_str()),
                )),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.title))),
                Arc::new(StringArray::from_iter(
                    rows.iter().map(|r| r.creator.as_deref()),
                )),
                Arc::new(Int32Array::from_iter(rows.iter().map(|r| r.year))),
                Arc::new(Float64Array::from_iter(
                    rows.iter().map(|r| r.duration_secs),
                )),
                Arc::new(genres.finish()),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.text))),
                Arc::new(vectors),
            ],
        )
        .map_err(|source| Error::Arrow {
            what: "build batch",
            source,
        })
    }
}

fn int64<'a>(b: &'a RecordBatch, name: &'static str) -> Result<&'a Int64Array> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .ok_or_else(|| Error::Schema {
            column: name.into(),
            expected: "Int64".into(),
            found: b
                .column_by_name(name)
                .map_or("missing".into(), |c| c.data_type().to_string()),
        })
}

/// Ids in rank order, with the leg's score column (distance or BM25).
async fn collect_ids(
    stream: lancedb::arrow::SendableRecordBatchStream,
    score_column: &str,
) -> Result<Vec<(i64, Option<f32>)>> {
    let batches: Vec<RecordBatch> = stream.try_collect().await.ctx("read results")?;
    let mut out = Vec::new();
    for b in &batches {
        let ids = int64(b, "id")?;
        let scores = b
            .column_by_name(score_column)
            .and_then(|c| c.as_any().downcast_ref::<Float32Array>());
        for i in 0..b.num_rows() {
            if ids.is_valid(i) {
                out.push((ids.value(i), scores.map(|s| s.value(i))));
            }
        }
    }
    Ok(out)
}

/// Reciprocal rank fusion of the two legs, scaled so that first place in
/// both legs scores 1.
fn fuse(vector: &[(i64, Option<f32>)], text: &[(i64, Option<f32>)], limit: usize) -> Vec<Hit> {
    let mut hits: HashMap<i64, Hit> = HashMap::new();
    let max = 2.0 / (RRF_K + 1.0);
    for (is_vector, leg) in [(true, vector), (false, text)] {
        for (rank, (id, leg_score)) in leg.iter().enumerate() {
            let h = hits.entry(*id).or_insert_with(|| Hit {
                id: *id,
                score: 0.0,
                vector_rank: None,
                text_rank: None,
                distance: None,
            });
            if is_vector {
                h.vector_rank = Some(rank + 1);
                h.distance = *leg_score;
            } else {
                h.text_rank = Some(rank + 1);
            }
            h.score += 1.0 / (RRF_K + rank as f32 + 1.0) / max;
        }
    }
    let mut out: Vec<Hit> = hits.into_values().collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement() {
        let v = [(1, Some(0.1)), (2, Some(0.2)), (3, Some(0.3))];
        let t = [(3, None), (4, None)];
        let hits = fuse(&v, &t, 10);
        assert_eq!(hits[0].id, 3, "found by both legs beats first of one leg");
        assert_eq!(hits[0].vector_rank, Some(3));
        assert_eq!(hits[0].text_rank, Some(1));
        assert!(hits.iter().all(|h| h.score > 0.0 && h.score <= 1.0));
        assert_eq!(fuse(&v, &t, 2).len(), 2);
    }

    #[test]
    fn filter_sql() {
        assert_eq!(Filter::default().to_sql(), None);
        let f = Filter {
            kinds: vec![Kind::Music],
            exclude_roots: vec![3],
            max_duration_secs: Some(600.0),
            min_duration_secs: Some(60.0),
            min_year: Some(1990),
            max_year: None,
        };
        assert_eq!(
            f.to_sql().unwrap(),
            "kind IN ('music') AND root_id NOT IN (3) AND duration_secs IS NOT NULL AND duration_secs <= 600 \
             AND duration_secs IS NOT NULL AND duration_secs >= 60 AND year IS NOT NULL AND year >= 1990"
        );
    }

    fn unit(dim: usize, hot: usize) -> Vec<f32> {
        let mut v = vec![0.01f32; dim];
        v[hot] = 1.0;
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn row(id: i64, kind: Kind, text: &str, hot: usize, year: i32) -> Row {
        Row {
            id,
            root_id: 1,
            kind,
            title: format!("title {id}"),
            creator: None,
            year: Some(year),
            duration_secs: Some(100.0 * id as f64),
            genres: vec!["Jazz".into()],
            text: text.into(),
            vector: unit(8, hot),
        }
    }

    #[tokio::test]
    async fn real_lancedb_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path(), 8).await.unwrap();
        index
            .upsert(&[
                row(
                    1,
                    Kind::Music,
                    "a calm piano piece for a rainy evening",
                    0,
                    1990,
                ),
                row(2, Kind::Music, "loud fast punk anthem", 1, 2001),
                row(3, Kind::Book, "a ghost story set in winter", 2, 1898),
            ])
            .await
            .unwrap();
        index.optimize().await.unwrap();
        // An upsert after the full-text index exists is still searchable.
        index
            .upsert(&[row(
                4,
                Kind::Video,
                "winter holiday film for the family",
                3,
                2010,
            )])
            .await
            .unwrap();
        assert_eq!(index.count().await.unwrap(), 4);

        let q = Query {
            text: "calm piano",
            vector: &unit(8, 0),
            filter: Filter::default(),
            limit: 10,
            depth: 10,
        };
        let (hits, _) = index.search(&q).await.unwrap();
        assert_eq!(hits[0].id, 1, "first in both legs is first overall");
        assert_eq!((hits[0].vector_rank, hits[0].text_rank), (Some(1), Some(1)));
        assert!((hits[0].score - 1.0).abs() < 1e-6);

        let q = Query {
            text: "winter",
            vector: &unit(8, 7),
            ..q
        };
        let (hits, _) = index.search(&q).await.unwrap();
        let text_ids: Vec<i64> = hits
            .iter()
            .filter(|h| h.text_rank.is_some())
            .map(|h| h.id)
            .collect();
        assert!(
            text_ids.contains(&3) && text_ids.contains(&4) && text_ids.len() == 2,
            "BM25 finds both winter rows, indexed or not: {text_ids:?}"
        );

        let q = Query {
            filter: Filter {
                kinds: vec![Kind::Book, Kind::Video],
                ..Filter::default()
            },
            ..q
        };
        let (hits, _) = index.search(&q).await.unwrap();
        assert!(
            hits.iter().all(|h| h.id == 3 || h.id == 4),
            "kind filter holds on both legs"
        );

        // Replace, delete, reopen.
        index
            .upsert(&[row(2, Kind::Music, "soft lullaby", 1, 2001)])
            .await
            .unwrap();
        assert_eq!(index.count().await.unwrap(), 4, "upsert replaces by id");
        index.delete(&[4]).await.unwrap();
        let mut ids = index.ids().await.unwrap();
        ids.sort();
        assert_eq!(ids, vec![1, 2, 3]);
        drop(index);
        let index = Index::open(dir.path(), 8).await.unwrap();
        assert_eq!(index.count().await.unwrap(), 3);
        assert!(matches!(
            Index::open(dir.path(), 16).await,
            Err(Error::Dimension {
                expected: 16,
                found: 8
            })
        ));
        let fresh = Index::recreate(dir.path(), 16).await.unwrap();
        assert_eq!(fresh.count().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_table_with_other_column_types_is_refused_not_half_read() {
        // As another version of the app (or a damaged file) might leave it:
        // the id column is text. Reading ids used to panic on the downcast.
        let dir = tempfile::tempdir().unwrap();
        let mut fields: Vec<Field> = schema(8)
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[0] = Field::new("id", DataType::Utf8, false);
        let db = connect(dir.path()).await.unwrap();
        db.create_empty_table(TABLE, Arc::new(Schema::new(fields)))
            .execute()
            .await
            .unwrap();
        match Index::open(dir.path(), 8).await {
            Err(Error::Schema { column, .. }) => assert_eq!(column, "id"),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("opened a table whose ids are text"),
        }
        assert!(
            Index::recreate(dir.path(), 8).await.is_ok(),
            "and it can be rebuilt"
        );
    }

    /// Unit vectors scattered by a fixed linear congruential sequence, in
    /// `clusters` groups (real embeddings cluster by kind and genre).
    fn scattered(n: usize, dim: usize, clusters: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..clusters)
            .map(|_| (0..dim).map(|_| next()).collect())
            .collect();
        (0..n)
            .map(|i| {
                let v: Vec<f32> = centres[i % clusters]
                    .iter()
                    .map(|c| c + 0.35 * next())
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / norm).collect()
            })
            .collect()
    }

    #[tokio::test]
    async fn vector_index_past_the_threshold_keeps_recall_and_filters() {
        const DIM: usize = 32;
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path(), DIM)
            .await
            .unwrap()
            .with_vector_index_min_rows(1_500);
        let rows = |range: std::ops::Range<usize>, vectors: &[Vec<f32>]| -> Vec<Row> {
            range
                .map(|i| Row {
                    id: i as i64,
                    root_id: 1,
                    kind: if i % 3 == 0 { Kind::Book } else { Kind::Music },
                    title: format!("item {i}"),
                    creator: None,
                    year: Some(1950 + (i % 70) as i32),
                    duration_secs: None,
                    genres: Vec::new(),
                    text: format!("item number {i}"),
                    vector: vectors[i].clone(),
                })
                .collect()
        };
        let vectors = scattered(2_000, DIM, 12, 7);
        index.upsert(&rows(0..1_000, &vectors)).await.unwrap();
        index.optimize().await.unwrap();
        assert!(
            !index.has_vector_index().await.unwrap(),
            "1,000 rows are searched flat"
        );
        index.upsert(&rows(1_000..2_000, &vectors)).await.unwrap();
        index.optimize().await.unwrap();
        assert!(
            index.has_vector_index().await.unwrap(),
            "2,000 rows get one"
        );

        let queries = scattered(30, DIM, 12, 99);
        let books = Filter {
            kinds: vec![Kind::Book],
            ..Filter::default()
        };
        let mut found = 0;
        for (i, q) in queries.iter().enumerate() {
            let filter = if i % 2 == 0 {
                &books
            } else {
                &Filter::default()
            };
            let exact = index.nearest(q, filter, 10, true).await.unwrap();
            let approx = index.nearest(q, filter, 10, false).await.unwrap();
            assert_eq!(exact.len(), 10);
            assert_eq!(approx.len(), 10, "the filter does not starve the index");
            if i % 2 == 0 {
                assert!(
                    approx.iter().all(|(id, _)| id % 3 == 0),
                    "only books pass the filter"
                );
            }
            // The refine step reports exact distances, in order.
            for pair in approx.windows(2) {
                assert!(pair[0].1 <= pair[1].1);
            }
            found += approx
                .iter()
                .filter(|(id, _)| exact.iter().any(|(e, _)| e == id))
                .count();
        }
        let recall = found as f64 / (10 * queries.len()) as f64;
        assert!(recall >= 0.9, "recall@10 {recall:.3}");

        // The hybrid search goes through the index too.
        let (hits, _) = index
            .search(&Query {
                text: "item",
                vector: &queries[0],
                filter: Filter::default(),
                limit: 5,
                depth: 20,
            })
            .await
            .unwrap();
        assert_eq!(hits.len(), 5);
        assert!(hits.iter().any(|h| h.vector_rank == Some(1)));
    }
}
