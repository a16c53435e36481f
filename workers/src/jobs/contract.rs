//! Job contract v1: the JSON message an upstream CRM (or `imgtag publish`,
//! or `imgtag reprocess --via-queue`) puts on the jobs queue. `docs/JOBS.md`
//! describes it for people and `docs/job.schema.json` for machines.
//!
//! [`Job::parse`] is the only way in: it checks the schema version first
//! (so a future version is reported as such, not as a bad field), then
//! every field, and returns a typed error with a stable code.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::JobError;
use crate::analyzers::{AnalyzerId, AnalyzerSet};
use crate::index::ids::validate_identifier;
use crate::index::record::{
    MAX_CRM_ID, MAX_LABEL_KEY, MAX_LABEL_VALUE, MAX_LABELS, MAX_TEXT_FIELD,
};
use crate::index::{ImageId, TenantId};

/// The schema version this worker reads and writes.
pub const SCHEMA_VERSION: u64 = 1;
/// Longest job id.
pub const MAX_JOB_ID: usize = 128;
/// Longest vocabulary name.
pub const MAX_VOCABULARY_NAME: usize = 64;

/// One upload job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u64,
    /// The idempotency key: the same job id for the same image is the same
    /// work, however often it is delivered.
    pub job_id: String,
    /// The owner of the image.
    pub tenant_id: TenantId,
    /// CRM customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// CRM project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The original filename, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// CRM labels (bounded string map).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Where the bytes are.
    pub source: JobSource,
    /// What to do (default: everything).
    #[serde(default = "Operation::all")]
    pub operations: Vec<Operation>,
    /// A custom vocabulary configured under `[vocabularies]`, scored as
    /// zero-shot tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary: Option<String>,
}

/// Where a job's image bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum JobSource {
    /// A `file://` URI under one of `[sources] allowed_roots`.
    File {
        /// `file:///absolute/path`.
        uri: String,
    },
    /// A key in the object store, under `{inbox_prefix}/{tenant_id}/`.
    Object {
        /// The key below the tenant's inbox (no `..`, no leading `/`).
        key: String,
    },
    /// The bytes themselves, base64 (standard alphabet, padded), at most
    /// `[sources] max_inline_bytes` once decoded.
    Inline {
        /// The encoded bytes.
        base64: String,
    },
    /// The original kept in the object store for an image already indexed
    /// (reprocessing).
    Stored {
        /// The image.
        image_id: ImageId,
    },
}

/// A step a job asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Every enabled analyzer: tags, NSFW verdict, embeddings, text.
    Tags,
    /// Only the `classifier` analyzer (classes, friendly tags, the image
    /// embedding).
    Classifier,
    /// Only the `nsfw` analyzer.
    Nsfw,
    /// Only the `semantic` analyzer (needs the classifier, which runs too).
    Semantic,
    /// Only the `ocr` analyzer (the text in the image).
    Ocr,
    /// Only the `quality` analyzer (quality flags, EXIF facts).
    Quality,
    /// Only the `faces` analyzer (faces, people tags).
    Faces,
    /// Only the `document` analyzer (document type, key fields; reads the
    /// text, faces and classes when those analyzers are enabled).
    Document,
    /// Encoded renditions (and the original) in the object store.
    Renditions,
    /// The index write, with duplicate detection (needs the classifier's
    /// embedding: `tags` or `classifier`, or a stored image).
    Index,
}

impl Operation {
    /// Every operation, the default.
    pub fn all() -> Vec<Operation> {
        vec![Self::Tags, Self::Renditions, Self::Index]
    }

    /// Every operation name the contract accepts.
    pub const NAMES: [Operation; 10] = [
        Self::Tags,
        Self::Classifier,
        Self::Nsfw,
        Self::Semantic,
        Self::Ocr,
        Self::Quality,
        Self::Faces,
        Self::Document,
        Self::Renditions,
        Self::Index,
    ];

    /// Its name in the contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tags => "tags",
            Self::Classifier => "classifier",
            Self::Nsfw => "nsfw",
            Self::Semantic => "semantic",
            Self::Ocr => "ocr",
            Self::Quality => "quality",
            Self::Faces => "faces",
            Self::Document => "document",
            Self::Renditions => "renditions",
            Self::Index => "index",
        }
    }

    /// The one analyzer this operation asks for, if it names one.
    pub fn analyzer(self) -> Option<AnalyzerId> {
        match self {
            Self::Classifier => Some(AnalyzerId::Classifier),
            Self::Nsfw => Some(AnalyzerId::Nsfw),
            Self::Semantic => Some(AnalyzerId::Semantic),
            Self::Ocr => Some(AnalyzerId::Ocr),
            Self::Quality => Some(AnalyzerId::Quality),
            Self::Faces => Some(AnalyzerId::Faces),
            Self::Document => Some(AnalyzerId::Document),
            Self::Tags | Self::Renditions | Self::Index => None,
        }
    }

    /// The operation that asks for one analyzer.
    pub fn of(analyzer: AnalyzerId) -> Self {
        match analyzer {
            AnalyzerId::Classifier => Self::Classifier,
            AnalyzerId::Nsfw => Self::Nsfw,
            AnalyzerId::Semantic => Self::Semantic,
            AnalyzerId::Ocr => Self::Ocr,
            AnalyzerId::Quality => Self::Quality,
            AnalyzerId::Faces => Self::Faces,
            AnalyzerId::Document => Self::Document,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Job {
    /// Parses and validates one message body.
    pub fn parse(body: &[u8]) -> Result<Self, JobError> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| JobError::Malformed(format!("not JSON: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| JobError::Malformed("the message is not a JSON object".into()))?;
        match object.get("schema_version") {
            None => return Err(JobError::Invalid("missing field `schema_version`".into())),
            Some(version) => match version.as_u64() {
                Some(SCHEMA_VERSION) => {}
                Some(other) => return Err(JobError::UnsupportedVersion(other)),
                None => {
                    return Err(JobError::Invalid(format!(
                        "`schema_version` must be an integer, got {version}"
                    )));
                }
            },
        }
        let job: Job =
            serde_json::from_value(value).map_err(|e| JobError::Invalid(e.to_string()))?;
        job.validate()?;
        Ok(job)
    }

    /// The job as a message body.
    pub fn to_body(&self) -> Vec<u8> {
        // A Job holds strings, maps and enums only: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Whether the job asks for `operation`.
    pub fn wants(&self, operation: Operation) -> bool {
        self.operations.contains(&operation)
    }

    /// The analyzers the job asks for: all of them with `tags`, else those
    /// it names.
    pub fn analyzers(&self) -> AnalyzerSet {
        if self.wants(Operation::Tags) {
            return AnalyzerId::ALL.iter().copied().collect();
        }
        self.operations
            .iter()
            .filter_map(|operation| operation.analyzer())
            .collect()
    }

    /// Checks what serde's types cannot.
    pub fn validate(&self) -> Result<(), JobError> {
        let invalid = |e: crate::index::IndexError| JobError::Invalid(e.to_string());
        validate_identifier("job_id", &self.job_id, MAX_JOB_ID).map_err(invalid)?;
        for (what, id) in [
            ("customer_id", &self.customer_id),
            ("project_id", &self.project_id),
        ] {
            if let Some(id) = id {
                validate_identifier(what, id, MAX_CRM_ID).map_err(invalid)?;
            }
        }
        if let Some(filename) = &self.filename {
            check_text("filename", filename, MAX_TEXT_FIELD)?;
        }
        if self.labels.len() > MAX_LABELS {
            return Err(JobError::Invalid(format!(
                "{} labels, at most {MAX_LABELS}",
                self.labels.len()
            )));
        }
        for (key, value) in &self.labels {
            check_text("label key", key, MAX_LABEL_KEY)?;
            if key.contains('=') {
                return Err(JobError::Invalid(format!("label key {key:?} contains `=`")));
            }
            check_text("label value", value, MAX_LABEL_VALUE)?;
        }
        if self.operations.is_empty() {
            return Err(JobError::Invalid("`operations` is empty".into()));
        }
        let mut sorted = self.operations.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != self.operations.len() {
            return Err(JobError::Invalid(
                "`operations` repeats an operation".into(),
            ));
        }
        let analyzers = self.analyzers();
        let stored = matches!(self.source, JobSource::Stored { .. });
        if self.wants(Operation::Index) && !stored && !analyzers.contains(&AnalyzerId::Classifier) {
            return Err(JobError::Invalid(
                "operation `index` needs `tags` or `classifier` (the index stores the image \
                 embedding)"
                    .into(),
            ));
        }
        if self.wants(Operation::Tags) && self.operations.iter().any(|o| o.analyzer().is_some()) {
            return Err(JobError::Invalid(
                "`tags` already asks for every analyzer: do not also name single analyzers".into(),
            ));
        }
        if let Some(name) = &self.vocabulary {
            validate_identifier("vocabulary", name, MAX_VOCABULARY_NAME).map_err(invalid)?;
            if !analyzers.contains(&AnalyzerId::Semantic) {
                return Err(JobError::Invalid(
                    "a vocabulary needs operation `tags` or `semantic`".into(),
                ));
            }
        }
        match &self.source {
            JobSource::File { uri } => {
                if !uri.starts_with("file:///") {
                    return Err(JobError::Invalid(format!(
                        "file source {uri:?} must be a file:/// URI with an absolute path"
                    )));
                }
                check_text("source uri", uri, MAX_TEXT_FIELD)?;
            }
            JobSource::Object { key } => check_object_key(key)?,
            JobSource::Inline { base64 } => {
                if base64.is_empty() {
                    return Err(JobError::Invalid("inline source is empty".into()));
                }
            }
            JobSource::Stored { .. } => {}
        }
        Ok(())
    }
}

/// A relative object key: non-empty segments of printable characters, no
/// `.` or `..` segment, no leading or trailing `/`.
fn check_object_key(key: &str) -> Result<(), JobError> {
    check_text("object key", key, 1024)?;
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(JobError::Invalid(format!(
            "object key {key:?} must be relative, without empty, `.` or `..` segments"
        )));
    }
    Ok(())
}

/// Non-empty, at most `max` bytes, no control characters.
fn check_text(what: &str, value: &str, max: usize) -> Result<(), JobError> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(JobError::Invalid(format!(
            "{what} must be 1-{max} bytes without control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(extra: &str) -> String {
        format!(
            r#"{{"schema_version":1,"job_id":"j-1","tenant_id":"acme",
                "source":{{"kind":"file","uri":"file:///srv/a.jpg"}}{extra}}}"#
        )
    }

    #[test]
    fn a_minimal_job_gets_every_operation() {
        let parsed = Job::parse(job("").as_bytes()).unwrap();
        assert_eq!(parsed.operations, Operation::all());
        assert_eq!(parsed.tenant_id.as_str(), "acme");
        let again = Job::parse(&parsed.to_body()).unwrap();
        assert_eq!(again, parsed);
    }

    #[test]
    fn bad_messages_get_their_codes() {
        let code = |body: &str| Job::parse(body.as_bytes()).unwrap_err().code();
        assert_eq!(code("{not json"), "job.malformed");
        assert_eq!(code("[1,2]"), "job.malformed");
        assert_eq!(code(r#"{"job_id":"x"}"#), "job.invalid");
        assert_eq!(
            code(&job("").replace("\"schema_version\":1", "\"schema_version\":2")),
            "job.unsupported_version"
        );
        assert_eq!(
            code(&job("").replace("\"tenant_id\":\"acme\",", "")),
            "job.invalid"
        );
        assert_eq!(code(&job("").replace("acme", "ac/me")), "job.invalid");
        assert_eq!(code(&job(r#","surprise":1"#)), "job.invalid");
        assert_eq!(code(&job(r#","operations":["index"]"#)), "job.invalid");
        assert_eq!(code(&job(r#","operations":[]"#)), "job.invalid");
        assert_eq!(
            code(&job(r#","operations":["tags","tags"]"#)),
            "job.invalid"
        );
        assert_eq!(code(&job(r#","labels":{"a=b":"c"}"#)), "job.invalid");
        assert_eq!(
            code(&job("").replace("file:///srv/a.jpg", "file://relative/a.jpg")),
            "job.invalid"
        );
        let object = |key: &str| {
            format!(
                r#"{{"schema_version":1,"job_id":"j","tenant_id":"t","source":{{"kind":"object","key":"{key}"}}}}"#
            )
        };
        assert!(Job::parse(object("2024/a.jpg").as_bytes()).is_ok());
        for key in ["../b/a.jpg", "/abs.jpg", "a//b", "a/./b", "a/"] {
            assert_eq!(code(&object(key)), "job.invalid", "{key}");
        }
    }

    #[test]
    fn errors_say_whether_a_retry_helps() {
        assert!(!JobError::Malformed(String::new()).is_retryable());
        assert!(
            !JobError::OutsideRoots {
                path: String::new()
            }
            .is_retryable()
        );
        assert!(JobError::StoreUnavailable(String::new()).is_retryable());
        assert!(JobError::BrokerUnavailable(String::new()).is_retryable());
        assert!(!JobError::Panicked(String::new()).is_retryable());
    }
}
