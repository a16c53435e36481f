//! The collection layout both backends create: named vectors, and the
//! payload fields that carry an index (everything a filter or facet uses).
//!
//! A future `clip` vector is added as a third [`VectorName`] and created on
//! existing stores with the engine's "create vector name" operation; points
//! written before simply lack it.

use serde::{Deserialize, Serialize};

use super::error::IndexError;

/// The named vectors of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorName {
    /// The classifier's image embedding (1280, cosine).
    Image,
    /// The text-comparable semantic vector (384, cosine).
    Semantic,
}

impl VectorName {
    /// Every vector of the layout.
    pub const ALL: [VectorName; 2] = [VectorName::Image, VectorName::Semantic];

    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Semantic => "semantic",
        }
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
            semantic_dimensions: 384,
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
}

impl Field {
    /// Every indexed field.
    pub const ALL: [Field; 17] = [
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
        }
    }

    /// Its index.
    pub fn kind(self) -> FieldKind {
        match self {
            Self::Tenant => FieldKind::Keyword { tenant: true },
            Self::CapturedAt | Self::IngestedAt => FieldKind::Datetime,
            Self::Gps => FieldKind::Geo,
            Self::NsfwFlagged => FieldKind::Bool,
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
            | Self::AnalyzerKeys => FieldKind::Keyword { tenant: false },
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
        }
    }
}
