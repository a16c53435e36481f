//! Bounded decoding of untrusted image bytes.
//!
//! The format is sniffed from the content (never from a file name or a
//! declared MIME type). Limits are checked before decoding (byte size,
//! declared dimensions and pixel count from the header), and enforced during
//! it (the decoder's allocation limit, the frame limit of animations), so a
//! small file declaring a huge image is refused before any pixel buffer is
//! allocated. The result is upright: EXIF orientation is applied.
//!
//! Animated GIF, WebP and PNG (APNG): the first frame is the image; the other
//! frames are counted up to `max_frames` (more is refused).
//!
//! An embedded ICC profile is applied here ([`crate::color`]): the pixels
//! that leave this module are sRGB.
//!
//! JPEG, PNG, WebP, GIF, TIFF and BMP are decoded by `image` (JPEG
//! shrink-on-load by libjpeg-turbo, `jpeg`); AVIF and HEIC by libheif
//! (`heif`). docs/IMAGE_FORMATS.md lists what each supports and why.

use std::io::{Cursor, ErrorKind};

use crate::color::to_srgb;
use crate::error::PipelineError;
use crate::metadata::{ImageMetadata, parse_exif};
use image::codecs::gif::GifDecoder;
use image::codecs::jpeg::JpegDecoder;
use image::codecs::png::PngDecoder;
use image::codecs::tiff::TiffDecoder;
use image::codecs::webp::WebPDecoder;
use image::error::{ImageError, LimitErrorKind};
use image::metadata::Orientation;
use image::{
    AnimationDecoder, DynamicImage, ExtendedColorType, Frames, ImageDecoder, ImageFormat, Limits,
};
use serde::{Deserialize, Serialize};

/// Limits on untrusted input. The defaults fit phone photos and scans while
/// refusing decompression bombs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeLimits {
    /// Largest accepted input, in bytes.
    pub max_input_bytes: u64,
    /// Widest accepted image, in pixels.
    pub max_width: u32,
    /// Tallest accepted image, in pixels.
    pub max_height: u32,
    /// Most pixels (width x height) accepted.
    pub max_pixels: u64,
    /// Most memory the decoder may allocate, in bytes.
    pub max_decoder_bytes: u64,
    /// Most frames an animation may have.
    pub max_frames: u32,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_input_bytes: 64 * 1024 * 1024,
            max_width: 20_000,
            max_height: 20_000,
            max_pixels: 100_000_000,
            max_decoder_bytes: 1024 * 1024 * 1024,
            max_frames: 1_000,
        }
    }
}

impl DecodeLimits {
    /// Checks the limits are usable (all positive).
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_input_bytes", self.max_input_bytes),
            ("max_width", u64::from(self.max_width)),
            ("max_height", u64::from(self.max_height)),
            ("max_pixels", self.max_pixels),
            ("max_decoder_bytes", self.max_decoder_bytes),
            ("max_frames", u64::from(self.max_frames)),
        ];
        match positive.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(format!("{name} must be positive")),
            None => Ok(()),
        }
    }

    fn decoder_limits(&self) -> Limits {
        let mut limits = Limits::default();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        limits.max_alloc = Some(self.max_decoder_bytes);
        limits
    }
}

/// A decoded, upright image and its metadata.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// The pixels, upright, sRGB (an embedded ICC profile applied when
    /// usable), in the decoder's native colour type.
    pub image: DynamicImage,
    /// What the image says about itself.
    pub metadata: ImageMetadata,
}

/// What the header told before the pixels were decoded.
struct Header {
    width: u32,
    height: u32,
    color_type: ExtendedColorType,
    /// Bits per channel as stored when the colour type cannot say (10- and
    /// 12-bit HEIF decoded to 16 bits).
    stored_bits: Option<u8>,
    icc_profile: Option<Vec<u8>>,
    orientation: Orientation,
    exif: Option<Vec<u8>>,
}

/// How small a decode may be: the decoded image must keep a long side of at
/// least `min_long_side` and a short side of at least `min_short_side` (or
/// the original size, when smaller). JPEGs are then decoded at 1/2, 1/4 or
/// 1/8 scale (libjpeg-turbo's DCT scaling) when that still satisfies both:
/// a 24 MP photo feeding 1280 px previews is decoded at a quarter of the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShrinkHint {
    /// Smallest acceptable long side.
    pub min_long_side: u32,
    /// Smallest acceptable short side.
    pub min_short_side: u32,
}

/// Decodes `bytes` within `limits` at full size.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, PipelineError> {
    decode_with_hint(bytes, limits, None)
}

/// Decodes `bytes` within `limits`, shrinking on load as far as `hint`
/// allows. `metadata` always describes the original (upright) image.
///
/// This is a panic boundary: decoders are third-party code fed hostile
/// input, and some panic on files they cannot handle (the Pillow corpus has
/// tiled planar TIFFs that do). Such a panic becomes
/// [`PipelineError::DecoderPanic`], never a dead worker.
pub fn decode_with_hint(
    bytes: &[u8],
    limits: &DecodeLimits,
    hint: Option<ShrinkHint>,
) -> Result<DecodedImage, PipelineError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_unguarded(bytes, limits, hint)
    })) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            Err(PipelineError::DecoderPanic(message))
        }
    }
}

fn decode_unguarded(
    bytes: &[u8],
    limits: &DecodeLimits,
    hint: Option<ShrinkHint>,
) -> Result<DecodedImage, PipelineError> {
    if bytes.is_empty() {
        return Err(PipelineError::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_input_bytes {
        return Err(PipelineError::TooManyBytes {
            size,
            limit: limits.max_input_bytes,
        });
    }
    if let Some(kind) = heif::sniff(bytes) {
        let (image, header) = heif::decode(bytes, limits, kind)?;
        return Ok(finish(image, header, 1, kind.name()));
    }
    let format = image::guess_format(bytes).map_err(|_| PipelineError::UnsupportedFormat(None))?;
    let fail = |error| classify(error, format);
    if format == ImageFormat::Jpeg && !jpeg::is_complete(bytes) {
        // The JPEG decoder fills missing scan data with grey and succeeds: a
        // truncated upload would pass as a half-grey image.
        return Err(PipelineError::Truncated(
            "the JPEG has no end-of-image marker after its last scan".into(),
        ));
    }
    let (image, header, frame_count) = match format {
        ImageFormat::Gif => {
            let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            let header = inspect_header(&mut decoder, limits, format)?;
            let (image, frames) = first_frame(decoder.into_frames(), limits, format)?;
            (image, header, frames)
        }
        ImageFormat::WebP => {
            let mut decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            let header = inspect_header(&mut decoder, limits, format)?;
            if decoder.has_animation() {
                let (image, frames) = first_frame(decoder.into_frames(), limits, format)?;
                (image, header, frames)
            } else {
                (still(decoder, format)?, header, 1)
            }
        }
        ImageFormat::Png => {
            let mut decoder = PngDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            let header = inspect_header(&mut decoder, limits, format)?;
            if decoder.is_apng().map_err(fail)? {
                let frames = decoder.apng().map_err(fail)?.into_frames();
                let (image, count) = first_frame(frames, limits, format)?;
                (image, header, count)
            } else {
                (still(decoder, format)?, header, 1)
            }
        }
        ImageFormat::Jpeg => {
            let mut decoder = JpegDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            let mut header = inspect_header(&mut decoder, limits, format)?;
            // The decoder converts CMYK (and YCCK) to RGB and reports what it
            // outputs; the frame header tells what is stored.
            if jpeg::frame_components(bytes) == Some(4) {
                header.color_type = ExtendedColorType::Cmyk8;
            }
            let scaled = hint
                .and_then(|hint| jpeg::shrink_factor(header.width, header.height, hint))
                .filter(|_| {
                    matches!(
                        header.color_type,
                        ExtendedColorType::Rgb8 | ExtendedColorType::L8
                    )
                });
            let image = match scaled {
                Some(factor) => jpeg::decode_scaled(bytes, factor, header.color_type)?,
                None => still(decoder, format)?,
            };
            (image, header, 1)
        }
        ImageFormat::Tiff => {
            let mut decoder = TiffDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            let header = inspect_header(&mut decoder, limits, format)?;
            (still(decoder, format)?, header, 1)
        }
        _ => {
            let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
            reader.limits(limits.decoder_limits());
            let mut decoder = reader.into_decoder().map_err(fail)?;
            let header = inspect_header(&mut decoder, limits, format)?;
            (still(decoder, format)?, header, 1)
        }
    };
    Ok(finish(image, header, frame_count, format_name(format)))
}

/// The decoded pixels made upright and sRGB, with their metadata.
fn finish(image: DynamicImage, header: Header, frame_count: u32, format: &str) -> DecodedImage {
    let (mut image, icc) = to_srgb(image, header.icc_profile.as_deref());
    image.apply_orientation(header.orientation);
    let (width, height) = match header.orientation.to_exif() {
        5..=8 => (header.height, header.width),
        _ => (header.width, header.height),
    };
    let (exif, exif_error) = match header.exif.map(parse_exif) {
        None => (None, None),
        Some(Ok(fields)) => (Some(fields), None),
        Some(Err(error)) => (None, Some(error)),
    };
    let (color_type, bit_depth) = describe_color(header.color_type, header.stored_bits);
    let metadata = ImageMetadata {
        format: format.to_owned(),
        width,
        height,
        color_type,
        bit_depth,
        icc,
        frame_count,
        orientation: header.orientation.to_exif(),
        exif,
        exif_error,
    };
    DecodedImage { image, metadata }
}

fn inspect_header<D: ImageDecoder>(
    decoder: &mut D,
    limits: &DecodeLimits,
    format: ImageFormat,
) -> Result<Header, PipelineError> {
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    // Metadata problems never reject an image whose pixels decode. Read
    // before the limits are set: the TIFF decoder then caps tag values by
    // the pixel buffer size and loses the ICC profile of small images.
    let header = Header {
        width,
        height,
        color_type: decoder.original_color_type(),
        stored_bits: None,
        icc_profile: decoder.icc_profile().ok().flatten(),
        exif: decoder.exif_metadata().ok().flatten(),
        orientation: decoder.orientation().unwrap_or(Orientation::NoTransforms),
    };
    decoder
        .set_limits(limits.decoder_limits())
        .map_err(|e| classify(e, format))?;
    Ok(header)
}

fn still<D: ImageDecoder>(decoder: D, format: ImageFormat) -> Result<DynamicImage, PipelineError> {
    DynamicImage::from_decoder(decoder).map_err(|e| classify(e, format))
}

/// The first frame as the image, and the number of frames (bounded).
fn first_frame(
    mut frames: Frames<'_>,
    limits: &DecodeLimits,
    format: ImageFormat,
) -> Result<(DynamicImage, u32), PipelineError> {
    let first = match frames.next() {
        Some(frame) => frame.map_err(|e| classify(e, format))?,
        None => return Err(PipelineError::Corrupt("the animation has no frame".into())),
    };
    let mut count: u32 = 1;
    for frame in frames {
        frame.map_err(|e| classify(e, format))?;
        count += 1;
        if count > limits.max_frames {
            return Err(PipelineError::TooManyFrames {
                limit: limits.max_frames,
            });
        }
    }
    Ok((DynamicImage::ImageRgba8(first.into_buffer()), count))
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), PipelineError> {
    let too_large = |limit: String| {
        Err(PipelineError::TooManyPixels {
            width,
            height,
            limit,
        })
    };
    if width == 0 || height == 0 {
        return Err(PipelineError::Corrupt(format!(
            "declared size {width}x{height}"
        )));
    }
    if width > limits.max_width {
        return too_large(format!("max width {}", limits.max_width));
    }
    if height > limits.max_height {
        return too_large(format!("max height {}", limits.max_height));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return too_large(format!("max {} pixels", limits.max_pixels));
    }
    Ok(())
}

/// Stable lower-case format names.
pub fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
        ImageFormat::WebP => "webp",
        ImageFormat::Gif => "gif",
        ImageFormat::Tiff => "tiff",
        ImageFormat::Bmp => "bmp",
        ImageFormat::Avif => "avif",
        _ => "other",
    }
}

/// `rgb8`, `rgba16`, `l8`, `cmyk8`, ... and the bits per channel; with
/// `stored_bits`, the name and depth say those (`rgb10` for 10-bit HEIF).
fn describe_color(color: ExtendedColorType, stored_bits: Option<u8>) -> (String, u8) {
    let channels = u16::from(color.channel_count()).max(1);
    let depth = (color.bits_per_pixel() / channels) as u8;
    let name = format!("{color:?}").to_ascii_lowercase();
    match stored_bits {
        Some(bits) if bits != depth => {
            let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
            (format!("{stem}{bits}"), bits)
        }
        _ => (name, depth),
    }
}

fn classify(error: ImageError, format: ImageFormat) -> PipelineError {
    match error {
        ImageError::Limits(limit) => match limit.kind() {
            LimitErrorKind::DimensionError => PipelineError::TooManyPixels {
                width: 0,
                height: 0,
                limit: "decoder dimension limit".into(),
            },
            _ => PipelineError::MemoryLimit(limit.to_string()),
        },
        ImageError::Unsupported(unsupported) => PipelineError::UnsupportedFormat(Some(format!(
            "{}: {unsupported}",
            format_name(format)
        ))),
        ImageError::IoError(io) if io.kind() == ErrorKind::UnexpectedEof => {
            PipelineError::Truncated(io.to_string())
        }
        ImageError::Decoding(decoding) => {
            let message = decoding.to_string();
            if looks_truncated(&message) {
                PipelineError::Truncated(message)
            } else {
                PipelineError::Corrupt(message)
            }
        }
        other => PipelineError::Corrupt(other.to_string()),
    }
}

/// Decoders report a premature end in words only.
fn looks_truncated(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "eof",
        "end of file",
        "unexpected end",
        "truncated",
        "not enough data",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

mod heif;
mod jpeg;
#[cfg(test)]
mod tests;
