//! Image -> input tensor, exactly as a model's manifest entry describes:
//! resize (SIMD, `fast_image_resize`), centre crop, per-channel normalisation,
//! channel order and layout.
//!
//! Conventions (the Python reference follows the same ones):
//! - `short_side`: the short side becomes `size`, the long side
//!   `floor(size * long / short)` (torchvision's `Resize(int)`).
//! - the crop's offset is `floor((side - crop) / 2)` on each axis.
//! - bicubic is Catmull-Rom (a = -0.5), as Pillow's BICUBIC; bilinear is the
//!   triangle filter, as Pillow's BILINEAR; both widen their support when
//!   downscaling (antialiasing), like Pillow.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;
use ndarray::Array4;

use crate::error::ModelError;
use crate::manifest::{ChannelOrder, ImagePreprocess, ResizeFilter, ResizeMode, TensorLayout};

/// Builds the input tensor of model `model` (its manifest key, for errors)
/// for a batch of images.
pub fn image_batch(
    model: &str,
    spec: &ImagePreprocess,
    images: &[&RgbImage],
) -> Result<Array4<f32>, ModelError> {
    let invalid = |message: String| ModelError::InvalidInput {
        model: model.to_owned(),
        message,
    };
    let side = spec.crop as usize;
    let mut tensor = match spec.layout {
        TensorLayout::Nchw => Array4::zeros((images.len(), 3, side, side)),
        TensorLayout::Nhwc => Array4::zeros((images.len(), side, side, 3)),
    };
    let mut resizer = Resizer::new();
    for (n, image) in images.iter().enumerate() {
        let resized = resize(&mut resizer, spec, image).map_err(invalid)?;
        write_crop(spec, &resized, tensor.index_axis_mut(ndarray::Axis(0), n)).map_err(invalid)?;
    }
    Ok(tensor)
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

fn resize(
    resizer: &mut Resizer,
    spec: &ImagePreprocess,
    image: &RgbImage,
) -> Result<Image<'static>, String> {
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 {
        return Err(format!("the image is empty ({width}x{height})"));
    }
    let source = ImageRef::new(width, height, image.as_raw(), PixelType::U8x3)
        .map_err(|e| format!("resize failed: {e}"))?;
    let (target_width, target_height) = resized_size(spec, width, height);
    let mut target = Image::new(target_width, target_height, PixelType::U8x3);
    let filter = match spec.filter {
        ResizeFilter::Bilinear => FilterType::Bilinear,
        ResizeFilter::Bicubic => FilterType::CatmullRom,
        ResizeFilter::Lanczos3 => FilterType::Lanczos3,
    };
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
    resizer
        .resize(&source, &mut target, &options)
        .map_err(|e| format!("resize failed: {e}"))?;
    Ok(target)
}

fn write_crop(
    spec: &ImagePreprocess,
    resized: &Image<'_>,
    mut out: ndarray::ArrayViewMut3<'_, f32>,
) -> Result<(), String> {
    let side = spec.crop as usize;
    let (width, height) = (resized.width() as usize, resized.height() as usize);
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
    let pixels = resized.buffer();
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
