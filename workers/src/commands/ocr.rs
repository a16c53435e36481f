//! `imgtag ocr FILE... [--json]`: the text in each image, for people and
//! scripts. Every file is read (no gate: asking is reason enough), through
//! the same bounded decoder and OCR engine as ingestion; the text prints
//! in reading order, or as JSON with each line's confidence and outline
//! (in the pixels of the upright image), the page rotation that was undone
//! and the time taken. A bad file is reported with its error code and
//! does not stop the others.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use imgtag_models::ocr::{OcrEngine, OcrLine};
use imgtag_models::{ModelStore, Runtime};
use imgtag_pipeline::Pipeline;
use serde::Serialize;

use crate::cli::OcrArgs;
use crate::commands::classify::ErrorReport;
use crate::config::Config;
use crate::error::AppError;
use crate::input::read_image_file;

/// The text of one image.
#[derive(Debug, Serialize)]
pub struct OcrReport {
    /// The file as given.
    pub file: PathBuf,
    /// Width and height of the upright image the outlines refer to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<(u32, u32)>,
    /// The lines in reading order.
    pub lines: Vec<OcrLine>,
    /// The text: the lines joined by newlines.
    pub text: String,
    /// Clockwise rotation of the page content that was undone to read it.
    pub rotation: u16,
    /// Whether the text holds CJK characters.
    pub has_cjk: bool,
    /// Whether lines were left out at a bound.
    pub truncated: bool,
    /// Milliseconds: decoding and reading.
    pub ms: f64,
    /// Why the file failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

/// The command's output.
#[derive(Debug, Serialize)]
pub struct OcrOutput {
    /// One report per file, in argument order.
    pub images: Vec<OcrReport>,
}

impl OcrOutput {
    /// Whether every file was read.
    pub fn all_succeeded(&self) -> bool {
        self.images.iter().all(|image| image.error.is_none())
    }
}

/// Loads the OCR engine (errors here are fatal) and reads every file.
pub fn run(config: &Config, args: &OcrArgs) -> Result<OcrOutput, AppError> {
    let runtime = Runtime::init(&config.runtime())?;
    let store = ModelStore::open(&config.models.dir)?;
    let section = &config.analyzers.ocr;
    let engine = OcrEngine::load(&store, &runtime, &section.engine)?;
    let pipeline = config.pipeline(false).build()?;
    let images = args
        .images
        .iter()
        .map(|path| {
            let started = Instant::now();
            read_file(config, &pipeline, &engine, section.read_side, path).unwrap_or_else(|error| {
                tracing::warn!(file = %path.display(), code = error.code(), %error, "image failed");
                OcrReport {
                    file: path.clone(),
                    size: None,
                    lines: Vec::new(),
                    text: String::new(),
                    rotation: 0,
                    has_cjk: false,
                    truncated: false,
                    ms: milliseconds(started),
                    error: Some(ErrorReport::from(&error)),
                }
            })
        })
        .collect();
    Ok(OcrOutput { images })
}

fn read_file(
    config: &Config,
    pipeline: &Pipeline,
    engine: &OcrEngine,
    read_side: u32,
    path: &Path,
) -> Result<OcrReport, AppError> {
    let started = Instant::now();
    let bytes = read_image_file(path, &config.decode)?;
    let image = pipeline.decode_upright(&bytes, read_side)?;
    let (width, height) = (image.width(), image.height());
    let image = image.into_rgb8();
    let result = engine.read(&image)?;
    Ok(OcrReport {
        file: path.to_owned(),
        size: Some((width, height)),
        text: result.text(),
        lines: result.lines,
        rotation: result.rotation,
        has_cjk: result.has_cjk,
        truncated: result.truncated,
        ms: milliseconds(started),
        error: None,
    })
}

fn milliseconds(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e5).round() / 1e2
}

/// The text of each file, for people: a heading per file when there are
/// several.
pub fn write_text(output: &OcrOutput, out: &mut impl Write) -> std::io::Result<()> {
    let several = output.images.len() > 1;
    for (i, image) in output.images.iter().enumerate() {
        if several {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(out, "== {}", image.file.display())?;
        }
        if let Some(error) = &image.error {
            writeln!(out, "error[{}]: {}", error.code, error.message)?;
            continue;
        }
        if image.rotation != 0 {
            writeln!(
                out,
                "(page rotated by {} degrees, read upright)",
                image.rotation
            )?;
        }
        if !image.text.is_empty() {
            writeln!(out, "{}", image.text)?;
        }
    }
    Ok(())
}
