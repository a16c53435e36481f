//! RabbitMQ: connecting (amqp or amqps with an optional CA), declaring the
//! topology idempotently, publishing with confirms, the worker's consume
//! loop, and the dead-letter queue's operations.
//!
//! Topology (names from `[broker]`):
//! - three jobs queues, one per lane (`lane.rs`: live, bulk, batch;
//!   durable; classic or quorum with a delivery limit), whose dead letters
//!   (a rejected message, or one over the delivery limit) go to the
//!   dead-letter queue;
//! - retry queues per lane and delay: a message-TTL each, dead-lettering
//!   back to the lane's jobs queue, so a retried job waits there, in the
//!   broker;
//! - dead-letter queue: jobs that failed for good, with `x-imgtag-error-*`
//!   headers;
//! - results exchange (topic): `image.processed|duplicate|failed`.

pub mod config;
pub mod depth;
pub mod dlq;
pub mod lane;
pub mod publisher;
pub mod scheduler;
pub mod status;
pub mod topology;
pub mod worker;

use lapin::tcp::OwnedTLSConfig;
use lapin::{Connection, ConnectionProperties};

pub use config::{BrokerConfig, QueueType, WorkerConfig};
pub use lane::Lane;
pub use publisher::Publisher;
pub use status::BrokerStatus;

use crate::input::read_text_file;
use crate::jobs::JobError;
use crate::store::redact_url;

/// Header: deliveries so far (1 on the first).
pub const HEADER_ATTEMPT: &str = "x-imgtag-attempt";
/// Header of dead-lettered jobs: the error code.
pub const HEADER_ERROR_CODE: &str = "x-imgtag-error-code";
/// Header of dead-lettered jobs: the error message.
pub const HEADER_ERROR_MESSAGE: &str = "x-imgtag-error-message";
/// Header of dead-lettered jobs: whether a retry could have helped.
pub const HEADER_ERROR_RETRYABLE: &str = "x-imgtag-error-retryable";
/// Header of dead-lettered jobs: when, RFC 3339 UTC.
pub const HEADER_FAILED_AT: &str = "x-imgtag-failed-at";
/// Header of retried jobs: the code of the failure being retried.
pub const HEADER_LAST_ERROR_CODE: &str = "x-imgtag-last-error-code";
/// Header of jobs imgtag publishes: when, in milliseconds since the epoch
/// (the AMQP timestamp has whole seconds only); kept when a worker moves a job
/// to another lane; a retry copy gets a new one (its wait starts again).
pub const HEADER_PUBLISHED_MS: &str = "x-imgtag-published-ms";
/// A job message may exceed its largest inline image (base64: 4/3) by
/// this much; larger messages are refused unread (`job.too_large`).
pub const MAX_BODY_SLACK: u64 = 64 * 1024;

/// The largest job message a worker reads.
pub fn max_job_bytes(max_inline_bytes: u64) -> u64 {
    max_inline_bytes.div_ceil(3) * 4 + MAX_BODY_SLACK
}

/// Opens a connection (TLS for `amqps://`, trusting `ca_file` too).
pub async fn connect(config: &BrokerConfig, name: &str) -> Result<Connection, JobError> {
    let tls = match &config.ca_file {
        Some(path) => OwnedTLSConfig {
            identity: None,
            cert_chain: Some(
                read_text_file(path, 1024 * 1024)
                    .map_err(|e| JobError::BrokerConfig(format!("ca_file: {e}")))?,
            ),
        },
        None => OwnedTLSConfig::default(),
    };
    let runtime = lapin::runtime::default_runtime()
        .map_err(|e| JobError::BrokerUnavailable(format!("no async runtime: {e}")))?;
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    Connection::connect_with_config(&config.url, properties, tls, runtime)
        .await
        .map_err(|e| {
            JobError::BrokerUnavailable(format!("connecting to {}: {e}", redact_url(&config.url)))
        })
}

/// A broker error as a job error: the broker refusing a declaration is a
/// configuration problem, everything else may pass.
pub fn broker_error(what: &str, error: lapin::Error) -> JobError {
    let text = error.to_string();
    if text.contains("PRECONDITION_FAILED") || text.contains("precondition") {
        JobError::Topology(format!(
            "{what}: {text} (an existing queue has other arguments: change the name in [broker] or delete the queue)"
        ))
    } else {
        JobError::BrokerUnavailable(format!("{what}: {text}"))
    }
}
