//! `imgtag classify`: decode each image (bounded), run the classifier, print
//! the top classes. A bad image is reported with its error code and does not
//! stop the others; the exit status says whether every image succeeded.

use std::io::Write;
use std::path::{Path, PathBuf};

use imgtag_models::{ClassScore, Classifier, ModelStore, Runtime};
use serde::Serialize;

use crate::cli::ClassifyArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::input::read_image_file;

/// The outcome for one image.
#[derive(Debug, Serialize)]
pub struct ImageReport {
    /// The file as given.
    pub file: PathBuf,
    /// Top classes, most probable first (empty on error).
    pub top: Vec<ClassReport>,
    /// Why the image failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

/// One class in a report.
#[derive(Debug, Serialize)]
pub struct ClassReport {
    /// Display name.
    pub label: String,
    /// WordNet id.
    pub wnid: String,
    /// Class index.
    pub index: usize,
    /// Softmax probability.
    pub probability: f32,
}

/// An error in a report.
#[derive(Debug, Serialize)]
pub struct ErrorReport {
    /// Stable code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

/// The whole command's output.
#[derive(Debug, Serialize)]
pub struct ClassifyOutput {
    /// Model id from the manifest.
    pub model: String,
    /// Model version from the manifest.
    pub model_version: String,
    /// One report per image, in argument order.
    pub images: Vec<ImageReport>,
}

impl ClassifyOutput {
    /// Whether every image was classified.
    pub fn all_succeeded(&self) -> bool {
        self.images.iter().all(|image| image.error.is_none())
    }
}

/// Loads the classifier (errors here are fatal: installation or config) and
/// classifies every image.
pub fn run(config: &Config, args: &ClassifyArgs) -> Result<ClassifyOutput, AppError> {
    let runtime = Runtime::init(&config.runtime())?;
    let store = ModelStore::open(&config.models.dir)?;
    let classifier = Classifier::load(&store, &runtime, &config.analyzers.classifier.pool)?;
    let images = args
        .images
        .iter()
        .map(|path| match classify_file(config, &classifier, path, args.top.into()) {
            Ok(top) => ImageReport { file: path.clone(), top, error: None },
            Err(error) => {
                tracing::warn!(file = %path.display(), code = error.code(), %error, "image failed");
                ImageReport { file: path.clone(), top: Vec::new(), error: Some(ErrorReport::from(&error)) }
            }
        })
        .collect();
    let model = classifier.model();
    Ok(ClassifyOutput {
        model: model.id.clone(),
        model_version: model.version.clone(),
        images,
    })
}

fn classify_file(
    config: &Config,
    classifier: &Classifier,
    path: &Path,
    top: usize,
) -> Result<Vec<ClassReport>, AppError> {
    let bytes = read_image_file(path, &config.decode)?;
    let decoded = imgtag_pipeline::decode(&bytes, &config.decode)?;
    let rgb = decoded.image.into_rgb8();
    let classification = classifier.classify(&rgb)?;
    Ok(classifier
        .top_k(&classification, top)
        .into_iter()
        .map(ClassReport::from)
        .collect())
}

impl From<&AppError> for ErrorReport {
    fn from(error: &AppError) -> Self {
        Self {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl From<ClassScore> for ClassReport {
    fn from(score: ClassScore) -> Self {
        Self {
            label: score.label,
            wnid: score.wnid,
            index: score.index,
            probability: score.probability,
        }
    }
}

/// Writes the output as a table for people.
pub fn write_table(output: &ClassifyOutput, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "model: {} {}", output.model, output.model_version)?;
    for image in &output.images {
        writeln!(out, "\n{}", image.file.display())?;
        if let Some(error) = &image.error {
            writeln!(out, "  error[{}]: {}", error.code, error.message)?;
        }
        for (rank, class) in image.top.iter().enumerate() {
            writeln!(
                out,
                "  {:>2}. {:<32} {:>6.2}%  {}",
                rank + 1,
                class.label,
                class.probability * 100.0,
                class.wnid
            )?;
        }
    }
    Ok(())
}
