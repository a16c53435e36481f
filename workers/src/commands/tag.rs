//! `imgtag tag`: every tag of each image, from every enabled analyzer
//! (classifier, friendly, zero-shot from an optional vocabulary, OCR,
//! quality checks, EXIF) with scores, sources and models, the NSFW verdict,
//! a summary of the text read, and the time each stage took. A bad image
//! is reported with its error code and does not stop the others.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use imgtag_models::{EmbeddedVocabulary, Tag, Vocabulary};
use imgtag_pipeline::Pipeline;
use serde::Serialize;

use super::support::load_analyzers;
use crate::analyzers::nsfw::NsfwOutput;
use crate::analyzers::ocr::GateDecision;
use crate::analyzers::{AnalysisInput, AnalyzerId, Analyzers};
use crate::cli::TagArgs;
use crate::commands::classify::{ClassReport, ErrorReport};
use crate::config::Config;
use crate::error::AppError;
use crate::input::{read_image_file, read_text_file};
use crate::process::OcrSummary;
use crate::process::record::ocr_record;

/// Largest vocabulary file accepted.
const MAX_VOCABULARY_BYTES: u64 = 1024 * 1024;

/// The outcome for one image.
#[derive(Debug, Serialize)]
pub struct TagReport {
    /// The file as given.
    pub file: PathBuf,
    /// Tags of every analyzer, in analyzer order.
    pub tags: Vec<Tag>,
    /// The most probable classes.
    pub classes: Vec<ClassReport>,
    /// The NSFW verdict (absent on error, or with the analyzer off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsfw: Option<NsfwOutput>,
    /// The text read (absent with the analyzer off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr: Option<OcrSummary>,
    /// Why the text was read or not: the OCR gate's evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr_gate: Option<GateDecision>,
    /// Milliseconds: `read`, `decode` (decode, metadata, checks) and one
    /// entry per analyzer.
    pub timings_ms: BTreeMap<String, f64>,
    /// Why the image failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
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

/// Loads the analyzers and the vocabulary (errors here are fatal) and tags
/// every image.
pub fn run(config: &Config, args: &TagArgs) -> Result<TagOutput, AppError> {
    let analyzers = load_analyzers(config, AnalyzerId::ALL)?;
    let vocabulary = args
        .vocab
        .as_deref()
        .map(|path| load_vocabulary(&analyzers, path))
        .transpose()?;
    let pipeline = config.pipeline(false).build()?;
    let images = args
        .images
        .iter()
        .map(|path| {
            let mut timings = BTreeMap::new();
            match tag_file(config, &pipeline, &analyzers, vocabulary.as_ref(), path, &mut timings) {
                Ok(report) => report,
                Err(error) => {
                    tracing::warn!(file = %path.display(), code = error.code(), %error, "image failed");
                    TagReport {
                        file: path.clone(),
                        tags: Vec::new(),
                        classes: Vec::new(),
                        nsfw: None,
                        ocr: None,
                        ocr_gate: None,
                        timings_ms: timings,
                        error: Some(ErrorReport::from(&error)),
                    }
                }
            }
        })
        .collect();
    Ok(TagOutput {
        models: analyzers.models().iter().map(ToString::to_string).collect(),
        images,
    })
}

fn load_vocabulary(analyzers: &Analyzers, path: &Path) -> Result<EmbeddedVocabulary, AppError> {
    let semantic = analyzers.semantic().ok_or(AppError::AnalyzerDisabled {
        analyzer: "semantic",
        needed_for: "a vocabulary (--vocab)",
    })?;
    let text = read_text_file(path, MAX_VOCABULARY_BYTES)?;
    let vocabulary = Vocabulary::parse(&text)?;
    semantic.embed_vocabulary(&vocabulary)
}

fn milliseconds(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e5).round() / 1e2
}

fn tag_file(
    config: &Config,
    pipeline: &Pipeline,
    analyzers: &Analyzers,
    vocabulary: Option<&EmbeddedVocabulary>,
    path: &Path,
    timings: &mut BTreeMap<String, f64>,
) -> Result<TagReport, AppError> {
    let started = Instant::now();
    let bytes = bytes::Bytes::from(read_image_file(path, &config.decode)?);
    timings.insert("read".into(), milliseconds(started));
    let started = Instant::now();
    let plan = analyzers.plan(&analyzers.enabled());
    let (_, analysis) = pipeline.process_with(&bytes, |decoded| {
        analyzers.run(
            &AnalysisInput {
                image: decoded.image,
                model_input: decoded.model_input,
                inspection: decoded.inspection,
                source: Some((&bytes, pipeline)),
                vocabulary,
            },
            &plan,
        )
    })?;
    let analysis = analysis?;
    let analysing: f64 = analysis.timings_ms.values().sum();
    timings.insert(
        "decode".into(),
        ((milliseconds(started) - analysing).max(0.0) * 100.0).round() / 100.0,
    );
    for (analyzer, ms) in &analysis.timings_ms {
        timings.insert(analyzer.as_str().to_owned(), *ms);
    }
    Ok(TagReport {
        file: path.to_owned(),
        tags: analysis.tags().into_iter().map(|(_, tag)| tag).collect(),
        classes: analysis
            .classifier
            .as_ref()
            .map(|output| {
                output
                    .classes
                    .iter()
                    .cloned()
                    .map(ClassReport::from)
                    .collect()
            })
            .unwrap_or_default(),
        nsfw: analysis.nsfw,
        ocr: analysis
            .ocr
            .as_ref()
            .map(|output| OcrSummary::of(&ocr_record(output))),
        ocr_gate: analysis.ocr.as_ref().map(|output| output.decision),
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
        if let Some(ocr) = &image.ocr {
            if ocr.read {
                writeln!(out, "  text: {} line(s)", ocr.line_count)?;
            } else {
                writeln!(out, "  text: not read (the probe found too little)")?;
            }
        }
        let times: Vec<String> = image
            .timings_ms
            .iter()
            .map(|(stage, ms)| format!("{stage} {ms:.1} ms"))
            .collect();
        writeln!(out, "  time: {}", times.join(", "))?;
    }
    Ok(())
}
