//! Errors of the index: each has a stable code and knows whether a retry
//! can help.

use std::path::PathBuf;

/// Everything the index can fail with.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A caller-supplied value is invalid (tenant id, sha256, vector size,
    /// filter value...).
    #[error("invalid index input: {0}")]
    InvalidInput(String),
    /// The embedded store's directory is held by another process.
    #[error(
        "the index at {dir} is in use by another process ({holder}); stop it, or point this \
         command at that process's server (`--server URL`), or use another data directory"
    )]
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// What the lock file says about its holder.
        holder: String,
    },
    /// The store exists but its layout (vectors, dimensions) is not the one
    /// this version expects.
    #[error("the index at {location} has an incompatible layout: {reason}")]
    LayoutMismatch {
        /// Directory or collection.
        location: String,
        /// What differs.
        reason: String,
    },
    /// An image id that does not exist in the tenant.
    #[error("image {0} not found")]
    NotFound(String),
    /// A stored record could not be read back (written by an incompatible
    /// version, or corrupted).
    #[error("stored record {id} is unreadable: {reason}")]
    CorruptRecord {
        /// The point id.
        id: String,
        /// Why.
        reason: String,
    },
    /// The engine or server refused or failed an operation.
    #[error("index engine error: {0}")]
    Engine(String),
    /// The server could not be reached or timed out.
    #[error("index server unavailable: {0}")]
    Unavailable(String),
    /// A file operation (lock, backup, restore) failed.
    #[error("index file error at {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A backup cannot be restored (missing manifest, wrong backend, target
    /// not empty).
    #[error("cannot restore: {0}")]
    Restore(String),
    /// The operation is not available on this backend.
    #[error("not supported by the {backend} backend: {what}")]
    Unsupported {
        /// Backend name.
        backend: &'static str,
        /// What was asked.
        what: String,
    },
}

impl IndexError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "index.invalid_input",
            Self::Locked { .. } => "index.locked",
            Self::LayoutMismatch { .. } => "index.layout_mismatch",
            Self::NotFound(_) => "index.not_found",
            Self::CorruptRecord { .. } => "index.corrupt_record",
            Self::Engine(_) => "index.engine_error",
            Self::Unavailable(_) => "index.unavailable",
            Self::Io { .. } => "index.io_error",
            Self::Restore(_) => "index.restore_refused",
            Self::Unsupported { .. } => "index.unsupported",
        }
    }

    /// Whether retrying the same operation later could help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Locked { .. } | Self::Unavailable(_) | Self::Io { .. } => true,
            Self::Engine(_) => true,
            Self::InvalidInput(_)
            | Self::LayoutMismatch { .. }
            | Self::NotFound(_)
            | Self::CorruptRecord { .. }
            | Self::Restore(_)
            | Self::Unsupported { .. } => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
