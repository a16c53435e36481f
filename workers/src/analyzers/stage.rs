//! What every analyzer is: a validated config section that builds a runtime
//! value ([`Stage`]), which reads the image and what earlier analyzers
//! produced and returns its own typed output.

use std::fmt::Debug;

use bytes::Bytes;
use imgtag_models::{EmbeddedVocabulary, ModelRef, ModelStore, Runtime, Tag};
use imgtag_pipeline::image::{DynamicImage, RgbImage};
use imgtag_pipeline::{Inspection, Pipeline};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Analysis, AnalyzerId, Analyzers};
use crate::error::AppError;

/// A config section `[analyzers.<id>]`.
pub trait StageConfig:
    Default + Clone + PartialEq + Debug + Serialize + DeserializeOwned + Send + Sync
{
    /// Whether the analyzer runs at all (`enabled = false` switches it off
    /// for every job).
    fn enabled(&self) -> bool;

    /// Switches it on or off.
    fn set_enabled(&mut self, on: bool);

    /// Checks the values; the error names the offending key (relative to
    /// the section).
    fn validate(&self) -> Result<(), String>;
}

/// One analyzer: built from its config, run once per image.
pub trait Stage: Sized + Send + Sync + Debug + 'static {
    /// Its config section.
    type Config: StageConfig;
    /// What it adds to the [`Analysis`].
    type Output: Clone + Debug + Send + Sync;

    /// Analyzers whose output it cannot work without (they must be
    /// enabled, and run first).
    const REQUIRES: &'static [AnalyzerId] = &[];
    /// Analyzers whose output it uses when present (run first when
    /// enabled). A change of their output makes this one's stale too.
    const READS: &'static [AnalyzerId] = &[];

    /// Loads what it needs (models are sha256-checked). `built` holds the
    /// analyzers listed before it.
    fn build(config: &Self::Config, context: &BuildContext<'_>) -> Result<Self, AppError>;

    /// Its version: changes whenever its outputs may change (a model, a
    /// rule set, a setting), so stored images can be found stale.
    fn version(&self) -> String;

    /// The models and rule sets behind its outputs, for provenance.
    fn models(&self) -> Vec<ModelRef>;

    /// Analyses one image. Blocking CPU work: call it off the async
    /// runtime.
    fn run(&self, input: &AnalysisInput<'_>, analysis: &Analysis)
    -> Result<Self::Output, AppError>;

    /// The tags its output contributes.
    fn tags(output: &Self::Output) -> Vec<Tag>;
}

/// What analyzers are built with.
#[derive(Debug)]
pub struct BuildContext<'a> {
    /// The process's ONNX Runtime.
    pub runtime: &'a Runtime,
    /// The checked model files.
    pub models: &'a ModelStore,
    /// The analyzers built so far (those listed earlier).
    pub built: &'a Analyzers,
}

/// What analyzers read about one image.
#[derive(Debug, Clone, Copy)]
pub struct AnalysisInput<'a> {
    /// The upright image as the pipeline decoded it (possibly shrunk on
    /// load).
    pub image: &'a DynamicImage,
    /// The bounded 8-bit RGB model input (short side at most 512).
    pub model_input: &'a RgbImage,
    /// Metadata, fingerprints and quality signals.
    pub inspection: &'a Inspection,
    /// The original bytes and the pipeline that decoded them, for an
    /// analyzer that needs a finer decode (OCR of small print).
    pub source: Option<(&'a Bytes, &'a Pipeline)>,
    /// The job's custom vocabulary, if any (zero-shot tags).
    pub vocabulary: Option<&'a EmbeddedVocabulary>,
}

/// A short digest of an analyzer's output-affecting settings, part of its
/// version.
pub fn settings_digest(settings: &impl Serialize) -> String {
    use sha2::Digest;
    let text = serde_json::to_string(settings).unwrap_or_default();
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..4])
}
