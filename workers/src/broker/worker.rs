//! `imgtag worker`: consumes the jobs queue until told to stop.
//!
//! - Manual acks, prefetch = `[worker] concurrency`. A job is acked only
//!   after the processor returned (renditions fsynced, index write flushed)
//!   and its result event was confirmed by the broker; a retry or a dead
//!   letter likewise is acked only once the broker confirmed the copy.
//! - Transient failures go to a retry queue (1 s, 10 s, 60 s by default);
//!   permanent ones, and transient ones past `max_attempts`, to the
//!   dead-letter queue with their code, message and attempt count, plus an
//!   `image.failed` event.
//! - A lost connection (broker restart, network) ends the session: in-flight
//!   jobs are dropped unacked (the broker redelivers them; ids are
//!   deterministic, so nothing is duplicated) and the worker reconnects
//!   with exponential backoff.
//! - SIGTERM/SIGINT cancel the consumer, let in-flight jobs finish within
//!   `shutdown_grace_secs`, hand the rest back by closing the channel, and
//!   return.
//! - Each job runs in its own task: a panic ends that job
//!   (`job.panicked`, dead-lettered), never the worker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
};
use lapin::types::FieldTable;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, field};

use super::publisher::{DeadLetter, attempt_of};
use super::{BrokerConfig, Publisher, WorkerConfig, broker_error, connect, topology};
use crate::error::AppError;
use crate::events::ResultEvent;
use crate::jobs::{Job, JobError};
use crate::process::{JobOutcome, OutcomeKind, Processor};
use crate::telemetry;

/// How a consuming session ended.
enum SessionEnd {
    /// Shutdown was asked for.
    Shutdown,
    /// The connection or the consumer went away.
    Lost(String),
}

/// Shared by every job task.
struct Context {
    processor: Processor,
    publisher: Publisher,
    broker: BrokerConfig,
    max_job_bytes: u64,
}

/// Consumes until `shutdown` is cancelled, reconnecting whenever the
/// connection is lost. Errors only on what a retry cannot fix (a topology
/// mismatch, an unreadable CA file).
pub async fn run(
    broker: &BrokerConfig,
    worker: &WorkerConfig,
    max_job_bytes: u64,
    processor: Processor,
    shutdown: CancellationToken,
) -> Result<(), AppError> {
    let mut backoff = Duration::from_millis(250);
    let max_backoff = Duration::from_millis(broker.reconnect_max_backoff_ms);
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let started = Instant::now();
        let why = match session(broker, worker, max_job_bytes, &processor, &shutdown).await {
            Ok(SessionEnd::Shutdown) => return Ok(()),
            Ok(SessionEnd::Lost(why)) => why,
            Err(error) if error.is_retryable() => error.to_string(),
            Err(error) => return Err(error.into()),
        };
        if started.elapsed() > Duration::from_secs(10) {
            backoff = Duration::from_millis(250);
        }
        metrics::counter!("imgtag_broker_reconnects_total").increment(1);
        tracing::warn!(reason = %why, retry_in_ms = backoff.as_millis() as u64, "broker connection lost; reconnecting");
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(max_backoff);
    }
}

async fn session(
    broker: &BrokerConfig,
    worker: &WorkerConfig,
    max_job_bytes: u64,
    processor: &Processor,
    shutdown: &CancellationToken,
) -> Result<SessionEnd, JobError> {
    let connection = connect(broker, "imgtag worker").await?;
    let publisher = Publisher::open(&connection, broker).await?;
    topology::declare(publisher.channel(), broker).await?;
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| broker_error("opening the consume channel", e))?;
    channel
        .basic_qos(worker.concurrency, BasicQosOptions::default())
        .await
        .map_err(|e| broker_error("setting the prefetch", e))?;
    let consumer_tag = format!("imgtag-worker-{}", std::process::id());
    let mut consumer = channel
        .basic_consume(
            broker.jobs_queue.as_str().into(),
            consumer_tag.as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| broker_error(&format!("consuming {}", broker.jobs_queue), e))?;
    tracing::info!(queue = %broker.jobs_queue, prefetch = worker.concurrency, "consuming");
    let context = Arc::new(Context {
        processor: processor.clone(),
        publisher,
        broker: broker.clone(),
        max_job_bytes,
    });
    let mut tasks = JoinSet::new();
    let end = loop {
        tokio::select! {
            () = shutdown.cancelled() => break SessionEnd::Shutdown,
            Some(finished) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(error) = finished {
                    tracing::error!(%error, "job task failed");
                }
            }
            next = consumer.next() => match next {
                Some(Ok(delivery)) => {
                    tasks.spawn(handle(Arc::clone(&context), delivery));
                }
                Some(Err(error)) => break SessionEnd::Lost(error.to_string()),
                None => break SessionEnd::Lost("the consumer was cancelled".into()),
            },
        }
    };
    match end {
        SessionEnd::Lost(_) => {
            // Unacked deliveries of a dead connection are redelivered by the
            // broker; finishing them here would only race the redelivery.
            tasks.abort_all();
        }
        SessionEnd::Shutdown => {
            let _ = channel
                .basic_cancel(consumer_tag.as_str().into(), BasicCancelOptions::default())
                .await;
            let in_flight = tasks.len();
            tracing::info!(
                in_flight,
                grace_secs = worker.shutdown_grace_secs,
                "stopping: finishing in-flight jobs"
            );
            let deadline = tokio::time::sleep(Duration::from_secs(worker.shutdown_grace_secs));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    finished = tasks.join_next() => if finished.is_none() { break },
                    () = &mut deadline => {
                        tracing::warn!(left = tasks.len(), "grace period over: handing the remaining jobs back to the broker");
                        tasks.abort_all();
                        break;
                    }
                }
            }
            // Closing the channel requeues whatever is still unacked.
            let _ = channel.close(200, "shutdown".into()).await;
            let _ = connection.close(200, "shutdown".into()).await;
        }
    }
    Ok(end)
}

/// One delivery, start to ack.
async fn handle(context: Arc<Context>, delivery: Delivery) {
    let attempts = attempt_of(&delivery.properties);
    let span = tracing::info_span!(
        "job",
        job_id = field::Empty,
        tenant = field::Empty,
        image_id = field::Empty,
        attempt = attempts
    );
    async move {
        if let Some(published) = delivery.properties.timestamp() {
            let now = chrono::Utc::now().timestamp().max(0) as u64;
            metrics::histogram!("imgtag_queue_lag_seconds").record(now.saturating_sub(*published) as f64);
        }
        metrics::gauge!("imgtag_jobs_in_flight").increment(1.0);
        let started = Instant::now();
        let outcome = settle(&context, &delivery, attempts).await;
        metrics::gauge!("imgtag_jobs_in_flight").decrement(1.0);
        match outcome {
            Ok(label) => {
                metrics::histogram!("imgtag_job_seconds", "outcome" => label)
                    .record(started.elapsed().as_secs_f64());
                if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                    tracing::warn!(%error, "ack failed; the broker will redeliver the job");
                }
            }
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "could not settle the job; handing it back");
                let _ = delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..BasicNackOptions::default()
                    })
                    .await;
            }
        }
    }
    .instrument(span)
    .await;
}

/// Processes the job and publishes what must be published before the ack.
/// Returns the outcome label for metrics, or a broker error (the delivery
/// is then handed back).
async fn settle(
    context: &Context,
    delivery: &Delivery,
    attempts: u32,
) -> Result<&'static str, JobError> {
    let body = &delivery.data;
    let parsed = if body.len() as u64 > context.max_job_bytes {
        Err(JobError::TooLarge {
            size: body.len() as u64,
            limit: context.max_job_bytes,
        })
    } else {
        Job::parse(body)
    };
    let job = match parsed {
        Ok(job) => job,
        Err(error) => {
            tracing::warn!(code = error.code(), %error, "job refused");
            return dead_letter(
                context,
                None,
                body,
                error.code(),
                &error.to_string(),
                false,
                attempts,
            )
            .await;
        }
    };
    let span = tracing::Span::current();
    span.record("job_id", job.job_id.as_str());
    span.record("tenant", job.tenant_id.as_str());

    let processor = context.processor.clone();
    let task_job = job.clone();
    let result =
        tokio::spawn(async move { processor.process(&task_job).await }.instrument(span.clone()))
            .await;
    let result: Result<JobOutcome, AppError> = match result {
        Ok(result) => result,
        Err(join) => Err(JobError::panicked(join).into()),
    };
    match result {
        Ok(outcome) => {
            span.record("image_id", field::display(outcome.image_id));
            telemetry::record_stages(&outcome.timings_ms);
            let event = ResultEvent::finished(&job, &outcome, attempts);
            context.publisher.publish_event(&event).await?;
            let label = match outcome.kind {
                OutcomeKind::Processed if outcome.duplicates.is_empty() => "processed",
                OutcomeKind::Processed | OutcomeKind::Duplicate => "duplicate",
            };
            metrics::counter!("imgtag_jobs_total", "outcome" => label, "code" => "ok").increment(1);
            tracing::info!(outcome = label, "job done");
            Ok(label)
        }
        Err(error) if error.is_retryable() && attempts < context.broker.max_attempts => {
            let delay = context
                .publisher
                .publish_retry(Some(&job.job_id), body, attempts, error.code())
                .await?;
            metrics::counter!("imgtag_jobs_total", "outcome" => "retried", "code" => error.code())
                .increment(1);
            tracing::warn!(code = error.code(), %error, retry_in_ms = delay, "job failed; retrying later");
            Ok("retried")
        }
        Err(error) => {
            tracing::warn!(code = error.code(), %error, "job failed for good");
            dead_letter(
                context,
                Some(&job),
                body,
                error.code(),
                &error.to_string(),
                error.is_retryable(),
                attempts,
            )
            .await
        }
    }
}

async fn dead_letter(
    context: &Context,
    job: Option<&Job>,
    body: &[u8],
    code: &'static str,
    message: &str,
    retryable: bool,
    attempts: u32,
) -> Result<&'static str, JobError> {
    context
        .publisher
        .publish_dead(
            job.map(|j| j.job_id.as_str()),
            body,
            &DeadLetter {
                code,
                message,
                retryable,
                attempts,
            },
        )
        .await?;
    let event = ResultEvent::failed(job, code, message, retryable, attempts);
    context.publisher.publish_event(&event).await?;
    metrics::counter!("imgtag_jobs_total", "outcome" => "dead_lettered", "code" => code)
        .increment(1);
    Ok("dead_lettered")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_job_task_becomes_its_message() {
        #[allow(clippy::panic)]
        let join = tokio::spawn(async { panic!("decoder exploded") }).await;
        let error = JobError::panicked(join.unwrap_err());
        assert_eq!(error.code(), "job.panicked");
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("decoder exploded"), "{error}");
    }
}
