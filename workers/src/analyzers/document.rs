//! The `document` analyzer: which kind of document an image is (ID card,
//! passport, business licence, invoice, receipt, screenshot, ... or `none`
//! for a photo), with the evidence that decided it, and its key fields
//! checked where a check exists ([`imgtag_documents`]).
//!
//! It runs no model of its own: it reads the OCR lines, the classifier's
//! classes, the faces and the camera EXIF that the analyzers before it
//! produced. Tenants add their own types with keyword rules
//! (`[[analyzers.document.custom_types]]`).

use imgtag_documents::{
    CustomTypeRule, DocumentEvidence, DocumentReader, DocumentReading, DocumentType, EvidenceLine,
};
use imgtag_models::ocr::Quad;
use imgtag_models::{ModelRef, Tag, TagSource};
use serde::{Deserialize, Serialize};

use super::stage::{AnalysisInput, BuildContext, Stage, StageConfig};
use super::{Analysis, AnalyzerId};
use crate::error::AppError;

/// Rule-set id of the document reader (types and fields).
pub const DOCUMENT_RULES_ID: &str = "imgtag-document-rules";
/// Prefix of the document-type tags (`doc_invoice`).
pub const TYPE_TAG_PREFIX: &str = "doc_";
/// Most classifier classes handed to the rules.
const CLASSES: usize = 5;

/// `[analyzers.document]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentConfig {
    /// Run it.
    pub enabled: bool,
    /// A tenant's own document types, found by keywords in the text.
    pub custom_types: Vec<CustomTypeRule>,
}

impl Default for DocumentConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            custom_types: Vec::new(),
        }
    }
}

impl StageConfig for DocumentConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self) -> Result<(), String> {
        DocumentReader::new(&self.custom_types)
            .map(drop)
            .map_err(|e| format!("custom_types: {e}"))
    }
}

/// The tag a document type becomes (`doc_passport`); `none` has none.
pub fn type_tag(doc_type: &DocumentType) -> Option<String> {
    (*doc_type != DocumentType::None).then(|| format!("{TYPE_TAG_PREFIX}{doc_type}"))
}

/// The loaded document rules.
#[derive(Debug)]
pub struct DocumentAnalyzer {
    reader: DocumentReader,
}

impl DocumentAnalyzer {
    /// The rules (display names of the types).
    pub fn reader(&self) -> &DocumentReader {
        &self.reader
    }
}

impl Stage for DocumentAnalyzer {
    type Config = DocumentConfig;
    type Output = DocumentReading;

    const READS: &'static [AnalyzerId] =
        &[AnalyzerId::Classifier, AnalyzerId::Faces, AnalyzerId::Ocr];

    fn build(config: &DocumentConfig, _: &BuildContext<'_>) -> Result<Self, AppError> {
        let reader = DocumentReader::new(&config.custom_types)
            .map_err(|e| AppError::Config(format!("analyzers.document.custom_types: {e}")))?;
        Ok(Self { reader })
    }

    fn version(&self) -> String {
        self.reader.version()
    }

    fn models(&self) -> Vec<ModelRef> {
        vec![ModelRef {
            id: DOCUMENT_RULES_ID.into(),
            version: self.reader.version(),
        }]
    }

    fn run(
        &self,
        input: &AnalysisInput<'_>,
        analysis: &Analysis,
    ) -> Result<DocumentReading, AppError> {
        Ok(self.reader.read(&evidence(input, analysis)))
    }

    fn tags(output: &DocumentReading) -> Vec<Tag> {
        let Some(name) = type_tag(&output.doc_type) else {
            return Vec::new();
        };
        vec![Tag {
            name,
            score: output.confidence.clamp(0.0, 1.0),
            source: TagSource::Document,
            model: ModelRef {
                id: DOCUMENT_RULES_ID.into(),
                version: "1".into(),
            },
        }]
    }
}

/// What the rules look at, gathered from the analyzers before.
fn evidence(input: &AnalysisInput<'_>, analysis: &Analysis) -> DocumentEvidence {
    let metadata = &input.inspection.metadata;
    let size = (metadata.width, metadata.height);
    let camera_exif = metadata.exif.as_ref().is_some_and(|exif| {
        [exif.make.as_deref(), exif.model.as_deref()]
            .into_iter()
            .flatten()
            .any(|s| !s.trim().is_empty())
    });
    let (lines, text_dominant) = match &analysis.ocr {
        Some(ocr) => (
            ocr.result
                .iter()
                .flat_map(|result| &result.lines)
                .map(|line| EvidenceLine {
                    text: line.text.clone(),
                    confidence: line.confidence,
                    rect: fraction_rect(&line.quad, ocr.size),
                })
                .collect(),
            ocr.text_dominant(),
        ),
        None => (Vec::new(), false),
    };
    let classes = analysis
        .classifier
        .iter()
        .flat_map(|output| output.classes.iter().take(CLASSES))
        .map(|class| {
            (
                class.label.to_lowercase().replace([' ', '-'], "_"),
                class.probability,
            )
        })
        .collect();
    let faces = analysis
        .faces
        .iter()
        .flat_map(|output| output.faces.iter().map(|face| face.rect))
        .collect();
    DocumentEvidence {
        lines,
        size,
        classes,
        camera_exif,
        faces,
        text_dominant,
    }
}

/// The axis-aligned box around `quad`, as fractions of `size`.
pub fn fraction_rect(quad: &Quad, size: (u32, u32)) -> [f32; 4] {
    let (width, height) = (size.0.max(1) as f32, size.1.max(1) as f32);
    let xs = quad.iter().map(|p| p[0]);
    let ys = quad.iter().map(|p| p[1]);
    let (left, right) = (
        xs.clone().fold(f32::MAX, f32::min),
        xs.fold(f32::MIN, f32::max),
    );
    let (top, bottom) = (
        ys.clone().fold(f32::MAX, f32::min),
        ys.fold(f32::MIN, f32::max),
    );
    let left = (left / width).clamp(0.0, 1.0);
    let top = (top / height).clamp(0.0, 1.0);
    [
        left,
        top,
        ((right / width).clamp(0.0, 1.0) - left).max(0.0),
        ((bottom / height).clamp(0.0, 1.0) - top).max(0.0),
    ]
}
