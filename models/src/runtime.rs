//! The process's one ONNX Runtime environment.
//!
//! `ort` is built with `load-dynamic`: the library is not linked but loaded at
//! run time from the file `scripts/setup` installs. ONNX Runtime allows one
//! environment per process, ever, so it lives in a `OnceLock` and every
//! [`Runtime`] shares it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use crate::error::ModelError;

/// Where the library is (threads are set per model: [`crate::PoolConfig`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Path of `libonnxruntime.so` (1.31 or newer); by default
    /// `onnxruntime/libonnxruntime.so` in the data directory ([`crate::home`]).
    pub library: PathBuf,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            library: crate::home::data_dir().join("onnxruntime/libonnxruntime.so"),
        }
    }
}

/// A handle on the initialised environment.
#[derive(Debug, Clone)]
pub struct Runtime {
    environment: &'static Environment,
}

static ENVIRONMENT: OnceLock<(Environment, PathBuf)> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

impl Runtime {
    /// Loads the library (first call only) and returns a handle.
    ///
    /// A missing file gives [`ModelError::RuntimeMissing`], which names the
    /// path and the setup command; the check happens on every call, so a bad
    /// path is reported even after another call succeeded. Once loaded, the
    /// library stays for the life of the process: a later call naming a
    /// different file is refused rather than silently ignored.
    pub fn init(config: &RuntimeConfig) -> Result<Self, ModelError> {
        let library = absolute(&config.library);
        if !library.is_file() {
            return Err(ModelError::RuntimeMissing { path: library });
        }
        let (environment, loaded) = match ENVIRONMENT.get() {
            Some(entry) => entry,
            None => {
                let _guard = INIT_LOCK
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                match ENVIRONMENT.get() {
                    Some(entry) => entry,
                    None => {
                        let environment = load(&library)?;
                        ENVIRONMENT.get_or_init(|| (environment, library.clone()))
                    }
                }
            }
        };
        if !same_file(loaded, &library) {
            return Err(ModelError::RuntimeLoad {
                path: library,
                message: format!(
                    "this process already loaded ONNX Runtime from {}; one library per process",
                    loaded.display()
                ),
            });
        }
        Ok(Self { environment })
    }

    /// The environment sessions are created in.
    pub fn environment(&self) -> &'static Environment {
        self.environment
    }
}

fn load(library: &Path) -> Result<Environment, ModelError> {
    let failed = |message: String| ModelError::RuntimeLoad {
        path: library.to_owned(),
        message,
    };
    let builder = ort::init_from(library).map_err(|e| failed(e.to_string()))?;
    builder
        .with_name("imgtag")
        .build()
        .map_err(|e| failed(e.to_string()))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_a_clear_error() {
        let config = RuntimeConfig {
            library: PathBuf::from("/nonexistent/libonnxruntime.so"),
        };
        let error = Runtime::init(&config).unwrap_err();
        assert_eq!(error.code(), "model.runtime_missing");
        assert!(error.to_string().contains("/nonexistent/libonnxruntime.so"));
        assert!(error.to_string().contains("scripts/setup"));
    }

    #[test]
    fn a_file_that_is_not_a_library_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("libonnxruntime.so");
        fs_err::write(&fake, b"not a shared object").unwrap();
        let config = RuntimeConfig { library: fake };
        let error = Runtime::init(&config).unwrap_err();
        assert_eq!(error.code(), "model.runtime_load");
    }
}
