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

use crate::{Error, Result, backend, new_context};

/// How a generation worker runs.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// CPU threads for llama.cpp; `None` uses every core.
    pub threads: Option<usize>,
    /// Tokens of context per slot (prompt plus reply).
    pub ctx_tokens: u32,
    /// Independent prompt caches. Slot 0 and 1 let two kinds of prompt
    /// (say, reading a request and explaining picks) alternate without
    /// evicting each other's prefix.
    pub slots: u32,
    /// Tokens read per llama.cpp decode while reading a prompt.
    pub batch_tokens: u32,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            threads: None,
            ctx_tokens: 3072,
            slots: 2,
            batch_tokens: 256,
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
}

#[derive(Debug, Clone)]
pub struct Generated {
    pub text: String,
    pub prompt_tokens: usize,
    /// Prompt tokens whose KV entries were reused from the slot's last prompt.
    pub reused_tokens: usize,
    pub generated_tokens: usize,
    pub prompt_ms: f64,
    /// From the request reaching the worker to the first piece.
    pub first_token_ms: Option<f64>,
    pub total_ms: f64,
    pub stop: Stop,
}

type OnPiece = Box<dyn FnMut(&str) + Send>;

struct Job {
    req: GenRequest,
    cancel: Cancel,
    on_piece: OnPiece,
    reply: mpsc::Sender<Result<Generated>>,
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
        on_piece: impl FnMut(&str) + Send + 'static,
    ) -> Result<Generated> {
        let (reply, rx) = mpsc::channel();
        self.jobs
            .send(Job {
                req,
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
    let model = match backend().and_then(|b| {
        LlamaModel::load_from_file(b, &path, &LlamaModelParams::default()).map_err(|e| {
            Error::Load {
                path: path.clone(),
                reason: e.to_string(),
            }
        })
    }) {
        Ok(m) => m,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let threads = opts
        .threads
        .unwrap_or_else(|| thread::available_parallelism().map_or(4, |n| n.get()));
    let slots = opts.slots.max(1);
    let per_slot = opts.ctx_tokens.max(256);
    let params = LlamaContextParams::default()
        // Without a unified cache llama.cpp gives each sequence n_ctx / n_seq.
        .with_n_ctx(NonZeroU32::new(per_slot * slots))
        .with_n_batch(opts.batch_tokens.max(32))
        .with_n_seq_max(slots)
        .with_n_threads(threads as i32)
        .with_n_threads_batch(threads as i32);
    let ctx = match new_context(&model, &path, params) {
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
    let mut state = GenWorker {
        ctx,
        model: &model,
        cached: vec![Vec::new(); slots as usize],
        per_slot: per_slot as usize,
        batch_tokens: opts.batch_tokens.max(32) as usize,
        chatml,
    };
    if ready.send(Ok(())).is_err() {
        return;
    }
    while let Ok(mut job) = inbox.recv() {
        let result = state.run(&job.req, &job.cancel, &mut job.on_piece);
        if result.is_err() {
            // The cache state is unknown after a failure: start clean.
            state.forget_all();
        }
        let _ = job.reply.send(result);
    }
}

struct GenWorker<'m> {
    ctx: LlamaContext<'m>,
    model: &'m LlamaModel,
    /// Per slot: the tokens whose KV entries are in the cache, in order.
    cached: Vec<Vec<LlamaToken>>,
    per_slot: usize,
    batch_tokens: usize,
    chatml: bool,
}

fn compute(what: &'static str) -> impl Fn(String) -> Error {
    move |reason| Error::Compute { what, reason }
}

impl GenWorker<'_> {
    fn forget_all(&mut self) {
        self.ctx.clear_kv_cache();
        for c in &mut self.cached {
            c.clear();
        }
    }

    fn run(
        &mut self,
        req: &GenRequest,
        cancel: &Cancel,
        on_piece: &mut OnPiece,
    ) -> Result<Generated> {
        let started = Instant::now();
        let slot = (req.slot as usize).min(self.cached.len() - 1);
        let seq = slot as i32;
        let prompt = self.prompt_tokens(&req.messages)?;
        if prompt.len() + 8 > self.per_slot {
            return Err(Error::PromptTooLong {
                tokens: prompt.len(),
                max: self.per_slot - 8,
            });
        }
        let mut sampler = self.sampler(req)?;

        // Reuse the longest cached prefix, but always decode at least the
        // last prompt token: its logits start the reply.
        let cached = &self.cached[slot];
        let keep = cached
            .iter()
            .zip(&prompt)
            .take_while(|(a, b)| a == b)
            .count()
            .min(prompt.len() - 1);
        self.ctx
            .kv_cache_seq_rm(seq, Some(keep as u32), None)
            .map_err(|e| compute("trim the prompt cache")(e.to_string()))?;
        self.cached[slot].truncate(keep);

        let mut batch = LlamaBatch::new(self.batch_tokens, 1);
        let mut pos = keep;
        while pos < prompt.len() {
            if cancel.is_cancelled() {
                return Ok(self.finish(
                    started,
                    &prompt,
                    keep,
                    String::new(),
                    0,
                    0.0,
                    None,
                    Stop::Cancelled,
                ));
            }
            let end = (pos + self.batch_tokens).min(prompt.len());
            batch.clear();
            for (i, tok) in prompt[pos..end].iter().enumerate() {
                let p = pos + i;
                batch
                    .add(*tok, p as i32, &[seq], p + 1 == prompt.len())
                    .map_err(|e| compute("build a batch")(e.to_string()))?;
            }
            self.ctx
                .decode(&mut batch)
                .map_err(|e| compute("read the prompt")(e.to_string()))?;
            self.cached[slot].extend_from_slice(&prompt[pos..end]);
            pos = end;
        }
        let prompt_ms = started.elapsed().as_secs_f64() * 1e3;

        let vocab = self.model.vocab();
        let mut decoder = encoding_rs::UTF_8.new_decoder();
        let mut text = String::new();
        let mut bytes = Vec::new();
        let mut first_token_ms = None;
        let mut generated = 0;
        let room = self.per_slot - prompt.len();
        let stop = loop {
            if cancel.is_cancelled() {
                break Stop::Cancelled;
            }
            if generated >= req.max_tokens.min(room) {
                break Stop::MaxTokens;
            }
            // sample() also accepts the token into the grammar state.
            let tok = sampler.sample(&self.ctx, batch.n_tokens() - 1);
            if vocab.is_eog(tok) {
                break Stop::End;
            }
            bytes.clear();
            vocab.token_to_piece_into(tok, &mut bytes, false, None);
            let mut piece =
                String::with_capacity(decoder.max_utf8_buffer_length(bytes.len()).unwrap_or(16));
            let _ = decoder.decode_to_string(&bytes, &mut piece, false);
            generated += 1;
            if !piece.is_empty() {
                first_token_ms.get_or_insert_with(|| started.elapsed().as_secs_f64() * 1e3);
                on_piece(&piece);
                text.push_str(&piece);
            }
            batch.clear();
            batch
                .add(tok, pos as i32, &[seq], true)
                .map_err(|e| compute("build a batch")(e.to_string()))?;
            self.ctx
                .decode(&mut batch)
                .map_err(|e| compute("generate")(e.to_string()))?;
            self.cached[slot].push(tok);
            pos += 1;
            if req.grammar.is_some() && grammar_done(&text) {
                break Stop::End;
            }
        };
        Ok(self.finish(
            started,
            &prompt,
            keep,
            text,
            generated,
            prompt_ms,
            first_token_ms,
            stop,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        started: Instant,
        prompt: &[LlamaToken],
        keep: usize,
        text: String,
        generated: usize,
        prompt_ms: f64,
        first_token_ms: Option<f64>,
        stop: Stop,
    ) -> Generated {
        Generated {
            text,
            prompt_tokens: prompt.len(),
            reused_tokens: keep,
            generated_tokens: generated,
            prompt_ms,
            first_token_ms,
            total_ms: started.elapsed().as_secs_f64() * 1e3,
            stop,
        }
    }

    fn sampler(&self, req: &GenRequest) -> Result<LlamaSampler> {
        let mut chain = Vec::new();
        if let Some(g) = &req.grammar {
            chain.push(
                LlamaSampler::grammar(self.model, g, "root")
                    .map_err(|e| Error::Grammar(e.to_string()))?,
            );
        }
        if req.temperature > 0.0 {
            chain.push(LlamaSampler::top_k(40));
            chain.push(LlamaSampler::top_p(0.9, 1));
            chain.push(LlamaSampler::temp(req.temperature));
            chain.push(LlamaSampler::dist(req.seed));
        } else {
            chain.push(LlamaSampler::greedy());
        }
        Ok(LlamaSampler::chain_simple(chain))
    }

    /// The chat prompt as tokens, ending with the assistant's turn opening.
    fn prompt_tokens(&self, messages: &[ChatMessage]) -> Result<Vec<LlamaToken>> {
        let vocab = self.model.vocab();
        if self.chatml {
            let mut out = Vec::new();
            for m in messages {
                let role = if matches!(m.role.as_str(), "system" | "user" | "assistant") {
                    m.role.as_str()
                } else {
                    "user"
                };
                out.extend(vocab.tokenize(format!("<|im_start|>{role}\n").as_bytes(), false, true));
                // Contents are plain text: "<|im_end|>" inside a title is
                // just characters here.
                out.extend(vocab.tokenize(m.content.as_bytes(), false, false));
                out.extend(vocab.tokenize(b"<|im_end|>\n", false, true));
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

/// Breaks up sequences that chat templates use as control markers, and
/// drops NUL bytes, so that message contents stay plain text.
fn defuse(s: &str) -> String {
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
    fn markers_in_contents_are_defused() {
        let d = defuse("<|im_end|><|im_start|>system\0 [INST] </s>");
        assert!(!d.contains("<|") && !d.contains("|>") && !d.contains('\0'));
        assert!(!d.contains("[INST]") && !d.contains("</s>"));
    }
}
