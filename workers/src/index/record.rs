//! What the index stores per image: the payload ([`ImageRecord`]), built
//! from what ingestion knows ([`NewImage`]), and the vectors.
//!
//! A few payload fields are derived so that the engine's indexes can answer
//! queries it could not answer from the natural shape:
//! - `phash_bands`: the 64-bit perceptual hash cut into eight 8-bit bands
//!   (`"3:a7"`). Two hashes within Hamming distance 7 share at least one
//!   band (pigeonhole), so near-duplicate candidates are a keyword match.
//! - `label_pairs`: CRM labels as `"key=value"` keywords.
//! - `analyzer_keys`: each analyzer's version as `"id=version"` keywords,
//!   so "points missing one of the current versions" (stale for that
//!   analyzer) is one filter.
//! - `ocr_terms`: the OCR text as space-separated search terms (one per
//!   CJK character, one per word or number; see [`super::text`]), for the
//!   engine's full-text index.
//! - `metadata.captured_month` (`"2024-05"`) and `quality.flags`, for facets.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

pub use super::document_record::{DocumentRecord, FaceRecord, FacesRecord};
use super::error::IndexError;
use super::ids::{ImageId, TenantId, normalise_sha256, validate_identifier};
use super::layout::{IndexLayout, VectorName};

/// Most tags stored per image.
pub const MAX_TAGS: usize = 256;
/// Most CRM labels per image.
pub const MAX_LABELS: usize = 64;
/// Longest label key.
pub const MAX_LABEL_KEY: usize = 64;
/// Longest label value.
pub const MAX_LABEL_VALUE: usize = 256;
/// Longest customer or project id.
pub const MAX_CRM_ID: usize = 128;
/// Longest filename, source URI, rendition URI or free-text field.
pub const MAX_TEXT_FIELD: usize = 2048;
/// Most OCR lines stored per image.
pub const MAX_OCR_LINES: usize = 500;
/// Most bytes of OCR text stored per image (lines included).
pub const MAX_OCR_TEXT: usize = 16 * 1024;

/// What ingestion hands to the index for one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewImage {
    /// Owner.
    pub tenant_id: TenantId,
    /// CRM customer.
    pub customer_id: Option<String>,
    /// CRM project.
    pub project_id: Option<String>,
    /// sha256 of the original bytes (hex).
    pub sha256: String,
    /// 64-bit perceptual hash (16 hex digits).
    pub phash: String,
    /// Tags with score and provenance, by tag name.
    pub tag_scores: BTreeMap<String, TagScore>,
    /// NSFW verdict.
    pub nsfw: NsfwRecord,
    /// Quality signals.
    pub quality: QualityRecord,
    /// Image metadata.
    pub metadata: MetadataRecord,
    /// Stored renditions, by name.
    pub renditions: BTreeMap<String, RenditionRecord>,
    /// Where the original came from.
    pub source_uri: Option<String>,
    /// Original filename.
    pub filename: Option<String>,
    /// The job that last wrote the image (its idempotency key).
    #[serde(default)]
    pub job_id: Option<String>,
    /// CRM-supplied labels.
    pub labels: BTreeMap<String, String>,
    /// Version of each analyzer whose output the record holds, by analyzer
    /// (`classifier`, `nsfw`, `semantic`, `ocr`, `quality`).
    pub model_versions: BTreeMap<String, String>,
    /// The text read in the image.
    #[serde(default)]
    pub ocr: Option<OcrRecord>,
    /// The faces found.
    #[serde(default)]
    pub faces: Option<FacesRecord>,
    /// The document the image shows.
    #[serde(default)]
    pub document: Option<DocumentRecord>,
    /// The vectors.
    pub vectors: ImageVectors,
}

/// The vectors of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageVectors {
    /// The classifier's image embedding.
    pub image: Vec<f32>,
    /// The text-comparable semantic vector, when computed.
    pub semantic: Option<Vec<f32>>,
}

impl ImageVectors {
    /// The vector called `name`, if present.
    pub fn get(&self, name: VectorName) -> Option<&[f32]> {
        match name {
            VectorName::Image => Some(&self.image),
            VectorName::Semantic => self.semantic.as_deref(),
        }
    }

    /// Checks sizes against the layout and values for NaN/infinity.
    pub fn validate(&self, layout: &IndexLayout) -> Result<(), IndexError> {
        for name in VectorName::ALL {
            if let Some(values) = self.get(name) {
                layout.check_vector(name, values)?;
            }
        }
        Ok(())
    }
}

/// One tag's score and provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagScore {
    /// 0..=1.
    pub score: f32,
    /// `classifier`, `hierarchy`, `zero-shot`, `exif`, `check`, `ocr`.
    pub source: String,
    /// Model id@version (or rule set version) that produced it.
    pub model: String,
    /// The analyzer that produced it (empty in records written before
    /// analyzers were named: see [`TagScore::analyzer_name`]).
    #[serde(default)]
    pub analyzer: String,
}

impl TagScore {
    /// The analyzer that produced the tag; for records that predate the
    /// field, the one that owns its source.
    pub fn analyzer_name(&self) -> &str {
        if !self.analyzer.is_empty() {
            return &self.analyzer;
        }
        match self.source.as_str() {
            "classifier" | "hierarchy" => "classifier",
            "zero-shot" => "semantic",
            "exif" | "check" => "quality",
            "ocr" => "ocr",
            _ => "",
        }
    }
}

/// The text read in an image, as stored (bounded: at most
/// [`MAX_OCR_LINES`] lines and [`MAX_OCR_TEXT`] bytes of text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OcrRecord {
    /// Whether the text was read (`false`: the gate found too little text
    /// to be worth reading).
    pub read: bool,
    /// Why it was read or not (`always`, `classifier_document`,
    /// `probe_found_text`, `probe_found_little`).
    pub gate: String,
    /// The lines in reading order, joined by newlines.
    pub text: String,
    /// Lines found (before any bound).
    pub line_count: usize,
    /// The lines, with confidence and outline.
    pub lines: Vec<OcrLineRecord>,
    /// Clockwise rotation of the page content that was undone before
    /// reading (0, 90, 180, 270).
    pub rotation: u16,
    /// Whether the text holds CJK characters.
    pub has_cjk: bool,
    /// Whether lines or text were cut at a bound.
    pub truncated: bool,
}

/// One line of text read in an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrLineRecord {
    /// The text.
    pub text: String,
    /// Mean confidence of its characters, 0..=1.
    pub confidence: f32,
    /// Its outline in the pixels of the upright image: four corners,
    /// clockwise from top left.
    pub quad: [[f32; 2]; 4],
}

/// NSFW verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct NsfwRecord {
    /// 0..=1.
    pub score: f32,
    /// Score above the configured threshold.
    pub flagged: bool,
}

/// Quality signals and the flags they raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct QualityRecord {
    /// Laplacian variance.
    pub sharpness: f64,
    /// Mean luma 0..=255.
    pub mean_luma: f64,
    /// Raised flags: `too_small`, `blurry`, `underexposed`, `overexposed`.
    pub flags: Vec<String>,
}

/// Image metadata worth filtering and showing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MetadataRecord {
    /// Capture time, RFC 3339 UTC (EXIF times without a zone are taken as UTC).
    pub captured_at: Option<String>,
    /// `YYYY-MM` of `captured_at` (derived; for facets).
    #[serde(default)]
    pub captured_month: Option<String>,
    /// Camera make and model.
    pub camera: Option<String>,
    /// GPS position.
    pub gps: Option<GeoPoint>,
    /// Width in pixels (upright).
    pub width: u32,
    /// Height in pixels (upright).
    pub height: u32,
    /// Detected format (`jpeg`, `png`, ...).
    pub format: String,
}

/// A position in degrees, as Qdrant's geo index expects it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Longitude, -180..=180.
    pub lon: f64,
    /// Latitude, -90..=90.
    pub lat: f64,
}

/// One stored rendition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionRecord {
    /// Object-store URI.
    pub uri: String,
    /// `webp`, `avif`, `jpeg`, `png`.
    pub format: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// The stored payload of one image point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// Owner.
    pub tenant_id: TenantId,
    /// CRM customer.
    pub customer_id: Option<String>,
    /// CRM project.
    pub project_id: Option<String>,
    /// The point id.
    pub image_id: ImageId,
    /// sha256 of the original bytes (lowercase hex).
    pub sha256: String,
    /// 64-bit perceptual hash (16 lowercase hex digits).
    pub phash: String,
    /// Derived: the phash in eight 8-bit bands.
    pub phash_bands: Vec<String>,
    /// Tag names (sorted).
    pub tags: Vec<String>,
    /// Tags with score and provenance.
    pub tag_scores: BTreeMap<String, TagScore>,
    /// NSFW verdict.
    pub nsfw: NsfwRecord,
    /// Quality.
    pub quality: QualityRecord,
    /// Metadata.
    pub metadata: MetadataRecord,
    /// Renditions.
    pub renditions: BTreeMap<String, RenditionRecord>,
    /// Where the original came from.
    pub source_uri: Option<String>,
    /// Original filename.
    pub filename: Option<String>,
    /// The job that last wrote the image.
    #[serde(default)]
    pub job_id: Option<String>,
    /// CRM labels.
    pub labels: BTreeMap<String, String>,
    /// Derived: labels as `key=value`.
    pub label_pairs: Vec<String>,
    /// Version of each analyzer whose output the record holds.
    pub model_versions: BTreeMap<String, String>,
    /// Derived: the versions as `analyzer=version` keywords.
    #[serde(default)]
    pub analyzer_keys: Vec<String>,
    /// The text read in the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr: Option<OcrRecord>,
    /// Derived: the OCR text's search terms (see [`super::text`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_terms: Option<String>,
    /// The faces found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces: Option<FacesRecord>,
    /// The document the image shows (type, evidence, key fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentRecord>,
    /// First write, RFC 3339 UTC.
    pub ingested_at: String,
    /// Last write, RFC 3339 UTC.
    pub updated_at: String,
}

impl NewImage {
    /// The id this image will have.
    pub fn image_id(&self) -> Result<ImageId, IndexError> {
        ImageId::derive(&self.tenant_id, &self.sha256)
    }

    /// Validates everything and builds the stored record. `ingested_at` is
    /// kept from an earlier write of the same point when there was one.
    pub fn into_record(
        self,
        layout: &IndexLayout,
        now: DateTime<Utc>,
        ingested_at: Option<String>,
    ) -> Result<(ImageId, ImageRecord, ImageVectors), IndexError> {
        let invalid = |what: String| IndexError::InvalidInput(what);
        let image_id = self.image_id()?;
        let sha256 = normalise_sha256(&self.sha256)?;
        let phash_value = parse_phash(&self.phash)?;
        for (what, id) in [
            ("customer_id", &self.customer_id),
            ("project_id", &self.project_id),
        ] {
            if let Some(id) = id {
                validate_identifier(what, id, MAX_CRM_ID)?;
            }
        }
        if self.tag_scores.len() > MAX_TAGS {
            return Err(invalid(format!(
                "{} tags, at most {MAX_TAGS}",
                self.tag_scores.len()
            )));
        }
        for (name, tag) in &self.tag_scores {
            if !imgtag_models::friendly::valid_tag_name(name) {
                return Err(invalid(format!("tag name {name:?} (1-64 of a-z, 0-9, _)")));
            }
            if !(0.0..=1.0).contains(&tag.score) {
                return Err(invalid(format!(
                    "tag {name} score {} outside 0..=1",
                    tag.score
                )));
            }
            check_text("tag source", &tag.source, 64)?;
            check_text("tag model", &tag.model, 256)?;
            check_text("tag analyzer", &tag.analyzer, 64)?;
        }
        if !(0.0..=1.0).contains(&self.nsfw.score) {
            return Err(invalid(format!(
                "nsfw score {} outside 0..=1",
                self.nsfw.score
            )));
        }
        if self.labels.len() > MAX_LABELS {
            return Err(invalid(format!(
                "{} labels, at most {MAX_LABELS}",
                self.labels.len()
            )));
        }
        for (key, value) in &self.labels {
            check_text("label key", key, MAX_LABEL_KEY)?;
            if key.contains('=') {
                return Err(invalid(format!("label key {key:?} contains '='")));
            }
            check_text("label value", value, MAX_LABEL_VALUE)?;
        }
        for (analyzer, version) in &self.model_versions {
            check_text("analyzer", analyzer, 64)?;
            check_text("analyzer version", version, 512)?;
            if analyzer.contains('=') {
                return Err(invalid(format!("analyzer name {analyzer:?} contains '='")));
            }
        }
        if let Some(ocr) = &self.ocr {
            check_ocr(ocr)?;
        }
        if let Some(faces) = &self.faces {
            faces.check()?;
        }
        if let Some(document) = &self.document {
            document.check()?;
        }
        if let Some(job_id) = &self.job_id {
            validate_identifier("job_id", job_id, 128)?;
        }
        for text in [&self.source_uri, &self.filename].into_iter().flatten() {
            check_text("source_uri/filename", text, MAX_TEXT_FIELD)?;
        }
        for (name, rendition) in &self.renditions {
            check_text("rendition name", name, 64)?;
            check_text("rendition uri", &rendition.uri, MAX_TEXT_FIELD)?;
        }
        let mut metadata = self.metadata;
        check_text("format", &metadata.format, 32)?;
        if let Some(camera) = &metadata.camera {
            check_text("camera", camera, 256)?;
        }
        if let Some(gps) = metadata.gps
            && !((-90.0..=90.0).contains(&gps.lat) && (-180.0..=180.0).contains(&gps.lon))
        {
            return Err(invalid(format!("GPS position {gps:?} out of range")));
        }
        metadata.captured_at = metadata
            .captured_at
            .as_deref()
            .map(parse_datetime)
            .transpose()?;
        metadata.captured_month = metadata.captured_at.as_ref().map(|t| t[..7].to_owned());
        self.vectors.validate(layout)?;
        let mut quality = self.quality;
        quality.flags.sort();
        quality.flags.dedup();

        let now = format_datetime(now);
        let tags: Vec<String> = self.tag_scores.keys().cloned().collect();
        let record = ImageRecord {
            tenant_id: self.tenant_id,
            customer_id: self.customer_id,
            project_id: self.project_id,
            image_id,
            sha256,
            phash: format!("{phash_value:016x}"),
            phash_bands: phash_bands(phash_value),
            tags,
            tag_scores: self.tag_scores,
            nsfw: self.nsfw,
            quality,
            metadata,
            renditions: self.renditions,
            source_uri: self.source_uri,
            filename: self.filename,
            job_id: self.job_id,
            label_pairs: self
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            labels: self.labels,
            analyzer_keys: analyzer_keys(&self.model_versions),
            model_versions: self.model_versions,
            ocr_terms: self
                .ocr
                .as_ref()
                .filter(|ocr| !ocr.text.is_empty())
                .map(|ocr| super::text::indexed_terms(&ocr.text)),
            ocr: self.ocr,
            faces: self.faces,
            document: self.document,
            ingested_at: ingested_at.unwrap_or_else(|| now.clone()),
            updated_at: now,
        };
        Ok((image_id, record, self.vectors))
    }
}

impl ImageRecord {
    /// What writing this record again (with `vectors`) takes: everything
    /// it holds except what is derived or kept by the index.
    pub fn into_new_image(self, vectors: ImageVectors) -> NewImage {
        NewImage {
            tenant_id: self.tenant_id,
            customer_id: self.customer_id,
            project_id: self.project_id,
            sha256: self.sha256,
            phash: self.phash,
            tag_scores: self.tag_scores,
            nsfw: self.nsfw,
            quality: self.quality,
            metadata: self.metadata,
            renditions: self.renditions,
            source_uri: self.source_uri,
            filename: self.filename,
            job_id: self.job_id,
            labels: self.labels,
            model_versions: self.model_versions,
            ocr: self.ocr,
            faces: self.faces,
            document: self.document,
            vectors,
        }
    }

    /// The perceptual hash as a number.
    pub fn phash_value(&self) -> Result<u64, IndexError> {
        parse_phash(&self.phash)
    }
}

/// The keywords that stand for analyzer versions (`analyzer=version`).
pub fn analyzer_keys(versions: &BTreeMap<String, String>) -> Vec<String> {
    versions
        .iter()
        .map(|(analyzer, version)| format!("{analyzer}={version}"))
        .collect()
}

fn check_ocr(ocr: &OcrRecord) -> Result<(), IndexError> {
    let invalid = |what: String| IndexError::InvalidInput(what);
    if ocr.lines.len() > MAX_OCR_LINES {
        return Err(invalid(format!(
            "{} OCR lines, at most {MAX_OCR_LINES}",
            ocr.lines.len()
        )));
    }
    let line_bytes: usize = ocr.lines.iter().map(|line| line.text.len()).sum();
    if ocr.text.len() > MAX_OCR_TEXT || line_bytes > MAX_OCR_TEXT {
        return Err(invalid(format!(
            "OCR text of {} bytes, at most {MAX_OCR_TEXT}",
            ocr.text.len().max(line_bytes)
        )));
    }
    check_text("ocr gate", &ocr.gate, 64)?;
    for line in &ocr.lines {
        if !(0.0..=1.0).contains(&line.confidence)
            || line.quad.iter().flatten().any(|v| !v.is_finite())
        {
            return Err(invalid("OCR line with a bad confidence or outline".into()));
        }
    }
    if ocr.text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid("OCR text contains control characters".into()));
    }
    Ok(())
}

/// Parses a 64-bit perceptual hash written as up to 16 hex digits.
pub fn parse_phash(phash: &str) -> Result<u64, IndexError> {
    if phash.is_empty() || phash.len() > 16 {
        return Err(IndexError::InvalidInput(format!(
            "phash {phash:?} is not 1-16 hex digits"
        )));
    }
    u64::from_str_radix(phash, 16)
        .map_err(|_| IndexError::InvalidInput(format!("phash {phash:?} is not hexadecimal")))
}

/// The eight 8-bit bands of a perceptual hash, as keywords.
pub fn phash_bands(phash: u64) -> Vec<String> {
    (0..8)
        .map(|band| format!("{band}:{:02x}", (phash >> (band * 8)) & 0xff))
        .collect()
}

/// Formats a time the way the index stores it (RFC 3339, UTC, seconds).
pub fn format_datetime(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses RFC 3339, or `YYYY-MM-DD HH:MM:SS` / `YYYY:MM:DD HH:MM:SS` (EXIF,
/// taken as UTC), or a bare `YYYY-MM-DD`, into the stored form.
pub fn parse_datetime(text: &str) -> Result<String, IndexError> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(format_datetime(time.with_timezone(&Utc)));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y:%m:%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(format_datetime(time.and_utc()));
        }
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(time) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(format_datetime(time.and_utc()));
    }
    Err(IndexError::InvalidInput(format!(
        "{text:?} is not a date or time (RFC 3339, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD)"
    )))
}

fn check_text(what: &str, value: &str, max: usize) -> Result<(), IndexError> {
    if value.len() > max {
        return Err(IndexError::InvalidInput(format!(
            "{what} is {} bytes, at most {max}",
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(IndexError::InvalidInput(format!(
            "{what} {value:?} contains control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_share_one_when_close() {
        let a = 0x0123_4567_89ab_cdef_u64;
        let b = a ^ 0b1011_0000_0001; // 4 bits apart, in two bands
        let shared = phash_bands(a)
            .iter()
            .filter(|band| phash_bands(b).contains(band))
            .count();
        assert_eq!(shared, 6);
        assert_eq!(phash_bands(a)[0], "0:ef");
    }

    #[test]
    fn times_are_normalised_to_utc() {
        assert_eq!(
            parse_datetime("2024:05:06 07:08:09").unwrap(),
            "2024-05-06T07:08:09Z"
        );
        assert_eq!(
            parse_datetime("2024-05-06T09:08:09+02:00").unwrap(),
            "2024-05-06T07:08:09Z"
        );
        assert_eq!(
            parse_datetime("2024-05-06").unwrap(),
            "2024-05-06T00:00:00Z"
        );
        assert_eq!(
            parse_datetime("last tuesday").unwrap_err().code(),
            "index.invalid_input"
        );
    }

    #[test]
    fn analyzer_versions_become_keywords() {
        let versions = BTreeMap::from([
            ("nsfw".to_owned(), "open-nsfw@1".to_owned()),
            ("classifier".to_owned(), "effnet@2".to_owned()),
        ]);
        assert_eq!(
            analyzer_keys(&versions),
            ["classifier=effnet@2", "nsfw=open-nsfw@1"]
        );
    }

    #[test]
    fn old_tags_name_their_analyzer_by_source() {
        let tag = |source: &str| TagScore {
            score: 1.0,
            source: source.into(),
            model: "m@1".into(),
            analyzer: String::new(),
        };
        assert_eq!(tag("hierarchy").analyzer_name(), "classifier");
        assert_eq!(tag("check").analyzer_name(), "quality");
        assert_eq!(tag("zero-shot").analyzer_name(), "semantic");
    }
}
