//! Image classification with an ImageNet-1k classifier that also yields a
//! pooled embedding from the same run (manifest key `classifier`).
//!
//! Output: softmax probabilities over the 1000 classes (top-k with WordNet ids
//! and names) and the L2-normalised 1280-d embedding for image similarity.

use image::RgbImage;
use ndarray::{Array3, ArrayViewD, Axis};
use ort::session::Session;

use crate::batcher::{BatchModel, Batcher};
use crate::error::ModelError;
use crate::labels::Labels;
use crate::manifest::{ImagePreprocess, ModelEntry};
use crate::preprocess;
use crate::runtime::Runtime;
use crate::session::{
    self, PoolConfig, image_preprocess, inference_error, manifest_error, output_width,
    run_image_batch,
};
use crate::store::ModelStore;
use crate::vector::l2_normalised;

/// Manifest key of the classifier.
pub const MODEL_KEY: &str = "classifier";
/// Graph output with the class logits.
const LOGITS: &str = "logits";
/// Graph output with the pooled features.
const EMBEDDING: &str = "embedding";

/// A loaded classifier with its labels, run through a session pool with
/// dynamic batching.
#[derive(Debug)]
pub struct Classifier {
    batcher: Batcher<ClassifierRun>,
    entry: ModelEntry,
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
    /// Loads the model and its labels (both sha256-checked) into `pool`'s
    /// sessions.
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        pool: &PoolConfig,
    ) -> Result<Self, ModelError> {
        let entry = store.manifest().model(MODEL_KEY)?;
        let invalid = |message: &str| manifest_error(MODEL_KEY, message);
        let spec = image_preprocess(MODEL_KEY, entry)?;
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
        let loaded = session::load(store, runtime, MODEL_KEY, pool)?;
        let entry = loaded.entry.clone();
        let run = ClassifierRun {
            input: entry.inputs[0].name.clone(),
            classes,
        };
        Ok(Self {
            batcher: Batcher::start(run, loaded, pool)?,
            entry,
            labels,
            spec,
        })
    }

    /// The manifest entry (model id and version for provenance).
    pub fn model(&self) -> &ModelEntry {
        &self.entry
    }

    /// The class labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The batcher (for its counters).
    pub fn batcher(&self) -> &Batcher<ClassifierRun> {
        &self.batcher
    }

    /// Turns an image into the model's input (CPU work on the calling
    /// thread, so callers preprocess in parallel).
    pub fn prepare(&self, image: &RgbImage) -> Result<Array3<f32>, ModelError> {
        preprocess::image_tensor(MODEL_KEY, &self.spec, image)
    }

    /// Classifies one image, blocking the calling thread (not for async
    /// tasks: use [`Classifier::prepare`] and [`Batcher::run_async`]).
    pub fn classify(&self, image: &RgbImage) -> Result<Classification, ModelError> {
        self.batcher.run(self.prepare(image)?)
    }

    /// Classifies many images; they share batches. Results in order.
    pub fn classify_all(&self, images: &[&RgbImage]) -> Result<Vec<Classification>, ModelError> {
        let inputs = images
            .iter()
            .map(|image| self.prepare(image))
            .collect::<Result<Vec<_>, _>>()?;
        self.batcher.run_all(inputs)
    }

    /// The `k` most probable classes, most probable first.
    pub fn top_k(&self, classification: &Classification, k: usize) -> Vec<ClassScore> {
        top_indices(&classification.probabilities, k)
            .into_iter()
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

/// Indices of the `k` largest values, largest first.
pub fn top_indices(values: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

/// One batched run of the classifier graph.
#[derive(Debug)]
pub struct ClassifierRun {
    input: String,
    classes: usize,
}

impl BatchModel for ClassifierRun {
    type Item = Array3<f32>;
    type Output = Classification;
    type Session = Session;

    fn run(
        &self,
        session: &mut Session,
        items: &[Array3<f32>],
    ) -> Result<Vec<Classification>, ModelError> {
        let outputs = run_image_batch(MODEL_KEY, session, &self.input, items)?;
        let failed = |e: ort::Error| inference_error(MODEL_KEY, e);
        let extract = |name: &str| -> Result<ArrayViewD<'_, f32>, ModelError> {
            outputs[name].try_extract_array::<f32>().map_err(failed)
        };
        let logits = extract(LOGITS)?;
        let embedding = extract(EMBEDDING)?;
        if logits.shape() != [items.len(), self.classes] || embedding.shape()[0] != items.len() {
            return Err(inference_error(
                MODEL_KEY,
                format!(
                    "unexpected output shapes: logits {:?}, embedding {:?}",
                    logits.shape(),
                    embedding.shape()
                ),
            ));
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
}

/// Numerically stable softmax.
fn softmax(logits: impl Iterator<Item = f32> + Clone) -> Vec<f32> {
    let max = logits.clone().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.map(|x| (x - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|x| x / sum).collect()
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
}
