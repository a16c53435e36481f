//! Per-stage benchmarks of the image core on a real photo (scikit-image's
//! rocket.jpg, 640x427) and on a 4000x2667 JPEG made from it, so decode,
//! shrink-on-load, ICC -> sRGB conversion, resize, encode and the whole
//! `Pipeline` can be compared.
//! Run `scripts/setup` first; `cargo bench -p imgtag-pipeline`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use image::{DynamicImage, ImageFormat};
use image::{ImageEncoder, codecs::jpeg::JpegEncoder};
use imgtag_pipeline::color::to_srgb;
use imgtag_pipeline::encode::encode;
use imgtag_pipeline::resize::fit_within;
use imgtag_pipeline::{
    DecodeLimits, EncodeOptions, OutputFormat, PipelineConfig, ShrinkHint, decode, decode_with_hint,
};

fn photo_bytes() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.imgtag/samples/rocket.jpg");
    fs_err::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup)", path.display()))
}

fn large_jpeg(photo: &DynamicImage) -> Vec<u8> {
    let large = photo.resize_exact(4000, 2667, image::imageops::FilterType::Triangle);
    let mut bytes = Vec::new();
    large
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
        .unwrap();
    bytes
}

/// `image` as a JPEG tagged with `icc`.
fn tagged_jpeg(image: &DynamicImage, icc: Vec<u8>) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = JpegEncoder::new(&mut bytes);
    encoder.set_icc_profile(icc).unwrap();
    let rgb = image.to_rgb8();
    encoder
        .write_image(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}

/// ICC -> sRGB on a 10.7 MP image (4000x2667): 8- and 16-bit RGB, and the
/// whole decode of a Display P3 JPEG against the untagged one above.
fn color(c: &mut Criterion, large: &[u8]) {
    let limits = DecodeLimits::default();
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let rgb8 = decode(large, &limits).unwrap().image;
    let rgb16 = DynamicImage::ImageRgb16(rgb8.to_rgb16());
    for (name, image) in [("rgb8", &rgb8), ("rgb16", &rgb16)] {
        c.bench_function(&format!("color/display_p3_to_srgb_10mp_{name}"), |b| {
            b.iter_batched(
                || image.clone(),
                |image| to_srgb(image, Some(&p3)),
                BatchSize::LargeInput,
            )
        });
    }
    let tagged = tagged_jpeg(&rgb8, p3);
    c.bench_function("decode/jpeg_10mp_full_display_p3", |b| {
        b.iter(|| decode(black_box(&tagged), &limits))
    });
}

fn stages(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let small = photo_bytes();
    let photo = decode(&small, &limits).unwrap().image;
    let large = large_jpeg(&photo);
    let thumb_hint = ShrinkHint {
        min_long_side: 256,
        min_short_side: 1,
    };
    let webp = EncodeOptions {
        format: OutputFormat::Webp,
        quality: 80,
        lossless: false,
    };

    c.bench_function("decode/jpeg_640x427", |b| {
        b.iter(|| decode(black_box(&small), &limits))
    });
    c.bench_function("decode/jpeg_10mp_full", |b| {
        b.iter(|| decode(black_box(&large), &limits))
    });
    c.bench_function("decode/jpeg_10mp_shrink_for_256", |b| {
        b.iter(|| decode_with_hint(black_box(&large), &limits, Some(thumb_hint)))
    });
    c.bench_function("resize/640x427_to_256", |b| {
        b.iter(|| fit_within(black_box(&photo), 256))
    });
    let thumb = fit_within(&photo, 256).unwrap();
    c.bench_function("encode/webp_q80_256", |b| {
        b.iter(|| encode(black_box(&thumb), &webp))
    });
    let jpeg = EncodeOptions {
        format: OutputFormat::Jpeg,
        ..webp
    };
    c.bench_function("encode/jpeg_q80_256", |b| {
        b.iter(|| encode(black_box(&thumb), &jpeg))
    });
    color(c, &large);
    let pipeline = PipelineConfig::default().build().unwrap();
    c.bench_function("pipeline/process_10mp", |b| {
        b.iter(|| pipeline.process(black_box(&large)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = stages
}
criterion_main!(benches);
