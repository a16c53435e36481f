//! The object store holding renditions, originals, claims and the jobs'
//! inbox, through the `object_store` crate: a local directory by default, or
//! an S3-compatible bucket by URL (`s3://bucket/prefix`).
//!
//! Keys are `{tenant}/{image_id}/{name}.{ext}`: deterministic, so a
//! redelivered job overwrites the same objects. Jobs' object sources are
//! read from `{inbox_prefix}/{tenant}/{key}` in the same store. An image's
//! claim is `{tenant}/{image_id}/claim.json`, created at most once
//! ([`ObjectStorage::claim`]), so that one job among workers does an image's
//! once-only effects.
//!
//! S3 stores are object_store's S3 client: configured from the `AWS_*`
//! environment variables like the AWS tools (credentials, region, endpoint,
//! web identity, container credentials), then from the `[store]` keys, which
//! win. Conditional writes (`If-None-Match: *`) are on by default; claims
//! need them. TLS goes through reqwest and rustls with ring
//! ([`install_crypto_provider`]), trusting the system's roots and
//! `[store] ca_file`.
//!
//! `object_store`'s local backend writes a temporary file and renames it (or
//! hard-links it, for a create) atomically but does not fsync; a job is
//! acknowledged only once its objects are durable, so after a local put the
//! file and its directories are synced here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    Certificate, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
};
use serde::{Deserialize, Serialize};

use crate::index::{ImageId, TenantId};
use crate::jobs::JobError;

/// The name of an image's claim object, beside its renditions.
pub const CLAIM: &str = "claim.json";

/// Largest CA file `[store] ca_file` may name.
const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Largest claim object read back (a claim is about 100 bytes).
const MAX_CLAIM_BYTES: u64 = 4096;

/// Tries of [`ObjectStorage::claim`] when the claim vanishes between the
/// refused create and the read (released meanwhile, or, on S3, a
/// conflicting create still in flight).
const CLAIM_ATTEMPTS: u32 = 5;

/// `[store]`
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// A local directory (created if missing), `file://` and a path, or
    /// `s3://bucket/prefix` (credentials from the usual `AWS_*`
    /// environment variables, never from this file).
    pub url: String,
    /// Keep each original as `{tenant}/{image_id}/original.{ext}`, so that
    /// `imgtag reprocess` can re-run images whatever their source was.
    pub keep_originals: bool,
    /// Jobs' `object` sources are read under `{inbox_prefix}/{tenant}/`.
    pub inbox_prefix: String,
    /// S3: the endpoint of an S3-compatible server
    /// (`https://minio.internal:9000`); wins over `AWS_ENDPOINT` and
    /// `AWS_ENDPOINT_URL_S3`. None: AWS itself.
    pub endpoint: Option<String>,
    /// S3: the region requests are signed for; wins over `AWS_REGION` and
    /// `AWS_DEFAULT_REGION`. None: from them, else `us-east-1`.
    pub region: Option<String>,
    /// S3: allow an `http://` endpoint (unencrypted). False leaves it to
    /// `AWS_ALLOW_HTTP`.
    pub allow_http: bool,
    /// S3: virtual-hosted-style requests (`https://bucket.host/key`) instead
    /// of path-style (`https://host/bucket/key`, what most self-hosted
    /// servers expect). With an `endpoint`, that endpoint must then name the
    /// bucket. False leaves it to `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`.
    pub virtual_hosted_style: bool,
    /// S3: conditional writes, which claims need: `etag` (`If-None-Match`
    /// and `If-Match` headers: AWS S3, MinIO, Ceph RGW, Cloudflare R2) or
    /// `disabled` (claims then fail with `store.unavailable`). Wins over
    /// `AWS_CONDITIONAL_PUT`.
    pub conditional_put: ConditionalPut,
    /// S3: a PEM file of CA certificates trusted besides the system's roots
    /// (a server with a private CA; at most 1 MiB).
    pub ca_file: Option<PathBuf>,
}

/// `[store] conditional_put`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionalPut {
    /// `If-None-Match: *` for creates, `If-Match` for updates.
    #[default]
    Etag,
    /// No conditional writes: the server does not support them.
    Disabled,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: imgtag_models::home::data_dir()
                .join("objects")
                .to_string_lossy()
                .into_owned(),
            keep_originals: true,
            inbox_prefix: "inbox".into(),
            endpoint: None,
            region: None,
            allow_http: false,
            virtual_hosted_style: false,
            conditional_put: ConditionalPut::Etag,
            ca_file: None,
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &redact_url(&self.url))
            .field("keep_originals", &self.keep_originals)
            .field("inbox_prefix", &self.inbox_prefix)
            .field("endpoint", &self.endpoint.as_deref().map(redact_url))
            .field("region", &self.region)
            .field("allow_http", &self.allow_http)
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .field("conditional_put", &self.conditional_put)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Where a configured store is.
enum Location {
    /// A directory.
    Local(PathBuf),
    /// A bucket and a key prefix (maybe empty).
    S3 { bucket: String, prefix: String },
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
        match self.location()? {
            Location::Local(_) => {
                let s3_only = [
                    ("endpoint", self.endpoint.is_some()),
                    ("region", self.region.is_some()),
                    ("allow_http", self.allow_http),
                    ("virtual_hosted_style", self.virtual_hosted_style),
                    ("ca_file", self.ca_file.is_some()),
                    (
                        "conditional_put",
                        self.conditional_put != ConditionalPut::Etag,
                    ),
                ];
                if let Some((key, _)) = s3_only.iter().find(|(_, set)| *set) {
                    return Err(format!(
                        "{key} applies to s3:// stores only, and url is a local directory"
                    ));
                }
            }
            Location::S3 { .. } => self.validate_s3()?,
        }
        Ok(())
    }

    fn validate_s3(&self) -> Result<(), String> {
        if let Some(endpoint) = &self.endpoint {
            let parsed = url::Url::parse(endpoint)
                .map_err(|e| format!("endpoint {:?}: {e}", redact_url(endpoint)))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(format!(
                    "endpoint must be an http:// or https:// URL with a host, got {:?}",
                    redact_url(endpoint)
                ));
            }
            if !parsed.username().is_empty() || parsed.password().is_some() {
                return Err(
                    "endpoint must not hold credentials: set AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY in the environment"
                        .into(),
                );
            }
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err("endpoint must not have a query or a fragment".into());
            }
            if parsed.scheme() == "http" && !self.allow_http {
                return Err(format!(
                    "endpoint {endpoint} is http://, which sends objects and signed requests \
                     unencrypted: use https://, or set allow_http = true"
                ));
            }
        }
        if let Some(region) = &self.region {
            let ok = !region.is_empty()
                && region.len() <= 64
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(format!(
                    "region must be a region name such as eu-west-1, got {region:?}"
                ));
            }
        }
        if let Some(path) = &self.ca_file
            && path.as_os_str().is_empty()
        {
            return Err("ca_file must not be empty (leave it out instead)".into());
        }
        Ok(())
    }

    /// The directory or bucket `url` names.
    fn location(&self) -> Result<Location, String> {
        let url = self.url.trim();
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(Location::Local(PathBuf::from(path)));
        }
        if !url.contains("://") {
            return Ok(Location::Local(PathBuf::from(&self.url)));
        }
        let parsed = url::Url::parse(url).map_err(|e| format!("url {:?}: {e}", redact_url(url)))?;
        if !matches!(parsed.scheme(), "s3" | "s3a") {
            return Err(format!(
                "url {:?}: a local directory, file://PATH or s3://BUCKET/PREFIX",
                redact_url(url)
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("url must not hold credentials: set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY in the environment"
                .into());
        }
        if parsed.query().is_some() || parsed.fragment().is_some() || parsed.port().is_some() {
            return Err(format!(
                "url {:?}: s3://BUCKET/PREFIX, without a port, query or fragment \
                 (a server's address goes in endpoint)",
                redact_url(url)
            ));
        }
        let bucket = parsed.host_str().unwrap_or_default().to_owned();
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'));
        if !bucket_ok {
            return Err(format!(
                "url {:?}: the bucket name must be 3-63 characters of a-z, 0-9, '.' and '-'",
                redact_url(url)
            ));
        }
        let prefix = parsed.path().trim_matches('/').to_owned();
        if !prefix.is_empty() {
            ObjectPath::parse(&prefix)
                .map_err(|e| format!("url {:?}: prefix: {e}", redact_url(url)))?;
        }
        Ok(Location::S3 { bucket, prefix })
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

/// Makes ring rustls' process-wide default crypto provider, unless one is
/// installed already. reqwest (the S3 client's HTTP, and the API client's)
/// is built without a provider of its own and panics when it builds a
/// client without one; ring is also what lapin uses. Safe to call often.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another installer is fine: one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The outcome of [`ObjectStorage::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This call created the claim: the caller's job does the effects.
    Won,
    /// The claim exists and names the caller's job id: a redelivery of the
    /// job that won.
    Ours,
    /// Another job holds the claim.
    Held {
        /// The job that holds it.
        job_id: String,
        /// When that job claimed it.
        claimed_at: DateTime<Utc>,
    },
}

/// The body of `claim.json`.
#[derive(Debug, Serialize, Deserialize)]
struct ClaimRecord {
    job_id: String,
    /// RFC 3339, UTC.
    claimed_at: String,
}

/// The opened store.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    inner: Arc<dyn ObjectStore>,
    /// The root directory when the store is local (for fsync).
    local_root: Option<PathBuf>,
    description: String,
    inbox_prefix: String,
    /// Whether creates can be conditional (claims).
    conditional_put: bool,
}

impl ObjectStorage {
    /// Opens the configured store (creating a local directory). An S3
    /// store reads the `AWS_*` variables of the process environment.
    pub fn open(config: &StoreConfig) -> Result<Self, JobError> {
        let env = std::env::vars_os()
            .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)));
        Self::open_with_env(config, env)
    }

    /// [`ObjectStorage::open`] with the `AWS_*` variables taken from `env`
    /// instead of the process environment (other names are ignored).
    pub fn open_with_env<I>(config: &StoreConfig, env: I) -> Result<Self, JobError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let unavailable = |e: String| JobError::StoreUnavailable(e);
        config
            .validate()
            .map_err(|e| unavailable(format!("store.{e}")))?;
        match config.location().map_err(unavailable)? {
            Location::S3 { bucket, prefix } => {
                let store = open_s3(config, &bucket, env)?;
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(store)
                } else {
                    let prefix = object_path(&prefix)?;
                    Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
                };
                let mut description = redact_url(&config.url);
                if let Some(endpoint) = &config.endpoint {
                    description.push_str(&format!(" at {}", redact_url(endpoint)));
                }
                Ok(Self {
                    inner: store,
                    local_root: None,
                    description,
                    inbox_prefix: config.inbox_prefix.clone(),
                    conditional_put: config.conditional_put == ConditionalPut::Etag,
                })
            }
            Location::Local(dir) => {
                fs_err::create_dir_all(&dir).map_err(|e| unavailable(e.to_string()))?;
                let root = fs_err::canonicalize(&dir).map_err(|e| unavailable(e.to_string()))?;
                let store = LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| unavailable(format!("{}: {e}", root.display())))?;
                Ok(Self {
                    inner: Arc::new(store),
                    description: root.display().to_string(),
                    local_root: Some(root),
                    inbox_prefix: config.inbox_prefix.clone(),
                    conditional_put: true,
                })
            }
        }
    }

    /// Where the store is, for people (secrets redacted).
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Whether [`ObjectStorage::claim`] can work: false on an S3 store
    /// configured with `conditional_put = "disabled"`.
    pub fn supports_claims(&self) -> bool {
        self.conditional_put
    }

    /// The key of one image's rendition (or `original`).
    pub fn image_key(tenant: &TenantId, image: ImageId, name: &str, extension: &str) -> String {
        format!("{tenant}/{image}/{name}.{extension}")
    }

    /// The key of one image's claim.
    pub fn claim_key(tenant: &TenantId, image: ImageId) -> String {
        format!("{tenant}/{image}/{CLAIM}")
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
        self.sync(key).await
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

    /// The keys under `prefix` (whole path segments: `t/x` holds `t/x/a`,
    /// not `t/xy`), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, JobError> {
        let location = object_path(prefix)?;
        let mut keys: Vec<String> = self
            .inner
            .list(Some(&location))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(|e| JobError::StoreUnavailable(format!("list {prefix}: {e}")))?;
        keys.sort();
        Ok(keys)
    }

    /// Claims an image for one job, atomically: creates
    /// `{tenant}/{image_id}/claim.json` (the job id and the time) only if it
    /// does not exist (a local hard link; on S3 a conditional put,
    /// `If-None-Match: *`). Of any number of concurrent claimers, on any
    /// number of workers, exactly one gets [`Claim::Won`]; the others read
    /// the claim and get [`Claim::Ours`] (a redelivery of the winning job)
    /// or [`Claim::Held`]. A won claim is durable (fsynced locally) before
    /// this returns. Store failures are `store.unavailable` (retryable),
    /// and so is a store whose conditional writes are disabled.
    pub async fn claim(
        &self,
        tenant: &TenantId,
        image_id: ImageId,
        job_id: &str,
    ) -> Result<Claim, JobError> {
        let key = Self::claim_key(tenant, image_id);
        if !self.conditional_put {
            return Err(JobError::StoreUnavailable(format!(
                "claim {key}: the store's conditional writes are disabled \
                 ([store] conditional_put = \"disabled\"), and claims need them"
            )));
        }
        let location = object_path(&key)?;
        let record = ClaimRecord {
            job_id: job_id.to_owned(),
            claimed_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        };
        let body = Bytes::from(
            serde_json::to_vec(&record)
                .map_err(|e| JobError::StoreUnavailable(format!("claim {key}: {e}")))?,
        );
        for attempt in 1..=CLAIM_ATTEMPTS {
            let created = self
                .inner
                .put_opts(
                    &location,
                    PutPayload::from(body.clone()),
                    PutOptions::from(PutMode::Create),
                )
                .await;
            match created {
                Ok(_) => {
                    self.sync(&key).await?;
                    return Ok(Claim::Won);
                }
                Err(object_store::Error::AlreadyExists { .. }) => {
                    match self.read_claim(&key, &location).await? {
                        Some(held) if held.job_id == job_id => return Ok(Claim::Ours),
                        Some(held) => {
                            let claimed_at = DateTime::parse_from_rfc3339(&held.claimed_at)
                                .map_err(|e| {
                                    JobError::StoreUnavailable(format!(
                                        "claim {key}: claimed_at {:?}: {e}",
                                        held.claimed_at
                                    ))
                                })?
                                .with_timezone(&Utc);
                            return Ok(Claim::Held {
                                job_id: held.job_id,
                                claimed_at,
                            });
                        }
                        // Gone again: released, or (S3) a conflicting
                        // create that has not landed yet. Try again.
                        None => {
                            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt)))
                                .await;
                        }
                    }
                }
                Err(e) => {
                    return Err(JobError::StoreUnavailable(format!("claim {key}: {e}")));
                }
            }
        }
        Err(JobError::StoreUnavailable(format!(
            "claim {key}: it existed but could not be read, {CLAIM_ATTEMPTS} times"
        )))
    }

    /// Removes an image's claim (whoever holds it); an absent claim is
    /// fine.
    pub async fn release_claim(
        &self,
        tenant: &TenantId,
        image_id: ImageId,
    ) -> Result<(), JobError> {
        self.delete(&Self::claim_key(tenant, image_id)).await
    }

    /// Deletes the object at `key` (durably, on a local store); an absent
    /// object is fine.
    pub async fn delete(&self, key: &str) -> Result<(), JobError> {
        let location = object_path(key)?;
        match self.inner.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(JobError::StoreUnavailable(format!("delete {key}: {e}"))),
        }
        self.sync_dir_of(key).await
    }

    /// Erases every object of one image: renditions, original and claim
    /// (everything under `{tenant}/{image_id}/`). Returns how many objects
    /// were deleted; none is fine.
    pub async fn delete_image(
        &self,
        tenant: &TenantId,
        image_id: ImageId,
    ) -> Result<u64, JobError> {
        let prefix = format!("{tenant}/{image_id}");
        let keys = self.list(&prefix).await?;
        let locations = keys
            .iter()
            .map(|key| object_path(key))
            .collect::<Result<Vec<_>, _>>()?;
        let deleted = self
            .inner
            .delete_stream(futures::stream::iter(locations.into_iter().map(Ok)).boxed())
            .try_fold(0u64, |count, _| async move { Ok(count + 1) })
            .await;
        let deleted = match deleted {
            Ok(count) => count,
            Err(e) => return Err(JobError::StoreUnavailable(format!("delete {prefix}/: {e}"))),
        };
        if let Some(root) = &self.local_root {
            // Leave no empty directory named after the image behind.
            let dir = root.join(&prefix);
            let root = root.clone();
            tokio::task::spawn_blocking(move || {
                match std::fs::remove_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(e),
                }
                let parent = dir.parent().unwrap_or(&root);
                sync_dir(parent)
            })
            .await
            .map_err(|e| JobError::StoreUnavailable(format!("delete {prefix}/: {e}")))?
            .map_err(|e| JobError::StoreUnavailable(format!("delete {prefix}/: {e}")))?;
        }
        Ok(deleted)
    }

    /// The claim at `key`, or None when there is none.
    async fn read_claim(
        &self,
        key: &str,
        location: &ObjectPath,
    ) -> Result<Option<ClaimRecord>, JobError> {
        let failed = |e: String| JobError::StoreUnavailable(format!("claim {key}: {e}"));
        let result = match self.inner.get(location).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(failed(e.to_string())),
        };
        if result.meta.size > MAX_CLAIM_BYTES {
            return Err(failed(format!("{} bytes, not a claim", result.meta.size)));
        }
        let bytes = match result.bytes().await {
            Ok(bytes) => bytes,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(failed(e.to_string())),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| failed(format!("not a claim: {e}")))
    }

    /// fsyncs a local object and its directories (nothing on S3).
    async fn sync(&self, key: &str) -> Result<(), JobError> {
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

    /// fsyncs the directory of a local key whose object was removed.
    async fn sync_dir_of(&self, key: &str) -> Result<(), JobError> {
        if let Some(root) = &self.local_root {
            let path = root.join(key);
            let dir = path.parent().unwrap_or(root).to_path_buf();
            tokio::task::spawn_blocking(move || match sync_dir(&dir) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            })
            .await
            .map_err(|e| JobError::StoreUnavailable(format!("sync {key}: {e}")))?
            .map_err(|e| JobError::StoreUnavailable(format!("sync {key}: {e}")))?;
        }
        Ok(())
    }
}

/// object_store's S3 client for `bucket`: the `AWS_*` variables of `env`,
/// then the `[store]` keys.
fn open_s3<I>(
    config: &StoreConfig,
    bucket: &str,
    env: I,
) -> Result<object_store::aws::AmazonS3, JobError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let unavailable = |e: String| JobError::StoreUnavailable(e);
    install_crypto_provider();
    let mut options = ClientOptions::new();
    if let Some(path) = &config.ca_file {
        for certificate in read_ca_file(path)? {
            options = options.with_root_certificate(certificate);
        }
    }
    // What AmazonS3Builder::from_env does, from `env`; on top of the CA
    // options, which `with_client_options` would replace.
    let mut builder = AmazonS3Builder::new().with_client_options(options);
    for (key, value) in env {
        if key.starts_with("AWS_")
            && let Ok(key) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>()
        {
            builder = builder.with_config(key, value);
        }
    }
    builder = builder.with_url(format!("s3://{bucket}"));
    if let Some(endpoint) = &config.endpoint {
        // AWS_ENDPOINT_URL_S3 would win over a plain endpoint.
        builder = builder
            .with_endpoint(endpoint)
            .with_config(AmazonS3ConfigKey::S3Endpoint, endpoint);
    }
    if let Some(region) = &config.region {
        builder = builder.with_region(region);
    }
    if config.allow_http {
        builder = builder.with_allow_http(true);
    }
    if config.virtual_hosted_style {
        builder = builder.with_virtual_hosted_style_request(true);
    }
    builder = builder.with_conditional_put(match config.conditional_put {
        ConditionalPut::Etag => S3ConditionalPut::ETagMatch,
        ConditionalPut::Disabled => S3ConditionalPut::Disabled,
    });
    builder.build().map_err(|e| {
        // object_store's messages name keys and values, never secrets.
        unavailable(format!("{}: {e}", redact_url(&config.url)))
    })
}

/// The certificates of `[store] ca_file`.
fn read_ca_file(path: &Path) -> Result<Vec<Certificate>, JobError> {
    let unreadable = |e: String| JobError::StoreUnavailable(format!("store.ca_file: {e}"));
    let size = fs_err::metadata(path)
        .map_err(|e| unreadable(e.to_string()))?
        .len();
    if size > MAX_CA_FILE_BYTES {
        return Err(unreadable(format!(
            "{} has {size} bytes, more than {MAX_CA_FILE_BYTES}",
            path.display()
        )));
    }
    let pem = fs_err::read(path).map_err(|e| unreadable(e.to_string()))?;
    let certificates = Certificate::from_pem_bundle(&pem)
        .map_err(|e| unreadable(format!("{}: {e}", path.display())))?;
    if certificates.is_empty() {
        return Err(unreadable(format!(
            "{} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certificates)
}

fn object_path(key: &str) -> Result<ObjectPath, JobError> {
    ObjectPath::parse(key).map_err(|e| JobError::Invalid(format!("object key {key:?}: {e}")))
}

/// fsyncs `path` and every directory from its parent up to `root`.
fn sync_path(root: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::File::options().read(true).open(path)?.sync_all()?;
    let mut dir = path.parent();
    while let Some(current) = dir {
        sync_dir(current)?;
        if current == root {
            break;
        }
        dir = current.parent();
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::options().read(true).open(dir)?.sync_all()
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

    fn tenant() -> TenantId {
        TenantId::new("acme").unwrap()
    }

    fn image(n: u8) -> ImageId {
        ImageId::derive(&tenant(), &format!("{n:064x}")).unwrap()
    }

    fn s3(url: &str) -> StoreConfig {
        StoreConfig {
            url: url.into(),
            ..StoreConfig::default()
        }
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

    #[tokio::test]
    async fn a_claim_is_won_once_then_ours_or_held_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let store = local(dir.path());
        let (tenant, first) = (tenant(), image(1));
        let before = Utc::now();
        assert_eq!(
            store.claim(&tenant, first, "job-1").await.unwrap(),
            Claim::Won
        );
        let key = ObjectStorage::claim_key(&tenant, first);
        assert_eq!(key, format!("acme/{first}/claim.json"));
        let body: serde_json::Value =
            serde_json::from_slice(&fs_err::read(dir.path().join("objects").join(&key)).unwrap())
                .unwrap();
        assert_eq!(body["job_id"], "job-1");

        // The same job again (a redelivery), then another job.
        assert_eq!(
            store.claim(&tenant, first, "job-1").await.unwrap(),
            Claim::Ours
        );
        match store.claim(&tenant, first, "job-2").await.unwrap() {
            Claim::Held { job_id, claimed_at } => {
                assert_eq!(job_id, "job-1");
                assert!(claimed_at >= before - chrono::Duration::milliseconds(1));
                assert!(claimed_at <= Utc::now());
                assert_eq!(
                    body["claimed_at"],
                    claimed_at.to_rfc3339_opts(SecondsFormat::Millis, true)
                );
            }
            other => panic!("{other:?}"),
        }
        // Another image is claimed apart.
        assert_eq!(
            store.claim(&tenant, image(2), "job-2").await.unwrap(),
            Claim::Won
        );

        store.release_claim(&tenant, first).await.unwrap();
        assert!(!dir.path().join("objects").join(&key).exists());
        store.release_claim(&tenant, first).await.unwrap();
        assert_eq!(
            store.claim(&tenant, first, "job-2").await.unwrap(),
            Claim::Won
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn of_concurrent_claimers_exactly_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = local(dir.path());
        for round in 0..8u8 {
            let image = image(round);
            let barrier = Arc::new(tokio::sync::Barrier::new(16));
            let tasks: Vec<_> = (0..16)
                .map(|n| {
                    let (store, barrier) = (store.clone(), Arc::clone(&barrier));
                    tokio::spawn(async move {
                        let job = format!("job-{n}");
                        barrier.wait().await;
                        (
                            job.clone(),
                            store.claim(&tenant(), image, &job).await.unwrap(),
                        )
                    })
                })
                .collect();
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(task.await.unwrap());
            }
            let winners: Vec<&String> = outcomes
                .iter()
                .filter(|(_, claim)| *claim == Claim::Won)
                .map(|(job, _)| job)
                .collect();
            assert_eq!(winners.len(), 1, "{outcomes:?}");
            for (_, claim) in &outcomes {
                match claim {
                    Claim::Won => {}
                    Claim::Held { job_id, .. } => assert_eq!(job_id, winners[0]),
                    Claim::Ours => panic!("no job claimed twice: {outcomes:?}"),
                }
            }
        }
    }

    #[tokio::test]
    async fn erasing_an_image_deletes_its_objects_and_its_claim_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = local(dir.path());
        let (tenant, doomed, kept) = (tenant(), image(1), image(2));
        for image in [doomed, kept] {
            for (name, ext) in [("thumb", "webp"), ("preview", "webp"), ("original", "png")] {
                let key = ObjectStorage::image_key(&tenant, image, name, ext);
                store.put(&key, Bytes::from_static(b"x")).await.unwrap();
            }
            assert_eq!(store.claim(&tenant, image, "j").await.unwrap(), Claim::Won);
        }
        assert_eq!(
            store.list(&format!("acme/{doomed}")).await.unwrap().len(),
            4
        );
        assert_eq!(store.delete_image(&tenant, doomed).await.unwrap(), 4);
        assert!(
            store
                .list(&format!("acme/{doomed}"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(!dir.path().join(format!("objects/acme/{doomed}")).exists());
        assert_eq!(
            store.list(&format!("acme/{kept}")).await.unwrap(),
            vec![
                format!("acme/{kept}/claim.json"),
                format!("acme/{kept}/original.png"),
                format!("acme/{kept}/preview.webp"),
                format!("acme/{kept}/thumb.webp"),
            ]
        );
        // Nothing left to erase is fine; the image can be claimed anew.
        assert_eq!(store.delete_image(&tenant, doomed).await.unwrap(), 0);
        assert_eq!(store.claim(&tenant, doomed, "k").await.unwrap(), Claim::Won);
    }

    #[test]
    fn s3_settings_are_validated() {
        assert!(s3("s3://imgtag-bucket/renditions").validate().is_ok());
        assert!(s3("s3a://imgtag-bucket").validate().is_ok());
        let refused = |config: StoreConfig, needle: &str| {
            let error = config.validate().unwrap_err();
            assert!(error.contains(needle), "{error}");
        };
        refused(s3("https://host/bucket"), "s3://BUCKET/PREFIX");
        refused(s3("s3://Bad_Bucket/x"), "bucket name");
        refused(s3("s3://key:secret@imgtag-bucket/x"), "AWS_ACCESS_KEY_ID");
        refused(s3("s3://imgtag-bucket:9000/x"), "endpoint");
        refused(s3("s3://imgtag-bucket/x?sig=1"), "query");
        let with = |f: fn(&mut StoreConfig)| {
            let mut config = s3("s3://imgtag-bucket/x");
            f(&mut config);
            config
        };
        refused(
            with(|c| c.endpoint = Some("http://127.0.0.1:9000".into())),
            "allow_http",
        );
        assert!(
            with(|c| {
                c.endpoint = Some("http://127.0.0.1:9000".into());
                c.allow_http = true;
            })
            .validate()
            .is_ok()
        );
        refused(with(|c| c.endpoint = Some("minio:9000".into())), "endpoint");
        refused(
            with(|c| c.endpoint = Some("https://user:pw@minio:9000".into())),
            "credentials",
        );
        refused(with(|c| c.region = Some("EU West".into())), "region");
        refused(with(|c| c.ca_file = Some(PathBuf::new())), "ca_file");
        // S3 keys on a local store are a mistake worth saying.
        let config = StoreConfig {
            region: Some("eu-west-1".into()),
            ..StoreConfig::default()
        };
        refused(config, "region applies to s3:// stores only");
    }

    #[tokio::test]
    async fn an_s3_store_opens_from_the_given_environment_without_a_request() {
        let env = [
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            ),
            ("HOME", "/nowhere"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let mut config = s3("s3://imgtag-bucket/some/prefix");
        config.endpoint = Some("https://s3.example.internal:9000".into());
        let store = ObjectStorage::open_with_env(&config, env.clone()).unwrap();
        assert_eq!(
            store.describe(),
            "s3://imgtag-bucket/some/prefix at https://s3.example.internal:9000/"
        );
        assert!(!format!("{store:?}").contains("EXAMPLEKEY"));
        assert!(store.supports_claims());
        // Claims refuse at once, without a request, when conditional
        // writes are switched off.
        config.conditional_put = ConditionalPut::Disabled;
        let store = ObjectStorage::open_with_env(&config, env).unwrap();
        assert!(!store.supports_claims());
        let error = store.claim(&tenant(), image(1), "j").await.unwrap_err();
        assert_eq!(error.code(), "store.unavailable");
        assert!(error.to_string().contains("conditional_put"), "{error}");
        // A CA file that is not one is refused when the store opens.
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("ca.pem");
        fs_err::write(&bogus, b"not a certificate").unwrap();
        config.ca_file = Some(bogus);
        let error = ObjectStorage::open_with_env(&config, Vec::new()).unwrap_err();
        assert!(error.to_string().contains("ca_file"), "{error}");
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
            endpoint: Some("https://k:pw2@host".into()),
            ..StoreConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("pw"), "{debug}");
    }
}
