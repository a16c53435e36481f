//! Encoding to the formats imgtag writes: WebP (libwebp, lossy or lossless),
//! AVIF (rav1e through `image`), JPEG and PNG (`image`).
//!
//! The encoders are given pixels only, so no metadata (EXIF, GPS, XMP, ICC)
//! reaches the output: callers pass upright images, so orientation is baked
//! in. Images with alpha become JPEG over a white background.

use std::io::Cursor;

use image::codecs::avif::AvifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageEncoder, RgbImage};
use serde::{Deserialize, Serialize};

use crate::error::PipelineError;
use crate::resize::to_8bit;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// WebP (lossy, or lossless with `lossless`).
    Webp,
    /// AVIF (lossy).
    Avif,
    /// JPEG (lossy, no alpha).
    Jpeg,
    /// PNG (lossless).
    Png,
}

impl OutputFormat {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Avif => "avif",
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }

    /// MIME type.
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Webp => "image/webp",
            Self::Avif => "image/avif",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }
}

/// How to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncodeOptions {
    /// Output format.
    pub format: OutputFormat,
    /// Quality 1-100 for lossy formats.
    pub quality: u8,
    /// Lossless WebP (PNG is always lossless; JPEG and AVIF never are).
    #[serde(default)]
    pub lossless: bool,
}

impl EncodeOptions {
    /// Checks the options make sense together.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.quality) {
            return Err(format!("quality {} is not within 1..=100", self.quality));
        }
        if self.lossless && matches!(self.format, OutputFormat::Jpeg | OutputFormat::Avif) {
            return Err(format!("{:?} cannot be lossless", self.format));
        }
        Ok(())
    }
}

/// AVIF encoder speed (1 slowest/best .. 10 fastest).
const AVIF_SPEED: u8 = 8;
/// Largest side libwebp accepts.
const WEBP_MAX_SIDE: u32 = 16_383;

/// Encodes `image` as `options` say.
pub fn encode(image: &DynamicImage, options: &EncodeOptions) -> Result<Vec<u8>, PipelineError> {
    options.validate().map_err(PipelineError::Encode)?;
    let image = to_8bit(image);
    let (width, height) = (image.width(), image.height());
    let failed = |e: &dyn std::fmt::Display| {
        PipelineError::Encode(format!("{:?} encoding failed: {e}", options.format))
    };
    let mut out = Vec::new();
    match options.format {
        OutputFormat::Webp => {
            if width.max(height) > WEBP_MAX_SIDE {
                return Err(PipelineError::Encode(format!(
                    "WebP cannot hold {width}x{height} (max side {WEBP_MAX_SIDE})"
                )));
            }
            let encoder = match image.as_ref() {
                DynamicImage::ImageRgba8(rgba) => webp::Encoder::from_rgba(rgba, width, height),
                _ => webp::Encoder::from_rgb(image.as_bytes(), width, height),
            };
            let mut config =
                webp::WebPConfig::new().map_err(|()| failed(&"invalid libwebp config"))?;
            config.lossless = i32::from(options.lossless);
            config.alpha_compression = i32::from(!options.lossless);
            // Lossless means every pixel: keep RGB under fully transparent
            // pixels too (libwebp drops it by default).
            config.exact = i32::from(options.lossless);
            config.quality = f32::from(options.quality);
            let memory = encoder
                .encode_advanced(&config)
                .map_err(|e| failed(&format!("{e:?}")))?;
            out.extend_from_slice(&memory);
        }
        OutputFormat::Avif => {
            let encoder =
                AvifEncoder::new_with_speed_quality(&mut out, AVIF_SPEED, options.quality);
            encoder
                .write_image(image.as_bytes(), width, height, image.color().into())
                .map_err(|e| failed(&e))?;
        }
        OutputFormat::Jpeg => {
            // `to_8bit` gave RGB (used as it is) or RGBA (flattened).
            let flattened;
            let rgb: &[u8] = match image.as_ref() {
                DynamicImage::ImageRgba8(rgba) => {
                    flattened = over_white(rgba);
                    flattened.as_raw()
                }
                other => other.as_bytes(),
            };
            JpegEncoder::new_with_quality(&mut out, options.quality)
                .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)
                .map_err(|e| failed(&e))?;
        }
        OutputFormat::Png => {
            PngEncoder::new(Cursor::new(&mut out))
                .write_image(image.as_bytes(), width, height, image.color().into())
                .map_err(|e| failed(&e))?;
        }
    }
    Ok(out)
}

/// Composites RGBA over white.
fn over_white(rgba: &image::RgbaImage) -> RgbImage {
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}
