//! Resizing for renditions: fit within a long side, never upscale, SIMD
//! convolution (`fast_image_resize`, Lanczos3). RGBA images are resized with
//! premultiplied alpha (the resizer multiplies before and divides after), so
//! transparent pixels do not bleed their colour into visible ones.

use std::borrow::Cow;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

use crate::error::PipelineError;

/// The image as 8-bit RGB, or RGBA when it has an alpha channel; borrowed
/// when it already is (no copy of the pixels).
pub fn to_8bit(image: &DynamicImage) -> Cow<'_, DynamicImage> {
    match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => Cow::Borrowed(image),
        other if other.color().has_alpha() => {
            Cow::Owned(DynamicImage::ImageRgba8(other.to_rgba8()))
        }
        other => Cow::Owned(DynamicImage::ImageRgb8(other.to_rgb8())),
    }
}

/// The size of `width` x `height` scaled to fit within `max_side` (never
/// larger than the original, never zero).
pub fn fitted_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_side {
        return (width, height);
    }
    let scale = f64::from(max_side) / f64::from(long);
    let fit = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, max_side);
    (fit(width), fit(height))
}

/// `image` as 8-bit RGB or RGBA (see [`to_8bit`]) resized to fit within
/// `max_side` (Lanczos3); borrowed, not copied, when it already fits and is
/// 8-bit. 8-bit grey stays grey.
pub fn fit_within(
    image: &DynamicImage,
    max_side: u32,
) -> Result<Cow<'_, DynamicImage>, PipelineError> {
    let (width, height) = fitted_size(image.width(), image.height(), max_side);
    if (width, height) == (image.width(), image.height()) {
        return Ok(to_8bit(image));
    }
    resize_to(image, width, height, FilterType::Lanczos3).map(Cow::Owned)
}

/// `image` resized to exactly `width` x `height` with `filter`: 8-bit grey
/// as grey, everything else as 8-bit RGB or RGBA (see [`to_8bit`]).
pub fn resize_to(
    image: &DynamicImage,
    width: u32,
    height: u32,
    filter: FilterType,
) -> Result<DynamicImage, PipelineError> {
    let source = match image {
        DynamicImage::ImageLuma8(_) => Cow::Borrowed(image),
        other => to_8bit(other),
    };
    let pixel_type = match source.as_ref() {
        DynamicImage::ImageLuma8(_) => PixelType::U8,
        DynamicImage::ImageRgba8(_) => PixelType::U8x4,
        _ => PixelType::U8x3,
    };
    let mut target = Image::new(width, height, pixel_type);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
    Resizer::new()
        .resize(source.as_ref(), &mut target, &options)
        .map_err(|e| PipelineError::Encode(format!("resize failed: {e}")))?;
    let buffer = target.into_vec();
    let image = match pixel_type {
        PixelType::U8 => GrayImage::from_raw(width, height, buffer).map(DynamicImage::ImageLuma8),
        PixelType::U8x4 => RgbaImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgba8),
        _ => RgbImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgb8),
    };
    image.ok_or_else(|| PipelineError::Encode("resize produced a short buffer".into()))
}

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;

    #[test]
    fn fitting_borrows_what_fits_and_keeps_grey_grey() {
        let rgb = DynamicImage::new_rgb8(100, 50);
        assert!(matches!(fit_within(&rgb, 256).unwrap(), Cow::Borrowed(_)));
        let grey = DynamicImage::new_luma8(1000, 500);
        let smaller = fit_within(&grey, 256).unwrap();
        assert!(matches!(smaller.as_ref(), DynamicImage::ImageLuma8(_)));
        assert_eq!((smaller.width(), smaller.height()), (256, 128));
        let wide = DynamicImage::new_rgb16(10, 10);
        assert!(matches!(
            fit_within(&wide, 256).unwrap().as_ref(),
            DynamicImage::ImageRgb8(_)
        ));
    }

    #[test]
    fn fits_the_long_side_and_never_upscales() {
        assert_eq!(fitted_size(4000, 3000, 256), (256, 192));
        assert_eq!(fitted_size(3000, 4000, 256), (192, 256));
        assert_eq!(fitted_size(100, 50, 256), (100, 50));
        assert_eq!(fitted_size(10_000, 1, 256), (256, 1));
        let small = DynamicImage::new_rgb8(100, 50);
        assert_eq!(fit_within(&small, 256).unwrap().width(), 100);
    }

    #[test]
    fn transparent_pixels_do_not_bleed_colour() {
        // Left half: fully transparent *red*; right half: opaque blue.
        let image = RgbaImage::from_fn(64, 8, |x, _| {
            if x < 32 {
                Rgba([255, 0, 0, 0])
            } else {
                Rgba([0, 0, 255, 255])
            }
        });
        let resized = fit_within(&DynamicImage::ImageRgba8(image), 16)
            .unwrap()
            .to_rgba8();
        for pixel in resized.pixels().filter(|p| p[3] > 0) {
            // Visible pixels are blue; without premultiplication the edge
            // pixels turn purple.
            assert!(pixel[0] < 8, "red bled into a visible pixel: {pixel:?}");
        }
    }
}
