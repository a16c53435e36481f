//! What the index stores about the people and the document in an image:
//! the face boxes ([`FacesRecord`]) and the document reading
//! ([`DocumentRecord`]: type, evidence, key fields, and the reminders sent
//! about its expiry).
//!
//! Derived for the engine's indexes: `document.type` (keyword: filters and
//! facets), `document.identity` (an ID paper: left out of searches unless
//! asked for) and `document.expires_on` (datetime: expiry lists and
//! reminders).
//!
//! Key fields are personal data where [`imgtag_documents::FieldName::personal`]
//! says so: they are stored whole, and masked on the way out
//! (`crate::service::privacy`) unless the caller may see them.

use imgtag_documents::reader::Side;
use imgtag_documents::{DocumentReading, DocumentType, EvidenceItem, Field};
use serde::{Deserialize, Serialize};

use super::error::IndexError;

/// Most faces stored per image.
pub const MAX_FACES: usize = 256;
/// Most fields stored per document.
pub const MAX_FIELDS: usize = 64;
/// Most evidence items stored per document.
pub const MAX_EVIDENCE: usize = 64;
/// Most reminders remembered per document.
pub const MAX_REMINDERS: usize = 32;

/// The faces found in an image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FacesRecord {
    /// How many faces.
    pub count: usize,
    /// Each face: x, y, width, height as fractions of the upright image,
    /// and the detector's score.
    pub faces: Vec<FaceRecord>,
}

/// One face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceRecord {
    /// x, y, width, height as fractions of the upright image (0-1).
    pub rect: [f32; 4],
    /// 0..=1.
    pub score: f32,
}

/// The document an image shows, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// The type (`passport`, `invoice`, ..., `none`).
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    /// How sure the rules are, 0..=1.
    pub confidence: f32,
    /// Front or back (ID cards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// What decided the type.
    pub evidence: Vec<EvidenceItem>,
    /// The key fields, each with its source line and check.
    pub fields: Vec<Field>,
    /// Derived: whether it is an identity paper (ID card, passport,
    /// driving licence).
    pub identity: bool,
    /// Derived: the expiry date, RFC 3339 at midnight UTC, when it has
    /// one (`长期` has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    /// Expiry reminders already published: `"<threshold>@<expiry date>"`
    /// (`"30d@2026-12-27"`, `"expired@2026-12-27"`). Kept across rewrites
    /// of the same document.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminders: Vec<String>,
}

impl DocumentRecord {
    /// The stored form of a reading.
    pub fn from_reading(reading: &DocumentReading) -> Self {
        Self {
            doc_type: reading.doc_type.clone(),
            confidence: reading.confidence.clamp(0.0, 1.0),
            side: reading.side,
            evidence: reading
                .evidence
                .iter()
                .take(MAX_EVIDENCE)
                .cloned()
                .collect(),
            fields: reading.fields.iter().take(MAX_FIELDS).cloned().collect(),
            identity: reading.doc_type.identity_paper(),
            expires_on: reading
                .expires_on()
                .map(|date| format!("{}T00:00:00Z", date.format("%Y-%m-%d"))),
            reminders: Vec::new(),
        }
    }

    /// The expiry date (`YYYY-MM-DD`), when it has one.
    pub fn expiry_date(&self) -> Option<chrono::NaiveDate> {
        let text = self.expires_on.as_deref()?;
        chrono::NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
    }

    /// Checks bounds before the record is written.
    pub fn check(&self) -> Result<(), IndexError> {
        let invalid = |what: String| Err(IndexError::InvalidInput(what));
        if !(0.0..=1.0).contains(&self.confidence) {
            return invalid(format!("document confidence {}", self.confidence));
        }
        if self.fields.len() > MAX_FIELDS || self.evidence.len() > MAX_EVIDENCE {
            return invalid("too many document fields or evidence items".into());
        }
        if self.reminders.len() > MAX_REMINDERS {
            return invalid("too many document reminders".into());
        }
        let too_long = self
            .fields
            .iter()
            .any(|f| f.value.len() > 1024 || f.source.len() > 4096)
            || self.evidence.iter().any(|e| e.detail.len() > 256)
            || self.reminders.iter().any(|r| r.len() > 64);
        if too_long {
            return invalid("an over-long document field, evidence or reminder".into());
        }
        Ok(())
    }
}

impl FacesRecord {
    /// Checks bounds before the record is written.
    pub fn check(&self) -> Result<(), IndexError> {
        let bad = self.faces.len() > MAX_FACES
            || self.count != self.faces.len()
            || self.faces.iter().any(|face| {
                !(0.0..=1.0).contains(&face.score)
                    || face.rect.iter().any(|v| !(0.0..=1.0).contains(v))
            });
        if bad {
            return Err(IndexError::InvalidInput(
                "faces out of range or too many".into(),
            ));
        }
        Ok(())
    }
}
