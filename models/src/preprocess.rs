//! Image -> input tensor, exactly as a model's manifest entry describes:
//! resize (Pillow-exact, [`crate::resample`]), centre crop, optional JPEG
//! round-trip, per-channel normalisation, channel order and layout.
//!
//! Conventions (the Python reference follows the same ones):
//! - `short_side`: the short side becomes `size`, the long side
//!   `floor(size * long / short)` (torchvision's `Resize(int)`).
//! - the crop's offset is `floor((side - crop) / 2)` on each axis.
//! - bicubic is Catmull-Rom (a = -0.5), as Pillow's BICUBIC; bilinear is the
//!   triangle filter, as Pillow's BILINEAR; both widen their support when
//!   downscaling (antialiasing), like Pillow.

use image::RgbImage;
use ndarray::{Array3, Array4};

use crate::error::ModelError;
use crate::manifest::{ChannelOrder, ImagePreprocess, ResizeFilter, ResizeMode, TensorLayout};
use crate::resample::{Filter, resize_rgb};

/// Builds the input tensor of one image, without the batch axis.
pub fn image_tensor(
    model: &str,
    spec: &ImagePreprocess,
    image: &RgbImage,
) -> Result<Array3<f32>, ModelError> {
    let invalid = |message: String| ModelError::InvalidInput {
        model: model.to_owned(),
        message,
    };
    let side = spec.crop as usize;
    let mut tensor = match spec.layout {
        TensorLayout::Nchw => Array3::zeros((3, side, side)),
        TensorLayout::Nhwc => Array3::zeros((side, side, 3)),
    };
    let resized = resize(spec, image).map_err(invalid)?;
    let (width, height) = (resized.width, resized.height);
    match spec.jpeg_roundtrip {
        None => write_crop(spec, &resized.pixels, width, height, tensor.view_mut()),
        Some(quality) => {
            let cropped = crop(&resized.pixels, width, height, side).map_err(invalid)?;
            let decoded = jpeg_roundtrip(&cropped, side, quality).map_err(invalid)?;
            write_crop(spec, &decoded, side, side, tensor.view_mut())
        }
    }
    .map_err(invalid)?;
    Ok(tensor)
}

/// Stacks per-image tensors of one shape into a batch.
pub fn stack(model: &str, tensors: &[Array3<f32>]) -> Result<Array4<f32>, ModelError> {
    let views: Vec<_> = tensors.iter().map(|t| t.view()).collect();
    ndarray::stack(ndarray::Axis(0), &views).map_err(|e| ModelError::InvalidInput {
        model: model.to_owned(),
        message: format!("inputs of different shapes in one batch: {e}"),
    })
}

/// The size an image of `width` x `height` is resized to before cropping.
pub fn resized_size(spec: &ImagePreprocess, width: u32, height: u32) -> (u32, u32) {
    match spec.resize {
        ResizeMode::Exact => (spec.size, spec.size),
        ResizeMode::ShortSide => {
            let scaled = |long: u32, short: u32| {
                (u64::from(spec.size) * u64::from(long) / u64::from(short)) as u32
            };
            if width <= height {
                (spec.size, scaled(height, width).max(spec.size))
            } else {
                (scaled(width, height).max(spec.size), spec.size)
            }
        }
    }
}

fn resize(spec: &ImagePreprocess, image: &RgbImage) -> Result<Resized, String> {
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 {
        return Err(format!("the image is empty ({width}x{height})"));
    }
    let (target_width, target_height) = resized_size(spec, width, height);
    let filter = match spec.filter {
        ResizeFilter::Bilinear => Filter::Bilinear,
        ResizeFilter::Bicubic => Filter::Bicubic,
        ResizeFilter::Lanczos3 => Filter::Lanczos3,
    };
    let (width, height) = (width as usize, height as usize);
    let (target_width, target_height) = (target_width as usize, target_height as usize);
    Ok(Resized {
        pixels: resize_rgb(
            image.as_raw(),
            (width, height),
            (target_width, target_height),
            filter,
        ),
        width: target_width,
        height: target_height,
    })
}

/// An image after the resize, before the crop.
struct Resized {
    pixels: Vec<u8>,
    width: usize,
    height: usize,
}

/// The centre `side` x `side` square of packed RGB pixels.
fn crop(pixels: &[u8], width: usize, height: usize, side: usize) -> Result<Vec<u8>, String> {
    if width < side || height < side {
        return Err(format!(
            "resized image {width}x{height} is smaller than the {side}px crop"
        ));
    }
    let (left, top) = ((width - side) / 2, (height - side) / 2);
    let mut out = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        out.extend_from_slice(&pixels[((top + y) * width + left) * 3..][..side * 3]);
    }
    Ok(out)
}

/// Encodes square RGB pixels as a baseline 4:2:0 JPEG of `quality` with
/// libjpeg-turbo's default (accurate) DCT and decodes them again, as Pillow
/// does with `save(format="JPEG")` and `open`.
fn jpeg_roundtrip(pixels: &[u8], side: usize, quality: u8) -> Result<Vec<u8>, String> {
    let failed = |e: turbojpeg::Error| format!("JPEG round-trip failed: {e}");
    let image = turbojpeg::Image {
        pixels,
        width: side,
        pitch: side * 3,
        height: side,
        format: turbojpeg::PixelFormat::RGB,
    };
    let mut compressor = turbojpeg::Compressor::new().map_err(failed)?;
    compressor.set_quality(i32::from(quality)).map_err(failed)?;
    compressor
        .set_subsamp(turbojpeg::Subsamp::Sub2x2)
        .map_err(failed)?;
    let jpeg = compressor.compress_to_vec(image).map_err(failed)?;
    let mut decompressor = turbojpeg::Decompressor::new().map_err(failed)?;
    let header = decompressor.read_header(&jpeg).map_err(failed)?;
    if (header.width, header.height) != (side, side) {
        return Err(format!(
            "JPEG round-trip changed the size to {}x{}",
            header.width, header.height
        ));
    }
    let mut decoded = vec![0_u8; side * side * 3];
    let output = turbojpeg::Image {
        pixels: decoded.as_mut_slice(),
        width: side,
        pitch: side * 3,
        height: side,
        format: turbojpeg::PixelFormat::RGB,
    };
    decompressor.decompress(&jpeg, output).map_err(failed)?;
    Ok(decoded)
}

fn write_crop(
    spec: &ImagePreprocess,
    pixels: &[u8],
    width: usize,
    height: usize,
    mut out: ndarray::ArrayViewMut3<'_, f32>,
) -> Result<(), String> {
    let side = spec.crop as usize;
    if width < side || height < side {
        return Err(format!(
            "resized image {width}x{height} is smaller than the {side}px crop"
        ));
    }
    let (left, top) = ((width - side) / 2, (height - side) / 2);
    // Tensor channel c reads source channel `source_channel[c]`.
    let source_channel = match spec.channels {
        ChannelOrder::Rgb => [0, 1, 2],
        ChannelOrder::Bgr => [2, 1, 0],
    };
    let scale = spec.std.map(|s| 1.0 / s);
    for y in 0..side {
        let row = &pixels[((top + y) * width + left) * 3..][..side * 3];
        for (x, pixel) in row.chunks_exact(3).enumerate() {
            for c in 0..3 {
                let value = (f32::from(pixel[source_channel[c]]) - spec.mean[c]) * scale[c];
                match spec.layout {
                    TensorLayout::Nchw => out[(c, y, x)] = value,
                    TensorLayout::Nhwc => out[(y, x, c)] = value,
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the input tensor of model `model` (its manifest key, for errors)
    /// for a batch of images.
    fn image_batch(
        model: &str,
        spec: &ImagePreprocess,
        images: &[&RgbImage],
    ) -> Result<Array4<f32>, ModelError> {
        let tensors = images
            .iter()
            .map(|image| image_tensor(model, spec, image))
            .collect::<Result<Vec<_>, _>>()?;
        stack(model, &tensors)
    }

    fn spec(layout: TensorLayout, channels: ChannelOrder) -> ImagePreprocess {
        ImagePreprocess {
            resize: ResizeMode::ShortSide,
            size: 8,
            filter: ResizeFilter::Bicubic,
            crop: 4,
            channels,
            layout,
            mean: [10.0, 20.0, 30.0],
            std: [2.0, 4.0, 5.0],
            jpeg_roundtrip: None,
        }
    }

    #[test]
    fn short_side_keeps_aspect_ratio() {
        let s = spec(TensorLayout::Nchw, ChannelOrder::Rgb);
        assert_eq!(resized_size(&s, 16, 32), (8, 16));
        assert_eq!(resized_size(&s, 451, 300), (12, 8));
        assert_eq!(resized_size(&s, 8, 8), (8, 8));
    }

    #[test]
    fn constant_image_normalises_per_channel_in_both_layouts() {
        let image = RgbImage::from_pixel(20, 10, image::Rgb([110, 120, 130]));
        let nchw =
            image_batch("m", &spec(TensorLayout::Nchw, ChannelOrder::Rgb), &[&image]).unwrap();
        assert_eq!(nchw.shape(), &[1, 3, 4, 4]);
        assert!(
            nchw.index_axis(ndarray::Axis(1), 0)
                .iter()
                .all(|v| (v - 50.0).abs() < 1e-4)
        );
        assert!(
            nchw.index_axis(ndarray::Axis(1), 1)
                .iter()
                .all(|v| (v - 25.0).abs() < 1e-4)
        );
        assert!(
            nchw.index_axis(ndarray::Axis(1), 2)
                .iter()
                .all(|v| (v - 20.0).abs() < 1e-4)
        );

        let nhwc = image_batch(
            "m",
            &spec(TensorLayout::Nhwc, ChannelOrder::Bgr),
            &[&image, &image],
        )
        .unwrap();
        assert_eq!(nhwc.shape(), &[2, 4, 4, 3]);
        // BGR: tensor channel 0 is blue (130), channel 2 red (110), each
        // normalised with the mean/std of its tensor channel.
        assert!((nhwc[(1, 2, 3, 0)] - 60.0).abs() < 1e-4);
        assert!((nhwc[(1, 2, 3, 2)] - 16.0).abs() < 1e-4);
    }

    #[test]
    fn crop_is_centred() {
        // A 4x8 image already at target size: left half black, right white;
        // the 4x4 centre crop spans columns 2..6.
        let mut s = spec(TensorLayout::Nchw, ChannelOrder::Rgb);
        s.size = 4;
        s.mean = [0.0; 3];
        s.std = [1.0; 3];
        let image = RgbImage::from_fn(8, 4, |x, _| image::Rgb([if x < 4 { 0 } else { 255 }; 3]));
        let tensor = image_batch("m", &s, &[&image]).unwrap();
        let row: Vec<f32> = (0..4).map(|x| tensor[(0, 0, 0, x)]).collect();
        assert_eq!(row, vec![0.0, 0.0, 255.0, 255.0]);
    }

    #[test]
    fn empty_image_is_an_error() {
        let image = RgbImage::new(0, 5);
        let error = image_batch("m", &spec(TensorLayout::Nchw, ChannelOrder::Rgb), &[&image]);
        let error = error.unwrap_err();
        assert_eq!(error.code(), "model.invalid_input");
        assert!(error.to_string().contains("empty"), "{error}");
    }
}

#[cfg(test)]
mod roundtrip_tests {
    use super::*;

    #[test]
    fn jpeg_roundtrip_is_lossy_but_close() {
        let pixels: Vec<u8> = (0..16 * 16 * 3).map(|i| (i * 7 % 256) as u8).collect();
        let decoded = jpeg_roundtrip(&pixels, 16, 75).unwrap();
        assert_eq!(decoded.len(), pixels.len());
        assert_ne!(decoded, pixels);
        let flat: Vec<u8> = vec![90; 16 * 16 * 3];
        let decoded = jpeg_roundtrip(&flat, 16, 75).unwrap();
        assert!(decoded.iter().all(|&v| v.abs_diff(90) <= 1));
    }
}
