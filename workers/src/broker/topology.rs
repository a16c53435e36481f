//! Declares the queues and the exchange, idempotently: the same
//! declaration again is a no-op; a queue that exists with other arguments
//! is reported as `broker.topology_mismatch`, never silently used.

use lapin::options::{ExchangeDeclareOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

use super::{BrokerConfig, Lane, QueueType, broker_error};
use crate::jobs::JobError;

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

/// Declares the whole topology on `channel`.
pub async fn declare(channel: &Channel, config: &BrokerConfig) -> Result<(), JobError> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    // The three lanes' queues: the same arguments, so every lane keeps
    // the jobs queue's guarantees (dead letters, the delivery limit).
    let mut jobs_args = FieldTable::default();
    jobs_args.insert("x-queue-type".into(), text(config.queue_type.as_str()));
    jobs_args.insert("x-dead-letter-exchange".into(), text(""));
    jobs_args.insert(
        "x-dead-letter-routing-key".into(),
        text(&config.dead_letter_queue),
    );
    if config.queue_type == QueueType::Quorum {
        jobs_args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongLongInt(i64::from(config.delivery_limit)),
        );
    }
    for lane in Lane::ALL {
        let queue = lane.queue(config);
        channel
            .queue_declare(queue.into(), durable, jobs_args.clone())
            .await
            .map_err(|e| broker_error(&format!("declaring queue {queue}"), e))?;
    }

    // Classic whatever the jobs queue is: a quorum queue counts every
    // requeue (as `imgtag dlq list` does) toward a delivery limit and would
    // drop dead letters past it.
    let mut dead_args = FieldTable::default();
    dead_args.insert("x-queue-type".into(), text("classic"));
    channel
        .queue_declare(config.dead_letter_queue.as_str().into(), durable, dead_args)
        .await
        .map_err(|e| broker_error(&format!("declaring queue {}", config.dead_letter_queue), e))?;

    for (lane, (name, delay)) in Lane::ALL.into_iter().flat_map(|lane| {
        config
            .retry_queues(lane)
            .into_iter()
            .map(move |q| (lane, q))
    }) {
        let mut args = FieldTable::default();
        args.insert("x-queue-type".into(), text("classic"));
        args.insert(
            "x-message-ttl".into(),
            AMQPValue::LongLongInt(i64::try_from(delay).unwrap_or(i64::MAX)),
        );
        args.insert("x-dead-letter-exchange".into(), text(""));
        args.insert("x-dead-letter-routing-key".into(), text(lane.queue(config)));
        channel
            .queue_declare(name.as_str().into(), durable, args)
            .await
            .map_err(|e| broker_error(&format!("declaring queue {name}"), e))?;
    }

    channel
        .exchange_declare(
            config.results_exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| {
            broker_error(
                &format!("declaring exchange {}", config.results_exchange),
                e,
            )
        })?;
    Ok(())
}
