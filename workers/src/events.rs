//! Result events: what a worker publishes on the results exchange for
//! every job it finishes, under routing key `image.processed`,
//! `image.duplicate` or `image.failed`. `imgtag ingest --json` prints the
//! same objects, one per line. `docs/JOBS.md` documents the format.
//!
//! Delivery is at least once: a worker that loses its connection between
//! publishing an event and acknowledging the job publishes it again on
//! redelivery. `event_id` is the same both times (derived from the job id,
//! the outcome and the image), so consumers deduplicate on it.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::index::{DocumentRecord, ImageId, NsfwRecord, RenditionRecord};
use crate::jobs::Job;
use crate::process::{JobOutcome, OcrSummary, OutcomeKind};

/// The `schema` of every event.
pub const EVENT_SCHEMA: &str = "imgtag.result.v1";

/// Namespace of event ids (UUIDv5 over job id, kind and image id).
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x0b1d_3f6a_92c4_4e27_8d15_6a7e_c3b9_2f40);

/// What happened to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Processed and stored.
    Processed,
    /// The same bytes were already stored by another job (nothing was
    /// rewritten), or near duplicates were found (the image was stored).
    Duplicate,
    /// Refused or failed for good (the job is in the dead-letter queue).
    Failed,
}

impl EventKind {
    /// The routing key on the results exchange.
    pub fn routing_key(self) -> &'static str {
        match self {
            Self::Processed => "image.processed",
            Self::Duplicate => "image.duplicate",
            Self::Failed => "image.failed",
        }
    }
}

/// One tag of the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTag {
    /// Tag name.
    pub name: String,
    /// 0..=1.
    pub score: f32,
    /// `classifier`, `hierarchy`, `zero-shot`, `check`, `exif`.
    pub source: String,
    /// `id@version` of what produced it.
    pub model: String,
}

/// One duplicate found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDuplicate {
    /// The stored image it duplicates.
    pub image_id: ImageId,
    /// `same_bytes` or `near`.
    pub kind: String,
    /// Perceptual hash distance (near duplicates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phash_distance: Option<u32>,
    /// Cosine of the image embeddings (near duplicates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosine: Option<f32>,
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventError {
    /// Stable code (`image.corrupt`, `source.outside_roots`, ...).
    pub code: String,
    /// For people.
    pub message: String,
    /// Whether a retry could have helped (true when attempts ran out).
    pub retryable: bool,
}

/// One result event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultEvent {
    /// Always [`EVENT_SCHEMA`].
    pub schema: String,
    /// Stable across redeliveries of the same job: deduplicate on it.
    pub event_id: String,
    /// What happened.
    pub event: EventKind,
    /// The job (absent when the message could not be read at all).
    pub job_id: Option<String>,
    /// The tenant (absent when the message could not be read).
    pub tenant_id: Option<String>,
    /// CRM customer, as the job gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// CRM project, as the job gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The filename, as the job gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The image id (absent when the image was never decoded).
    pub image_id: Option<ImageId>,
    /// sha256 of the original bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether the index holds the image (after this job).
    pub indexed: bool,
    /// Tags with score and provenance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<EventTag>,
    /// The NSFW verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nsfw: Option<NsfwRecord>,
    /// The text read in the image (bounded; the image API has all of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr: Option<OcrSummary>,
    /// How many faces were found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces: Option<usize>,
    /// The document the image shows: type, evidence, key fields (personal
    /// fields masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentRecord>,
    /// Stored renditions (object-store keys), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub renditions: BTreeMap<String, RenditionRecord>,
    /// Exact and near duplicates in the tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<EventDuplicate>,
    /// `id@version` of every model the result depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// The analyzers this job ran and wrote, with their versions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub analyzers: BTreeMap<String, String>,
    /// Why the job failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EventError>,
    /// Deliveries so far, this one included.
    pub attempts: u32,
    /// Milliseconds per stage.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub timings_ms: BTreeMap<String, f64>,
    /// When the event was made, RFC 3339 UTC.
    pub emitted_at: String,
}

impl ResultEvent {
    /// The event of a finished job.
    pub fn finished(job: &Job, outcome: &JobOutcome, attempts: u32) -> Self {
        let event = match outcome.kind {
            OutcomeKind::Processed if outcome.duplicates.is_empty() => EventKind::Processed,
            OutcomeKind::Processed | OutcomeKind::Duplicate => EventKind::Duplicate,
        };
        Self {
            event_id: event_id(Some(&job.job_id), event, Some(outcome.image_id)),
            event,
            image_id: Some(outcome.image_id),
            sha256: Some(outcome.sha256.clone()),
            indexed: outcome.indexed,
            tags: outcome.tags.clone(),
            nsfw: outcome.nsfw,
            ocr: outcome.ocr.clone(),
            faces: outcome.faces,
            document: outcome.document.clone(),
            renditions: outcome.renditions.clone(),
            duplicates: outcome.duplicates.clone(),
            models: outcome.models.clone(),
            analyzers: outcome.analyzers.clone(),
            timings_ms: outcome.timings_ms.clone(),
            ..Self::base(Some(job), attempts)
        }
    }

    /// The event of a job that failed for good. `job` is `None` when the
    /// message could not be parsed.
    pub fn failed(
        job: Option<&Job>,
        code: &str,
        message: &str,
        retryable: bool,
        attempts: u32,
    ) -> Self {
        let kind = EventKind::Failed;
        Self {
            event_id: event_id(job.map(|j| j.job_id.as_str()), kind, None),
            event: kind,
            error: Some(EventError {
                code: code.into(),
                message: message.into(),
                retryable,
            }),
            ..Self::base(job, attempts)
        }
    }

    fn base(job: Option<&Job>, attempts: u32) -> Self {
        Self {
            schema: EVENT_SCHEMA.into(),
            event_id: String::new(),
            event: EventKind::Failed,
            job_id: job.map(|j| j.job_id.clone()),
            tenant_id: job.map(|j| j.tenant_id.to_string()),
            customer_id: job.and_then(|j| j.customer_id.clone()),
            project_id: job.and_then(|j| j.project_id.clone()),
            filename: job.and_then(|j| j.filename.clone()),
            image_id: None,
            sha256: None,
            indexed: false,
            tags: Vec::new(),
            nsfw: None,
            ocr: None,
            faces: None,
            document: None,
            renditions: BTreeMap::new(),
            duplicates: Vec::new(),
            models: Vec::new(),
            analyzers: BTreeMap::new(),
            error: None,
            attempts,
            timings_ms: BTreeMap::new(),
            emitted_at: crate::index::record::format_datetime(Utc::now()),
        }
    }

    /// The event as a message body.
    pub fn to_body(&self) -> Vec<u8> {
        // Strings, numbers and maps only: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn event_id(job_id: Option<&str>, kind: EventKind, image: Option<ImageId>) -> String {
    match job_id {
        Some(job_id) => {
            let image = image.map(|i| i.to_string()).unwrap_or_default();
            let name = format!("{job_id}\n{}\n{image}", kind.routing_key());
            Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes()).to_string()
        }
        // Nothing identifies an unreadable message: a random id.
        None => Uuid::new_v5(
            &EVENT_ID_NAMESPACE,
            format!(
                "unreadable\n{}",
                Utc::now().timestamp_nanos_opt().unwrap_or_default()
            )
            .as_bytes(),
        )
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_stable_per_job_outcome_and_image() {
        let image = ImageId::derive(&"t".parse().unwrap(), &"ab".repeat(32)).unwrap();
        let a = event_id(Some("j1"), EventKind::Processed, Some(image));
        assert_eq!(a, event_id(Some("j1"), EventKind::Processed, Some(image)));
        assert_ne!(a, event_id(Some("j2"), EventKind::Processed, Some(image)));
        assert_ne!(a, event_id(Some("j1"), EventKind::Duplicate, Some(image)));
        assert_eq!(EventKind::Failed.routing_key(), "image.failed");
    }
}
