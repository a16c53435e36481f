//! The `faces` analyzer: faces found by YuNet ([`imgtag_models::faces`]),
//! run at more than one scale, and the people tags they give: `person` and
//! `face` when there is at least one face, `group` from three.
//!
//! ImageNet has no person class, so without this the most common subject
//! of all is invisible to the classifier's tags. The face boxes are kept
//! (as fractions of the upright image) for the document reader (a portrait
//! on an ID paper) and for blurring faces in the renditions of ID papers.

use imgtag_models::faces::{FaceConfig, FaceDetector};
use imgtag_models::{ModelRef, Tag, TagSource};
use serde::{Deserialize, Serialize};

use super::Analysis;
use super::stage::{AnalysisInput, BuildContext, Stage, StageConfig, settings_digest};
use crate::error::AppError;

/// Faces from which an image is a `group`.
pub const GROUP_FACES: usize = 3;
/// Bumped whenever this analyzer's own logic changes its outputs.
const REVISION: &str = "1";

/// `[analyzers.faces]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FacesConfig {
    /// Run it.
    pub enabled: bool,
    /// The detector: score threshold, NMS, scales, bounds.
    pub detector: FaceConfig,
}

impl Default for FacesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            detector: FaceConfig::default(),
        }
    }
}

impl StageConfig for FacesConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self) -> Result<(), String> {
        self.detector
            .validate()
            .map_err(|e| format!("detector.{e}"))
    }
}

/// One face, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceBox {
    /// x, y, width, height as fractions of the upright image (0-1).
    pub rect: [f32; 4],
    /// The detector's score, 0-1.
    pub score: f32,
}

/// The faces of one image, best first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FacesOutput {
    /// The faces found.
    pub faces: Vec<FaceBox>,
}

impl FacesOutput {
    /// How many faces were found.
    pub fn count(&self) -> usize {
        self.faces.len()
    }
}

/// The loaded face detector.
#[derive(Debug)]
pub struct FacesAnalyzer {
    detector: FaceDetector,
    settings: String,
}

impl Stage for FacesAnalyzer {
    type Config = FacesConfig;
    type Output = FacesOutput;

    fn build(config: &FacesConfig, context: &BuildContext<'_>) -> Result<Self, AppError> {
        let detector = FaceDetector::load(context.models, context.runtime, &config.detector)?;
        let settings = format!(
            "{REVISION}+{}+{}",
            detector.model(),
            settings_digest(&config.detector)
        );
        Ok(Self { detector, settings })
    }

    fn version(&self) -> String {
        self.settings.clone()
    }

    fn models(&self) -> Vec<ModelRef> {
        vec![self.detector.model()]
    }

    fn run(&self, input: &AnalysisInput<'_>, _: &Analysis) -> Result<FacesOutput, AppError> {
        // The model input (short side 512) already holds every pixel the
        // detector's largest scale uses; only a larger scale needs a copy
        // of the decoded image.
        let model_input = input.model_input;
        let largest = self
            .detector
            .config()
            .scales
            .iter()
            .copied()
            .max()
            .unwrap_or(0);
        let decoded;
        let image = if model_input.width().max(model_input.height()) >= largest {
            model_input
        } else {
            decoded = input.image.to_rgb8();
            &decoded
        };
        let (width, height) = (image.width().max(1) as f32, image.height().max(1) as f32);
        let mut faces: Vec<FaceBox> = self
            .detector
            .detect(image)?
            .into_iter()
            .map(|face| FaceBox {
                rect: [
                    (face.rect[0] / width).clamp(0.0, 1.0),
                    (face.rect[1] / height).clamp(0.0, 1.0),
                    (face.rect[2] / width).clamp(0.0, 1.0),
                    (face.rect[3] / height).clamp(0.0, 1.0),
                ],
                score: face.score.clamp(0.0, 1.0),
            })
            .collect();
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(FacesOutput { faces })
    }

    fn tags(output: &FacesOutput) -> Vec<Tag> {
        let Some(best) = output.faces.first() else {
            return Vec::new();
        };
        let model = ModelRef {
            id: "imgtag-face-tags".into(),
            version: REVISION.into(),
        };
        let tag = |name: &str, score: f32| Tag {
            name: name.into(),
            score,
            source: TagSource::Faces,
            model: model.clone(),
        };
        let mut tags = vec![tag("person", best.score), tag("face", best.score)];
        if let Some(third) = output.faces.get(GROUP_FACES - 1) {
            tags.push(tag("group", third.score));
        }
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(scores: &[f32]) -> FacesOutput {
        FacesOutput {
            faces: scores
                .iter()
                .map(|&score| FaceBox {
                    rect: [0.1, 0.1, 0.2, 0.2],
                    score,
                })
                .collect(),
        }
    }

    fn names(output: &FacesOutput) -> Vec<(String, f32)> {
        FacesAnalyzer::tags(output)
            .into_iter()
            .map(|t| (t.name, t.score))
            .collect()
    }

    #[test]
    fn people_tags_follow_the_face_count() {
        assert!(names(&output(&[])).is_empty());
        assert_eq!(
            names(&output(&[0.9])),
            vec![("person".into(), 0.9), ("face".into(), 0.9)]
        );
        assert_eq!(names(&output(&[0.9, 0.8])).len(), 2);
        let group = names(&output(&[0.95, 0.9, 0.75, 0.72]));
        assert_eq!(group[2], ("group".into(), 0.75));
    }
}
