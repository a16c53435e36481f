//! The record a job writes: the analyzers' outputs, merged with the stored
//! record when an image is re-run.
//!
//! Only the outputs of the analyzers the [`Plan`] writes change; the tags,
//! verdicts, vectors, text and versions of every other analyzer are kept
//! from the stored record as they are.

use std::collections::BTreeMap;

use imgtag_pipeline::Inspection;

use crate::analyzers::ocr::OcrOutput;
use crate::analyzers::{Analysis, AnalyzerId, Plan};
use crate::error::AppError;
use crate::events::EventTag;
use crate::index::document_record::MAX_FACES;
use crate::index::record::{MAX_OCR_LINES, MAX_OCR_TEXT};
use crate::index::{
    DocumentRecord, FaceRecord, FacesRecord, GeoPoint, ImageRecord, ImageVectors, MetadataRecord,
    NewImage, NsfwRecord, OcrLineRecord, OcrRecord, QualityRecord, RenditionRecord, StoredImage,
    TagScore,
};
use crate::jobs::{Job, JobError, JobSource};

/// Everything a record is made of.
#[derive(Debug, Clone, Copy)]
pub struct RecordParts<'a> {
    /// The job.
    pub job: &'a Job,
    /// The stored image being re-run (with its vectors), if any.
    pub stored: Option<&'a StoredImage>,
    /// What the image core found.
    pub inspection: &'a Inspection,
    /// What the analyzers found.
    pub analysis: &'a Analysis,
    /// Whose outputs are written.
    pub plan: &'a Plan,
    /// The running analyzers' versions.
    pub versions: &'a BTreeMap<AnalyzerId, String>,
}

impl RecordParts<'_> {
    fn stored_record(&self) -> Option<&ImageRecord> {
        self.stored.map(|image| &image.record)
    }

    /// The tags the image carries after this job: the written analyzers'
    /// new tags, and the stored tags of every other analyzer.
    pub fn tags(&self) -> BTreeMap<String, TagScore> {
        let mut tags: BTreeMap<String, TagScore> = self
            .stored_record()
            .map(|record| {
                record
                    .tag_scores
                    .iter()
                    .filter(|(_, tag)| !written_by(self.plan, tag.analyzer_name()))
                    .map(|(name, tag)| (name.clone(), tag.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for (analyzer, tag) in self.analysis.tags() {
            if !self.plan.writes(analyzer) {
                continue;
            }
            let better = tags
                .get(&tag.name)
                .is_none_or(|existing| existing.score < tag.score);
            if better {
                tags.insert(
                    tag.name.clone(),
                    TagScore {
                        score: tag.score.clamp(0.0, 1.0),
                        source: tag.source.as_str().to_owned(),
                        model: tag.model.to_string(),
                        analyzer: analyzer.as_str().to_owned(),
                    },
                );
            }
        }
        tags
    }

    /// The NSFW verdict after this job.
    pub fn nsfw(&self) -> Option<NsfwRecord> {
        match (&self.analysis.nsfw, self.plan.writes(AnalyzerId::Nsfw)) {
            (Some(verdict), true) => Some(NsfwRecord {
                score: verdict.score,
                flagged: verdict.sensitive,
            }),
            _ => self.stored_record().map(|record| record.nsfw),
        }
    }

    /// The text read in the image after this job.
    pub fn ocr(&self) -> Option<OcrRecord> {
        match (&self.analysis.ocr, self.plan.writes(AnalyzerId::Ocr)) {
            (Some(output), true) => Some(ocr_record(output)),
            _ => self.stored_record().and_then(|record| record.ocr.clone()),
        }
    }

    /// The faces after this job.
    pub fn faces(&self) -> Option<FacesRecord> {
        match (&self.analysis.faces, self.plan.writes(AnalyzerId::Faces)) {
            (Some(output), true) => Some(FacesRecord {
                count: output.count(),
                faces: output
                    .faces
                    .iter()
                    .take(MAX_FACES)
                    .map(|face| FaceRecord {
                        rect: face.rect,
                        score: face.score,
                    })
                    .collect(),
            }),
            _ => self.stored_record().and_then(|record| record.faces.clone()),
        }
        .map(|mut faces| {
            faces.count = faces.faces.len();
            faces
        })
    }

    /// The document after this job; the reminders already sent for the
    /// same expiry date are kept.
    pub fn document(&self) -> Option<DocumentRecord> {
        let stored = self
            .stored_record()
            .and_then(|record| record.document.as_ref());
        match (
            &self.analysis.document,
            self.plan.writes(AnalyzerId::Document),
        ) {
            (Some(reading), true) => {
                let mut record = DocumentRecord::from_reading(reading);
                if let Some(stored) = stored
                    && stored.expires_on == record.expires_on
                {
                    record.reminders = stored.reminders.clone();
                }
                Some(record)
            }
            _ => stored.cloned(),
        }
    }

    /// Analyzer versions after this job: the written ones', and the
    /// stored versions of the others (names that are no analyzer, from
    /// records older than the analyzers, are dropped).
    pub fn versions(&self) -> BTreeMap<String, String> {
        let mut versions: BTreeMap<String, String> = self
            .stored_record()
            .map(|record| {
                record
                    .model_versions
                    .iter()
                    .filter(|(name, _)| {
                        name.parse::<AnalyzerId>()
                            .is_ok_and(|id| !self.plan.writes(id))
                    })
                    .map(|(name, version)| (name.clone(), version.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for id in self.plan.written() {
            if self.analysis.has(*id)
                && let Some(version) = self.versions.get(id)
            {
                versions.insert(id.as_str().to_owned(), version.clone());
            }
        }
        versions
    }

    fn quality(&self) -> QualityRecord {
        let quality = &self.inspection.quality;
        let flags = match (
            &self.analysis.quality,
            self.plan.writes(AnalyzerId::Quality),
        ) {
            (Some(output), true) => output.flags.clone(),
            _ => self
                .stored_record()
                .map(|record| record.quality.flags.clone())
                .unwrap_or_default(),
        };
        QualityRecord {
            sharpness: quality.sharpness,
            mean_luma: quality.mean_luma,
            flags,
        }
    }

    fn vectors(&self) -> Result<ImageVectors, AppError> {
        let stored = self.stored.and_then(|image| image.vectors.as_ref());
        let image = match (
            &self.analysis.classifier,
            self.plan.writes(AnalyzerId::Classifier),
        ) {
            (Some(output), true) => output.classification.embedding.clone(),
            _ => stored.map(|v| v.image.clone()).ok_or_else(|| {
                JobError::Invalid(
                    "indexing needs the image embedding: ask for the classifier \
                     (operation `tags` or `classifier`) and keep it enabled"
                        .into(),
                )
            })?,
        };
        let semantic = match (
            &self.analysis.semantic,
            self.plan.writes(AnalyzerId::Semantic),
        ) {
            (Some(output), true) => Some(output.vector.clone()),
            _ => stored.and_then(|v| v.semantic.clone()),
        };
        Ok(ImageVectors { image, semantic })
    }

    /// The record to write.
    pub fn new_image(
        &self,
        renditions: BTreeMap<String, RenditionRecord>,
    ) -> Result<NewImage, AppError> {
        let inspection = self.inspection;
        let exif = inspection.metadata.exif.as_ref();
        let camera = exif.and_then(|e| {
            let parts: Vec<&str> = [e.make.as_deref(), e.model.as_deref()]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        let job = self.job;
        // The CRM's fields: from the job, or kept from the stored record
        // when reprocessing.
        let (customer_id, project_id, filename, labels, source_uri, job_id) =
            match self.stored_record() {
                Some(r) => (
                    r.customer_id.clone(),
                    r.project_id.clone(),
                    r.filename.clone(),
                    r.labels.clone(),
                    r.source_uri.clone(),
                    r.job_id.clone(),
                ),
                None => (
                    job.customer_id.clone(),
                    job.project_id.clone(),
                    job.filename.clone(),
                    job.labels.clone(),
                    source_uri(&job.source),
                    Some(job.job_id.clone()),
                ),
            };
        Ok(NewImage {
            tenant_id: job.tenant_id.clone(),
            customer_id,
            project_id,
            sha256: inspection.fingerprints.sha256.clone(),
            phash: inspection.fingerprints.phash.clone(),
            tag_scores: self.tags(),
            nsfw: self.nsfw().unwrap_or_default(),
            quality: self.quality(),
            metadata: MetadataRecord {
                captured_at: exif.and_then(|e| e.captured_at.clone()),
                captured_month: None,
                camera,
                gps: exif.and_then(|e| e.gps).map(|g| GeoPoint {
                    lon: g.longitude,
                    lat: g.latitude,
                }),
                width: inspection.metadata.width,
                height: inspection.metadata.height,
                format: inspection.metadata.format.clone(),
            },
            renditions,
            source_uri,
            filename,
            job_id,
            labels,
            model_versions: self.versions(),
            ocr: self.ocr(),
            faces: self.faces(),
            document: self.document(),
            vectors: self.vectors()?,
        })
    }
}

fn written_by(plan: &Plan, analyzer: &str) -> bool {
    analyzer
        .parse::<AnalyzerId>()
        .is_ok_and(|id| plan.writes(id))
}

/// The tags as a result event lists them: in analyzer order, best first
/// within one analyzer.
pub fn event_tags(tags: &BTreeMap<String, TagScore>) -> Vec<EventTag> {
    let order = |tag: &TagScore| {
        tag.analyzer_name()
            .parse::<AnalyzerId>()
            .map_or(usize::MAX, |id| id as usize)
    };
    let mut list: Vec<(&String, &TagScore)> = tags.iter().collect();
    list.sort_by(|(an, a), (bn, b)| {
        order(a)
            .cmp(&order(b))
            .then(b.score.total_cmp(&a.score))
            .then(an.cmp(bn))
    });
    list.into_iter()
        .map(|(name, tag)| EventTag {
            name: name.clone(),
            score: tag.score,
            source: tag.source.clone(),
            model: tag.model.clone(),
        })
        .collect()
}

/// The stored form of the OCR analyzer's output, bounded: lines are kept
/// in reading order while they fit [`MAX_OCR_LINES`] and
/// [`MAX_OCR_TEXT`].
pub fn ocr_record(output: &OcrOutput) -> OcrRecord {
    let gate = serde_json::to_value(output.decision.reason)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let Some(result) = &output.result else {
        return OcrRecord {
            read: false,
            gate,
            ..OcrRecord::default()
        };
    };
    let mut lines = Vec::new();
    let mut bytes = 0;
    let mut truncated = result.truncated;
    for line in &result.lines {
        let text: String = line.text.chars().filter(|c| !c.is_control()).collect();
        if lines.len() == MAX_OCR_LINES || bytes + text.len() + 1 > MAX_OCR_TEXT {
            truncated = true;
            break;
        }
        bytes += text.len() + 1;
        lines.push(OcrLineRecord {
            text,
            confidence: line.confidence.clamp(0.0, 1.0),
            quad: line.quad,
        });
    }
    OcrRecord {
        read: true,
        gate,
        text: lines
            .iter()
            .map(|line| line.text.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        line_count: result.lines.len(),
        lines,
        rotation: result.rotation,
        has_cjk: result.has_cjk,
        truncated,
    }
}

/// What the index records as the source (never inline bytes).
fn source_uri(source: &JobSource) -> Option<String> {
    match source {
        JobSource::File { uri } => Some(uri.clone()),
        JobSource::Object { key } => Some(format!("object:{key}")),
        JobSource::Inline { .. } | JobSource::Stored { .. } => None,
    }
}
