//! `imgtag inspect`: metadata, fingerprints and quality signals of each
//! image, from one bounded decode. A bad image is reported with its error
//! code and does not stop the others.

use std::io::Write;
use std::path::{Path, PathBuf};

use imgtag_pipeline::{IccReport, Inspection, ShrinkHint};
use serde::Serialize;

use crate::cli::InspectArgs;
use crate::commands::classify::ErrorReport;
use crate::config::Config;
use crate::error::AppError;
use crate::input::read_image_file;

/// The outcome for one image.
#[derive(Debug, Serialize)]
pub struct InspectReport {
    /// The file as given.
    pub file: PathBuf,
    /// What was learnt (absent on error).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub inspection: Option<Inspection>,
    /// Why the image failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

/// Inspects every image.
pub fn run(config: &Config, args: &InspectArgs) -> Vec<InspectReport> {
    args.images
        .iter()
        .map(|path| match inspect_file(config, path) {
            Ok(inspection) => InspectReport {
                file: path.clone(),
                inspection: Some(inspection),
                error: None,
            },
            Err(error) => InspectReport {
                file: path.clone(),
                inspection: None,
                error: Some(ErrorReport::from(&error)),
            },
        })
        .collect()
}

fn inspect_file(config: &Config, path: &Path) -> Result<Inspection, AppError> {
    let bytes = read_image_file(path, &config.decode)?;
    // Only the analysis image is needed: shrink on load as far as it allows.
    let hint = ShrinkHint {
        min_long_side: 0,
        min_short_side: 0,
    };
    let (inspection, _image) =
        imgtag_pipeline::inspect(&bytes, &config.decode, &config.quality, Some(hint))?;
    Ok(inspection)
}

/// Writes the reports as text for people.
pub fn write_text(reports: &[InspectReport], out: &mut impl Write) -> std::io::Result<()> {
    for (n, report) in reports.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", report.file.display())?;
        if let Some(error) = &report.error {
            writeln!(out, "  error[{}]: {}", error.code, error.message)?;
        }
        let Some(i) = &report.inspection else {
            continue;
        };
        let m = &i.metadata;
        writeln!(
            out,
            "  format       {} {}x{} {} ({}-bit)",
            m.format, m.width, m.height, m.color_type, m.bit_depth
        )?;
        writeln!(
            out,
            "  frames       {}   orientation {}",
            m.frame_count, m.orientation
        )?;
        writeln!(out, "  icc          {}", icc_text(&m.icc))?;
        if let Some(exif) = &m.exif {
            let camera = [exif.make.as_deref(), exif.model.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            writeln!(
                out,
                "  captured     {}",
                exif.captured_at.as_deref().unwrap_or("-")
            )?;
            writeln!(
                out,
                "  camera       {}",
                if camera.is_empty() { "-" } else { &camera }
            )?;
            if let Some(gps) = exif.gps {
                writeln!(
                    out,
                    "  gps          {:.6}, {:.6}",
                    gps.latitude, gps.longitude
                )?;
            }
        }
        if let Some(error) = &m.exif_error {
            writeln!(out, "  exif         unreadable: {error}")?;
        }
        writeln!(out, "  sha256       {}", i.fingerprints.sha256)?;
        writeln!(out, "  phash        {}", i.fingerprints.phash)?;
        let q = &i.quality;
        writeln!(
            out,
            "  sharpness    {:.1}{}",
            q.sharpness,
            if q.blurry { "  (blurry)" } else { "" }
        )?;
        writeln!(
            out,
            "  exposure     mean {:.1}, dark {:.1}%, bright {:.1}%{}{}",
            q.mean_luma,
            q.dark_fraction * 100.0,
            q.bright_fraction * 100.0,
            if q.underexposed {
                "  (underexposed)"
            } else {
                ""
            },
            if q.overexposed { "  (overexposed)" } else { "" }
        )?;
        if q.too_small {
            writeln!(out, "  size         too small")?;
        }
    }
    Ok(())
}

/// `none`, `Display P3 (converted to sRGB)`, `profile (not applied: why)`.
fn icc_text(icc: &IccReport) -> String {
    if !icc.present {
        return "none".to_owned();
    }
    let name = icc.description.as_deref().unwrap_or("unnamed profile");
    match (&icc.reason, icc.applied) {
        (_, true) => format!("{name} (converted to sRGB)"),
        (Some(reason), false) => format!("{name} (not applied: {reason})"),
        (None, false) => format!("{name} (not applied)"),
    }
}
