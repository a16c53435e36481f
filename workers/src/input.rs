//! Reading image files from disk, bounded: the size is checked before a byte
//! is read, and the read itself stops at the limit (the file may grow).

use std::io::Read;
use std::path::Path;

use imgtag_pipeline::{DecodeLimits, PipelineError};

use crate::error::AppError;

/// Reads `path` if it is no larger than `limits.max_input_bytes`.
pub fn read_image_file(path: &Path, limits: &DecodeLimits) -> Result<Vec<u8>, AppError> {
    read_at_most(path, limits.max_input_bytes)?.map_err(|size| {
        PipelineError::TooManyBytes {
            size,
            limit: limits.max_input_bytes,
        }
        .into()
    })
}

/// Reads a UTF-8 text file (a vocabulary, say) of at most `limit` bytes.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String, AppError> {
    let input_error = |source| AppError::Input {
        path: path.to_owned(),
        source,
    };
    let bytes = read_at_most(path, limit)?.map_err(|size| {
        input_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the file has {size} bytes or more; at most {limit} are accepted"),
        ))
    })?;
    String::from_utf8(bytes).map_err(|_| {
        input_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not UTF-8 text",
        ))
    })
}

/// The file's bytes, or `Err(size)` when it holds more than `limit` bytes
/// (checked before reading, and the read stops past the limit).
fn read_at_most(path: &Path, limit: u64) -> Result<Result<Vec<u8>, u64>, AppError> {
    let input_error = |source| AppError::Input {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::options()
        .read(true)
        .open(path)
        .map_err(input_error)?;
    let size = file.metadata().map_err(input_error)?.len();
    if size > limit {
        return Ok(Err(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(input_error)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Ok(Err(read));
    }
    Ok(Ok(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_over_the_limit_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jpg");
        fs_err::write(&path, vec![0u8; 100]).unwrap();
        let limits = DecodeLimits {
            max_input_bytes: 99,
            ..DecodeLimits::default()
        };
        let error = read_image_file(&path, &limits).unwrap_err();
        assert_eq!(error.code(), "image.too_large");
        let limits = DecodeLimits {
            max_input_bytes: 100,
            ..DecodeLimits::default()
        };
        assert_eq!(read_image_file(&path, &limits).unwrap().len(), 100);
    }

    #[test]
    fn text_files_are_bounded_and_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vocab.toml");
        fs_err::write(&path, "[tags]\n").unwrap();
        assert_eq!(read_text_file(&path, 100).unwrap(), "[tags]\n");
        let error = read_text_file(&path, 3).unwrap_err();
        assert!(error.to_string().contains("at most 3"), "{error}");
        fs_err::write(&path, [0xff_u8, 0xfe]).unwrap();
        let error = read_text_file(&path, 100).unwrap_err();
        assert!(error.to_string().contains("UTF-8"), "{error}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let error =
            read_image_file(Path::new("/no/such.png"), &DecodeLimits::default()).unwrap_err();
        assert_eq!(error.code(), "input.unreadable");
        assert!(error.to_string().contains("/no/such.png"));
        assert!(!error.is_retryable());
    }
}
