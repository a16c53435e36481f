//! `imgtag classify` as a user runs it: the real binary, real files.

use std::process::{Command, Output};

use imgtag_tests::{imgtag_bin, repo_root, sample};
use serde_json::Value;

fn imgtag(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(imgtag_bin());
    command
        .current_dir(repo_root())
        .args(args)
        .env_remove("IMGTAG_CONFIG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn classify_json_reports_each_image_and_bad_ones_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let not_an_image = dir.path().join("invoice.jpg");
    fs_err::write(&not_an_image, b"%PDF-1.7 this is not a JPEG").unwrap();
    let cat = sample("chelsea.png");
    let cup = sample("coffee.png");
    let output = imgtag(
        &[
            "classify",
            "--json",
            "--top",
            "3",
            cat.to_str().unwrap(),
            not_an_image.to_str().unwrap(),
            cup.to_str().unwrap(),
        ],
        &[],
    );
    // One image failed: exit status 1, the others still classified.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["model"], "efficientnet-lite0-imagenet1k");
    let images = json["images"].as_array().unwrap();
    assert_eq!(images.len(), 3);
    assert_eq!(images[0]["top"][0]["label"], "tiger cat");
    assert_eq!(images[0]["top"].as_array().unwrap().len(), 3);
    assert_eq!(images[1]["error"]["code"], "image.unsupported_format");
    assert_eq!(images[1]["top"].as_array().unwrap().len(), 0);
    assert_eq!(images[2]["top"][0]["label"], "espresso");
}

#[test]
fn classify_table_shows_the_top_classes() {
    let output = imgtag(&["classify", sample("coffee.png").to_str().unwrap()], &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let first = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("1."))
        .unwrap();
    assert!(
        first.contains("espresso") && first.contains('%'),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.contains("%  n")).count(),
        5,
        "{stdout}"
    );
}

#[test]
fn missing_onnx_runtime_names_the_setup_command() {
    let output = imgtag(
        &["classify", sample("coffee.png").to_str().unwrap()],
        &[(
            "IMGTAG__ONNXRUNTIME__LIBRARY",
            "/nonexistent/libonnxruntime.so",
        )],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error[model.runtime_missing]"), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/libonnxruntime.so"),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/setup"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_models_name_the_setup_command() {
    let empty = tempfile::tempdir().unwrap();
    let output = imgtag(
        &["classify", sample("coffee.png").to_str().unwrap()],
        &[("IMGTAG__MODELS__DIR", empty.path().to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error[model.file_missing]"), "{stderr}");
    assert!(stderr.contains("scripts/setup"), "{stderr}");
}
