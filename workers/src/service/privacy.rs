//! Personal data on the way out: key fields of documents that identify a
//! person (ID numbers, names, birth dates, document numbers, MRZ lines)
//! and the text of identity papers are stored whole and shown whole only
//! to callers allowed to see them ([`Disclosure::Whole`]: an API key with
//! `personal_data = true`, the CLI with `--show-personal`). Everyone else,
//! and every result event, gets them masked (`110105********002X`).
//!
//! Logs and metrics never carry them: nothing here is logged, and the
//! analyzers log codes and counts only.

use imgtag_documents::mask::{mask_field, mask_line};
use serde::{Deserialize, Serialize};

use super::search::SearchOutput;
use crate::index::{DocumentRecord, ImageRecord, OcrRecord};

/// How much personal data a caller sees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    /// Personal fields masked (the default).
    #[default]
    Masked,
    /// Everything as stored.
    Whole,
}

/// The record as `disclosure` lets the caller see it.
pub fn present_record(mut record: ImageRecord, disclosure: Disclosure) -> ImageRecord {
    if disclosure == Disclosure::Masked {
        mask_record(&mut record);
    }
    record
}

/// Every hit's record as `disclosure` lets the caller see it.
pub fn present_search(mut output: SearchOutput, disclosure: Disclosure) -> SearchOutput {
    if disclosure == Disclosure::Masked {
        for hit in &mut output.hits {
            mask_record(&mut hit.hit.image.record);
        }
    }
    output
}

/// Masks a record's personal data in place: the document's personal
/// fields, and for an identity paper its text and search terms.
pub fn mask_record(record: &mut ImageRecord) {
    let identity = record.document.as_ref().is_some_and(|d| d.identity);
    if let Some(document) = &mut record.document {
        mask_document(document);
    }
    if identity {
        if let Some(ocr) = &mut record.ocr {
            mask_ocr(ocr);
        }
        // The search terms are the text itself.
        record.ocr_terms = None;
    }
}

/// A document's personal fields masked; on an identity paper every
/// field's source line too (a nationality read from the machine-readable
/// zone has the whole zone as its source).
pub fn mask_document(document: &mut DocumentRecord) {
    for field in &mut document.fields {
        *field = mask_field(field);
        if document.identity && !field.name.personal() {
            field.source = mask_text(&field.source);
        }
    }
}

/// Every line of an identity paper's text masked (labels kept).
pub fn mask_ocr(ocr: &mut OcrRecord) {
    for line in &mut ocr.lines {
        line.text = mask_line(&line.text);
    }
    ocr.text = ocr
        .lines
        .iter()
        .map(|line| line.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
}

/// The text of an identity paper masked, line by line.
pub fn mask_text(text: &str) -> String {
    text.lines().map(mask_line).collect::<Vec<_>>().join("\n")
}
