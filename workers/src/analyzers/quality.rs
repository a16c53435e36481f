//! The `quality` analyzer: the quality flags an image keeps (`too_small`,
//! `blurry`, `underexposed`, `overexposed`) and the EXIF facts
//! (`geotagged`, `camera_photo`), as tags with source `check` or `exif`.
//!
//! The image core measures exposure on every image alike; a clean scan or
//! a screenshot is mostly white (or dark, in a dark theme) by design, not
//! badly exposed. So when the OCR analyzer found the image dominated by
//! text, the exposure flags are not raised, and the output says why.

use imgtag_models::{ModelRef, Tag, TagSource};
use imgtag_pipeline::Inspection;
use serde::{Deserialize, Serialize};

use super::stage::{AnalysisInput, BuildContext, Stage, StageConfig, settings_digest};
use super::{Analysis, AnalyzerId};
use crate::error::AppError;

/// Rule-set id of the check and EXIF tags.
pub const RULES_ID: &str = "imgtag-quality";
/// Bumped whenever the rules below change what they output.
const RULES_REVISION: &str = "2";

/// `[analyzers.quality]` (the thresholds themselves are `[quality]`, used by
/// the image core).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityConfig {
    /// Run it.
    pub enabled: bool,
    /// Keep exposure flags off images the OCR analyzer found dominated by
    /// text (scans, screenshots).
    pub excuse_documents: bool,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            excuse_documents: true,
        }
    }
}

impl StageConfig for QualityConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The flags an image keeps, and its check and EXIF tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityOutput {
    /// Raised flags, sorted.
    pub flags: Vec<String>,
    /// Exposure flags the image core raised but this analyzer did not
    /// keep, and why (`text_document`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excused: Vec<String>,
    /// Tags with source `check` (flags) and `exif` (facts).
    #[serde(skip)]
    pub tags: Vec<Tag>,
}

/// The quality rules.
#[derive(Debug)]
pub struct QualityAnalyzer {
    excuse_documents: bool,
    rules: ModelRef,
}

impl Stage for QualityAnalyzer {
    type Config = QualityConfig;
    type Output = QualityOutput;

    const READS: &'static [AnalyzerId] = &[AnalyzerId::Ocr];

    fn build(config: &QualityConfig, _: &BuildContext<'_>) -> Result<Self, AppError> {
        Ok(Self {
            excuse_documents: config.excuse_documents,
            rules: ModelRef {
                id: RULES_ID.into(),
                version: format!(
                    "{RULES_REVISION}+{}",
                    settings_digest(&config.excuse_documents)
                ),
            },
        })
    }

    fn version(&self) -> String {
        self.rules.to_string()
    }

    fn models(&self) -> Vec<ModelRef> {
        vec![self.rules.clone()]
    }

    fn run(
        &self,
        input: &AnalysisInput<'_>,
        analysis: &Analysis,
    ) -> Result<QualityOutput, AppError> {
        let text_document = self.excuse_documents
            && analysis
                .ocr
                .as_ref()
                .is_some_and(super::ocr::OcrOutput::text_dominant);
        Ok(assess(input.inspection, text_document, &self.rules))
    }

    fn tags(output: &QualityOutput) -> Vec<Tag> {
        output.tags.clone()
    }
}

/// The flags and tags of an inspected image; `text_document` excuses the
/// exposure flags.
pub fn assess(inspection: &Inspection, text_document: bool, rules: &ModelRef) -> QualityOutput {
    let quality = &inspection.quality;
    let mut flags = Vec::new();
    let mut excused = Vec::new();
    for (name, raised, exposure) in [
        ("too_small", quality.too_small, false),
        ("blurry", quality.blurry, false),
        ("underexposed", quality.underexposed, true),
        ("overexposed", quality.overexposed, true),
    ] {
        if !raised {
            continue;
        }
        if exposure && text_document {
            excused.push(format!("{name}: text_document"));
        } else {
            flags.push(name.to_owned());
        }
    }
    let exif = inspection.metadata.exif.as_ref();
    let facts = [
        ("geotagged", exif.is_some_and(|e| e.gps.is_some())),
        (
            "camera_photo",
            exif.is_some_and(|e| e.make.is_some() || e.model.is_some()),
        ),
    ];
    let tag = |name: &str, source| Tag {
        name: name.to_owned(),
        score: 1.0,
        source,
        model: rules.clone(),
    };
    let tags = flags
        .iter()
        .map(|name| tag(name, TagSource::Check))
        .chain(
            facts
                .iter()
                .filter(|(_, set)| *set)
                .map(|(name, _)| tag(name, TagSource::Exif)),
        )
        .collect();
    flags.sort();
    QualityOutput {
        flags,
        excused,
        tags,
    }
}
