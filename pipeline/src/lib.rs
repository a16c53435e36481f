//! imgtag's image core: pure image processing, no broker or database I/O.
//!
//! - [`decode`]: bounded decoding of untrusted bytes (size and pixel limits
//!   checked before and during decoding, format sniffed from the content):
//!   JPEG, PNG, WebP, GIF, TIFF, BMP, AVIF and HEIC.
//! - [`color`]: embedded ICC profiles applied at decode (pixels leave as sRGB).
//! - [`metadata`]: format, dimensions, colour, ICC, frames, EXIF fields.
//! - [`analysis`]: the small greyscale copy hashes and checks run on.
//! - [`fingerprint`]: SHA-256 of the bytes and a perceptual hash.
//! - [`quality`]: too small, blur, exposure, with documented thresholds.
//! - [`inspect`]: all of the above from one decode.
//! - [`resize`], [`encode`], [`rendition`]: named renditions and format
//!   conversion (WebP, AVIF, JPEG, PNG), metadata stripped, upright.
//! - [`stage`]: the `Pipeline` value running all of it from one decode, with
//!   a hook for the models and a bounded blocking pool for async callers.
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
pub use rendition::{Rendition, RenditionSpec};
pub use stage::{Decoded, Pipeline, PipelineConfig, ProcessedImage};
