//! Face detection (manifest key `faces`: YuNet 2023mar, from OpenCV Zoo).
//!
//! The graph takes one BGR image whose sides are multiples of 32 and scores
//! every cell of three grids (strides 8, 16, 32); `decode` turns the outputs
//! into boxes with five landmarks exactly as OpenCV's `FaceDetectorYN`
//! does. (The original graph declares a fixed 640x640 input; the manifest's
//! converter, `scripts/convert_yunet.py`, only frees the declared sizes.)
//!
//! YuNet finds faces from about 17 pixels of its input and is surest up to
//! about 300; a face filling a close-up is too big for it at 512. So
//! [`FaceDetector::detect`] runs the graph once per scale of
//! [`FaceConfig::scales`] (the image's long side scaled to 512, then to
//! 256), each time on a canvas only as large as the scaled image rounded
//! up to a multiple of 32 (`letterbox`: 512x384 for a 4:3 photo, not
//! 640x640), maps every box back to the image and merges the scales with
//! one greedy non-maximum suppression (`nms`). Scaling the photo down costs
//! about as much as the runs, so it is done once, mostly by whole-factor box
//! averaging (`letterbox`).
//!
//! `scripts/face_reference.py` is an independent Python reference of the
//! whole procedure (onnxruntime + numpy + Pillow).

mod decode;
mod letterbox;
mod nms;

use image::RgbImage;
use ndarray::Array3;
use ort::session::Session;
use serde::{Deserialize, Serialize};

use crate::batcher::{BatchModel, Batcher};
use crate::error::ModelError;
use crate::manifest::{FaceDetectionPreprocess, ModelEntry, Preprocess};
use crate::runtime::Runtime;
use crate::session::{
    self, PoolConfig, inference_error, manifest_error, output_width, run_image_batch,
};
use crate::store::ModelStore;
use crate::tags::ModelRef;

use decode::{Level, decode};
use letterbox::Letterbox;

/// Manifest key of the face detector.
pub const MODEL_KEY: &str = "faces";

/// The outputs each stride `S` has (`cls_S`, ...) and their values per cell.
const OUTPUTS: [(&str, usize); 4] = [("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10)];

/// One face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// The box `[x, y, width, height]` in pixels of the image given to
    /// [`FaceDetector::detect`], clipped to the image.
    pub rect: [f32; 4],
    /// Confidence in 0-1 (`sqrt(class * objectness)`).
    pub score: f32,
    /// `[x, y]` of the right eye, left eye, nose tip, right and left mouth
    /// corners (the person's right: the viewer's left), in pixels of the
    /// image; not clipped.
    pub landmarks: [[f32; 2]; 5],
}

impl Face {
    fn is_finite(&self) -> bool {
        self.score.is_finite()
            && self.rect.iter().all(|v| v.is_finite())
            && self.landmarks.iter().flatten().all(|v| v.is_finite())
    }

    /// The face, found in a letterbox canvas, in image pixels.
    fn in_image(&self, placement: &Letterbox) -> Self {
        let [x, y] = placement.to_image([self.rect[0], self.rect[1]]);
        let [w, h] = placement.to_image([self.rect[2], self.rect[3]]);
        Self {
            rect: [x, y, w, h],
            score: self.score,
            landmarks: self.landmarks.map(|point| placement.to_image(point)),
        }
    }

    /// The box clipped to a `width` x `height` image.
    fn clipped_rect(&self, width: u32, height: u32) -> [f32; 4] {
        let [x, y, w, h] = self.rect;
        let (width, height) = (width as f32, height as f32);
        let (left, top) = (x.clamp(0.0, width), y.clamp(0.0, height));
        let (right, bottom) = ((x + w).clamp(0.0, width), (y + h).clamp(0.0, height));
        [left, top, right - left, bottom - top]
    }
}

/// Settings of [`FaceDetector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaceConfig {
    /// Sessions of the detector. The graph takes one image per run, so
    /// `max_batch` only groups runs; with several sessions the scales of one
    /// image run in parallel.
    pub pool: PoolConfig,
    /// Faces must score above this. OpenCV's default is 0.9; at 0.7 YuNet
    /// found all 29 people of a 1927 group photo, and one motorcycle
    /// headlight (0.63) stays out.
    pub score_threshold: f32,
    /// Of two faces overlapping by more than this intersection over union,
    /// only the better one is kept (OpenCV's `nms_threshold`).
    pub nms_iou: f32,
    /// The long sides the image is scaled to, one detector run each, on a
    /// canvas of the scaled image's shape (at most the model's largest
    /// scale, 640). YuNet finds most faces from about 17 px of the scaled
    /// image and all from about 20 px (on faces composed into noise): at
    /// 512, faces from a 30th of the photo's long side (40 px of a 1200 px
    /// photo) and all from a 25th (64 px of 1600); 640 would reach a 37th
    /// but costs twice the CPU. 256 adds close-ups that fill the frame
    /// (score 0.96 where 512 alone gives 0.79-0.86). CPU per detect of a
    /// 1600x1200 photo, release, 1 thread: about 10 ms at [512, 256]
    /// (1200x1200: 14 ms), against about 20 ms at [640, 320].
    pub scales: Vec<u32>,
    /// Most faces returned (the best ones).
    pub max_faces: usize,
    /// Faces whose box, inside the image, is narrower or shorter than this
    /// many pixels of the given image are dropped: too small to show anyone.
    /// 0 keeps them all.
    pub min_face_px: u32,
}

impl Default for FaceConfig {
    fn default() -> Self {
        Self {
            pool: PoolConfig {
                max_batch: 1,
                ..PoolConfig::default()
            },
            score_threshold: 0.7,
            nms_iou: 0.3,
            scales: vec![512, 256],
            max_faces: 100,
            min_face_px: 10,
        }
    }
}

impl FaceConfig {
    /// Checks the values; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        self.pool.validate().map_err(|e| format!("pool.{e}"))?;
        let check = |ok: bool, key: &str, rule: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!("{key} must be {rule}"))
            }
        };
        check(
            self.score_threshold > 0.0 && self.score_threshold <= 1.0,
            "score_threshold",
            "above 0 and at most 1",
        )?;
        check((0.0..=1.0).contains(&self.nms_iou), "nms_iou", "in 0-1")?;
        let mut scales = self.scales.clone();
        scales.sort_unstable();
        scales.dedup();
        check(
            (1..=4).contains(&self.scales.len())
                && scales.len() == self.scales.len()
                && scales.iter().all(|s| (32..=4096).contains(s)),
            "scales",
            "1-4 different sizes, each 32-4096",
        )?;
        check((1..=1000).contains(&self.max_faces), "max_faces", "1-1000")?;
        check(self.min_face_px <= 4096, "min_face_px", "at most 4096")
    }
}

/// A loaded face detector.
#[derive(Debug)]
pub struct FaceDetector {
    batcher: Batcher<FaceRun>,
    entry: ModelEntry,
    spec: FaceDetectionPreprocess,
    config: FaceConfig,
}

impl FaceDetector {
    /// Checks `config` and loads the model (sha256-checked) into its
    /// pool's sessions.
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        config: &FaceConfig,
    ) -> Result<Self, ModelError> {
        let invalid_config = |message: String| ModelError::Session {
            model: MODEL_KEY.into(),
            message: format!("invalid face settings: {message}"),
        };
        config.validate().map_err(invalid_config)?;
        let entry = store.manifest().model(MODEL_KEY)?;
        let Preprocess::FaceDetection(spec) = &entry.preprocess else {
            return Err(manifest_error(
                MODEL_KEY,
                "needs face_detection preprocessing",
            ));
        };
        for stride in &spec.strides {
            for (prefix, width) in OUTPUTS {
                let name = format!("{prefix}_{stride}");
                if output_width(entry, &name) != Some(width) {
                    return Err(manifest_error(
                        MODEL_KEY,
                        &format!("needs an output {name} with {width} values per cell"),
                    ));
                }
            }
        }
        if let Some(scale) = config.scales.iter().find(|s| **s > spec.size) {
            return Err(invalid_config(format!(
                "scale {scale} is larger than the model's input side {}",
                spec.size
            )));
        }
        let spec = spec.clone();
        let loaded = session::load(store, runtime, MODEL_KEY, &config.pool)?;
        let entry = loaded.entry.clone();
        let run = FaceRun {
            input: entry.inputs[0].name.clone(),
            strides: spec.strides.clone(),
            threshold: config.score_threshold,
        };
        Ok(Self {
            batcher: Batcher::start(run, loaded, &config.pool)?,
            entry,
            spec,
            config: config.clone(),
        })
    }

    /// The model's id and version, for provenance.
    pub fn model(&self) -> ModelRef {
        ModelRef::of(&self.entry)
    }

    /// The settings the detector runs with.
    pub fn config(&self) -> &FaceConfig {
        &self.config
    }

    /// The batcher (for its counters).
    pub fn batcher(&self) -> &Batcher<FaceRun> {
        &self.batcher
    }

    /// The faces in `image`, best first (blocking; not for async tasks).
    ///
    /// Each scale is prepared on the calling thread and queued at once, so
    /// the next scale's preparation overlaps the previous one's run.
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Face>, ModelError> {
        let (width, height) = image.dimensions();
        if width == 0 || height == 0 {
            return Err(ModelError::InvalidInput {
                model: MODEL_KEY.into(),
                message: format!("the image is empty ({width}x{height})"),
            });
        }
        let pending: Vec<_> = letterbox::inputs(&self.spec, image, &self.config.scales)
            .map(|(tensor, placement)| (self.batcher.submit(tensor), placement))
            .collect();
        let min_side = self.config.min_face_px as f32;
        let mut candidates = Vec::new();
        for (receiver, placement) in pending {
            for face in self.batcher.wait(receiver)? {
                let [x, y, w, h] = face.rect;
                // A box centred on the padding is not on the image.
                if !placement.covers(x + w / 2.0, y + h / 2.0) {
                    continue;
                }
                let face = face.in_image(&placement);
                let [_, _, w, h] = face.clipped_rect(width, height);
                if w >= min_side && h >= min_side && w > 0.0 && h > 0.0 {
                    candidates.push(face);
                }
            }
        }
        let mut faces = nms::suppress(candidates, self.config.nms_iou, self.config.max_faces);
        for face in &mut faces {
            face.rect = face.clipped_rect(width, height);
        }
        Ok(faces)
    }
}

/// One run of the detector graph per queued image: the faces above the
/// score threshold, in canvas pixels.
#[derive(Debug)]
pub struct FaceRun {
    input: String,
    strides: Vec<u32>,
    threshold: f32,
}

impl BatchModel for FaceRun {
    type Item = Array3<f32>;
    type Output = Vec<Face>;
    type Session = Session;

    fn run(
        &self,
        session: &mut Session,
        items: &[Array3<f32>],
    ) -> Result<Vec<Vec<Face>>, ModelError> {
        let failed = |e: String| inference_error(MODEL_KEY, e);
        // The graph's batch dimension is fixed at 1.
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            // `[3, height, width]`: the canvas the outputs' grids cover.
            let canvas = (item.shape()[2] as u32, item.shape()[1] as u32);
            let outputs =
                run_image_batch(MODEL_KEY, session, &self.input, std::slice::from_ref(item))?;
            let mut faces = Vec::new();
            for &stride in &self.strides {
                let mut views = Vec::with_capacity(OUTPUTS.len());
                for (prefix, _) in OUTPUTS {
                    let name = format!("{prefix}_{stride}");
                    let view = outputs[name.as_str()]
                        .try_extract_array::<f32>()
                        .map_err(|e| failed(format!("output {name}: {e}")))?;
                    views.push((name, view));
                }
                let values = |i: usize| {
                    let (name, view) = &views[i];
                    view.as_slice()
                        .ok_or_else(|| failed(format!("output {name} is not contiguous")))
                };
                let level = Level {
                    stride,
                    cls: values(0)?,
                    obj: values(1)?,
                    bbox: values(2)?,
                    kps: values(3)?,
                };
                decode(canvas, &level, self.threshold, &mut faces).map_err(failed)?;
            }
            results.push(faces);
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = FaceConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.scales, [512, 256]);
        assert_eq!((config.score_threshold, config.nms_iou), (0.7, 0.3));
    }

    #[test]
    fn validation_names_the_key() {
        type Change = fn(&mut FaceConfig);
        let cases: [(Change, &str); 9] = [
            (|c| c.score_threshold = 0.0, "score_threshold"),
            (|c| c.score_threshold = f32::NAN, "score_threshold"),
            (|c| c.nms_iou = 1.5, "nms_iou"),
            (|c| c.scales.clear(), "scales"),
            (|c| c.scales = vec![640, 640], "scales"),
            (|c| c.scales = vec![16], "scales"),
            (|c| c.max_faces = 0, "max_faces"),
            (|c| c.min_face_px = 5000, "min_face_px"),
            (|c| c.pool.sessions = 0, "pool.sessions"),
        ];
        for (change, key) in cases {
            let mut config = FaceConfig::default();
            change(&mut config);
            let error = config.validate().unwrap_err();
            assert!(error.starts_with(key), "{key}: {error}");
        }
    }

    #[test]
    fn config_reads_from_toml_with_defaults() {
        let config: FaceConfig = toml::from_str("scales = [640]\nmax_faces = 5").unwrap();
        assert_eq!(config.scales, [640]);
        assert_eq!(config.max_faces, 5);
        assert_eq!(config.score_threshold, 0.7);
        assert!(toml::from_str::<FaceConfig>("threshold = 0.5").is_err());
    }

    #[test]
    fn faces_map_back_from_the_canvas_and_clip_to_the_image() {
        // A 1280x640 image at scale 640: every canvas pixel is two image pixels.
        let placement = Letterbox::new(1280, 640, 640, 32);
        let face = Face {
            rect: [600.0, 10.0, 50.0, 60.0],
            score: 0.9,
            landmarks: [[610.0, 20.0]; 5],
        };
        let mapped = face.in_image(&placement);
        assert_eq!(mapped.rect, [1200.0, 20.0, 100.0, 120.0]);
        assert_eq!(mapped.landmarks[3], [1220.0, 40.0]);
        assert_eq!(mapped.clipped_rect(1280, 640), [1200.0, 20.0, 80.0, 120.0]);
        let outside = Face {
            rect: [-10.0, -5.0, 20.0, 20.0],
            ..face
        };
        assert_eq!(outside.clipped_rect(100, 100), [0.0, 0.0, 10.0, 15.0]);
    }

    #[test]
    fn faces_serialise_as_plain_arrays() {
        let face = Face {
            rect: [1.0, 2.0, 3.0, 4.0],
            score: 0.5,
            landmarks: [[1.0, 2.0]; 5],
        };
        let json = serde_json::to_string(&face).unwrap();
        assert!(
            json.starts_with(r#"{"rect":[1.0,2.0,3.0,4.0],"score":0.5,"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Face>(&json).unwrap(), face);
    }
}
