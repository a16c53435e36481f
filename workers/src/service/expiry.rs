//! Documents that expire: which of a tenant's documents expire within a
//! window (`imgtag expiring`, `GET /api/v1/documents/expiring`, the page's
//! expiry view), and which expiry reminders are due
//! ([`due_reminders`], used by `imgtag reminders` and the worker).
//!
//! Dates are calendar days in UTC. "Today" is a parameter everywhere, so
//! tests and backfills can set the clock.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::privacy::{Disclosure, mask_document};
use crate::error::AppError;
use crate::index::query::MAX_LIMIT;
use crate::index::{DocumentRecord, ImageFilter, ImageId, IndexError, StoredImage, TenantIndex};

/// Longest window a listing may ask for.
pub const MAX_WITHIN_DAYS: u32 = 3660;
/// Most documents one listing returns.
pub const MAX_EXPIRING: usize = 10_000;

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringQuery {
    /// Documents expiring from `today` to `today + within_days` (inclusive).
    pub within_days: u32,
    /// Only this customer's.
    pub customer: Option<String>,
    /// Also documents already expired.
    pub include_expired: bool,
    /// The day to count from.
    pub today: NaiveDate,
}

/// A document's expiry status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryStatus {
    /// Expires today or later.
    Expiring,
    /// Expired before today.
    Expired,
}

/// One expiring document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpiringDocument {
    /// The image.
    pub image_id: ImageId,
    /// CRM customer.
    pub customer_id: Option<String>,
    /// CRM project.
    pub project_id: Option<String>,
    /// Original filename.
    pub filename: Option<String>,
    /// The document type.
    pub document_type: String,
    /// `YYYY-MM-DD`.
    pub expires_on: NaiveDate,
    /// Days from today (negative: expired that many days ago).
    pub days_left: i64,
    /// Expiring or expired.
    pub status: ExpiryStatus,
    /// The document's key fields (personal ones masked unless allowed).
    pub document: DocumentRecord,
}

/// A listing (also the HTTP API's answer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpiringOutput {
    /// The tenant.
    pub tenant_id: String,
    /// The day counted from.
    pub today: NaiveDate,
    /// The window in days.
    pub within_days: u32,
    /// Soonest first.
    pub documents: Vec<ExpiringDocument>,
}

/// Lists the tenant's documents expiring within the window, soonest first.
/// Identity papers are included (an expiry list is about them); their
/// personal fields are shown as `disclosure` allows.
pub async fn expiring(
    scope: &TenantIndex<'_>,
    query: &ExpiringQuery,
    disclosure: Disclosure,
) -> Result<ExpiringOutput, AppError> {
    if query.within_days > MAX_WITHIN_DAYS {
        return Err(IndexError::InvalidInput(format!(
            "within {} days: at most {MAX_WITHIN_DAYS}",
            query.within_days
        ))
        .into());
    }
    let until = query
        .today
        .checked_add_days(Days::new(u64::from(query.within_days) + 1))
        .ok_or_else(|| IndexError::InvalidInput("the window ends after year 262143".into()))?;
    let filter = ImageFilter {
        customers: query.customer.iter().cloned().collect(),
        expires_since: (!query.include_expired).then(|| query.today.to_string()),
        expires_until: Some(until.to_string()),
        ..ImageFilter::everything()
    };
    let mut documents = Vec::new();
    for image in all_matching(scope, &filter).await? {
        if let Some(mut document) = expiring_document(image, query.today) {
            if disclosure == Disclosure::Masked {
                mask_document(&mut document.document);
            }
            documents.push(document);
        }
    }
    documents.sort_by(|a, b| {
        a.expires_on
            .cmp(&b.expires_on)
            .then(a.image_id.to_string().cmp(&b.image_id.to_string()))
    });
    Ok(ExpiringOutput {
        tenant_id: scope.tenant().to_string(),
        today: query.today,
        within_days: query.within_days,
        documents,
    })
}

/// The listing entry of a stored image with an expiry date.
fn expiring_document(image: StoredImage, today: NaiveDate) -> Option<ExpiringDocument> {
    let record = image.record;
    let mut document = record.document?;
    let expires_on = document.expiry_date()?;
    let days_left = (expires_on - today).num_days();
    document.reminders.clear();
    Some(ExpiringDocument {
        image_id: record.image_id,
        customer_id: record.customer_id,
        project_id: record.project_id,
        filename: record.filename,
        document_type: document.doc_type.to_string(),
        expires_on,
        days_left,
        status: if days_left < 0 {
            ExpiryStatus::Expired
        } else {
            ExpiryStatus::Expiring
        },
        document,
    })
}

/// Every image `filter` matches (at most [`MAX_EXPIRING`]).
pub async fn all_matching(
    scope: &TenantIndex<'_>,
    filter: &ImageFilter,
) -> Result<Vec<StoredImage>, AppError> {
    let mut images = Vec::new();
    let mut cursor = None;
    loop {
        let page = scope.scroll(filter, cursor, MAX_LIMIT, false).await?;
        images.extend(page.images);
        cursor = page.next;
        if cursor.is_none() || images.len() >= MAX_EXPIRING {
            images.truncate(MAX_EXPIRING);
            return Ok(images);
        }
    }
}

/// A reminder that is due for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    /// The image.
    pub image_id: ImageId,
    /// `30d` (a threshold) or `expired`.
    pub threshold: String,
    /// The document's expiry date.
    pub expires_on: NaiveDate,
    /// Days from today (negative: expired).
    pub days_left: i64,
}

impl DueReminder {
    /// Its mark in the document's `reminders` (`"30d@2026-12-27"`).
    pub fn mark(&self) -> String {
        format!("{}@{}", self.threshold, self.expires_on)
    }

    /// Whether it says the document has expired.
    pub fn expired(&self) -> bool {
        self.days_left < 0
    }
}

/// The reminder due for `document` today, if any: `expired` once it has
/// expired, else the smallest threshold (in days) it is within. Nothing
/// when that reminder was already sent (its mark is in `reminders`), so
/// each document gets each reminder once, and a document first seen 20
/// days before expiry gets the 30-day reminder, not the 90-day one too.
pub fn due_reminder(
    image_id: ImageId,
    document: &DocumentRecord,
    thresholds: &[u32],
    today: NaiveDate,
) -> Option<DueReminder> {
    let expires_on = document.expiry_date()?;
    let days_left = (expires_on - today).num_days();
    let threshold = if days_left < 0 {
        "expired".to_owned()
    } else {
        let smallest = thresholds
            .iter()
            .copied()
            .filter(|&t| days_left <= i64::from(t))
            .min()?;
        format!("{smallest}d")
    };
    let due = DueReminder {
        image_id,
        threshold,
        expires_on,
        days_left,
    };
    (!document.reminders.contains(&due.mark())).then_some(due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TenantId;

    fn document(expires_on: &str, reminders: &[&str]) -> DocumentRecord {
        serde_json::from_value(serde_json::json!({
            "type": "passport", "confidence": 0.9, "evidence": [], "fields": [],
            "identity": true, "expires_on": format!("{expires_on}T00:00:00Z"),
            "reminders": reminders,
        }))
        .unwrap()
    }

    fn due(expires_on: &str, reminders: &[&str], today: &str) -> Option<String> {
        let id = ImageId::derive(&TenantId::new("t").unwrap(), &"ab".repeat(32)).unwrap();
        let today = NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap();
        due_reminder(id, &document(expires_on, reminders), &[90, 30, 7], today).map(|d| d.mark())
    }

    #[test]
    fn the_smallest_crossed_threshold_is_due_once() {
        assert_eq!(due("2027-06-01", &[], "2026-12-07"), None);
        assert_eq!(
            due("2027-02-15", &[], "2026-12-07").as_deref(),
            Some("90d@2027-02-15")
        );
        assert_eq!(due("2027-02-15", &["90d@2027-02-15"], "2026-12-07"), None);
        assert_eq!(
            due("2026-12-27", &[], "2026-12-07").as_deref(),
            Some("30d@2026-12-27")
        );
        assert_eq!(
            due("2026-12-27", &["30d@2026-12-27"], "2026-12-21").as_deref(),
            Some("7d@2026-12-27")
        );
        assert_eq!(
            due("2026-12-27", &["7d@2026-12-27"], "2026-12-28").as_deref(),
            Some("expired@2026-12-27")
        );
        assert_eq!(
            due("2026-12-27", &["expired@2026-12-27"], "2027-01-30"),
            None
        );
        // A renewed document (new expiry date) starts afresh.
        assert_eq!(
            due("2036-12-27", &["expired@2026-12-27"], "2036-12-01").as_deref(),
            Some("30d@2036-12-27")
        );
    }
}
