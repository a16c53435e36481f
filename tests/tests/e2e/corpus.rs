//! Every file of Pillow's `Tests/images/` (odd, broken and hostile images)
//! through the image core: each is accepted or rejected with a known code;
//! nothing panics, aborts or runs away with memory.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::Command;

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
