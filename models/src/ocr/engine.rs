//! [`OcrEngine`]: the OCR models on their session pools (the tier's
//! detector and recogniser, the page-orientation classifier, the probe
//! detector), and one read from page to lines. Pixel work (conversion,
//! resizing, post-processing, cropping, decoding) runs on the caller's
//! thread; inference runs on the pools' runner threads, the recogniser's
//! batches overlapping with the preparation of the next.

use std::collections::VecDeque;
use std::time::Instant;

use image::RgbImage;

use super::charset::{self, Charset};
use super::config::{DetLimit, OcrConfig};
use super::crop;
use super::ctc;
use super::db::{DbParams, PageBox};
use super::detector::Detector;
use super::image::{Bgr, to_caller};
use super::normalize::{Arithmetic, Lut};
use super::orientation::{self, OrientationRun, OrientationSpec};
use super::prepare::{self, Prepared};
use super::rec::{self, RecRun, RecSpec};
use super::result::{OcrLine, OcrResult, OcrTimings, PageOrientation, TextBox, is_cjk};
use super::sessions::{self, as_ocr, names};
use crate::batcher::Batcher;
use crate::error::ModelError;
use crate::manifest::Preprocess;
use crate::runtime::Runtime;
use crate::session::{manifest_error, output_width};
use crate::store::ModelStore;
use crate::tags::ModelRef;

/// Manifest key of the page-orientation classifier.
const ORIENTATION_KEY: &str = "ocr_orientation";
/// Manifest key of the probe detector (PP-OCRv6 tiny, whatever the tier).
const PROBE_KEY: &str = "ocr_det_tiny";

/// Chinese + English OCR (PP-OCRv6 small or tiny, rapidocr 3.10.0's
/// pipeline) with whole-page orientation and a cheap text probe. Load once,
/// share between threads.
pub struct OcrEngine {
    config: OcrConfig,
    det: Detector,
    probe: Detector,
    rec: Batcher<RecRun>,
    orientation: Batcher<OrientationRun>,
    rec_spec: RecSpec,
    orientation_spec: OrientationSpec,
    charset: Charset,
    labels: Vec<u16>,
    models: Vec<ModelRef>,
}

impl std::fmt::Debug for OcrEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcrEngine")
            .field("models", &self.models)
            .field("classes", &self.charset.count())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The models a result depends on, each once (the probe detector is the
/// tier's detector in the tiny tier).
fn distinct(models: [&ModelRef; 4]) -> Vec<ModelRef> {
    let mut out: Vec<ModelRef> = Vec::with_capacity(models.len());
    for model in models {
        if !out.contains(model) {
            out.push(model.clone());
        }
    }
    out
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl OcrEngine {
    /// Loads the tier's detector and recogniser, the orientation
    /// classifier and the probe detector (sha256-checked) into their pools,
    /// and reads the class lists (graph metadata or dictionary asset, as the
    /// manifest says).
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        config: &OcrConfig,
    ) -> Result<Self, ModelError> {
        config.validate().map_err(|message| ModelError::Session {
            model: "ocr".into(),
            message: format!("invalid OCR settings: {message}"),
        })?;
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
        // Small inputs: an arena would only keep memory.
        let probe = Detector::load(store, runtime, PROBE_KEY, &config.probe, false)?;
        let rec = crate::session::load_with_arena(store, runtime, rec_key, &config.rec, arena)?;
        let orient = crate::session::load_with_arena(
            store,
            runtime,
            ORIENTATION_KEY,
            &config.orientation,
            arena,
        )?;
        let charset = charset::load(store, &rec, &rec_spec.charset, classes)?;
        let labels = orientation::parse_labels(
            &sessions::metadata(&orient, &orientation_spec.labels)?,
            directions,
        )
        .map_err(|message| ModelError::OcrCharsetInvalid {
            model: ORIENTATION_KEY.into(),
            message,
        })?;
        let models = distinct([
            det.model(),
            &ModelRef::of(&rec.entry),
            &ModelRef::of(&orient.entry),
            probe.model(),
        ]);
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
            probe,
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
            models,
            config: config.clone(),
        })
    }

    /// The models (id and version) whose outputs a result depends on: the
    /// tier's detector and recogniser, the orientation classifier and the
    /// probe detector (listed once when it is the tier's detector), for
    /// provenance.
    pub fn models(&self) -> Vec<ModelRef> {
        self.models.clone()
    }

    /// The settings the engine was loaded with.
    pub fn config(&self) -> &OcrConfig {
        &self.config
    }

    /// Most pixels a prepared page or the detector's input may have: the
    /// capped page's area with room for rounding.
    fn max_pixels(&self) -> usize {
        let side = self.config.max_side as usize + 32;
        side * side
    }

    /// The orientation classifier's probabilities for `image`; `None` when
    /// the image is too small to classify.
    fn orientation_probabilities(&self, image: &RgbImage) -> Result<Option<Vec<f32>>, ModelError> {
        let Some(input) = orientation::tensor(image, &self.orientation_spec) else {
            return Ok(None);
        };
        let probabilities = self
            .orientation
            .run(input)
            .map_err(|e| as_ocr(e, ModelError::OcrOrientationFailed))?;
        Ok(Some(probabilities))
    }

    /// How far the content of `image` is turned clockwise, with the
    /// classifier's probability (0 degrees with probability 0 for an image
    /// too small to classify). Blocking.
    pub fn orientation(&self, image: &RgbImage) -> Result<PageOrientation, ModelError> {
        Ok(match self.orientation_probabilities(image)? {
            Some(probabilities) => orientation::decide(&probabilities, &self.labels),
            None => PageOrientation {
                rotation: 0,
                confidence: 0.0,
            },
        })
    }

    /// The page as the detector's pipeline prepares it; `None` for an empty
    /// or degenerate page.
    fn prepare(&self, upright: Bgr) -> Option<Prepared> {
        prepare::prepare(
            upright,
            self.config.min_side as usize,
            self.config.max_side as usize,
            self.max_pixels(),
        )
    }

    /// The DB post-processing settings.
    fn db_params(&self) -> DbParams {
        DbParams {
            threshold: self.config.det_threshold,
            box_threshold: self.config.box_threshold,
            unclip_ratio: self.config.unclip_ratio,
            max_candidates: self.config.max_candidates,
        }
    }

    /// Boxes of a prepared page by `detector`, in reading order, in its
    /// pixels.
    fn detect_prepared(
        &self,
        detector: &Detector,
        page: &Prepared,
        limit: DetLimit,
    ) -> Result<Vec<PageBox>, ModelError> {
        detector.boxes(&page.image, limit, &self.db_params(), self.max_pixels())
    }

    /// `image`'s text regions by `detector`, in `image`'s pixels.
    fn detect_with(
        &self,
        detector: &Detector,
        image: &RgbImage,
        limit: DetLimit,
    ) -> Result<Vec<TextBox>, ModelError> {
        let Some(page) = self.prepare(Bgr::upright_from_rgb(image, 0)) else {
            return Ok(Vec::new());
        };
        Ok(self
            .detect_prepared(detector, &page, limit)?
            .into_iter()
            .map(|b| TextBox {
                quad: b.quad.map(|p| page.to_upright(p)),
                score: b.score,
            })
            .collect())
    }

    /// The text regions of `image` by the tier's detector (no orientation
    /// check, no recognition): outlines in the image's pixels and detection
    /// scores, in reading order. `limit` sets the detection size:
    /// [`OcrConfig::det_limit`] for what [`OcrEngine::read`] sees, or e.g.
    /// `DetLimit::max_side(512)` for a coarser pass. Blocking.
    pub fn detect(&self, image: &RgbImage, limit: DetLimit) -> Result<Vec<TextBox>, ModelError> {
        self.detect_with(&self.det, image, limit)
    }

    /// The text regions of `image` by the probe detector (PP-OCRv6 tiny,
    /// whatever the tier, on its own pool), post-processed as
    /// [`OcrEngine::detect`]: the cheap check whether a full read is worth
    /// it, e.g. at `DetLimit::max_side(320)` (about 9 ms of CPU, against
    /// about 25 ms for the small detector). Blocking.
    pub fn probe(&self, image: &RgbImage, limit: DetLimit) -> Result<Vec<TextBox>, ModelError> {
        self.detect_with(&self.probe, image, limit)
    }

    /// Recognises the boxes of a prepared page: per box, the decoded text
    /// and score, `None` where the box could not be cut out.
    fn recognize(
        &self,
        page: &Prepared,
        boxes: &[PageBox],
    ) -> Result<Vec<Option<(String, f32)>>, ModelError> {
        let mut crops = Vec::with_capacity(boxes.len());
        let mut owners = Vec::with_capacity(boxes.len());
        for (i, b) in boxes.iter().enumerate() {
            if let Some(cut) = crop::crop(&page.image, &b.quad) {
                crops.push(cut);
                owners.push(i);
            }
        }
        let mut decoded = vec![None; boxes.len()];
        let window = self.config.rec.sessions + 1;
        let mut pending = VecDeque::new();
        let plan = rec::plan(&crops, self.config.rec_batch);
        let mut collect = |lines: &[usize], steps: Vec<rec::Steps>| -> Result<(), ModelError> {
            if steps.len() != lines.len() {
                return Err(ModelError::OcrRecognitionFailed(format!(
                    "{} results for {} lines",
                    steps.len(),
                    lines.len()
                )));
            }
            for (&line, steps) in lines.iter().zip(&steps) {
                decoded[owners[line]] = Some(ctc::decode(steps, &self.charset));
            }
            Ok(())
        };
        for lines in &plan {
            if pending.len() >= window
                && let Some((done, receiver)) = pending.pop_front()
            {
                let steps = self
                    .rec
                    .wait(receiver)
                    .map_err(|e| as_ocr(e, ModelError::OcrRecognitionFailed))?;
                collect(done, steps)?;
            }
            let input = rec::tensor(&crops, lines, &self.rec_spec);
            pending.push_back((lines, self.rec.submit(input)));
        }
        while let Some((done, receiver)) = pending.pop_front() {
            let steps = self
                .rec
                .wait(receiver)
                .map_err(|e| as_ocr(e, ModelError::OcrRecognitionFailed))?;
            collect(done, steps)?;
        }
        Ok(decoded)
    }

    /// Reads `image`: orientation (when enabled), detection, recognition.
    /// Lines come in reading order with outlines in `image`'s pixels. An
    /// image without text, or too small or thin to read, gives an empty
    /// result. Blocking (CPU-bound for up to seconds): call it from a
    /// blocking context.
    pub fn read(&self, image: &RgbImage) -> Result<OcrResult, ModelError> {
        let started = Instant::now();
        let mut result = OcrResult::default();
        let mut timings = OcrTimings::default();
        let (width, height) = image.dimensions();
        if width == 0 || height == 0 {
            return Ok(result);
        }
        if self.config.page_orientation {
            let step = Instant::now();
            if let Some(probabilities) = self.orientation_probabilities(image)? {
                let page = orientation::decide(&probabilities, &self.labels);
                if page.rotation != 0 && page.confidence >= self.config.orientation_min_confidence {
                    (result.rotation, result.rotation_confidence) =
                        (page.rotation, page.confidence);
                } else if let Some(upright) = self.labels.iter().position(|&l| l == 0) {
                    result.rotation_confidence = probabilities.get(upright).copied().unwrap_or(0.0);
                }
            }
            timings.orientation_ms = elapsed_ms(step);
        }
        let step = Instant::now();
        let Some(page) = self.prepare(Bgr::upright_from_rgb(image, result.rotation)) else {
            timings.total_ms = elapsed_ms(started);
            result.timings = timings;
            return Ok(result);
        };
        let mut boxes = self.detect_prepared(&self.det, &page, self.config.det_limit())?;
        if boxes.len() > self.config.max_lines {
            boxes = best_in_order(boxes, self.config.max_lines);
            result.truncated = true;
        }
        timings.detect_ms = elapsed_ms(step);
        let step = Instant::now();
        let decoded = self.recognize(&page, &boxes)?;
        let mut chars = 0;
        for (b, line) in boxes.iter().zip(decoded) {
            let Some((mut text, confidence)) = line else {
                continue;
            };
            if text.trim().is_empty() || confidence < self.config.min_line_score {
                continue;
            }
            let separator = usize::from(!result.lines.is_empty());
            let length = text.chars().count();
            if chars + separator + length > self.config.max_text_chars {
                result.truncated = true;
                let room = self.config.max_text_chars.saturating_sub(chars + separator);
                if room == 0 {
                    break;
                }
                text = text.chars().take(room).collect();
            }
            chars += separator + text.chars().count();
            result.lines.push(OcrLine {
                quad: b
                    .quad
                    .map(|p| to_caller(page.to_upright(p), result.rotation, width, height)),
                text,
                confidence,
            });
            if result.truncated && chars >= self.config.max_text_chars {
                break;
            }
        }
        result.has_cjk = result.lines.iter().any(|l| l.text.chars().any(is_cjk));
        timings.recognize_ms = elapsed_ms(step);
        timings.total_ms = elapsed_ms(started);
        result.timings = timings;
        Ok(result)
    }
}

/// The `keep` boxes with the highest scores, still in reading order.
fn best_in_order(boxes: Vec<PageBox>, keep: usize) -> Vec<PageBox> {
    let mut ranked: Vec<usize> = (0..boxes.len()).collect();
    ranked.sort_by(|&a, &b| boxes[b].score.total_cmp(&boxes[a].score));
    let mut chosen = vec![false; boxes.len()];
    for &i in ranked.iter().take(keep) {
        chosen[i] = true;
    }
    boxes
        .into_iter()
        .zip(chosen)
        .filter_map(|(b, keep)| keep.then_some(b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(score: f32, y: f32) -> PageBox {
        PageBox {
            quad: [[0.0, y], [10.0, y], [10.0, y + 5.0], [0.0, y + 5.0]],
            score,
        }
    }

    #[test]
    fn truncation_keeps_the_best_boxes_in_reading_order() {
        let boxes = vec![
            scored(0.6, 0.0),
            scored(0.9, 20.0),
            scored(0.7, 40.0),
            scored(0.95, 60.0),
        ];
        let kept: Vec<f32> = best_in_order(boxes, 2)
            .iter()
            .map(|b| b.quad[0][1])
            .collect();
        assert_eq!(kept, [20.0, 60.0]);
    }

    #[test]
    fn the_engine_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<OcrEngine>();
    }

    #[test]
    fn the_manifest_describes_both_tiers_and_the_probe() {
        use crate::ocr::OcrTier;
        let manifest = crate::manifest::Manifest::embedded().unwrap();
        for (tier, width) in [(OcrTier::Small, 18_710), (OcrTier::Tiny, 6_906)] {
            let (det, rec) = tier.keys();
            assert!(matches!(
                manifest.model(det).unwrap().preprocess,
                Preprocess::OcrDetection(_)
            ));
            let rec = manifest.model(rec).unwrap();
            assert!(matches!(rec.preprocess, Preprocess::OcrRecognition(_)));
            assert_eq!(output_width(rec, "fetch_name_0"), Some(width));
        }
        assert_eq!(PROBE_KEY, OcrTier::Tiny.keys().0);
        let orientation = manifest.model(ORIENTATION_KEY).unwrap();
        assert_eq!(output_width(orientation, "fetch_name_0"), Some(4));
    }

    #[test]
    fn each_model_is_listed_once() {
        let model = |id: &str| ModelRef {
            id: id.into(),
            version: "1".into(),
        };
        let (det, rec, orientation, tiny) = (model("d"), model("r"), model("o"), model("t"));
        let ids = |models: Vec<ModelRef>| models.into_iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(
            ids(distinct([&det, &rec, &orientation, &tiny])),
            ["d", "r", "o", "t"]
        );
        assert_eq!(
            ids(distinct([&tiny, &rec, &orientation, &tiny])),
            ["t", "r", "o"]
        );
    }
}
