//! The detector's input: the image scaled so its long side is one of the
//! detector's scales, at the top left of a canvas of zeros only as large as
//! the graph needs (each side rounded up to a multiple of the largest
//! stride, as OpenCV's `FaceDetectorYN` pads), and the geometry that maps
//! the detector's coordinates back to the image.

use std::borrow::Cow;

use image::RgbImage;
use ndarray::{Array3, Axis};

use crate::manifest::{ChannelOrder, FaceDetectionPreprocess, ResizeFilter};
use crate::resample::{Filter, resize_rgb};

/// Where an image sits in the canvas and how to map back out of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Letterbox {
    /// The scaled image's width in the canvas (pixels from the left).
    pub content_width: u32,
    /// The scaled image's height in the canvas (pixels from the top).
    pub content_height: u32,
    /// The canvas's width: `content_width` rounded up to the multiple.
    pub canvas_width: u32,
    /// The canvas's height: `content_height` rounded up to the multiple.
    pub canvas_height: u32,
    /// Image pixels per canvas pixel, horizontally.
    pub x_factor: f32,
    /// Image pixels per canvas pixel, vertically.
    pub y_factor: f32,
}

impl Letterbox {
    /// The placement of a `width` x `height` image whose long side is
    /// scaled to `long_side`; each side rounds half up and is at least 1,
    /// and the canvas's sides are the next multiples of `multiple`. All
    /// sizes must be non-zero.
    pub fn new(width: u32, height: u32, long_side: u32, multiple: u32) -> Self {
        let long = u64::from(width.max(height));
        let scaled = |side: u32| {
            let side = (u64::from(side) * u64::from(long_side) + long / 2) / long;
            u32::try_from(side).unwrap_or(u32::MAX).max(1)
        };
        let (content_width, content_height) = (scaled(width), scaled(height));
        let multiple = multiple.max(1);
        let padded = |side: u32| side.div_ceil(multiple).saturating_mul(multiple);
        Self {
            content_width,
            content_height,
            canvas_width: padded(content_width),
            canvas_height: padded(content_height),
            x_factor: width as f32 / content_width as f32,
            y_factor: height as f32 / content_height as f32,
        }
    }

    /// Whether a canvas point lies on the image rather than on the padding.
    pub fn covers(&self, x: f32, y: f32) -> bool {
        (0.0..self.content_width as f32).contains(&x)
            && (0.0..self.content_height as f32).contains(&y)
    }

    /// A canvas point in image pixels.
    pub fn to_image(self, [x, y]: [f32; 2]) -> [f32; 2] {
        [x * self.x_factor, y * self.y_factor]
    }
}

/// The inputs of `image` at each of `scales` (each capped at `spec.size`),
/// largest first, with their placements: `[3, canvas height, canvas width]`
/// tensors. Lazy, so a caller can run one scale while the next is prepared.
///
/// Scaling a photo down costs more than running the graph on the result
/// (1600x1200 to 512x384 with the bilinear filter alone: about 8 ms), so
/// each scale starts from the fewest pixels it can: the largest scale from
/// the image, each smaller one from the scale before it; and a source at
/// least twice the scale's long side is first box-averaged by that whole
/// factor ([`reduce`], Pillow's `Image.reduce`) before the filter makes up
/// the rest. (A partial last block stretches the reduced image by less than
/// one block: points near the right or bottom edge map back at most
/// `factor - 1` image pixels off, 0.1 % of a 1600 px side at factor 3.)
/// The image must not be empty.
pub(crate) fn inputs<'a>(
    spec: &'a FaceDetectionPreprocess,
    image: &'a RgbImage,
    scales: &[u32],
) -> impl Iterator<Item = (Array3<f32>, Letterbox)> + 'a {
    let mut sides: Vec<u32> = scales.iter().map(|s| (*s).min(spec.size)).collect();
    sides.sort_unstable_by(|a, b| b.cmp(a));
    sides.dedup();
    let multiple = spec.strides.iter().copied().max().unwrap_or(1);
    let filter = match spec.filter {
        ResizeFilter::Bilinear => Filter::Bilinear,
        ResizeFilter::Bicubic => Filter::Bicubic,
        ResizeFilter::Lanczos3 => Filter::Lanczos3,
    };
    let (width, height) = image.dimensions();
    // The pixels the next scale is resized from, and their size.
    let mut source: (Cow<'a, [u8]>, usize, usize) = (
        Cow::Borrowed(image.as_raw()),
        width as usize,
        height as usize,
    );
    sides.into_iter().map(move |side| {
        let placement = Letterbox::new(width, height, side, multiple);
        let size = (
            placement.content_width as usize,
            placement.content_height as usize,
        );
        let factor = source.1.max(source.2) / side.max(1) as usize;
        if factor >= 2 {
            let (pixels, w, h) = reduce(&source.0, (source.1, source.2), factor);
            source = (Cow::Owned(pixels), w, h);
        }
        if size != (source.1, source.2) {
            let pixels = resize_rgb(&source.0, (source.1, source.2), size, filter);
            source = (Cow::Owned(pixels), size.0, size.1);
        }
        (tensor(&source.0, &placement, spec.channels), placement)
    })
}

/// Packed RGB `pixels` (`width` x `height`) shrunk by a whole `factor`, as
/// Pillow's `Image.reduce(factor)` does, byte for byte: each output pixel is
/// the mean of a `factor` x `factor` block (of what is left of one at the
/// right and bottom edges), rounded in Pillow's fixed point: `(sum + n / 2)
/// * m >> 24` with `m = (2^32 / (256 n))` computed in `f32` and truncated.
/// Returns the pixels and their size, `ceil(width / factor)` x
/// `ceil(height / factor)`. `factor` must be positive.
fn reduce(
    pixels: &[u8],
    (width, height): (usize, usize),
    factor: usize,
) -> (Vec<u8>, usize, usize) {
    let (out_width, out_height) = (width.div_ceil(factor), height.div_ceil(factor));
    let mut out = vec![0_u8; out_width * out_height * 3];
    // Pillow's division_UINT32(count, 8): float division, truncated.
    let multiplier = |count: u64| (4_294_967_296.0_f32 / (256 * count) as f32) as u64;
    // Per band of `factor` rows: each byte column summed down the band
    // (a plain, vectorisable add), then each block's columns summed.
    let mut columns = vec![0_u32; width * 3];
    for (band, out_row) in pixels
        .chunks(width * 3 * factor)
        .zip(out.chunks_exact_mut(out_width * 3))
    {
        columns.fill(0);
        let rows = band.len() / (width * 3);
        for row in band.chunks_exact(width * 3) {
            for (sum, value) in columns.iter_mut().zip(row) {
                *sum += u32::from(*value);
            }
        }
        let full = (rows * factor) as u64;
        let full_multiplier = multiplier(full);
        for (block, pixel) in columns.chunks(factor * 3).zip(out_row.chunks_exact_mut(3)) {
            let mut sum = [0_u64; 3];
            for column in block.chunks_exact(3) {
                sum[0] += u64::from(column[0]);
                sum[1] += u64::from(column[1]);
                sum[2] += u64::from(column[2]);
            }
            let (count, multiplier) = if block.len() == factor * 3 {
                (full, full_multiplier)
            } else {
                let count = (rows * block.len() / 3) as u64;
                (count, multiplier(count))
            };
            for (value, s) in pixel.iter_mut().zip(sum) {
                // The product stays below 2^32 (Pillow's UINT32 never wraps).
                *value = (((s + count / 2) * multiplier) >> 24) as u8;
            }
        }
    }
    (out, out_width, out_height)
}

/// The `[3, canvas height, canvas width]` tensor of packed RGB `pixels` of
/// the placement's content size, zeros elsewhere.
fn tensor(pixels: &[u8], placement: &Letterbox, channels: ChannelOrder) -> Array3<f32> {
    let (cw, ch) = (
        placement.canvas_width as usize,
        placement.canvas_height as usize,
    );
    let width = placement.content_width as usize;
    let mut tensor = Array3::<f32>::zeros((3, ch, cw));
    // Tensor plane of each RGB byte.
    let planes = match channels {
        ChannelOrder::Rgb => [0, 1, 2],
        ChannelOrder::Bgr => [2, 1, 0],
    };
    for (channel, plane) in planes.into_iter().enumerate() {
        let mut plane = tensor.index_axis_mut(Axis(0), plane);
        for (row, pixels) in plane
            .rows_mut()
            .into_iter()
            .zip(pixels.chunks_exact(width * 3))
        {
            for (value, pixel) in row.into_iter().zip(pixels.chunks_exact(3)) {
                *value = f32::from(pixel[channel]);
            }
        }
    }
    tensor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FaceDetectionPreprocess {
        FaceDetectionPreprocess {
            size: 640,
            filter: ResizeFilter::Bilinear,
            channels: ChannelOrder::Bgr,
            strides: vec![8, 16, 32],
        }
    }

    #[test]
    fn the_long_side_takes_the_scale_and_the_short_side_rounds_half_up() {
        let wide = Letterbox::new(1200, 800, 640, 32);
        assert_eq!((wide.content_width, wide.content_height), (640, 427));
        assert!((wide.x_factor - 1200.0 / 640.0).abs() < 1e-6);
        assert!((wide.y_factor - 800.0 / 427.0).abs() < 1e-6);
        // 3 * 320 / 4 = 240 exactly; 5 * 320 / 1000 = 1.6 -> 2; 1 * 320 / 1000 = 0.32 -> 1.
        let tall = Letterbox::new(3, 4, 320, 32);
        assert_eq!((tall.content_width, tall.content_height), (240, 320));
        let half = Letterbox::new(1000, 5, 320, 32);
        assert_eq!((half.content_width, half.content_height), (320, 2));
        let thin = Letterbox::new(1000, 1, 320, 32);
        assert_eq!((thin.content_width, thin.content_height), (320, 1));
        // Small images are enlarged.
        let small = Letterbox::new(100, 50, 640, 32);
        assert_eq!((small.content_width, small.content_height), (640, 320));
        assert_eq!(small.to_image([64.0, 32.0]), [10.0, 5.0]);
    }

    #[test]
    fn the_canvas_rounds_each_side_up_to_the_multiple() {
        // 640 x 427 -> 640 x 448, not 640 x 640.
        let wide = Letterbox::new(1200, 800, 640, 32);
        assert_eq!((wide.canvas_width, wide.canvas_height), (640, 448));
        // 4:3 at 512: 512 x 384, already multiples of 32.
        let photo = Letterbox::new(4000, 3000, 512, 32);
        assert_eq!((photo.canvas_width, photo.canvas_height), (512, 384));
        let tall = Letterbox::new(3, 4, 320, 32);
        assert_eq!((tall.canvas_width, tall.canvas_height), (256, 320));
        let thin = Letterbox::new(1000, 1, 320, 32);
        assert_eq!((thin.canvas_width, thin.canvas_height), (320, 32));
        // A scale that is no multiple of the stride: 250 -> 256.
        let odd = Letterbox::new(500, 500, 250, 32);
        assert_eq!((odd.canvas_width, odd.canvas_height), (256, 256));
    }

    #[test]
    fn only_the_content_is_covered() {
        let placement = Letterbox::new(1200, 800, 640, 32);
        assert!(placement.covers(0.0, 0.0));
        assert!(placement.covers(639.9, 426.9));
        assert!(!placement.covers(100.0, 427.0));
        assert!(!placement.covers(-0.1, 10.0));
    }

    #[test]
    fn the_tensor_is_bgr_0_255_padded_with_zeros() {
        // 2x1 image at scale 2 (no resize): red, then white; canvas 8 x 8.
        let image = RgbImage::from_raw(2, 1, vec![255, 0, 0, 255, 255, 255]).unwrap();
        let spec = FaceDetectionPreprocess {
            strides: vec![4, 8],
            ..spec()
        };
        let (tensor, placement) = inputs(&spec, &image, &[2]).next().unwrap();
        assert_eq!(tensor.shape(), [3, 8, 8]);
        assert_eq!((placement.content_width, placement.content_height), (2, 1));
        // Blue plane first.
        assert_eq!(tensor[[0, 0, 0]], 0.0);
        assert_eq!(tensor[[2, 0, 0]], 255.0);
        assert_eq!(tensor[[0, 0, 1]], 255.0);
        assert_eq!(tensor.sum(), 255.0 * 4.0);
        let rgb = FaceDetectionPreprocess {
            channels: ChannelOrder::Rgb,
            ..spec
        };
        let (tensor, _) = inputs(&rgb, &image, &[2]).next().unwrap();
        assert_eq!((tensor[[0, 0, 0]], tensor[[2, 0, 0]]), (255.0, 0.0));
    }

    #[test]
    fn the_image_is_scaled_into_a_canvas_of_its_shape() {
        let image = RgbImage::from_pixel(100, 50, image::Rgb([10, 20, 30]));
        let spec = FaceDetectionPreprocess { size: 64, ..spec() };
        let (tensor, placement) = inputs(&spec, &image, &[64]).next().unwrap();
        assert_eq!(
            (placement.content_width, placement.content_height),
            (64, 32)
        );
        assert_eq!(tensor.shape(), [3, 32, 64]);
        assert_eq!(tensor[[0, 31, 63]], 30.0);
        assert_eq!(tensor[[2, 31, 63]], 10.0);
        // 100 x 50 at 40: 40 x 20 in a 64 x 32 canvas, zeros right and below.
        let (small, placement) = inputs(&spec, &image, &[40]).next().unwrap();
        assert_eq!(
            (placement.content_width, placement.content_height),
            (40, 20)
        );
        assert_eq!(small.shape(), [3, 32, 64]);
        assert_eq!(small[[0, 19, 39]], 30.0);
        assert_eq!(small[[0, 20, 0]], 0.0);
        assert_eq!(small[[0, 0, 40]], 0.0);
        // A scale above the model's largest is capped at it.
        let (_, capped) = inputs(&spec, &image, &[640]).next().unwrap();
        assert_eq!(capped, Letterbox::new(100, 50, 64, 32));
    }

    #[test]
    fn scales_come_largest_first_each_from_the_one_before() {
        // A horizontal ramp, so resizing from the image and from the larger
        // scale differ.
        let image = RgbImage::from_fn(300, 200, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let spec = spec();
        let all: Vec<_> = inputs(&spec, &image, &[64, 256, 128]).collect();
        let sides: Vec<u32> = all.iter().map(|(_, p)| p.content_width).collect();
        assert_eq!(sides, [256, 128, 64]);
        let raw = |w: usize, h: usize, (from, fw, fh): (&[u8], usize, usize)| {
            resize_rgb(from, (fw, fh), (w, h), Filter::Bilinear)
        };
        // 300 x 200 to 256: the filter alone.
        let at_256 = raw(256, 171, (image.as_raw(), 300, 200));
        // 256 x 171 to 128: reduced by 2 to 128 x 86, then filtered to 128 x 85.
        let (half, w, h) = reduce(&at_256, (256, 171), 2);
        assert_eq!((w, h), (128, 86));
        let at_128 = raw(128, 85, (&half, 128, 86));
        // 128 x 85 to 64: reduced by 2 to 64 x 43, which is the size.
        let (at_64, w, h) = reduce(&at_128, (128, 85), 2);
        assert_eq!((w, h), (64, 43));
        for ((tensor, placement), pixels) in all.iter().zip([&at_256, &at_128, &at_64]) {
            let width = placement.content_width as usize;
            for (i, pixel) in pixels.chunks_exact(3).enumerate() {
                let (y, x) = (i / width, i % width);
                // BGR planes.
                assert_eq!(tensor[[2, y, x]], f32::from(pixel[0]));
                assert_eq!(tensor[[1, y, x]], f32::from(pixel[1]));
            }
        }
    }

    #[test]
    fn reduce_is_pillows_byte_for_byte() {
        // 7x5, values from Pillow 13.0.0's Image.reduce on the same pixels.
        let pixels: Vec<u8> = (0..5_u32)
            .flat_map(|y| {
                (0..7_u32).flat_map(move |x| {
                    [
                        ((x * 37 + y * 11) % 256) as u8,
                        ((x * 5 + y * 91 + 3) % 256) as u8,
                        255 - ((x * x * 13 + y) % 256) as u8,
                    ]
                })
            })
            .collect();
        let two = [
            24, 51, 248, 98, 61, 170, 172, 71, 116, 228, 79, 43, 46, 105, 246, 120, 115, 168, 194,
            125, 114, 250, 133, 41, 63, 114, 245, 137, 124, 167, 211, 134, 113, 10, 141, 39,
        ];
        assert_eq!(reduce(&pixels, (7, 5), 2), (two.to_vec(), 4, 3));
        let three = [
            48, 99, 232, 159, 114, 123, 233, 124, 42, 75, 70, 230, 186, 85, 120, 133, 96, 40,
        ];
        assert_eq!(reduce(&pixels, (7, 5), 3), (three.to_vec(), 3, 2));
        let five = [96, 93, 175, 200, 110, 112];
        assert_eq!(reduce(&pixels, (7, 5), 5), (five.to_vec(), 2, 1));
        assert_eq!(reduce(&pixels, (7, 5), 1), (pixels.clone(), 7, 5));
    }
}
