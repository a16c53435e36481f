//! Reading image files from disk, bounded: the size is checked before a byte
//! is read, and the read itself stops at the limit (the file may grow).

use std::io::Read;
use std::path::Path;

use imgtag_pipeline::{DecodeLimits, PipelineError};

use crate::error::AppError;

/// Reads `path` if it is no larger than `limits.max_input_bytes`.
pub fn read_image_file(path: &Path, limits: &DecodeLimits) -> Result<Vec<u8>, AppError> {
    let input_error = |source| AppError::Input {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::options()
        .read(true)
        .open(path)
        .map_err(input_error)?;
    let size = file.metadata().map_err(input_error)?.len();
    if size > limits.max_input_bytes {
        return Err(PipelineError::TooManyBytes {
            size,
            limit: limits.max_input_bytes,
        }
        .into());
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limits.max_input_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(input_error)?;
    let read = bytes.len() as u64;
    if read > limits.max_input_bytes {
        return Err(PipelineError::TooManyBytes {
            size: read,
            limit: limits.max_input_bytes,
        }
        .into());
    }
    Ok(bytes)
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
    fn missing_file_names_the_path() {
        let error =
            read_image_file(Path::new("/no/such.png"), &DecodeLimits::default()).unwrap_err();
        assert_eq!(error.code(), "input.unreadable");
        assert!(error.to_string().contains("/no/such.png"));
        assert!(!error.is_retryable());
    }
}
