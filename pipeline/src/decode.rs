//! Bounded decoding of untrusted image bytes.
//!
//! The format is sniffed from the content (never from a file name or a
//! declared MIME type). Limits are checked before decoding (byte size,
//! declared dimensions and pixel count from the header) and enforced during
//! decoding (the decoder's allocation limit), so a small file that declares a
//! huge image is refused before any pixel buffer is allocated.

use std::io::{Cursor, ErrorKind};

use image::error::{ImageError, LimitErrorKind};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

/// Limits on untrusted input. The defaults fit phone photos and scans while
/// refusing decompression bombs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeLimits {
    /// Largest accepted input, in bytes.
    pub max_input_bytes: u64,
    /// Widest accepted image, in pixels.
    pub max_width: u32,
    /// Tallest accepted image, in pixels.
    pub max_height: u32,
    /// Most pixels (width x height) accepted.
    pub max_pixels: u64,
    /// Most memory the decoder may allocate, in bytes.
    pub max_decoder_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_input_bytes: 64 * 1024 * 1024,
            max_width: 20_000,
            max_height: 20_000,
            max_pixels: 100_000_000,
            max_decoder_bytes: 1024 * 1024 * 1024,
        }
    }
}

impl DecodeLimits {
    /// Checks the limits are usable (all positive).
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_input_bytes", self.max_input_bytes),
            ("max_width", u64::from(self.max_width)),
            ("max_height", u64::from(self.max_height)),
            ("max_pixels", self.max_pixels),
            ("max_decoder_bytes", self.max_decoder_bytes),
        ];
        match positive.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(format!("{name} must be positive")),
            None => Ok(()),
        }
    }
}

/// A decoded image and what was learnt while decoding it.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// The pixels, in the decoder's native colour type.
    pub image: DynamicImage,
    /// The format sniffed from the content.
    pub format: ImageFormat,
}

/// Decodes `bytes` within `limits`.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, PipelineError> {
    if bytes.is_empty() {
        return Err(PipelineError::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_input_bytes {
        return Err(PipelineError::TooManyBytes {
            size,
            limit: limits.max_input_bytes,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| PipelineError::UnsupportedFormat(None))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(limits.max_width);
    decoder_limits.max_image_height = Some(limits.max_height);
    decoder_limits.max_alloc = Some(limits.max_decoder_bytes);
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(|e| classify(e, format))?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    let mut decoder_limits = Limits::default();
    decoder_limits.max_alloc = Some(limits.max_decoder_bytes);
    decoder
        .set_limits(decoder_limits)
        .map_err(|e| classify(e, format))?;
    let image = DynamicImage::from_decoder(decoder).map_err(|e| classify(e, format))?;
    Ok(DecodedImage { image, format })
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), PipelineError> {
    let too_large = |limit: String| {
        Err(PipelineError::TooManyPixels {
            width,
            height,
            limit,
        })
    };
    if width == 0 || height == 0 {
        return Err(PipelineError::Corrupt(format!(
            "declared size {width}x{height}"
        )));
    }
    if width > limits.max_width {
        return too_large(format!("max width {}", limits.max_width));
    }
    if height > limits.max_height {
        return too_large(format!("max height {}", limits.max_height));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return too_large(format!("max {} pixels", limits.max_pixels));
    }
    Ok(())
}

fn classify(error: ImageError, format: ImageFormat) -> PipelineError {
    match error {
        ImageError::Limits(limit) => match limit.kind() {
            LimitErrorKind::DimensionError => PipelineError::TooManyPixels {
                width: 0,
                height: 0,
                limit: "decoder dimension limit".into(),
            },
            _ => PipelineError::MemoryLimit(limit.to_string()),
        },
        ImageError::Unsupported(unsupported) => {
            PipelineError::UnsupportedFormat(Some(format!("{format:?}: {unsupported}")))
        }
        ImageError::IoError(io) if io.kind() == ErrorKind::UnexpectedEof => {
            PipelineError::Truncated(io.to_string())
        }
        ImageError::Decoding(decoding) => {
            let message = decoding.to_string();
            if looks_truncated(&message) {
                PipelineError::Truncated(message)
            } else {
                PipelineError::Corrupt(message)
            }
        }
        other => PipelineError::Corrupt(other.to_string()),
    }
}

/// Decoders report a premature end in words only.
fn looks_truncated(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "eof",
        "end of file",
        "unexpected end",
        "truncated",
        "not enough data",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 10, 10]));
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn decodes_a_png_and_sniffs_its_format() {
        let decoded = decode(&png(5, 3), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.format, ImageFormat::Png);
        assert_eq!((decoded.image.width(), decoded.image.height()), (5, 3));
    }

    #[test]
    fn empty_and_unknown_inputs_have_codes() {
        assert_eq!(
            decode(b"", &DecodeLimits::default()).unwrap_err().code(),
            "image.empty"
        );
        let error = decode(b"hello, not an image", &DecodeLimits::default()).unwrap_err();
        assert_eq!(error.code(), "image.unsupported_format");
        assert!(!error.is_retryable());
    }

    #[test]
    fn byte_and_pixel_limits_are_enforced() {
        let bytes = png(40, 30);
        let limits = DecodeLimits {
            max_input_bytes: 10,
            ..DecodeLimits::default()
        };
        assert_eq!(
            decode(&bytes, &limits).unwrap_err().code(),
            "image.too_large"
        );
        let limits = DecodeLimits {
            max_pixels: 1000,
            ..DecodeLimits::default()
        };
        let error = decode(&bytes, &limits).unwrap_err();
        assert_eq!(error.code(), "image.too_large");
        assert!(error.to_string().contains("40x30"), "{error}");
    }

    #[test]
    fn truncated_png_is_reported() {
        let bytes = png(64, 64);
        let error = decode(&bytes[..bytes.len() / 2], &DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(error.code(), "image.truncated" | "image.corrupt"),
            "{error}"
        );
    }

    #[test]
    fn zero_limits_are_invalid() {
        let limits = DecodeLimits {
            max_width: 0,
            ..DecodeLimits::default()
        };
        assert!(limits.validate().unwrap_err().contains("max_width"));
    }
}
