//! The model directory that `scripts/setup` fills (`.imgtag/models` by
//! default). Every read goes through a sha256 check against the manifest, so a
//! damaged, truncated or swapped file is refused with an error naming it.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::ModelError;
use crate::manifest::Manifest;

/// A model directory and the manifest describing its content.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
    manifest: Manifest,
}

impl ModelStore {
    /// A store over `dir` described by the manifest compiled into the binary.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, ModelError> {
        Ok(Self::with_manifest(dir, Manifest::embedded()?))
    }

    /// A store over `dir` described by `manifest`.
    pub fn with_manifest(dir: impl Into<PathBuf>, manifest: Manifest) -> Self {
        Self {
            dir: dir.into(),
            manifest,
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Reads `file` (relative to the directory) and checks its sha256.
    ///
    /// The bytes that were checked are the bytes returned: nothing can swap
    /// the file between the check and its use.
    pub fn read_verified(&self, file: &str, sha256: &str) -> Result<Vec<u8>, ModelError> {
        let path = self.dir.join(file);
        let bytes = match fs_err::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                return Err(ModelError::FileMissing { path });
            }
            Err(error) => return Err(error.into()),
        };
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha256 {
            return Err(ModelError::ChecksumMismatch {
                path,
                expected: sha256.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Reads the asset with manifest key `key`, checked.
    pub fn read_asset(&self, key: &str) -> Result<(PathBuf, Vec<u8>), ModelError> {
        let asset = self.manifest.asset(key)?;
        let bytes = self.read_verified(&asset.file, &asset.sha256)?;
        Ok((self.dir.join(&asset.file), bytes))
    }

    /// Checks every model and asset file of the manifest; returns the number
    /// of files checked. Useful at start-up to fail before taking work.
    pub fn verify_all(&self) -> Result<usize, ModelError> {
        let models = self.manifest.model.values().map(|m| (&m.file, &m.sha256));
        let assets = self.manifest.asset.values().map(|a| (&a.file, &a.sha256));
        let mut checked = 0;
        for (file, sha256) in models.chain(assets) {
            self.read_verified(file, sha256)?;
            checked += 1;
        }
        Ok(checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn reads_a_file_with_the_right_checksum() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("f"), b"hello").unwrap();
        let store = ModelStore::open(dir.path()).unwrap();
        assert_eq!(store.read_verified("f", HELLO_SHA256).unwrap(), b"hello");
    }

    #[test]
    fn refuses_a_changed_file_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("f"), b"hellO").unwrap();
        let store = ModelStore::open(dir.path()).unwrap();
        let error = store.read_verified("f", HELLO_SHA256).unwrap_err();
        assert_eq!(error.code(), "model.checksum_mismatch");
        let message = error.to_string();
        assert!(
            message.contains(&dir.path().join("f").display().to_string()),
            "{message}"
        );
        assert!(message.contains(HELLO_SHA256), "{message}");
    }

    #[test]
    fn missing_file_names_setup() {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::open(dir.path()).unwrap();
        let error = store
            .read_verified("absent.onnx", HELLO_SHA256)
            .unwrap_err();
        assert_eq!(error.code(), "model.file_missing");
        assert!(error.to_string().contains("scripts/setup"));
    }
}
