//! `imgtag worker`: consumes the three job lanes until told to stop.
//!
//! - One consumer per lane (live, bulk, batch; `lane.rs`), each on its own
//!   channel with its own prefetch: live and bulk `concurrency +
//!   lookahead`, batch `concurrency`. Received jobs wait in the local
//!   [`Scheduler`], which starts them as the `concurrency` slots free up:
//!   live first (tenants in turn), then bulk, then batch. A live job whose
//!   tenant already holds its share of this worker (`[worker]
//!   tenant_share`) is moved to the bulk lane (published there, confirmed,
//!   then acked here).
//! - Manual acks. A job is acked only after the processor returned
//!   (renditions fsynced, index write flushed) and its result event was
//!   confirmed by the broker; a retry or a dead letter likewise is acked
//!   only once the broker confirmed the copy.
//! - Transient failures go to the lane's retry queue (1 s, 10 s, 60 s by
//!   default); permanent ones, and transient ones past `max_attempts`, to
//!   the dead-letter queue with their code, message, attempt count and
//!   lane, plus an `image.failed` event.
//! - A lost connection (broker restart, network) ends the session: jobs in
//!   flight or waiting here are dropped unacked (the broker redelivers
//!   them; ids are deterministic, so nothing is duplicated) and the worker
//!   reconnects with exponential backoff. The [`BrokerStatus`] says where
//!   the consumer is (`/readyz` of `serve --worker`).
//! - SIGTERM/SIGINT cancel the consumers, let jobs in flight finish within
//!   `shutdown_grace_secs`, hand the rest back by closing the channels, and
//!   return.
//! - Each job runs in its own task: a panic ends that job
//!   (`job.panicked`, dead-lettered), never the worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::BoxStream;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use serde::Deserialize;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, field};

use super::publisher::{DeadLetter, attempt_of, confirmed, published_ms};
use super::scheduler::{Admission, Scheduler};
use super::status::ConsumerState;
use super::{
    BrokerConfig, BrokerStatus, Lane, Publisher, WorkerConfig, broker_error, connect, depth,
    topology,
};
use crate::error::AppError;
use crate::events::ResultEvent;
use crate::jobs::{Job, JobError};
use crate::process::{JobOutcome, OutcomeKind, Processor};
use crate::telemetry;

/// How a consuming session ended.
enum SessionEnd {
    /// Shutdown was asked for.
    Shutdown,
    /// The connection or a consumer went away.
    Lost(String),
}

/// Shared by every job task.
struct Context {
    processor: Processor,
    publisher: Publisher,
    broker: BrokerConfig,
    max_job_bytes: u64,
}

/// A received job waiting for a slot.
struct Waiting {
    tenant: String,
    delivery: Delivery,
}

/// Consumes until `shutdown` is cancelled, reconnecting whenever the
/// connection is lost, and keeps `status` up to date. Errors only on what
/// a retry cannot fix (a topology mismatch, an unreadable CA file).
pub async fn run(
    broker: &BrokerConfig,
    worker: &WorkerConfig,
    max_job_bytes: u64,
    processor: Processor,
    status: BrokerStatus,
    shutdown: CancellationToken,
) -> Result<(), AppError> {
    let mut backoff = Duration::from_millis(250);
    let max_backoff = Duration::from_millis(broker.reconnect_max_backoff_ms);
    let context = SessionContext {
        broker,
        worker,
        max_job_bytes,
        processor: &processor,
        status: &status,
        shutdown: &shutdown,
    };
    loop {
        if shutdown.is_cancelled() {
            status.set(ConsumerState::Stopped, None);
            return Ok(());
        }
        let started = Instant::now();
        let why = match session(&context).await {
            Ok(SessionEnd::Shutdown) => {
                status.set(ConsumerState::Stopped, None);
                return Ok(());
            }
            Ok(SessionEnd::Lost(why)) => why,
            Err(error) if error.is_retryable() => error.to_string(),
            Err(error) => {
                status.set(ConsumerState::Stopped, Some(error.to_string()));
                return Err(error.into());
            }
        };
        status.set(ConsumerState::Reconnecting, Some(why.clone()));
        status.set_in_flight(0);
        if started.elapsed() > Duration::from_secs(10) {
            backoff = Duration::from_millis(250);
        }
        metrics::counter!("imgtag_broker_reconnects_total").increment(1);
        tracing::warn!(reason = %why, retry_in_ms = backoff.as_millis() as u64, "broker connection lost; reconnecting");
        tokio::select! {
            () = shutdown.cancelled() => {
                status.set(ConsumerState::Stopped, None);
                return Ok(());
            }
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(max_backoff);
    }
}

/// What a session needs from `run`.
struct SessionContext<'a> {
    broker: &'a BrokerConfig,
    worker: &'a WorkerConfig,
    max_job_bytes: u64,
    processor: &'a Processor,
    status: &'a BrokerStatus,
    shutdown: &'a CancellationToken,
}

/// Every lane's deliveries; `None` when a lane's consumer ended.
type LaneDeliveries = BoxStream<'static, (Lane, Option<lapin::Result<Delivery>>)>;

/// A lane's consumer: its channel and tag.
struct LaneConsumer {
    channel: Channel,
    tag: String,
}

/// Opens one channel and consumer per lane.
async fn consume_lanes(
    connection: &Connection,
    broker: &BrokerConfig,
    worker: &WorkerConfig,
) -> Result<(Vec<LaneConsumer>, LaneDeliveries), JobError> {
    let mut consumers = Vec::new();
    let mut streams = Vec::new();
    for lane in Lane::ALL {
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| broker_error("opening a consume channel", e))?;
        // Live and bulk hold jobs beyond the slots, so that a freed slot
        // finds the next one here rather than starting a lower lane while
        // it is on its way; batch, the last lane, needs only enough to
        // fill every slot.
        let prefetch = match lane {
            Lane::Live | Lane::Bulk => worker.concurrency.saturating_add(worker.lookahead),
            Lane::Batch => worker.concurrency,
        };
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(|e| broker_error("setting the prefetch", e))?;
        let tag = format!("imgtag-worker-{}-{lane}", std::process::id());
        let queue = lane.queue(broker);
        let consumer = channel
            .basic_consume(
                queue.into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| broker_error(&format!("consuming {queue}"), e))?;
        tracing::info!(queue, lane = lane.as_str(), prefetch, "consuming");
        // A lane's consumer ending (the broker cancelled it: its queue was
        // deleted, say) ends the session, instead of that lane silently
        // going unserved while the others run.
        let ended = futures::stream::once(async move { (lane, None) });
        streams.push(
            consumer
                .map(move |delivery| (lane, Some(delivery)))
                .chain(ended)
                .boxed(),
        );
        consumers.push(LaneConsumer { channel, tag });
    }
    Ok((consumers, futures::stream::select_all(streams).boxed()))
}

async fn session(run: &SessionContext<'_>) -> Result<SessionEnd, JobError> {
    let connection = connect(run.broker, "imgtag worker").await?;
    let publisher = Publisher::open(&connection, run.broker).await?;
    topology::declare(publisher.channel(), run.broker).await?;
    let (consumers, mut deliveries) = consume_lanes(&connection, run.broker, run.worker).await?;
    run.status.set(ConsumerState::Consuming, None);
    let watch_stop = CancellationToken::new();
    let mut watcher = JoinSet::new();
    if run.worker.queue_depth_interval_secs > 0 {
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| broker_error("opening the depth channel", e))?;
        watcher.spawn(depth::watch(
            channel,
            run.broker.clone(),
            Duration::from_secs(run.worker.queue_depth_interval_secs),
            run.status.clone(),
            watch_stop.clone(),
        ));
    }
    let context = Arc::new(Context {
        processor: run.processor.clone(),
        publisher,
        broker: run.broker.clone(),
        max_job_bytes: run.max_job_bytes,
    });
    let slots = usize::from(run.worker.concurrency);
    let mut scheduler: Scheduler<Waiting> = Scheduler::new(run.worker.tenant_limit());
    let mut tasks = JoinSet::new();
    let mut running: HashMap<Id, (Lane, String)> = HashMap::new();
    let mut moves = JoinSet::new();
    let end = loop {
        while tasks.len() < slots
            && let Some((lane, waiting)) = scheduler.next_job()
        {
            let Waiting { tenant, delivery } = waiting;
            let started = tasks.spawn(handle(Arc::clone(&context), lane, delivery));
            running.insert(started.id(), (lane, tenant));
        }
        run.status.set_in_flight(tasks.len());
        tokio::select! {
            () = run.shutdown.cancelled() => break SessionEnd::Shutdown,
            Some(finished) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let id = match finished {
                    Ok((id, ())) => id,
                    Err(error) => {
                        tracing::error!(%error, "job task failed");
                        error.id()
                    }
                };
                if let Some((Lane::Live, tenant)) = running.remove(&id) {
                    scheduler.release(&tenant);
                }
            }
            Some(_) = moves.join_next(), if !moves.is_empty() => {}
            Some(watched) = watcher.join_next(), if !watcher.is_empty() => {
                if let Ok(Err(error)) = watched {
                    tracing::warn!(code = error.code(), %error, "reading the queue depths failed");
                }
            }
            next = deliveries.next() => match next {
                Some((lane, Some(Ok(delivery)))) => {
                    let tenant = tenant_of(&delivery.data, context.max_job_bytes);
                    if lane == Lane::Live && scheduler.admit(&tenant) == Admission::MoveToBulk {
                        moves.spawn(move_to_bulk(Arc::clone(&context), delivery));
                    } else {
                        scheduler.push(lane, &tenant, Waiting { tenant: tenant.clone(), delivery });
                    }
                }
                Some((_, Some(Err(error)))) => break SessionEnd::Lost(error.to_string()),
                Some((lane, None)) => {
                    break SessionEnd::Lost(format!("the {lane} lane's consumer was cancelled"));
                }
                None => break SessionEnd::Lost("the consumers were cancelled".into()),
            },
        }
    };
    watch_stop.cancel();
    match end {
        SessionEnd::Lost(_) => {
            // Unacked deliveries of a dead connection are redelivered by the
            // broker; finishing them here would only race the redelivery.
            tasks.abort_all();
            moves.abort_all();
            watcher.abort_all();
        }
        SessionEnd::Shutdown => {
            for consumer in &consumers {
                let _ = consumer
                    .channel
                    .basic_cancel(consumer.tag.as_str().into(), BasicCancelOptions::default())
                    .await;
            }
            finish_in_flight(&mut tasks, &mut moves, run.worker.shutdown_grace_secs).await;
            // Closing the channels requeues whatever is still unacked,
            // including the jobs that were waiting here for a slot.
            drop(scheduler.drain());
            for consumer in &consumers {
                let _ = consumer.channel.close(200, "shutdown".into()).await;
            }
            let _ = connection.close(200, "shutdown".into()).await;
        }
    }
    Ok(end)
}

/// Lets running jobs and moves finish for up to `grace_secs`, then aborts
/// the rest (their deliveries go back to the broker).
async fn finish_in_flight(tasks: &mut JoinSet<()>, moves: &mut JoinSet<()>, grace_secs: u64) {
    tracing::info!(
        in_flight = tasks.len(),
        grace_secs,
        "stopping: finishing in-flight jobs"
    );
    let deadline = tokio::time::sleep(Duration::from_secs(grace_secs));
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
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(5), moves.join_next()).await {}
    moves.abort_all();
}

/// The tenant a job names, read without decoding the rest (its inline
/// bytes are skipped, not copied); empty for a message that is too large,
/// not a job, or names no usable tenant: such jobs are refused when they
/// run, and share one turn until then.
fn tenant_of(body: &[u8], max_job_bytes: u64) -> String {
    #[derive(Deserialize)]
    struct TenantOnly {
        tenant_id: Option<String>,
    }
    if body.len() as u64 > max_job_bytes {
        return String::new();
    }
    serde_json::from_slice::<TenantOnly>(body)
        .ok()
        .and_then(|job| job.tenant_id)
        .filter(|tenant| tenant.len() <= 64)
        .unwrap_or_default()
}

/// Moves a live job over its tenant's share to the bulk lane: publish,
/// confirm, then ack; on any failure the job is handed back.
async fn move_to_bulk(context: Arc<Context>, delivery: Delivery) {
    let moved = async {
        let pending = context
            .publisher
            .start_move(Lane::Live, Lane::Bulk, &delivery.data, &delivery.properties)
            .await?;
        confirmed(pending, "moved job").await
    }
    .await;
    match moved {
        Ok(()) => {
            metrics::counter!("imgtag_jobs_moved_total", "from" => "live", "to" => "bulk")
                .increment(1);
            if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                // The copy is in the bulk lane and the original will be
                // redelivered: the same job id twice, which is safe.
                tracing::warn!(%error, "ack of a moved job failed");
            }
        }
        Err(error) => {
            tracing::warn!(code = error.code(), %error, "could not move a job to the bulk lane; handing it back");
            let _ = delivery
                .nack(BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                })
                .await;
        }
    }
}

/// One delivery, start to ack.
async fn handle(context: Arc<Context>, lane: Lane, delivery: Delivery) {
    let attempts = attempt_of(&delivery.properties);
    let span = tracing::info_span!(
        "job",
        job_id = field::Empty,
        tenant = field::Empty,
        image_id = field::Empty,
        lane = lane.as_str(),
        attempt = attempts
    );
    async move {
        if let Some(published) = published_ms(&delivery.properties) {
            let now = chrono::Utc::now().timestamp_millis();
            let waited = (now.saturating_sub(published).max(0) as f64) / 1000.0;
            metrics::histogram!("imgtag_queue_wait_seconds", "class" => lane.as_str())
                .record(waited);
        }
        metrics::gauge!("imgtag_jobs_in_flight").increment(1.0);
        let started = Instant::now();
        let outcome = settle(&context, lane, &delivery, attempts).await;
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
    lane: Lane,
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
                lane,
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
                .publish_retry(lane, Some(&job.job_id), body, attempts, error.code())
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
                lane,
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

#[allow(clippy::too_many_arguments)]
async fn dead_letter(
    context: &Context,
    lane: Lane,
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
            lane,
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

    #[test]
    fn the_tenant_is_read_without_the_rest_of_the_job() {
        let job = br#"{"schema_version":1,"job_id":"j","tenant_id":"acme","source":{"kind":"inline","base64":"AAAA"}}"#;
        assert_eq!(tenant_of(job, 1 << 20), "acme");
        assert_eq!(tenant_of(job, 10), "");
        assert_eq!(tenant_of(b"not json", 1 << 20), "");
        assert_eq!(tenant_of(br#"{"tenant_id": 7}"#, 1 << 20), "");
    }
}
