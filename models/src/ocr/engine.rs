//! [`OcrEngine`]: the three OCR models on their session pools, and one read
//! from page to lines. Pixel work (conversion, resizing, post-processing,
//! cropping, decoding) runs on the caller's thread; inference runs on the
//! pools' runner threads, the recogniser's batches overlapping with the
//! preparation of the next.

use std::collections::VecDeque;
use std::time::Instant;

use image::RgbImage;

use super::config::{DetLimit, OcrConfig};
use super::ctc::{self, Charset};
use super::db::{self, DbParams, PageBox};
use super::det::{self, DetRun};
use super::image::{Bgr, to_caller};
use super::normalize::{Arithmetic, Lut};
use super::orientation::{self, OrientationRun, OrientationSpec};
use super::prepare::{self, Prepared};
use super::rec::{self, RecRun, RecSpec};
use super::result::{OcrLine, OcrResult, OcrTimings, PageOrientation, TextBox, is_cjk};
use super::{crop, order, sessions};
use crate::batcher::Batcher;
use crate::error::ModelError;
use crate::manifest::{ModelEntry, Preprocess};
use crate::runtime::Runtime;
use crate::session::{manifest_error, output_width};
use crate::store::ModelStore;
use crate::tags::ModelRef;

/// Manifest key of the text detector.
const DET_KEY: &str = "ocr_det";
/// Manifest key of the line recogniser.
const REC_KEY: &str = "ocr_rec";
/// Manifest key of the page-orientation classifier.
const ORIENTATION_KEY: &str = "ocr_orientation";

/// Chinese + English OCR (PP-OCRv6 small, rapidocr 3.10.0's pipeline) with
/// whole-page orientation. Load once, share between threads.
pub struct OcrEngine {
    config: OcrConfig,
    det: Batcher<DetRun>,
    rec: Batcher<RecRun>,
    orientation: Batcher<OrientationRun>,
    det_lut: Lut,
    det_multiple: usize,
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

/// The first input and output names of a manifest model.
fn names(key: &str, entry: &ModelEntry) -> Result<(String, String), ModelError> {
    match (entry.inputs.first(), entry.outputs.first()) {
        (Some(input), Some(output)) => Ok((input.name.clone(), output.name.clone())),
        _ => Err(manifest_error(key, "needs an input and an output")),
    }
}

/// Batcher errors (a stopped or panicking runner) reported as `kind`.
fn as_ocr(error: ModelError, kind: fn(String) -> ModelError) -> ModelError {
    match error {
        ModelError::Inference { message, .. } => kind(message),
        other => other,
    }
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl OcrEngine {
    /// Loads the detector, recogniser and orientation classifier
    /// (sha256-checked) into their pools and reads their class lists from
    /// the graphs' metadata.
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        config: &OcrConfig,
    ) -> Result<Self, ModelError> {
        config.validate().map_err(|message| ModelError::Session {
            model: "ocr".into(),
            message: format!("invalid OCR settings: {message}"),
        })?;
        let manifest = store.manifest();
        let det_entry = manifest.model(DET_KEY)?;
        let Preprocess::OcrDetection(det_spec) = &det_entry.preprocess else {
            return Err(manifest_error(DET_KEY, "needs ocr_detection preprocessing"));
        };
        let rec_entry = manifest.model(REC_KEY)?;
        let Preprocess::OcrRecognition(rec_spec) = &rec_entry.preprocess else {
            return Err(manifest_error(
                REC_KEY,
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
        let (det_input, det_output) = names(DET_KEY, det_entry)?;
        let (rec_input, rec_output) = names(REC_KEY, rec_entry)?;
        let (orientation_input, orientation_output) = names(ORIENTATION_KEY, orientation_entry)?;
        let classes = output_width(rec_entry, &rec_output)
            .ok_or_else(|| manifest_error(REC_KEY, "needs a fixed number of classes"))?;
        let directions = output_width(orientation_entry, &orientation_output)
            .ok_or_else(|| manifest_error(ORIENTATION_KEY, "needs a fixed number of classes"))?;
        let arena = config.memory_arena;
        let det = sessions::load(store, runtime, DET_KEY, &config.det, arena)?;
        let rec = sessions::load(store, runtime, REC_KEY, &config.rec, arena)?;
        let orient = sessions::load(store, runtime, ORIENTATION_KEY, &config.orientation, arena)?;
        let charset = Charset::parse(&sessions::metadata(&rec, &rec_spec.charset)?, classes)
            .map_err(|message| ModelError::OcrCharsetInvalid {
                model: REC_KEY.into(),
                message,
            })?;
        let labels = orientation::parse_labels(
            &sessions::metadata(&orient, &orientation_spec.labels)?,
            directions,
        )
        .map_err(|message| ModelError::OcrCharsetInvalid {
            model: ORIENTATION_KEY.into(),
            message,
        })?;
        let models = [&det.entry, &rec.entry, &orient.entry]
            .into_iter()
            .map(ModelRef::of)
            .collect();
        Ok(Self {
            det_lut: Lut::new(
                det_spec.channels,
                det_spec.mean,
                det_spec.std,
                Arithmetic::DetectionF64,
            ),
            det_multiple: det_spec.multiple as usize,
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
            det: Batcher::start(
                DetRun {
                    input: det_input,
                    output: det_output,
                },
                det,
                &config.det,
            )?,
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

    /// The detector, recogniser and orientation classifier (id and
    /// version), for provenance.
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

    /// Boxes of a prepared page, in reading order, in its pixels.
    fn detect_prepared(
        &self,
        page: &Prepared,
        limit: DetLimit,
    ) -> Result<Vec<PageBox>, ModelError> {
        let (width, height) = (page.image.width, page.image.height);
        let Some(mut size) = prepare::det_size(width, height, limit, self.det_multiple) else {
            return Ok(Vec::new());
        };
        if size.0 * size.1 > self.max_pixels() {
            // Far beyond rapidocr's intent (e.g. a strip hundreds of times
            // longer than wide, enlarged to a 736-pixel short side): the
            // same shape at the largest size allowed.
            let shrink = (self.max_pixels() as f64 / (size.0 * size.1) as f64).sqrt();
            let m = self.det_multiple.max(1);
            let fit = |side: usize| ((side as f64 * shrink) as usize / m * m).max(m);
            size = (fit(size.0), fit(size.1));
        }
        let input = det::tensor(&page.image, size, &self.det_lut);
        let map = self
            .det
            .run(input)
            .map_err(|e| as_ocr(e, ModelError::OcrDetectionFailed))?;
        let params = DbParams {
            threshold: self.config.det_threshold,
            box_threshold: self.config.box_threshold,
            unclip_ratio: self.config.unclip_ratio,
            max_candidates: self.config.max_candidates,
        };
        Ok(order::reading_order(db::boxes(
            &map, width, height, &params,
        )))
    }

    /// The text regions of `image` (no orientation check, no recognition):
    /// outlines in the image's pixels and detection scores, in reading
    /// order. `limit` sets the detection size: [`OcrConfig::det_limit`] for
    /// what [`OcrEngine::read`] sees, or e.g. `DetLimit::max_side(512)` for
    /// a cheap pass telling whether a full read is worth it. Blocking.
    pub fn detect(&self, image: &RgbImage, limit: DetLimit) -> Result<Vec<TextBox>, ModelError> {
        let Some(page) = self.prepare(Bgr::upright_from_rgb(image, 0)) else {
            return Ok(Vec::new());
        };
        Ok(self
            .detect_prepared(&page, limit)?
            .into_iter()
            .map(|b| TextBox {
                quad: b.quad.map(|p| page.to_upright(p)),
                score: b.score,
            })
            .collect())
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
        let mut boxes = self.detect_prepared(&page, self.config.det_limit())?;
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
    fn the_manifest_describes_the_three_models() {
        let manifest = crate::manifest::Manifest::embedded().unwrap();
        assert!(matches!(
            manifest.model(DET_KEY).unwrap().preprocess,
            Preprocess::OcrDetection(_)
        ));
        let rec = manifest.model(REC_KEY).unwrap();
        assert!(matches!(rec.preprocess, Preprocess::OcrRecognition(_)));
        assert_eq!(output_width(rec, "fetch_name_0"), Some(18_710));
        let orientation = manifest.model(ORIENTATION_KEY).unwrap();
        assert_eq!(output_width(orientation, "fetch_name_0"), Some(4));
    }
}
