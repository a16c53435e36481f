//! Named renditions: each a long-side bound, a format and a quality
//! (defaults: `thumb` 256 px and `preview` 1280 px, WebP quality 80), made
//! from one upright decoded image. Never upscaled; metadata never copied.
//! Larger renditions are made first and each smaller one is resized from the
//! smallest already made that still covers it, so a 24 MP photo is read in
//! full once. [`render_redacted`] redacts each rendition after resizing it
//! (see [`mod@crate::redact`]); the next one is still resized from the plain
//! pixels.

use image::DynamicImage;
use serde::{Deserialize, Serialize};

use crate::encode::{EncodeOptions, OutputFormat, encode};
use crate::error::PipelineError;
use crate::redact::{Redaction, redact_in_place};
use crate::resize::fit_within;

/// One rendition to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenditionSpec {
    /// Name, used in storage keys (`thumb`, `preview`, ...).
    pub name: String,
    /// Bound on the long side, in pixels.
    pub max_side: u32,
    /// Output format.
    pub format: OutputFormat,
    /// Quality 1-100 for lossy formats.
    pub quality: u8,
    /// Lossless WebP.
    #[serde(default)]
    pub lossless: bool,
}

impl RenditionSpec {
    /// The encoder options of this rendition.
    pub fn encode_options(&self) -> EncodeOptions {
        EncodeOptions {
            format: self.format,
            quality: self.quality,
            lossless: self.lossless,
        }
    }
}

/// The default renditions.
pub fn default_renditions() -> Vec<RenditionSpec> {
    let webp = |name: &str, max_side| RenditionSpec {
        name: name.into(),
        max_side,
        format: OutputFormat::Webp,
        quality: 80,
        lossless: false,
    };
    vec![webp("thumb", 256), webp("preview", 1280)]
}

/// Checks a rendition list: names unique and simple, sizes and options valid.
pub fn validate_renditions(specs: &[RenditionSpec]) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for spec in specs {
        let simple = !spec.name.is_empty()
            && spec.name.len() <= 32
            && spec
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !simple {
            return Err(format!(
                "rendition name `{}` must be 1-32 of [a-z0-9_]",
                spec.name
            ));
        }
        if !names.insert(spec.name.as_str()) {
            return Err(format!("rendition `{}` is defined twice", spec.name));
        }
        if spec.max_side == 0 {
            return Err(format!(
                "rendition `{}`: max_side must be positive",
                spec.name
            ));
        }
        spec.encode_options()
            .validate()
            .map_err(|e| format!("rendition `{}`: {e}", spec.name))?;
    }
    Ok(())
}

/// An encoded rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    /// Its name.
    pub name: String,
    /// Its format.
    pub format: OutputFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The encoded file.
    pub bytes: Vec<u8>,
}

/// Makes every rendition of `image` (upright), in the order of `specs`.
pub fn render(
    image: &DynamicImage,
    specs: &[RenditionSpec],
) -> Result<Vec<Rendition>, PipelineError> {
    render_redacted(image, specs, None)
}

/// Like [`render`], with `redaction` (when given and not empty) applied to
/// each rendition before it is encoded; `image` itself is not changed.
pub fn render_redacted(
    image: &DynamicImage,
    specs: &[RenditionSpec],
    redaction: Option<&Redaction>,
) -> Result<Vec<Rendition>, PipelineError> {
    let redaction = redaction.filter(|r| !r.is_empty());
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(specs[i].max_side));
    let mut made: Vec<Option<Rendition>> = vec![None; specs.len()];
    // Each rendition is resized from the previous (larger) one; the decoded
    // image itself is only borrowed.
    let mut source = std::borrow::Cow::Borrowed(image);
    for index in order {
        let spec = &specs[index];
        let resized = match fit_within(&source, spec.max_side)? {
            std::borrow::Cow::Owned(smaller) => std::borrow::Cow::Owned(smaller),
            std::borrow::Cow::Borrowed(_) => source.clone(),
        };
        let bytes = match redaction {
            Some(redaction) => {
                // A copy: the next rendition is resized from plain pixels.
                let mut redacted = resized.as_ref().clone();
                redact_in_place(&mut redacted, redaction);
                encode(&redacted, &spec.encode_options())?
            }
            None => encode(&resized, &spec.encode_options())?,
        };
        made[index] = Some(Rendition {
            name: spec.name.clone(),
            format: spec.format,
            width: resized.width(),
            height: resized.height(),
            bytes,
        });
        source = resized;
    }
    Ok(made.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;
    use crate::decode::{DecodeLimits, decode};

    fn photo(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        }))
    }

    fn options(format: OutputFormat, lossless: bool) -> EncodeOptions {
        EncodeOptions {
            format,
            quality: 80,
            lossless,
        }
    }

    #[test]
    fn default_renditions_fit_and_never_upscale() {
        let renditions = render(&photo(2000, 1500), &default_renditions()).unwrap();
        let sizes: Vec<_> = renditions
            .iter()
            .map(|r| (r.name.as_str(), r.width, r.height))
            .collect();
        assert_eq!(sizes, [("thumb", 256, 192), ("preview", 1280, 960)]);
        for rendition in &renditions {
            let decoded = decode(&rendition.bytes, &DecodeLimits::default()).unwrap();
            assert_eq!(decoded.metadata.format, "webp");
            assert_eq!(
                (decoded.image.width(), decoded.image.height()),
                (rendition.width, rendition.height)
            );
        }
        let small = render(&photo(300, 200), &default_renditions()).unwrap();
        assert_eq!(
            (small[1].width, small[1].height),
            (300, 200),
            "never upscaled"
        );
    }

    #[test]
    fn every_format_round_trips() {
        let image = photo(120, 80);
        for format in [OutputFormat::Webp, OutputFormat::Jpeg, OutputFormat::Png] {
            let bytes = encode(&image, &options(format, false)).unwrap();
            let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
            assert_eq!(
                decoded.metadata.format,
                format.extension().replace("jpg", "jpeg")
            );
            assert_eq!((decoded.image.width(), decoded.image.height()), (120, 80));
        }
        // AVIF is written (rav1e) but not decoded by imgtag: check the container.
        let avif = encode(&image, &options(OutputFormat::Avif, false)).unwrap();
        assert_eq!(image::guess_format(&avif).unwrap(), ImageFormat::Avif);
        assert_eq!(&avif[4..12], b"ftypavif");
    }

    #[test]
    fn lossless_formats_keep_every_pixel_including_alpha() {
        let image = DynamicImage::ImageRgba8(RgbaImage::from_fn(40, 30, |x, y| {
            Rgba([(x * 6) as u8, (y * 8) as u8, 77, ((x + y) * 3) as u8])
        }));
        for format in [OutputFormat::Webp, OutputFormat::Png] {
            let bytes = encode(&image, &options(format, true)).unwrap();
            let back = decode(&bytes, &DecodeLimits::default())
                .unwrap()
                .image
                .to_rgba8();
            assert_eq!(back, image.to_rgba8(), "{format:?}");
        }
    }

    #[test]
    fn jpeg_of_a_transparent_image_is_white_and_metadata_is_not_copied() {
        let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(16, 16, Rgba([255, 0, 0, 0])));
        let bytes = encode(&clear, &options(OutputFormat::Jpeg, false)).unwrap();
        let back = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert!(
            back.image
                .to_rgb8()
                .pixels()
                .all(|p| p.0.iter().all(|&c| c > 245))
        );
        assert!(back.metadata.exif.is_none());
        assert!(!bytes.windows(4).any(|w| w == b"Exif"), "no EXIF segment");
    }

    #[test]
    fn invalid_options_and_oversized_webp_are_encode_errors() {
        let image = photo(8, 8);
        let error = encode(
            &image,
            &EncodeOptions {
                quality: 0,
                ..options(OutputFormat::Webp, false)
            },
        )
        .unwrap_err();
        assert_eq!(error.code(), "image.encode_failed");
        assert!(encode(&image, &options(OutputFormat::Jpeg, true)).is_err());
        let wide = DynamicImage::new_rgb8(16_384, 1);
        let error = encode(&wide, &options(OutputFormat::Webp, false)).unwrap_err();
        assert!(error.to_string().contains("16383"), "{error}");
    }

    #[test]
    fn rendition_lists_are_validated() {
        assert!(validate_renditions(&default_renditions()).is_ok());
        let mut twice = default_renditions();
        twice[1].name = "thumb".into();
        assert!(validate_renditions(&twice).unwrap_err().contains("twice"));
        let mut bad = default_renditions();
        bad[0].name = "../x".into();
        assert!(validate_renditions(&bad).is_err());
    }
}
