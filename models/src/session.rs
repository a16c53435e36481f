//! An ONNX model from the manifest, verified and loaded into an ONNX Runtime
//! session.
//!
//! `Session::run` needs `&mut`, so the session sits behind a mutex; callers
//! run inference from blocking threads (never on an async executor) and a
//! pool of these gives parallelism.

use std::sync::{Mutex, MutexGuard};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use crate::error::ModelError;
use crate::manifest::ModelEntry;
use crate::runtime::Runtime;
use crate::store::ModelStore;

/// A loaded model.
#[derive(Debug)]
pub struct ModelSession {
    key: String,
    entry: ModelEntry,
    session: Mutex<Session>,
}

impl ModelSession {
    /// Reads the model `key` from the store (sha256-checked) and creates a
    /// session for it. Checks that the graph's inputs and outputs are the ones
    /// the manifest names.
    pub fn load(store: &ModelStore, runtime: &Runtime, key: &str) -> Result<Self, ModelError> {
        let entry = store.manifest().model(key)?.clone();
        let bytes = store.read_verified(&entry.file, &entry.sha256)?;
        let session_error = |message: String| ModelError::Session {
            model: key.to_owned(),
            message,
        };
        let session = Session::builder(runtime.environment())
            .map_err(|e| session_error(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| session_error(e.to_string()))?
            .with_intra_threads(runtime.intra_threads())
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
        tracing::debug!(model = key, id = %entry.id, version = %entry.version, "model loaded");
        Ok(Self {
            key: key.to_owned(),
            entry,
            session: Mutex::new(session),
        })
    }

    /// The manifest key (`classifier`, `nsfw`, ...).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The manifest entry.
    pub fn entry(&self) -> &ModelEntry {
        &self.entry
    }

    /// Exclusive use of the session for one run.
    pub fn lock(&self) -> MutexGuard<'_, Session> {
        // A panic while holding the lock cannot leave a session half-changed
        // in a way later runs would notice: runs do not mutate model state.
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Maps an ONNX Runtime error of a run to [`ModelError::Inference`].
    pub fn inference_error(&self, error: impl std::fmt::Display) -> ModelError {
        ModelError::Inference {
            model: self.key.clone(),
            message: error.to_string(),
        }
    }
}

fn check_names<'a>(
    key: &str,
    what: &str,
    expected: &[crate::manifest::TensorSpec],
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
