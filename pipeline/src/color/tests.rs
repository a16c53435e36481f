//! ICC tests on images tagged with real profiles (Display P3, Adobe RGB,
//! linear grey) written by `moxcms`, embedded by `image`'s encoders and read
//! back through [`crate::decode`]. Expected sRGB values are the published
//! conversions, not a second run of the same engine.

use std::io::Cursor;

use image::{
    DynamicImage, ImageBuffer, ImageEncoder, ImageFormat, Luma, LumaA, Rgb, RgbImage, Rgba,
    RgbaImage,
};
use moxcms::ColorProfile;

use super::*;
use crate::decode::{DecodeLimits, decode};

fn icc(profile: &ColorProfile) -> Vec<u8> {
    profile.encode().unwrap()
}

/// `image` encoded as `format` with `icc` embedded.
fn tagged(image: &DynamicImage, format: ImageFormat, icc: Vec<u8>) -> Vec<u8> {
    let mut bytes = Vec::new();
    let (w, h, color) = (image.width(), image.height(), image.color());
    match format {
        ImageFormat::Png => {
            let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
            encoder.set_icc_profile(icc).unwrap();
            encoder.write_image(image.as_bytes(), w, h, color.into())
        }
        ImageFormat::Jpeg => {
            let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
            encoder.set_icc_profile(icc).unwrap();
            encoder.write_image(image.as_bytes(), w, h, color.into())
        }
        ImageFormat::WebP => {
            let mut encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut bytes);
            encoder.set_icc_profile(icc).unwrap();
            encoder.write_image(image.as_bytes(), w, h, color.into())
        }
        ImageFormat::Tiff => {
            let mut encoder = image::codecs::tiff::TiffEncoder::new(Cursor::new(&mut bytes));
            encoder.set_icc_profile(icc).unwrap();
            encoder.write_image(image.as_bytes(), w, h, color.into())
        }
        other => panic!("no encoder for {other:?}"),
    }
    .unwrap();
    bytes
}

/// Four 16x16 patches side by side.
fn patches(colours: [[u8; 3]; 4]) -> RgbImage {
    RgbImage::from_fn(64, 16, |x, _| Rgb(colours[(x / 16) as usize]))
}

fn patch_centres(image: &DynamicImage) -> Vec<[u8; 3]> {
    let rgb = image.to_rgb8();
    (0..4).map(|i| rgb.get_pixel(i * 16 + 8, 8).0).collect()
}

fn assert_near(got: &[[u8; 3]], want: &[[u8; 3]], tolerance: u8) {
    for (g, w) in got.iter().zip(want) {
        let close = g.iter().zip(w).all(|(a, b)| a.abs_diff(*b) <= tolerance);
        assert!(close, "got {got:?}, want {want:?} (±{tolerance})");
    }
}

// Published Adobe RGB (1998) coordinates of the sRGB primaries and white.
const ADOBE_RGB_OF_SRGB: [[u8; 3]; 4] = [[219, 0, 0], [144, 255, 60], [0, 0, 250], [255; 3]];
const SRGB_PRIMARIES: [[u8; 3]; 4] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255; 3]];
// Published Display P3 coordinates of the sRGB primaries and mid grey.
const P3_OF_SRGB: [[u8; 3]; 4] = [[234, 51, 35], [117, 251, 76], [0, 0, 245], [128; 3]];
const SRGB_P3_TARGETS: [[u8; 3]; 4] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [128; 3]];

#[test]
fn display_p3_jpeg_is_converted_to_srgb_at_decode() {
    let bytes = tagged(
        &patches(P3_OF_SRGB).into(),
        ImageFormat::Jpeg,
        icc(&ColorProfile::new_display_p3()),
    );
    let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
    let report = &decoded.metadata.icc;
    assert!(report.present && report.applied, "{report:?}");
    assert_eq!(report.description.as_deref(), Some("Display P3"));
    // JPEG chroma subsampling and quantisation cost a few levels.
    assert_near(&patch_centres(&decoded.image), &SRGB_P3_TARGETS, 6);
}

#[test]
fn adobe_rgb_png_webp_and_tiff_are_converted_to_srgb() {
    for format in [ImageFormat::Png, ImageFormat::WebP, ImageFormat::Tiff] {
        let bytes = tagged(
            &patches(ADOBE_RGB_OF_SRGB).into(),
            format,
            icc(&ColorProfile::new_adobe_rgb()),
        );
        let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert!(
            decoded.metadata.icc.applied,
            "{format:?}: {:?}",
            decoded.metadata.icc
        );
        assert!(matches!(decoded.image, DynamicImage::ImageRgb8(_)));
        assert_near(&patch_centres(&decoded.image), &SRGB_PRIMARIES, 3);
    }
}

#[test]
fn sixteen_bit_rgba_keeps_depth_and_alpha() {
    let image = ImageBuffer::from_fn(64, 16, |x, _| {
        let [r, g, b] = ADOBE_RGB_OF_SRGB[(x / 16) as usize].map(|v| u16::from(v) * 257);
        Rgba([r, g, b, 1000 * (x as u16)])
    });
    let bytes = tagged(
        &DynamicImage::ImageRgba16(image.clone()),
        ImageFormat::Png,
        icc(&ColorProfile::new_adobe_rgb()),
    );
    let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
    assert!(decoded.metadata.icc.applied);
    let DynamicImage::ImageRgba16(out) = &decoded.image else {
        panic!("16-bit RGBA expected, got {:?}", decoded.image.color());
    };
    for x in 0..64 {
        assert_eq!(
            out.get_pixel(x, 3)[3],
            image.get_pixel(x, 3)[3],
            "alpha at {x}"
        );
    }
    let red = out.get_pixel(8, 8);
    assert!(red[0] > 65000 && red[1] < 600 && red[2] < 600, "{red:?}");
}

#[test]
fn grey_with_a_linear_profile_gets_the_srgb_tone_curve_and_stays_grey() {
    // Linear 50 % grey is sRGB 188.
    let linear = ColorProfile::new_gray_with_gamma(1.0);
    let image = ImageBuffer::from_pixel(8, 8, Luma([128u8]));
    let bytes = tagged(
        &DynamicImage::ImageLuma8(image),
        ImageFormat::Png,
        icc(&linear),
    );
    let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
    assert!(decoded.metadata.icc.applied, "{:?}", decoded.metadata.icc);
    let DynamicImage::ImageLuma8(out) = &decoded.image else {
        panic!("grey expected, got {:?}", decoded.image.color());
    };
    assert!(
        out.get_pixel(4, 4)[0].abs_diff(188) <= 1,
        "{:?}",
        out.get_pixel(4, 4)
    );
    // With alpha, 16-bit.
    let image = ImageBuffer::from_pixel(8, 8, LumaA([32768u16, 40000]));
    let bytes = tagged(
        &DynamicImage::ImageLumaA16(image),
        ImageFormat::Png,
        icc(&linear),
    );
    let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
    let DynamicImage::ImageLumaA16(out) = &decoded.image else {
        panic!("grey+alpha expected, got {:?}", decoded.image.color());
    };
    let [grey, alpha] = out.get_pixel(4, 4).0;
    assert!(grey.abs_diff(188 * 257) < 300, "{grey}");
    assert_eq!(alpha, 40000);
}

#[test]
fn an_srgb_profile_leaves_pixels_untouched() {
    let image = RgbaImage::from_fn(32, 32, |x, y| Rgba([(x * 8) as u8, (y * 8) as u8, 77, 200]));
    let bytes = tagged(
        &DynamicImage::ImageRgba8(image.clone()),
        ImageFormat::Png,
        icc(&ColorProfile::new_srgb()),
    );
    let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
    let report = &decoded.metadata.icc;
    assert!(report.present && report.applied && report.reason.is_none());
    assert_eq!(decoded.image.to_rgba8(), image);
}

#[test]
fn unusable_profiles_keep_the_pixels_and_say_why() {
    let image: DynamicImage = patches(ADOBE_RGB_OF_SRGB).into();
    let cases = [
        (
            b"not an ICC profile at all".repeat(8),
            "unreadable ICC profile",
        ),
        (icc(&ColorProfile::new_gray_with_gamma(2.2)), "gray profile"),
    ];
    for (profile, reason) in cases {
        let bytes = tagged(&image, ImageFormat::Png, profile);
        let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
        let report = &decoded.metadata.icc;
        assert!(report.present && !report.applied, "{report:?}");
        let said = report.reason.as_deref().unwrap_or_default();
        assert!(said.contains(reason), "{said}");
        assert_eq!(decoded.image.to_rgb8(), image.to_rgb8());
    }
}

#[test]
fn no_profile_reports_absent() {
    let (image, report) = to_srgb(DynamicImage::new_rgb8(2, 2), None);
    assert_eq!(report, IccReport::default());
    assert_eq!(image.width(), 2);
}

#[test]
fn truncated_and_mangled_real_profiles_never_panic() {
    let real = icc(&ColorProfile::new_display_p3());
    let image = DynamicImage::ImageRgb8(patches(P3_OF_SRGB));
    for cut in (0..real.len()).step_by(7) {
        let (_, report) = to_srgb(image.clone(), Some(&real[..cut]));
        assert!(report.present);
    }
    for at in (0..real.len()).step_by(3) {
        let mut mangled = real.clone();
        mangled[at] ^= 0xA5;
        let (out, report) = to_srgb(image.clone(), Some(&mangled));
        if !report.applied {
            assert_eq!(out, image);
        }
    }
}
