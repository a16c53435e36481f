//! Per-stage benchmarks of the image core on a real photo (scikit-image's
//! rocket.jpg, 640x427) and on a 4000x2667 JPEG made from it, so decode,
//! shrink-on-load, resize, encode and the whole `Pipeline` can be compared.
//! Run `scripts/setup` first; `cargo bench -p imgtag-pipeline`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use image::{DynamicImage, ImageFormat};
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
