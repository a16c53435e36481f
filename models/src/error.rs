//! The crate's one error type. Every variant has a stable code string (for
//! logs, result events and the API) and says whether retrying can help.

use std::path::PathBuf;

/// Hint appended to every error a missing or damaged installation causes.
pub const SETUP_HINT: &str = "run `scripts/setup` to install or repair it";

/// Everything that can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The ONNX Runtime shared library is not where the configuration says.
    /// The message names the data directory and how it was chosen
    /// ([`crate::home::setup_hint`]).
    #[error(
        "ONNX Runtime library not found at {path}: {} (or point ORT_DYLIB_PATH / \
         IMGTAG__ONNXRUNTIME__LIBRARY at a libonnxruntime.so 1.31+)",
        crate::home::setup_hint(.path)
    )]
    RuntimeMissing {
        /// Where the library was looked for.
        path: PathBuf,
    },
    /// The library exists but could not be loaded or initialised.
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    RuntimeLoad {
        /// The library that failed to load.
        path: PathBuf,
        /// What the loader said.
        message: String,
    },
    /// A file listed in the manifest is not in the model directory. The
    /// message names the data directory and how it was chosen.
    #[error("model file {path} is missing: {}", crate::home::setup_hint(.path))]
    FileMissing {
        /// The expected location.
        path: PathBuf,
    },
    /// A file's content does not match the manifest's sha256.
    #[error(
        "sha256 mismatch for {path}: expected {expected}, found {actual}; the file is damaged \
         or not the one models/manifest.toml names: {SETUP_HINT}"
    )]
    ChecksumMismatch {
        /// The file that was checked.
        path: PathBuf,
        /// The sha256 the manifest names.
        expected: String,
        /// The sha256 of the file's bytes.
        actual: String,
    },
    /// Reading a file failed (the message names the path).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The manifest is malformed or inconsistent.
    #[error("invalid model manifest: {0}")]
    Manifest(String),
    /// A label or vocabulary file does not have the expected content.
    #[error("invalid label file {path}: {message}")]
    Labels {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A model asset (tokenizer, hierarchy, friendly-tag map) is unusable.
    #[error("invalid model asset {path}: {message}")]
    Asset {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A custom vocabulary (zero-shot tags) is invalid.
    #[error("invalid vocabulary: {0}")]
    Vocabulary(String),
    /// ONNX Runtime refused to create a session for a model.
    #[error("cannot create a session for model {model}: {message}")]
    Session {
        /// Manifest key of the model.
        model: String,
        /// What ONNX Runtime said.
        message: String,
    },
    /// A run failed inside ONNX Runtime.
    #[error("inference failed in model {model}: {message}")]
    Inference {
        /// Manifest key of the model.
        model: String,
        /// What ONNX Runtime said.
        message: String,
    },
    /// The caller passed an input the model cannot take (e.g. an empty batch).
    #[error("invalid input for model {model}: {message}")]
    InvalidInput {
        /// Manifest key of the model.
        model: String,
        /// What is wrong.
        message: String,
    },
    /// OCR: the text detector's run failed or gave an unusable output.
    #[error("OCR text detection failed: {0}")]
    OcrDetectionFailed(String),
    /// OCR: the line recogniser's run failed or gave an unusable output.
    #[error("OCR text recognition failed: {0}")]
    OcrRecognitionFailed(String),
    /// OCR: the page-orientation classifier's run failed or gave an
    /// unusable output.
    #[error("OCR page orientation failed: {0}")]
    OcrOrientationFailed(String),
    /// OCR: a model's character or label list (graph metadata or
    /// dictionary file) is missing or does not fit its output; the
    /// installed model is not the expected one.
    #[error("OCR model {model} has an invalid character list: {message}; {SETUP_HINT}")]
    OcrCharsetInvalid {
        /// Manifest key of the model.
        model: String,
        /// What is wrong.
        message: String,
    },
}

impl ModelError {
    /// Stable machine-readable code; never changes once published.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RuntimeMissing { .. } => "model.runtime_missing",
            Self::RuntimeLoad { .. } => "model.runtime_load",
            Self::FileMissing { .. } => "model.file_missing",
            Self::ChecksumMismatch { .. } => "model.checksum_mismatch",
            Self::Io(_) => "model.io",
            Self::Manifest(_) => "model.manifest_invalid",
            Self::Labels { .. } => "model.labels_invalid",
            Self::Asset { .. } => "model.asset_invalid",
            Self::Vocabulary(_) => "model.vocabulary_invalid",
            Self::Session { .. } => "model.session",
            Self::Inference { .. } => "model.inference",
            Self::InvalidInput { .. } => "model.invalid_input",
            Self::OcrDetectionFailed(_) => "ocr.detection_failed",
            Self::OcrRecognitionFailed(_) => "ocr.recognition_failed",
            Self::OcrOrientationFailed(_) => "ocr.orientation_failed",
            Self::OcrCharsetInvalid { .. } => "ocr.charset_invalid",
        }
    }

    /// Whether the same work could succeed if tried again later. Installation
    /// problems need an operator, bad input never improves; an I/O error or a
    /// failed run (e.g. out of memory) may pass on another attempt.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Io(_)
                | Self::Inference { .. }
                | Self::OcrDetectionFailed(_)
                | Self::OcrRecognitionFailed(_)
                | Self::OcrOrientationFailed(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_namespaced_and_unique() {
        let errors = [
            ModelError::RuntimeMissing { path: "x".into() },
            ModelError::RuntimeLoad {
                path: "x".into(),
                message: String::new(),
            },
            ModelError::FileMissing { path: "x".into() },
            ModelError::ChecksumMismatch {
                path: "x".into(),
                expected: String::new(),
                actual: String::new(),
            },
            ModelError::Io(std::io::Error::other("x")),
            ModelError::Manifest(String::new()),
            ModelError::Labels {
                path: "x".into(),
                message: String::new(),
            },
            ModelError::Asset {
                path: "x".into(),
                message: String::new(),
            },
            ModelError::Vocabulary(String::new()),
            ModelError::Session {
                model: String::new(),
                message: String::new(),
            },
            ModelError::Inference {
                model: String::new(),
                message: String::new(),
            },
            ModelError::InvalidInput {
                model: String::new(),
                message: String::new(),
            },
            ModelError::OcrDetectionFailed(String::new()),
            ModelError::OcrRecognitionFailed(String::new()),
            ModelError::OcrOrientationFailed(String::new()),
            ModelError::OcrCharsetInvalid {
                model: String::new(),
                message: String::new(),
            },
        ];
        let mut codes: Vec<_> = errors.iter().map(ModelError::code).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.starts_with("model.") || c.starts_with("ocr."))
        );
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
    }

    #[test]
    fn missing_runtime_names_the_setup_command() {
        let error = ModelError::RuntimeMissing {
            path: "/nowhere/libonnxruntime.so".into(),
        };
        let message = error.to_string();
        assert!(message.contains("/nowhere/libonnxruntime.so"));
        assert!(message.contains("scripts/setup"));
        assert!(message.contains("IMGTAG_HOME"), "{message}");
        assert!(message.contains(&crate::home::describe()), "{message}");
        assert!(!error.is_retryable());
    }

    #[test]
    fn missing_model_file_names_the_data_directory() {
        let path = crate::home::data_dir().join("models/x.onnx");
        let message = ModelError::FileMissing { path }.to_string();
        assert!(
            message.contains(&format!(
                "imgtag's data directory is {}",
                crate::home::describe()
            )),
            "{message}"
        );
        assert!(message.contains("scripts/setup"), "{message}");
    }
}
