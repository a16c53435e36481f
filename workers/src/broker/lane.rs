//! The three job lanes and their queues.
//!
//! - `live`: uploads a person is waiting for (`[broker] jobs_queue`, where
//!   CRMs publish; the job contract is unchanged);
//! - `bulk`: a tenant's bulk import (`bulk_queue`): published there by a
//!   CRM that knows it is importing, or moved there by a worker when the
//!   tenant already holds its share of that worker's live slots;
//! - `batch`: reprocessing and backfills (`batch_queue`): `imgtag
//!   reprocess --via-queue` publishes there.
//!
//! A worker starts live work first, then bulk, then batch
//! (`broker::scheduler`). Each lane has its own retry queues, so a retried
//! job comes back to the lane it left.

use serde::{Deserialize, Serialize};

use super::BrokerConfig;

/// Header on a job a worker moved to another lane: the lane it left.
pub const HEADER_MOVED_FROM: &str = "x-imgtag-moved-from";
/// Header of dead letters and retry copies: the lane the job ran in, so
/// that `imgtag dlq replay` puts it back there.
pub const HEADER_LANE: &str = "x-imgtag-lane";

/// A class of work, in the order a worker serves them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Uploads a person is waiting for.
    Live,
    /// Bulk imports, and live jobs over their tenant's share.
    Bulk,
    /// Reprocessing and backfills.
    Batch,
}

impl Lane {
    /// Every lane, highest priority first.
    pub const ALL: [Lane; 3] = [Lane::Live, Lane::Bulk, Lane::Batch];

    /// `live`, `bulk` or `batch`: the metrics label and the header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Bulk => "bulk",
            Self::Batch => "batch",
        }
    }

    /// The lane a header value names; unknown values are `None`.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|lane| lane.as_str() == value)
    }

    /// The lane's jobs queue.
    pub fn queue(self, config: &BrokerConfig) -> &str {
        match self {
            Self::Live => &config.jobs_queue,
            Self::Bulk => &config.bulk_queue,
            Self::Batch => &config.batch_queue,
        }
    }

    /// The lane's retry queue for a delay: live keeps the historical
    /// `{retry_queue_prefix}.{delay}ms`, the others are
    /// `{retry_queue_prefix}.{lane}.{delay}ms`.
    pub fn retry_queue_name(self, config: &BrokerConfig, delay_ms: u64) -> String {
        match self {
            Self::Live => format!("{}.{delay_ms}ms", config.retry_queue_prefix),
            other => format!(
                "{}.{}.{delay_ms}ms",
                config.retry_queue_prefix,
                other.as_str()
            ),
        }
    }
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_have_their_own_queues() {
        let config = BrokerConfig::default();
        assert_eq!(Lane::Live.queue(&config), "imgtag.jobs");
        assert_eq!(Lane::Bulk.queue(&config), "imgtag.jobs.bulk");
        assert_eq!(Lane::Batch.queue(&config), "imgtag.jobs.batch");
        assert_eq!(
            Lane::Live.retry_queue_name(&config, 1000),
            "imgtag.jobs.retry.1000ms"
        );
        assert_eq!(
            Lane::Batch.retry_queue_name(&config, 1000),
            "imgtag.jobs.retry.batch.1000ms"
        );
        for lane in Lane::ALL {
            assert_eq!(Lane::parse(lane.as_str()), Some(lane));
        }
        assert_eq!(Lane::parse("urgent"), None);
        assert!(Lane::Live < Lane::Bulk && Lane::Bulk < Lane::Batch);
    }
}
