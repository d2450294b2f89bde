//! The reasoning worker: one chat model on one thread, generating text
//! token by token for one request at a time.
//!
//! Two things make it fast enough on a laptop. Each request names a slot (a
//! llama.cpp sequence), and the slot keeps the tokens of its last prompt in
//! the KV cache: a new prompt that starts the same way (the same long
//! system prompt) only reads its new tail. And pieces are handed to the
//! caller as soon as they are sampled, so a host shows the first words while
//! the rest are still being written.
//!
//! Prompts are built so that text inside a message can never become a
//! control token: with a ChatML model (Qwen, SmolLM2) the template's markers
//! are tokenized as special tokens and message contents as plain text;
//! with any other template, marker-like sequences in contents are broken up
//! before the template is applied.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use crate::{Error, Result, backend, new_context};

/// How a generation worker runs.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// CPU threads for llama.cpp; `None` uses every core.
    pub threads: Option<usize>,
    /// KV cells shared by every sequence (one unified cache): the cached
    /// prompts of all slots plus the sequences being written. Each cell
    /// costs the model's KV width (28 KiB for Qwen2.5-1.5B), so this is
    /// sized to what an answer uses, not to the model's training context.
    pub ctx_tokens: u32,
    /// Independent prompt caches. Slot 0 and 1 let two kinds of prompt
    /// (say, reading a request and explaining picks) alternate without
    /// evicting each other's prefix.
    pub slots: u32,
    /// Replies written at once by [`Generator::generate_many`]. Where
    /// decoding is memory-bound (many cores, a GPU) four sequences in one
    /// batch cost little more than one; on two cores it is compute-bound,
    /// and a batch of four finishes all replies sooner than four in turn
    /// (18 s against 24 s for four reasons) but the first one later.
    pub parallel: u32,
    /// Replies of a [`Generator::generate_many`] call written one at a
    /// time before the rest are batched. Where decoding is compute-bound
    /// (a laptop's few cores) the first reply then arrives after its own
    /// prompt tail and its own tokens, not after every tail and the whole
    /// batch, and the rest finish about as soon as before (one reply's
    /// tokens decoded alone instead of in the batch). 0 where a batch of
    /// replies costs about what one does (many cores, a GPU).
    pub lead: u32,
    /// Replies of a [`Generator::generate_batch`] written at once: background
    /// work, where only replies per second count. On two cores a decode of
    /// 16 tokens runs at about twice the tokens per second of a decode of 4
    /// (llama-bench pp16 against pp4), so sixteen works read together
    /// finish in about half the time of four batches of four.
    pub batch_width: u32,
    /// Tokens read per llama.cpp decode while reading a prompt.
    pub batch_tokens: u32,
    /// Where the KV state of fixed prompt prefixes ([`GenRequest::fixed_messages`])
    /// is kept between processes, so a one-shot CLI run reads a saved
    /// system prompt instead of computing it. `None`: memory only.
    pub state_dir: Option<PathBuf>,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            threads: None,
            // A batch of 16 item readings fits beside the cached prompts.
            ctx_tokens: 4096,
            slots: 3,
            parallel: 4,
            lead: 1,
            batch_width: 16,
            // The compute buffer holds a batch's logits (151,936 floats a
            // token for Qwen2.5): 128 tokens a batch keeps it near 80 MB.
            batch_tokens: 128,
            state_dir: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "system".into(),
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GenRequest {
    pub messages: Vec<ChatMessage>,
    /// GBNF the reply must match (root rule `root`); the sampler cannot
    /// produce anything else.
    pub grammar: Option<String>,
    pub max_tokens: usize,
    /// 0 samples greedily (repeatable); above 0 samples with this
    /// temperature from `seed`.
    pub temperature: f32,
    pub seed: u32,
    /// Which prompt cache to use (below [`GenOptions::slots`]).
    pub slot: u32,
    /// Leading messages that never change between requests of this kind
    /// (a system prompt): their KV state may be saved to
    /// [`GenOptions::state_dir`] and loaded by the next process.
    pub fixed_messages: usize,
    /// The reply's shape as a JSON schema, for reasoning endpoints that
    /// take a schema rather than a grammar (Ollama, vLLM, OpenAI-style
    /// `response_format`). The local model uses [`GenRequest::grammar`].
    pub json_schema: Option<serde_json::Value>,
    /// Text the reply starts with, written for the model rather than by it
    /// (read as prompt, not returned in [`Generated::text`]); the grammar
    /// holds what follows it.
    pub reply_prefix: String,
    /// A byte range of `reply_prefix` whose tokens are scored: how likely
    /// the model found them, given everything before them. Scoring a work's
    /// known creator after its title measures whether the model knows the
    /// work, without asking it (small models say "yes" to anything).
    pub probe: Option<std::ops::Range<usize>>,
    /// With a probe: stop before writing anything when its mean log
    /// probability per token is below this ([`Stop::Unfamiliar`]).
    pub min_probe: Option<f32>,
    /// What follows once [`GenRequest::grammar`]'s value is complete, in
    /// order: fixed text the model does not write (read as prompt, which
    /// costs a fraction of writing it token by token) and the next value's
    /// grammar. A JSON reply's keys and punctuation are such text. The
    /// reply ends early when its top-level JSON value closes.
    pub segments: Vec<Segment>,
}

/// Fixed text, then a value held by a grammar (see [`GenRequest::segments`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// GBNF (root rule `root`) of the value after `text`; empty: the reply
    /// ends with `text`. Each value must end in text that cannot go on (a
    /// closing quote or bracket), so that its end is the grammar's.
    pub grammar: String,
}

impl GenRequest {
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        GenRequest {
            messages,
            grammar: None,
            max_tokens: 256,
            temperature: 0.0,
            seed: 7,
            slot: 0,
            fixed_messages: 0,
            json_schema: None,
            reply_prefix: String::new(),
            probe: None,
            min_probe: None,
            segments: Vec::new(),
        }
    }
}

/// Stops a generation in progress (Esc in the app, Ctrl-C in the CLI).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The model ended its reply (or the grammar was complete).
    End,
    MaxTokens,
    Cancelled,
    /// The probe scored below [`GenRequest::min_probe`]: nothing written.
    Unfamiliar,
}

#[derive(Debug, Clone)]
pub struct Generated {
    pub text: String,
    pub prompt_tokens: usize,
    /// Prompt tokens whose KV entries were reused from the slot's last prompt.
    pub reused_tokens: usize,
    pub generated_tokens: usize,
    /// From the request reaching the worker to the end of reading this
    /// reply's prompt.
    pub prompt_ms: f64,
    /// From the request reaching the worker to the first piece.
    pub first_token_ms: Option<f64>,
    /// From the request reaching the worker to the end of the batch that
    /// wrote this reply.
    pub total_ms: f64,
    pub stop: Stop,
    /// The mean log probability per token of [`GenRequest::probe`]'s
    /// tokens (natural log, at most 0), when there was a probe.
    pub probe_logprob: Option<f32>,
}

/// Called with (request index, piece) as each piece is sampled.
type OnPiece = Box<dyn FnMut(usize, &str) + Send>;

struct Job {
    reqs: Vec<GenRequest>,
    /// Replies written alone first; `None`: [`GenOptions::lead`].
    lead: Option<usize>,
    /// Replies written at once after those.
    width: Width,
    cancel: Cancel,
    on_piece: OnPiece,
    reply: mpsc::Sender<Result<Vec<Generated>>>,
}

/// A handle on the generation worker. Cheap to clone; requests queue and
/// run one at a time; the worker stops when the last handle is dropped.
#[derive(Clone)]
pub struct Generator {
    jobs: mpsc::Sender<Job>,
    path: PathBuf,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("path", &self.path)
            .finish()
    }
}

impl Generator {
    /// Loads a chat model on a new worker thread and waits until it is
    /// ready (or failed).
    pub fn load(path: &Path, opts: GenOptions) -> Result<Generator> {
        if !path.is_file() {
            return Err(Error::ModelMissing {
                path: path.to_path_buf(),
            });
        }
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<()>>();
        let model_path = path.to_path_buf();
        thread::Builder::new()
            .name("moodshelf-generate".into())
            .spawn(move || worker(model_path, opts, ready_tx, inbox))
            .map_err(|e| Error::Load {
                path: path.to_path_buf(),
                reason: format!("cannot start worker thread: {e}"),
            })?;
        ready_rx.recv().map_err(|_| Error::WorkerGone)??;
        Ok(Generator {
            jobs,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Generates a reply, calling `on_piece` with each piece of text as it
    /// is sampled. Blocks the calling thread; async callers use
    /// `spawn_blocking`.
    pub fn generate(
        &self,
        req: GenRequest,
        cancel: &Cancel,
        mut on_piece: impl FnMut(&str) + Send + 'static,
    ) -> Result<Generated> {
        let mut out = self.generate_many(vec![req], cancel, move |_, p| on_piece(p))?;
        out.pop().ok_or(Error::WorkerGone)
    }

    /// Generates one reply per request: the first [`GenOptions::lead`]
    /// alone, then the rest as parallel sequences of one llama.cpp batch
    /// (up to [`GenOptions::parallel`] at a time): the prompts' shared
    /// beginning is read once, each tail once, and every decoding step
    /// samples a token for every unfinished reply.
    /// `on_piece` gets the request's index with each piece. Requests share
    /// the first request's slot.
    pub fn generate_many(
        &self,
        reqs: Vec<GenRequest>,
        cancel: &Cancel,
        on_piece: impl FnMut(usize, &str) + Send + 'static,
    ) -> Result<Vec<Generated>> {
        self.send(reqs, None, Width::Parallel, cancel, on_piece)
    }

    /// Generates one reply per request, all as parallel sequences (up to
    /// [`GenOptions::batch_width`] at a time) with none written alone first:
    /// for background work, where what counts is replies per second, not
    /// the first reply's wait.
    pub fn generate_batch(&self, reqs: Vec<GenRequest>, cancel: &Cancel) -> Result<Vec<Generated>> {
        self.send(reqs, Some(0), Width::Batch, cancel, |_, _| {})
    }

    fn send(
        &self,
        reqs: Vec<GenRequest>,
        lead: Option<usize>,
        width: Width,
        cancel: &Cancel,
        on_piece: impl FnMut(usize, &str) + Send + 'static,
    ) -> Result<Vec<Generated>> {
        if reqs.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = mpsc::channel();
        self.jobs
            .send(Job {
                reqs,
                lead,
                width,
                cancel: cancel.clone(),
                on_piece: Box::new(on_piece),
                reply,
            })
            .map_err(|_| Error::WorkerGone)?;
        rx.recv().map_err(|_| Error::WorkerGone)?
    }
}

fn worker(
    path: PathBuf,
    opts: GenOptions,
    ready: mpsc::Sender<Result<()>>,
    inbox: mpsc::Receiver<Job>,
) {
    let model = match load_model(&path) {
        Ok(m) => m,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let sizes = Sizes::of(&opts);
    let ctx = match new_context(&model, &path, sizes.params()) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let chatml = model
        .chat_template(None)
        .ok()
        .and_then(|t| t.to_string().ok())
        .is_none_or(|t| t.contains("<|im_start|>"));
    let model_key = model_key(&path, sizes.cells);
    let mut state = GenWorker {
        ctx,
        model: &model,
        cached: vec![Vec::new(); sizes.slots as usize],
        cells: sizes.cells as usize,
        batch_tokens: sizes.batch_tokens as usize,
        chatml,
        states: opts.state_dir.map(|dir| StateFiles {
            dir,
            model: model_key,
        }),
    };
    if ready.send(Ok(())).is_err() {
        return;
    }
    let widths = Widths {
        lead: opts.lead as usize,
        parallel: sizes.parallel,
        batch: sizes.batch_width,
    };
    while let Ok(job) = inbox.recv() {
        state.serve(job, &widths);
    }
}

fn load_model(path: &Path) -> Result<LlamaModel> {
    // Read, not mapped: llama.cpp repacks quantized weights for the CPU's
    // vector units into buffers of its own, and a mapped file would stay
    // resident beside them (2.2 GB for a 1.1 GB model).
    let params = LlamaModelParams::default().with_use_mmap(false);
    LlamaModel::load_from_file(backend()?, path, &params).map_err(|e| Error::Load {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The sizes a worker's context is made with, from its options.
struct Sizes {
    threads: usize,
    slots: u32,
    parallel: usize,
    batch_width: usize,
    batch_tokens: u32,
    cells: u32,
}

impl Sizes {
    fn of(opts: &GenOptions) -> Sizes {
        let parallel = opts.parallel.max(1) as usize;
        let batch_width = opts.batch_width.max(1) as usize;
        Sizes {
            threads: opts
                .threads
                .unwrap_or_else(|| thread::available_parallelism().map_or(4, |n| n.get())),
            slots: opts.slots.max(1),
            parallel,
            batch_width,
            // A decode holds a step of every lane (a token, or a segment's
            // fixed text of a few tokens) beside prompt tails.
            batch_tokens: opts
                .batch_tokens
                .max(32)
                .max(8 * parallel.max(batch_width) as u32),
            cells: opts.ctx_tokens.max(512),
        }
    }

    fn params(&self) -> LlamaContextParams {
        LlamaContextParams::default()
            // One pool of cells for every sequence: a cached system prompt
            // copied to four replies is shared, not duplicated.
            .with_kv_unified(true)
            .with_n_ctx(NonZeroU32::new(self.cells))
            .with_n_batch(self.batch_tokens)
            .with_n_seq_max(self.slots + self.parallel.max(self.batch_width) as u32)
            .with_n_threads(self.threads as i32)
            .with_n_threads_batch(self.threads as i32)
    }
}

/// How many replies a worker writes at once: the leading ones alone, then
/// `parallel` for replies someone waits for, `batch` for background work.
struct Widths {
    lead: usize,
    parallel: usize,
    batch: usize,
}

impl GenWorker<'_> {
    /// Writes a job's replies and sends them back.
    fn serve(&mut self, mut job: Job, widths: &Widths) {
        let started = Instant::now();
        let mut out = Vec::with_capacity(job.reqs.len());
        let mut result = Ok(());
        let lead = job.lead.unwrap_or(widths.lead);
        // Replies someone waits for go `parallel` at a time (the lead ones
        // alone); background replies stream through `batch` lanes.
        let (ranges, width) = match job.width {
            Width::Parallel => (
                batches(job.reqs.len(), lead, widths.parallel),
                widths.parallel,
            ),
            Width::Batch => (std::iter::once(0..job.reqs.len()).collect(), widths.batch),
        };
        for range in ranges {
            let base = range.start;
            let on_piece = &mut job.on_piece;
            let width = width.min(range.len());
            match self.run(
                &job.reqs[range],
                width,
                &job.cancel,
                started,
                &mut |i, p| on_piece(base + i, p),
            ) {
                Ok(g) => out.extend(g),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_err() {
            // The cache state is unknown after a failure: start clean.
            self.forget_all();
        }
        let _ = job.reply.send(result.map(|()| out));
    }
}

/// How many replies a job writes at once.
#[derive(Debug, Clone, Copy)]
enum Width {
    /// [`GenOptions::parallel`]: replies someone is waiting for.
    Parallel,
    /// [`GenOptions::batch_width`]: background work.
    Batch,
}

/// How `n` replies are written: the first `lead` alone, one after
/// another, then the rest `parallel` at a time.
fn batches(n: usize, lead: usize, parallel: usize) -> Vec<std::ops::Range<usize>> {
    let lead = lead.min(n);
    let mut out: Vec<_> = (0..lead).map(|i| i..i + 1).collect();
    let mut start = lead;
    while start < n {
        let end = (start + parallel.max(1)).min(n);
        out.push(start..end);
        start = end;
    }
    out
}

/// Identifies a model file and the cache shape for saved KV states: a
/// state is only ever loaded into the model and layout that wrote it.
fn model_key(path: &Path, cells: u32) -> u64 {
    let meta = std::fs::metadata(path).ok();
    let mut h = Fnv::default();
    h.write(path.to_string_lossy().as_bytes());
    h.write(&meta.as_ref().map_or(0, |m| m.len()).to_le_bytes());
    let mtime = meta
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    h.write(&mtime.to_le_bytes());
    h.write(&cells.to_le_bytes());
    h.0
}

/// FNV-1a, 64 bits: names a cache file, verified on load, so it need
/// only spread well.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Saved KV states of fixed prompt prefixes, one file per model and prefix.
struct StateFiles {
    dir: PathBuf,
    model: u64,
}

/// Saved states kept; the oldest go first (each is a few MiB per hundred
/// tokens of prompt).
const STATE_FILES_KEPT: usize = 8;

impl StateFiles {
    fn path(&self, tokens: &[LlamaToken]) -> PathBuf {
        let mut h = Fnv(self.model);
        for t in tokens {
            h.write(&t.0.to_le_bytes());
        }
        self.dir.join(format!("kv-{:016x}.state", h.0))
    }

    /// Loads the state of `tokens` into `seq` (which must be empty).
    /// Anything wrong (no file, another llama.cpp, other tokens) is a miss.
    fn load(&self, ctx: &mut LlamaContext<'_>, seq: i32, tokens: &[LlamaToken]) -> bool {
        let path = self.path(tokens);
        if !path.is_file() {
            return false;
        }
        match ctx.state_seq_load_file(&path, seq, tokens.len()) {
            Ok((loaded, _)) if loaded == tokens => true,
            other => {
                tracing::debug!(path = %path.display(), ok = other.is_ok(), "saved prompt state not used");
                let _ = ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
                false
            }
        }
    }

    /// Saves `seq`, which holds exactly `tokens`, through a temporary file
    /// (another process may be reading the same state).
    fn save(&self, ctx: &LlamaContext<'_>, seq: i32, tokens: &[LlamaToken]) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let path = self.path(tokens);
        let part = path.with_extension(format!("part{}", std::process::id()));
        match ctx.state_seq_save_file(&part, seq, tokens) {
            Ok(_) => {
                let _ = std::fs::rename(&part, &path);
                self.prune();
            }
            Err(e) => {
                tracing::debug!("cannot save the prompt state: {e}");
                let _ = std::fs::remove_file(&part);
            }
        }
    }

    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".state"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        let excess = files.len().saturating_sub(STATE_FILES_KEPT);
        for (_, p) in files.into_iter().take(excess) {
            let _ = std::fs::remove_file(p);
        }
    }
}

struct GenWorker<'m> {
    ctx: LlamaContext<'m>,
    model: &'m LlamaModel,
    /// Per slot (sequence `slot`): the tokens whose KV entries are in the
    /// cache, in order. Replies are written in sequences after the slots.
    cached: Vec<Vec<LlamaToken>>,
    cells: usize,
    batch_tokens: usize,
    chatml: bool,
    states: Option<StateFiles>,
}

fn compute(what: &'static str) -> impl Fn(String) -> Error {
    move |reason| Error::Compute { what, reason }
}

/// How much of the prompts is read once into the slot: their common
/// beginning, less every reply's last prompt token (read in its own
/// sequence for its logits) and whatever a probe needs the logits of.
fn shared_len(prompts: &[Vec<LlamaToken>], probes: &[Option<std::ops::Range<usize>>]) -> usize {
    let common_len = prompts
        .iter()
        .skip(1)
        .fold(prompts[0].len(), |n, p| n.min(common(&prompts[0], p)));
    let shortest = prompts.iter().map(Vec::len).min().unwrap_or(1);
    let first_probe = probes
        .iter()
        .flatten()
        .map(|r| r.start.saturating_sub(1))
        .min()
        .unwrap_or(usize::MAX);
    common_len.min(shortest.saturating_sub(1)).min(first_probe)
}

/// Length of the common beginning of two token lists.
fn common(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// One reply being written.
struct Seq {
    /// Its request's index in the run.
    req: usize,
    /// Its llama.cpp sequence (its lane's), while it has one.
    id: i32,
    prompt: Vec<LlamaToken>,
    sampler: Picker,
    decoder: encoding_rs::Decoder,
    text: String,
    generated: usize,
    max: usize,
    grammar: bool,
    first_token_ms: Option<f64>,
    /// When its prompt tail was read.
    prompt_ms: f64,
    /// Index of this sequence's logits in the last decoded batch.
    logits: i32,
    pos: usize,
    stop: Option<Stop>,
    /// The reply's given beginning ([`GenRequest::reply_prefix`]).
    prefix: String,
    /// Fixed text and values still to come ([`GenRequest::segments`]).
    segments: std::collections::VecDeque<Segment>,
    /// Prompt positions of the probe's tokens, and the sum of their log
    /// probabilities as they are read.
    probe: Option<std::ops::Range<usize>>,
    probe_sum: f32,
    min_probe: Option<f32>,
}

impl Seq {
    /// Whether its prompt tail is still being read (`pos` is then the
    /// next prompt position to read).
    fn reading(&self) -> bool {
        self.pos < self.prompt.len()
    }

    /// Whether the logits after prompt position `p` score a probe token.
    fn scores(&self, p: usize) -> bool {
        self.probe
            .as_ref()
            .is_some_and(|r| p + 1 >= r.start && p + 1 < r.end)
    }

    fn probe_mean(&self) -> Option<f32> {
        let r = self.probe.as_ref()?;
        Some(self.probe_sum / r.len().max(1) as f32)
    }
}

/// The replies of one run: at most `width` being read or written, each
/// in a lane (a llama.cpp sequence), the rest queued, and those done.
struct Lanes {
    /// The slot whose cells hold the shared prompt, and its length.
    slot: i32,
    shared: usize,
    width: usize,
    active: Vec<Seq>,
    queue: std::collections::VecDeque<Seq>,
    done: Vec<Seq>,
    /// Sequence ids of the free lanes.
    free_ids: Vec<i32>,
}

impl Lanes {
    fn next_id(&mut self) -> i32 {
        self.free_ids.pop().expect("a lane is free")
    }

    fn free(&mut self, s: Seq) {
        self.free_ids.push(s.id);
        self.done.push(s);
    }
}

/// The natural log of the softmax of `logits` at `token`.
fn log_prob(logits: &[f32], token: LlamaToken) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|l| (l - max).exp()).sum();
    logits
        .get(token.0 as usize)
        .map_or(f32::NEG_INFINITY, |l| l - max - sum.ln())
}

impl GenWorker<'_> {
    fn forget_all(&mut self) {
        self.ctx.clear_kv_cache();
        for c in &mut self.cached {
            c.clear();
        }
    }

    fn decode(&mut self, batch: &mut LlamaBatch, what: &'static str) -> Result<()> {
        self.ctx
            .decode(batch)
            .map_err(|e| compute(what)(e.to_string()))
    }

    /// Reads `tokens[from..to]` into the slot's sequence, without logits.
    fn extend_slot(&mut self, slot: usize, tokens: &[LlamaToken], to: usize) -> Result<()> {
        let mut batch = LlamaBatch::new(self.batch_tokens, 1);
        let mut pos = self.cached[slot].len();
        while pos < to {
            let end = (pos + self.batch_tokens).min(to);
            batch.clear();
            for (i, tok) in tokens[pos..end].iter().enumerate() {
                batch
                    .add(*tok, (pos + i) as i32, &[slot as i32], false)
                    .map_err(|e| compute("build a batch")(e.to_string()))?;
            }
            self.decode(&mut batch, "read the prompt")?;
            self.cached[slot].extend_from_slice(&tokens[pos..end]);
            pos = end;
        }
        Ok(())
    }

    /// The KV cells each reply may fill beyond the shared prompt: its
    /// prompt tail, its most tokens, and the fixed text of its segments.
    fn cells_needed(
        &self,
        reqs: &[GenRequest],
        prompts: &[Vec<LlamaToken>],
        shared: usize,
    ) -> Vec<usize> {
        let vocab = self.model.vocab();
        let per_reply = prompts.iter().zip(reqs).map(|(p, r)| {
            let fixed: usize = r
                .segments
                .iter()
                .map(|g| vocab.tokenize(g.text.as_bytes(), false, false).len())
                .sum();
            p.len() - shared + r.max_tokens + fixed
        });
        per_reply.collect()
    }

    /// How many replies are written at once (at most `width`): as many as
    /// fit the cells, the largest counted. Clears the other slots' cached
    /// prompts when the pool is short.
    fn make_room(
        &mut self,
        slot: usize,
        reqs: &[GenRequest],
        prompts: &[Vec<LlamaToken>],
        shared: usize,
        width: usize,
    ) -> Result<usize> {
        let mut needs = self.cells_needed(reqs, prompts, shared);
        needs.sort_unstable_by(|a, b| b.cmp(a));
        let mut width = width.clamp(1, needs.len().max(1));
        let mut need = shared + needs.iter().take(width).sum::<usize>();
        while need + 8 > self.cells && width > 1 {
            width -= 1;
            need = shared + needs.iter().take(width).sum::<usize>();
        }
        if need + 8 > self.cells {
            let longest = prompts.iter().map(Vec::len).max().unwrap_or(0);
            return Err(Error::PromptTooLong {
                tokens: longest,
                max: self.cells.saturating_sub(8 + need - longest),
            });
        }
        let others: usize = (0..self.cached.len())
            .filter(|s| *s != slot)
            .map(|s| self.cached[s].len())
            .sum();
        if need + others + 8 > self.cells {
            for s in (0..self.cached.len()).filter(|s| *s != slot) {
                self.ctx
                    .clear_kv_cache_seq(Some(s as u32), None, None)
                    .map_err(|e| compute("trim the prompt cache")(e.to_string()))?;
                self.cached[s].clear();
            }
        }
        Ok(width)
    }

    /// Keeps what the slot has cached of `prompt`'s shared beginning, and
    /// loads (or computes and saves) the request's fixed leading messages.
    /// Returns the prompt tokens reused.
    fn reuse_prefix(
        &mut self,
        slot: usize,
        req: &GenRequest,
        prompt: &[LlamaToken],
        shared: usize,
    ) -> Result<usize> {
        let slot_seq = slot as i32;
        let keep = common(&self.cached[slot], &prompt[..shared]);
        self.ctx
            .clear_kv_cache_seq(Some(slot as u32), Some(keep as u32), None)
            .map_err(|e| compute("trim the prompt cache")(e.to_string()))?;
        self.cached[slot].truncate(keep);
        let fixed = self.fixed_len(req, prompt).min(shared);
        if fixed <= keep || self.states.is_none() {
            return Ok(keep);
        }
        let tokens = &prompt[..fixed];
        self.ctx
            .clear_kv_cache_seq(Some(slot as u32), None, None)
            .map_err(|e| compute("trim the prompt cache")(e.to_string()))?;
        self.cached[slot].clear();
        let states = self.states.as_ref().expect("checked");
        if states.load(&mut self.ctx, slot_seq, tokens) {
            self.cached[slot] = tokens.to_vec();
            return Ok(fixed);
        }
        self.extend_slot(slot, prompt, fixed)?;
        self.states
            .as_ref()
            .expect("checked")
            .save(&self.ctx, slot_seq, tokens);
        Ok(0)
    }

    /// Writes one reply per request, at most `width` at a time as parallel
    /// sequences of one batch: when a reply ends, the next request takes
    /// its place in the following decode (continuous batching), so the
    /// batch stays full while replies of different lengths finish. Times
    /// count from `started`, when the job reached the worker.
    fn run(
        &mut self,
        reqs: &[GenRequest],
        width: usize,
        cancel: &Cancel,
        started: Instant,
        on_piece: &mut dyn FnMut(usize, &str),
    ) -> Result<Vec<Generated>> {
        let slot = (reqs[0].slot as usize).min(self.cached.len() - 1);
        let (prompts, probes): (Vec<_>, Vec<_>) = reqs
            .iter()
            .map(|r| self.request_tokens(r))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        let shared = shared_len(&prompts, &probes);
        let width = self.make_room(slot, reqs, &prompts, shared, width)?;
        let reused = self.reuse_prefix(slot, &reqs[0], &prompts[0], shared)?;
        if cancel.is_cancelled() {
            return Ok(self.cancelled(&prompts, reused, started));
        }
        self.extend_slot(slot, &prompts[0], shared)?;

        let mut queue: std::collections::VecDeque<Seq> = std::collections::VecDeque::new();
        for (i, ((req, prompt), probe)) in reqs.iter().zip(prompts).zip(probes).enumerate() {
            queue.push_back(self.seq(i, req, prompt, probe, shared)?);
        }
        let base = self.cached.len() as i32;
        let mut lanes = Lanes {
            slot: slot as i32,
            shared,
            width,
            active: Vec::with_capacity(width),
            queue,
            done: Vec::with_capacity(reqs.len()),
            free_ids: (0..width as i32).rev().map(|i| base + i).collect(),
        };
        let result = self.write(&mut lanes, cancel, on_piece, started);
        for s in &lanes.active {
            let _ = self.ctx.clear_kv_cache_seq(Some(s.id as u32), None, None);
        }
        result?;
        let mut done = lanes.done;
        done.extend(lanes.active);
        done.extend(lanes.queue);
        done.sort_by_key(|s| s.req);
        Ok(done
            .into_iter()
            .map(|s| Generated {
                prompt_tokens: s.prompt.len(),
                reused_tokens: reused,
                generated_tokens: s.generated,
                prompt_ms: s.prompt_ms,
                first_token_ms: s.first_token_ms,
                total_ms: started.elapsed().as_secs_f64() * 1e3,
                stop: s.stop.unwrap_or(Stop::End),
                probe_logprob: s.probe_mean(),
                text: s.text,
            })
            .collect())
    }

    /// The reply to request `i`, queued: its prompt read up to `shared`
    /// tokens (the part every request of the job has).
    fn seq(
        &self,
        i: usize,
        req: &GenRequest,
        prompt: Vec<LlamaToken>,
        probe: Option<std::ops::Range<usize>>,
        shared: usize,
    ) -> Result<Seq> {
        Ok(Seq {
            req: i,
            id: -1,
            sampler: self.sampler(req)?,
            decoder: encoding_rs::UTF_8.new_decoder(),
            text: String::new(),
            generated: 0,
            max: req.max_tokens,
            grammar: req.grammar.is_some(),
            first_token_ms: None,
            prompt_ms: 0.0,
            logits: -1,
            pos: shared,
            prompt,
            stop: (req.max_tokens == 0).then_some(Stop::MaxTokens),
            prefix: req.reply_prefix.clone(),
            segments: req.segments.iter().cloned().collect(),
            probe,
            probe_sum: 0.0,
            min_probe: req.min_probe,
        })
    }

    /// Decodes step by step until every reply is written: each step
    /// retires the replies that ended, starts queued ones in their lanes,
    /// samples a token (or reads a segment's fixed text) for each reply
    /// being written and reads prompt tails with the batch's room.
    fn write(
        &mut self,
        lanes: &mut Lanes,
        cancel: &Cancel,
        on_piece: &mut dyn FnMut(usize, &str),
        started: Instant,
    ) -> Result<()> {
        let mut batch = LlamaBatch::new(self.batch_tokens, 1);
        let mut bytes = Vec::new();
        loop {
            if cancel.is_cancelled() {
                for s in lanes.active.iter_mut().chain(lanes.queue.iter_mut()) {
                    s.stop.get_or_insert(Stop::Cancelled);
                }
            }
            self.retire_and_start(lanes)?;
            batch.clear();
            for s in lanes.active.iter_mut().filter(|s| s.logits >= 0) {
                self.step(s, &mut batch, &mut bytes, on_piece, started)?;
            }
            // Prompt tails with what room is left, in lane order.
            let mut tail_tokens = Vec::new();
            for (k, s) in lanes.active.iter_mut().enumerate() {
                while s.reading() && batch.n_tokens() < self.batch_tokens as i32 {
                    if s.stop == Some(Stop::Cancelled) {
                        break;
                    }
                    let p = s.pos;
                    let last = p + 1 == s.prompt.len();
                    batch
                        .add(s.prompt[p], p as i32, &[s.id], last || s.scores(p))
                        .map_err(|e| compute("build a batch")(e.to_string()))?;
                    tail_tokens.push((k, p, batch.n_tokens() - 1));
                    s.pos += 1;
                }
            }
            if batch.n_tokens() == 0 {
                if lanes.queue.is_empty() && lanes.active.iter().all(|s| s.stop.is_some()) {
                    return Ok(());
                }
                continue;
            }
            self.decode(&mut batch, "generate")?;
            for (k, p, idx) in tail_tokens {
                let s = &mut lanes.active[k];
                if s.scores(p) {
                    let next = s.prompt[p + 1];
                    s.probe_sum += log_prob(self.ctx.get_logits_ith(idx), next);
                }
                if p + 1 == s.prompt.len() {
                    s.logits = idx;
                    s.prompt_ms = started.elapsed().as_secs_f64() * 1e3;
                    if let (Some(min), Some(mean)) = (s.min_probe, s.probe_mean())
                        && mean < min
                    {
                        s.stop.get_or_insert(Stop::Unfamiliar);
                    }
                }
            }
        }
    }

    /// Retires the lanes' ended replies (their cells freed) and starts
    /// queued ones in the free lanes, each from the shared prompt's cells.
    fn retire_and_start(&mut self, lanes: &mut Lanes) -> Result<()> {
        let mut k = 0;
        while k < lanes.active.len() {
            let s = &lanes.active[k];
            if s.stop.is_some() && !s.reading() || s.stop == Some(Stop::Cancelled) {
                let s = lanes.active.swap_remove(k);
                self.ctx
                    .clear_kv_cache_seq(Some(s.id as u32), None, None)
                    .map_err(|e| compute("clear a sequence")(e.to_string()))?;
                lanes.free(s);
            } else {
                k += 1;
            }
        }
        while lanes.active.len() < lanes.width
            && let Some(mut s) = lanes.queue.pop_front()
        {
            if s.stop == Some(Stop::Cancelled) {
                lanes.done.push(s);
                continue;
            }
            s.id = lanes.next_id();
            self.ctx
                .clear_kv_cache_seq(Some(s.id as u32), None, None)
                .map_err(|e| compute("clear a sequence")(e.to_string()))?;
            if lanes.shared > 0 {
                self.ctx
                    .kv_cache_seq_cp(lanes.slot, s.id, Some(0), Some(lanes.shared as u32))
                    .map_err(|e| compute("share the prompt")(e.to_string()))?;
            }
            lanes.active.push(s);
        }
        Ok(())
    }

    /// One decoding step of a reply being written: samples its next token
    /// under its grammar and adds it to the batch, or, when a value's
    /// grammar is complete, adds the next segment's fixed text instead.
    fn step(
        &self,
        s: &mut Seq,
        batch: &mut LlamaBatch,
        bytes: &mut Vec<u8>,
        on_piece: &mut dyn FnMut(usize, &str),
        started: Instant,
    ) -> Result<()> {
        if s.stop.is_some() {
            return Ok(());
        }
        if s.generated >= s.max {
            s.stop = Some(Stop::MaxTokens);
            return Ok(());
        }
        let vocab = self.model.vocab();
        // pick() also accepts the token into the grammar state.
        let tok = s.sampler.pick(&self.ctx, s.logits);
        if vocab.is_eog(tok) {
            // The value's grammar is complete: the next fixed text is read
            // in this step's batch, then its value written.
            return match s.segments.pop_front() {
                Some(seg) if !grammar_done(&format!("{}{}", s.prefix, s.text)) => {
                    on_piece(s.req, &seg.text);
                    s.text.push_str(&seg.text);
                    if seg.grammar.is_empty() {
                        s.stop = Some(Stop::End);
                        return Ok(());
                    }
                    s.sampler = value_sampler(self.model, &seg.grammar)?;
                    let tokens = vocab.tokenize(seg.text.as_bytes(), false, false);
                    for (j, t) in tokens.iter().enumerate() {
                        batch
                            .add(*t, s.pos as i32, &[s.id], j + 1 == tokens.len())
                            .map_err(|e| compute("build a batch")(e.to_string()))?;
                        s.pos += 1;
                    }
                    s.logits = batch.n_tokens() - 1;
                    Ok(())
                }
                _ => {
                    s.stop = Some(Stop::End);
                    Ok(())
                }
            };
        }
        bytes.clear();
        vocab.token_to_piece_into(tok, bytes, false, None);
        let mut piece =
            String::with_capacity(s.decoder.max_utf8_buffer_length(bytes.len()).unwrap_or(16));
        let _ = s.decoder.decode_to_string(bytes, &mut piece, false);
        s.generated += 1;
        if !piece.is_empty() {
            s.first_token_ms
                .get_or_insert_with(|| started.elapsed().as_secs_f64() * 1e3);
            on_piece(s.req, &piece);
            s.text.push_str(&piece);
        }
        if s.grammar && grammar_done(&format!("{}{}", s.prefix, s.text)) {
            s.stop = Some(Stop::End);
        } else if s.generated >= s.max {
            s.stop = Some(Stop::MaxTokens);
        } else {
            s.logits = batch.n_tokens();
            batch
                .add(tok, s.pos as i32, &[s.id], true)
                .map_err(|e| compute("build a batch")(e.to_string()))?;
            s.pos += 1;
        }
        Ok(())
    }

    /// The request's prompt as tokens, its reply prefix included, and
    /// where the probe's tokens lie in it.
    fn request_tokens(
        &self,
        req: &GenRequest,
    ) -> Result<(Vec<LlamaToken>, Option<std::ops::Range<usize>>)> {
        let mut tokens = self.prompt_tokens(&req.messages)?;
        let vocab = self.model.vocab();
        let text = req.reply_prefix.as_str();
        let probe = req
            .probe
            .clone()
            .filter(|r| r.start < r.end && r.end <= text.len())
            .filter(|r| text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        let Some(r) = probe else {
            tokens.extend(vocab.tokenize(text.as_bytes(), false, false));
            return Ok((tokens, None));
        };
        // Tokenized in three parts so that the probe's tokens are its own.
        tokens.extend(vocab.tokenize(&text.as_bytes()[..r.start], false, false));
        let start = tokens.len();
        tokens.extend(vocab.tokenize(text[r.clone()].as_bytes(), false, false));
        let end = tokens.len();
        tokens.extend(vocab.tokenize(&text.as_bytes()[r.end..], false, false));
        Ok((tokens, (start < end && start > 0).then_some(start..end)))
    }

    /// Prompt tokens of the request's fixed leading messages (0 if none,
    /// or if they are not a prefix of the whole prompt's tokens).
    fn fixed_len(&self, req: &GenRequest, prompt: &[LlamaToken]) -> usize {
        if req.fixed_messages == 0 || !self.chatml {
            return 0;
        }
        let n = req.fixed_messages.min(req.messages.len());
        let vocab = self.model.vocab();
        let mut fixed = Vec::new();
        for m in &req.messages[..n] {
            fixed.extend(self.message_tokens(&vocab, m));
        }
        if prompt.starts_with(&fixed) {
            fixed.len()
        } else {
            0
        }
    }

    fn cancelled(
        &self,
        prompts: &[Vec<LlamaToken>],
        reused: usize,
        started: Instant,
    ) -> Vec<Generated> {
        prompts
            .iter()
            .map(|p| Generated {
                text: String::new(),
                prompt_tokens: p.len(),
                reused_tokens: reused,
                generated_tokens: 0,
                prompt_ms: 0.0,
                first_token_ms: None,
                total_ms: started.elapsed().as_secs_f64() * 1e3,
                stop: Stop::Cancelled,
                probe_logprob: None,
            })
            .collect()
    }

    fn sampler(&self, req: &GenRequest) -> Result<Picker> {
        if req.temperature <= 0.0 {
            return match &req.grammar {
                Some(g) => value_sampler(self.model, g),
                None => Ok(Picker::Greedy { grammar: None }),
            };
        }
        let mut chain = Vec::new();
        if let Some(g) = &req.grammar {
            chain.push(
                LlamaSampler::grammar(self.model, g, "root")
                    .map_err(|e| Error::Grammar(e.to_string()))?,
            );
        }
        chain.push(LlamaSampler::top_k(40));
        chain.push(LlamaSampler::top_p(0.9, 1));
        chain.push(LlamaSampler::temp(req.temperature));
        chain.push(LlamaSampler::dist(req.seed));
        Ok(Picker::Chain(LlamaSampler::chain_simple(chain)))
    }

    /// One ChatML message as tokens: markers as special tokens, the
    /// contents as plain text ("<|im_end|>" inside a title is just
    /// characters here).
    fn message_tokens(
        &self,
        vocab: &llama_cpp_2::vocab::LlamaVocab,
        m: &ChatMessage,
    ) -> Vec<LlamaToken> {
        let role = if matches!(m.role.as_str(), "system" | "user" | "assistant") {
            m.role.as_str()
        } else {
            "user"
        };
        let mut out = vocab.tokenize(format!("<|im_start|>{role}\n").as_bytes(), false, true);
        out.extend(vocab.tokenize(m.content.as_bytes(), false, false));
        out.extend(vocab.tokenize(b"<|im_end|>\n", false, true));
        out
    }

    /// The chat prompt as tokens, ending with the assistant's turn opening.
    fn prompt_tokens(&self, messages: &[ChatMessage]) -> Result<Vec<LlamaToken>> {
        let vocab = self.model.vocab();
        if self.chatml {
            let mut out = Vec::new();
            for m in messages {
                out.extend(self.message_tokens(&vocab, m));
            }
            out.extend(vocab.tokenize(b"<|im_start|>assistant\n", false, true));
            return Ok(out);
        }
        let template = self
            .model
            .chat_template(None)
            .map_err(|e| compute("read the chat template")(e.to_string()))?;
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.clone(), defuse(&m.content)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| compute("build the chat")(e.to_string()))?;
        let prompt = self
            .model
            .apply_chat_template(&template, &chat, true)
            .map_err(|e| compute("apply the chat template")(e.to_string()))?;
        Ok(vocab.tokenize(prompt.as_bytes(), true, true))
    }
}

/// A greedy picker held to a grammar.
fn value_sampler(model: &LlamaModel, grammar: &str) -> Result<Picker> {
    Ok(Picker::Greedy {
        grammar: Some(
            LlamaSampler::grammar(model, grammar, "root")
                .map_err(|e| Error::Grammar(e.to_string()))?,
        ),
    })
}

/// How a reply's next token is chosen.
enum Picker {
    /// The likeliest token the grammar allows. The grammar is asked about
    /// the likeliest token first and only walks the whole vocabulary
    /// (152k tokens for Qwen2.5) when it refuses it, as llama.cpp's own
    /// sampler does: matching every token against a grammar at every step
    /// cost more than the model's forward pass on two cores.
    Greedy { grammar: Option<LlamaSampler> },
    /// A sampler chain (temperature above 0).
    Chain(LlamaSampler),
}

impl Picker {
    fn pick(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> LlamaToken {
        let grammar = match self {
            Picker::Chain(s) => return s.sample(ctx, idx),
            Picker::Greedy { grammar } => grammar,
        };
        let logits = ctx.get_logits_ith(idx);
        let best = logits
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(LlamaToken(0), |(i, _)| LlamaToken(i as i32));
        let Some(g) = grammar else { return best };
        let mut one = LlamaTokenDataArray::new(
            vec![LlamaTokenData::new(best, logits[best.0 as usize], 0.0)],
            false,
        );
        g.apply(&mut one);
        let token = if one.data[0].logit().is_finite() {
            best
        } else {
            let mut all = LlamaTokenDataArray::from_iter(
                logits
                    .iter()
                    .enumerate()
                    .map(|(i, l)| LlamaTokenData::new(LlamaToken(i as i32), *l, 0.0)),
                false,
            );
            g.apply(&mut all);
            all.data
                .iter()
                .filter(|d| d.logit().is_finite())
                .max_by(|a, b| a.logit().total_cmp(&b.logit()))
                .map_or(best, |d| d.id())
        };
        g.accept(token);
        token
    }
}

/// Breaks up sequences that chat templates use as control markers, and
/// drops NUL bytes, so that message contents stay plain text.
pub(crate) fn defuse(s: &str) -> String {
    s.replace('\0', "")
        .replace("<|", "< |")
        .replace("|>", "| >")
        .replace("[INST]", "[ INST]")
        .replace("[/INST]", "[/ INST]")
        .replace("<s>", "< s>")
        .replace("</s>", "< /s>")
}

/// A grammar-held reply is complete once its top-level JSON value closes;
/// some small models would otherwise keep sampling whitespace.
fn grammar_done(text: &str) -> bool {
    let t = text.trim();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return false;
    }
    let (mut depth, mut in_str, mut esc) = (0i32, false, false);
    for c in t.chars() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_completion_is_seen_through_strings() {
        assert!(grammar_done(r#"{"a": "}{"}"#));
        assert!(!grammar_done(r#"{"a": "x"#));
        assert!(!grammar_done(r#"{"a": ["#));
        assert!(grammar_done(r#"[{"a": "\"}"}]"#));
        assert!(!grammar_done("plain"));
    }

    #[test]
    fn leading_replies_go_alone_then_the_rest_in_batches() {
        assert_eq!(batches(4, 1, 4), vec![0..1, 1..4]);
        assert_eq!(batches(6, 1, 4), vec![0..1, 1..5, 5..6]);
        assert_eq!(batches(5, 0, 4), vec![0..4, 4..5]);
        assert_eq!(batches(1, 2, 4), vec![0..1]);
        assert_eq!(batches(3, 0, 0), vec![0..1, 1..2, 2..3]);
        assert!(batches(0, 1, 4).is_empty());
    }

    #[test]
    fn markers_in_contents_are_defused() {
        let d = defuse("<|im_end|><|im_start|>system\0 [INST] </s>");
        assert!(!d.contains("<|") && !d.contains("|>") && !d.contains('\0'));
        assert!(!d.contains("[INST]") && !d.contains("</s>"));
    }
}
