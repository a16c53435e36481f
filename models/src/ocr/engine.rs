//! [`OcrEngine`]: the OCR models on their session pools (the tier's
//! detector and recogniser, the page-orientation classifier, the probe
//! detector), and one read from page to lines. Pixel work (conversion,
//! resizing, post-processing, cropping, decoding) runs on the caller's
//! thread; inference runs on the pools' runner threads, the recogniser's
//! batches overlapping with the preparation of the next.

use std::collections::VecDeque;
use std::time::Instant;

use image::RgbImage;
use once_cell::sync::OnceCell;

use super::config::{DetLimit, OcrConfig};
use super::crop;
use super::ctc;
use super::db::{DbParams, PageBox};
use super::detector::Detector;
use super::image::{Bgr, to_caller};
use super::orientation;
use super::prepare::{self, Prepared};
use super::reader::{ORIENTATION_KEY, Reader};
use super::rec;
use super::result::{OcrLine, OcrResult, OcrTimings, PageOrientation, TextBox, is_cjk};
use super::sessions::as_ocr;
use crate::error::ModelError;
use crate::manifest::Preprocess;
use crate::runtime::Runtime;
use crate::store::ModelStore;
use crate::tags::ModelRef;

/// Manifest key of the probe detector (PP-OCRv6 tiny, whatever the tier).
const PROBE_KEY: &str = "ocr_det_tiny";

/// Chinese + English OCR (PP-OCRv6 small or tiny, rapidocr 3.10.0's
/// pipeline) with whole-page orientation and a cheap text probe. Load once,
/// share between threads.
///
/// The probe detector loads at once; the reading models (the tier's
/// detector and recogniser, the orientation classifier: about 90 MiB of
/// sessions) load on the first read, or [`OcrEngine::preload`]. A worker
/// that only sees photos never holds them. Their files are checked
/// (present, sha256) at load all the same, so a damaged installation stops
/// the start.
pub struct OcrEngine {
    config: OcrConfig,
    probe: Detector,
    reader: OnceCell<Reader>,
    store: ModelStore,
    runtime: Runtime,
    models: Vec<ModelRef>,
}

impl std::fmt::Debug for OcrEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcrEngine")
            .field("models", &self.models)
            .field("reading_models_loaded", &self.is_loaded())
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
    /// Loads the probe detector (sha256-checked) into its pool and checks
    /// the reading models' manifest entries and files; the reading models
    /// themselves load on first use.
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
        let mut reading = Vec::new();
        for key in [det_key, rec_key, ORIENTATION_KEY] {
            let entry = manifest.model(key)?;
            store.read_verified(&entry.file, &entry.sha256)?;
            reading.push(ModelRef::of(entry));
        }
        if let Preprocess::OcrRecognition(spec) = &manifest.model(rec_key)?.preprocess
            && let crate::manifest::CharsetSource::Asset(key) = &spec.charset
        {
            store.read_asset(key)?;
        }
        // Small inputs: an arena would only keep memory.
        let probe = Detector::load(store, runtime, PROBE_KEY, &config.probe, false)?;
        let models = distinct([&reading[0], &reading[1], &reading[2], probe.model()]);
        Ok(Self {
            config: config.clone(),
            probe,
            reader: OnceCell::new(),
            store: store.clone(),
            runtime: runtime.clone(),
            models,
        })
    }

    /// Loads the reading models now, so that the first read is not slower
    /// than the others.
    pub fn preload(&self) -> Result<(), ModelError> {
        self.reader().map(|_| ())
    }

    /// Whether the reading models are loaded.
    pub fn is_loaded(&self) -> bool {
        self.reader.get().is_some()
    }

    /// The reading models, loaded on first use (one loader at a time; the
    /// others find them loaded).
    fn reader(&self) -> Result<&Reader, ModelError> {
        self.reader
            .get_or_try_init(|| Reader::load(&self.store, &self.runtime, &self.config))
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
        let reader = self.reader()?;
        let Some(input) = orientation::tensor(image, &reader.orientation_spec) else {
            return Ok(None);
        };
        let probabilities = reader
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
            Some(probabilities) => orientation::decide(&probabilities, &self.reader()?.labels),
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
        self.detect_with(&self.reader()?.det, image, limit)
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
        reader: &Reader,
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
                decoded[owners[line]] = Some(ctc::decode(steps, &reader.charset));
            }
            Ok(())
        };
        for lines in &plan {
            if pending.len() >= window
                && let Some((done, receiver)) = pending.pop_front()
            {
                let steps = reader
                    .rec
                    .wait(receiver)
                    .map_err(|e| as_ocr(e, ModelError::OcrRecognitionFailed))?;
                collect(done, steps)?;
            }
            let input = rec::tensor(&crops, lines, &reader.rec_spec);
            pending.push_back((lines, reader.rec.submit(input)));
        }
        while let Some((done, receiver)) = pending.pop_front() {
            let steps = reader
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
        let reader = self.reader()?;
        if self.config.page_orientation {
            let step = Instant::now();
            if let Some(probabilities) = self.orientation_probabilities(image)? {
                let page = orientation::decide(&probabilities, &reader.labels);
                if page.rotation != 0 && page.confidence >= self.config.orientation_min_confidence {
                    (result.rotation, result.rotation_confidence) =
                        (page.rotation, page.confidence);
                } else if let Some(upright) = reader.labels.iter().position(|&l| l == 0) {
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
        let mut boxes = self.detect_prepared(&reader.det, &page, self.config.det_limit())?;
        if boxes.len() > self.config.max_lines {
            boxes = best_in_order(boxes, self.config.max_lines);
            result.truncated = true;
        }
        timings.detect_ms = elapsed_ms(step);
        let step = Instant::now();
        let decoded = self.recognize(reader, &page, &boxes)?;
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
    use crate::session::output_width;

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
