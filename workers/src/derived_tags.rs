//! Tags that come from the image core rather than the models: quality checks
//! (source `check`) and EXIF facts (source `exif`). They carry the same
//! provenance as model tags, with the pipeline's version as the "model".

use imgtag_models::{ModelRef, Tag, TagSource};
use imgtag_pipeline::Inspection;

/// Rule-set id of the check and EXIF tags.
pub const RULES_ID: &str = "imgtag-pipeline";

fn rules() -> ModelRef {
    ModelRef {
        id: RULES_ID.into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// `too_small`, `blurry`, `underexposed`, `overexposed` (quality flags) and
/// `geotagged`, `camera_photo` (EXIF), each with score 1.
pub fn derived_tags(inspection: &Inspection) -> Vec<Tag> {
    let quality = &inspection.quality;
    let exif = inspection.metadata.exif.as_ref();
    let checks = [
        ("too_small", quality.too_small),
        ("blurry", quality.blurry),
        ("underexposed", quality.underexposed),
        ("overexposed", quality.overexposed),
    ]
    .into_iter()
    .map(|(name, set)| (name, set, TagSource::Check));
    let facts = [
        ("geotagged", exif.is_some_and(|e| e.gps.is_some())),
        (
            "camera_photo",
            exif.is_some_and(|e| e.make.is_some() || e.model.is_some()),
        ),
    ]
    .into_iter()
    .map(|(name, set)| (name, set, TagSource::Exif));
    checks
        .chain(facts)
        .filter(|(_, set, _)| *set)
        .map(|(name, _, source)| Tag {
            name: name.into(),
            score: 1.0,
            source,
            model: rules(),
        })
        .collect()
}
