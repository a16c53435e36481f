//! `imgtag` from any directory: with the working directory a fresh temporary
//! one (no `.imgtag`, no `imgtag.toml`), ONNX Runtime and the models come from
//! the data directory: `IMGTAG_HOME`, else `$XDG_DATA_HOME/imgtag`
//! (`imgtag_models::home`). An empty data directory is reported with
//! `model.runtime_missing`, naming it and how it was chosen.

use std::path::Path;
use std::process::{Command, Output};

use imgtag_tests::{imgtag_bin, install_dir, sample};
use serde_json::Value;

/// Runs `imgtag` in `cwd` with nothing of this process's imgtag settings:
/// no config file, no `IMGTAG*` variable, no `XDG_DATA_HOME`, and no
/// `ORT_DYLIB_PATH` (cargo sets it for the tests; it would name the library
/// whatever the data directory); then `env`.
fn imgtag_from(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(imgtag_bin());
    command.current_dir(cwd).args(args);
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("IMGTAG") || name == "ORT_DYLIB_PATH" || name == "XDG_DATA_HOME" {
            command.env_remove(&key);
        }
    }
    command.envs(env.iter().copied()).output().unwrap()
}

/// `imgtag tag --json` of the coffee photo must have succeeded with the
/// classifier's and the hierarchy's tags.
fn assert_tagged(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let images = json["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{json}");
    let tags = images[0]["tags"].as_array().unwrap();
    let has = |name: &str, source: &str| {
        tags.iter()
            .any(|t| t["name"] == name && t["source"] == source && t["model"]["id"].is_string())
    };
    assert!(has("espresso", "classifier"), "{tags:?}");
    assert!(has("drink", "hierarchy"), "{tags:?}");
    assert_eq!(images[0]["nsfw"]["sensitive"], false, "{json}");
}

fn tag_coffee(cwd: &Path, env: &[(&str, &Path)]) -> Output {
    let photo = sample("coffee.png");
    imgtag_from(cwd, &["tag", "--json", photo.to_str().unwrap()], env)
}

#[test]
fn imgtag_home_names_the_data_directory() {
    let cwd = tempfile::tempdir().unwrap();
    let home = install_dir();
    assert_tagged(&tag_coffee(cwd.path(), &[("IMGTAG_HOME", &home)]));
    // Nothing was written to the working directory.
    assert_eq!(fs_err::read_dir(cwd.path()).unwrap().count(), 0);
}

#[test]
fn xdg_data_home_is_the_default_outside_a_checkout() {
    let cwd = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(install_dir(), xdg.path().join("imgtag")).unwrap();
    assert_tagged(&tag_coffee(cwd.path(), &[("XDG_DATA_HOME", xdg.path())]));
    assert_eq!(fs_err::read_dir(cwd.path()).unwrap().count(), 0);
}

#[test]
fn an_empty_data_directory_is_reported_with_its_origin() {
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let output = tag_coffee(cwd.path(), &[("IMGTAG_HOME", home.path())]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error[model.runtime_missing]"), "{stderr}");
    let library = home.path().join("onnxruntime/libonnxruntime.so");
    assert!(
        stderr.contains(&format!("not found at {}", library.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "imgtag's data directory is {} (set by IMGTAG_HOME)",
            home.path().display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/setup"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Reporting the problem creates nothing, in the data directory or here.
    assert_eq!(fs_err::read_dir(home.path()).unwrap().count(), 0);
    assert_eq!(fs_err::read_dir(cwd.path()).unwrap().count(), 0);
}
