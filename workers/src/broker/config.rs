//! `[broker]`: where RabbitMQ is, how to trust it, and the names and
//! arguments of the topology. `[worker]`: how a worker consumes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Lane;
use crate::store::redact_url;

/// The jobs queue's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueType {
    /// A classic durable queue (one node).
    Classic,
    /// A replicated quorum queue, with a delivery limit that dead-letters
    /// a message redelivered too often (a job that kills its worker).
    Quorum,
}

impl QueueType {
    /// The `x-queue-type` argument.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classic => "classic",
            Self::Quorum => "quorum",
        }
    }
}

/// `[broker]`
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerConfig {
    /// `amqp://user:password@host:port/vhost` or `amqps://...` (TLS).
    /// Never logged with its password.
    pub url: String,
    /// PEM file of the CA that signed the broker's certificate (amqps),
    /// trusted besides the system's roots.
    pub ca_file: Option<PathBuf>,
    /// The durable queue jobs are published to (default exchange, routing
    /// key = the queue name).
    pub jobs_queue: String,
    /// Bulk imports, and live jobs a worker moved there because their
    /// tenant already held its share of the worker (`[worker]
    /// tenant_share`). Served after live work.
    pub bulk_queue: String,
    /// Reprocessing and backfills (`imgtag reprocess --via-queue`). Served
    /// when no live or bulk work waits.
    pub batch_queue: String,
    /// `classic` or `quorum` (the three jobs queues).
    pub queue_type: QueueType,
    /// Quorum queues: deliveries after which the broker dead-letters a
    /// message itself (a job that crashes every worker that takes it).
    pub delivery_limit: u32,
    /// Where jobs that failed for good go, with their error in headers.
    pub dead_letter_queue: String,
    /// Retry queues are `{retry_queue_prefix}.{delay}ms` (live) and
    /// `{retry_queue_prefix}.{bulk|batch}.{delay}ms`: TTL queues that
    /// dead-letter back to their lane's jobs queue.
    pub retry_queue_prefix: String,
    /// Delay before each retry, in milliseconds; later retries reuse the
    /// last delay.
    pub retry_delays_ms: Vec<u64>,
    /// Deliveries a job gets before a retryable failure is dead-lettered.
    pub max_attempts: u32,
    /// Topic exchange of result events (`image.processed`,
    /// `image.duplicate`, `image.failed`).
    pub results_exchange: String,
    /// Longest wait between reconnection attempts, in milliseconds.
    pub reconnect_max_backoff_ms: u64,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            ca_file: None,
            jobs_queue: "imgtag.jobs".into(),
            bulk_queue: "imgtag.jobs.bulk".into(),
            batch_queue: "imgtag.jobs.batch".into(),
            queue_type: QueueType::Quorum,
            delivery_limit: 10,
            dead_letter_queue: "imgtag.jobs.dead".into(),
            retry_queue_prefix: "imgtag.jobs.retry".into(),
            retry_delays_ms: vec![1_000, 10_000, 60_000],
            max_attempts: 5,
            results_exchange: "imgtag.results".into(),
            reconnect_max_backoff_ms: 30_000,
        }
    }
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConfig")
            .field("url", &redact_url(&self.url))
            .field("ca_file", &self.ca_file)
            .field("jobs_queue", &self.jobs_queue)
            .field("bulk_queue", &self.bulk_queue)
            .field("batch_queue", &self.batch_queue)
            .field("queue_type", &self.queue_type)
            .field("delivery_limit", &self.delivery_limit)
            .field("dead_letter_queue", &self.dead_letter_queue)
            .field("retry_queue_prefix", &self.retry_queue_prefix)
            .field("retry_delays_ms", &self.retry_delays_ms)
            .field("max_attempts", &self.max_attempts)
            .field("results_exchange", &self.results_exchange)
            .field("reconnect_max_backoff_ms", &self.reconnect_max_backoff_ms)
            .finish()
    }
}

impl BrokerConfig {
    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("amqp://") || self.url.starts_with("amqps://")) {
            return Err("url must start with amqp:// or amqps://".into());
        }
        for (what, name) in [
            ("jobs_queue", &self.jobs_queue),
            ("bulk_queue", &self.bulk_queue),
            ("batch_queue", &self.batch_queue),
            ("dead_letter_queue", &self.dead_letter_queue),
            ("retry_queue_prefix", &self.retry_queue_prefix),
            ("results_exchange", &self.results_exchange),
        ] {
            let ok = !name.is_empty()
                && name.len() <= 200
                && !name.starts_with("amq.")
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
            if !ok {
                return Err(format!(
                    "{what} {name:?}: 1-200 of [A-Za-z0-9._:-], not starting with amq."
                ));
            }
        }
        let queues = [
            &self.jobs_queue,
            &self.bulk_queue,
            &self.batch_queue,
            &self.dead_letter_queue,
        ];
        for (i, a) in queues.iter().enumerate() {
            if queues[i + 1..].contains(a) {
                return Err(format!(
                    "jobs_queue, bulk_queue, batch_queue and dead_letter_queue must differ ({a:?} twice)"
                ));
            }
        }
        let retry_prefix = format!("{}.", self.retry_queue_prefix);
        if queues.iter().any(|q| q.starts_with(&retry_prefix)) {
            return Err(format!(
                "retry_queue_prefix {:?} must not prefix a jobs or dead-letter queue name",
                self.retry_queue_prefix
            ));
        }
        if self.retry_delays_ms.is_empty() || self.retry_delays_ms.contains(&0) {
            return Err("retry_delays_ms needs at least one positive delay".into());
        }
        if self.max_attempts == 0 {
            return Err("max_attempts must be positive".into());
        }
        if self.delivery_limit == 0 {
            return Err("delivery_limit must be positive".into());
        }
        if self.reconnect_max_backoff_ms < 100 {
            return Err("reconnect_max_backoff_ms must be at least 100".into());
        }
        Ok(())
    }

    /// The retry queue of `lane` used after `attempt` failed deliveries
    /// (1-based), with its delay.
    pub fn retry_queue(&self, lane: Lane, attempt: u32) -> (String, u64) {
        let index = (attempt.max(1) as usize - 1).min(self.retry_delays_ms.len() - 1);
        let delay = self.retry_delays_ms[index];
        (lane.retry_queue_name(self, delay), delay)
    }

    /// Every retry queue of `lane` with its delay.
    pub fn retry_queues(&self, lane: Lane) -> Vec<(String, u64)> {
        let mut delays = self.retry_delays_ms.clone();
        delays.sort_unstable();
        delays.dedup();
        delays
            .into_iter()
            .map(|delay| (lane.retry_queue_name(self, delay), delay))
            .collect()
    }
}

/// `[worker]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Jobs in flight at once (the broker's prefetch). CPU work is bounded
    /// separately by the cores; more jobs in flight overlap I/O and fill
    /// the models' batches.
    pub concurrency: u16,
    /// The share of a worker's jobs in flight (`concurrency`) that one
    /// tenant's live jobs may hold, running or waiting for a slot: at
    /// least one job. A live job beyond it is moved to the bulk lane, so a
    /// burst from one tenant cannot hold back another tenant's uploads.
    /// 1.0: no limit (one tenant, or fairness not wanted).
    pub tenant_share: f64,
    /// Jobs a worker receives ahead of its free slots, in the live and the
    /// bulk lane each (batch: none beyond the slots): it starts
    /// the best of them (live first, tenants in turn) as slots free up, and
    /// moves live jobs over their tenant's share at once. Larger values
    /// drain a burst faster; jobs held here wait while other workers may
    /// be idle. Each job held keeps its message in memory: at most
    /// `2 x (concurrency + lookahead) + concurrency` messages of up to
    /// `max_job_bytes` each (inline jobs; `file`, `object` and `stored`
    /// jobs are a few hundred bytes).
    pub lookahead: u16,
    /// Seconds between two readings of the queues' depths
    /// (`imgtag_queue_depth{class}`); 0: not read.
    pub queue_depth_interval_secs: u64,
    /// On SIGTERM/SIGINT: seconds to let in-flight jobs finish before they
    /// are handed back to the broker.
    pub shutdown_grace_secs: u64,
    /// Serve Prometheus metrics at `http://{metrics_listen}/metrics`
    /// (e.g. `127.0.0.1:9464`); empty: no metrics endpoint.
    pub metrics_listen: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 8,
            tenant_share: 0.5,
            lookahead: 16,
            queue_depth_interval_secs: 5,
            shutdown_grace_secs: 30,
            metrics_listen: String::new(),
        }
    }
}

impl WorkerConfig {
    /// Live jobs one tenant may hold in this worker (running or waiting
    /// for a slot); `None`: no limit.
    pub fn tenant_limit(&self) -> Option<usize> {
        if self.tenant_share >= 1.0 {
            return None;
        }
        let slots = f64::from(self.concurrency) * self.tenant_share;
        Some((slots.floor() as usize).max(1))
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.concurrency == 0 {
            return Err("concurrency must be positive".into());
        }
        if !(self.tenant_share > 0.0 && self.tenant_share <= 1.0) {
            return Err(format!(
                "tenant_share {} must be in (0, 1]",
                self.tenant_share
            ));
        }
        if self.lookahead == 0 {
            return Err("lookahead must be positive".into());
        }
        if !self.metrics_listen.is_empty()
            && self.metrics_listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(format!(
                "metrics_listen {:?} is not an address:port",
                self.metrics_listen
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_queues_follow_the_delays() {
        let config = BrokerConfig::default();
        assert_eq!(
            config.retry_queue(Lane::Live, 1),
            ("imgtag.jobs.retry.1000ms".into(), 1000)
        );
        assert_eq!(
            config.retry_queue(Lane::Bulk, 2),
            ("imgtag.jobs.retry.bulk.10000ms".into(), 10_000)
        );
        assert_eq!(config.retry_queue(Lane::Live, 9).1, 60_000);
        assert_eq!(config.retry_queues(Lane::Batch).len(), 3);
    }

    #[test]
    fn the_password_never_shows() {
        let config = BrokerConfig {
            url: "amqps://svc:hunter2@mq.example:5671/prod".into(),
            ..BrokerConfig::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(config.validate().is_ok());
        let bad = BrokerConfig {
            jobs_queue: "amq.x".into(),
            ..BrokerConfig::default()
        };
        assert!(bad.validate().is_err());
        let same = BrokerConfig {
            batch_queue: "imgtag.jobs".into(),
            ..BrokerConfig::default()
        };
        assert!(same.validate().is_err());
    }

    #[test]
    fn a_tenant_holds_at_least_one_slot() {
        let worker = |concurrency, tenant_share| WorkerConfig {
            concurrency,
            tenant_share,
            ..WorkerConfig::default()
        };
        assert_eq!(worker(8, 0.5).tenant_limit(), Some(4));
        assert_eq!(worker(1, 0.5).tenant_limit(), Some(1));
        assert_eq!(worker(3, 0.5).tenant_limit(), Some(1));
        assert_eq!(worker(8, 1.0).tenant_limit(), None);
        assert!(worker(8, 0.0).validate().is_err());
        assert!(worker(8, 1.5).validate().is_err());
    }
}
