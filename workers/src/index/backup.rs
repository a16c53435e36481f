//! Backup and restore of the embedded store: the engine has no snapshot
//! creation, so a backup is the data directory copied while the store is
//! flushed and writes wait, plus a manifest. A restore copies it into an
//! empty directory (through a temporary sibling and a rename, so a failed
//! restore leaves nothing half-written) for the store to open normally.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::IndexError;
use super::lock::LOCK_FILE;

/// Manifest file written at the root of every backup.
pub const MANIFEST_FILE: &str = "imgtag-backup.json";
const FORMAT: &str = "imgtag-edge-backup/1";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    /// Backup format.
    pub format: String,
    /// When it was taken (RFC 3339 UTC).
    pub created_at: String,
    /// Points at the time.
    pub points: u64,
    /// imgtag version that wrote it.
    pub imgtag_version: String,
}

/// Copies the store at `source` to `destination` (which must not exist),
/// leaving out the lock file (always skipped by [`copy_tree`]); returns the bytes copied. The caller holds
/// the store flushed and idle.
pub(crate) fn copy_store(
    source: &Path,
    destination: &Path,
    points: u64,
) -> Result<u64, IndexError> {
    if destination.exists() {
        return Err(IndexError::InvalidInput(format!(
            "backup destination {} already exists",
            destination.display()
        )));
    }
    let staging = staging_path(destination)?;
    let result = (|| {
        let bytes = copy_tree(source, &staging, None)?;
        let manifest = BackupManifest {
            format: FORMAT.into(),
            created_at: super::record::format_datetime(chrono::Utc::now()),
            points,
            imgtag_version: env!("CARGO_PKG_VERSION").into(),
        };
        let manifest_path = staging.join(MANIFEST_FILE);
        let text = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| IndexError::Engine(format!("manifest: {e}")))?;
        fs_err::write(&manifest_path, text).map_err(IndexError::io(&manifest_path))?;
        sync_dir(&staging)?;
        fs_err::rename(&staging, destination).map_err(IndexError::io(destination))?;
        Ok(bytes)
    })();
    if result.is_err() {
        let _ = fs_err::remove_dir_all(&staging);
    }
    result
}

/// Reads and checks a backup's manifest.
pub fn read_manifest(backup: &Path) -> Result<BackupManifest, IndexError> {
    let path = backup.join(MANIFEST_FILE);
    let text = fs_err::read_to_string(&path).map_err(|e| {
        IndexError::Restore(format!("{} is not an imgtag backup: {e}", backup.display()))
    })?;
    let manifest: BackupManifest = serde_json::from_str(&text)
        .map_err(|e| IndexError::Restore(format!("{}: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(IndexError::Restore(format!(
            "{} has format {:?}, this version reads {FORMAT:?}",
            path.display(),
            manifest.format
        )));
    }
    Ok(manifest)
}

/// Restores the backup at `backup` into `data_dir`, which must be missing
/// or empty. The store is not open anywhere (an empty directory has no
/// holder); open it afterwards to use it.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<BackupManifest, IndexError> {
    let manifest = read_manifest(backup)?;
    if data_dir.exists() {
        let mut entries = fs_err::read_dir(data_dir).map_err(IndexError::io(data_dir))?;
        if entries.next().is_some() {
            return Err(IndexError::Restore(format!(
                "{} is not empty; move it away (or choose another directory) first",
                data_dir.display()
            )));
        }
        fs_err::remove_dir(data_dir).map_err(IndexError::io(data_dir))?;
    }
    let staging = staging_path(data_dir)?;
    let result = (|| {
        copy_tree(backup, &staging, Some(&backup.join(MANIFEST_FILE)))?;
        sync_dir(&staging)?;
        fs_err::rename(&staging, data_dir).map_err(IndexError::io(data_dir))
    })();
    if result.is_err() {
        let _ = fs_err::remove_dir_all(&staging);
    }
    result.map(|()| manifest)
}

fn staging_path(target: &Path) -> Result<PathBuf, IndexError> {
    let name = target.file_name().ok_or_else(|| {
        IndexError::InvalidInput(format!("{} has no file name", target.display()))
    })?;
    let parent = target.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(parent).map_err(IndexError::io(parent))?;
    let mut staging_name = std::ffi::OsString::from(".");
    staging_name.push(name);
    staging_name.push(format!(".partial-{}", std::process::id()));
    Ok(parent.join(staging_name))
}

/// Copies a directory tree (regular files and directories only; symlinks
/// are refused), skipping `skip`; returns the bytes copied.
fn copy_tree(source: &Path, destination: &Path, skip: Option<&Path>) -> Result<u64, IndexError> {
    fs_err::create_dir_all(destination).map_err(IndexError::io(destination))?;
    let mut bytes = 0;
    for entry in fs_err::read_dir(source).map_err(IndexError::io(source))? {
        let entry = entry.map_err(IndexError::io(source))?;
        let from = entry.path();
        if skip.is_some_and(|skip| skip == from) || from.file_name().is_some_and(|n| n == LOCK_FILE)
        {
            continue;
        }
        let to = destination.join(entry.file_name());
        let kind = entry.file_type().map_err(IndexError::io(&from))?;
        if kind.is_dir() {
            bytes += copy_tree(&from, &to, skip)?;
        } else if kind.is_file() {
            bytes += fs_err::copy(&from, &to).map_err(IndexError::io(&from))?;
            fs_err::File::open(&to)
                .and_then(|f| f.sync_all())
                .map_err(IndexError::io(&to))?;
        } else {
            return Err(IndexError::InvalidInput(format!(
                "{} is neither a file nor a directory",
                from.display()
            )));
        }
    }
    Ok(bytes)
}

fn sync_dir(dir: &Path) -> Result<(), IndexError> {
    fs_err::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(IndexError::io(dir))
}
