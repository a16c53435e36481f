//! Image classification with an ImageNet-1k classifier that also yields a
//! pooled embedding from the same run (manifest key `classifier`).
//!
//! Output: softmax probabilities over the 1000 classes (top-k with WordNet ids
//! and names) and the L2-normalised 1280-d embedding for image similarity.

use image::RgbImage;
use ndarray::{ArrayViewD, Axis};
use ort::value::TensorRef;

use crate::error::ModelError;
use crate::labels::Labels;
use crate::manifest::{ImagePreprocess, ModelEntry, Preprocess};
use crate::preprocess;
use crate::runtime::Runtime;
use crate::session::ModelSession;
use crate::store::ModelStore;

/// Manifest key of the classifier.
pub const MODEL_KEY: &str = "classifier";
/// Graph output with the class logits.
const LOGITS: &str = "logits";
/// Graph output with the pooled features.
const EMBEDDING: &str = "embedding";

/// A loaded classifier with its labels.
#[derive(Debug)]
pub struct Classifier {
    session: ModelSession,
    labels: Labels,
    spec: ImagePreprocess,
}

/// The classifier's result for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// Softmax probabilities, one per class, summing to 1.
    pub probabilities: Vec<f32>,
    /// Pooled features, L2-normalised (cosine = dot product).
    pub embedding: Vec<f32>,
}

/// One class with its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    /// Class index.
    pub index: usize,
    /// WordNet id.
    pub wnid: String,
    /// Display name.
    pub label: String,
    /// Softmax probability.
    pub probability: f32,
}

impl Classifier {
    /// Loads the model and its labels (both sha256-checked).
    pub fn load(store: &ModelStore, runtime: &Runtime) -> Result<Self, ModelError> {
        let entry = store.manifest().model(MODEL_KEY)?;
        let invalid = |message: &str| ModelError::Manifest(format!("model {MODEL_KEY}: {message}"));
        let Preprocess::Image(spec) = &entry.preprocess else {
            return Err(invalid("needs image preprocessing"));
        };
        let spec = spec.clone();
        let assets = entry
            .labels
            .as_ref()
            .ok_or_else(|| invalid("names no labels"))?;
        let classes = output_width(entry, LOGITS).ok_or_else(|| invalid("no fixed-size logits"))?;
        output_width(entry, EMBEDDING).ok_or_else(|| invalid("no fixed-size embedding"))?;
        let labels = Labels::load(store, assets)?;
        if labels.len() != classes {
            return Err(invalid(&format!(
                "{} labels for {classes} classes",
                labels.len()
            )));
        }
        let session = ModelSession::load(store, runtime, MODEL_KEY)?;
        Ok(Self {
            session,
            labels,
            spec,
        })
    }

    /// The manifest entry (model id and version for provenance).
    pub fn model(&self) -> &ModelEntry {
        self.session.entry()
    }

    /// The class labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Classifies a batch of images in one run. CPU-bound: call it from a
    /// blocking thread, not an async task.
    pub fn classify(&self, images: &[&RgbImage]) -> Result<Vec<Classification>, ModelError> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        let input = preprocess::image_batch(MODEL_KEY, &self.spec, images)?;
        let input_name = &self.session.entry().inputs[0].name;
        let tensor = TensorRef::from_array_view(input.view())
            .map_err(|e| self.session.inference_error(e))?;
        let mut session = self.session.lock();
        let outputs = session
            .run(ort::inputs![input_name.as_str() => tensor])
            .map_err(|e| self.session.inference_error(e))?;
        let extract = |name: &str| -> Result<ArrayViewD<'_, f32>, ModelError> {
            outputs[name]
                .try_extract_array::<f32>()
                .map_err(|e| self.session.inference_error(e))
        };
        let logits = extract(LOGITS)?;
        let embedding = extract(EMBEDDING)?;
        let expected = (images.len(), self.labels.len());
        if logits.shape() != [expected.0, expected.1] || embedding.shape()[0] != images.len() {
            return Err(self.session.inference_error(format!(
                "unexpected output shapes: logits {:?}, embedding {:?}",
                logits.shape(),
                embedding.shape()
            )));
        }
        Ok(logits
            .axis_iter(Axis(0))
            .zip(embedding.axis_iter(Axis(0)))
            .map(|(logits, embedding)| Classification {
                probabilities: softmax(logits.iter().copied()),
                embedding: l2_normalised(embedding.iter().copied()),
            })
            .collect())
    }

    /// The `k` most probable classes, most probable first.
    pub fn top_k(&self, classification: &Classification, k: usize) -> Vec<ClassScore> {
        let mut order: Vec<usize> = (0..classification.probabilities.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            classification.probabilities[b].total_cmp(&classification.probabilities[a])
        });
        order
            .into_iter()
            .take(k)
            .filter_map(|index| {
                let class = self.labels.get(index)?;
                Some(ClassScore {
                    index,
                    wnid: class.wnid.clone(),
                    label: class.name.clone(),
                    probability: classification.probabilities[index],
                })
            })
            .collect()
    }
}

fn output_width(entry: &ModelEntry, name: &str) -> Option<usize> {
    entry
        .outputs
        .iter()
        .find(|o| o.name == name)?
        .shape
        .last()?
        .fixed()
}

/// Numerically stable softmax.
fn softmax(logits: impl Iterator<Item = f32> + Clone) -> Vec<f32> {
    let max = logits.clone().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.map(|x| (x - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|x| x / sum).collect()
}

/// The vector divided by its L2 norm (a zero vector stays zero).
fn l2_normalised(values: impl Iterator<Item = f32> + Clone) -> Vec<f32> {
    let norm = values.clone().map(|x| x * x).sum::<f32>().sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    values.map(|x| x * scale).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let p = softmax([1.0_f32, 3.0, 2.0, 12.0].into_iter());
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[3] > 0.99);
        assert!(p[1] > p[2] && p[2] > p[0]);
    }

    #[test]
    fn l2_normalised_has_unit_norm() {
        let v = l2_normalised([3.0_f32, 4.0].into_iter());
        assert_eq!(v, vec![0.6, 0.8]);
        assert_eq!(l2_normalised([0.0_f32, 0.0].into_iter()), vec![0.0, 0.0]);
    }
}
