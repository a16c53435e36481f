//! The analysis image: a small greyscale copy of the upright image (long
//! side at most [`ANALYSIS_MAX_SIDE`]) on which perceptual hashing and the
//! quality signals are computed, so their cost and their thresholds do not
//! depend on the photo's resolution.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, GrayImage};

/// Long side of the analysis image, in pixels.
pub const ANALYSIS_MAX_SIDE: u32 = 512;

/// The analysis image of `image`.
pub fn analysis_image(image: &DynamicImage) -> GrayImage {
    let grey = image.to_luma8();
    let (width, height) = grey.dimensions();
    let long = width.max(height);
    if long <= ANALYSIS_MAX_SIDE {
        return grey;
    }
    let scale = f64::from(ANALYSIS_MAX_SIDE) / f64::from(long);
    let target_w = ((f64::from(width) * scale).round() as u32).max(1);
    let target_h = ((f64::from(height) * scale).round() as u32).max(1);
    let mut target = Image::new(target_w, target_h, PixelType::U8);
    let source = DynamicImage::ImageLuma8(grey);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    match Resizer::new().resize(&source, &mut target, &options) {
        Ok(()) => GrayImage::from_raw(target_w, target_h, target.into_vec())
            .unwrap_or_else(|| source.to_luma8()),
        // Cannot happen for U8 images of positive size; fall back to full size.
        Err(_) => source.to_luma8(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_images_are_reduced_keeping_aspect_ratio() {
        let image = DynamicImage::new_rgb8(2000, 1000);
        assert_eq!(analysis_image(&image).dimensions(), (512, 256));
        let small = DynamicImage::new_rgb8(300, 200);
        assert_eq!(analysis_image(&small).dimensions(), (300, 200));
    }
}
