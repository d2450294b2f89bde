//! The one error shape that crosses into the hosts: a small [`Code`] a UI
//! can act on, and a message a person can read. Hosts never match on
//! message text.

use serde::Serialize;

/// What kind of failure this is, for hosts to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Code {
    /// A model file is not in the models dir: run `moodshelf models fetch`.
    ModelMissing,
    /// A library folder is missing or unreadable.
    LibraryUnavailable,
    /// The index is being rebuilt or scanned and cannot answer yet.
    IndexBusy,
    /// The index does not exist yet: scan first.
    IndexEmpty,
    /// The request itself is wrong (unknown path, bad option).
    InvalidInput,
    /// A download or fetch failed (network, checksum).
    FetchFailed,
    /// Anything else: a bug or an environment problem, see the message.
    Internal,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: Code,
    pub message: String,
    #[source]
    pub source: Option<anyhow::Error>,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            source: None,
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Error {
        let err = err.into();
        Error {
            code: Code::Internal,
            message: format!("{err:#}"),
            source: Some(err),
        }
    }
}

impl From<moodshelf_catalog::Error> for Error {
    fn from(e: moodshelf_catalog::Error) -> Self {
        match e {
            moodshelf_catalog::Error::UnknownRoot(p) => {
                Error::new(Code::InvalidInput, format!("{p} is not in the library"))
            }
            moodshelf_catalog::Error::Invalid(why) => Error::new(Code::InvalidInput, why),
            other => Error::internal(other),
        }
    }
}

impl From<moodshelf_index::Error> for Error {
    fn from(e: moodshelf_index::Error) -> Self {
        Error::internal(e)
    }
}

impl From<moodshelf_llm::Error> for Error {
    fn from(e: moodshelf_llm::Error) -> Self {
        match e {
            moodshelf_llm::Error::ModelMissing { path } => Error::new(
                Code::ModelMissing,
                format!(
                    "model file {} is missing; run `moodshelf models fetch`",
                    path.display()
                ),
            ),
            // Said as it is: the URL and what went wrong, never a key.
            e @ moodshelf_llm::Error::Endpoint { .. } => Error::new(Code::Internal, e.to_string()),
            other => Error::internal(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
