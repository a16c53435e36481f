//! The object store holding renditions and originals, through the
//! `object_store` crate: a local directory by default, an S3-compatible
//! bucket by URL (`s3://bucket/prefix`, build feature `s3`).
//!
//! Keys are `{tenant}/{image_id}/{name}.{ext}`: deterministic, so a
//! redelivered job overwrites the same objects. Jobs' object sources are
//! read from `{inbox_prefix}/{tenant}/{key}` in the same store.
//!
//! `object_store`'s local backend writes a temporary file and renames it
//! (atomic) but does not fsync; a job is acknowledged only once its objects
//! are durable, so after a local put the file and its directories are
//! synced here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};

use crate::index::{ImageId, TenantId};
use crate::jobs::JobError;

/// `[store]`
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// A local directory (created if missing), or a URL such as
    /// `s3://bucket/prefix` (credentials from the usual `AWS_*`
    /// environment variables; needs the `s3` build feature).
    pub url: String,
    /// Keep each original as `{tenant}/{image_id}/original.{ext}`, so that
    /// `imgtag reprocess` can re-run images whatever their source was.
    pub keep_originals: bool,
    /// Jobs' `object` sources are read under `{inbox_prefix}/{tenant}/`.
    pub inbox_prefix: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: ".imgtag/objects".into(),
            keep_originals: true,
            inbox_prefix: "inbox".into(),
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &redact_url(&self.url))
            .field("keep_originals", &self.keep_originals)
            .field("inbox_prefix", &self.inbox_prefix)
            .finish()
    }
}

impl StoreConfig {
    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.url.trim().is_empty() {
            return Err("url must not be empty".into());
        }
        let prefix_ok = !self.inbox_prefix.is_empty()
            && self
                .inbox_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && !self.inbox_prefix.starts_with('.');
        if !prefix_ok {
            return Err("inbox_prefix must be one path segment of [A-Za-z0-9._-]".into());
        }
        Ok(())
    }
}

/// A URL with any password or query string (which may carry keys) hidden.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            if parsed.query().is_some() {
                parsed.set_query(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

/// The opened store.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    inner: Arc<dyn ObjectStore>,
    /// The root directory when the store is local (for fsync).
    local_root: Option<PathBuf>,
    description: String,
    inbox_prefix: String,
}

impl ObjectStorage {
    /// Opens the configured store (creating a local directory).
    pub fn open(config: &StoreConfig) -> Result<Self, JobError> {
        let unavailable = |e: String| JobError::StoreUnavailable(e);
        if config.url.contains("://") && !config.url.starts_with("file://") {
            let url =
                url::Url::parse(&config.url).map_err(|e| unavailable(format!("store url: {e}")))?;
            let (store, prefix) = object_store::parse_url(&url).map_err(|e| {
                unavailable(format!(
                    "{}: {e} (S3 needs imgtag built with the `s3` feature)",
                    redact_url(&config.url)
                ))
            })?;
            let store: Arc<dyn ObjectStore> = Arc::from(store);
            let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
                store
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
            };
            return Ok(Self {
                inner: store,
                local_root: None,
                description: redact_url(&config.url),
                inbox_prefix: config.inbox_prefix.clone(),
            });
        }
        let dir = PathBuf::from(config.url.strip_prefix("file://").unwrap_or(&config.url));
        fs_err::create_dir_all(&dir).map_err(|e| unavailable(e.to_string()))?;
        let root = fs_err::canonicalize(&dir).map_err(|e| unavailable(e.to_string()))?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| unavailable(format!("{}: {e}", root.display())))?;
        Ok(Self {
            inner: Arc::new(store),
            description: root.display().to_string(),
            local_root: Some(root),
            inbox_prefix: config.inbox_prefix.clone(),
        })
    }

    /// Where the store is, for people (secrets redacted).
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// The key of one image's rendition (or `original`).
    pub fn image_key(tenant: &TenantId, image: ImageId, name: &str, extension: &str) -> String {
        format!("{tenant}/{image}/{name}.{extension}")
    }

    /// The key an `object` source names, inside the tenant's inbox.
    pub fn inbox_key(&self, tenant: &TenantId, key: &str) -> String {
        format!("{}/{tenant}/{key}", self.inbox_prefix)
    }

    /// Writes `bytes` at `key` durably (atomic replace).
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), JobError> {
        let location = object_path(key)?;
        self.inner
            .put(&location, bytes.into())
            .await
            .map_err(|e| JobError::StoreUnavailable(format!("put {key}: {e}")))?;
        if let Some(root) = &self.local_root {
            let path = root.join(key);
            let root = root.clone();
            tokio::task::spawn_blocking(move || sync_path(&root, &path))
                .await
                .map_err(|e| JobError::StoreUnavailable(format!("sync {key}: {e}")))?
                .map_err(|e| JobError::StoreUnavailable(format!("sync {key}: {e}")))?;
        }
        Ok(())
    }

    /// [`ObjectStorage::put`] taking its key by value (for joined futures).
    pub async fn put_owned(&self, key: String, bytes: Bytes) -> Result<(), JobError> {
        self.put(&key, bytes).await
    }

    /// Reads `key`, refusing objects larger than `limit` bytes before
    /// reading them.
    pub async fn get(&self, key: &str, limit: u64) -> Result<Bytes, JobError> {
        let location = object_path(key)?;
        let read_error = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => JobError::SourceNotFound(key.to_owned()),
            other => JobError::SourceUnavailable {
                what: key.to_owned(),
                message: other.to_string(),
            },
        };
        let meta = self.inner.head(&location).await.map_err(read_error)?;
        if meta.size > limit {
            return Err(JobError::SourceTooLarge {
                size: meta.size,
                limit,
            });
        }
        let bytes = self
            .inner
            .get(&location)
            .await
            .map_err(read_error)?
            .bytes()
            .await
            .map_err(read_error)?;
        if bytes.len() as u64 > limit {
            return Err(JobError::SourceTooLarge {
                size: bytes.len() as u64,
                limit,
            });
        }
        Ok(bytes)
    }
}

fn object_path(key: &str) -> Result<ObjectPath, JobError> {
    ObjectPath::parse(key).map_err(|e| JobError::Invalid(format!("object key {key:?}: {e}")))
}

/// fsyncs `path` and every directory from its parent up to `root`.
fn sync_path(root: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::File::options().read(true).open(path)?.sync_all()?;
    let mut dir = path.parent();
    while let Some(current) = dir {
        std::fs::File::options()
            .read(true)
            .open(current)?
            .sync_all()?;
        if current == root {
            break;
        }
        dir = current.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(dir: &Path) -> ObjectStorage {
        ObjectStorage::open(&StoreConfig {
            url: dir.join("objects").display().to_string(),
            ..StoreConfig::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn local_round_trip_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = local(dir.path());
        store
            .put("t/x/thumb.webp", Bytes::from_static(b"12345"))
            .await
            .unwrap();
        assert_eq!(&store.get("t/x/thumb.webp", 5).await.unwrap()[..], b"12345");
        let error = store.get("t/x/thumb.webp", 4).await.unwrap_err();
        assert_eq!(error.code(), "source.too_large");
        let error = store.get("t/x/absent.webp", 4).await.unwrap_err();
        assert_eq!(error.code(), "source.not_found");
    }

    #[tokio::test]
    async fn a_blocked_path_is_a_retryable_store_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = local(dir.path());
        fs_err::write(dir.path().join("objects/t"), b"in the way").unwrap();
        let error = store
            .put("t/x/thumb.webp", Bytes::from_static(b"1"))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "store.unavailable");
        assert!(error.is_retryable());
    }

    #[test]
    fn secrets_in_urls_are_redacted() {
        assert_eq!(
            redact_url("amqp://user:secret@host:5672/%2f"),
            "amqp://user:***@host:5672/%2f"
        );
        assert_eq!(redact_url("s3://bucket/p?key=abc"), "s3://bucket/p?***");
        let config = StoreConfig {
            url: "s3://u:pw@bucket/x".into(),
            ..StoreConfig::default()
        };
        assert!(!format!("{config:?}").contains("pw"));
    }
}
