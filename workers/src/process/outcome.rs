//! What a finished job produced: the [`JobOutcome`] the worker turns into
//! a result event and `imgtag ingest` prints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::events::{EventDuplicate, EventTag};
use crate::index::{DocumentRecord, ImageId, NsfwRecord, OcrRecord, RenditionRecord};

/// Most bytes of OCR text a result event carries (the record keeps more).
pub const MAX_EVENT_TEXT: usize = 4096;

/// How a job ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Processed (and stored, if asked).
    Processed,
    /// The same bytes were already stored by another job; nothing written.
    Duplicate,
}

/// The text read in an image, as a result event carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrSummary {
    /// Whether the text was read (`false`: the gate found too little text
    /// to be worth reading).
    pub read: bool,
    /// Lines read.
    pub line_count: usize,
    /// The text in reading order, lines joined by newlines, at most
    /// [`MAX_EVENT_TEXT`] bytes.
    pub text: String,
    /// Whether `text` was cut (the record holds more; see the image API).
    pub text_truncated: bool,
    /// Clockwise rotation of the page content that was undone to read it.
    pub rotation: u16,
    /// Whether the text holds CJK characters.
    pub has_cjk: bool,
}

impl OcrSummary {
    /// The summary of a stored OCR record.
    pub fn of(record: &OcrRecord) -> Self {
        let text = truncate_at_char(&record.text, MAX_EVENT_TEXT);
        Self {
            read: record.read,
            line_count: record.line_count,
            text_truncated: text.len() < record.text.len() || record.truncated,
            text: text.to_owned(),
            rotation: record.rotation,
            has_cjk: record.has_cjk,
        }
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
pub fn truncate_at_char(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What a finished job produced.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// Processed or duplicate.
    pub kind: OutcomeKind,
    /// The image id.
    pub image_id: ImageId,
    /// sha256 of the bytes.
    pub sha256: String,
    /// Whether the index holds the image.
    pub indexed: bool,
    /// Tags (every analyzer's), in analyzer order, best first within one.
    pub tags: Vec<EventTag>,
    /// The NSFW verdict.
    pub nsfw: Option<NsfwRecord>,
    /// The text read in the image (masked for identity papers).
    pub ocr: Option<OcrSummary>,
    /// How many faces were found.
    pub faces: Option<usize>,
    /// The document the image shows, personal fields masked.
    pub document: Option<DocumentRecord>,
    /// Stored objects, by name.
    pub renditions: BTreeMap<String, RenditionRecord>,
    /// Duplicates in the tenant.
    pub duplicates: Vec<EventDuplicate>,
    /// Models the result depends on.
    pub models: Vec<String>,
    /// The analyzers that ran and wrote their output, with their versions.
    pub analyzers: BTreeMap<String, String>,
    /// Milliseconds per stage: `fetch`, `queue` (waiting for a CPU permit),
    /// `cpu` (decode, checks, renditions, analyzers), `duplicates`,
    /// `store`, `index`; and per analyzer (`analyzer.ocr`, ...).
    pub timings_ms: BTreeMap<String, f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        assert_eq!(truncate_at_char("发票号码", 7), "发票");
        assert_eq!(truncate_at_char("abc", 7), "abc");
    }
}
