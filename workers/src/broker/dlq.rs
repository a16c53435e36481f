//! `imgtag dlq list|replay|purge`: the operator's view of jobs that failed
//! for good.
//!
//! - `list` takes messages without acknowledging them and closes the
//!   channel, so the broker puts every one back.
//! - `replay` republishes each job to the jobs queue (attempt 1, confirmed)
//!   and only then acks it in the dead-letter queue: a crash in between
//!   leaves a copy in both, never in neither.
//! - `purge` deletes them all.

use lapin::options::{BasicAckOptions, BasicGetOptions, QueuePurgeOptions};
use serde::Serialize;

use super::lane::HEADER_LANE;
use super::publisher::{attempt_of, confirmed, header_text};
use super::{
    BrokerConfig, HEADER_ERROR_CODE, HEADER_ERROR_MESSAGE, HEADER_FAILED_AT,
    HEADER_LAST_ERROR_CODE, Lane, Publisher, broker_error, connect, depth, topology,
};
use crate::jobs::JobError;

/// One dead-lettered job, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct DeadJob {
    /// The job id (message id), when the job had one.
    pub job_id: Option<String>,
    /// The tenant, when the body was a readable job.
    pub tenant_id: Option<String>,
    /// Error code (`x-imgtag-error-code`, or the broker's reason for jobs
    /// it dead-lettered itself, e.g. `broker.delivery_limit`).
    pub code: String,
    /// Error message.
    pub message: String,
    /// Deliveries the job had.
    pub attempts: u32,
    /// When it failed.
    pub failed_at: Option<String>,
    /// Size of the body in bytes.
    pub bytes: usize,
}

/// What `replay` and `purge` did.
#[derive(Debug, Clone, Serialize)]
pub struct DlqReport {
    /// Jobs moved back to the jobs queue (replay) or deleted (purge).
    pub count: u64,
}

/// Connects, declares the topology, and opens a confirm-mode publisher and
/// a plain channel for reading.
async fn open(
    config: &BrokerConfig,
    name: &str,
) -> Result<(lapin::Connection, Publisher, lapin::Channel), JobError> {
    let connection = connect(config, name).await?;
    let publisher = Publisher::open(&connection, config).await?;
    topology::declare(publisher.channel(), config).await?;
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| broker_error("opening a channel", e))?;
    Ok((connection, publisher, channel))
}

/// Up to `limit` dead-lettered jobs, oldest first, left in the queue.
pub async fn list(config: &BrokerConfig, limit: usize) -> Result<Vec<DeadJob>, JobError> {
    let (connection, _publisher, channel) = open(config, "imgtag dlq list").await?;
    let mut jobs = Vec::new();
    while jobs.len() < limit {
        let Some(message) = channel
            .basic_get(
                config.dead_letter_queue.as_str().into(),
                BasicGetOptions::default(),
            )
            .await
            .map_err(|e| broker_error("reading the dead-letter queue", e))?
        else {
            break;
        };
        jobs.push(describe(&message.delivery));
    }
    // Unacked messages go back to the queue when the channel closes.
    let _ = channel.close(200, "listed".into()).await;
    let _ = connection.close(200, "done".into()).await;
    Ok(jobs)
}

/// Moves up to `limit` dead-lettered jobs back to the jobs queue.
pub async fn replay(config: &BrokerConfig, limit: usize) -> Result<DlqReport, JobError> {
    let (connection, publisher, channel) = open(config, "imgtag dlq replay").await?;
    // Only what is there now: a job that fails again while this runs goes
    // back to the dead-letter queue and must not be replayed twice.
    let waiting = depth::ready_messages(&channel, &config.dead_letter_queue).await? as usize;
    let limit = limit.min(waiting);
    let mut count = 0;
    while (count as usize) < limit {
        let Some(message) = channel
            .basic_get(
                config.dead_letter_queue.as_str().into(),
                BasicGetOptions::default(),
            )
            .await
            .map_err(|e| broker_error("reading the dead-letter queue", e))?
        else {
            break;
        };
        let delivery = message.delivery;
        let job_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default();
        // Back to the lane it failed in (live for dead letters the broker
        // made itself, or from before lanes existed).
        let lane = header_text(&delivery.properties, HEADER_LANE)
            .and_then(|lane| Lane::parse(&lane))
            .unwrap_or(Lane::Live);
        let pending = publisher
            .start_job(lane, &job_id, &delivery.data, 1)
            .await?;
        confirmed(pending, "replayed job").await?;
        delivery
            .ack(BasicAckOptions::default())
            .await
            .map_err(|e| broker_error("acknowledging a replayed job", e))?;
        count += 1;
    }
    let _ = connection.close(200, "done".into()).await;
    Ok(DlqReport { count })
}

/// Deletes every dead-lettered job.
pub async fn purge(config: &BrokerConfig) -> Result<DlqReport, JobError> {
    let connection = connect(config, "imgtag dlq purge").await?;
    let publisher = Publisher::open(&connection, config).await?;
    topology::declare(publisher.channel(), config).await?;
    let count = publisher
        .channel()
        .queue_purge(
            config.dead_letter_queue.as_str().into(),
            QueuePurgeOptions::default(),
        )
        .await
        .map_err(|e| broker_error("purging the dead-letter queue", e))?;
    let _ = connection.close(200, "done".into()).await;
    Ok(DlqReport {
        count: u64::from(count),
    })
}

fn describe(delivery: &lapin::message::Delivery) -> DeadJob {
    let properties = &delivery.properties;
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&delivery.data).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    // Jobs the broker dead-lettered itself (delivery limit, rejection)
    // carry x-death instead of our headers.
    let (code, message) = match header_text(properties, HEADER_ERROR_CODE) {
        Some(code) => (
            code,
            header_text(properties, HEADER_ERROR_MESSAGE).unwrap_or_default(),
        ),
        None => {
            let reason = last_death_reason(properties).unwrap_or_else(|| "unknown".into());
            let last = header_text(properties, HEADER_LAST_ERROR_CODE)
                .map(|code| format!("; the last failure was {code}"))
                .unwrap_or_default();
            (
                format!("broker.{reason}"),
                format!(
                    "dead-lettered by the broker ({reason}): a job over the delivery limit may crash its worker{last}"
                ),
            )
        }
    };
    DeadJob {
        job_id: properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned())
            .or_else(|| field("job_id")),
        tenant_id: field("tenant_id"),
        code,
        message,
        attempts: attempt_of(properties),
        failed_at: header_text(properties, HEADER_FAILED_AT),
        bytes: delivery.data.len(),
    }
}

/// The reason of the broker's latest dead-lettering: the newest `x-death`
/// entry (a retry copy was first dead-lettered as `expired` by its retry
/// queue, so `x-first-death-reason` would mislead).
fn last_death_reason(properties: &lapin::BasicProperties) -> Option<String> {
    use lapin::types::AMQPValue;
    let headers = properties.headers().as_ref()?;
    match headers.inner().get("x-death") {
        Some(AMQPValue::FieldArray(deaths)) => {
            deaths.as_slice().first().and_then(|death| match death {
                AMQPValue::FieldTable(table) => match table.inner().get("reason") {
                    Some(AMQPValue::LongString(s)) => {
                        Some(String::from_utf8_lossy(s.as_bytes()).into_owned())
                    }
                    Some(AMQPValue::ShortString(s)) => Some(s.as_str().to_owned()),
                    _ => None,
                },
                _ => None,
            })
        }
        _ => header_text(properties, "x-first-death-reason"),
    }
}
