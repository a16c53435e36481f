//! ONNX models from the manifest, verified and loaded into ONNX Runtime
//! sessions.
//!
//! A model's file is read and sha256-checked once, then committed into as
//! many sessions as its [`PoolConfig`] asks for. The sessions are handed to a
//! [`crate::batcher::Batcher`], which gives each one its own thread.

use ndarray::Array3;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionOutputs};
use ort::value::TensorRef;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::manifest::{ImagePreprocess, ModelEntry, Preprocess, TensorSpec};
use crate::preprocess;
use crate::runtime::Runtime;
use crate::store::ModelStore;

/// How one model is run: sessions, threads and batching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Sessions (each with its own thread) running batches in parallel.
    pub sessions: usize,
    /// ONNX Runtime intra-op threads per session.
    pub intra_threads: usize,
    /// Most requests gathered into one run.
    pub max_batch: usize,
    /// Longest a gathered batch waits for more requests, in microseconds
    /// (0: run what is queued at once).
    pub max_wait_us: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            sessions: 1,
            intra_threads: 1,
            max_batch: 8,
            // On small CPUs a batch of 8 costs about 8 single runs, so waiting
            // for company only adds latency (docs/BENCH_MODELS.md); under load
            // batches still form from what queues while a run is busy.
            max_wait_us: 0,
        }
    }
}

impl PoolConfig {
    /// Checks the values; the error names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, key: &str, rule: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!("{key} must be {rule}"))
            }
        };
        check((1..=64).contains(&self.sessions), "sessions", "1-64")?;
        check(
            (1..=256).contains(&self.intra_threads),
            "intra_threads",
            "1-256",
        )?;
        check((1..=256).contains(&self.max_batch), "max_batch", "1-256")?;
        check(
            self.max_wait_us <= 1_000_000,
            "max_wait_us",
            "at most 1000000 (1 s)",
        )
    }
}

/// A model's manifest entry with its loaded sessions.
#[derive(Debug)]
pub struct LoadedModel {
    /// Manifest key (`classifier`, `nsfw`, `text`).
    pub key: String,
    /// The manifest entry (id and version for provenance).
    pub entry: ModelEntry,
    /// One session per [`PoolConfig::sessions`].
    pub sessions: Vec<Session>,
}

/// Reads model `key` from the store (sha256-checked once) and creates the
/// sessions `pool` asks for, without a memory arena. Checks that the
/// graph's inputs and outputs are the ones the manifest names.
pub fn load(
    store: &ModelStore,
    runtime: &Runtime,
    key: &str,
    pool: &PoolConfig,
) -> Result<LoadedModel, ModelError> {
    load_with_arena(store, runtime, key, pool, false)
}

/// [`load`], choosing whether each session keeps ONNX Runtime's CPU memory
/// arena. Without it (the default for the classifier, NSFW and text
/// models: batch sizes vary, and an arena keeps every size it ever served)
/// the two image models hold 18 MiB less at the same speed; with it, a
/// model whose buffers are large and change size every run (the OCR
/// detector) saves the page faults of mapping them again (measured with
/// onnxruntime 1.31.1, BENCHMARKS.md and `models/src/ocr/sessions.rs`).
pub fn load_with_arena(
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
        check_names(
            key,
            "input",
            &entry.inputs,
            session.inputs().iter().map(|i| i.name()),
        )?;
        check_names(
            key,
            "output",
            &entry.outputs,
            session.outputs().iter().map(|o| o.name()),
        )?;
        sessions.push(session);
    }
    tracing::debug!(
        model = key,
        id = %entry.id,
        version = %entry.version,
        sessions = pool.sessions,
        intra_threads = pool.intra_threads,
        arena,
        "model loaded"
    );
    Ok(LoadedModel {
        key: key.to_owned(),
        entry,
        sessions,
    })
}

/// Maps an ONNX Runtime error of a run of model `key` to
/// [`ModelError::Inference`].
pub fn inference_error(key: &str, error: impl std::fmt::Display) -> ModelError {
    ModelError::Inference {
        model: key.to_owned(),
        message: error.to_string(),
    }
}

/// A manifest error about model `key`.
pub fn manifest_error(key: &str, message: &str) -> ModelError {
    ModelError::Manifest(format!("model {key}: {message}"))
}

/// The image preprocessing of model `key`'s entry.
pub fn image_preprocess(key: &str, entry: &ModelEntry) -> Result<ImagePreprocess, ModelError> {
    match &entry.preprocess {
        Preprocess::Image(spec) => Ok(spec.clone()),
        _ => Err(manifest_error(key, "needs image preprocessing")),
    }
}

/// Runs a batch of per-image tensors, stacked, through graph input `input`.
pub fn run_image_batch<'s>(
    key: &str,
    session: &'s mut Session,
    input: &str,
    items: &[Array3<f32>],
) -> Result<SessionOutputs<'s>, ModelError> {
    let batch = preprocess::stack(key, items)?;
    let failed = |e: ort::Error| inference_error(key, e);
    let tensor = TensorRef::from_array_view(batch.view()).map_err(failed)?;
    session.run(ort::inputs![input => tensor]).map_err(failed)
}

/// The fixed size of the last dimension of output `name`, if the manifest
/// gives one.
pub fn output_width(entry: &ModelEntry, name: &str) -> Option<usize> {
    entry
        .outputs
        .iter()
        .find(|o| o.name == name)?
        .shape
        .last()?
        .fixed()
}

fn check_names<'a>(
    key: &str,
    what: &str,
    expected: &[TensorSpec],
    actual: impl Iterator<Item = &'a str>,
) -> Result<(), ModelError> {
    let actual: Vec<&str> = actual.collect();
    for spec in expected {
        if !actual.contains(&spec.name.as_str()) {
            return Err(ModelError::Session {
                model: key.to_owned(),
                message: format!(
                    "the graph has no {what} `{}` (it has: {}); manifest and model disagree",
                    spec.name,
                    actual.join(", ")
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_config_rejects_zero_and_huge_values() {
        assert!(PoolConfig::default().validate().is_ok());
        let zero = PoolConfig {
            sessions: 0,
            ..PoolConfig::default()
        };
        assert!(zero.validate().unwrap_err().contains("sessions"));
        let batch = PoolConfig {
            max_batch: 0,
            ..PoolConfig::default()
        };
        assert!(batch.validate().unwrap_err().contains("max_batch"));
        let wait = PoolConfig {
            max_wait_us: 5_000_000,
            ..PoolConfig::default()
        };
        assert!(wait.validate().unwrap_err().contains("max_wait_us"));
    }
}
