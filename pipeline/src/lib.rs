//! imgtag's image core: pure image processing, no broker or database I/O.
//!
//! - [`mod@decode`]: bounded decoding of untrusted bytes (size and pixel limits
//!   checked before and during decoding, format sniffed from the content):
//!   JPEG, PNG, WebP, GIF, TIFF, BMP, AVIF and HEIC.
//! - [`color`]: embedded ICC profiles applied at decode (pixels leave as sRGB).
//! - [`metadata`]: format, dimensions, colour, ICC, frames, EXIF fields.
//! - [`analysis`]: the small greyscale copy hashes and checks run on.
//! - [`fingerprint`]: SHA-256 of the bytes and a perceptual hash.
//! - [`quality`]: too small, blur, exposure, with documented thresholds.
//! - [`mod@inspect`]: all of the above from one decode.
//! - [`resize`], [`encode`], [`rendition`]: named renditions and format
//!   conversion (WebP, AVIF, JPEG, PNG), metadata stripped, upright.
//! - [`mod@redact`]: faces blurred and text lines masked in renditions (identity
//!   papers), in fractions of the image so one value fits every size.
//! - [`stage`]: the `Pipeline` value running all of it from one decode, with
//!   a hook for the models (optionally redacting the renditions from what
//!   they found) and a bounded blocking pool for async callers.
//! - [`error`]: the crate's error type with stable codes.
//!
//! Later stages (metadata, checks, hashes, renditions) and the stage
//! orchestration live here too; see docs/ARCHITECTURE.md.

pub mod analysis;
pub mod color;
pub mod decode;
pub mod encode;
pub mod error;
pub mod fingerprint;
pub mod inspect;
pub mod metadata;
pub mod quality;
pub mod redact;
pub mod rendition;
pub mod resize;
pub mod stage;

pub use color::IccReport;
pub use decode::{DecodeLimits, DecodedImage, ShrinkHint, decode, decode_with_hint};
pub use encode::{EncodeOptions, OutputFormat};
pub use error::PipelineError;
pub use fingerprint::Fingerprints;
/// The `image` crate this API speaks (its buffers and `DynamicImage`).
pub use image;
pub use inspect::{Inspection, inspect};
pub use metadata::{ExifFields, GpsPosition, ImageMetadata};
pub use quality::{QualitySignals, QualityThresholds};
pub use redact::{Quad, Redaction, Region, redact, redact_in_place};
pub use rendition::{Rendition, RenditionSpec};
pub use stage::{Decoded, Pipeline, PipelineConfig, ProcessedImage};
