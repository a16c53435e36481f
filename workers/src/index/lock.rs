//! One process per embedded store: an exclusive `flock` on
//! `<dir>/imgtag.lock`, held for the life of the store, with the holder's
//! pid, command line and start time written into the file so that a second
//! process can say who holds it. The kernel drops the lock when the holder
//! exits, however it exits (kill -9 included), so a stale file never blocks.

use std::fs::TryLockError;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::error::IndexError;

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "imgtag.lock";

/// A held directory lock; released on drop.
#[derive(Debug)]
pub struct DirLock {
    _file: fs_err::File,
    path: PathBuf,
}

impl DirLock {
    /// Takes the lock of `dir` (created if missing) without waiting.
    pub fn acquire(dir: &Path) -> Result<Self, IndexError> {
        fs_err::create_dir_all(dir).map_err(IndexError::io(dir))?;
        let path = dir.join(LOCK_FILE);
        let mut file = fs_err::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(IndexError::io(&path))?;
        match file.file().try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(IndexError::Locked {
                    dir: dir.to_path_buf(),
                    holder: if holder.is_empty() {
                        "holder unknown".into()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(TryLockError::Error(source)) => return Err(IndexError::Io { path, source }),
        }
        let holder = format!(
            "pid {} ({}), since {}",
            std::process::id(),
            std::env::args().collect::<Vec<_>>().join(" "),
            super::record::format_datetime(chrono::Utc::now()),
        );
        file.file().set_len(0).map_err(IndexError::io(&path))?;
        file.rewind().map_err(IndexError::io(&path))?;
        file.write_all(holder.as_bytes())
            .map_err(IndexError::io(&path))?;
        file.flush().map_err(IndexError::io(&path))?;
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_named() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let error = DirLock::acquire(dir.path()).unwrap_err();
        assert_eq!(error.code(), "index.locked");
        assert!(
            error
                .to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{error}"
        );
        drop(first);
        DirLock::acquire(dir.path()).unwrap();
    }
}
