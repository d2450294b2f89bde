//! The one error shape every command returns, and how engine and catalog
//! errors become it.

use moodshelf_engine::{Code, Error};
use serde::Serialize;
use specta::Type;

/// The one error shape every command returns.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    ModelMissing,
    LibraryUnavailable,
    IndexBusy,
    IndexEmpty,
    InvalidInput,
    FetchFailed,
    Busy,
    Internal,
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        let code = match e.code {
            Code::ModelMissing => ErrorCode::ModelMissing,
            Code::LibraryUnavailable => ErrorCode::LibraryUnavailable,
            Code::IndexBusy => ErrorCode::IndexBusy,
            Code::IndexEmpty => ErrorCode::IndexEmpty,
            Code::InvalidInput => ErrorCode::InvalidInput,
            Code::FetchFailed => ErrorCode::FetchFailed,
            Code::Internal => ErrorCode::Internal,
        };
        AppError {
            code,
            message: e.message,
        }
    }
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::new(ErrorCode::Internal, e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A catalog error as the engine reports it (with the engine's code).
pub fn engine_err(e: moodshelf_catalog::Error) -> AppError {
    moodshelf_engine::Error::from(e).into()
}
