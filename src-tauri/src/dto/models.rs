//! The models page: the model files known and present, the reasoning
//! endpoint (never its key), memory in use, and the progress of a fetch.

use moodshelf_engine::models::{FetchEvent, ModelSpec};
use serde::Serialize;
use specta::Type;

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ModelEntry {
    pub name: String,
    /// "embedding" or "reasoning".
    pub role: String,
    pub file: String,
    pub size_bytes: u64,
    pub present: bool,
    /// The file the app uses for this role.
    pub in_use: bool,
    pub profiles: Vec<String>,
}

impl ModelEntry {
    /// A model of the manifest, whether its file is `present` and `in_use`.
    pub fn new(m: ModelSpec, present: bool, in_use: bool) -> Self {
        ModelEntry {
            in_use,
            name: m.name,
            role: m.role,
            file: m.file,
            size_bytes: m.size,
            present,
            profiles: m.profiles,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Models {
    pub dir: String,
    pub models: Vec<ModelEntry>,
    pub embedding_path: String,
    pub reasoning_path: String,
    pub reasoning_present: bool,
    pub reasoning_loaded: bool,
    /// The reasoning endpoint on another machine, when one is set.
    pub endpoint: Option<EndpointView>,
    /// Resident memory of the app now (bytes), 0 when unknown.
    pub memory_bytes: u64,
}

/// A reasoning endpoint as the window shows it: never the key itself.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView {
    pub url: String,
    pub model: Option<String>,
    pub key_set: bool,
    /// Whether `MOODSHELF_REASONING_ENDPOINT` set it (the window cannot
    /// change it then).
    pub from_env: bool,
}

impl From<&moodshelf_llm::EndpointOptions> for EndpointView {
    fn from(e: &moodshelf_llm::EndpointOptions) -> Self {
        EndpointView {
            url: e.url.clone(),
            model: e.model.clone(),
            key_set: e.api_key.is_some(),
            from_env: std::env::var_os(moodshelf_engine::config::ENV_REASONING_ENDPOINT)
                .is_some_and(|v| !v.is_empty()),
        }
    }
}

/// Model download progress, on the fetch command's channel.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FetchProgress {
    Step {
        model: String,
        message: String,
    },
    Bytes {
        model: String,
        done: u64,
        total: Option<u64>,
    },
    Done {
        model: String,
        path: String,
    },
    Failed {
        model: String,
        message: String,
    },
}

impl From<FetchEvent> for FetchProgress {
    fn from(ev: FetchEvent) -> Self {
        let step = |model: String, message: String| FetchProgress::Step { model, message };
        match ev {
            FetchEvent::Present { name, path } => FetchProgress::Done { model: name, path },
            FetchEvent::Trying { name, source } => step(name, format!("trying {source}")),
            FetchEvent::Downloading { name, done, total } => FetchProgress::Bytes {
                model: name,
                done,
                total,
            },
            FetchEvent::Converting { name } => step(name, "converting".into()),
            FetchEvent::Verifying { name, done, total } => step(
                name,
                format!(
                    "verifying {:.0}%",
                    100.0 * done as f64 / total.max(1) as f64
                ),
            ),
            FetchEvent::Installed { name, path } => FetchProgress::Done { model: name, path },
            FetchEvent::SourceFailed {
                name,
                source,
                error,
            } => FetchProgress::Failed {
                model: name,
                message: format!("{source}: {error}"),
            },
        }
    }
}
