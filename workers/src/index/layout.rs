//! The collection layout both backends create: named vectors, and the
//! payload fields that carry an index (everything a filter or facet uses).
//!
//! A vector space that changes (a new text encoder) gets a new store name:
//! the `semantic` vector is stored as `semantic_v2` (Universal Sentence
//! Encoder Multilingual, 512); `semantic` (all-MiniLM-L6-v2, 384) is
//! retired. `imgtag index migrate` ([`MigrationPlan`]) deletes retired
//! vectors and creates missing ones with the engine's "create vector name"
//! operation; points written before lack the new vector until
//! `imgtag reprocess --only-stale` computes it, so vectors of two spaces are
//! never compared and no image is lost on the way.

use serde::{Deserialize, Serialize};

use super::error::IndexError;

/// The named vectors of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorName {
    /// The classifier's image embedding (1280, cosine).
    Image,
    /// The text-comparable semantic vector (512, cosine).
    Semantic,
}

impl VectorName {
    /// Every vector of the layout.
    pub const ALL: [VectorName; 2] = [VectorName::Image, VectorName::Semantic];

    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Semantic => "semantic_v2",
        }
    }
}

/// Store names of vectors of spaces that are no longer written:
/// `semantic` held all-MiniLM-L6-v2's 384-d ConSE vectors.
pub const RETIRED_VECTORS: [&str; 1] = ["semantic"];

/// What moves a store's vectors to the current layout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MigrationPlan {
    /// Vectors to delete (retired spaces, or a size that changed), with
    /// every point's value for them.
    pub delete: Vec<String>,
    /// Vectors to create (points get them when reprocessed).
    pub create: Vec<VectorName>,
}

impl MigrationPlan {
    /// Whether the store already has the layout.
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.create.is_empty()
    }

    /// For the error that sends people to `imgtag index migrate`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.delete.is_empty() {
            parts.push(format!("retired vectors {}", self.delete.join(", ")));
        }
        if !self.create.is_empty() {
            let names: Vec<_> = self.create.iter().map(|n| n.as_str()).collect();
            parts.push(format!("missing vectors {}", names.join(", ")));
        }
        parts.join("; ")
    }
}

/// Vector sizes (all cosine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexLayout {
    /// Size of the `image` vector (the classifier's embedding).
    pub image_dimensions: usize,
    /// Size of the `semantic` vector (the text encoder's space).
    pub semantic_dimensions: usize,
}

impl Default for IndexLayout {
    fn default() -> Self {
        Self {
            image_dimensions: 1280,
            semantic_dimensions: 512,
        }
    }
}

impl IndexLayout {
    /// Size of `name`.
    pub fn dimensions(&self, name: VectorName) -> usize {
        match name {
            VectorName::Image => self.image_dimensions,
            VectorName::Semantic => self.semantic_dimensions,
        }
    }

    /// How a store whose dense vectors are `existing` (store name -> size,
    /// and whether the distance is cosine) moves to this layout. The `image`
    /// vector cannot change size in place (it is not recomputable without
    /// the classifier); a `semantic` vector of the wrong size is replaced.
    pub fn migration(
        &self,
        existing: &std::collections::BTreeMap<String, (usize, bool)>,
    ) -> Result<MigrationPlan, String> {
        let mut plan = MigrationPlan::default();
        for name in VectorName::ALL {
            match existing.get(name.as_str()) {
                Some(&(size, true)) if size == self.dimensions(name) => {}
                None => plan.create.push(name),
                Some(&(size, cosine)) if name == VectorName::Semantic => {
                    tracing::warn!(
                        vector = name.as_str(),
                        size,
                        cosine,
                        "replacing a vector of another layout"
                    );
                    plan.delete.push(name.as_str().to_owned());
                    plan.create.push(name);
                }
                Some(&(size, cosine)) => {
                    return Err(format!(
                        "`{}` vector is {size}-d{}, expected {}-d cosine; it cannot be migrated in place",
                        name.as_str(),
                        if cosine { " cosine" } else { " (not cosine)" },
                        self.dimensions(name)
                    ));
                }
            }
        }
        plan.delete.extend(
            RETIRED_VECTORS
                .iter()
                .filter(|name| existing.contains_key(**name))
                .map(|name| (*name).to_owned()),
        );
        Ok(plan)
    }

    /// Checks the size and values of a vector.
    pub fn check_vector(&self, name: VectorName, values: &[f32]) -> Result<(), IndexError> {
        let expected = self.dimensions(name);
        if values.len() != expected {
            return Err(IndexError::InvalidInput(format!(
                "{} vector has {} dimensions, the index expects {expected}",
                name.as_str(),
                values.len()
            )));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(IndexError::InvalidInput(format!(
                "{} vector contains NaN or infinity",
                name.as_str()
            )));
        }
        if values.iter().all(|v| *v == 0.0) {
            return Err(IndexError::InvalidInput(format!(
                "{} vector is all zeros (no direction for cosine)",
                name.as_str()
            )));
        }
        Ok(())
    }

    /// Checks the sizes are usable.
    pub fn validate(&self) -> Result<(), String> {
        for name in VectorName::ALL {
            let size = self.dimensions(name);
            if !(1..=65_536).contains(&size) {
                return Err(format!(
                    "{}_dimensions = {size}: must be 1..=65536",
                    name.as_str()
                ));
            }
        }
        Ok(())
    }
}

/// The kind of payload index on a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Keyword; the tenant field is marked as the tenant.
    Keyword {
        /// The field that partitions data by tenant.
        tenant: bool,
    },
    /// RFC 3339 datetime.
    Datetime,
    /// Geo point.
    Geo,
    /// Boolean.
    Bool,
    /// Float.
    Float,
    /// Full text: space-separated terms, phrase matching (see
    /// [`super::text`]).
    Text,
}

/// Payload fields that carry an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `tenant_id`.
    Tenant,
    /// `customer_id`.
    Customer,
    /// `project_id`.
    Project,
    /// `sha256`.
    Sha256,
    /// `phash_bands`.
    PhashBands,
    /// `tags`.
    Tags,
    /// `nsfw.flagged`.
    NsfwFlagged,
    /// `quality.flags`.
    QualityFlags,
    /// `quality.sharpness`.
    Sharpness,
    /// `metadata.captured_at`.
    CapturedAt,
    /// `metadata.captured_month`.
    CapturedMonth,
    /// `metadata.gps`.
    Gps,
    /// `metadata.format`.
    Format,
    /// `label_pairs`.
    Labels,
    /// `analyzer_keys`.
    AnalyzerKeys,
    /// `ocr_terms`.
    OcrTerms,
    /// `ingested_at`.
    IngestedAt,
    /// `document.type`.
    DocumentType,
    /// `document.identity`.
    DocumentIdentity,
    /// `document.expires_on`.
    DocumentExpiresOn,
}

impl Field {
    /// Every indexed field.
    pub const ALL: [Field; 20] = [
        Field::Tenant,
        Field::Customer,
        Field::Project,
        Field::Sha256,
        Field::PhashBands,
        Field::Tags,
        Field::NsfwFlagged,
        Field::QualityFlags,
        Field::Sharpness,
        Field::CapturedAt,
        Field::CapturedMonth,
        Field::Gps,
        Field::Format,
        Field::Labels,
        Field::AnalyzerKeys,
        Field::OcrTerms,
        Field::IngestedAt,
        Field::DocumentType,
        Field::DocumentIdentity,
        Field::DocumentExpiresOn,
    ];

    /// The payload path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Tenant => "tenant_id",
            Self::Customer => "customer_id",
            Self::Project => "project_id",
            Self::Sha256 => "sha256",
            Self::PhashBands => "phash_bands",
            Self::Tags => "tags",
            Self::NsfwFlagged => "nsfw.flagged",
            Self::QualityFlags => "quality.flags",
            Self::Sharpness => "quality.sharpness",
            Self::CapturedAt => "metadata.captured_at",
            Self::CapturedMonth => "metadata.captured_month",
            Self::Gps => "metadata.gps",
            Self::Format => "metadata.format",
            Self::Labels => "label_pairs",
            Self::AnalyzerKeys => "analyzer_keys",
            Self::OcrTerms => "ocr_terms",
            Self::IngestedAt => "ingested_at",
            Self::DocumentType => "document.type",
            Self::DocumentIdentity => "document.identity",
            Self::DocumentExpiresOn => "document.expires_on",
        }
    }

    /// Its index.
    pub fn kind(self) -> FieldKind {
        match self {
            Self::Tenant => FieldKind::Keyword { tenant: true },
            Self::CapturedAt | Self::IngestedAt | Self::DocumentExpiresOn => FieldKind::Datetime,
            Self::Gps => FieldKind::Geo,
            Self::NsfwFlagged | Self::DocumentIdentity => FieldKind::Bool,
            Self::Sharpness => FieldKind::Float,
            Self::OcrTerms => FieldKind::Text,
            Self::Customer
            | Self::Project
            | Self::Sha256
            | Self::PhashBands
            | Self::Tags
            | Self::QualityFlags
            | Self::CapturedMonth
            | Self::Format
            | Self::Labels
            | Self::AnalyzerKeys
            | Self::DocumentType => FieldKind::Keyword { tenant: false },
        }
    }
}

/// Fields a facet (value counts) can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacetField {
    /// Tag names.
    Tag,
    /// Customers.
    Customer,
    /// Projects.
    Project,
    /// Image formats.
    Format,
    /// Capture months (`YYYY-MM`).
    CaptureMonth,
    /// Quality flags.
    QualityFlag,
    /// Document types (`none` for photos).
    DocumentType,
}

impl FacetField {
    /// The indexed field behind it.
    pub fn field(self) -> Field {
        match self {
            Self::Tag => Field::Tags,
            Self::Customer => Field::Customer,
            Self::Project => Field::Project,
            Self::Format => Field::Format,
            Self::CaptureMonth => Field::CapturedMonth,
            Self::QualityFlag => Field::QualityFlags,
            Self::DocumentType => Field::DocumentType,
        }
    }
}
