//! `imgtag convert`: any accepted input to WebP, AVIF, JPEG or PNG, upright
//! and without metadata, optionally bounded in size. The output is written
//! to a temporary file beside the target and renamed into place, so a failed
//! run never leaves a partial file under the output name.

use std::io::Write;

use imgtag_pipeline::encode::encode;
use imgtag_pipeline::resize::fit_within;
use imgtag_pipeline::{EncodeOptions, OutputFormat, ShrinkHint};

use crate::cli::{ConvertArgs, FormatArg};
use crate::config::Config;
use crate::error::AppError;
use crate::input::read_image_file;

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Output format.
    pub format: OutputFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// File size in bytes.
    pub bytes: usize,
}

/// Converts `args.input` into `args.output`.
pub fn run(config: &Config, args: &ConvertArgs) -> Result<Written, AppError> {
    let format = match args.format {
        FormatArg::Webp => OutputFormat::Webp,
        FormatArg::Avif => OutputFormat::Avif,
        FormatArg::Jpeg => OutputFormat::Jpeg,
        FormatArg::Png => OutputFormat::Png,
    };
    let options = EncodeOptions {
        format,
        quality: args.quality,
        lossless: args.lossless,
    };
    let bytes = read_image_file(&args.input, &config.decode)?;
    let hint = args.max_side.map(|side| ShrinkHint {
        min_long_side: side,
        min_short_side: 0,
    });
    let decoded = imgtag_pipeline::decode_with_hint(&bytes, &config.decode, hint)?;
    let image = match args.max_side {
        Some(max_side) => fit_within(&decoded.image, max_side)?,
        None => std::borrow::Cow::Borrowed(&decoded.image),
    };
    let encoded = encode(&image, &options)?;
    write_atomically(&args.output, &encoded)?;
    Ok(Written {
        format,
        width: image.width(),
        height: image.height(),
        bytes: encoded.len(),
    })
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), AppError> {
    let output_error = |source| AppError::Output {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => std::path::Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(output_error)?;
    file.write_all(bytes).map_err(output_error)?;
    file.persist(path).map_err(|e| output_error(e.error))?;
    Ok(())
}
