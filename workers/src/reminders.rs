//! Expiry reminders: `document.expiring` and `document.expired` events on
//! the results exchange, so the CRM can ask its customer for a new
//! document in time.
//!
//! A sweep ([`sweep`]) lists each tenant's documents that expire within the
//! largest threshold (or have expired), works out the reminder due for each
//! ([`crate::service::expiry::due_reminder`]), publishes it (confirmed),
//! then records its mark in the document's `reminders` in the index. So a
//! reminder is sent once per document and threshold, across restarts:
//! - the state lives with the document in the index, which every worker
//!   shares;
//! - one sweep runs at a time: the sweeper holds an exclusive RabbitMQ
//!   queue ([`SweepLock`]) for as long as its connection lives; another
//!   worker or a `reminders` command finds it taken and skips;
//! - a crash between the confirm and the mark sends the reminder again on
//!   the next sweep with the same `event_id` (UUIDv5 of tenant, image,
//!   threshold and expiry date), so consumers deduplicate on it.
//!
//! Events carry no personal field: the document's type, expiry date and
//! the CRM's own ids.

use chrono::{NaiveDate, Utc};
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::broker::{Publisher, broker_error};
use crate::error::AppError;
use crate::index::{ImageFilter, ImageId, Index, IndexError, TenantId, TenantIndex};
use crate::jobs::JobError;
use crate::service::expiry::{DueReminder, all_matching, due_reminder};

/// The `schema` of reminder events.
pub const REMINDER_SCHEMA: &str = "imgtag.reminder.v1";
/// Namespace of reminder event ids.
const REMINDER_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5c2e_7a10_4b8f_4d6e_9a31_2f0c_e8d4_7b19);
/// The exclusive queue whose holder may sweep.
pub const LOCK_QUEUE: &str = "imgtag.reminders.lock";

/// `[reminders]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemindersConfig {
    /// Whether `imgtag worker` sweeps on its own every `interval_s`.
    pub enabled: bool,
    /// Seconds between a worker's sweeps.
    pub interval_s: u64,
    /// Days before expiry at which a reminder is sent.
    pub thresholds_days: Vec<u32>,
    /// Tenants whose documents are swept.
    pub tenants: Vec<String>,
    /// The day counted from (`YYYY-MM-DD`; default: today in UTC). For
    /// tests and backfills.
    pub today: Option<NaiveDate>,
}

impl Default for RemindersConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            interval_s: 3600,
            thresholds_days: vec![90, 30, 7],
            tenants: Vec::new(),
            today: None,
        }
    }
}

impl RemindersConfig {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(60..=86_400).contains(&self.interval_s) {
            return Err(format!(
                "interval_s must be 60-86400, not {}",
                self.interval_s
            ));
        }
        if self.thresholds_days.is_empty()
            || self.thresholds_days.iter().any(|&t| t == 0 || t > 3660)
        {
            return Err("thresholds_days must list 1-3660 day counts".into());
        }
        for tenant in &self.tenants {
            TenantId::new(tenant.clone()).map_err(|e| format!("tenants: {e}"))?;
        }
        if self.enabled && self.tenants.is_empty() {
            return Err("tenants must name the tenants to sweep when enabled".into());
        }
        Ok(())
    }

    /// The day reminders count from.
    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(|| Utc::now().date_naive())
    }

    /// The largest threshold.
    fn horizon(&self) -> u32 {
        self.thresholds_days.iter().copied().max().unwrap_or(0)
    }
}

/// What a reminder event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReminderKind {
    /// Expires within a threshold.
    #[serde(rename = "document.expiring")]
    Expiring,
    /// Has expired.
    #[serde(rename = "document.expired")]
    Expired,
}

impl ReminderKind {
    /// The routing key on the results exchange.
    pub fn routing_key(self) -> &'static str {
        match self {
            Self::Expiring => "document.expiring",
            Self::Expired => "document.expired",
        }
    }
}

/// One reminder event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderEvent {
    /// Always [`REMINDER_SCHEMA`].
    pub schema: String,
    /// The same whenever this reminder is sent: deduplicate on it.
    pub event_id: String,
    /// `document.expiring` or `document.expired`.
    pub event: ReminderKind,
    /// The tenant.
    pub tenant_id: String,
    /// The image.
    pub image_id: ImageId,
    /// CRM customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// CRM project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The filename, as the job gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The document type (`passport`, `id_card`, `business_licence`, ...).
    pub document_type: String,
    /// `YYYY-MM-DD`.
    pub expires_on: NaiveDate,
    /// Days from `today` (negative: expired).
    pub days_left: i64,
    /// The threshold reached (`30d`) or `expired`.
    pub threshold: String,
    /// The day counted from.
    pub today: NaiveDate,
    /// When the event was made, RFC 3339 UTC.
    pub emitted_at: String,
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct SweepReport {
    /// Whether it ran (false: another sweeper held the lock).
    pub ran: bool,
    /// The day counted from.
    pub today: Option<NaiveDate>,
    /// Documents looked at.
    pub documents: usize,
    /// Reminders published and recorded.
    pub sent: Vec<ReminderEvent>,
}

/// The right to sweep: an exclusive, auto-deleted queue on the sweeper's
/// connection. The broker gives it to one connection at a time and takes
/// it back when that connection closes (even on a crash).
#[derive(Debug)]
pub struct SweepLock {
    _channel: Channel,
}

impl SweepLock {
    /// Takes the lock, or `None` when another connection holds it.
    pub async fn try_take(connection: &Connection) -> Result<Option<Self>, JobError> {
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| broker_error("opening the reminders lock channel", e))?;
        let declared = channel
            .queue_declare(
                LOCK_QUEUE.into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await;
        match declared {
            Ok(_) => Ok(Some(Self { _channel: channel })),
            // RESOURCE_LOCKED: another connection's exclusive queue.
            Err(error) if error.to_string().contains("RESOURCE_LOCKED") => Ok(None),
            Err(error) => Err(broker_error("taking the reminders lock", error)),
        }
    }
}

/// Sweeps every configured tenant (or `tenants`, when given) once, if
/// no other sweeper holds the lock.
pub async fn sweep(
    index: &Index,
    connection: &Connection,
    publisher: &Publisher,
    config: &RemindersConfig,
    tenants: &[TenantId],
) -> Result<SweepReport, AppError> {
    let Some(_lock) = SweepLock::try_take(connection).await? else {
        tracing::info!("another sweeper holds the reminders lock; skipped");
        return Ok(SweepReport::default());
    };
    let today = config.today();
    let mut report = SweepReport {
        ran: true,
        today: Some(today),
        ..SweepReport::default()
    };
    for tenant in tenants {
        sweep_tenant(
            &index.tenant(tenant.clone()),
            publisher,
            config,
            today,
            &mut report,
        )
        .await?;
    }
    tracing::info!(
        documents = report.documents,
        sent = report.sent.len(),
        "reminders swept"
    );
    Ok(report)
}

async fn sweep_tenant(
    scope: &TenantIndex<'_>,
    publisher: &Publisher,
    config: &RemindersConfig,
    today: NaiveDate,
    report: &mut SweepReport,
) -> Result<(), AppError> {
    let horizon = today
        .checked_add_days(chrono::Days::new(u64::from(config.horizon()) + 1))
        .unwrap_or(today);
    let filter = ImageFilter {
        expires_until: Some(horizon.to_string()),
        ..ImageFilter::everything()
    };
    for image in all_matching(scope, &filter).await? {
        report.documents += 1;
        let record = &image.record;
        let Some(document) = &record.document else {
            continue;
        };
        let Some(due) = due_reminder(record.image_id, document, &config.thresholds_days, today)
        else {
            continue;
        };
        let event = reminder_event(scope.tenant(), record, &due, today);
        let body = serde_json::to_vec(&event).unwrap_or_default();
        publisher
            .publish_result(event.event.routing_key(), &event.event_id, &body)
            .await?;
        mark_sent(scope, record.image_id, &due).await?;
        report.sent.push(event);
    }
    Ok(())
}

/// Records the reminder in the document, so it is not sent again.
async fn mark_sent(
    scope: &TenantIndex<'_>,
    image_id: ImageId,
    due: &DueReminder,
) -> Result<(), AppError> {
    let stored = scope.get(image_id, true).await?;
    let (mut record, Some(vectors)) = (stored.record, stored.vectors) else {
        return Err(
            IndexError::Engine(format!("image {image_id} came back without its vectors")).into(),
        );
    };
    if let Some(document) = &mut record.document {
        document.reminders.retain(|mark| {
            mark.split_once('@')
                .is_some_and(|(_, date)| date == due.expires_on.to_string())
        });
        document.reminders.push(due.mark());
    }
    scope.upsert(vec![record.into_new_image(vectors)]).await?;
    Ok(())
}

fn reminder_event(
    tenant: &TenantId,
    record: &crate::index::ImageRecord,
    due: &DueReminder,
    today: NaiveDate,
) -> ReminderEvent {
    let kind = if due.expired() {
        ReminderKind::Expired
    } else {
        ReminderKind::Expiring
    };
    let name = format!("{tenant}\n{}\n{}", record.image_id, due.mark());
    ReminderEvent {
        schema: REMINDER_SCHEMA.into(),
        event_id: Uuid::new_v5(&REMINDER_ID_NAMESPACE, name.as_bytes()).to_string(),
        event: kind,
        tenant_id: tenant.to_string(),
        image_id: record.image_id,
        customer_id: record.customer_id.clone(),
        project_id: record.project_id.clone(),
        filename: record.filename.clone(),
        document_type: record
            .document
            .as_ref()
            .map(|d| d.doc_type.to_string())
            .unwrap_or_default(),
        expires_on: due.expires_on,
        days_left: due.days_left,
        threshold: due.threshold.clone(),
        today,
        emitted_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// Sweeps every `interval_s` until `shutdown`, for `imgtag worker` with
/// `[reminders] enabled`. A failed sweep is logged and tried again at the
/// next interval (nothing is marked sent that was not confirmed).
pub async fn run_periodically(
    processor: crate::process::Processor,
    broker: crate::broker::BrokerConfig,
    config: RemindersConfig,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let tenants: Vec<TenantId> = config
        .tenants
        .iter()
        .filter_map(|name| TenantId::new(name.clone()).ok())
        .collect();
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(config.interval_s));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let swept = async {
            let connection = crate::broker::connect(&broker, "imgtag reminders").await?;
            let publisher = Publisher::open(&connection, &broker).await?;
            let report = sweep(
                processor.index(),
                &connection,
                &publisher,
                &config,
                &tenants,
            )
            .await;
            let _ = connection.close(200, "swept".into()).await;
            report
        };
        if let Err(error) = swept.await {
            tracing::warn!(code = error.code(), %error, "reminder sweep failed");
        }
    }
}
