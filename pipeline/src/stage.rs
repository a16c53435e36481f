//! The `Pipeline`: a validated [`PipelineConfig`] built into a runtime value
//! that turns untrusted bytes into everything the image core produces, from
//! one decode: the inspection (metadata, fingerprints, quality), the encoded
//! renditions, and an upright 8-bit RGB model input bounded in size.
//!
//! Models plug in through [`Pipeline::process_with`]: the caller's closure
//! runs on the model input inside the same CPU task, so nothing is decoded
//! twice. [`Pipeline::process_redacted`] makes the renditions after the
//! analysis, redacted as the analysis says (faces and ID numbers of identity
//! papers; see [`mod@crate::redact`]). Async callers use
//! [`Pipeline::process_async`] / [`Pipeline::process_with_async`] /
//! [`Pipeline::process_redacted_async`], which run the CPU work on tokio's
//! blocking pool behind a semaphore sized by `max_concurrency`, carrying the
//! caller's tracing span.

use std::sync::Arc;

use image::{DynamicImage, RgbImage};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::decode::{DecodeLimits, ShrinkHint};
use crate::error::PipelineError;
use crate::inspect::{Inspection, inspect};
use crate::quality::QualityThresholds;
use crate::redact::Redaction;
use crate::rendition::{
    Rendition, RenditionSpec, default_renditions, render_redacted, validate_renditions,
};
use crate::resize::fit_within;

/// Everything that configures the image core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Limits on untrusted input.
    pub decode: DecodeLimits,
    /// Thresholds of the quality flags.
    pub quality: QualityThresholds,
    /// Renditions to encode.
    pub renditions: Vec<RenditionSpec>,
    /// The model input's short side is reduced to this many pixels when
    /// larger (never enlarged): enough for every model's own preprocessing.
    pub model_input_short_side: u32,
    /// Most images processed at once by the async entry points.
    pub max_concurrency: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            decode: DecodeLimits::default(),
            quality: QualityThresholds::default(),
            renditions: default_renditions(),
            model_input_short_side: 512,
            max_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
        }
    }
}

impl PipelineConfig {
    /// Validates the configuration and builds the pipeline.
    pub fn build(self) -> Result<Pipeline, PipelineError> {
        let invalid = PipelineError::InvalidConfig;
        self.decode
            .validate()
            .map_err(|e| invalid(format!("decode.{e}")))?;
        self.quality
            .validate()
            .map_err(|e| invalid(format!("quality: {e}")))?;
        validate_renditions(&self.renditions).map_err(invalid)?;
        if self.model_input_short_side == 0 {
            return Err(invalid("model_input_short_side must be positive".into()));
        }
        if self.max_concurrency == 0 {
            return Err(invalid("max_concurrency must be positive".into()));
        }
        let permits = Arc::new(Semaphore::new(self.max_concurrency));
        Ok(Pipeline {
            config: Arc::new(self),
            permits,
        })
    }
}

/// The runtime value: cheap to clone, shareable between tasks.
#[derive(Debug, Clone)]
pub struct Pipeline {
    config: Arc<PipelineConfig>,
    permits: Arc<Semaphore>,
}

/// Everything the image core produced for one image.
#[derive(Debug, Clone)]
pub struct ProcessedImage {
    /// Metadata, fingerprints, quality signals.
    pub inspection: Inspection,
    /// Encoded renditions, in configuration order.
    pub renditions: Vec<Rendition>,
    /// Upright 8-bit RGB copy for the models (short side bounded).
    pub model_input: RgbImage,
}

/// What the analysis hook of [`Pipeline::process_with`] sees, borrowed from
/// the one decode.
#[derive(Debug, Clone, Copy)]
pub struct Decoded<'a> {
    /// The upright sRGB image as decoded (possibly shrunk on load, never
    /// below the largest rendition or the model input).
    pub image: &'a DynamicImage,
    /// The 8-bit RGB model input (short side at most
    /// `model_input_short_side`).
    pub model_input: &'a RgbImage,
    /// Metadata, fingerprints and quality signals.
    pub inspection: &'a Inspection,
}

impl Pipeline {
    /// The configuration it was built from.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Processes `bytes` on the current thread (CPU-bound: not on an async
    /// executor thread; see [`Pipeline::process_async`]).
    pub fn process(&self, bytes: &[u8]) -> Result<ProcessedImage, PipelineError> {
        self.process_with(bytes, |_| ())
            .map(|(processed, ())| processed)
    }

    /// Like [`Pipeline::process`], then runs `analyze` on what the one
    /// decode gave (the hook where models plug in): the upright image as
    /// decoded, the bounded model input and the inspection.
    pub fn process_with<T>(
        &self,
        bytes: &[u8],
        analyze: impl FnOnce(&Decoded<'_>) -> T,
    ) -> Result<(ProcessedImage, T), PipelineError> {
        self.process_redacted(bytes, analyze, |_| None)
    }

    /// Like [`Pipeline::process_with`], but the renditions are made after
    /// `analyze` ran, redacted as `redaction` says from its result (`None`
    /// or an empty [`Redaction`]: the plain renditions). The original bytes,
    /// the inspection and the model input are never redacted.
    pub fn process_redacted<T>(
        &self,
        bytes: &[u8],
        analyze: impl FnOnce(&Decoded<'_>) -> T,
        redaction: impl FnOnce(&T) -> Option<Redaction>,
    ) -> Result<(ProcessedImage, T), PipelineError> {
        let (inspection, image) = inspect(
            bytes,
            &self.config.decode,
            &self.config.quality,
            Some(self.shrink_hint()),
        )?;
        let model_input = self.model_input(&image)?;
        let analysis = analyze(&Decoded {
            image: &image,
            model_input: &model_input,
            inspection: &inspection,
        });
        let redaction = redaction(&analysis).filter(|r| !r.is_empty());
        if let Some(redaction) = &redaction {
            tracing::debug!(
                blur = redaction.blur.len(),
                fill = redaction.fill.len(),
                "redacting the renditions"
            );
        }
        let renditions = render_redacted(&image, &self.config.renditions, redaction.as_ref())?;
        Ok((
            ProcessedImage {
                inspection,
                renditions,
                model_input,
            },
            analysis,
        ))
    }

    /// [`Pipeline::process`] on the blocking pool, at most
    /// `max_concurrency` at once.
    pub async fn process_async(&self, bytes: Arc<[u8]>) -> Result<ProcessedImage, PipelineError> {
        self.process_with_async(bytes, |_| ())
            .await
            .map(|(processed, ())| processed)
    }

    /// [`Pipeline::process_with`] on the blocking pool, at most
    /// `max_concurrency` at once.
    pub async fn process_with_async<T: Send + 'static>(
        &self,
        bytes: Arc<[u8]>,
        analyze: impl FnOnce(&Decoded<'_>) -> T + Send + 'static,
    ) -> Result<(ProcessedImage, T), PipelineError> {
        self.process_redacted_async(bytes, analyze, |_| None).await
    }

    /// [`Pipeline::process_redacted`] on the blocking pool, at most
    /// `max_concurrency` at once.
    pub async fn process_redacted_async<T: Send + 'static>(
        &self,
        bytes: Arc<[u8]>,
        analyze: impl FnOnce(&Decoded<'_>) -> T + Send + 'static,
        redaction: impl FnOnce(&T) -> Option<Redaction> + Send + 'static,
    ) -> Result<(ProcessedImage, T), PipelineError> {
        let _permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| PipelineError::Unavailable("the pipeline is shutting down".into()))?;
        let pipeline = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            pipeline.process_redacted(&bytes, analyze, redaction)
        })
        .await
        .map_err(|e| PipelineError::Unavailable(format!("the processing task failed: {e}")))?
    }

    /// How small the decode may be: large enough for the largest rendition
    /// and the model input.
    /// Decodes `bytes` again (within the same limits, upright, sRGB),
    /// shrinking on load only as far as a long side of `min_long_side`
    /// allows: for an analysis that needs more pixels than the first
    /// decode kept (reading small print).
    pub fn decode_upright(
        &self,
        bytes: &[u8],
        min_long_side: u32,
    ) -> Result<DynamicImage, PipelineError> {
        let hint = ShrinkHint {
            min_long_side,
            min_short_side: self.config.model_input_short_side,
        };
        Ok(crate::decode::decode_with_hint(bytes, &self.config.decode, Some(hint))?.image)
    }

    fn shrink_hint(&self) -> ShrinkHint {
        let largest = self
            .config
            .renditions
            .iter()
            .map(|r| r.max_side)
            .max()
            .unwrap_or(0);
        ShrinkHint {
            min_long_side: largest,
            min_short_side: self.config.model_input_short_side,
        }
    }

    fn model_input(&self, image: &DynamicImage) -> Result<RgbImage, PipelineError> {
        let (width, height) = (image.width(), image.height());
        let short = width.min(height);
        let target = self.config.model_input_short_side;
        let long_bound = if short > target {
            // Long side such that the short side lands on `target`.
            (u64::from(width.max(height)) * u64::from(target)).div_ceil(u64::from(short)) as u32
        } else {
            width.max(height)
        };
        // `into_rgb8` moves an RGB image's pixels; `to_rgb8` would convert
        // every pixel even when nothing changes.
        Ok(fit_within(image, long_bound)?.into_owned().into_rgb8())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::{DynamicImage, ImageFormat, Rgb};

    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        });
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
            .unwrap();
        bytes
    }

    #[test]
    fn one_call_gives_inspection_renditions_and_a_bounded_model_input() {
        let pipeline = PipelineConfig::default().build().unwrap();
        let bytes = jpeg(2000, 1000);
        let (processed, seen) = pipeline
            .process_with(&bytes, |decoded| decoded.model_input.dimensions())
            .unwrap();
        assert_eq!(processed.inspection.metadata.width, 2000);
        assert_eq!(processed.renditions.len(), 2);
        assert_eq!(
            (
                processed.renditions[0].width,
                processed.renditions[0].height
            ),
            (256, 128)
        );
        assert_eq!(processed.model_input.dimensions(), (1024, 512));
        assert_eq!(seen, (1024, 512), "the hook sees the model input");
        let small = pipeline.process(&jpeg(300, 200)).unwrap();
        assert_eq!(small.model_input.dimensions(), (300, 200), "never enlarged");
    }

    #[test]
    fn invalid_configs_are_refused() {
        let config = PipelineConfig {
            max_concurrency: 0,
            ..PipelineConfig::default()
        };
        assert_eq!(config.build().unwrap_err().code(), "config.invalid");
        let mut config = PipelineConfig::default();
        config.renditions[0].quality = 0;
        assert!(config.build().is_err());
    }

    #[test]
    fn redacted_renditions_differ_from_plain_ones_only_inside_the_areas() {
        use crate::encode::OutputFormat;
        use crate::redact::MIN_MARGIN_PX;

        let png = |name: &str, max_side| RenditionSpec {
            name: name.into(),
            max_side,
            format: OutputFormat::Png,
            quality: 80,
            lossless: false,
        };
        let pipeline = PipelineConfig {
            renditions: vec![png("thumb", 100), png("preview", 300)],
            ..PipelineConfig::default()
        }
        .build()
        .unwrap();
        let bytes = jpeg(600, 400);
        let face = [0.1_f32, 0.2, 0.2, 0.3];
        let line = [[0.5_f32, 0.7], [0.9, 0.7], [0.9, 0.75], [0.5, 0.75]];
        let plain = pipeline.process(&bytes).unwrap();
        let (redacted, seen) = pipeline
            .process_redacted(
                &bytes,
                |decoded| decoded.image.width(),
                |&width| {
                    assert_eq!(width, 600, "the redaction sees the analysis");
                    Some(Redaction {
                        blur: vec![face],
                        fill: vec![line],
                    })
                },
            )
            .unwrap();
        assert_eq!(seen, 600);
        assert_eq!(
            redacted.inspection, plain.inspection,
            "the original is not redacted"
        );
        assert_eq!(redacted.model_input, plain.model_input);
        let limits = DecodeLimits::default();
        for (plain, redacted) in plain.renditions.iter().zip(&redacted.renditions) {
            assert_eq!(
                (plain.width, plain.height),
                (redacted.width, redacted.height)
            );
            let a = crate::decode::decode(&plain.bytes, &limits)
                .unwrap()
                .image
                .to_rgb8();
            let b = crate::decode::decode(&redacted.bytes, &limits)
                .unwrap()
                .image
                .to_rgb8();
            let (w, h) = (f64::from(a.width()), f64::from(a.height()));
            // The areas in this rendition's pixels, grown by their margins
            // (and one pixel for rounding).
            let grow = |size: f64, share: f64| (size * share).max(MIN_MARGIN_PX) + 1.0;
            let [fx, fy, fw, fh] = face.map(f64::from);
            let (mx, my) = (grow(fw * w, 0.15), grow(fh * h, 0.15));
            let in_face = |x: f64, y: f64| {
                (fx * w - mx..(fx + fw) * w + mx).contains(&x)
                    && (fy * h - my..(fy + fh) * h + my).contains(&y)
            };
            let in_line = |x: f64, y: f64| {
                (0.5 * w - 4.0..0.9 * w + 4.0).contains(&x)
                    && (0.7 * h - 4.0..0.75 * h + 4.0).contains(&y)
            };
            let mut changed = 0;
            for (x, y, pixel) in b.enumerate_pixels() {
                if pixel != a.get_pixel(x, y) {
                    let (cx, cy) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
                    assert!(
                        in_face(cx, cy) || in_line(cx, cy),
                        "{}: ({x}, {y}) changed",
                        plain.name
                    );
                    changed += 1;
                }
            }
            assert!(changed > 0, "{}: nothing redacted", plain.name);
            let centre = ((0.7 * w) as u32, (0.725 * h) as u32);
            assert_eq!(b.get_pixel(centre.0, centre.1), &Rgb([0, 0, 0]));
        }
        // No redaction: the plain renditions.
        let (unredacted, ()) = pipeline
            .process_redacted(&bytes, |_| (), |()| Some(Redaction::default()))
            .unwrap();
        assert_eq!(unredacted.renditions, plain.renditions);
    }

    #[tokio::test]
    async fn async_redaction_matches_sync() {
        let pipeline = PipelineConfig::default().build().unwrap();
        let bytes: Arc<[u8]> = jpeg(640, 480).into();
        let redaction = Redaction {
            blur: vec![[0.4, 0.4, 0.2, 0.2]],
            fill: vec![],
        };
        let wanted = redaction.clone();
        let (expected, ()) = pipeline
            .process_redacted(&bytes, |_| (), |()| Some(wanted))
            .unwrap();
        let (processed, ()) = pipeline
            .process_redacted_async(bytes, |_| (), move |()| Some(redaction))
            .await
            .unwrap();
        assert_eq!(processed.renditions, expected.renditions);
        let plain = pipeline.process(&jpeg(640, 480)).unwrap();
        assert_ne!(processed.renditions, plain.renditions);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn async_processing_matches_sync_and_respects_the_bound() {
        let pipeline = PipelineConfig {
            max_concurrency: 2,
            ..PipelineConfig::default()
        }
        .build()
        .unwrap();
        let bytes: Arc<[u8]> = jpeg(640, 480).into();
        let expected = pipeline.process(&bytes).unwrap();
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (pipeline, bytes) = (pipeline.clone(), Arc::clone(&bytes));
                let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
                tokio::spawn(async move {
                    pipeline
                        .process_with_async(bytes, move |_| {
                            use std::sync::atomic::Ordering::SeqCst;
                            let now = running.fetch_add(1, SeqCst) + 1;
                            peak.fetch_max(now, SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            running.fetch_sub(1, SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            let (processed, ()) = task.await.unwrap().unwrap();
            assert_eq!(processed.inspection, expected.inspection);
            assert_eq!(processed.renditions, expected.renditions);
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    }
}
