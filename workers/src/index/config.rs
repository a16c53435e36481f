//! `[index]`: which backend, where, and the search and duplicate settings.

use serde::{Deserialize, Serialize};

use super::edge::EdgeSettings;
use super::layout::IndexLayout;
use super::query::SearchParams;

/// Which store the index lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// Qdrant's engine in process, on a data directory (the default).
    #[default]
    Edge,
    /// A Qdrant server or cluster over gRPC (always built in).
    Server,
}

/// `[index]`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    /// `edge` (embedded) or `server`.
    pub backend: BackendKind,
    /// Embedded store settings.
    pub edge: EdgeSettings,
    /// Server settings.
    pub server: ServerConfig,
    /// Vector sizes.
    pub layout: IndexLayout,
    /// Default search knobs.
    pub search: SearchParams,
    /// Near-duplicate thresholds.
    pub duplicates: DuplicateSettings,
}

impl IndexConfig {
    /// Checks values that parse but cannot work (`index.<key>: why`).
    pub fn validate(&self) -> Result<(), String> {
        self.edge.validate().map_err(|e| format!("edge.{e}"))?;
        self.layout.validate().map_err(|e| format!("layout.{e}"))?;
        self.duplicates
            .validate()
            .map_err(|e| format!("duplicates.{e}"))?;
        if let Some(ef) = self.search.hnsw_ef
            && !(1..=10_000).contains(&ef)
        {
            return Err(format!("search.hnsw_ef = {ef}: must be 1..=10000"));
        }
        if self.backend == BackendKind::Server {
            self.server.validate().map_err(|e| format!("server.{e}"))?;
        }
        Ok(())
    }
}

/// `[index.duplicates]`
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DuplicateSettings {
    /// Largest perceptual-hash Hamming distance of a near duplicate (0..=7).
    pub phash_max_distance: u32,
    /// Smallest `image`-vector cosine that confirms a near duplicate.
    pub min_cosine: f32,
}

impl Default for DuplicateSettings {
    fn default() -> Self {
        Self {
            phash_max_distance: 6,
            min_cosine: 0.9,
        }
    }
}

impl DuplicateSettings {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), String> {
        if self.phash_max_distance > 7 {
            return Err(format!(
                "phash_max_distance = {}: at most 7 (candidates come from 8-bit bands)",
                self.phash_max_distance
            ));
        }
        if !(-1.0..=1.0).contains(&self.min_cosine) {
            return Err(format!("min_cosine = {}: must be -1..=1", self.min_cosine));
        }
        Ok(())
    }
}

/// `[index.server]`: a Qdrant server or cluster (gRPC).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// gRPC URL, e.g. `http://127.0.0.1:6334` or `https://qdrant.example:6334`.
    pub url: String,
    /// API key (prefer `IMGTAG__INDEX__SERVER__API_KEY`); never logged.
    pub api_key: Option<String>,
    /// Collection name.
    pub collection: String,
    /// Per-request timeout in seconds.
    pub timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:6334".into(),
            api_key: None,
            collection: "imgtag_images".into(),
            timeout_secs: 10,
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("collection", &self.collection)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl ServerConfig {
    /// Checks the URL scheme, collection name and timeout.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!(
                "url {:?}: must start with http:// or https://",
                self.url
            ));
        }
        if self.collection.is_empty()
            || self.collection.len() > 255
            || !self
                .collection
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        {
            return Err(format!(
                "collection {:?}: 1-255 of A-Z, a-z, 0-9, '_', '-'",
                self.collection
            ));
        }
        if !(1..=600).contains(&self.timeout_secs) {
            return Err(format!(
                "timeout_secs = {}: must be 1..=600",
                self.timeout_secs
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_is_never_printed() {
        let config = ServerConfig {
            api_key: Some("s3cr3t".into()),
            ..ServerConfig::default()
        };
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("s3cr3t") && printed.contains("***"),
            "{printed}"
        );
    }
}
