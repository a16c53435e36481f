//! JPEG specifics: completeness check (truncated uploads), the component
//! count of the frame header (CMYK detection), and shrink-on-load through
//! libjpeg-turbo's DCT scaling.

use image::{DynamicImage, ExtendedColorType};
use turbojpeg::ScalingFactor;

use super::ShrinkHint;
use crate::error::PipelineError;

/// The number of colour components the JPEG's frame header (SOFn) declares:
/// 1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK. `None` when no frame header is found
/// before the first scan (the decoder then reports the damage).
pub(super) fn frame_components(bytes: &[u8]) -> Option<u8> {
    let mut at = 2; // after SOI
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (0xFF, marker) = (*bytes.get(at)?, *bytes.get(at + 1)?) else {
            return None;
        };
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD7 => {
                at += 2;
                continue;
            }
            // Start of scan or end of image before any frame header.
            0xDA | 0xD9 => return None,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            // length(2) precision(1) height(2) width(2) components(1)
            return bytes.get(at + 9).copied();
        }
        if length < 2 {
            return None;
        }
        at += 2 + length;
    }
}

/// The smallest libjpeg-turbo scale below 1 that keeps the image at least
/// as large as `hint` asks (both sides), if any.
pub(super) fn shrink_factor(width: u32, height: u32, hint: ShrinkHint) -> Option<ScalingFactor> {
    let (long, short) = (width.max(height) as usize, width.min(height) as usize);
    let need_long = (hint.min_long_side as usize).min(long);
    let need_short = (hint.min_short_side as usize).min(short);
    [
        ScalingFactor::ONE_EIGHTH,
        ScalingFactor::ONE_QUARTER,
        ScalingFactor::ONE_HALF,
    ]
    .into_iter()
    .find(|factor| factor.scale(long) >= need_long && factor.scale(short) >= need_short)
}

/// Decodes a JPEG at `factor` with libjpeg-turbo (RGB or greyscale only).
pub(super) fn decode_scaled(
    bytes: &[u8],
    factor: ScalingFactor,
    color: ExtendedColorType,
) -> Result<DynamicImage, PipelineError> {
    let failed = |e: turbojpeg::Error| PipelineError::Corrupt(format!("libjpeg-turbo: {e}"));
    let mut decompressor = turbojpeg::Decompressor::new().map_err(failed)?;
    decompressor.set_scaling_factor(factor).map_err(failed)?;
    let header = decompressor
        .read_header(bytes)
        .map_err(failed)?
        .scaled(factor);
    let (format, channels) = match color {
        ExtendedColorType::L8 => (turbojpeg::PixelFormat::GRAY, 1),
        _ => (turbojpeg::PixelFormat::RGB, 3),
    };
    let mut pixels = vec![0u8; header.width * header.height * channels];
    let output = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: header.width,
        pitch: header.width * channels,
        height: header.height,
        format,
    };
    decompressor.decompress(bytes, output).map_err(failed)?;
    let (width, height) = (header.width as u32, header.height as u32);
    let image = match channels {
        1 => image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        _ => image::RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8),
    };
    image.ok_or_else(|| PipelineError::Corrupt("libjpeg-turbo returned a short image".into()))
}

/// Whether a JPEG's last scan is followed by an end-of-image marker. Inside
/// entropy-coded data 0xFF is always escaped (0xFF00), so 0xFFD9 there is the
/// real marker; EXIF thumbnails (with their own EOI) come before the scans.
pub(super) fn is_complete(bytes: &[u8]) -> bool {
    // Nearly every JPEG ends with its EOI: no scan needed.
    if bytes.ends_with(&[0xFF, 0xD9]) {
        return true;
    }
    let last = |marker: u8| {
        bytes
            .windows(2)
            .rposition(|w| w[0] == 0xFF && w[1] == marker)
    };
    match (last(0xDA), last(0xD9)) {
        (Some(scan), Some(end)) => end > scan,
        _ => false,
    }
}
