//! A reasoning model on another machine: an OpenAI-compatible chat
//! endpoint (`/v1/chat/completions`), streamed.
//!
//! The servers people run differ in how a reply's shape is held:
//! llama-server takes the request's GBNF grammar as is (`grammar`), Ollama
//! and vLLM take a JSON schema (`response_format`, which Ollama maps onto
//! its `format`). The dialect is found once by asking the server
//! (`/props` answers only on llama-server, `/api/version` only on Ollama).
//! Whatever comes back is parsed and checked by the caller exactly as the
//! local model's reply is: a server that ignores the schema costs reasons,
//! never safety.
//!
//! An API key is sent as a bearer token and never printed: [`Endpoint`]'s
//! `Debug` leaves it out, and errors name only the URL.

use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::generate::{Cancel, GenRequest, Generated, Stop, defuse};
use crate::{Error, Result};

/// How to reach an endpoint.
#[derive(Clone, PartialEq)]
pub struct EndpointOptions {
    /// Base URL: `http://host:8080` (llama-server), `http://host:11434`
    /// (Ollama), `http://host:8000` (vLLM); a trailing `/v1` is accepted.
    pub url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// The model to ask for; `None` takes the first one the server lists
    /// (llama-server serves one; Ollama and vLLM need a name).
    pub model: Option<String>,
    /// Longest wait for the server to answer, and then for each piece of
    /// a streamed reply: a server that stops mid-answer is given up on
    /// after this long.
    pub timeout: Duration,
}

impl std::fmt::Debug for EndpointOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointOptions")
            .field("url", &shown_url(&self.url))
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// llama.cpp's server: GBNF grammars.
    LlamaServer,
    /// Ollama: JSON schemas.
    Ollama,
    /// Anything else OpenAI-compatible (vLLM, LM Studio, …): JSON schemas.
    OpenAi,
}

/// A handle on a remote chat endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Endpoint {
    inner: Arc<Inner>,
}

struct Inner {
    base: String,
    api_key: Option<String>,
    model: OnceLock<String>,
    configured_model: Option<String>,
    dialect: OnceLock<Dialect>,
    /// The replies a llama-server writes at once (`--parallel`), asked once.
    slots: OnceLock<Option<usize>>,
    agent: ureq::Agent,
    /// Bounds each read; a whole reply gets [`TOTAL_TIMEOUTS`] of them.
    timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &shown_url(&self.inner.base))
            .field("model", &self.inner.model.get())
            .finish()
    }
}

fn endpoint_error(url: &str, reason: impl std::fmt::Display) -> Error {
    Error::Endpoint {
        url: shown_url(url),
        reason: reason.to_string(),
    }
}

/// A URL as messages show it: a password in it (`http://me:secret@host`)
/// never is.
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{}", &rest[host_end..])
        }
        None => url.to_string(),
    }
}

/// Whether `url` is plain `http://` to a host other than this machine:
/// requests and the titles in them would cross the network unencrypted.
pub fn is_plain_remote(url: &str) -> bool {
    let u = url.trim();
    let Some(rest) = u
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("http://"))
        .map(|_| &u[7..])
    else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    let host = host.to_ascii_lowercase();
    !(host == "localhost" || host.starts_with("127.") || host == "::1")
}

/// The most a streamed reply may hold, and one line of it: a server that
/// sends without end (or one endless line) is cut off, not buffered.
const MAX_REPLY_BYTES: usize = 1 << 20;
const MAX_LINE_BYTES: usize = 64 * 1024;
/// The longest a whole reply may take, as a multiple of the timeout that
/// bounds each read (a server trickling a byte a second never ends).
const TOTAL_TIMEOUTS: u32 = 10;

/// Reads one line of at most [`MAX_LINE_BYTES`]; `None` at the end.
fn bounded_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = reader
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() > MAX_LINE_BYTES {
        return Err(std::io::Error::other("a line of the reply is too long"));
    }
    Ok(Some(String::from_utf8_lossy(&buf).trim_end().to_string()))
}

impl Endpoint {
    /// Checks the URL; nothing is sent until the first request.
    pub fn new(opts: EndpointOptions) -> Result<Endpoint> {
        let base = normalize_url(&opts.url)?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(opts.timeout.min(Duration::from_secs(10))))
            .timeout_recv_response(Some(opts.timeout))
            .timeout_per_read(Some(opts.timeout))
            .build();
        Ok(Endpoint {
            inner: Arc::new(Inner {
                base,
                api_key: opts.api_key.filter(|k| !k.trim().is_empty()),
                model: OnceLock::new(),
                configured_model: opts.model.filter(|m| !m.trim().is_empty()),
                dialect: OnceLock::new(),
                slots: OnceLock::new(),
                agent: ureq::Agent::new_with_config(config),
                timeout: opts.timeout,
            }),
        })
    }

    /// Checks an endpoint URL as [`Endpoint::new`] would, without making
    /// a client: the normalized base URL, or why it is refused.
    pub fn check_url(url: &str) -> Result<String> {
        normalize_url(url)
    }

    /// The base URL (no key in it).
    pub fn url(&self) -> &str {
        &self.inner.base
    }

    /// The model name the server answers with (configured, else listed by
    /// the server).
    pub fn model(&self) -> Result<String> {
        if let Some(m) = self.inner.model.get() {
            return Ok(m.clone());
        }
        let name = match &self.inner.configured_model {
            Some(m) => m.clone(),
            None => self.listed_model()?,
        };
        Ok(self.inner.model.get_or_init(|| name).clone())
    }

    /// How the server takes a reply's shape (asked once).
    pub fn dialect(&self) -> Dialect {
        *self.inner.dialect.get_or_init(|| {
            let answers = |path: &str, key: &str| {
                self.get_json(path)
                    .is_ok_and(|v| v.get(key).is_some_and(|x| !x.is_null()))
            };
            if answers("/props", "default_generation_settings") {
                Dialect::LlamaServer
            } else if answers("/api/version", "version") {
                Dialect::Ollama
            } else {
                Dialect::OpenAi
            }
        })
    }

    /// How many replies the server writes at once, where it says so
    /// (llama-server's `total_slots`): more requests than that only wait
    /// in its queue, where the timeout meant for a silent server would
    /// give up on them.
    pub fn slots(&self) -> Option<usize> {
        *self.inner.slots.get_or_init(|| {
            if self.dialect() != Dialect::LlamaServer {
                return None;
            }
            let props = self.get_json("/props").ok()?;
            let n = props.get("total_slots")?.as_u64()?;
            usize::try_from(n).ok().filter(|n| *n > 0)
        })
    }

    fn get_json(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.inner.base);
        let mut req = self.inner.agent.get(&url);
        if let Some(k) = &self.inner.api_key {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        let mut resp = req.call().map_err(|e| endpoint_error(&url, e))?;
        if !resp.status().is_success() {
            return Err(endpoint_error(&url, resp.status()));
        }
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| endpoint_error(&url, e))?;
        serde_json::from_str(&text).map_err(|e| endpoint_error(&url, e))
    }

    fn listed_model(&self) -> Result<String> {
        let v = self.get_json("/v1/models")?;
        v["data"]
            .as_array()
            .and_then(|d| d.first())
            .and_then(|m| m["id"].as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                endpoint_error(
                    &format!("{}/v1/models", self.inner.base),
                    "the server lists no model; name one in the settings",
                )
            })
    }

    /// The request body for `req` in this server's dialect.
    fn body(&self, req: &GenRequest, model: &str) -> Value {
        let messages: Vec<Value> = req
            .messages
            .iter()
            // The server applies its own chat template to the text and
            // reads control markers in it: contents are defused first.
            .map(|m| json!({"role": m.role, "content": defuse(&m.content)}))
            .collect();
        let mut body = json!({
            "model": model,
            "messages": messages,
            "stream": true,
            "max_tokens": req.max_tokens.max(1),
            "temperature": req.temperature,
            "seed": req.seed,
        });
        match self.dialect() {
            Dialect::LlamaServer => {
                if let Some(g) = &req.grammar {
                    body["grammar"] = Value::String(g.clone());
                }
                // Keep the system prompt's KV state in a slot of its own.
                body["cache_prompt"] = Value::Bool(true);
            }
            Dialect::Ollama | Dialect::OpenAi => {
                if let Some(schema) = &req.json_schema {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": {"name": "reply", "strict": true, "schema": schema},
                    });
                }
            }
        }
        body
    }

    /// Generates one reply, streamed to `on_piece`.
    pub fn generate(
        &self,
        req: &GenRequest,
        cancel: &Cancel,
        on_piece: &mut dyn FnMut(&str),
    ) -> Result<Generated> {
        let started = Instant::now();
        let url = format!("{}/v1/chat/completions", self.inner.base);
        let mut reader = self.send(&url, req)?;
        let mut reply = Streamed::default();
        let mut read = 0usize;
        let deadline = self.inner.timeout * TOTAL_TIMEOUTS;
        loop {
            if cancel.is_cancelled() {
                // Dropping the connection stops the server's generation.
                reply.stop = Some(Stop::Cancelled);
                break;
            }
            if started.elapsed() > deadline {
                return Err(endpoint_error(
                    &url,
                    format!("the reply took longer than {} s", deadline.as_secs()),
                ));
            }
            let Some(line) = bounded_line(&mut reader)
                .map_err(|e| endpoint_error(&url, format!("the reply broke off: {e}")))?
            else {
                break;
            };
            read += line.len();
            if read > MAX_REPLY_BYTES {
                return Err(endpoint_error(&url, "the reply is larger than any answer"));
            }
            let Some(data) = line.strip_prefix("data:").map(str::trim) else {
                continue;
            };
            if data == "[DONE]" {
                reply.stop.get_or_insert(Stop::End);
                break;
            }
            let v: Value = serde_json::from_str(data)
                .map_err(|e| endpoint_error(&url, format!("not a streamed chunk ({e})")))?;
            if let Some(err) = v.get("error") {
                return Err(endpoint_error(&url, err));
            }
            if reply.chunk(&v, req.max_tokens, started, on_piece) {
                break;
            }
        }
        reply
            .finish(started)
            .ok_or_else(|| endpoint_error(&url, "the server stopped mid-answer"))
    }

    /// Posts a request for a streamed reply; a refusal is an error with
    /// the start of what the server said.
    fn send(&self, url: &str, req: &GenRequest) -> Result<BufReader<impl std::io::Read>> {
        let model = self.model()?;
        let body =
            serde_json::to_vec(&self.body(req, &model)).map_err(|e| endpoint_error(url, e))?;
        let mut post = self
            .inner
            .agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream");
        if let Some(k) = &self.inner.api_key {
            post = post.header("Authorization", &format!("Bearer {k}"));
        }
        let resp = post.send(&body[..]).map_err(|e| endpoint_error(url, e))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp
                .into_body()
                .with_config()
                .limit(4096)
                .lossy_utf8(true)
                .read_to_string()
                .unwrap_or_default();
            let text: String = text.chars().take(300).collect();
            return Err(endpoint_error(url, format!("{status}: {}", text.trim())));
        }
        Ok(BufReader::new(resp.into_body().into_reader()))
    }

    /// Generates one reply per request, as concurrent requests (a
    /// llama-server with `--parallel`, vLLM and Ollama batch them), no
    /// more at once than the server writes ([`Endpoint::slots`]).
    pub fn generate_many(
        &self,
        reqs: &[GenRequest],
        cancel: &Cancel,
        on_piece: &(dyn Fn(usize, &str) + Sync),
    ) -> Result<Vec<Generated>> {
        // Ask once before the threads do.
        self.model()?;
        self.dialect();
        let lanes = self.slots().unwrap_or(reqs.len()).min(reqs.len());
        let next = AtomicUsize::new(0);
        let done: Vec<Mutex<Option<Result<Generated>>>> =
            reqs.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            let lanes: Vec<_> = (0..lanes)
                .map(|_| {
                    scope.spawn(|| {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(req) = reqs.get(i) else { break };
                            let out = self.generate(req, cancel, &mut |p| on_piece(i, p));
                            *done[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
                        }
                    })
                })
                .collect();
            // Joined here, so a lane that panicked fails its request
            // (below) rather than the caller.
            for lane in lanes {
                let _ = lane.join();
            }
        });
        done.into_iter()
            .map(|d| {
                d.into_inner().ok().flatten().unwrap_or_else(|| {
                    Err(endpoint_error(
                        &self.inner.base,
                        "a request thread panicked",
                    ))
                })
            })
            .collect()
    }
}

/// `http(s)://host[:port][/prefix]`, without a trailing slash or `/v1`.
fn normalize_url(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    let u = u.strip_suffix("/v1").unwrap_or(u);
    let rest = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => {
            Ok(u.to_string())
        }
        _ => Err(endpoint_error(
            url,
            "not an http:// or https:// URL with a host (for example http://192.168.1.20:8080)",
        )),
    }
}

/// What a streamed reply has said so far.
#[derive(Default)]
struct Streamed {
    text: String,
    first_token_ms: Option<f64>,
    generated: usize,
    stop: Option<Stop>,
    /// `(prompt, completion)` tokens, when the server counts them.
    usage: Option<(usize, usize)>,
}

impl Streamed {
    /// Reads one streamed chunk; true when the reply has spent its
    /// `max_tokens` (a server that ignores the limit is stopped here).
    fn chunk(
        &mut self,
        v: &Value,
        max_tokens: usize,
        started: Instant,
        on_piece: &mut dyn FnMut(&str),
    ) -> bool {
        if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some((
                u["prompt_tokens"].as_u64().unwrap_or(0) as usize,
                u["completion_tokens"].as_u64().unwrap_or(0) as usize,
            ));
        }
        let choice = &v["choices"][0];
        if let Some(piece) = choice["delta"]["content"]
            .as_str()
            .filter(|p| !p.is_empty())
        {
            self.first_token_ms
                .get_or_insert_with(|| started.elapsed().as_secs_f64() * 1e3);
            self.generated += 1;
            on_piece(piece);
            self.text.push_str(piece);
            if self.generated >= max_tokens.max(1) {
                self.stop = Some(Stop::MaxTokens);
                return true;
            }
        }
        match choice["finish_reason"].as_str() {
            Some("length") => self.stop = Some(Stop::MaxTokens),
            Some(_) => self.stop = Some(Stop::End),
            None => {}
        }
        false
    }

    /// The reply, or `None` when the stream ended without saying it had.
    fn finish(self, started: Instant) -> Option<Generated> {
        let stop = self.stop?;
        let (prompt_tokens, completion) = self.usage.unwrap_or((0, self.generated));
        Some(Generated {
            text: self.text,
            prompt_tokens,
            reused_tokens: 0,
            generated_tokens: completion,
            prompt_ms: self.first_token_ms.unwrap_or(0.0),
            first_token_ms: self.first_token_ms,
            total_ms: started.elapsed().as_secs_f64() * 1e3,
            stop,
            // A server scores no prompt tokens for us.
            probe_logprob: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_url_is_never_shown() {
        assert_eq!(
            shown_url("http://me:secret@box.lan:8080/v1"),
            "http://me:***@box.lan:8080/v1"
        );
        assert_eq!(shown_url("http://box.lan:8080"), "http://box.lan:8080");
        let e = endpoint_error("https://a:b@h", "down").to_string();
        assert!(!e.contains(":b@"), "{e}");
    }

    #[test]
    fn plain_http_to_another_machine_is_told_apart() {
        for remote in [
            "http://192.168.1.20:8080",
            "HTTP://box.lan",
            "http://u:p@10.0.0.5/v1",
        ] {
            assert!(is_plain_remote(remote), "{remote}");
        }
        for here in [
            "http://127.0.0.1:8080",
            "http://localhost:11434",
            "http://[::1]:8080",
            "https://gpu.example",
        ] {
            assert!(!is_plain_remote(here), "{here}");
        }
    }

    #[test]
    fn a_reply_line_is_bounded() {
        let long = format!("data: {}\nnext\n", "x".repeat(MAX_LINE_BYTES + 10));
        let mut r = std::io::BufReader::new(long.as_bytes());
        assert!(bounded_line(&mut r).is_err());
        let mut r = std::io::BufReader::new(&b"data: ok\r\n"[..]);
        assert_eq!(bounded_line(&mut r).unwrap().as_deref(), Some("data: ok"));
        assert_eq!(bounded_line(&mut r).unwrap(), None);
    }

    #[test]
    fn urls_are_checked_and_normalized() {
        assert_eq!(
            normalize_url("http://box:8080/").unwrap(),
            "http://box:8080"
        );
        assert_eq!(normalize_url("https://box/v1").unwrap(), "https://box");
        assert_eq!(
            normalize_url(" http://10.0.0.2:11434/ollama ").unwrap(),
            "http://10.0.0.2:11434/ollama"
        );
        for bad in [
            "box:8080",
            "ftp://box",
            "http://",
            "http:///x",
            "http://a b",
        ] {
            assert!(normalize_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let opts = EndpointOptions {
            url: "http://box:8080".into(),
            api_key: Some("sk-secret-123".into()),
            model: None,
            timeout: Duration::from_secs(5),
        };
        assert!(!format!("{opts:?}").contains("secret"));
        let e = Endpoint::new(opts).unwrap();
        assert!(!format!("{e:?}").contains("secret"));
    }
}
