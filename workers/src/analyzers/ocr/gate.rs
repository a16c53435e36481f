//! Whether an image's text is worth reading.
//!
//! Under `mode = "auto"`, cheapest evidence first:
//! 1. the classifier's: an image whose classes under the `document` and
//!    `screenshot` friendly tags hold at least `document_mass` of the
//!    probability is read (costs nothing: the classifier ran already);
//! 2. otherwise a probe: a text detector alone (PP-OCRv6 tiny, about
//!    10 ms at 320 px, whatever the reading tier) on the small model input,
//!    its long side capped by `probe_side`; the image is read when the
//!    probe found at least `min_boxes` line-sized text regions (each at
//!    most `max_box_area` of the image: on grainy or textured photos the
//!    detector sometimes marks a few large blobs, which are not lines of
//!    text) covering at least `min_area` of it.
//!
//! The full read (detection at full resolution, then recognition of every
//! line) is what costs hundreds of milliseconds. The decision and its
//! evidence are kept with the image.

use std::time::Instant;

use imgtag_models::ocr::{DetLimit, OcrEngine, quad_area};
use serde::{Deserialize, Serialize};

use super::super::Analysis;
use super::super::stage::AnalysisInput;
use crate::error::AppError;

/// When the text of an image is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrMode {
    /// When the probe finds text.
    Auto,
    /// Every image.
    Always,
    /// Never (the analyzer is off).
    Never,
}

/// `[analyzers.ocr.gate]`: the probe of `mode = "auto"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GateConfig {
    /// Share of the classifier's probability on document and screenshot
    /// classes that sends an image straight to reading.
    pub document_mass: f32,
    /// Long side the probe detects text at (pixels, multiple of 32).
    pub probe_side: u32,
    /// Line-sized text regions the probe must find.
    pub min_boxes: usize,
    /// Largest share of the image one region may cover and still count as
    /// a line of text.
    pub max_box_area: f32,
    /// Share of the image those regions must cover together.
    pub min_area: f32,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            document_mass: 0.1,
            probe_side: 320,
            min_boxes: 4,
            max_box_area: 0.05,
            min_area: 0.002,
        }
    }
}

impl GateConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), String> {
        if !(64..=2048).contains(&self.probe_side) || !self.probe_side.is_multiple_of(32) {
            return Err(format!(
                "probe_side must be a multiple of 32 in 64-2048, not {}",
                self.probe_side
            ));
        }
        if !(0.0..=1.0).contains(&self.document_mass) {
            return Err(format!(
                "document_mass must be in [0, 1], not {}",
                self.document_mass
            ));
        }
        if self.min_boxes == 0 {
            return Err("min_boxes must be at least 1".into());
        }
        if !(self.max_box_area > 0.0 && self.max_box_area <= 1.0) {
            return Err(format!(
                "max_box_area must be in (0, 1], not {}",
                self.max_box_area
            ));
        }
        if !(0.0..1.0).contains(&self.min_area) {
            return Err(format!("min_area must be in [0, 1), not {}", self.min_area));
        }
        Ok(())
    }
}

/// Why the text was read or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateReason {
    /// `mode = "always"`.
    Always,
    /// The classifier found the image looks like a document or screenshot.
    ClassifierDocument,
    /// The probe found text.
    ProbeFoundText,
    /// The probe found too little text.
    ProbeFoundLittle,
}

/// What the probe saw.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProbeEvidence {
    /// Line-sized text regions found.
    pub boxes: usize,
    /// Share of the image they cover.
    pub area: f32,
    /// Regions too large to be a line (left out of `boxes` and `area`).
    #[serde(default)]
    pub blobs: usize,
    /// Milliseconds the probe took.
    pub ms: f64,
}

/// The gate's decision for one image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GateDecision {
    /// Whether the text is read.
    pub read: bool,
    /// Why.
    pub reason: GateReason,
    /// The classifier's document mass, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_mass: Option<f32>,
    /// The probe's evidence (`auto`, when the classifier was not enough).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeEvidence>,
}

/// Decides for one image (blocking: the probe runs the detector).
pub fn decide(
    mode: OcrMode,
    config: &GateConfig,
    engine: &OcrEngine,
    input: &AnalysisInput<'_>,
    analysis: &Analysis,
) -> Result<GateDecision, AppError> {
    let document_mass = analysis.classifier.as_ref().map(|c| c.document_mass);
    if mode == OcrMode::Always {
        return Ok(GateDecision {
            read: true,
            reason: GateReason::Always,
            document_mass,
            probe: None,
        });
    }
    if document_mass.is_some_and(|mass| mass >= config.document_mass) {
        return Ok(GateDecision {
            read: true,
            reason: GateReason::ClassifierDocument,
            document_mass,
            probe: None,
        });
    }
    let started = Instant::now();
    let image = input.model_input;
    let boxes = engine.probe(image, DetLimit::max_side(config.probe_side))?;
    let area = (image.width() as f32 * image.height() as f32).max(1.0);
    let (lines, blobs): (Vec<f32>, Vec<f32>) = boxes
        .iter()
        .map(|b| quad_area(&b.quad) / area)
        .partition(|share| *share <= config.max_box_area);
    let evidence = ProbeEvidence {
        boxes: lines.len(),
        area: lines.iter().sum::<f32>().min(1.0),
        blobs: blobs.len(),
        ms: (started.elapsed().as_secs_f64() * 1e5).round() / 1e2,
    };
    let read = evidence.boxes >= config.min_boxes && evidence.area >= config.min_area;
    Ok(GateDecision {
        read,
        reason: if read {
            GateReason::ProbeFoundText
        } else {
            GateReason::ProbeFoundLittle
        },
        document_mass,
        probe: Some(evidence),
    })
}
