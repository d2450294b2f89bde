//! llama.cpp behind a channel.
//!
//! llama.cpp contexts are not `Sync`, borrow their model, and must not be
//! created in parallel; its process-wide backend may be initialised once. So
//! each model lives on one dedicated worker thread that owns the model and
//! its context, and callers talk to it through a channel. [`Embedder`] is the
//! embedding worker: it turns batches of texts into L2-normalised vectors,
//! packing many texts into one llama.cpp batch (one sequence each) so that a
//! scan embeds at full speed.
//!
//! [`Generator`] is the reasoning worker: chat prompts in, text out,
//! streamed piece by piece, optionally held to a GBNF grammar (so JSON out
//! is always valid), cancellable, and reusing the KV cache of a prompt's
//! unchanged prefix (a long fixed system prompt is read once).
//!
//! [`Endpoint`] is the same generation on another machine, through an
//! OpenAI-compatible server (`remote.rs`), and [`Reasoner`] is whichever of
//! the two a host uses.
//!
//! GPU backends are cargo features passed straight through to llama-cpp-2
//! (`cuda`, `vulkan`, `metal`).

mod generate;
pub mod remote;

pub use generate::{
    Cancel, ChatMessage, GenOptions, GenRequest, Generated, Generator, Segment, Stop,
};
pub use remote::{Dialect, Endpoint, EndpointOptions};

/// Quoted data for a prompt's data block: angle brackets become
/// look-alikes, so no title or plot can close the block (`</data>`) or
/// spell a tag.
pub fn plain(s: &str) -> String {
    s.replace('<', "\u{2039}").replace('>', "\u{203a}")
}

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::thread;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::{LlamaContextParams, LlamaPoolingType};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("model file {path} does not exist")]
    ModelMissing { path: PathBuf },
    #[error("llama.cpp could not load {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("{path} is not an embedding model ({reason})")]
    NotEmbedding { path: PathBuf, reason: String },
    #[error("llama.cpp failed to {what}: {reason}")]
    Compute { what: &'static str, reason: String },
    #[error("the model worker thread has stopped")]
    WorkerGone,
    #[error("the grammar is not valid GBNF: {0}")]
    Grammar(String),
    #[error("the prompt has {tokens} tokens; the context holds {max}")]
    PromptTooLong { tokens: usize, max: usize },
    #[error("the reasoning endpoint {url} failed: {reason}")]
    Endpoint { url: String, reason: String },
}

/// Where replies come from: the local model or an endpoint on another
/// machine. Both write the same replies to the same requests.
#[derive(Debug, Clone)]
pub enum Reasoner {
    Local(Generator),
    Endpoint(Endpoint),
}

impl Reasoner {
    /// The model's name: the file name of a local model, the name an
    /// endpoint serves.
    pub fn model(&self) -> String {
        match self {
            Reasoner::Local(g) => g
                .path()
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            Reasoner::Endpoint(e) => e.model().unwrap_or_default(),
        }
    }

    /// See [`Generator::generate`]. Blocks.
    pub fn generate(
        &self,
        req: GenRequest,
        cancel: &Cancel,
        mut on_piece: impl FnMut(&str) + Send + 'static,
    ) -> Result<Generated> {
        match self {
            Reasoner::Local(g) => g.generate(req, cancel, on_piece),
            Reasoner::Endpoint(e) => e.generate(&req, cancel, &mut on_piece),
        }
    }

    /// See [`Generator::generate_batch`]; an endpoint gets the requests
    /// at once. Blocks.
    pub fn generate_batch(&self, reqs: Vec<GenRequest>, cancel: &Cancel) -> Result<Vec<Generated>> {
        match self {
            Reasoner::Local(g) => g.generate_batch(reqs, cancel),
            Reasoner::Endpoint(e) => e.generate_many(&reqs, cancel, &|_, _| {}),
        }
    }

    /// See [`Generator::generate_many`]. Blocks.
    pub fn generate_many(
        &self,
        reqs: Vec<GenRequest>,
        cancel: &Cancel,
        on_piece: impl FnMut(usize, &str) + Send + 'static,
    ) -> Result<Vec<Generated>> {
        match self {
            Reasoner::Local(g) => g.generate_many(reqs, cancel, on_piece),
            Reasoner::Endpoint(e) => {
                let sink = Mutex::new(on_piece);
                e.generate_many(&reqs, cancel, &|i, p| {
                    (sink.lock().unwrap_or_else(|p| p.into_inner()))(i, p)
                })
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The process-wide llama.cpp backend. Dropping it would free llama.cpp's
/// global state, so it lives for the whole process.
pub(crate) fn backend() -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(
                llama_cpp_2::LogOptions::default().with_logs_enabled(true),
            );
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|reason| Error::Load {
            path: PathBuf::new(),
            reason: reason.clone(),
        })
}

/// Context creation mutates the model in llama.cpp; never run two at once.
static CONTEXT_LOCK: Mutex<()> = Mutex::new(());

/// A llama.cpp context for `model`, created under [`CONTEXT_LOCK`].
pub(crate) fn new_context<'m>(
    model: &'m LlamaModel,
    path: &Path,
    params: LlamaContextParams,
) -> Result<LlamaContext<'m>> {
    let _guard = CONTEXT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    model
        .new_context(backend()?, params)
        .map_err(|e| Error::Load {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// How an embedding worker runs.
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// CPU threads for llama.cpp; `None` uses every core.
    pub threads: Option<usize>,
    /// Longest input kept, in tokens; longer texts are truncated. BERT-style
    /// models see at most 512 positions; all-MiniLM-L6-v2 was trained on
    /// 128, and the cost of embedding grows with every token.
    pub max_tokens: usize,
    /// Tokens per llama.cpp batch. Encoder models attend across the whole
    /// batch, so larger is not always faster.
    pub batch_tokens: usize,
    /// Texts per llama.cpp batch.
    pub batch_sequences: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            threads: None,
            max_tokens: 128,
            batch_tokens: 512,
            batch_sequences: 16,
        }
    }
}

/// Work for the embedding worker.
enum EmbedJob {
    Embed(Vec<String>, mpsc::Sender<Result<Vec<Vec<f32>>>>),
    /// Tokens each text is embedded with (after truncation).
    Count(Vec<String>, mpsc::Sender<Vec<usize>>),
}

/// A handle on the embedding worker. Cheap to clone; the worker stops when
/// the last handle is dropped.
#[derive(Clone)]
pub struct Embedder {
    jobs: mpsc::Sender<EmbedJob>,
    dim: usize,
    path: PathBuf,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("path", &self.path)
            .field("dim", &self.dim)
            .finish()
    }
}

impl Embedder {
    /// Loads an embedding model on a new worker thread and waits until it
    /// is ready (or failed).
    pub fn load(path: &Path, opts: EmbedOptions) -> Result<Embedder> {
        if !path.is_file() {
            return Err(Error::ModelMissing {
                path: path.to_path_buf(),
            });
        }
        let (jobs, inbox) = mpsc::channel::<EmbedJob>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<usize>>();
        let model_path = path.to_path_buf();
        thread::Builder::new()
            .name("moodshelf-embed".into())
            .spawn(move || worker(model_path, opts, ready_tx, inbox))
            .map_err(|e| Error::Load {
                path: path.to_path_buf(),
                reason: format!("cannot start worker thread: {e}"),
            })?;
        let dim = ready_rx.recv().map_err(|_| Error::WorkerGone)??;
        Ok(Embedder {
            jobs,
            dim,
            path: path.to_path_buf(),
        })
    }

    /// Length of the vectors this model produces.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Embeds texts, in order, as unit-length vectors. Blocks the calling
    /// thread; async callers use `spawn_blocking`.
    pub fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send(EmbedJob::Embed(texts, tx))
            .map_err(|_| Error::WorkerGone)?;
        rx.recv().map_err(|_| Error::WorkerGone)?
    }

    /// How many tokens each text is embedded with, after truncation to
    /// [`EmbedOptions::max_tokens`] (for benchmarks: tokens/s is what
    /// compares with llama.cpp's own numbers).
    pub fn token_counts(&self, texts: Vec<String>) -> Result<Vec<usize>> {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send(EmbedJob::Count(texts, tx))
            .map_err(|_| Error::WorkerGone)?;
        rx.recv().map_err(|_| Error::WorkerGone)
    }
}

fn worker(
    path: PathBuf,
    opts: EmbedOptions,
    ready: mpsc::Sender<Result<usize>>,
    inbox: mpsc::Receiver<EmbedJob>,
) {
    let setup = || -> Result<(LlamaModel, usize)> {
        let backend = backend()?;
        let model = LlamaModel::load_from_file(backend, &path, &LlamaModelParams::default())
            .map_err(|e| Error::Load {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let dim = usize::try_from(model.n_embd()).unwrap_or(0);
        if dim == 0 {
            return Err(Error::NotEmbedding {
                path: path.clone(),
                reason: "no embedding width".into(),
            });
        }
        Ok((model, dim))
    };
    let (model, dim) = match setup() {
        Ok(m) => m,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let threads = opts
        .threads
        .unwrap_or_else(|| thread::available_parallelism().map_or(4, |n| n.get()));
    let batch_tokens = opts
        .batch_tokens
        .max(opts.max_tokens)
        .min(model.n_ctx_train().max(1) as usize * opts.batch_sequences);
    let params = LlamaContextParams::default()
        .with_embeddings(true)
        .with_pooling_type(LlamaPoolingType::Mean)
        .with_n_ctx(NonZeroU32::new(batch_tokens as u32))
        .with_n_batch(batch_tokens as u32)
        // Non-causal models abort the process (GGML_ASSERT) unless one
        // micro-batch holds every token of the batch.
        .with_n_ubatch(batch_tokens as u32)
        .with_n_seq_max(opts.batch_sequences as u32)
        .with_n_threads(threads as i32)
        .with_n_threads_batch(threads as i32);
    let ctx = match new_context(&model, &path, params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut state = Worker {
        ctx,
        model: &model,
        opts: EmbedOptions {
            batch_tokens,
            ..opts
        },
        dim,
    };
    if ready.send(Ok(dim)).is_err() {
        return;
    }
    while let Ok(job) = inbox.recv() {
        match job {
            EmbedJob::Embed(texts, reply) => {
                let _ = reply.send(state.embed(&texts));
            }
            EmbedJob::Count(texts, reply) => {
                let _ = reply.send(state.tokenize(&texts).iter().map(Vec::len).collect());
            }
        }
    }
}

struct Worker<'m> {
    ctx: LlamaContext<'m>,
    model: &'m LlamaModel,
    opts: EmbedOptions,
    dim: usize,
}

impl Worker<'_> {
    /// Each text as the tokens it is embedded with.
    fn tokenize(&self, texts: &[String]) -> Vec<Vec<LlamaToken>> {
        let vocab = self.model.vocab();
        let max = self.opts.max_tokens.min(self.opts.batch_tokens).max(2);
        texts
            .iter()
            .map(|t| {
                let mut toks = vocab.tokenize(t.as_bytes(), true, false);
                if toks.len() > max {
                    // Keep the closing separator the model was trained with.
                    let last = *toks.last().expect("non-empty");
                    toks.truncate(max - 1);
                    toks.push(last);
                }
                toks
            })
            .collect()
    }

    fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let tokenized = self.tokenize(texts);
        let mut out = Vec::with_capacity(texts.len());
        let mut start = 0;
        while start < tokenized.len() {
            // Pack as many texts as fit into one batch.
            let mut end = start;
            let mut tokens = 0;
            while end < tokenized.len()
                && end - start < self.opts.batch_sequences
                && tokens + tokenized[end].len() <= self.opts.batch_tokens
            {
                tokens += tokenized[end].len();
                end += 1;
            }
            let group = &tokenized[start..end.max(start + 1)];
            out.extend(self.embed_group(group)?);
            start = end.max(start + 1);
        }
        Ok(out)
    }

    fn embed_group(&mut self, group: &[Vec<LlamaToken>]) -> Result<Vec<Vec<f32>>> {
        let total: usize = group.iter().map(Vec::len).sum();
        let mut batch = LlamaBatch::new(total.max(1), group.len() as i32);
        for (seq, toks) in group.iter().enumerate() {
            batch
                // Mean pooling reads every token, so every token is an output.
                .add_sequence(toks, seq as i32, true)
                .map_err(|e| Error::Compute {
                    what: "build a batch",
                    reason: e.to_string(),
                })?;
        }
        self.ctx.clear_kv_cache();
        self.ctx.decode(&mut batch).map_err(|e| Error::Compute {
            what: "embed",
            reason: e.to_string(),
        })?;
        (0..group.len())
            .map(|seq| {
                let v = self
                    .ctx
                    .embeddings_seq_ith(seq as i32)
                    .map_err(|e| Error::Compute {
                        what: "read embeddings",
                        reason: e.to_string(),
                    })?;
                Ok(normalize(&v[..self.dim.min(v.len())]))
            })
            .collect()
    }
}

fn normalize(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().fold(0.0f32, |a, x| x.mul_add(*x, a)).sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return v.to_vec();
    }
    v.iter().map(|x| x / norm).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_gives_unit_length() {
        let v = normalize(&[3.0, 4.0]);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert_eq!(normalize(&[0.0, 0.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn missing_model_is_a_clear_error() {
        let err = Embedder::load(
            Path::new("/nonexistent/model.gguf"),
            EmbedOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::ModelMissing { .. }), "{err}");
    }
}
