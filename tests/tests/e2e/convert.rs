//! `imgtag convert` as a user runs it.

use std::path::Path;
use std::process::Command;

use imgtag_pipeline::{DecodeLimits, decode};
use imgtag_tests::{imgtag_bin, repo_root, sample};

fn convert(args: &[&str]) -> std::process::Output {
    Command::new(imgtag_bin())
        .current_dir(repo_root())
        .env_remove("IMGTAG_CONFIG")
        .arg("convert")
        .args(args)
        .output()
        .unwrap()
}

/// Converts `input` with `args` into `output` and decodes the result:
/// (format, width, height).
fn converted(input: &Path, args: &[&str], output: &Path) -> (String, u32, u32) {
    let mut all = vec![input.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend(["-o", output.to_str().unwrap()]);
    let run = convert(&all);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let decoded = decode(&fs_err::read(output).unwrap(), &DecodeLimits::default()).unwrap();
    (
        decoded.metadata.format,
        decoded.image.width(),
        decoded.image.height(),
    )
}

#[test]
fn converts_a_photo_to_a_bounded_webp_and_a_full_size_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let cat = sample("chelsea.png");
    let webp = converted(
        &cat,
        &["--format", "webp", "--max-side", "128"],
        &dir.path().join("cat.webp"),
    );
    assert_eq!(webp, ("webp".to_owned(), 128, 85));
    let jpeg = converted(
        &cat,
        &["--format", "jpeg", "--quality", "90"],
        &dir.path().join("cat.jpg"),
    );
    assert_eq!(jpeg, ("jpeg".to_owned(), 451, 300));
}

#[test]
fn a_bad_input_leaves_no_output_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.png");
    fs_err::write(&broken, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let out = dir.path().join("out.webp");
    let output = convert(&[
        broken.to_str().unwrap(),
        "--format",
        "webp",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error[image."), "{stderr}");
    assert!(!out.exists());
    // Lossless JPEG is refused before any work.
    let output = convert(&[
        sample("coffee.png").to_str().unwrap(),
        "--format",
        "jpeg",
        "--lossless",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("image.encode_failed"));
}
