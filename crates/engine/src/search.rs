//! Asking, first version: hybrid search over the library without the
//! reasoning model. The request is embedded, the index runs a vector and a
//! full-text query under the same filters, and every hit is checked against
//! the catalog before it is returned: an answer only ever names an item
//! that exists and whose folder is available.

use std::collections::HashMap;
use std::time::Instant;

use moodshelf_index::{Filter, Query};
use moodshelf_media::Kind;
use serde::Serialize;

use crate::error::{Code, Error, Result};
use crate::library::Library;

/// How many candidates each search leg fetches per requested result.
const DEPTH_FACTOR: usize = 5;
const MIN_DEPTH: usize = 50;
pub const MAX_LIMIT: usize = 200;

#[derive(Debug, Clone)]
pub struct AskRequest {
    pub text: String,
    pub kind: Option<Kind>,
    pub limit: usize,
}

/// One recommended item. Field names are a stable contract for scripts:
/// later versions add fields, never rename them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnswerItem {
    pub path: String,
    pub kind: String,
    pub title: String,
    pub creator: Option<String>,
    pub year: Option<i32>,
    pub duration_secs: Option<f64>,
    pub score: f32,
    pub id: i64,
    pub album: Option<String>,
    pub genres: Vec<String>,
    pub cover: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Timings {
    pub embed_ms: f64,
    pub vector_ms: f64,
    pub text_ms: f64,
    pub catalog_ms: f64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Answer {
    pub items: Vec<AnswerItem>,
    pub timings_ms: Timings,
}

impl Library {
    /// Answers a request from the library by hybrid search.
    pub async fn ask(&self, req: &AskRequest) -> Result<Answer> {
        let started = Instant::now();
        let text = req.text.trim();
        if text.is_empty() {
            return Err(Error::new(Code::InvalidInput, "ask for something"));
        }
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let mut timings = Timings::default();

        let index = self.index().await?;
        if index.count().await? == 0 {
            return Err(Error::new(
                Code::IndexEmpty,
                "the library has no indexed items yet: add a folder and scan it",
            ));
        }

        let t = Instant::now();
        let vector = self.embed_one(text.to_string()).await?;
        timings.embed_ms = ms(t);

        let exclude_roots = self.unavailable_root_ids().await?;
        let filter = Filter {
            kinds: req
                .kind
                .map(|k| vec![k.as_str().to_string()])
                .unwrap_or_default(),
            exclude_roots,
            ..Filter::default()
        };
        let (hits, leg) = index
            .search(&Query {
                text,
                vector: &vector,
                filter,
                limit: limit * 2,
                depth: (limit * DEPTH_FACTOR).max(MIN_DEPTH),
            })
            .await?;
        timings.vector_ms = leg.vector_ms;
        timings.text_ms = leg.text_ms;

        // The catalog is the truth: drop anything it does not know or that
        // is not available now (a stale index row, an unmounted disk).
        let t = Instant::now();
        let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
        let mut views: HashMap<i64, moodshelf_catalog::ItemView> = self
            .catalog()
            .items_by_ids(&ids)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        let items: Vec<AnswerItem> = hits
            .iter()
            .filter_map(|h| {
                let v = views.remove(&h.id).filter(|v| v.available)?;
                Some(AnswerItem {
                    path: v.path,
                    kind: v.kind,
                    title: v.title,
                    creator: v.creator,
                    year: v.year,
                    duration_secs: v.duration_secs,
                    score: h.score,
                    id: v.id,
                    album: v.album,
                    genres: v.genres,
                    cover: v.cover,
                })
            })
            .take(limit)
            .collect();
        timings.catalog_ms = ms(t);
        timings.total_ms = ms(started);
        Ok(Answer {
            items,
            timings_ms: timings,
        })
    }
}

pub(crate) fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}
