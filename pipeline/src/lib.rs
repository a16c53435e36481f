//! imgtag's image core: pure image processing, no broker or database I/O.
//!
//! - [`decode`]: bounded decoding of untrusted bytes (size and pixel limits
//!   checked before and during decoding, format sniffed from the content).
//! - [`error`]: the crate's error type with stable codes.
//!
//! Later stages (metadata, checks, hashes, renditions) and the stage
//! orchestration live here too; see docs/ARCHITECTURE.md.

pub mod decode;
pub mod error;
pub mod metadata;

pub use decode::{DecodeLimits, DecodedImage, decode};
pub use error::PipelineError;
pub use metadata::{ExifFields, GpsPosition, ImageMetadata};
