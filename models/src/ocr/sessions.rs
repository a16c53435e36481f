//! Loading the OCR models into session pools, reading the class lists
//! their graphs carry as metadata, and naming the errors of their runs.
//!
//! Like [`crate::session::load`] (sha256-checked bytes, graph optimisation
//! level 3, no memory pattern, names checked against the manifest), with
//! one choice more: the CPU memory arena. The detector's buffers are large
//! (hundreds of MiB for a page) and change size with every page; without an
//! arena each run maps and faults them in again, which costs about a third
//! of the detector's CPU (measured with onnxruntime 1.31.1: 1.51 s against
//! 0.79 s user+sys for a 1248x1760 page). The arena keeps the largest
//! page's working memory instead; [`super::OcrConfig::memory_arena`]
//! chooses.

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use crate::error::ModelError;
use crate::manifest::ModelEntry;
use crate::runtime::Runtime;
use crate::session::{LoadedModel, PoolConfig, manifest_error};
use crate::store::ModelStore;

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

/// Reads model `key` (sha256-checked) into the sessions `pool` asks for.
pub(crate) fn load(
    store: &ModelStore,
    runtime: &Runtime,
    key: &str,
    pool: &PoolConfig,
    arena: bool,
) -> Result<LoadedModel, ModelError> {
    let session_error = |message: String| ModelError::Session {
        model: key.to_owned(),
        message,
    };
    pool.validate().map_err(session_error)?;
    let entry = store.manifest().model(key)?.clone();
    let bytes = store.read_verified(&entry.file, &entry.sha256)?;
    let mut sessions = Vec::with_capacity(pool.sessions);
    for _ in 0..pool.sessions {
        let session = Session::builder(runtime.environment())
            .map_err(|e| session_error(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| session_error(e.to_string()))?
            .with_intra_threads(pool.intra_threads)
            .map_err(|e| session_error(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| session_error(e.to_string()))?
            .with_memory_pattern(false)
            .map_err(|e| session_error(e.to_string()))?
            .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(arena).build()])
            .map_err(|e| session_error(e.to_string()))?
            .commit_from_memory(&bytes)
            .map_err(|e| session_error(e.to_string()))?;
        for (what, expected, actual) in [
            (
                "input",
                &entry.inputs,
                session
                    .inputs()
                    .iter()
                    .map(|i| i.name().to_owned())
                    .collect::<Vec<_>>(),
            ),
            (
                "output",
                &entry.outputs,
                session
                    .outputs()
                    .iter()
                    .map(|o| o.name().to_owned())
                    .collect(),
            ),
        ] {
            if let Some(missing) = expected.iter().find(|spec| !actual.contains(&spec.name)) {
                return Err(session_error(format!(
                    "the graph has no {what} `{}` (it has: {}); manifest and model disagree",
                    missing.name,
                    actual.join(", ")
                )));
            }
        }
        sessions.push(session);
    }
    tracing::debug!(model = key, id = %entry.id, sessions = pool.sessions, arena, "OCR model loaded");
    Ok(LoadedModel {
        key: key.to_owned(),
        entry,
        sessions,
    })
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
