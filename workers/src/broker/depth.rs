//! Reads the queues' depths every `[worker] queue_depth_interval_secs`
//! (a passive declare: it changes nothing) into
//! `imgtag_queue_depth{class}` (`live`, `bulk`, `batch`, `dead`) and the
//! broker status. A failed reading ends the task; the session's loss is
//! noticed by the consumer, which starts a new one with the next session.

use std::time::Duration;

use lapin::Channel;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use tokio_util::sync::CancellationToken;

use super::{BrokerConfig, BrokerStatus, Lane, broker_error};
use crate::jobs::JobError;

/// The number of ready messages in `queue`.
pub async fn ready_messages(channel: &Channel, queue: &str) -> Result<u32, JobError> {
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| broker_error(&format!("reading the depth of {queue}"), e))?;
    Ok(declared.message_count())
}

/// Reads the depths on `channel` (its own) until `stop` is cancelled or
/// the channel fails.
pub async fn watch(
    channel: Channel,
    config: BrokerConfig,
    interval: Duration,
    status: BrokerStatus,
    stop: CancellationToken,
) -> Result<(), JobError> {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        for lane in Lane::ALL {
            let ready = ready_messages(&channel, lane.queue(&config)).await?;
            metrics::gauge!("imgtag_queue_depth", "class" => lane.as_str()).set(f64::from(ready));
            status.set_depth(lane, ready);
        }
        let dead = ready_messages(&channel, &config.dead_letter_queue).await?;
        metrics::gauge!("imgtag_queue_depth", "class" => "dead").set(f64::from(dead));
    }
    let _ = channel.close(200, "done".into()).await;
    Ok(())
}
