//! imgtag's models: everything that turns pixels or text into numbers.
//!
//! - [`manifest`]: the checked-in list of model files, their sources, sha256,
//!   inputs, outputs and preprocessing (`models/manifest.toml`, embedded).
//! - [`store`]: the directory `scripts/setup` fills; every file read through it
//!   is checked against the manifest's sha256.
//! - [`runtime`]: the one ONNX Runtime environment of the process, loaded from
//!   the library `scripts/setup` installs.
//! - [`session`]: an ONNX model loaded into a session, ready to run.
//! - [`preprocess`]: image -> input tensor, as the manifest describes it.
//! - [`labels`] and [`classifier`]: ImageNet-1k classification with a pooled
//!   embedding from the same run.
//!
//! The crate does no image decoding (that is `imgtag-pipeline`'s job) and no
//! I/O beyond reading its own files.

pub mod classifier;
pub mod error;
pub mod labels;
pub mod manifest;
pub mod preprocess;
pub mod runtime;
pub mod session;
pub mod store;

pub use classifier::{ClassScore, Classification, Classifier};
pub use error::ModelError;
pub use manifest::Manifest;
pub use runtime::{Runtime, RuntimeConfig};
pub use store::ModelStore;
