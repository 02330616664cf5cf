//! What can go wrong in the engine, in terms the API maps to status codes.

use haplane_model::ResourceError;

use crate::commit::Problem;

#[derive(Debug, Clone, thiserror::Error)]
pub enum DataplaneError {
    /// The request named a version that is not the current one (409).
    #[error(
        "version mismatch: the configuration is at version {current}, the request gave {given}"
    )]
    VersionMismatch { current: u64, given: u64 },
    /// Neither a version nor a transaction was given (400).
    #[error("give either the version parameter or a transaction_id")]
    NoVersion,
    /// The transaction was started on an older version (406).
    #[error("transaction {id} is outdated: it was started on version {base}, the configuration is at version {current}")]
    Outdated { id: String, base: u64, current: u64 },
    #[error("transaction {0} not found")]
    TransactionNotFound(String),
    #[error("transaction {id} cannot be used: it is {status}")]
    TransactionClosed { id: String, status: String },
    /// Too many open transactions (429).
    #[error("too many open transactions: {0} at most")]
    TooManyTransactions(usize),
    /// A resource operation failed (404, 409, 400/422).
    #[error(transparent)]
    Resource(#[from] ResourceError),
    /// HAProxy refused the configuration (400).
    #[error("{message}")]
    Invalid {
        message: String,
        problems: Vec<Problem>,
    },
    /// The history does not keep that version (404).
    #[error("version {0} is not in the history")]
    VersionNotFound(u64),
    #[error("reload {0} not found")]
    ReloadNotFound(String),
    /// A managed file's name is not a plain name inside its directory (400).
    #[error("{0}")]
    BadFileName(String),
    /// A managed file's content is not what its kind needs (400).
    #[error("{0}")]
    BadFile(String),
    #[error("{0}")]
    FileNotFound(String),
    #[error("{0}")]
    FileExists(String),
    /// The configuration names the file (409).
    #[error("{0}")]
    FileInUse(String),
    /// The change would write a file the API may not write (403).
    #[error("{file} is read-only ({flag}): the change would write it")]
    ReadOnly { file: String, flag: &'static str },
    /// Something on the machine failed (500): files, processes.
    #[error("{0}")]
    Internal(String),
}

impl DataplaneError {
    pub(crate) fn io(what: impl std::fmt::Display, e: std::io::Error) -> DataplaneError {
        DataplaneError::Internal(format!("{what}: {e}"))
    }
}
