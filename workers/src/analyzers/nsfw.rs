//! The `nsfw` analyzer: Yahoo OpenNSFW's probability that an image is not
//! safe for work, and the `sensitive` verdict at the configured threshold.
//! Sensitive images are left out of searches unless asked for.

use imgtag_models::{ModelRef, NsfwDetector, PoolConfig, Tag};
use serde::{Deserialize, Serialize};

use super::Analysis;
use super::stage::{AnalysisInput, BuildContext, Stage, StageConfig, settings_digest};
use crate::error::AppError;

/// `[analyzers.nsfw]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NsfwConfig {
    /// Run it.
    pub enabled: bool,
    /// Score at or above which an image is `sensitive`.
    pub threshold: f32,
    /// Sessions and batching.
    pub pool: PoolConfig,
}

impl Default for NsfwConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            threshold: 0.8,
            pool: PoolConfig::default(),
        }
    }
}

impl StageConfig for NsfwConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self) -> Result<(), String> {
        self.pool.validate().map_err(|e| format!("pool.{e}"))?;
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(format!(
                "threshold must be in (0, 1], not {}",
                self.threshold
            ));
        }
        Ok(())
    }
}

/// The NSFW verdict of an image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NsfwOutput {
    /// Probability that the image is not safe for work.
    pub score: f32,
    /// Whether the score reached the threshold.
    pub sensitive: bool,
}

/// The loaded NSFW model.
#[derive(Debug)]
pub struct NsfwAnalyzer {
    detector: NsfwDetector,
    threshold: f32,
    model: ModelRef,
}

impl NsfwAnalyzer {
    /// The model itself.
    pub fn detector(&self) -> &NsfwDetector {
        &self.detector
    }
}

impl Stage for NsfwAnalyzer {
    type Config = NsfwConfig;
    type Output = NsfwOutput;

    fn build(config: &NsfwConfig, context: &BuildContext<'_>) -> Result<Self, AppError> {
        let detector = NsfwDetector::load(context.models, context.runtime, &config.pool)?;
        let model = ModelRef::of(detector.model());
        Ok(Self {
            detector,
            threshold: config.threshold,
            model,
        })
    }

    fn version(&self) -> String {
        format!("{}+{}", self.model, settings_digest(&self.threshold))
    }

    fn models(&self) -> Vec<ModelRef> {
        vec![self.model.clone()]
    }

    fn run(&self, input: &AnalysisInput<'_>, _: &Analysis) -> Result<NsfwOutput, AppError> {
        let score = self.detector.score(input.model_input)?;
        Ok(NsfwOutput {
            score,
            sensitive: score >= self.threshold,
        })
    }

    fn tags(_: &NsfwOutput) -> Vec<Tag> {
        Vec::new()
    }
}
