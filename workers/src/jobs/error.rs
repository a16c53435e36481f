//! Why a job was refused or failed before (or around) the image pipeline:
//! the message itself, its source, the object store, the broker. Every
//! variant has a stable code and says whether a retry can help; codes reach
//! logs, result events and dead-lettered messages.

/// A job-level failure.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The message is not a JSON object of the job contract.
    #[error("malformed job: {0}")]
    Malformed(String),
    /// `schema_version` is not one this worker understands.
    #[error("unsupported job schema version {0} (this worker reads version 1)")]
    UnsupportedVersion(u64),
    /// A field is missing or invalid.
    #[error("invalid job: {0}")]
    Invalid(String),
    /// A `file://` source outside the configured roots (`..`, a symlink
    /// leading out, or simply elsewhere).
    #[error("source {path} is outside the allowed roots")]
    OutsideRoots {
        /// The path as given.
        path: String,
    },
    /// The source does not exist (file, object key or stored original).
    #[error("source not found: {0}")]
    SourceNotFound(String),
    /// The source holds more bytes than the configured limit.
    #[error("source has {size} bytes, more than the limit of {limit}")]
    SourceTooLarge {
        /// Bytes seen.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The source could not be read for a reason that may pass.
    #[error("cannot read source {what}: {message}")]
    SourceUnavailable {
        /// Which source.
        what: String,
        /// Why.
        message: String,
    },
    /// The object store refused or failed a write or read.
    #[error("object store: {0}")]
    StoreUnavailable(String),
    /// The broker connection or a publish failed.
    #[error("broker: {0}")]
    BrokerUnavailable(String),
    /// The broker refused to declare the topology as configured (a queue
    /// exists with other arguments, say).
    #[error("broker topology: {0}")]
    Topology(String),
    /// The worker may not read the source (permissions).
    #[error("source {0} is not readable by the worker (permission denied)")]
    SourceForbidden(String),
    /// The message is larger than any valid job.
    #[error("job message of {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Bytes received.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The broker settings cannot work (an unreadable CA file, say).
    #[error("broker configuration: {0}")]
    BrokerConfig(String),
    /// Another job is storing the same bytes right now (it holds the
    /// image's claim and has not written its point yet); retried, after
    /// which this job is that image's duplicate.
    #[error("another job is storing the same bytes (image {image_id}) right now")]
    InProgress {
        /// The image both jobs would write.
        image_id: String,
    },
    /// Processing panicked; caught at the job boundary.
    #[error("processing panicked: {0}")]
    Panicked(String),
}

impl JobError {
    /// `job.panicked` from a task that failed, with the panic's message.
    pub fn panicked(join: tokio::task::JoinError) -> Self {
        if !join.is_panic() {
            return Self::Panicked(join.to_string());
        }
        let payload = join.into_panic();
        Self::Panicked(
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into()),
        )
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "job.malformed",
            Self::UnsupportedVersion(_) => "job.unsupported_version",
            Self::Invalid(_) => "job.invalid",
            Self::OutsideRoots { .. } => "source.outside_roots",
            Self::SourceNotFound(_) => "source.not_found",
            Self::SourceTooLarge { .. } => "source.too_large",
            Self::SourceUnavailable { .. } => "source.unavailable",
            Self::StoreUnavailable(_) => "store.unavailable",
            Self::BrokerUnavailable(_) => "broker.unavailable",
            Self::Topology(_) => "broker.topology_mismatch",
            Self::SourceForbidden(_) => "source.forbidden",
            Self::TooLarge { .. } => "job.too_large",
            Self::BrokerConfig(_) => "broker.config",
            Self::InProgress { .. } => "job.in_progress",
            Self::Panicked(_) => "job.panicked",
        }
    }

    /// Whether retrying the same job could help.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::SourceUnavailable { .. }
                | Self::StoreUnavailable(_)
                | Self::BrokerUnavailable(_)
                | Self::InProgress { .. }
        )
    }
}
