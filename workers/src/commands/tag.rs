//! `imgtag tag`: every tag of each image (classifier, friendly, zero-shot
//! from an optional vocabulary, quality checks, EXIF) with scores, sources
//! and models, the NSFW verdict and the time each stage took. A bad image is
//! reported with its error code and does not stop the others.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use imgtag_models::{
    EmbeddedVocabulary, ModelStore, NsfwVerdict, Runtime, Tag, Tagger, Vocabulary,
};
use imgtag_pipeline::ShrinkHint;
use serde::Serialize;

use crate::cli::TagArgs;
use crate::commands::classify::{ClassReport, ErrorReport};
use crate::config::Config;
use crate::derived_tags::derived_tags;
use crate::error::AppError;
use crate::input::{read_image_file, read_text_file};

/// Short side the image is decoded to at least (shrink-on-load stops
/// there): the classifier resizes its short side to 256.
const MODEL_MIN_SHORT_SIDE: u32 = 256;
/// Largest vocabulary file accepted.
const MAX_VOCABULARY_BYTES: u64 = 1024 * 1024;

/// The outcome for one image.
#[derive(Debug, Serialize)]
pub struct TagReport {
    /// The file as given.
    pub file: PathBuf,
    /// Tags: classifier, hierarchy, zero-shot, check, exif.
    pub tags: Vec<Tag>,
    /// The most probable classes.
    pub classes: Vec<ClassReport>,
    /// The NSFW verdict (absent on error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsfw: Option<NsfwVerdict>,
    /// Milliseconds per stage.
    pub timings_ms: Timings,
    /// Why the image failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

/// Milliseconds per stage of one image.
#[derive(Debug, Default, Serialize)]
pub struct Timings {
    /// Reading the file.
    pub read: f64,
    /// Decoding, metadata, fingerprints and quality checks.
    pub decode: f64,
    /// Model preprocessing.
    pub preprocess: f64,
    /// Classifier and NSFW inference (concurrent).
    pub inference: f64,
    /// Friendly tags, semantic vector, zero-shot tags.
    pub postprocess: f64,
}

/// The whole command's output.
#[derive(Debug, Serialize)]
pub struct TagOutput {
    /// `id@version` of every model the tags depend on.
    pub models: Vec<String>,
    /// One report per image, in argument order.
    pub images: Vec<TagReport>,
}

impl TagOutput {
    /// Whether every image was tagged.
    pub fn all_succeeded(&self) -> bool {
        self.images.iter().all(|image| image.error.is_none())
    }
}

/// Loads the models and the vocabulary (errors here are fatal) and tags
/// every image.
pub fn run(config: &Config, args: &TagArgs) -> Result<TagOutput, AppError> {
    let runtime = Runtime::init(&config.runtime())?;
    let store = ModelStore::open(&config.models.dir)?;
    let tagger = Tagger::load(&store, &runtime, &config.tagging)?;
    let vocabulary = args
        .vocab
        .as_deref()
        .map(|path| load_vocabulary(&tagger, path))
        .transpose()?;
    let images = args
        .images
        .iter()
        .map(|path| {
            let mut timings = Timings::default();
            match tag_file(config, &tagger, vocabulary.as_ref(), path, &mut timings) {
                Ok(report) => report,
                Err(error) => {
                    tracing::warn!(file = %path.display(), code = error.code(), %error, "image failed");
                    TagReport {
                        file: path.clone(),
                        tags: Vec::new(),
                        classes: Vec::new(),
                        nsfw: None,
                        timings_ms: timings,
                        error: Some(ErrorReport::from(&error)),
                    }
                }
            }
        })
        .collect();
    Ok(TagOutput {
        models: tagger.models().iter().map(ToString::to_string).collect(),
        images,
    })
}

fn load_vocabulary(tagger: &Tagger, path: &Path) -> Result<EmbeddedVocabulary, AppError> {
    let text = read_text_file(path, MAX_VOCABULARY_BYTES)?;
    let vocabulary = Vocabulary::parse(&text)?;
    Ok(tagger.embed_vocabulary(&vocabulary)?)
}

fn milliseconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e5).round() / 1e2
}

fn tag_file(
    config: &Config,
    tagger: &Tagger,
    vocabulary: Option<&EmbeddedVocabulary>,
    path: &Path,
    timings: &mut Timings,
) -> Result<TagReport, AppError> {
    let started = Instant::now();
    let bytes = read_image_file(path, &config.decode)?;
    let read = Instant::now();
    let hint = ShrinkHint {
        min_long_side: 0,
        min_short_side: MODEL_MIN_SHORT_SIDE,
    };
    let (inspection, image) =
        imgtag_pipeline::inspect(&bytes, &config.decode, &config.quality, Some(hint))?;
    let image = image.into_rgb8();
    let decoded = Instant::now();
    timings.read = milliseconds(read - started);
    timings.decode = milliseconds(decoded - read);
    let result = tagger.tag(&image, vocabulary)?;
    timings.preprocess = milliseconds(result.timings.preprocess);
    timings.inference = milliseconds(result.timings.inference);
    timings.postprocess = milliseconds(result.timings.postprocess);
    let mut tags = result.tags;
    tags.extend(derived_tags(&inspection));
    Ok(TagReport {
        file: path.to_owned(),
        tags,
        classes: result.classes.into_iter().map(ClassReport::from).collect(),
        nsfw: Some(result.nsfw),
        timings_ms: std::mem::take(timings),
        error: None,
    })
}

/// Writes the output as text for people.
pub fn write_text(output: &TagOutput, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "models: {}", output.models.join(", "))?;
    for image in &output.images {
        writeln!(out, "\n{}", image.file.display())?;
        if let Some(error) = &image.error {
            writeln!(out, "  error[{}]: {}", error.code, error.message)?;
            continue;
        }
        for tag in &image.tags {
            writeln!(
                out,
                "  {:<24} {:>6.3}  {:<10} {}",
                tag.name,
                tag.score,
                tag.source.as_str(),
                tag.model
            )?;
        }
        if let Some(nsfw) = &image.nsfw {
            let verdict = if nsfw.sensitive { "sensitive" } else { "safe" };
            writeln!(out, "  nsfw {:.4} ({verdict})", nsfw.score)?;
        }
        let t = &image.timings_ms;
        writeln!(
            out,
            "  time: read {:.1} ms, decode {:.1} ms, preprocess {:.1} ms, inference {:.1} ms, postprocess {:.1} ms",
            t.read, t.decode, t.preprocess, t.inference, t.postprocess
        )?;
    }
    Ok(())
}
