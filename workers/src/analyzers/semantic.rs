//! The `semantic` analyzer: the vector text queries are compared with
//! (ConSE today: the probability-weighted mean of the text vectors of the
//! image's most probable class labels; a CLIP pair would implement the
//! same [`SemanticSpace`]), and the zero-shot tags of a job's custom
//! vocabulary scored in that space.
//!
//! It holds the text encoder, which loads its session on first use:
//! ingesting never embeds text once the label vectors are cached.

use std::sync::Arc;

use imgtag_models::{
    Conse, ConseConfig, EmbeddedVocabulary, ImageEvidence, ModelRef, PoolConfig, SemanticSpace,
    Tag, TextEncoder, Vocabulary,
};
use serde::{Deserialize, Serialize};

use super::stage::{AnalysisInput, BuildContext, Stage, StageConfig};
use super::{Analysis, AnalyzerId};
use crate::error::AppError;

/// `[analyzers.semantic]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SemanticConfig {
    /// Run it (text searches need it; it needs the classifier).
    pub enabled: bool,
    /// Sessions and batching of the text encoder.
    pub text: PoolConfig,
    /// The ConSE space.
    pub conse: ConseConfig,
}

impl Default for SemanticConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            text: PoolConfig::default(),
            conse: ConseConfig::default(),
        }
    }
}

impl StageConfig for SemanticConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self) -> Result<(), String> {
        self.text.validate().map_err(|e| format!("text.{e}"))?;
        if !(1..=100).contains(&self.conse.top_t) {
            return Err("conse.top_t must be 1-100".into());
        }
        Ok(())
    }
}

/// The semantic vector of an image and its zero-shot tags.
#[derive(Debug, Clone)]
pub struct SemanticOutput {
    /// L2-normalised; compared with text queries by cosine.
    pub vector: Vec<f32>,
    /// Tags of the job's vocabulary (source `zero-shot`).
    pub tags: Vec<Tag>,
}

/// The semantic space and its text encoder.
#[derive(Debug)]
pub struct SemanticAnalyzer {
    text: Arc<TextEncoder>,
    space: Arc<dyn SemanticSpace>,
}

impl SemanticAnalyzer {
    /// The space images and text queries share.
    pub fn space(&self) -> &dyn SemanticSpace {
        self.space.as_ref()
    }

    /// The text encoder (loads its session on first use).
    pub fn text(&self) -> &TextEncoder {
        &self.text
    }

    /// Embeds a custom vocabulary's descriptions (blocking).
    pub fn embed_vocabulary(
        &self,
        vocabulary: &Vocabulary,
    ) -> Result<EmbeddedVocabulary, AppError> {
        Ok(EmbeddedVocabulary::build(vocabulary, self.space.as_ref())?)
    }
}

impl Stage for SemanticAnalyzer {
    type Config = SemanticConfig;
    type Output = SemanticOutput;

    const REQUIRES: &'static [AnalyzerId] = &[AnalyzerId::Classifier];

    fn build(config: &SemanticConfig, context: &BuildContext<'_>) -> Result<Self, AppError> {
        let classifier = context.built.classifier().ok_or_else(|| {
            AppError::Config("analyzers.semantic needs the classifier analyzer".into())
        })?;
        let text = Arc::new(TextEncoder::load(
            context.models,
            context.runtime,
            &config.text,
        )?);
        let space = Conse::build(
            &config.conse,
            classifier.model(),
            classifier.classifier().labels(),
            classifier.friendly(),
            Arc::clone(&text),
        )?;
        Ok(Self {
            text,
            space: Arc::new(space),
        })
    }

    fn version(&self) -> String {
        self.space.model().to_string()
    }

    fn models(&self) -> Vec<ModelRef> {
        vec![self.space.model().clone()]
    }

    fn run(
        &self,
        input: &AnalysisInput<'_>,
        analysis: &Analysis,
    ) -> Result<SemanticOutput, AppError> {
        let classification = analysis
            .classifier
            .as_ref()
            .map(|output| &output.classification)
            .ok_or_else(|| {
                AppError::Config("the semantic analyzer ran without the classifier's output".into())
            })?;
        let vector = self.space.image_vector(&ImageEvidence {
            image: input.model_input,
            classification,
        })?;
        let tags = input
            .vocabulary
            .map(|vocabulary| vocabulary.tags(&vector))
            .unwrap_or_default();
        Ok(SemanticOutput { vector, tags })
    }

    fn tags(output: &SemanticOutput) -> Vec<Tag> {
        output.tags.clone()
    }
}
