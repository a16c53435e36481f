//! What the renditions of one image hide: for the document types
//! `[privacy] redact_types` lists (identity papers by default), the faces
//! blurred and the lines holding personal fields (ID numbers, names, birth
//! dates, document numbers, the machine-readable zone) filled; with
//! `redact_all_faces`, the faces of every image. The original is stored
//! as it came.

use imgtag_pipeline::{Quad, Redaction, Region};

use crate::analyzers::Analysis;
use crate::config::PrivacyConfig;

/// The redaction of an analysed image, when it needs one.
pub fn redaction_for(analysis: &Analysis, privacy: &PrivacyConfig) -> Option<Redaction> {
    let document = analysis
        .document
        .as_ref()
        .filter(|reading| privacy.redacts(&reading.doc_type));
    if document.is_none() && !privacy.redact_all_faces {
        return None;
    }
    let blur: Vec<Region> = analysis
        .faces
        .iter()
        .flat_map(|output| &output.faces)
        .map(|face| face.rect)
        .collect();
    let mut fill: Vec<Quad> = Vec::new();
    if let (Some(reading), Some(ocr)) = (document, &analysis.ocr)
        && let Some(result) = &ocr.result
    {
        let (width, height) = (ocr.size.0.max(1) as f32, ocr.size.1.max(1) as f32);
        for field in reading.fields.iter().filter(|f| f.name.personal()) {
            let lines = field.source.lines().count().max(1);
            for line in result.lines.iter().skip(field.line).take(lines) {
                fill.push(line.quad.map(|[x, y]| [x / width, y / height]));
            }
        }
    }
    let redaction = Redaction { blur, fill };
    (!redaction.is_empty()).then_some(redaction)
}
