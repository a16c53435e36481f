//! Colour management: an embedded ICC profile (JPEG APP2, PNG iCCP, WebP
//! ICCP, TIFF tag 34675) is applied at decode, so every later stage (models,
//! hashes, renditions) sees sRGB pixels.
//!
//! Transforms come from `moxcms`, the pure-Rust colour management engine the
//! `image` crate itself depends on (no C library, no second copy built).
//! Grey and RGB(A) pixels at 8 and 16 bits (and 32-bit float) are converted;
//! grey stays grey (sRGB tone curve). A profile that cannot be used (damaged,
//! unsupported, a colour space that does not match the pixels, or a panic in
//! the engine) never rejects the image: the pixels are kept as decoded and
//! [`IccReport`] says why. A profile that is already sRGB (within one 8-bit
//! level on a probe of the colour cube) is honoured without touching pixels.

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, ImageBuffer, Pixel};
use moxcms::{
    CmsError, ColorProfile, DataColorSpace, Layout, ProfileText, RenderingIntent,
    TransformExecutor, TransformOptions,
};
use serde::{Deserialize, Serialize};

/// Longest profile description kept, in characters.
const MAX_DESCRIPTION_CHARS: usize = 120;

/// What became of the image's embedded ICC profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IccReport {
    /// Whether the image embeds an ICC profile.
    pub present: bool,
    /// Whether the pixels are now sRGB as the profile defines them (true
    /// also for an sRGB profile, which needs no work); false when absent.
    pub applied: bool,
    /// The profile's description tag (e.g. `Display P3`), when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Why a present profile was not applied (pixels kept as decoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl IccReport {
    fn not_applied(description: Option<String>, reason: String) -> Self {
        Self {
            present: true,
            applied: false,
            description,
            reason: Some(reason),
        }
    }
}

/// Converts `image` from the colour space of `icc` (when given) to sRGB.
/// Never fails: an unusable profile leaves the pixels as they are and the
/// report says why.
pub fn to_srgb(image: DynamicImage, icc: Option<&[u8]>) -> (DynamicImage, IccReport) {
    let Some(icc) = icc else {
        return (image, IccReport::default());
    };
    let profile = match ColorProfile::new_from_slice(icc) {
        Ok(profile) => profile,
        Err(error) => {
            let reason = format!("unreadable ICC profile: {error}");
            return (image, IccReport::not_applied(None, reason));
        }
    };
    let description = profile.description.as_ref().and_then(description_text);
    // The engine is third-party code fed hostile profiles: a panic there
    // must cost the colour conversion, not the image.
    let converted = catch_unwind(AssertUnwindSafe(|| convert(&image, &profile)))
        .unwrap_or_else(|_| Err("the colour engine failed on this profile".to_owned()));
    match converted {
        Ok(converted) => {
            let report = IccReport {
                present: true,
                applied: true,
                description,
                reason: None,
            };
            (converted.unwrap_or(image), report)
        }
        Err(reason) => (image, IccReport::not_applied(description, reason)),
    }
}

/// The converted image, or `None` when the profile is sRGB already.
fn convert(image: &DynamicImage, profile: &ColorProfile) -> Result<Option<DynamicImage>, String> {
    let pixels_are_grey = !image.color().has_color();
    let (expected, target) = if pixels_are_grey {
        (DataColorSpace::Gray, srgb_grey())
    } else {
        (DataColorSpace::Rgb, ColorProfile::new_srgb())
    };
    if profile.color_space != expected {
        return Err(format!(
            "a {} profile does not describe {} pixels",
            space_name(profile.color_space),
            if pixels_are_grey { "grey" } else { "RGB" }
        ));
    }
    let unsupported = || Err(format!("{:?} pixels are not colour-managed", image.color()));
    Ok(match image {
        DynamicImage::ImageLuma8(buffer) => {
            map8(buffer, profile, &target, Layout::Gray)?.map(DynamicImage::ImageLuma8)
        }
        DynamicImage::ImageLumaA8(buffer) => {
            map8(buffer, profile, &target, Layout::GrayAlpha)?.map(DynamicImage::ImageLumaA8)
        }
        DynamicImage::ImageRgb8(buffer) => {
            map8(buffer, profile, &target, Layout::Rgb)?.map(DynamicImage::ImageRgb8)
        }
        DynamicImage::ImageRgba8(buffer) => {
            map8(buffer, profile, &target, Layout::Rgba)?.map(DynamicImage::ImageRgba8)
        }
        DynamicImage::ImageLuma16(buffer) => {
            map16(buffer, profile, &target, Layout::Gray)?.map(DynamicImage::ImageLuma16)
        }
        DynamicImage::ImageLumaA16(buffer) => {
            map16(buffer, profile, &target, Layout::GrayAlpha)?.map(DynamicImage::ImageLumaA16)
        }
        DynamicImage::ImageRgb16(buffer) => {
            map16(buffer, profile, &target, Layout::Rgb)?.map(DynamicImage::ImageRgb16)
        }
        DynamicImage::ImageRgba16(buffer) => {
            map16(buffer, profile, &target, Layout::Rgba)?.map(DynamicImage::ImageRgba16)
        }
        DynamicImage::ImageRgb32F(buffer) => Some(DynamicImage::ImageRgb32F(mapf32(
            buffer,
            profile,
            &target,
            Layout::Rgb,
        )?)),
        DynamicImage::ImageRgba32F(buffer) => Some(DynamicImage::ImageRgba32F(mapf32(
            buffer,
            profile,
            &target,
            Layout::Rgba,
        )?)),
        _ => return unsupported(),
    })
}

type Buffer<P> = ImageBuffer<P, Vec<<P as Pixel>::Subpixel>>;

fn map8<P: Pixel<Subpixel = u8>>(
    buffer: &Buffer<P>,
    source: &ColorProfile,
    target: &ColorProfile,
    layout: Layout,
) -> Result<Option<Buffer<P>>, String> {
    let transform =
        with_intents(|options| source.create_transform_8bit(layout, target, layout, options))?;
    if is_identity(transform.as_ref(), layout, 1, |v| v) {
        return Ok(None);
    }
    apply(buffer, transform.as_ref()).map(Some)
}

fn map16<P: Pixel<Subpixel = u16>>(
    buffer: &Buffer<P>,
    source: &ColorProfile,
    target: &ColorProfile,
    layout: Layout,
) -> Result<Option<Buffer<P>>, String> {
    let transform =
        with_intents(|options| source.create_transform_16bit(layout, target, layout, options))?;
    if is_identity(transform.as_ref(), layout, 257, |v| u16::from(v) * 257) {
        return Ok(None);
    }
    apply(buffer, transform.as_ref()).map(Some)
}

fn mapf32<P: Pixel<Subpixel = f32>>(
    buffer: &Buffer<P>,
    source: &ColorProfile,
    target: &ColorProfile,
    layout: Layout,
) -> Result<Buffer<P>, String> {
    let transform =
        with_intents(|options| source.create_transform_f32(layout, target, layout, options))?;
    apply(buffer, transform.as_ref())
}

/// Builds a transform with the perceptual intent, falling back to relative
/// colorimetric for LUT profiles that only carry that table.
fn with_intents<T>(build: impl Fn(TransformOptions) -> Result<T, CmsError>) -> Result<T, String> {
    let options = |rendering_intent| TransformOptions {
        rendering_intent,
        ..TransformOptions::default()
    };
    build(options(RenderingIntent::Perceptual))
        .or_else(|_| build(options(RenderingIntent::RelativeColorimetric)))
        .map_err(|error| format!("unsupported ICC profile: {error}"))
}

fn apply<P, V>(
    buffer: &Buffer<P>,
    transform: &(dyn TransformExecutor<V> + Send + Sync),
) -> Result<Buffer<P>, String>
where
    P: Pixel<Subpixel = V>,
    V: Copy + Default,
{
    let mut out = vec![V::default(); buffer.as_raw().len()];
    transform
        .transform(buffer.as_raw(), &mut out)
        .map_err(|error| format!("colour transform failed: {error}"))?;
    ImageBuffer::from_raw(buffer.width(), buffer.height(), out)
        .ok_or_else(|| "colour transform returned a short image".to_owned())
}

/// Whether `transform` changes no colour of a 17-step probe of the cube by
/// more than `tolerance` (one 8-bit level): then the profile is sRGB.
fn is_identity<V: Copy + Default + Into<u32>>(
    transform: &(dyn TransformExecutor<V> + Send + Sync),
    layout: Layout,
    tolerance: u32,
    from8: impl Fn(u8) -> V,
) -> bool {
    let steps: Vec<u8> = (0..=16u16).map(|i| (i * 255 / 16) as u8).collect();
    let mut probe = Vec::new();
    match layout {
        Layout::Gray => probe.extend(steps.iter().map(|&v| from8(v))),
        Layout::GrayAlpha => probe.extend(steps.iter().flat_map(|&v| [from8(v), from8(255)])),
        _ => {
            for &r in &steps {
                for &g in &steps {
                    for &b in &steps {
                        probe.extend([from8(r), from8(g), from8(b)]);
                        if layout == Layout::Rgba {
                            probe.push(from8(255));
                        }
                    }
                }
            }
        }
    }
    let mut out = vec![V::default(); probe.len()];
    transform.transform(&probe, &mut out).is_ok()
        && probe
            .iter()
            .zip(&out)
            .all(|(a, b)| (*a).into().abs_diff((*b).into()) <= tolerance)
}

/// A grey profile with the sRGB tone curve: grey stays grey.
fn srgb_grey() -> ColorProfile {
    let srgb = ColorProfile::new_srgb();
    let mut grey = ColorProfile::new_gray_with_gamma(2.2);
    grey.gray_trc = srgb.red_trc;
    grey
}

fn description_text(text: &ProfileText) -> Option<String> {
    let raw = match text {
        ProfileText::PlainString(value) => value.clone(),
        ProfileText::Localizable(values) => values
            .iter()
            .find(|v| v.language.eq_ignore_ascii_case("en"))
            .or_else(|| values.first())?
            .value
            .clone(),
        ProfileText::Description(value) if !value.ascii_string.trim().is_empty() => {
            value.ascii_string.clone()
        }
        ProfileText::Description(value) => value.unicode_string.clone(),
    };
    let clean: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DESCRIPTION_CHARS)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

fn space_name(space: DataColorSpace) -> String {
    format!("{space:?}").to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
