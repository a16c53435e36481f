//! [`Reader`]: the models a read needs, loaded together on first use by
//! [`super::OcrEngine`]: the tier's detector and recogniser, the
//! page-orientation classifier, the recogniser's class list and the
//! classifier's labels.

use super::charset::{self, Charset};
use super::config::OcrConfig;
use super::detector::Detector;
use super::normalize::{Arithmetic, Lut};
use super::orientation::{self, OrientationRun, OrientationSpec};
use super::rec::{RecRun, RecSpec};
use super::sessions::{self, names};
use crate::batcher::Batcher;
use crate::error::ModelError;
use crate::manifest::Preprocess;
use crate::runtime::Runtime;
use crate::session::{load_with_arena, manifest_error, output_width};
use crate::store::ModelStore;

/// Manifest key of the page-orientation classifier.
pub(crate) const ORIENTATION_KEY: &str = "ocr_orientation";

/// The reading models on their session pools.
pub(crate) struct Reader {
    /// The tier's detector.
    pub det: Detector,
    /// The tier's recogniser.
    pub rec: Batcher<RecRun>,
    /// The page-orientation classifier.
    pub orientation: Batcher<OrientationRun>,
    /// How lines are fed to the recogniser.
    pub rec_spec: RecSpec,
    /// How pages are fed to the orientation classifier.
    pub orientation_spec: OrientationSpec,
    /// The recogniser's classes.
    pub charset: Charset,
    /// The orientation classifier's labels (degrees turned clockwise).
    pub labels: Vec<u16>,
}

impl Reader {
    /// Loads the reading models of `config`'s tier (sha256-checked) into
    /// their pools and reads the class lists (graph metadata or dictionary
    /// asset, as the manifest says).
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        config: &OcrConfig,
    ) -> Result<Self, ModelError> {
        let (det_key, rec_key) = config.models.keys();
        let manifest = store.manifest();
        let rec_entry = manifest.model(rec_key)?;
        let Preprocess::OcrRecognition(rec_spec) = &rec_entry.preprocess else {
            return Err(manifest_error(
                rec_key,
                "needs ocr_recognition preprocessing",
            ));
        };
        let orientation_entry = manifest.model(ORIENTATION_KEY)?;
        let Preprocess::OcrOrientation(orientation_spec) = &orientation_entry.preprocess else {
            return Err(manifest_error(
                ORIENTATION_KEY,
                "needs ocr_orientation preprocessing",
            ));
        };
        let (rec_input, rec_output) = names(rec_key, rec_entry)?;
        let (orientation_input, orientation_output) = names(ORIENTATION_KEY, orientation_entry)?;
        let classes = output_width(rec_entry, &rec_output)
            .ok_or_else(|| manifest_error(rec_key, "needs a fixed number of classes"))?;
        let directions = output_width(orientation_entry, &orientation_output)
            .ok_or_else(|| manifest_error(ORIENTATION_KEY, "needs a fixed number of classes"))?;
        let arena = config.memory_arena;
        let det = Detector::load(store, runtime, det_key, &config.det, arena)?;
        let rec = load_with_arena(store, runtime, rec_key, &config.rec, arena)?;
        let orient = load_with_arena(store, runtime, ORIENTATION_KEY, &config.orientation, arena)?;
        let charset = charset::load(store, &rec, &rec_spec.charset, classes)?;
        let labels = orientation::parse_labels(
            &sessions::metadata(&orient, &orientation_spec.labels)?,
            directions,
        )
        .map_err(|message| ModelError::OcrCharsetInvalid {
            model: ORIENTATION_KEY.into(),
            message,
        })?;
        tracing::debug!(
            tier = ?config.models,
            classes = charset.count(),
            "OCR reading models loaded"
        );
        Ok(Self {
            rec_spec: RecSpec {
                height: rec_spec.height as usize,
                min_width: rec_spec.min_width as usize,
                lut: Lut::new(
                    rec_spec.channels,
                    rec_spec.mean,
                    rec_spec.std,
                    Arithmetic::DivideF32,
                ),
            },
            orientation_spec: OrientationSpec {
                short_side: orientation_spec.short_side as usize,
                crop: orientation_spec.crop as usize,
                lut: Lut::new(
                    orientation_spec.channels,
                    orientation_spec.mean,
                    orientation_spec.std,
                    Arithmetic::ScaleF32,
                )
                .for_rgb_pixels(),
            },
            det,
            rec: Batcher::start(
                RecRun {
                    input: rec_input,
                    output: rec_output,
                    classes,
                },
                rec,
                &config.rec,
            )?,
            orientation: Batcher::start(
                OrientationRun {
                    key: ORIENTATION_KEY.into(),
                    input: orientation_input,
                    output: orientation_output,
                    classes: directions,
                },
                orient,
                &config.orientation,
            )?,
            charset,
            labels,
        })
    }
}
