//! Every file of Pillow's `Tests/images/` (odd, broken and hostile images)
//! through the image core: each is accepted or rejected with a known code;
//! nothing panics, aborts or runs away with memory.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::Command;

use imgtag_pipeline::image;
use imgtag_pipeline::{DecodeLimits, QualityThresholds, inspect};
use imgtag_tests::{imgtag_bin, install_dir, repo_root};
use serde_json::Value;

/// Codes a rejected corpus file may carry.
const KNOWN_CODES: &[&str] = &[
    "image.empty",
    "image.too_large",
    "image.too_many_frames",
    "image.unsupported_format",
    "image.truncated",
    "image.corrupt",
    "image.decoder_failed",
];

fn corpus_files() -> Vec<PathBuf> {
    let dir = install_dir().join("corpus/pillow-images");
    assert!(
        dir.is_dir(),
        "{} is missing: run scripts/setup",
        dir.display()
    );
    let mut files = Vec::new();
    let mut pending = vec![dir];
    while let Some(dir) = pending.pop() {
        for entry in fs_err::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 1000, "only {} corpus files", files.len());
    files
}

#[test]
fn every_corpus_file_is_accepted_or_rejected_with_a_known_code_and_never_panics() {
    let limits = DecodeLimits::default();
    let thresholds = QualityThresholds::default();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut panics = Vec::new();
    for path in corpus_files() {
        let bytes = fs_err::read(&path).unwrap();
        match catch_unwind(AssertUnwindSafe(|| {
            inspect(&bytes, &limits, &thresholds, None)
        })) {
            Ok(Ok((inspection, _))) => {
                *outcomes
                    .entry(format!("accepted {}", inspection.metadata.format))
                    .or_default() += 1;
                let icc = &inspection.metadata.icc;
                if icc.present {
                    // A profile is applied, or the report says why not.
                    assert!(icc.applied || icc.reason.is_some(), "{}", path.display());
                    let key = if icc.applied {
                        "applied"
                    } else {
                        "not applied"
                    };
                    *outcomes.entry(format!("icc {key}")).or_default() += 1;
                }
            }
            Ok(Err(error)) => {
                assert!(
                    KNOWN_CODES.contains(&error.code()),
                    "{}: {error}",
                    path.display()
                );
                assert!(!error.is_retryable());
                *outcomes
                    .entry(format!("rejected {}", error.code()))
                    .or_default() += 1;
            }
            Err(_) => panics.push(path.display().to_string()),
        }
    }
    eprintln!("corpus outcome: {outcomes:#?}");
    assert!(panics.is_empty(), "panicked on: {panics:#?}");
    let accepted: usize = outcomes
        .iter()
        .filter(|(k, _)| k.starts_with("accepted"))
        .map(|(_, v)| v)
        .sum();
    assert!(accepted > 300, "only {accepted} accepted: {outcomes:#?}");
}

#[test]
fn the_binary_survives_the_whole_corpus_within_a_memory_ceiling() {
    // 4 GiB of address space: a runaway allocation fails (and the process
    // dies) instead of exhausting the machine; the decoder budget is 1 GiB.
    let files = corpus_files();
    let output = Command::new("sh")
        .current_dir(repo_root())
        .env_remove("IMGTAG_CONFIG")
        .arg("-c")
        .arg("ulimit -v 4194304 && exec \"$0\" inspect --json \"$@\"")
        .arg(imgtag_bin())
        .args(&files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 0: all accepted, 1: some rejected; anything else is a crash.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{:?}: {stderr}",
        output.status
    );
    let reports: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reports.len(), files.len());
    for report in &reports {
        if let Some(code) = report["error"]["code"].as_str() {
            assert!(KNOWN_CODES.contains(&code), "{report}");
        } else {
            assert!(
                report["metadata"]["width"].as_u64().unwrap() > 0,
                "{report}"
            );
        }
    }
}

#[test]
fn cmyk_jpeg_decodes_to_the_same_picture_as_its_rgb_twin() {
    let dir = install_dir().join("corpus/pillow-images");
    let load = |name: &str| {
        let bytes = fs_err::read(dir.join(name)).unwrap();
        imgtag_pipeline::decode(&bytes, &DecodeLimits::default()).unwrap()
    };
    let cmyk = load("pil_sample_cmyk.jpg");
    let rgb = load("pil_sample_rgb.jpg");
    assert_eq!(cmyk.metadata.format, "jpeg");
    let (a, b) = (cmyk.image.to_rgb8(), rgb.image.to_rgb8());
    assert_eq!(a.dimensions(), b.dimensions());
    let mean_error = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| (0..3).map(|c| f64::from(p[c].abs_diff(q[c]))).sum::<f64>() / 3.0)
        .sum::<f64>()
        / f64::from(a.width() * a.height());
    // Inverted (Adobe) CMYK read as plain CMYK would be far off (> 100).
    assert!(mean_error < 20.0, "mean error {mean_error}");
}

#[test]
fn cmyk_files_report_cmyk_and_shrink_on_load_still_gives_rgb() {
    let dir = install_dir().join("corpus/pillow-images");
    let bytes = fs_err::read(dir.join("pil_sample_cmyk.jpg")).unwrap();
    let limits = DecodeLimits::default();
    let full = imgtag_pipeline::decode(&bytes, &limits).unwrap();
    assert_eq!(
        (full.metadata.color_type.as_str(), full.metadata.bit_depth),
        ("cmyk8", 8)
    );
    assert!(matches!(full.image, image::DynamicImage::ImageRgb8(_)));
    // libjpeg-turbo cannot scale-decode CMYK to RGB: the full decode serves.
    let hint = imgtag_pipeline::ShrinkHint {
        min_long_side: 16,
        min_short_side: 16,
    };
    let hinted = imgtag_pipeline::decode_with_hint(&bytes, &limits, Some(hint)).unwrap();
    assert_eq!(hinted.image.to_rgb8(), full.image.to_rgb8());
    for (name, color_type) in [
        ("tiff_strip_cmyk_jpeg.tif", "cmyk8"),
        ("tiff_strip_cmyk_16l_jpeg.tif", "cmyk16"),
    ] {
        let bytes = fs_err::read(dir.join(name)).unwrap();
        let decoded = imgtag_pipeline::decode(&bytes, &limits).unwrap();
        assert_eq!(decoded.metadata.color_type, color_type, "{name}");
    }
}

/// Mean colour of five boxes (quadrant centres and the middle, each 1/8 of
/// the size), placed as Pillow's `crop` does.
fn box_means(image: &image::RgbImage) -> Vec<[f64; 3]> {
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    [
        (0.25, 0.25),
        (0.75, 0.25),
        (0.25, 0.75),
        (0.75, 0.75),
        (0.5, 0.5),
    ]
    .iter()
    .map(|(fx, fy)| {
        let (x0, y0) = ((w * fx - w / 16.0) as u32, (h * fy - h / 16.0) as u32);
        let (x1, y1) = ((w * fx + w / 16.0) as u32, (h * fy + h / 16.0) as u32);
        let mut sum = [0.0; 3];
        for y in y0..y1 {
            for x in x0..x1 {
                let p = image.get_pixel(x, y);
                (0..3).for_each(|c| sum[c] += f64::from(p[c]));
            }
        }
        let n = f64::from((x1 - x0) * (y1 - y0));
        sum.map(|s| s / n)
    })
    .collect()
}

/// An image with an embedded profile, and the mean colours of its five boxes
/// as Pillow 13.0.0's ImageCms (LittleCMS 2.19) converts them to its built-in
/// sRGB (perceptual intent), and without colour management (for scale).
struct IccReference {
    path: std::path::PathBuf,
    description: &'static str,
    littlecms: [[f64; 3]; 5],
    unmanaged: [[f64; 3]; 5],
}

#[test]
fn real_profiles_come_out_as_littlecms_converts_them() {
    let cases = [
        IccReference {
            // Lossless, gamma 1.8 and wide primaries: large shifts.
            path: install_dir().join("corpus/pillow-images/xmp_tags_orientation.png"),
            description: "ColorMatch RGB",
            littlecms: [
                [237.0, 207.4, 168.0],
                [234.1, 204.3, 162.3],
                [133.3, 115.3, 72.8],
                [220.6, 191.3, 141.8],
                [238.4, 201.4, 142.4],
            ],
            unmanaged: [
                [228.3, 197.2, 150.4],
                [224.2, 193.4, 143.3],
                [115.8, 99.4, 57.8],
                [208.2, 178.6, 121.6],
                [228.2, 189.8, 121.1],
            ],
        },
        IccReference {
            // A sample photo: JPEG (another IDCT than libjpeg's) in Adobe RGB.
            path: imgtag_tests::sample("rocket.jpg"),
            description: "Adobe RGB (1998)",
            littlecms: [
                [26.0, 55.4, 93.7],
                [10.7, 39.3, 73.0],
                [79.3, 98.6, 125.6],
                [46.2, 58.5, 80.0],
                [70.1, 83.7, 103.5],
            ],
            unmanaged: [
                [41.5, 58.1, 92.7],
                [28.9, 43.6, 73.4],
                [86.4, 98.9, 124.1],
                [53.7, 61.0, 80.4],
                [77.4, 84.9, 102.9],
            ],
        },
    ];
    for case in cases {
        let bytes = fs_err::read(&case.path).unwrap();
        let decoded = imgtag_pipeline::decode(&bytes, &DecodeLimits::default()).unwrap();
        let icc = &decoded.metadata.icc;
        assert!(icc.present && icc.applied, "{icc:?}");
        assert_eq!(icc.description.as_deref(), Some(case.description));
        // xmp_tags_orientation.png's "rotate 180" is in XMP only, not read.
        assert_eq!(decoded.metadata.orientation, 1);
        let means = box_means(&decoded.image.to_rgb8());
        for ((got, want), raw) in means.iter().zip(case.littlecms).zip(case.unmanaged) {
            let close = (0..3).all(|c| (got[c] - want[c]).abs() <= 1.5);
            assert!(
                close,
                "{}: got {got:?}, LittleCMS {want:?}",
                case.description
            );
            let moved = (0..3).any(|c| (got[c] - raw[c]).abs() > 5.0);
            assert!(moved, "{}: {got:?} is unmanaged {raw:?}", case.description);
        }
    }
}

fn mean_error(a: &image::RgbaImage, b: &image::RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: f64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| (0..4).map(|c| f64::from(p[c].abs_diff(q[c]))).sum::<f64>() / 4.0)
        .sum();
    sum / f64::from(a.width() * a.height())
}

#[test]
fn heic_and_avif_files_decode_to_the_picture_of_their_png_twin() {
    let dir = install_dir().join("corpus/pillow-images");
    let load = |name: &str| {
        let bytes = fs_err::read(dir.join(name)).unwrap();
        imgtag_pipeline::decode(&bytes, &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let hopper = load("hopper.png").image.to_rgba8();
    let star = load("avif/star.png").image.to_rgba8();
    // (file, format, twin, largest mean error in levels)
    let cases = [
        ("avif/hopper.heif", "heic", &hopper, 6.0),
        ("avif/hopper.avif", "avif", &hopper, 6.0),
        ("avif/star.avifs", "avif", &star, 6.0),
    ];
    for (name, format, twin, largest) in cases {
        let decoded = load(name);
        assert_eq!(decoded.metadata.format, format, "{name}");
        let error = mean_error(&decoded.image.to_rgba8(), twin);
        assert!(error < largest, "{name}: mean error {error}");
    }
    let icc = load("avif/icc_profile.avif").metadata.icc;
    assert!(icc.present && icc.applied, "{icc:?}");
    assert_eq!(icc.description.as_deref(), Some("sRGB IEC61966-2.1"));
    assert!(load("avif/exif.avif").metadata.exif.is_some());
    let transparent = load("avif/transparency.avif");
    assert_eq!(transparent.metadata.color_type, "rgba8");
    assert!(transparent.image.to_rgba8().pixels().any(|p| p[3] < 128));
}
