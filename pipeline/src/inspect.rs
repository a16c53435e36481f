//! `inspect`: everything the image core learns about an image without the
//! models: metadata, fingerprints and quality signals, from one decode.

use image::DynamicImage;
use serde::{Deserialize, Serialize};

use crate::analysis::{ANALYSIS_MAX_SIDE, analysis_image};
use crate::decode::{DecodeLimits, ShrinkHint, decode_with_hint};
use crate::error::PipelineError;
use crate::fingerprint::Fingerprints;
use crate::metadata::ImageMetadata;
use crate::quality::{QualitySignals, QualityThresholds, assess};

/// The result of inspecting one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// What the image says about itself.
    pub metadata: ImageMetadata,
    /// SHA-256 and perceptual hash.
    pub fingerprints: Fingerprints,
    /// Quality signals and flags.
    pub quality: QualitySignals,
}

/// Decodes `bytes` within `limits` (shrinking on load as far as `hint`
/// allows, and never below the analysis size) and inspects the result;
/// returns the upright decoded image too, so later stages reuse the one
/// decode.
pub fn inspect(
    bytes: &[u8],
    limits: &DecodeLimits,
    thresholds: &QualityThresholds,
    hint: Option<ShrinkHint>,
) -> Result<(Inspection, DynamicImage), PipelineError> {
    let hint = hint.map(|h| ShrinkHint {
        min_long_side: h.min_long_side.max(ANALYSIS_MAX_SIDE),
        ..h
    });
    let decoded = decode_with_hint(bytes, limits, hint)?;
    let analysis = analysis_image(&decoded.image);
    let metadata = decoded.metadata;
    let quality = assess(metadata.width, metadata.height, &analysis, thresholds);
    let fingerprints = Fingerprints::compute(bytes, &analysis);
    Ok((
        Inspection {
            metadata,
            fingerprints,
            quality,
        },
        decoded.image,
    ))
}
