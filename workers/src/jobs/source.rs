//! Fetching a job's bytes, bounded before they are read: `file://` paths
//! only under the configured roots (resolved, so `..` and symlinks leading
//! out are refused), object keys only inside the tenant's inbox, inline
//! base64 only up to its limit. Stored originals are fetched by the
//! processor, which has the index to find them.

use std::path::{Path, PathBuf};

use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::contract::{Job, JobSource};
use super::error::JobError;
use crate::store::ObjectStorage;

/// `[sources]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesConfig {
    /// Directories `file://` sources may name (after resolving `..` and
    /// symlinks). Empty: `file://` sources are refused.
    pub allowed_roots: Vec<PathBuf>,
    /// Largest inline (base64) image, decoded, in bytes.
    pub max_inline_bytes: u64,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self {
            allowed_roots: Vec::new(),
            max_inline_bytes: 8 * 1024 * 1024,
        }
    }
}

impl SourcesConfig {
    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_inline_bytes == 0 {
            return Err("max_inline_bytes must be positive".into());
        }
        if let Some(root) = self.allowed_roots.iter().find(|r| !r.is_absolute()) {
            return Err(format!(
                "allowed_roots must be absolute paths, got {}",
                root.display()
            ));
        }
        Ok(())
    }
}

/// Reads sources under the configured bounds.
#[derive(Debug, Clone)]
pub struct SourceReader {
    /// Canonical roots (missing ones are left out, with a warning).
    roots: Vec<PathBuf>,
    max_inline_bytes: u64,
    max_input_bytes: u64,
    store: ObjectStorage,
}

impl SourceReader {
    /// Resolves the roots once. `max_input_bytes` bounds every source.
    pub fn new(config: &SourcesConfig, max_input_bytes: u64, store: ObjectStorage) -> Self {
        let roots = config
            .allowed_roots
            .iter()
            .filter_map(|root| match fs_err::canonicalize(root) {
                Ok(canonical) => Some(canonical),
                Err(error) => {
                    tracing::warn!(%error, "allowed root left out");
                    None
                }
            })
            .collect();
        Self {
            roots,
            max_inline_bytes: config.max_inline_bytes.min(max_input_bytes),
            max_input_bytes,
            store,
        }
    }

    /// Adds a root (the directories `imgtag ingest` was given).
    pub fn allow(&mut self, root: &Path) -> Result<(), JobError> {
        let canonical = fs_err::canonicalize(root)
            .map_err(|_| JobError::SourceNotFound(root.display().to_string()))?;
        self.roots.push(canonical);
        Ok(())
    }

    /// The bytes of a `file`, `object` or `inline` source.
    pub async fn fetch(&self, job: &Job) -> Result<Bytes, JobError> {
        match &job.source {
            JobSource::File { uri } => {
                let path = self.resolve_file(uri).await?;
                let limit = self.max_input_bytes;
                let what = uri.clone();
                tokio::task::spawn_blocking(move || read_file(&path, limit, &what))
                    .await
                    .map_err(|e| JobError::SourceUnavailable {
                        what: uri.clone(),
                        message: e.to_string(),
                    })?
            }
            JobSource::Object { key } => {
                let key = self.store.inbox_key(&job.tenant_id, key);
                self.store.get(&key, self.max_input_bytes).await
            }
            JobSource::Inline { base64 } => self.decode_inline(base64),
            JobSource::Stored { image_id } => Err(JobError::Invalid(format!(
                "the stored original of {image_id} is read through the index"
            ))),
        }
    }

    /// The canonical path of a `file://` URI, if it lies under a root.
    async fn resolve_file(&self, uri: &str) -> Result<PathBuf, JobError> {
        let path = url::Url::parse(uri)
            .ok()
            .filter(|u| u.scheme() == "file" && u.host().is_none())
            .and_then(|u| u.to_file_path().ok())
            .ok_or_else(|| JobError::Invalid(format!("{uri:?} is not a file:/// URI")))?;
        let canonical = match tokio::fs::canonicalize(&path).await {
            Ok(canonical) => canonical,
            // Say "outside" rather than "missing" for paths outside the
            // roots: no probing of the worker's file system.
            Err(_) if !self.lexically_inside(&path) => {
                return Err(JobError::OutsideRoots { path: uri.into() });
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(JobError::SourceNotFound(uri.into()));
            }
            Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(JobError::SourceForbidden(uri.into()));
            }
            Err(error) => {
                return Err(JobError::SourceUnavailable {
                    what: uri.into(),
                    message: error.to_string(),
                });
            }
        };
        if self.roots.iter().any(|root| canonical.starts_with(root)) {
            Ok(canonical)
        } else {
            Err(JobError::OutsideRoots { path: uri.into() })
        }
    }

    fn lexically_inside(&self, path: &Path) -> bool {
        let has_parent = path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir));
        !has_parent && self.roots.iter().any(|root| path.starts_with(root))
    }

    fn decode_inline(&self, encoded: &str) -> Result<Bytes, JobError> {
        // The decoded size is known from the encoded length: refuse before
        // allocating.
        let decoded_size = (encoded.len() as u64 / 4) * 3;
        if decoded_size > self.max_inline_bytes + 2 {
            return Err(JobError::SourceTooLarge {
                size: decoded_size,
                limit: self.max_inline_bytes,
            });
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| JobError::Invalid(format!("inline source is not base64: {e}")))?;
        if bytes.len() as u64 > self.max_inline_bytes {
            return Err(JobError::SourceTooLarge {
                size: bytes.len() as u64,
                limit: self.max_inline_bytes,
            });
        }
        Ok(Bytes::from(bytes))
    }
}

/// Reads a file of at most `limit` bytes (checked before and during the
/// read).
fn read_file(path: &Path, limit: u64, what: &str) -> Result<Bytes, JobError> {
    use std::io::Read;
    let unavailable = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => JobError::SourceNotFound(what.into()),
        std::io::ErrorKind::PermissionDenied => JobError::SourceForbidden(what.into()),
        _ => JobError::SourceUnavailable {
            what: what.into(),
            message: e.to_string(),
        },
    };
    let file = std::fs::File::options()
        .read(true)
        .open(path)
        .map_err(unavailable)?;
    let metadata = file.metadata().map_err(unavailable)?;
    if !metadata.is_file() {
        return Err(JobError::Invalid(format!("{what} is not a regular file")));
    }
    if metadata.len() > limit {
        return Err(JobError::SourceTooLarge {
            size: metadata.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(unavailable)?;
    if bytes.len() as u64 > limit {
        return Err(JobError::SourceTooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(Bytes::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;

    fn reader(root: &Path, objects: &Path) -> SourceReader {
        let store = ObjectStorage::open(&StoreConfig {
            url: objects.display().to_string(),
            ..StoreConfig::default()
        })
        .unwrap();
        SourceReader::new(
            &SourcesConfig {
                allowed_roots: vec![root.to_owned()],
                max_inline_bytes: 8,
            },
            100,
            store,
        )
    }

    fn job(source: JobSource) -> Job {
        Job {
            schema_version: 1,
            job_id: "j".into(),
            tenant_id: "t".parse().unwrap(),
            customer_id: None,
            project_id: None,
            filename: None,
            labels: Default::default(),
            source,
            operations: crate::jobs::Operation::all(),
            vocabulary: None,
        }
    }

    fn file(path: &Path) -> Job {
        job(JobSource::File {
            uri: format!("file://{}", path.display()),
        })
    }

    #[tokio::test]
    async fn files_only_under_the_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("uploads");
        fs_err::create_dir_all(&root).unwrap();
        fs_err::write(root.join("a.jpg"), b"abc").unwrap();
        fs_err::write(dir.path().join("secret"), b"no").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link.jpg")).unwrap();
        let reader = reader(&root, &dir.path().join("objects"));
        assert_eq!(
            &reader.fetch(&file(&root.join("a.jpg"))).await.unwrap()[..],
            b"abc"
        );
        let code = |job: Job| {
            let reader = reader.clone();
            async move { reader.fetch(&job).await.unwrap_err().code() }
        };
        assert_eq!(
            code(file(&root.join("../secret"))).await,
            "source.outside_roots"
        );
        assert_eq!(
            code(file(&root.join("link.jpg"))).await,
            "source.outside_roots"
        );
        assert_eq!(
            code(file(Path::new("/etc/passwd"))).await,
            "source.outside_roots"
        );
        assert_eq!(
            code(file(Path::new("/nowhere/x.jpg"))).await,
            "source.outside_roots"
        );
        assert_eq!(
            code(file(&root.join("absent.jpg"))).await,
            "source.not_found"
        );
        fs_err::write(root.join("big.jpg"), vec![0u8; 101]).unwrap();
        assert_eq!(code(file(&root.join("big.jpg"))).await, "source.too_large");
    }

    #[tokio::test]
    async fn inline_and_object_sources_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let reader = reader(dir.path(), &dir.path().join("objects"));
        let inline = |text: &str| {
            job(JobSource::Inline {
                base64: base64::engine::general_purpose::STANDARD.encode(text),
            })
        };
        assert_eq!(
            &reader.fetch(&inline("12345678")).await.unwrap()[..],
            b"12345678"
        );
        let error = reader.fetch(&inline("123456789")).await.unwrap_err();
        assert_eq!(error.code(), "source.too_large");
        let error = reader
            .fetch(&job(JobSource::Inline {
                base64: "!!".into(),
            }))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "job.invalid");
        let objects = dir.path().join("objects/inbox/t/2024");
        fs_err::create_dir_all(&objects).unwrap();
        fs_err::write(objects.join("a.jpg"), b"obj").unwrap();
        let object = |key: &str| job(JobSource::Object { key: key.into() });
        assert_eq!(
            &reader.fetch(&object("2024/a.jpg")).await.unwrap()[..],
            b"obj"
        );
        let error = reader.fetch(&object("2024/b.jpg")).await.unwrap_err();
        assert_eq!(error.code(), "source.not_found");
    }
}
