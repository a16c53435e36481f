//! `inspect`: everything the image core learns about an image without the
//! models: metadata, fingerprints and quality signals, from one decode.

use image::DynamicImage;
use serde::{Deserialize, Serialize};

use crate::analysis::analysis_image;
use crate::decode::{DecodeLimits, decode};
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

/// Decodes `bytes` within `limits` and inspects the result; returns the
/// upright image too, so later stages reuse the one decode.
pub fn inspect(
    bytes: &[u8],
    limits: &DecodeLimits,
    thresholds: &QualityThresholds,
) -> Result<(Inspection, DynamicImage), PipelineError> {
    let decoded = decode(bytes, limits)?;
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
