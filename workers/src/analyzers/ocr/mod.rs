//! The `ocr` analyzer: the text printed in an image (Chinese and English,
//! PP-OCRv6 through [`imgtag_models::ocr`]), with each line's confidence
//! and outline, the page rotation and whether the text holds CJK
//! characters.
//!
//! Reading costs hundreds of milliseconds of CPU per document, so under
//! `mode = "auto"` a cheap probe decides first ([`gate`]): the text
//! detector alone on the small model input. A photo without text pays for
//! the probe only.

pub mod gate;

use imgtag_models::ocr::{OcrConfig as EngineConfig, OcrEngine, OcrResult, quad_area};
use imgtag_models::{ModelRef, Tag, TagSource};
use imgtag_pipeline::image::RgbImage;
use serde::{Deserialize, Serialize};

use super::stage::{AnalysisInput, BuildContext, Stage, StageConfig, settings_digest};
use super::{Analysis, AnalyzerId};
use crate::error::AppError;
pub use gate::{GateConfig, GateDecision, OcrMode};

/// Rule-set id of the OCR tags (`text`, `cjk_text`).
pub const OCR_TAGS_ID: &str = "imgtag-ocr-tags";
/// Bumped whenever this analyzer's own logic changes its outputs.
const REVISION: &str = "1";
/// An image is dominated by text when its lines cover at least this share
/// of it...
const DOMINANT_TEXT_AREA: f32 = 0.05;
/// ... or it has at least this many lines.
const DOMINANT_TEXT_LINES: usize = 8;

/// `[analyzers.ocr]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcrAnalyzerConfig {
    /// Run it (`mode = "never"` switches it off too).
    pub enabled: bool,
    /// `auto` (read when the probe finds text), `always`, `never`.
    pub mode: OcrMode,
    /// Long side of the image the text is read from: an image decoded
    /// smaller (shrink-on-load for the renditions) is decoded again at up
    /// to this size when it is read. Capped by `engine.max_side`.
    pub read_side: u32,
    /// The probe of `mode = "auto"`.
    pub gate: GateConfig,
    /// The OCR engine: models, detection and recognition settings, bounds.
    pub engine: EngineConfig,
}

impl Default for OcrAnalyzerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            mode: OcrMode::Auto,
            read_side: 2000,
            gate: GateConfig::default(),
            engine: EngineConfig::default(),
        }
    }
}

impl StageConfig for OcrAnalyzerConfig {
    fn enabled(&self) -> bool {
        self.enabled && self.mode != OcrMode::Never
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self) -> Result<(), String> {
        if !(64..=8192).contains(&self.read_side) {
            return Err(format!("read_side must be 64-8192, not {}", self.read_side));
        }
        self.gate.validate().map_err(|e| format!("gate.{e}"))?;
        self.engine.validate().map_err(|e| format!("engine.{e}"))
    }
}

/// What the OCR analyzer says about one image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OcrOutput {
    /// Whether the text was read, and the evidence that decided it.
    pub decision: GateDecision,
    /// The text, when it was read.
    pub result: Option<OcrResult>,
    /// Width and height of the image the line outlines refer to (the
    /// upright original).
    pub size: (u32, u32),
}

impl OcrOutput {
    /// Whether text makes up the image (a scan, a screenshot): enough lines
    /// or enough of the area.
    pub fn text_dominant(&self) -> bool {
        let Some(result) = &self.result else {
            return false;
        };
        result.lines.len() >= DOMINANT_TEXT_LINES
            || text_area_fraction(result, self.size) >= DOMINANT_TEXT_AREA
    }
}

/// Share of an image of `size` the lines' outlines cover (overlaps counted
/// twice; lines do not overlap much).
pub fn text_area_fraction(result: &OcrResult, size: (u32, u32)) -> f32 {
    let area = (size.0 as f32 * size.1 as f32).max(1.0);
    let covered: f32 = result.lines.iter().map(|line| quad_area(&line.quad)).sum();
    (covered / area).min(1.0)
}

/// The loaded OCR engine and its gate.
#[derive(Debug)]
pub struct OcrAnalyzer {
    engine: OcrEngine,
    mode: OcrMode,
    gate: GateConfig,
    read_side: u32,
    tags_model: ModelRef,
    settings: String,
}

impl OcrAnalyzer {
    /// The engine (for `imgtag ocr`).
    pub fn engine(&self) -> &OcrEngine {
        &self.engine
    }

    fn read_image(&self, input: &AnalysisInput<'_>) -> Result<RgbImage, AppError> {
        let (width, height) = (
            input.inspection.metadata.width,
            input.inspection.metadata.height,
        );
        let wanted = self.read_side.min(width.max(height));
        let decoded = input.image.width().max(input.image.height());
        if decoded < wanted
            && let Some((bytes, pipeline)) = input.source
        {
            return Ok(pipeline.decode_upright(bytes, wanted)?.into_rgb8());
        }
        Ok(input.image.to_rgb8())
    }
}

impl Stage for OcrAnalyzer {
    type Config = OcrAnalyzerConfig;
    type Output = OcrOutput;

    const READS: &'static [AnalyzerId] = &[AnalyzerId::Classifier];

    fn build(config: &OcrAnalyzerConfig, context: &BuildContext<'_>) -> Result<Self, AppError> {
        let engine = OcrEngine::load(context.models, context.runtime, &config.engine)?;
        let models: Vec<String> = engine.models().iter().map(ToString::to_string).collect();
        Ok(Self {
            engine,
            mode: config.mode,
            gate: config.gate.clone(),
            read_side: config.read_side,
            tags_model: ModelRef {
                id: OCR_TAGS_ID.into(),
                version: REVISION.into(),
            },
            settings: format!(
                "{REVISION}+{}+{}",
                models.join("+"),
                settings_digest(&(config.mode, &config.gate, config.read_side, &config.engine))
            ),
        })
    }

    fn version(&self) -> String {
        self.settings.clone()
    }

    fn models(&self) -> Vec<ModelRef> {
        let mut models = self.engine.models();
        models.push(self.tags_model.clone());
        models
    }

    fn run(&self, input: &AnalysisInput<'_>, analysis: &Analysis) -> Result<OcrOutput, AppError> {
        let decision = gate::decide(self.mode, &self.gate, &self.engine, input, analysis)?;
        let size = (
            input.inspection.metadata.width,
            input.inspection.metadata.height,
        );
        let result = if decision.read {
            let image = self.read_image(input)?;
            let mut result = self.engine.read(&image)?;
            // The outlines refer to the image read; scale them to the
            // upright original.
            let scale_x = size.0 as f32 / image.width().max(1) as f32;
            let scale_y = size.1 as f32 / image.height().max(1) as f32;
            for line in &mut result.lines {
                for point in &mut line.quad {
                    point[0] *= scale_x;
                    point[1] *= scale_y;
                }
            }
            Some(result)
        } else {
            None
        };
        Ok(OcrOutput {
            decision,
            result,
            size,
        })
    }

    fn tags(output: &OcrOutput) -> Vec<Tag> {
        let Some(result) = &output.result else {
            return Vec::new();
        };
        if result.lines.is_empty() {
            return Vec::new();
        }
        let model = ModelRef {
            id: OCR_TAGS_ID.into(),
            version: REVISION.into(),
        };
        let confidence = result
            .lines
            .iter()
            .map(|line| line.confidence)
            .fold(0.0_f32, f32::max);
        let mut tags = vec![Tag {
            name: "text".into(),
            score: confidence.clamp(0.0, 1.0),
            source: TagSource::Ocr,
            model: model.clone(),
        }];
        if result.has_cjk {
            tags.push(Tag {
                name: "cjk_text".into(),
                score: 1.0,
                source: TagSource::Ocr,
                model,
            });
        }
        tags
    }
}
