//! Not-safe-for-work score (manifest key `nsfw`: Yahoo OpenNSFW).
//!
//! Preprocessing is the reference one, described in the manifest (resize to
//! 256x256 bilinear, centre crop 224, JPEG round-trip at quality 75, BGR,
//! mean subtraction, NHWC); the score is the softmax output at index 1.
//! Whether a score makes an image `sensitive` is the caller's threshold.

use image::RgbImage;
use ndarray::{Array3, Axis};
use ort::session::Session;

use crate::batcher::{BatchModel, Batcher};
use crate::error::ModelError;
use crate::manifest::{ImagePreprocess, ModelEntry};
use crate::preprocess;
use crate::runtime::Runtime;
use crate::session::{
    self, PoolConfig, image_preprocess, inference_error, manifest_error, output_width,
    run_image_batch,
};
use crate::store::ModelStore;

/// Manifest key of the NSFW model.
pub const MODEL_KEY: &str = "nsfw";
/// Graph output with the two class probabilities.
const OUTPUT: &str = "outputs";

/// A loaded NSFW model.
#[derive(Debug)]
pub struct NsfwDetector {
    batcher: Batcher<NsfwRun>,
    entry: ModelEntry,
    spec: ImagePreprocess,
}

impl NsfwDetector {
    /// Loads the model (sha256-checked) into `pool`'s sessions.
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        pool: &PoolConfig,
    ) -> Result<Self, ModelError> {
        let entry = store.manifest().model(MODEL_KEY)?;
        let spec = image_preprocess(MODEL_KEY, entry)?;
        if output_width(entry, OUTPUT) != Some(2) {
            return Err(manifest_error(MODEL_KEY, "needs a [batch, 2] output"));
        }
        let loaded = session::load(store, runtime, MODEL_KEY, pool)?;
        let entry = loaded.entry.clone();
        let run = NsfwRun {
            input: entry.inputs[0].name.clone(),
        };
        Ok(Self {
            batcher: Batcher::start(run, loaded, pool)?,
            entry,
            spec,
        })
    }

    /// The manifest entry (model id and version for provenance).
    pub fn model(&self) -> &ModelEntry {
        &self.entry
    }

    /// The batcher (for its counters).
    pub fn batcher(&self) -> &Batcher<NsfwRun> {
        &self.batcher
    }

    /// Turns an image into the model's input (on the calling thread).
    pub fn prepare(&self, image: &RgbImage) -> Result<Array3<f32>, ModelError> {
        preprocess::image_tensor(MODEL_KEY, &self.spec, image)
    }

    /// The NSFW probability of one image (blocking; not for async tasks).
    pub fn score(&self, image: &RgbImage) -> Result<f32, ModelError> {
        self.batcher.run(self.prepare(image)?)
    }
}

/// One batched run of the NSFW graph.
#[derive(Debug)]
pub struct NsfwRun {
    input: String,
}

impl BatchModel for NsfwRun {
    type Item = Array3<f32>;
    type Output = f32;
    type Session = Session;

    fn run(&self, session: &mut Session, items: &[Array3<f32>]) -> Result<Vec<f32>, ModelError> {
        let outputs = run_image_batch(MODEL_KEY, session, &self.input, items)?;
        let failed = |e: ort::Error| inference_error(MODEL_KEY, e);
        let probabilities = outputs[OUTPUT].try_extract_array::<f32>().map_err(failed)?;
        if probabilities.shape() != [items.len(), 2] {
            return Err(inference_error(
                MODEL_KEY,
                format!("unexpected output shape {:?}", probabilities.shape()),
            ));
        }
        Ok(probabilities
            .axis_iter(Axis(0))
            .map(|row| row[1].clamp(0.0, 1.0))
            .collect())
    }
}
