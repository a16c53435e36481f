//! imgtag's models: everything that turns pixels or text into numbers.
//!
//! - [`manifest`]: the checked-in list of model files, their sources, sha256,
//!   inputs, outputs and preprocessing (`models/manifest.toml`, embedded).
//! - [`store`]: the directory `scripts/setup` fills; every file read through it
//!   is checked against the manifest's sha256.
//! - [`runtime`]: the one ONNX Runtime environment of the process, loaded from
//!   the library `scripts/setup` installs.
//! - [`session`]: an ONNX model loaded into a pool of sessions;
//!   [`batcher`]: one runner thread per session, gathering concurrent
//!   requests into batches.
//! - [`preprocess`]: image -> input tensor, as the manifest describes it.
//! - [`labels`] and [`classifier`]: ImageNet-1k classification with a pooled
//!   embedding from the same run; [`friendly`]: general tags summed up the
//!   WordNet hierarchy.
//! - [`nsfw`]: OpenNSFW score. [`text`]: MiniLM sentence vectors.
//! - [`faces`]: face boxes with five landmarks (YuNet 2023mar), at two
//!   scales so close-ups are found too.
//! - [`ocr`]: Chinese + English OCR (PP-OCRv6 small through rapidocr's
//!   pipeline) with whole-page orientation.
//! - [`semantic`]: the space text queries and images share (ConSE here, a
//!   CLIP pair behind the same trait); [`vocabulary`]: tenants' zero-shot
//!   tags in it.
//! - [`tags`]: explainable tags (score, source, model).
//!
//! The binary's analyzers (`imgtag-workers`, `analyzers/`) put these
//! models to work on an image, each on its own.
//!
//! The crate does no image decoding (that is `imgtag-pipeline`'s job) and no
//! I/O beyond reading its own files.

pub mod batcher;
pub mod classifier;
pub mod error;
pub mod faces;
pub mod friendly;
pub mod home;
pub mod labels;
pub mod manifest;
pub mod nsfw;
pub mod ocr;
pub mod preprocess;
pub mod resample;
pub mod runtime;
pub mod semantic;
pub mod session;
pub mod store;
pub mod tags;
pub mod text;
pub mod vector;
pub mod vocabulary;

pub use classifier::{ClassScore, Classification, Classifier};
pub use error::ModelError;
pub use faces::{Face, FaceConfig, FaceDetector};
pub use friendly::{FriendlyTags, Lang, TagMention};
pub use manifest::Manifest;
pub use nsfw::NsfwDetector;
pub use ocr::{DetLimit, OcrConfig, OcrEngine, OcrLine, OcrResult, OcrTier};
pub use runtime::{Runtime, RuntimeConfig};
pub use semantic::{Conse, ConseConfig, ImageEvidence, SemanticSpace};
pub use session::PoolConfig;
pub use store::ModelStore;
pub use tags::{ModelRef, Tag, TagSource};
pub use text::TextEncoder;
pub use vocabulary::{EmbeddedVocabulary, Vocabulary};
