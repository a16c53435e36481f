//! The `classifier` analyzer: EfficientNet-Lite0's ImageNet classes, the
//! 1280-d embedding of the same run (the `image` vector: similarity and
//! near duplicates), classifier tags for probable classes, and friendly
//! tags summed up the WordNet hierarchy (`models/data/friendly_tags.toml`).

use imgtag_models::{
    ClassScore, Classification, Classifier, FriendlyTags, ModelRef, PoolConfig, Tag, TagSource,
};
use serde::{Deserialize, Serialize};

use super::Analysis;
use super::stage::{AnalysisInput, BuildContext, Stage, StageConfig, settings_digest};
use crate::error::AppError;

/// Rule-set id of the friendly tags; its version is derived from the data
/// files and the classifier's.
pub const FRIENDLY_TAGS_ID: &str = "imgtag-friendly-tags";
/// The friendly tags whose classes make an image look like a document
/// (printed pages, web pages and screenshots; `models/data/friendly_tags.toml`).
pub const DOCUMENT_TAGS: [&str; 2] = ["document", "screenshot"];

/// `[analyzers.classifier]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// Run it (the index needs its embedding: an image is only indexed
    /// when the classifier ran).
    pub enabled: bool,
    /// Classes kept per image.
    pub top_k: usize,
    /// Probability a class needs to become a `classifier` tag.
    pub class_threshold: f32,
    /// Sessions and batching.
    pub pool: PoolConfig,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            top_k: 5,
            class_threshold: 0.1,
            pool: PoolConfig::default(),
        }
    }
}

impl StageConfig for ClassifierConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    fn validate(&self) -> Result<(), String> {
        self.pool.validate().map_err(|e| format!("pool.{e}"))?;
        if !(1..=1000).contains(&self.top_k) {
            return Err("top_k must be 1-1000".into());
        }
        if !(self.class_threshold > 0.0 && self.class_threshold <= 1.0) {
            return Err(format!(
                "class_threshold must be in (0, 1], not {}",
                self.class_threshold
            ));
        }
        Ok(())
    }
}

/// What the classifier says about one image.
#[derive(Debug, Clone)]
pub struct ClassifierOutput {
    /// The most probable classes, best first.
    pub classes: Vec<ClassScore>,
    /// Every class probability and the embedding.
    pub classification: Classification,
    /// Classifier tags (probable classes) and friendly tags.
    pub tags: Vec<Tag>,
    /// Probability mass of the classes under [`DOCUMENT_TAGS`]: how much the
    /// image looks like a page or a screen (evidence for the OCR gate).
    pub document_mass: f32,
}

/// The loaded classifier and friendly-tag rules.
#[derive(Debug)]
pub struct ClassifierAnalyzer {
    classifier: Classifier,
    friendly: FriendlyTags,
    top_k: usize,
    class_threshold: f32,
    model: ModelRef,
    friendly_model: ModelRef,
    settings: String,
}

impl ClassifierAnalyzer {
    /// The model itself (example-image searches embed with it).
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The friendly-tag rules.
    pub fn friendly(&self) -> &FriendlyTags {
        &self.friendly
    }

    /// The classifier's id and version.
    pub fn model(&self) -> &ModelRef {
        &self.model
    }
}

impl Stage for ClassifierAnalyzer {
    type Config = ClassifierConfig;
    type Output = ClassifierOutput;

    fn build(config: &ClassifierConfig, context: &BuildContext<'_>) -> Result<Self, AppError> {
        let classifier = Classifier::load(context.models, context.runtime, &config.pool)?;
        let friendly = FriendlyTags::embedded(classifier.labels())?;
        let model = ModelRef::of(classifier.model());
        let friendly_model = ModelRef {
            id: FRIENDLY_TAGS_ID.into(),
            version: format!("{}+{model}", friendly.version()),
        };
        Ok(Self {
            settings: settings_digest(&(config.top_k, config.class_threshold)),
            classifier,
            friendly,
            top_k: config.top_k,
            class_threshold: config.class_threshold,
            model,
            friendly_model,
        })
    }

    fn version(&self) -> String {
        format!(
            "{}+{}+{}",
            self.model,
            self.friendly.version(),
            self.settings
        )
    }

    fn models(&self) -> Vec<ModelRef> {
        vec![self.model.clone(), self.friendly_model.clone()]
    }

    fn run(&self, input: &AnalysisInput<'_>, _: &Analysis) -> Result<ClassifierOutput, AppError> {
        let classification = self.classifier.classify(input.model_input)?;
        let classes = self.classifier.top_k(&classification, self.top_k);
        let mut tags: Vec<Tag> = classes
            .iter()
            .filter(|class| class.probability >= self.class_threshold)
            .map(|class| Tag {
                name: imgtag_models::tags::tag_name(&class.label),
                score: class.probability,
                source: TagSource::Classifier,
                model: self.model.clone(),
            })
            .collect();
        tags.extend(
            self.friendly
                .score(&classification.probabilities)
                .into_iter()
                .map(|friendly| Tag {
                    name: friendly.name,
                    score: friendly.score,
                    source: TagSource::Hierarchy,
                    model: self.friendly_model.clone(),
                }),
        );
        let document_mass = classification
            .probabilities
            .iter()
            .enumerate()
            .filter(|(class, _)| {
                self.friendly
                    .tags_of_class(*class)
                    .any(|tag| DOCUMENT_TAGS.contains(&tag))
            })
            .map(|(_, probability)| probability)
            .sum();
        Ok(ClassifierOutput {
            classes,
            classification,
            tags,
            document_mass,
        })
    }

    fn tags(output: &ClassifierOutput) -> Vec<Tag> {
        output.tags.clone()
    }
}
