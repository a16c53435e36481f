//! Simple quality signals, exposed as data with the thresholds that turned
//! them into flags (configurable, defaults documented here and in
//! `imgtag.example.toml`). Measured on the analysis image (long side <= 512),
//! so values are comparable between photos of different resolutions.
//!
//! - too small: the short side of the upright image is under `min_side`
//!   (default 224, the classifier's input size: below it models upscale).
//! - sharpness: variance of the 3x3 Laplacian of the greyscale image; blurry
//!   when under `blur_variance` (default 100, the usual threshold for 8-bit
//!   images at this size).
//! - exposure: mean luminance (0-255) and the fractions of pixels at <= 10
//!   (crushed shadows) and >= 245 (blown highlights); underexposed when the
//!   mean is under `dark_mean` (default 50) or more than `clipped_fraction`
//!   (default 0.5) of the pixels are crushed, overexposed likewise with
//!   `bright_mean` (default 205) and blown highlights.

use image::GrayImage;
use serde::{Deserialize, Serialize};

/// Thresholds of the quality flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityThresholds {
    /// Smallest acceptable short side, in pixels.
    pub min_side: u32,
    /// Laplacian variance under which an image is blurry.
    pub blur_variance: f64,
    /// Mean luminance under which an image is underexposed.
    pub dark_mean: f64,
    /// Mean luminance over which an image is overexposed.
    pub bright_mean: f64,
    /// Fraction of clipped pixels over which an image is under/overexposed.
    pub clipped_fraction: f64,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        Self {
            min_side: 224,
            blur_variance: 100.0,
            dark_mean: 50.0,
            bright_mean: 205.0,
            clipped_fraction: 0.5,
        }
    }
}

impl QualityThresholds {
    /// Checks the thresholds are coherent.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=255.0).contains(&self.dark_mean) || !(0.0..=255.0).contains(&self.bright_mean) {
            return Err("dark_mean and bright_mean must be within 0..=255".into());
        }
        if self.dark_mean >= self.bright_mean {
            return Err("dark_mean must be below bright_mean".into());
        }
        if !(0.0..=1.0).contains(&self.clipped_fraction) {
            return Err("clipped_fraction must be within 0..=1".into());
        }
        if self.blur_variance.is_nan() || self.blur_variance < 0.0 {
            return Err("blur_variance must be non-negative".into());
        }
        Ok(())
    }
}

/// The measured signals and the flags they raise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualitySignals {
    /// Variance of the Laplacian (higher is sharper).
    pub sharpness: f64,
    /// Mean luminance, 0-255.
    pub mean_luma: f64,
    /// Fraction of pixels with luminance <= 10.
    pub dark_fraction: f64,
    /// Fraction of pixels with luminance >= 245.
    pub bright_fraction: f64,
    /// Short side under `min_side`.
    pub too_small: bool,
    /// Sharpness under `blur_variance`.
    pub blurry: bool,
    /// Too dark.
    pub underexposed: bool,
    /// Too bright.
    pub overexposed: bool,
}

/// Measures `analysis` (the analysis image of an upright image of
/// `width` x `height`) against `thresholds`.
pub fn assess(
    width: u32,
    height: u32,
    analysis: &GrayImage,
    thresholds: &QualityThresholds,
) -> QualitySignals {
    let pixels = analysis.as_raw();
    let count = pixels.len().max(1) as f64;
    let mean_luma = pixels.iter().map(|&p| f64::from(p)).sum::<f64>() / count;
    let dark_fraction = pixels.iter().filter(|&&p| p <= 10).count() as f64 / count;
    let bright_fraction = pixels.iter().filter(|&&p| p >= 245).count() as f64 / count;
    let sharpness = laplacian_variance(analysis);
    QualitySignals {
        sharpness,
        mean_luma,
        dark_fraction,
        bright_fraction,
        too_small: width.min(height) < thresholds.min_side,
        blurry: sharpness < thresholds.blur_variance,
        underexposed: mean_luma < thresholds.dark_mean
            || dark_fraction > thresholds.clipped_fraction,
        overexposed: mean_luma > thresholds.bright_mean
            || bright_fraction > thresholds.clipped_fraction,
    }
}

/// Variance of the 4-neighbour Laplacian over the interior pixels.
fn laplacian_variance(image: &GrayImage) -> f64 {
    let (width, height) = (image.width() as usize, image.height() as usize);
    if width < 3 || height < 3 {
        return 0.0;
    }
    let p = image.as_raw();
    let (mut sum, mut sum_sq, mut n) = (0.0_f64, 0.0_f64, 0.0_f64);
    for y in 1..height - 1 {
        for x in 1..width - 1 {
            let at = |dx: isize, dy: isize| {
                let index = (y as isize + dy) as usize * width + (x as isize + dx) as usize;
                i32::from(p[index])
            };
            let value = f64::from(at(-1, 0) + at(1, 0) + at(0, -1) + at(0, 1) - 4 * at(0, 0));
            sum += value;
            sum_sq += value * value;
            n += 1.0;
        }
    }
    let mean = sum / n;
    (sum_sq / n - mean * mean).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkerboard(cell: u32) -> GrayImage {
        GrayImage::from_fn(256, 256, |x, y| {
            image::Luma([if (x / cell + y / cell).is_multiple_of(2) {
                40
            } else {
                210
            }])
        })
    }

    #[test]
    fn sharp_edges_pass_a_flat_image_is_blurry() {
        let t = QualityThresholds::default();
        let sharp = assess(1000, 800, &checkerboard(4), &t);
        assert!(!sharp.blurry, "{sharp:?}");
        let flat = assess(
            1000,
            800,
            &GrayImage::from_pixel(256, 256, image::Luma([128])),
            &t,
        );
        assert!(flat.blurry && flat.sharpness == 0.0, "{flat:?}");
        assert!(!flat.underexposed && !flat.overexposed);
    }

    #[test]
    fn exposure_and_size_flags() {
        let t = QualityThresholds::default();
        let dark = assess(
            1000,
            800,
            &GrayImage::from_pixel(64, 64, image::Luma([5])),
            &t,
        );
        assert!(dark.underexposed && !dark.overexposed && dark.dark_fraction == 1.0);
        let bright = assess(
            1000,
            800,
            &GrayImage::from_pixel(64, 64, image::Luma([250])),
            &t,
        );
        assert!(bright.overexposed && !bright.underexposed);
        let small = assess(200, 800, &checkerboard(4), &t);
        assert!(small.too_small);
    }

    #[test]
    fn incoherent_thresholds_are_refused() {
        let t = QualityThresholds {
            dark_mean: 210.0,
            ..QualityThresholds::default()
        };
        assert!(t.validate().is_err());
        assert!(QualityThresholds::default().validate().is_ok());
    }
}
