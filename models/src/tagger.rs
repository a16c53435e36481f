//! Everything the models say about one image, in one call: classifier tags,
//! friendly tags, zero-shot tags of a custom vocabulary, the image embedding,
//! the semantic vector and the NSFW verdict, with per-stage timings.
//!
//! The classifier and the NSFW model run concurrently (each on its own
//! session pool); preprocessing runs on the calling thread, so many callers
//! preprocess in parallel while the pools batch their inferences.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::classifier::{ClassScore, Classifier};
use crate::error::ModelError;
use crate::friendly::FriendlyTags;
use crate::nsfw::NsfwDetector;
use crate::runtime::Runtime;
use crate::semantic::{Conse, ConseConfig, ImageEvidence, SemanticSpace};
use crate::session::PoolConfig;
use crate::store::ModelStore;
use crate::tags::{ModelRef, Tag, TagSource, tag_name};
use crate::text::TextEncoder;
use crate::vocabulary::{EmbeddedVocabulary, Vocabulary};

/// Rule-set id of the friendly tags; the version is derived from the data
/// files ([`FriendlyTags::version`]) and the classifier's.
pub const FRIENDLY_TAGS_ID: &str = "imgtag-friendly-tags";

/// Configuration of the [`Tagger`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaggerConfig {
    /// Sessions and batching of the classifier.
    pub classifier: PoolConfig,
    /// Sessions and batching of the NSFW model.
    pub nsfw: PoolConfig,
    /// Sessions and batching of the text encoder.
    pub text: PoolConfig,
    /// Classes kept per image (in [`ImageTags::classes`]).
    pub top_k: usize,
    /// Probability a class needs to become a `classifier` tag.
    pub class_threshold: f32,
    /// NSFW score at or above which an image is `sensitive`.
    pub nsfw_threshold: f32,
    /// ConSE semantic space.
    pub conse: ConseConfig,
}

impl Default for TaggerConfig {
    fn default() -> Self {
        Self {
            classifier: PoolConfig::default(),
            nsfw: PoolConfig::default(),
            text: PoolConfig::default(),
            top_k: 5,
            class_threshold: 0.1,
            nsfw_threshold: 0.8,
            conse: ConseConfig::default(),
        }
    }
}

impl TaggerConfig {
    /// Checks the values; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        for (name, pool) in [
            ("classifier", &self.classifier),
            ("nsfw", &self.nsfw),
            ("text", &self.text),
        ] {
            pool.validate().map_err(|e| format!("{name}.{e}"))?;
        }
        if !(1..=1000).contains(&self.top_k) {
            return Err("top_k must be 1-1000".into());
        }
        for (name, value) in [
            ("class_threshold", self.class_threshold),
            ("nsfw_threshold", self.nsfw_threshold),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(format!("{name} must be in (0, 1], not {value}"));
            }
        }
        if !(1..=100).contains(&self.conse.top_t) {
            return Err("conse.top_t must be 1-100".into());
        }
        Ok(())
    }
}

/// The NSFW verdict of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NsfwVerdict {
    /// Probability that the image is not safe for work.
    pub score: f32,
    /// Whether the score reached the configured threshold.
    pub sensitive: bool,
    /// The model that scored it.
    pub model: ModelRef,
}

/// Wall time of each stage of [`Tagger::tag`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TagTimings {
    /// Resizing and normalising for both image models.
    pub preprocess: Duration,
    /// Classifier and NSFW inference (concurrent, including any batching
    /// wait).
    pub inference: Duration,
    /// Friendly tags, semantic vector and zero-shot tags.
    pub postprocess: Duration,
}

/// Everything the models say about one image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTags {
    /// Tags, highest score first within each source (classifier, hierarchy,
    /// zero-shot).
    pub tags: Vec<Tag>,
    /// The most probable classes.
    pub classes: Vec<ClassScore>,
    /// The classifier's pooled features, L2-normalised (image similarity).
    pub embedding: Vec<f32>,
    /// The semantic vector (text-to-image search), L2-normalised.
    pub semantic: Vec<f32>,
    /// The NSFW verdict.
    pub nsfw: NsfwVerdict,
    /// Every model whose output is in this result.
    pub models: Vec<ModelRef>,
    /// Stage timings.
    pub timings: TagTimings,
}

/// All models, loaded.
#[derive(Debug)]
pub struct Tagger {
    classifier: Classifier,
    nsfw: NsfwDetector,
    text: Arc<TextEncoder>,
    friendly: FriendlyTags,
    semantic: Arc<dyn SemanticSpace>,
    config: TaggerConfig,
    /// Classifier, NSFW, friendly rules, semantic space, in that order.
    models: [ModelRef; 4],
}

impl Tagger {
    /// Loads every model (sha256-checked) and builds the semantic space
    /// (label vectors from the cache, or computed once).
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        config: &TaggerConfig,
    ) -> Result<Self, ModelError> {
        config.validate().map_err(ModelError::Manifest)?;
        let classifier = Classifier::load(store, runtime, &config.classifier)?;
        let nsfw = NsfwDetector::load(store, runtime, &config.nsfw)?;
        let text = Arc::new(TextEncoder::load(store, runtime, &config.text)?);
        let friendly = FriendlyTags::embedded(classifier.labels())?;
        let classifier_model = ModelRef::of(classifier.model());
        let semantic = Conse::build(
            &config.conse,
            &classifier_model,
            classifier.labels(),
            &friendly,
            Arc::clone(&text),
        )?;
        let friendly_model = ModelRef {
            id: FRIENDLY_TAGS_ID.into(),
            version: format!("{}+{classifier_model}", friendly.version()),
        };
        let models = [
            classifier_model,
            ModelRef::of(nsfw.model()),
            friendly_model,
            semantic.model().clone(),
        ];
        Ok(Self {
            models,
            classifier,
            nsfw,
            text,
            friendly,
            semantic: Arc::new(semantic),
            config: config.clone(),
        })
    }

    /// The classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The NSFW model.
    pub fn nsfw(&self) -> &NsfwDetector {
        &self.nsfw
    }

    /// The text encoder.
    pub fn text(&self) -> &TextEncoder {
        &self.text
    }

    /// The friendly-tag rules.
    pub fn friendly(&self) -> &FriendlyTags {
        &self.friendly
    }

    /// The semantic space images and text queries share.
    pub fn semantic(&self) -> &dyn SemanticSpace {
        self.semantic.as_ref()
    }

    /// Embeds a custom vocabulary's descriptions (blocking).
    pub fn embed_vocabulary(
        &self,
        vocabulary: &Vocabulary,
    ) -> Result<EmbeddedVocabulary, ModelError> {
        EmbeddedVocabulary::build(vocabulary, self.semantic.as_ref())
    }

    /// Every model (and rule set) whose version a stored result depends on.
    pub fn models(&self) -> &[ModelRef] {
        &self.models
    }

    /// Tags one upright sRGB image. Blocking: call it from a blocking thread
    /// (many callers at once share the models' batches).
    pub fn tag(
        &self,
        image: &RgbImage,
        vocabulary: Option<&EmbeddedVocabulary>,
    ) -> Result<ImageTags, ModelError> {
        let started = Instant::now();
        let classifier_input = self.classifier.prepare(image)?;
        let nsfw_input = self.nsfw.prepare(image)?;
        let preprocessed = Instant::now();
        let classification = self.classifier.batcher().submit(classifier_input);
        let nsfw = self.nsfw.batcher().submit(nsfw_input);
        let classification = self.classifier.batcher().wait(classification)?;
        let nsfw_score = self.nsfw.batcher().wait(nsfw)?;
        let inferred = Instant::now();

        let classes = self.classifier.top_k(&classification, self.config.top_k);
        let [classifier_model, nsfw_model, friendly_model, _] = &self.models;
        let mut tags: Vec<Tag> = classes
            .iter()
            .filter(|class| class.probability >= self.config.class_threshold)
            .map(|class| Tag {
                name: tag_name(&class.label),
                score: class.probability,
                source: TagSource::Classifier,
                model: classifier_model.clone(),
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
                    model: friendly_model.clone(),
                }),
        );
        let semantic = self.semantic.image_vector(&ImageEvidence {
            image,
            classification: &classification,
        })?;
        if let Some(vocabulary) = vocabulary {
            tags.extend(vocabulary.tags(&semantic));
        }
        let nsfw = NsfwVerdict {
            score: nsfw_score,
            sensitive: nsfw_score >= self.config.nsfw_threshold,
            model: nsfw_model.clone(),
        };
        let finished = Instant::now();
        Ok(ImageTags {
            tags,
            classes,
            embedding: classification.embedding,
            semantic,
            nsfw,
            models: self.models.to_vec(),
            timings: TagTimings {
                preprocess: preprocessed - started,
                inference: inferred - preprocessed,
                postprocess: finished - inferred,
            },
        })
    }
}
