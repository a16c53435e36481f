//! Layered configuration: built-in defaults < config file < environment.
//!
//! - File: `--config FILE`, else `$IMGTAG_CONFIG`, else `imgtag.toml` in the
//!   working directory if present. `imgtag.example.toml` documents every key.
//! - Environment: `IMGTAG__SECTION__KEY` (e.g. `IMGTAG__MODELS__DIR`);
//!   `ORT_DYLIB_PATH`, the `ort` crate's own variable, also sets
//!   `onnxruntime.library` (an `IMGTAG__ONNXRUNTIME__LIBRARY` wins over it).
//!
//! Unknown keys are errors, and the result is validated before any work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use imgtag_models::RuntimeConfig;
use imgtag_pipeline::rendition::{default_renditions, validate_renditions};
use imgtag_pipeline::{DecodeLimits, QualityThresholds, RenditionSpec};
use serde::{Deserialize, Serialize};

use crate::analyzers::AnalyzersConfig;
use crate::api::ApiConfig;
use crate::broker::{BrokerConfig, WorkerConfig};
use crate::error::AppError;
use crate::index::IndexConfig;
use crate::jobs::SourcesConfig;
use crate::process::ORIGINAL;
use crate::reminders::RemindersConfig;
use crate::store::StoreConfig;
use crate::telemetry::LoggingConfig;

/// File read when neither `--config` nor `IMGTAG_CONFIG` names one.
pub const DEFAULT_FILE: &str = "imgtag.toml";

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// ONNX Runtime library and threading.
    pub onnxruntime: OnnxRuntimeSection,
    /// Where the model files are.
    pub models: ModelsSection,
    /// The analyzers: one section each (models, sessions, thresholds,
    /// switched on or off).
    pub analyzers: AnalyzersConfig,
    /// Limits on untrusted images.
    pub decode: DecodeLimits,
    /// Thresholds of the quality flags.
    pub quality: QualityThresholds,
    /// Named renditions written for every image.
    pub renditions: Vec<RenditionSpec>,
    /// The vector index (embedded or server).
    pub index: IndexConfig,
    /// Where renditions and originals are stored.
    pub store: StoreConfig,
    /// Which job sources are allowed, and their bounds.
    pub sources: SourcesConfig,
    /// Custom vocabularies jobs may name: name = TOML file (`[tags]`
    /// name = "description"), scored as zero-shot tags.
    pub vocabularies: BTreeMap<String, PathBuf>,
    /// RabbitMQ.
    pub broker: BrokerConfig,
    /// The queue consumer.
    pub worker: WorkerConfig,
    /// The HTTP API (`imgtag serve`) and its keys.
    pub api: ApiConfig,
    /// Expiry reminders (`imgtag reminders`, and the worker's own sweeps).
    pub reminders: RemindersConfig,
    /// Redacted renditions of identity papers.
    pub privacy: PrivacyConfig,
    /// Log format.
    pub logging: LoggingConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            onnxruntime: OnnxRuntimeSection::default(),
            models: ModelsSection::default(),
            analyzers: AnalyzersConfig::default(),
            decode: DecodeLimits::default(),
            quality: QualityThresholds::default(),
            renditions: default_renditions(),
            index: IndexConfig::default(),
            store: StoreConfig::default(),
            sources: SourcesConfig::default(),
            vocabularies: BTreeMap::new(),
            broker: BrokerConfig::default(),
            worker: WorkerConfig::default(),
            api: ApiConfig::default(),
            reminders: RemindersConfig::default(),
            privacy: PrivacyConfig::default(),
            logging: LoggingConfig::default(),
        }
    }
}

/// `[privacy]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Document types whose renditions have faces blurred and ID-number
    /// lines masked (the original is kept as it was).
    pub redact_types: Vec<String>,
    /// Blur the faces in the renditions of every image.
    pub redact_all_faces: bool,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            redact_types: vec![
                "id_card".into(),
                "passport".into(),
                "driving_licence".into(),
            ],
            redact_all_faces: false,
        }
    }
}

impl PrivacyConfig {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        for name in &self.redact_types {
            if imgtag_documents::DocumentType::parse(name).is_none() {
                return Err(format!("redact_types: {name:?} is no document type"));
            }
        }
        Ok(())
    }

    /// Whether renditions of a `doc_type` document are redacted.
    pub fn redacts(&self, doc_type: &imgtag_documents::DocumentType) -> bool {
        self.redact_types.iter().any(|t| t == doc_type.as_str())
    }
}

/// `[onnxruntime]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnnxRuntimeSection {
    /// Path of libonnxruntime.so (1.31 or newer); relative paths are taken
    /// from the working directory.
    pub library: PathBuf,
}

impl Default for OnnxRuntimeSection {
    fn default() -> Self {
        let runtime = RuntimeConfig::default();
        Self {
            library: runtime.library,
        }
    }
}

/// `[models]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsSection {
    /// Directory holding the files of models/manifest.toml (`scripts/setup`
    /// fills it); by default `models` in the data directory
    /// (`imgtag_models::home`).
    pub dir: PathBuf,
}

impl Default for ModelsSection {
    fn default() -> Self {
        Self {
            dir: imgtag_models::home::data_dir().join("models"),
        }
    }
}

impl Config {
    /// Loads the configuration from defaults, the file and the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, AppError> {
        let explicit = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("IMGTAG_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match &explicit {
            Some(path) if !path.is_file() => {
                return Err(AppError::Config(format!(
                    "config file {} not found",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file(DEFAULT_FILE)),
        }
        let figment = figment
            .merge(
                Env::raw()
                    .only(&["ORT_DYLIB_PATH"])
                    .map(|_| "onnxruntime.library".into()),
            )
            .merge(Env::prefixed("IMGTAG__").split("__"));
        let config: Config = figment
            .extract()
            .map_err(|e| AppError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), AppError> {
        self.analyzers
            .validate()
            .map_err(|e| AppError::Config(format!("analyzers.{e}")))?;
        if self.models.dir.as_os_str().is_empty() {
            return Err(AppError::Config("models.dir must not be empty".into()));
        }
        self.decode
            .validate()
            .map_err(|e| AppError::Config(format!("decode.{e}")))?;
        self.quality
            .validate()
            .map_err(|e| AppError::Config(format!("quality: {e}")))?;
        validate_renditions(&self.renditions).map_err(AppError::Config)?;
        if self.renditions.iter().any(|r| r.name == ORIGINAL) {
            return Err(AppError::Config(format!(
                "rendition name `{ORIGINAL}` is reserved for the stored original"
            )));
        }
        self.index
            .validate()
            .map_err(|e| AppError::Config(format!("index.{e}")))?;
        let section = |name: &'static str| move |e: String| AppError::Config(format!("{name}.{e}"));
        self.store.validate().map_err(section("store"))?;
        self.sources.validate().map_err(section("sources"))?;
        self.broker.validate().map_err(section("broker"))?;
        self.worker.validate().map_err(section("worker"))?;
        self.api.validate().map_err(section("api"))?;
        self.reminders.validate().map_err(section("reminders"))?;
        self.privacy.validate().map_err(section("privacy"))?;
        for name in self.vocabularies.keys() {
            crate::index::ids::validate_identifier("vocabulary", name, 64)
                .map_err(|e| AppError::Config(format!("vocabularies: {e}")))?;
        }
        Ok(())
    }

    /// The image core's settings (decode limits, quality thresholds and,
    /// with `renditions`, the configured renditions): every command decodes
    /// under the same limits.
    pub fn pipeline(&self, renditions: bool) -> imgtag_pipeline::PipelineConfig {
        imgtag_pipeline::PipelineConfig {
            decode: self.decode.clone(),
            quality: self.quality.clone(),
            renditions: if renditions {
                self.renditions.clone()
            } else {
                Vec::new()
            },
            ..imgtag_pipeline::PipelineConfig::default()
        }
    }

    /// The ONNX Runtime settings for `imgtag_models::Runtime`.
    pub fn runtime(&self) -> RuntimeConfig {
        RuntimeConfig {
            library: self.onnxruntime.library.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closure signature
mod tests {
    use super::*;

    #[test]
    fn example_file_matches_the_defaults() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../imgtag.example.toml");
        let mut config: Config = Figment::new()
            .merge(Toml::file_exact(example))
            .extract()
            .unwrap();
        let defaults = Config::default();
        // The paths under imgtag's data directory are written as a checkout
        // resolves them (`.imgtag/...`); wherever the data directory is for
        // this test, the example must name the same file inside it.
        let data_dir = imgtag_models::home::data_dir();
        let rebase = |written: &mut PathBuf, default: &Path| {
            if let Ok(inside) = default.strip_prefix(&data_dir) {
                assert_eq!(*written, Path::new(".imgtag").join(inside));
                *written = default.to_owned();
            }
        };
        rebase(
            &mut config.onnxruntime.library,
            &defaults.onnxruntime.library,
        );
        rebase(&mut config.models.dir, &defaults.models.dir);
        rebase(
            &mut config.analyzers.semantic.conse.cache_dir,
            &defaults.analyzers.semantic.conse.cache_dir,
        );
        rebase(&mut config.index.edge.dir, &defaults.index.edge.dir);
        let mut objects = PathBuf::from(&config.store.url);
        rebase(&mut objects, Path::new(&defaults.store.url));
        config.store.url = objects.to_string_lossy().into_owned();
        assert_eq!(config, defaults);
    }

    #[test]
    fn path_defaults_are_in_the_data_directory() {
        let data_dir = imgtag_models::home::data_dir();
        let defaults = Config::default();
        assert_eq!(
            defaults.onnxruntime.library,
            data_dir.join("onnxruntime/libonnxruntime.so")
        );
        assert_eq!(defaults.models.dir, data_dir.join("models"));
        assert_eq!(
            defaults.analyzers.semantic.conse.cache_dir,
            data_dir.join("cache")
        );
        assert_eq!(defaults.index.edge.dir, data_dir.join("index"));
    }

    #[test]
    fn file_and_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "[models]\ndir = \"/srv/models\"\n[decode]\nmax_width = 99\n",
            )?;
            jail.set_env("IMGTAG__DECODE__MAX_WIDTH", "77");
            jail.set_env("ORT_DYLIB_PATH", "/opt/ort/libonnxruntime.so");
            let config = Config::load(Some(Path::new("custom.toml"))).unwrap();
            assert_eq!(config.models.dir, PathBuf::from("/srv/models"));
            assert_eq!(config.decode.max_width, 77);
            assert_eq!(
                config.onnxruntime.library,
                PathBuf::from("/opt/ort/libonnxruntime.so")
            );
            jail.set_env("IMGTAG__ONNXRUNTIME__LIBRARY", "/elsewhere/lib.so");
            let config = Config::load(Some(Path::new("custom.toml"))).unwrap();
            assert_eq!(
                config.onnxruntime.library,
                PathBuf::from("/elsewhere/lib.so")
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("typo.toml", "[models]\ndirectory = \"x\"\n")?;
            let error = Config::load(Some(Path::new("typo.toml"))).unwrap_err();
            assert_eq!(error.code(), "config.invalid");
            assert!(error.to_string().contains("directory"), "{error}");
            jail.create_file("dark.toml", "[quality]\ndark_mean = 250.0\n")?;
            let error = Config::load(Some(Path::new("dark.toml"))).unwrap_err();
            assert!(error.to_string().contains("dark_mean"), "{error}");
            jail.create_file(
                "twice.toml",
                "[[renditions]]\nname = \"a\"\nmax_side = 10\nformat = \"png\"\nquality = 90\n\
                 [[renditions]]\nname = \"a\"\nmax_side = 20\nformat = \"webp\"\nquality = 80\n",
            )?;
            let error = Config::load(Some(Path::new("twice.toml"))).unwrap_err();
            assert!(error.to_string().contains("twice"), "{error}");
            jail.create_file("zero.toml", "[analyzers.nsfw.pool]\nintra_threads = 0\n")?;
            let error = Config::load(Some(Path::new("zero.toml"))).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("analyzers.nsfw.pool.intra_threads"),
                "{error}"
            );
            jail.create_file("orphan.toml", "[analyzers.classifier]\nenabled = false\n")?;
            let error = Config::load(Some(Path::new("orphan.toml"))).unwrap_err();
            assert!(
                error.to_string().contains("needs the classifier"),
                "{error}"
            );
            jail.set_env("IMGTAG__ANALYZERS__CLASSIFIER__POOL__SESSIONS", "2");
            jail.set_env("IMGTAG__ANALYZERS__OCR__MODE", "always");
            let config = Config::load(None).unwrap();
            assert_eq!(config.analyzers.classifier.pool.sessions, 2);
            assert_eq!(
                config.analyzers.ocr.mode,
                crate::analyzers::ocr::OcrMode::Always
            );
            let error = Config::load(Some(Path::new("absent.toml"))).unwrap_err();
            assert!(error.to_string().contains("absent.toml"), "{error}");
            Ok(())
        });
    }
}
