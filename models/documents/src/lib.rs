//! imgtag's document understanding: what kind of document an image shows
//! and its key fields, read from the OCR text and a few image signals.
//!
//! Pure text processing: no model runs here, no image is decoded, nothing
//! is read from disk at run time (the rules are compiled in).
//!
//! - [`evidence`]: what the analyzer hands in (OCR lines, classifier
//!   classes, camera EXIF, faces, layout signals).
//! - [`fields`]: key fields with their checks: PRC resident ID numbers
//!   (ISO 7064 MOD 11-2, birth date and sex), ICAO 9303 machine-readable
//!   zones (TD1, TD3), unified social credit codes (GB 32100-2015),
//!   invoice codes, numbers, dates and amounts, validity periods.
//! - [`types`]: the document type from rules over that evidence
//!   (`data/document_types.toml`, reviewable; tenants add keyword rules).
//! - [`mask`]: how each personal field is shown to a caller that may not
//!   see it whole.
//!
//! [`DocumentReader`] ties them together: evidence in, [`DocumentReading`]
//! out.

pub mod error;
pub mod evidence;
pub mod fields;
pub mod mask;
pub mod reader;
pub mod types;

pub use error::DocumentError;
pub use evidence::{DocumentEvidence, EvidenceLine};
pub use fields::{Field, FieldName};
pub use reader::{DocumentReader, DocumentReading, EvidenceItem};
pub use types::{CustomTypeRule, DocumentType, TypeRules};
