//! The binary's error type: wraps the library crates' errors and keeps their
//! stable codes, adding the binary's own (configuration, input files).

use std::path::PathBuf;

use imgtag_models::ModelError;
use imgtag_pipeline::PipelineError;

use crate::index::IndexError;
use crate::jobs::JobError;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The configuration is malformed or invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An input file could not be read.
    #[error("cannot read {path}: {source}")]
    Input {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP server could not listen or serve.
    #[error("cannot serve HTTP on {address}: {source}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The imgtag server (`--server URL`) answered with an error.
    #[error("the server answered {status} ({code}): {message}")]
    Remote {
        /// HTTP status.
        status: u16,
        /// The server's stable error code.
        code: String,
        /// The server's message.
        message: String,
        /// Whether the server said a retry could help.
        retryable: bool,
    },
    /// The imgtag server (`--server URL`) could not be reached or answered
    /// something that is not the API.
    #[error("cannot use the server at {url}: {message}")]
    Unreachable {
        /// The server URL.
        url: String,
        /// Why.
        message: String,
    },
    /// The work needs an analyzer the configuration switched off.
    #[error(
        "{needed_for} needs the {analyzer} analyzer, which is disabled ([analyzers.{analyzer}] enabled = false)"
    )]
    AnalyzerDisabled {
        /// The analyzer.
        analyzer: &'static str,
        /// What needed it.
        needed_for: &'static str,
    },
    /// A model could not be loaded or run.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An image was refused or could not be processed.
    #[error(transparent)]
    Image(#[from] PipelineError),
    /// The vector index refused or failed an operation.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A job, its source, the object store or the broker failed.
    #[error(transparent)]
    Job(#[from] JobError),
}

impl AppError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(_) => "config.invalid",
            Self::Input { .. } => "input.unreadable",
            Self::Output { .. } => "output.unwritable",
            Self::Listen { .. } => "api.listen_failed",
            Self::Remote { .. } => "api.remote_error",
            Self::Unreachable { .. } => "api.unreachable",
            Self::AnalyzerDisabled { .. } => "analyzer.disabled",
            Self::Model(error) => error.code(),
            Self::Image(error) => error.code(),
            Self::Index(error) => error.code(),
            Self::Job(error) => error.code(),
        }
    }

    /// Whether retrying the same work could help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Config(_) | Self::AnalyzerDisabled { .. } => false,
            Self::Input { source, .. } => !matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ),
            Self::Output { .. } | Self::Listen { .. } | Self::Unreachable { .. } => true,
            Self::Remote { retryable, .. } => *retryable,
            Self::Model(error) => error.is_retryable(),
            Self::Image(error) => error.is_retryable(),
            Self::Index(error) => error.is_retryable(),
            Self::Job(error) => error.is_retryable(),
        }
    }
}
