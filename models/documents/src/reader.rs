//! [`DocumentReader`]: evidence in, [`DocumentReading`] out. Reads the key
//! fields ([`crate::fields::extract`]), scores every type's rules
//! ([`TypeRules`]) and keeps the best type at or above its minimum score;
//! `other_document` when only the text's amount says "document", `none`
//! when nothing does.
//!
//! - `score`: one type's score and evidence.
//! - `side`: which side of a card shows.

mod score;
mod side;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use side::Side;

use crate::types::TypeRule;
use crate::{
    CustomTypeRule, DocumentError, DocumentEvidence, DocumentType, Field, FieldName, TypeRules,
};
use score::{Scored, Seen};

/// The reader's own revision: bump it when reading changes in a way the
/// rules' digest does not show (scoring, signals, field handling). Part of
/// [`DocumentReader::version`].
pub const READER_REVISION: u32 = 2;

/// Slack when comparing a noisy-or score with a minimum (float rounding).
const SCORE_EPSILON: f32 = 1e-6;

/// Reads documents with the built-in rules and a tenant's custom types.
/// Cheap to clone; reading never fails.
#[derive(Debug, Clone)]
pub struct DocumentReader {
    rules: TypeRules,
}

impl DocumentReader {
    /// A reader with the built-in rules and these custom types; fails when
    /// a custom rule is malformed.
    pub fn new(custom: &[CustomTypeRule]) -> Result<Self, DocumentError> {
        Ok(Self {
            rules: TypeRules::with_custom(custom)?,
        })
    }

    /// The rules it reads with (display names, digest).
    pub fn rules(&self) -> &TypeRules {
        &self.rules
    }

    /// `<revision>-<rules digest>`: changes whenever a reading could.
    pub fn version(&self) -> String {
        format!("{READER_REVISION}-{}", self.rules.digest())
    }

    /// What kind of document the evidence shows, its key fields and why.
    pub fn read(&self, evidence: &DocumentEvidence) -> DocumentReading {
        let fields = crate::fields::extract(&evidence.lines);
        self.read_with_fields(evidence, fields)
    }

    /// [`Self::read`] with the fields already read.
    fn read_with_fields(&self, evidence: &DocumentEvidence, fields: Vec<Field>) -> DocumentReading {
        if evidence.lines.is_empty() {
            return DocumentReading::not_a_document(1.0, fields);
        }
        let seen = Seen::new(evidence, &fields);
        let scored: Vec<(&TypeRule, Scored)> = self
            .rules
            .rules()
            .iter()
            .map(|rule| (rule, score::score(rule, &seen)))
            .collect();
        let passes = |(rule, scored): &&(&TypeRule, Scored)| {
            scored.score + SCORE_EPSILON >= rule.table.min_score
        };
        let specific = scored
            .iter()
            .filter(|(rule, _)| rule.doc_type != DocumentType::OtherDocument)
            .filter(passes)
            .fold(
                None,
                |best: Option<&(&TypeRule, Scored)>, candidate| match best {
                    Some(best) if best.1.score >= candidate.1.score => Some(best),
                    _ => Some(candidate),
                },
            );
        let winner = specific.or_else(|| {
            scored
                .iter()
                .filter(|(rule, _)| rule.doc_type == DocumentType::OtherDocument)
                .find(passes)
        });
        let Some((rule, winning)) = winner else {
            let best = scored
                .iter()
                .map(|(_, scored)| scored.score)
                .fold(0.0_f32, f32::max);
            return DocumentReading::not_a_document(1.0 - best, fields);
        };
        let side = side::side_of(rule, &seen);
        DocumentReading {
            doc_type: rule.doc_type.clone(),
            confidence: rounded(winning.score),
            evidence: winning.evidence.clone(),
            fields,
            side,
        }
    }
}

/// What the reader made of one image. Stored in the index as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentReading {
    /// The document's type (`none`: not a document).
    pub doc_type: DocumentType,
    /// How sure the type is, 0-1: the winning type's score; for `none`, one
    /// minus the best score of any type.
    pub confidence: f32,
    /// The winning type's matched rules (empty for `none`).
    #[serde(default)]
    pub evidence: Vec<EvidenceItem>,
    /// The key fields read, whatever the type (a receipt keeps its total);
    /// for `none` only those whose check passes.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// The side of a card, when the type has sides and one is clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
}

impl DocumentReading {
    /// Not a document: keeps only the fields whose check passes.
    fn not_a_document(confidence: f32, fields: Vec<Field>) -> Self {
        Self {
            doc_type: DocumentType::None,
            confidence: rounded(confidence.clamp(0.0, 1.0)),
            evidence: Vec::new(),
            fields: fields
                .into_iter()
                .filter(|field| field.valid == Some(true))
                .collect(),
            side: None,
        }
    }

    /// The first field of that name.
    pub fn field(&self, name: FieldName) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The date the document expires, when it says (not for `permanent`).
    pub fn expires_on(&self) -> Option<NaiveDate> {
        crate::fields::expires_on(&self.fields)
    }

    /// Whether it is an identity paper (ID card, passport, driving licence).
    pub fn is_identity_paper(&self) -> bool {
        self.doc_type.identity_paper()
    }
}

/// One matched rule of the winning type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// What kind of rule matched.
    pub kind: EvidenceKind,
    /// What matched: the keywords as written in the rule (`, `-separated
    /// when a rule needs several), the field name, the class, the signal.
    pub detail: String,
    /// The rule's weight.
    pub weight: f32,
}

/// The kinds of rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A keyword rule of a built-in type.
    Keyword,
    /// A field the field reader found.
    Field,
    /// A class the image classifier gave.
    Class,
    /// An image or layout signal.
    Signal,
    /// A tenant's custom type's keywords.
    CustomRule,
}

/// A score to three decimals (stable JSON, no float noise).
fn rounded(score: f32) -> f32 {
    (score * 1000.0).round() / 1000.0
}
