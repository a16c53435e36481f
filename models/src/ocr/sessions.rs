//! What the OCR models share besides loading (which is
//! [`crate::session::load_with_arena`]): reading the class lists their
//! graphs carry as metadata, and naming the errors of their runs.
//!
//! The OCR sessions may keep the CPU memory arena. The detector's buffers
//! are large (hundreds of MiB for a page) and change size with every page;
//! without an arena each run maps and faults them in again, which costs about a third
//! of the detector's CPU (measured with onnxruntime 1.31.1: 1.51 s against
//! 0.79 s user+sys for a 1248x1760 page). The arena keeps the largest
//! page's working memory instead; [`super::OcrConfig::memory_arena`]
//! chooses.

use crate::error::ModelError;
use crate::manifest::ModelEntry;
use crate::session::{LoadedModel, manifest_error};

/// The first input and output names of a manifest model.
pub(crate) fn names(key: &str, entry: &ModelEntry) -> Result<(String, String), ModelError> {
    match (entry.inputs.first(), entry.outputs.first()) {
        (Some(input), Some(output)) => Ok((input.name.clone(), output.name.clone())),
        _ => Err(manifest_error(key, "needs an input and an output")),
    }
}

/// Batcher errors (a stopped or panicking runner) reported as `kind`.
pub(crate) fn as_ocr(error: ModelError, kind: fn(String) -> ModelError) -> ModelError {
    match error {
        ModelError::Inference { message, .. } => kind(message),
        other => other,
    }
}

/// The value of the graph's custom metadata entry `name`.
pub(crate) fn metadata(loaded: &LoadedModel, name: &str) -> Result<String, ModelError> {
    let invalid = |message: String| ModelError::OcrCharsetInvalid {
        model: loaded.key.clone(),
        message,
    };
    let session = loaded
        .sessions
        .first()
        .ok_or_else(|| invalid("no session was created".into()))?;
    let metadata = session
        .metadata()
        .map_err(|e| invalid(format!("cannot read the graph metadata: {e}")))?;
    metadata
        .custom(name)
        .ok_or_else(|| invalid(format!("the graph metadata has no entry `{name}`")))
}
