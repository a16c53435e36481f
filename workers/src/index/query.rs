//! Requests and results shared by both backends.

use serde::{Deserialize, Serialize};

use super::filter::ScopedFilter;
use super::ids::ImageId;
use super::layout::VectorName;
use super::record::{ImageRecord, ImageVectors};

/// Most results one search or page returns.
pub const MAX_LIMIT: usize = 1000;

/// Approximate-search knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchParams {
    /// HNSW beam width (`None`: the engine's default, the index's
    /// `ef_construct`).
    pub hnsw_ef: Option<usize>,
    /// Exact (brute-force) search instead of HNSW.
    pub exact: bool,
}

/// A point as written: id, payload and vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint {
    /// The point id (derived from tenant and sha256).
    pub id: ImageId,
    /// The payload.
    pub record: ImageRecord,
    /// The vectors.
    pub vectors: ImageVectors,
}

/// Nearest-neighbour search as a backend runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSearch {
    /// Which vector to compare.
    pub vector: VectorName,
    /// The query vector.
    pub values: Vec<f32>,
    /// Tenant and conditions.
    pub filter: ScopedFilter,
    /// How many results.
    pub limit: usize,
    /// How many best results to skip (paging).
    pub offset: usize,
    /// Search knobs.
    pub params: SearchParams,
    /// Return the vectors too.
    pub with_vectors: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Cosine similarity to the query.
    pub score: f32,
    /// The image.
    #[serde(flatten)]
    pub image: StoredImage,
}

/// One stored image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredImage {
    /// Its payload.
    pub record: ImageRecord,
    /// Its vectors, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<ImageVectors>,
}

/// One page of a scroll.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    /// The images, ordered by id.
    pub images: Vec<StoredImage>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<ImageId>,
}

/// How many points carry one value of a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    /// The value.
    pub value: String,
    /// Points with it.
    pub count: u64,
}

/// Totals of the whole store (no records, nothing tenant-specific).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexInfo {
    /// `edge` or `server`.
    pub backend: &'static str,
    /// Data directory or collection.
    pub location: String,
    /// Points in all tenants.
    pub points: u64,
    /// Vectors held in an HNSW index (the rest is searched brute force).
    pub indexed_vectors: u64,
    /// Segments.
    pub segments: u64,
    /// Indexed payload fields.
    pub payload_indexes: Vec<String>,
}

/// What an optimisation did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimizeReport {
    /// Whether any segment changed.
    pub changed: bool,
    /// Seconds it took.
    pub seconds: f64,
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupReport {
    /// Where (a directory for `edge`, a snapshot name for `server`).
    pub location: String,
    /// Points in it.
    pub points: u64,
    /// Bytes written (0 when the server keeps the snapshot).
    pub bytes: u64,
}
