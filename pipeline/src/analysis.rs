//! The analysis image: a small greyscale copy of the upright image (long
//! side at most [`ANALYSIS_MAX_SIDE`]) on which perceptual hashing and the
//! quality signals are computed, so their cost and their thresholds do not
//! depend on the photo's resolution.

use fast_image_resize::FilterType;
use image::{DynamicImage, GrayImage};

use crate::resize::resize_to;

/// Long side of the analysis image, in pixels.
pub const ANALYSIS_MAX_SIDE: u32 = 512;

/// The analysis image of `image`.
pub fn analysis_image(image: &DynamicImage) -> GrayImage {
    let (width, height) = (image.width(), image.height());
    let long = width.max(height);
    if long <= ANALYSIS_MAX_SIDE {
        return luma(image);
    }
    let scale = f64::from(ANALYSIS_MAX_SIDE) / f64::from(long);
    let target_w = ((f64::from(width) * scale).round() as u32).max(1);
    let target_h = ((f64::from(height) * scale).round() as u32).max(1);
    // Reduce the colour image first and take the luma of the result: the
    // conversion then runs over at most 512 px rows, not the photo's.
    match resize_to(image, target_w, target_h, FilterType::Bilinear) {
        Ok(small) => luma(&small),
        // Cannot happen for images of positive size; fall back to full size.
        Err(_) => luma(image),
    }
}

/// Rec. 709 luma, the weights of the `image` crate's `to_luma8`, in integer
/// arithmetic for 8-bit RGB and RGBA (alpha ignored, as `to_luma8` does);
/// other layouts through `to_luma8`.
fn luma(image: &DynamicImage) -> GrayImage {
    fn weigh(pixel: &[u8]) -> u8 {
        let [r, g, b] = [pixel[0], pixel[1], pixel[2]].map(u32::from);
        // At most (255 * 10_000 + 5_000) / 10_000 = 255.
        ((2126 * r + 7152 * g + 722 * b + 5_000) / 10_000) as u8
    }
    let pixels: Vec<u8> = match image {
        DynamicImage::ImageRgb8(rgb) => rgb.as_raw().chunks_exact(3).map(weigh).collect(),
        DynamicImage::ImageRgba8(rgba) => rgba.as_raw().chunks_exact(4).map(weigh).collect(),
        other => return other.to_luma8(),
    };
    GrayImage::from_raw(image.width(), image.height(), pixels).unwrap_or_else(|| image.to_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_matches_the_image_crate_within_rounding() {
        let rgb = image::RgbImage::from_fn(61, 37, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 7) as u8, ((x * y) % 256) as u8])
        });
        let image = DynamicImage::ImageRgb8(rgb);
        let ours = luma(&image);
        let theirs = image.to_luma8();
        for (a, b) in ours.pixels().zip(theirs.pixels()) {
            assert!(a.0[0].abs_diff(b.0[0]) <= 1, "{a:?} {b:?}");
        }
        let grey = DynamicImage::ImageLuma8(theirs.clone());
        assert_eq!(luma(&grey), theirs, "grey stays as it is");
    }

    #[test]
    fn large_images_are_reduced_keeping_aspect_ratio() {
        let image = DynamicImage::new_rgb8(2000, 1000);
        assert_eq!(analysis_image(&image).dimensions(), (512, 256));
        let small = DynamicImage::new_rgb8(300, 200);
        assert_eq!(analysis_image(&small).dimensions(), (300, 200));
    }
}
