//! A loaded text detector ([`Detector`]): its session pool, how its input
//! is normalised and sized, and one prepared page through it to boxes in
//! reading order. The engine holds two: the tier's (reads and
//! [`super::OcrEngine::detect`]) and the probe's, PP-OCRv6 tiny
//! ([`super::OcrEngine::probe`]). Both are post-processed alike.

use super::config::DetLimit;
use super::db::{self, DbParams, PageBox};
use super::det::{self, DetRun};
use super::image::Bgr;
use super::normalize::{Arithmetic, Lut};
use super::{order, prepare, sessions};
use crate::batcher::Batcher;
use crate::error::ModelError;
use crate::manifest::Preprocess;
use crate::runtime::Runtime;
use crate::session::{PoolConfig, manifest_error};
use crate::store::ModelStore;
use crate::tags::ModelRef;

/// A text detector on its session pool.
pub(crate) struct Detector {
    batcher: Batcher<DetRun>,
    lut: Lut,
    multiple: usize,
    model: ModelRef,
}

impl Detector {
    /// Loads detector `key` of the manifest (sha256-checked) into the
    /// sessions `pool` asks for, with or without a memory `arena`.
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        key: &str,
        pool: &PoolConfig,
        arena: bool,
    ) -> Result<Self, ModelError> {
        let entry = store.manifest().model(key)?;
        let Preprocess::OcrDetection(spec) = &entry.preprocess else {
            return Err(manifest_error(key, "needs ocr_detection preprocessing"));
        };
        if spec.multiple == 0 {
            return Err(manifest_error(key, "needs a positive multiple"));
        }
        let (input, output) = sessions::names(key, entry)?;
        let lut = Lut::new(spec.channels, spec.mean, spec.std, Arithmetic::DetectionF64);
        let multiple = spec.multiple as usize;
        let loaded = crate::session::load_with_arena(store, runtime, key, pool, arena)?;
        let model = ModelRef::of(&loaded.entry);
        Ok(Self {
            batcher: Batcher::start(DetRun { input, output }, loaded, pool)?,
            lut,
            multiple,
            model,
        })
    }

    /// The detector's id and version.
    pub fn model(&self) -> &ModelRef {
        &self.model
    }

    /// Boxes of a prepared `page`, in reading order, in its pixels. The
    /// detector's input holds at most `max_pixels` pixels: a page `limit`
    /// would make larger keeps its shape at that size.
    pub fn boxes(
        &self,
        page: &Bgr,
        limit: DetLimit,
        params: &DbParams,
        max_pixels: usize,
    ) -> Result<Vec<PageBox>, ModelError> {
        let (width, height) = (page.width, page.height);
        let Some(mut size) = prepare::det_size(width, height, limit, self.multiple) else {
            return Ok(Vec::new());
        };
        if size.0 * size.1 > max_pixels {
            // Far beyond rapidocr's intent (e.g. a strip hundreds of times
            // longer than wide, enlarged to a 736-pixel short side): the
            // same shape at the largest size allowed.
            let shrink = (max_pixels as f64 / (size.0 * size.1) as f64).sqrt();
            let m = self.multiple;
            let fit = |side: usize| ((side as f64 * shrink) as usize / m * m).max(m);
            size = (fit(size.0), fit(size.1));
        }
        let input = det::tensor(page, size, &self.lut);
        let map = self
            .batcher
            .run(input)
            .map_err(|e| sessions::as_ocr(e, ModelError::OcrDetectionFailed))?;
        Ok(order::reading_order(db::boxes(&map, width, height, params)))
    }
}
