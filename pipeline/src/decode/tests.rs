//! Decoder tests on images built in memory: each case states the bytes it
//! feeds and the exact outcome it expects.

use std::io::Cursor;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

use super::*;

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

fn png(width: u32, height: u32) -> Vec<u8> {
    encode(
        &RgbImage::from_pixel(width, height, Rgb([200, 10, 10])).into(),
        ImageFormat::Png,
    )
}

/// A minimal little-endian EXIF (TIFF) block with one Orientation entry.
fn exif_orientation_block(orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes()); // first IFD offset
    tiff.extend(1u16.to_le_bytes()); // one entry
    tiff.extend(0x0112u16.to_le_bytes()); // Orientation
    tiff.extend(3u16.to_le_bytes()); // SHORT
    tiff.extend(1u32.to_le_bytes()); // count
    tiff.extend(orientation.to_le_bytes());
    tiff.extend([0, 0]); // value padding
    tiff.extend(0u32.to_le_bytes()); // no next IFD
    tiff
}

/// `jpeg` with an APP1 EXIF segment inserted right after SOI.
fn with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let payload_len = u16::try_from(2 + 6 + tiff.len()).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(payload_len.to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(tiff);
    out.extend(&jpeg[2..]);
    out
}

/// Which quadrant of the image is red: (right half?, bottom half?).
fn red_quadrant(image: &DynamicImage) -> (bool, bool) {
    let rgb = image.to_rgb8();
    let (w, h) = rgb.dimensions();
    let centres = [
        (w / 4, h / 4),
        (3 * w / 4, h / 4),
        (w / 4, 3 * h / 4),
        (3 * w / 4, 3 * h / 4),
    ];
    let red: Vec<(bool, bool)> = centres
        .iter()
        .filter(|(x, y)| {
            let p = rgb.get_pixel(*x, *y);
            p[0] > 180 && p[2] < 80
        })
        .map(|(x, y)| (*x > w / 2, *y > h / 2))
        .collect();
    assert_eq!(red.len(), 1, "exactly one red quadrant expected");
    red[0]
}

#[test]
fn exif_orientations_1_to_8_give_an_upright_image() {
    // Stored: 64x32, red top-left quadrant, blue elsewhere.
    let stored = RgbImage::from_fn(64, 32, |x, y| {
        if x < 32 && y < 16 {
            Rgb([230, 20, 20])
        } else {
            Rgb([20, 20, 230])
        }
    });
    let jpeg = encode(&stored.into(), ImageFormat::Jpeg);
    // (orientation, upright size, red quadrant (right?, bottom?))
    let cases = [
        (1, (64, 32), (false, false)),
        (2, (64, 32), (true, false)),
        (3, (64, 32), (true, true)),
        (4, (64, 32), (false, true)),
        (5, (32, 64), (false, false)),
        (6, (32, 64), (true, false)),
        (7, (32, 64), (true, true)),
        (8, (32, 64), (false, true)),
    ];
    for (orientation, size, quadrant) in cases {
        let bytes = with_exif(&jpeg, &exif_orientation_block(orientation));
        let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.metadata.orientation, orientation as u8);
        assert_eq!(
            (decoded.image.width(), decoded.image.height()),
            size,
            "o={orientation}"
        );
        assert_eq!(
            (decoded.metadata.width, decoded.metadata.height),
            size,
            "metadata o={orientation}"
        );
        assert_eq!(
            red_quadrant(&decoded.image),
            quadrant,
            "orientation {orientation}"
        );
        assert!(decoded.metadata.exif.is_some());
    }
}

#[test]
fn decodes_a_png_and_reports_its_metadata() {
    let decoded = decode(&png(5, 3), &DecodeLimits::default()).unwrap();
    let m = &decoded.metadata;
    assert_eq!((m.format.as_str(), m.width, m.height), ("png", 5, 3));
    assert_eq!(
        (m.color_type.as_str(), m.bit_depth, m.frame_count),
        ("rgb8", 8, 1)
    );
    assert_eq!((m.orientation, m.icc.present), (1, false));
    assert!(m.exif.is_none());
}

#[test]
fn sixteen_bit_png_keeps_its_depth() {
    let image =
        image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(4, 4, image::Rgb([60000, 0, 1]));
    let bytes = encode(&DynamicImage::ImageRgb16(image), ImageFormat::Png);
    let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.metadata.bit_depth, 16);
    assert_eq!(decoded.metadata.color_type, "rgb16");
    assert!(matches!(decoded.image, DynamicImage::ImageRgb16(_)));
}

fn animated_gif(frames: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        for i in 0..frames {
            let shade = (i * 40 % 256) as u8;
            let image = RgbaImage::from_pixel(8, 6, Rgba([shade, 0, 255 - shade, 255]));
            encoder
                .encode_frame(Frame::from_parts(
                    image,
                    0,
                    0,
                    Delay::from_numer_denom_ms(100, 1),
                ))
                .unwrap();
        }
    }
    bytes
}

#[test]
fn animated_gif_gives_its_first_frame_and_frame_count() {
    let decoded = decode(&animated_gif(3), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.metadata.format, "gif");
    assert_eq!(decoded.metadata.frame_count, 3);
    assert_eq!((decoded.image.width(), decoded.image.height()), (8, 6));
    let first = decoded.image.to_rgba8();
    assert!(first.get_pixel(0, 0)[2] > 200, "first frame is blue");
}

#[test]
fn too_many_frames_are_refused() {
    let limits = DecodeLimits {
        max_frames: 2,
        ..DecodeLimits::default()
    };
    let error = decode(&animated_gif(3), &limits).unwrap_err();
    assert_eq!(error.code(), "image.too_many_frames");
}

/// A PNG whose header declares `width` x `height`, with a few bytes of
/// compressed data: the shape of a decompression bomb.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for byte in data {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    let chunk = |bytes: &mut Vec<u8>, kind_and_data: &[u8]| {
        bytes.extend((kind_and_data.len() as u32 - 4).to_be_bytes());
        bytes.extend(kind_and_data);
        bytes.extend(crc32(kind_and_data).to_be_bytes());
    };
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut bytes, &ihdr);
    chunk(&mut bytes, b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01");
    chunk(&mut bytes, b"IEND");
    bytes
}

#[test]
fn decompression_bomb_header_is_refused_before_decoding() {
    let error = decode(&png_header_only(100_000, 100_000), &DecodeLimits::default()).unwrap_err();
    assert_eq!(error.code(), "image.too_large");
    assert!(error.to_string().contains("100000x100000"), "{error}");
    // Within width/height limits but over the pixel budget.
    let error = decode(&png_header_only(15_000, 15_000), &DecodeLimits::default()).unwrap_err();
    assert_eq!(error.code(), "image.too_large");
}

#[test]
fn empty_and_unknown_inputs_have_codes() {
    assert_eq!(
        decode(b"", &DecodeLimits::default()).unwrap_err().code(),
        "image.empty"
    );
    let error = decode(b"hello, not an image", &DecodeLimits::default()).unwrap_err();
    assert_eq!(error.code(), "image.unsupported_format");
    assert!(!error.is_retryable());
}

#[test]
fn byte_and_pixel_limits_are_enforced() {
    let bytes = png(40, 30);
    let limits = DecodeLimits {
        max_input_bytes: 10,
        ..DecodeLimits::default()
    };
    assert_eq!(
        decode(&bytes, &limits).unwrap_err().code(),
        "image.too_large"
    );
    let limits = DecodeLimits {
        max_pixels: 1000,
        ..DecodeLimits::default()
    };
    let error = decode(&bytes, &limits).unwrap_err();
    assert_eq!(error.code(), "image.too_large");
    assert!(error.to_string().contains("40x30"), "{error}");
}

#[test]
fn truncated_images_are_reported_as_truncated() {
    let noisy = RgbImage::from_fn(128, 128, |x, y| {
        Rgb([(x * 7 + y * 3) as u8, (x ^ y) as u8, y as u8])
    });
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        let bytes = encode(&noisy.clone().into(), format);
        let error = decode(&bytes[..bytes.len() / 2], &DecodeLimits::default()).unwrap_err();
        assert_eq!(error.code(), "image.truncated", "{format:?}: {error}");
    }
}

#[test]
fn zero_limits_are_invalid() {
    let limits = DecodeLimits {
        max_frames: 0,
        ..DecodeLimits::default()
    };
    assert!(limits.validate().unwrap_err().contains("max_frames"));
}

#[test]
fn jpegs_shrink_on_load_only_as_far_as_the_hint_allows() {
    let photo = RgbImage::from_fn(2000, 1000, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let jpeg = encode(&photo.into(), ImageFormat::Jpeg);
    let limits = DecodeLimits::default();
    // 1/8 would give 250 px < 256: 1/4 it is.
    let hint = ShrinkHint {
        min_long_side: 256,
        min_short_side: 128,
    };
    let decoded = decode_with_hint(&jpeg, &limits, Some(hint)).unwrap();
    assert_eq!((decoded.image.width(), decoded.image.height()), (500, 250));
    assert_eq!(
        (decoded.metadata.width, decoded.metadata.height),
        (2000, 1000),
        "original size"
    );
    // The short side rules too: 1/2 gives 500 < 512, so full size.
    let hint = ShrinkHint {
        min_long_side: 1280,
        min_short_side: 512,
    };
    let decoded = decode_with_hint(&jpeg, &limits, Some(hint)).unwrap();
    assert_eq!(decoded.image.width(), 2000);
    // Scaled pixels match a full decode downscaled (same photo, small error).
    let hint = ShrinkHint {
        min_long_side: 1000,
        min_short_side: 1,
    };
    let half = decode_with_hint(&jpeg, &limits, Some(hint))
        .unwrap()
        .image
        .to_rgb8();
    let full = decode(&jpeg, &limits).unwrap().image.to_rgb8();
    assert_eq!(half.dimensions(), (1000, 500));
    let mean_error: f64 = half
        .enumerate_pixels()
        .map(|(x, y, p)| {
            let q = full.get_pixel(x * 2, y * 2);
            (0..3).map(|c| f64::from(p[c].abs_diff(q[c]))).sum::<f64>() / 3.0
        })
        .sum::<f64>()
        / f64::from(half.width() * half.height());
    assert!(mean_error < 12.0, "mean error {mean_error}");
}

#[test]
fn shrunk_oriented_jpegs_are_upright_with_original_metadata() {
    let stored = RgbImage::from_fn(1600, 800, |x, y| {
        if x < 800 && y < 400 {
            Rgb([230, 20, 20])
        } else {
            Rgb([20, 20, 230])
        }
    });
    let jpeg = with_exif(
        &encode(&stored.into(), ImageFormat::Jpeg),
        &exif_orientation_block(6),
    );
    let hint = ShrinkHint {
        min_long_side: 256,
        min_short_side: 1,
    };
    let decoded = decode_with_hint(&jpeg, &DecodeLimits::default(), Some(hint)).unwrap();
    assert_eq!(
        (decoded.metadata.width, decoded.metadata.height),
        (800, 1600)
    );
    // 1/8 would give a 200 px long side (< 256): 1/4, then rotated.
    assert_eq!((decoded.image.width(), decoded.image.height()), (200, 400));
    assert_eq!(red_quadrant(&decoded.image), (true, false));
}

fn avif(image: &DynamicImage) -> Vec<u8> {
    let options = crate::encode::EncodeOptions {
        format: crate::encode::OutputFormat::Avif,
        quality: 90,
        lossless: false,
    };
    crate::encode::encode(image, &options).unwrap()
}

#[test]
fn avif_from_our_own_encoder_decodes_to_the_same_picture() {
    let stored = RgbImage::from_fn(96, 64, |x, y| {
        if x < 48 && y < 32 {
            Rgb([230, 20, 20])
        } else {
            Rgb([20, 20, 230])
        }
    });
    let bytes = avif(&stored.clone().into());
    let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
    let m = &decoded.metadata;
    assert_eq!((m.format.as_str(), m.width, m.height), ("avif", 96, 64));
    assert_eq!((m.frame_count, m.orientation), (1, 1));
    assert!(m.bit_depth == 8 || m.bit_depth == 10, "{m:?}");
    assert_eq!(red_quadrant(&decoded.image), (false, false));
    let out = decoded.image.to_rgb8();
    for (x, y) in [(10, 10), (80, 50)] {
        let (p, q) = (out.get_pixel(x, y), stored.get_pixel(x, y));
        assert!((0..3).all(|c| p[c].abs_diff(q[c]) <= 12), "{p:?} vs {q:?}");
    }
}

#[test]
fn avif_limits_are_checked_before_decoding_and_damage_has_a_code() {
    let bytes = avif(&RgbImage::from_pixel(64, 48, Rgb([90, 120, 150])).into());
    let limits = DecodeLimits {
        max_pixels: 1000,
        ..DecodeLimits::default()
    };
    let error = decode(&bytes, &limits).unwrap_err();
    assert_eq!(error.code(), "image.too_large");
    assert!(error.to_string().contains("64x48"), "{error}");
    let limits = DecodeLimits {
        max_width: 32,
        ..DecodeLimits::default()
    };
    assert_eq!(
        decode(&bytes, &limits).unwrap_err().code(),
        "image.too_large"
    );
    for cut in [20, bytes.len() / 2, bytes.len() - 10] {
        let error = decode(&bytes[..cut], &DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(error.code(), "image.truncated" | "image.corrupt"),
            "cut at {cut}: {error}"
        );
    }
}

#[test]
fn avif_with_alpha_keeps_it() {
    let stored = RgbaImage::from_fn(32, 32, |x, _| Rgba([200, 100, 50, (x * 8) as u8]));
    let decoded = decode(&avif(&stored.into()), &DecodeLimits::default()).unwrap();
    assert!(decoded.image.color().has_alpha());
    assert!(decoded.metadata.color_type.starts_with("rgba"));
    let out = decoded.image.to_rgba8();
    assert!(out.get_pixel(0, 5)[3] < 20 && out.get_pixel(31, 5)[3] > 230);
}
