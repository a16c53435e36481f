//! How a command that finds the embedded index held learns where the
//! holder serves it: `imgtag serve` writes its URL to `imgtag.server` in
//! the data directory while it runs, and [`locked_hint`] reads it when the
//! directory lock is refused (a stale file is never read otherwise: only a
//! live holder makes the lock fail).

use std::path::{Path, PathBuf};

use crate::error::AppError;
use crate::index::IndexError;

/// Name of the file, beside the lock file.
pub const SERVER_FILE: &str = "imgtag.server";

/// The URL file of a running server; removed when dropped.
#[derive(Debug)]
pub struct Announcement {
    path: PathBuf,
}

impl Announcement {
    /// Writes `url` into `data_dir`.
    pub fn write(data_dir: &Path, url: &str) -> Result<Self, AppError> {
        let path = data_dir.join(SERVER_FILE);
        fs_err::write(&path, format!("{url}\n")).map_err(|source| AppError::Output {
            path: path.clone(),
            source,
        })?;
        Ok(Self { path })
    }
}

impl Drop for Announcement {
    fn drop(&mut self) {
        let _ = fs_err::remove_file(&self.path);
    }
}

/// For an `index.locked` error, what to run instead when the holder is an
/// `imgtag serve`.
pub fn locked_hint(error: &AppError) -> Option<String> {
    let AppError::Index(IndexError::Locked { dir, .. }) = error else {
        return None;
    };
    let url = fs_err::read_to_string(dir.join(SERVER_FILE)).ok()?;
    let url = url.trim();
    (!url.is_empty() && url.len() < 512).then(|| {
        format!(
            "`imgtag serve` holds this index and serves it at {url}: run the same command with \
             --server {url} (and the API key in IMGTAG_API_KEY)"
        )
    })
}
