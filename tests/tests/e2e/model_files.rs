//! The installed model files against the manifest: all verified, and a damaged
//! file refused with an error naming it and the sha256 mismatch.

use imgtag_models::{Classifier, ModelStore, PoolConfig};
use imgtag_tests::{models_dir, runtime, store};

#[test]
fn every_installed_file_matches_the_manifest() {
    let store = store();
    let manifest = store.manifest();
    let expected = manifest.model.len() + manifest.asset.len();
    assert_eq!(store.verify_all().unwrap(), expected);
}

#[test]
fn a_corrupted_model_is_refused_naming_the_file_and_the_mismatch() {
    let installed = store();
    let entry = installed.manifest().model("classifier").unwrap().clone();
    // A copy of the model directory with one byte of the classifier flipped.
    let dir = tempfile::tempdir().unwrap();
    for file in fs_err::read_dir(models_dir()).unwrap() {
        let file = file.unwrap();
        fs_err::copy(file.path(), dir.path().join(file.file_name())).unwrap();
    }
    let damaged = dir.path().join(&entry.file);
    let mut bytes = fs_err::read(&damaged).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs_err::write(&damaged, &bytes).unwrap();

    let copy = ModelStore::open(dir.path()).unwrap();
    let error = Classifier::load(&copy, &runtime(), &PoolConfig::default()).unwrap_err();
    assert_eq!(error.code(), "model.checksum_mismatch");
    let message = error.to_string();
    assert!(
        message.contains(&damaged.display().to_string()),
        "{message}"
    );
    assert!(message.contains("sha256 mismatch"), "{message}");
    assert!(message.contains(&entry.sha256), "{message}");
    assert!(!error.is_retryable());
}

#[test]
fn a_missing_model_names_the_setup_command() {
    let dir = tempfile::tempdir().unwrap();
    let empty = ModelStore::open(dir.path()).unwrap();
    let error = Classifier::load(&empty, &runtime(), &PoolConfig::default()).unwrap_err();
    assert_eq!(error.code(), "model.file_missing");
    assert!(error.to_string().contains("scripts/setup"), "{error}");
}
