//! Publishing with publisher confirms: a publish counts only once the
//! broker has confirmed it (it is then on disk for durable queues). Every
//! message is persistent (delivery mode 2).

use chrono::Utc;
use lapin::PublisherConfirm;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel, Connection};

use super::lane::{HEADER_LANE, HEADER_MOVED_FROM};
use super::{
    BrokerConfig, HEADER_ATTEMPT, HEADER_ERROR_CODE, HEADER_ERROR_MESSAGE, HEADER_ERROR_RETRYABLE,
    HEADER_FAILED_AT, HEADER_LAST_ERROR_CODE, HEADER_PUBLISHED_MS, Lane, broker_error,
};
use crate::events::ResultEvent;
use crate::jobs::JobError;

/// A confirm-mode channel and the names it publishes to.
#[derive(Debug, Clone)]
pub struct Publisher {
    channel: Channel,
    config: BrokerConfig,
}

/// Why a job is being dead-lettered.
#[derive(Debug, Clone)]
pub struct DeadLetter<'a> {
    /// Stable code.
    pub code: &'a str,
    /// For people.
    pub message: &'a str,
    /// Whether a retry could have helped.
    pub retryable: bool,
    /// Deliveries so far.
    pub attempts: u32,
}

impl Publisher {
    /// Opens a channel on `connection` in confirm mode.
    pub async fn open(connection: &Connection, config: &BrokerConfig) -> Result<Self, JobError> {
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| broker_error("opening a channel", e))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| broker_error("enabling publisher confirms", e))?;
        Ok(Self {
            channel,
            config: config.clone(),
        })
    }

    /// The channel (to declare the topology on).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Publishes a job body to `lane`'s queue and waits for the confirm.
    pub async fn publish_job(&self, lane: Lane, job_id: &str, body: &[u8]) -> Result<(), JobError> {
        let pending = self.start_job(lane, job_id, body, 1).await?;
        confirmed(pending, "job").await
    }

    /// Publishes a job to `lane`'s queue without waiting for its confirm
    /// (bulk publishing: await the returned confirms in windows).
    pub async fn start_job(
        &self,
        lane: Lane,
        job_id: &str,
        body: &[u8],
        attempt: u32,
    ) -> Result<PublisherConfirm, JobError> {
        let queue = lane.queue(&self.config).to_owned();
        self.start(
            "",
            &queue,
            body,
            job_properties(job_id, attempt, None),
            true,
        )
        .await
    }

    /// Starts moving a received job to lane `to`: the same body and
    /// properties (id, attempt, publish time), marked with the lane it
    /// left. The caller acknowledges the original after the confirm.
    pub async fn start_move(
        &self,
        from: Lane,
        to: Lane,
        body: &[u8],
        properties: &BasicProperties,
    ) -> Result<PublisherConfirm, JobError> {
        let mut headers = properties.headers().clone().unwrap_or_default();
        headers.insert(HEADER_MOVED_FROM.into(), text(from.as_str()));
        let properties = properties
            .clone()
            .with_headers(headers)
            .with_delivery_mode(2);
        let queue = to.queue(&self.config).to_owned();
        self.start("", &queue, body, properties, true).await
    }

    /// Puts a job on the retry queue for its attempt; it comes back to the
    /// jobs queue after the delay with `attempt + 1`.
    pub async fn publish_retry(
        &self,
        lane: Lane,
        job_id: Option<&str>,
        body: &[u8],
        failed_attempt: u32,
        code: &str,
    ) -> Result<u64, JobError> {
        let (queue, delay) = self.config.retry_queue(lane, failed_attempt);
        let mut headers = FieldTable::default();
        headers.insert(HEADER_LAST_ERROR_CODE.into(), text(code));
        headers.insert(HEADER_LANE.into(), text(lane.as_str()));
        let properties = job_properties(
            job_id.unwrap_or_default(),
            failed_attempt + 1,
            Some(headers),
        );
        let pending = self.start("", &queue, body, properties, true).await?;
        confirmed(pending, "retry").await?;
        Ok(delay)
    }

    /// Puts a job in the dead-letter queue with why it failed and the
    /// lane it ran in.
    pub async fn publish_dead(
        &self,
        lane: Lane,
        job_id: Option<&str>,
        body: &[u8],
        why: &DeadLetter<'_>,
    ) -> Result<(), JobError> {
        let mut headers = FieldTable::default();
        headers.insert(HEADER_LANE.into(), text(lane.as_str()));
        headers.insert(HEADER_ERROR_CODE.into(), text(why.code));
        headers.insert(HEADER_ERROR_MESSAGE.into(), text(why.message));
        headers.insert(
            HEADER_ERROR_RETRYABLE.into(),
            AMQPValue::Boolean(why.retryable),
        );
        headers.insert(
            HEADER_FAILED_AT.into(),
            text(&crate::index::record::format_datetime(Utc::now())),
        );
        let properties = job_properties(job_id.unwrap_or_default(), why.attempts, Some(headers));
        let queue = self.config.dead_letter_queue.clone();
        let pending = self.start("", &queue, body, properties, true).await?;
        confirmed(pending, "dead letter").await
    }

    /// Publishes a result event on the results exchange.
    pub async fn publish_event(&self, event: &ResultEvent) -> Result<(), JobError> {
        self.publish_result(event.event.routing_key(), &event.event_id, &event.to_body())
            .await
    }

    /// Publishes a message on the results exchange under `routing_key`
    /// (`image.processed`, `document.expiring`, ...), persistent, with
    /// `message_id` as its id, and waits for the broker's confirm.
    pub async fn publish_result(
        &self,
        routing_key: &str,
        message_id: &str,
        body: &[u8],
    ) -> Result<(), JobError> {
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(message_id.into())
            .with_timestamp(Utc::now().timestamp().max(0) as u64)
            .with_type(routing_key.into());
        let exchange = self.config.results_exchange.clone();
        // Not mandatory: an event nobody subscribed to is dropped by the
        // exchange, as with any topic; it must not hold the job back.
        let pending = self
            .start(&exchange, routing_key, body, properties, false)
            .await?;
        confirmed(pending, routing_key).await
    }

    async fn start(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
        mandatory: bool,
    ) -> Result<PublisherConfirm, JobError> {
        self.channel
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory,
                    ..BasicPublishOptions::default()
                },
                body,
                properties,
            )
            .await
            .map_err(|e| broker_error(&format!("publishing to {routing_key}"), e))
    }
}

/// Waits for a publish's confirm: a nack or a returned (unroutable)
/// message is an error.
pub async fn confirmed(pending: PublisherConfirm, what: &str) -> Result<(), JobError> {
    let confirmation = pending
        .await
        .map_err(|e| broker_error(&format!("waiting for the {what} confirm"), e))?;
    if !confirmation.is_ack() {
        return Err(JobError::BrokerUnavailable(format!(
            "the broker refused the {what} (nack)"
        )));
    }
    if confirmation.take_message().is_some() {
        return Err(JobError::BrokerUnavailable(format!(
            "the {what} was returned unroutable (is the topology declared?)"
        )));
    }
    Ok(())
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

fn job_properties(job_id: &str, attempt: u32, headers: Option<FieldTable>) -> BasicProperties {
    let mut headers = headers.unwrap_or_default();
    let now = Utc::now();
    headers.insert(
        HEADER_ATTEMPT.into(),
        AMQPValue::LongLongInt(i64::from(attempt)),
    );
    headers.insert(
        HEADER_PUBLISHED_MS.into(),
        AMQPValue::LongLongInt(now.timestamp_millis()),
    );
    let mut properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        .with_timestamp(now.timestamp().max(0) as u64)
        .with_headers(headers);
    if !job_id.is_empty() {
        properties = properties.with_message_id(job_id.into());
    }
    properties
}

/// The attempt number a delivery carries (1 when absent), also counting
/// the broker's own redeliveries (`x-delivery-count` of quorum queues).
pub fn attempt_of(properties: &BasicProperties) -> u32 {
    let headers = properties.headers().as_ref();
    let number = |name: &str| {
        headers
            .and_then(|h| h.inner().get(name))
            .and_then(|value| match value {
                AMQPValue::LongLongInt(v) => u32::try_from(*v).ok(),
                AMQPValue::LongInt(v) => u32::try_from(*v).ok(),
                AMQPValue::LongUInt(v) => Some(*v),
                AMQPValue::ShortInt(v) => u32::try_from(*v).ok(),
                _ => None,
            })
    };
    let ours = number(HEADER_ATTEMPT).unwrap_or(1).max(1);
    ours + number("x-delivery-count").unwrap_or(0)
}

/// When a job was published, in milliseconds since the epoch: the
/// `x-imgtag-published-ms` header imgtag sets, else the AMQP timestamp
/// (seconds) a CRM may set.
pub fn published_ms(properties: &BasicProperties) -> Option<i64> {
    let header = properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(HEADER_PUBLISHED_MS))
        .and_then(|value| match value {
            AMQPValue::LongLongInt(v) => Some(*v),
            AMQPValue::LongUInt(v) => Some(i64::from(*v)),
            AMQPValue::LongInt(v) => Some(i64::from(*v)),
            _ => None,
        });
    header.or_else(|| {
        properties
            .timestamp()
            .and_then(|seconds| i64::try_from(seconds).ok())
            .map(|seconds| seconds.saturating_mul(1000))
    })
}

/// A text header of a message, if present.
pub fn header_text(properties: &BasicProperties, name: &str) -> Option<String> {
    properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(name))
        .and_then(|value| match value {
            AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
            AMQPValue::Boolean(b) => Some(b.to_string()),
            _ => None,
        })
}
