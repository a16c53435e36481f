//! One job through the whole product: fetch the bytes (bounded), decode,
//! check and render them once (`imgtag_pipeline`), tag and embed them
//! (`imgtag_models`, whose dynamic batcher groups concurrent jobs), look
//! for duplicates in the tenant, write renditions and the original to the
//! object store, upsert the index. The worker and `imgtag ingest` share
//! this [`Processor`]; only where jobs come from and where outcomes go
//! differ.
//!
//! Idempotent by construction: the image id is derived from tenant and
//! bytes, object keys from the image id, so a redelivered job rewrites the
//! same point and the same objects. A job whose bytes are already stored by
//! *another* job is a duplicate: nothing is rewritten.
//!
//! CPU work runs on the processor's own threads ([`CpuPool`], one per
//! core) behind a semaphore of as many permits; a panic there is caught at
//! the job boundary and becomes `job.panicked`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use imgtag_models::{EmbeddedVocabulary, ImageTags, ModelStore, Runtime, Tag, Tagger, Vocabulary};
use imgtag_pipeline::{Pipeline, PipelineConfig, ProcessedImage};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::cpu_pool::{CpuPool, PoolError};
use crate::derived_tags::derived_tags;
use crate::error::AppError;
use crate::events::{EventDuplicate, EventTag};
use crate::index::{
    DuplicateReason, GeoPoint, ImageId, ImageVectors, Index, IndexError, MetadataRecord, NewImage,
    NsfwRecord, QualityRecord, RenditionRecord, StoredImage, TagScore, TenantId,
};
use crate::input::read_text_file;
use crate::jobs::{Job, JobError, JobSource, Operation, SourceReader};
use crate::store::ObjectStorage;

/// Name of the original among an image's objects.
pub const ORIGINAL: &str = "original";
/// Largest vocabulary file.
const MAX_VOCABULARY_BYTES: u64 = 1024 * 1024;

/// How a job ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Processed (and stored, if asked).
    Processed,
    /// The same bytes were already stored by another job; nothing written.
    Duplicate,
}

/// What a finished job produced.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// Processed or duplicate.
    pub kind: OutcomeKind,
    /// The image id.
    pub image_id: ImageId,
    /// sha256 of the bytes.
    pub sha256: String,
    /// Whether the index holds the image.
    pub indexed: bool,
    /// Tags (models and image core).
    pub tags: Vec<EventTag>,
    /// The NSFW verdict.
    pub nsfw: Option<NsfwRecord>,
    /// Stored objects, by name.
    pub renditions: BTreeMap<String, RenditionRecord>,
    /// Duplicates in the tenant.
    pub duplicates: Vec<EventDuplicate>,
    /// Models the result depends on.
    pub models: Vec<String>,
    /// Milliseconds per stage: `fetch`, `queue` (waiting for a CPU permit),
    /// `cpu` (decode, checks, renditions, models), `duplicates`, `store`,
    /// `index`.
    pub timings_ms: BTreeMap<String, f64>,
}

/// Everything a job needs, loaded once.
#[derive(Debug, Clone)]
pub struct Processor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    with_renditions: Pipeline,
    without_renditions: Pipeline,
    tagger: Tagger,
    vocabularies: BTreeMap<String, EmbeddedVocabulary>,
    index: Index,
    store: ObjectStorage,
    sources: SourceReader,
    cpu: Semaphore,
    cpu_threads: CpuPool,
    keep_originals: bool,
    max_input_bytes: u64,
    models: Vec<String>,
    model_versions: BTreeMap<String, String>,
}

impl Processor {
    /// Loads the models and vocabularies and opens the index and the store.
    /// `extra_roots` are added to `[sources] allowed_roots` (what
    /// `imgtag ingest` was given).
    pub async fn open(config: &Config, extra_roots: &[PathBuf]) -> Result<Self, AppError> {
        let pipeline_config = PipelineConfig {
            decode: config.decode.clone(),
            quality: config.quality.clone(),
            renditions: config.renditions.clone(),
            ..PipelineConfig::default()
        };
        let cpu_permits = pipeline_config.max_concurrency;
        let with_renditions = pipeline_config.clone().build()?;
        let without_renditions = PipelineConfig {
            renditions: Vec::new(),
            ..pipeline_config
        }
        .build()?;
        let models_config = config.clone();
        let (tagger, vocabularies) =
            tokio::task::spawn_blocking(move || load_models(&models_config))
                .await
                .map_err(|e| AppError::Config(format!("loading the models failed: {e}")))??;
        let index = Index::open(&config.index).await?;
        let store = ObjectStorage::open(&config.store)?;
        let mut sources = SourceReader::new(
            &config.sources,
            config.decode.max_input_bytes,
            store.clone(),
        );
        for root in extra_roots {
            sources.allow(root)?;
        }
        let models = tagger.models().iter().map(ToString::to_string).collect();
        let model_versions = model_versions(&tagger);
        Ok(Self {
            inner: Arc::new(Inner {
                with_renditions,
                without_renditions,
                tagger,
                vocabularies,
                index,
                store,
                sources,
                cpu: Semaphore::new(cpu_permits),
                cpu_threads: CpuPool::new(cpu_permits, "imgtag-cpu")
                    .map_err(|e| AppError::Config(format!("cannot start the CPU threads: {e}")))?,
                keep_originals: config.store.keep_originals,
                max_input_bytes: config.decode.max_input_bytes,
                models,
                model_versions,
            }),
        })
    }

    /// The index (reprocessing walks it; the CLI flushes it).
    pub fn index(&self) -> &Index {
        &self.inner.index
    }

    /// Where renditions and originals go (secrets redacted).
    pub fn store_location(&self) -> &str {
        self.inner.store.describe()
    }

    /// The object store holding renditions and originals.
    pub fn store(&self) -> &ObjectStorage {
        &self.inner.store
    }

    /// The loaded models.
    pub fn tagger(&self) -> &Tagger {
        &self.inner.tagger
    }

    /// Model version by role, as stored with each image: what makes an
    /// image stale when it differs.
    pub fn model_versions(&self) -> &BTreeMap<String, String> {
        &self.inner.model_versions
    }

    /// Runs one job to the end.
    pub async fn process(&self, job: &Job) -> Result<JobOutcome, AppError> {
        let inner = &self.inner;
        let mut timings = BTreeMap::new();
        let tenant = inner.index.tenant(job.tenant_id.clone());
        let vocabulary = match &job.vocabulary {
            Some(name) if !inner.vocabularies.contains_key(name) => {
                return Err(JobError::Invalid(format!(
                    "unknown vocabulary {name:?} (configured: {})",
                    inner
                        .vocabularies
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .into());
            }
            other => other.clone(),
        };

        let started = Instant::now();
        let stored = match &job.source {
            JobSource::Stored { image_id } => Some(tenant.get(*image_id, false).await?),
            _ => None,
        };
        let bytes = match &stored {
            Some(image) => self.stored_original(image).await?,
            None => inner.sources.fetch(job).await?,
        };
        timings.insert("fetch".to_owned(), elapsed_ms(started));

        let (processed, tagged) = self
            .run_cpu(job, bytes.clone(), vocabulary, &mut timings)
            .await?;
        let inspection = &processed.inspection;
        let sha256 = inspection.fingerprints.sha256.clone();
        let image_id = ImageId::derive(&job.tenant_id, &sha256)?;
        if let Some(image) = &stored
            && image.record.image_id != image_id
        {
            return Err(JobError::Invalid(format!(
                "the stored original of {} does not hash to its id",
                image.record.image_id
            ))
            .into());
        }
        let mut tags: Vec<Tag> = tagged.as_ref().map(|t| t.tags.clone()).unwrap_or_default();
        tags.extend(derived_tags(inspection));
        let event_tags: Vec<EventTag> = tags
            .iter()
            .map(|t| EventTag {
                name: t.name.clone(),
                score: t.score,
                source: t.source.as_str().to_owned(),
                model: t.model.to_string(),
            })
            .collect();
        let nsfw = tagged.as_ref().map(|t| NsfwRecord {
            score: t.nsfw.score,
            flagged: t.nsfw.sensitive,
        });
        let mut outcome = JobOutcome {
            kind: OutcomeKind::Processed,
            image_id,
            sha256: sha256.clone(),
            indexed: false,
            tags: event_tags,
            nsfw,
            renditions: BTreeMap::new(),
            duplicates: Vec::new(),
            models: if tagged.is_some() {
                inner.models.clone()
            } else {
                Vec::new()
            },
            timings_ms: timings,
        };

        let indexing = job.wants(Operation::Index);
        if indexing && let Some(tagged) = &tagged {
            let started = Instant::now();
            let existing = match tenant.get(image_id, false).await {
                Ok(image) => Some(image),
                Err(IndexError::NotFound(_)) => None,
                Err(error) => return Err(error.into()),
            };
            if stored.is_none()
                && let Some(existing) = existing
                && existing.record.job_id.as_deref() != Some(job.job_id.as_str())
            {
                // Same bytes, another job: report, rewrite nothing.
                outcome.kind = OutcomeKind::Duplicate;
                outcome.indexed = true;
                outcome.renditions = existing.record.renditions.clone();
                outcome.duplicates.push(EventDuplicate {
                    image_id,
                    kind: "same_bytes".into(),
                    phash_distance: None,
                    cosine: None,
                });
                return Ok(outcome);
            }
            let phash = crate::index::record::parse_phash(&inspection.fingerprints.phash)?;
            let matches = tenant
                .duplicates(&sha256, phash, &tagged.embedding, Some(image_id))
                .await?;
            outcome.duplicates = matches
                .into_iter()
                .map(|m| match m.reason {
                    DuplicateReason::SameBytes => EventDuplicate {
                        image_id: m.image.record.image_id,
                        kind: "same_bytes".into(),
                        phash_distance: None,
                        cosine: None,
                    },
                    DuplicateReason::Near {
                        phash_distance,
                        cosine,
                    } => EventDuplicate {
                        image_id: m.image.record.image_id,
                        kind: "near".into(),
                        phash_distance: Some(phash_distance),
                        cosine: Some(cosine),
                    },
                })
                .collect();
            outcome
                .timings_ms
                .insert("duplicates".to_owned(), elapsed_ms(started));
        }

        if job.wants(Operation::Renditions) {
            let started = Instant::now();
            outcome.renditions = self
                .write_objects(
                    &job.tenant_id,
                    image_id,
                    &processed,
                    &bytes,
                    stored.as_ref(),
                )
                .await?;
            outcome
                .timings_ms
                .insert("store".to_owned(), elapsed_ms(started));
        } else if let Some(image) = &stored {
            outcome.renditions = image.record.renditions.clone();
        }

        if indexing && let Some(tagged) = tagged {
            let started = Instant::now();
            let new_image =
                self.new_image(job, stored.as_ref(), &processed, &tags, tagged, &outcome);
            tenant.upsert(vec![new_image]).await?;
            outcome.indexed = true;
            outcome
                .timings_ms
                .insert("index".to_owned(), elapsed_ms(started));
        }
        Ok(outcome)
    }

    /// The classifier's embedding of an uploaded image (what `image`
    /// vectors hold), through the same bounded decoder and checks as jobs.
    pub async fn embed_image(&self, bytes: Bytes) -> Result<Vec<f32>, AppError> {
        self.on_cpu(move |inner| {
            let (_, classification) = inner
                .without_renditions
                .process_with(&bytes, |image| inner.tagger.classifier().classify(image))?;
            Ok(classification?.embedding)
        })
        .await
    }

    /// The semantic vector of words (what `semantic` vectors compare with).
    pub async fn text_vector(&self, text: String) -> Result<Vec<f32>, AppError> {
        self.on_cpu(move |inner| Ok(inner.tagger.semantic().text_vector(&text)?))
            .await
    }

    /// Decode, checks, renditions and models on the blocking pool, bounded;
    /// records the wait for a permit (`queue`) and the work (`cpu`).
    async fn run_cpu(
        &self,
        job: &Job,
        bytes: Bytes,
        vocabulary: Option<String>,
        timings: &mut BTreeMap<String, f64>,
    ) -> Result<(ProcessedImage, Option<ImageTags>), AppError> {
        let wants_tags = job.wants(Operation::Tags);
        let wants_renditions = job.wants(Operation::Renditions);
        self.on_cpu_timed(timings, move |inner| {
            let pipeline = if wants_renditions {
                &inner.with_renditions
            } else {
                &inner.without_renditions
            };
            let (processed, tagged) = pipeline.process_with(&bytes, |image| {
                wants_tags.then(|| {
                    let vocabulary = vocabulary.as_ref().and_then(|n| inner.vocabularies.get(n));
                    inner.tagger.tag(image, vocabulary)
                })
            })?;
            let tagged = tagged.transpose()?;
            Ok((processed, tagged))
        })
        .await
    }

    /// Runs `work` on the blocking pool once one of the CPU permits is
    /// free, in the caller's span; a panic becomes `job.panicked`.
    async fn on_cpu<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        self.on_cpu_timed(&mut BTreeMap::new(), work).await
    }

    /// [`Processor::on_cpu`], recording the wait for a permit as `queue`
    /// and the work as `cpu` in `timings` (milliseconds).
    async fn on_cpu_timed<T: Send + 'static>(
        &self,
        timings: &mut BTreeMap<String, f64>,
        work: impl FnOnce(&Inner) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let waiting = Instant::now();
        let _permit = self
            .inner
            .cpu
            .acquire()
            .await
            .map_err(|_| JobError::Panicked("the processor is shutting down".into()))?;
        timings.insert("queue".to_owned(), elapsed_ms(waiting));
        let working = Instant::now();
        let inner = Arc::clone(&self.inner);
        let result = self.inner.cpu_threads.run(move || work(&inner)).await;
        timings.insert("cpu".to_owned(), elapsed_ms(working));
        match result {
            Ok(result) => result,
            Err(PoolError::Panicked(message)) => {
                let error = JobError::Panicked(message);
                tracing::error!(%error, "image processing panicked");
                Err(error.into())
            }
            Err(PoolError::Closed) => {
                Err(JobError::Panicked("the processor is shutting down".into()).into())
            }
        }
    }

    async fn stored_original(&self, image: &StoredImage) -> Result<Bytes, AppError> {
        let original = image.record.renditions.get(ORIGINAL).ok_or_else(|| {
            JobError::SourceNotFound(format!(
                "image {} has no stored original (it was ingested with store.keep_originals = false)",
                image.record.image_id
            ))
        })?;
        Ok(self
            .inner
            .store
            .get(&original.uri, self.inner.max_input_bytes)
            .await?)
    }

    async fn write_objects(
        &self,
        tenant: &TenantId,
        image_id: ImageId,
        processed: &ProcessedImage,
        original: &Bytes,
        stored: Option<&StoredImage>,
    ) -> Result<BTreeMap<String, RenditionRecord>, AppError> {
        let store = &self.inner.store;
        let mut writes = Vec::new();
        let mut records = BTreeMap::new();
        for rendition in &processed.renditions {
            let extension = rendition.format.extension();
            let key = ObjectStorage::image_key(tenant, image_id, &rendition.name, extension);
            records.insert(
                rendition.name.clone(),
                RenditionRecord {
                    uri: key.clone(),
                    format: format_name(extension).to_owned(),
                    bytes: rendition.bytes.len() as u64,
                },
            );
            writes.push((key, Bytes::from(rendition.bytes.clone())));
        }
        match stored.and_then(|image| image.record.renditions.get(ORIGINAL)) {
            // Reprocessing: the original is already where it belongs.
            Some(record) => {
                records.insert(ORIGINAL.to_owned(), record.clone());
            }
            None if self.inner.keep_originals => {
                let format = processed.inspection.metadata.format.clone();
                let key = ObjectStorage::image_key(tenant, image_id, ORIGINAL, &format);
                records.insert(
                    ORIGINAL.to_owned(),
                    RenditionRecord {
                        uri: key.clone(),
                        format,
                        bytes: original.len() as u64,
                    },
                );
                writes.push((key, original.clone()));
            }
            None => {}
        }
        futures::future::try_join_all(
            writes
                .into_iter()
                .map(|(key, bytes)| store.put_owned(key, bytes)),
        )
        .await?;
        Ok(records)
    }

    fn new_image(
        &self,
        job: &Job,
        stored: Option<&StoredImage>,
        processed: &ProcessedImage,
        tags: &[Tag],
        tagged: ImageTags,
        outcome: &JobOutcome,
    ) -> NewImage {
        let inspection = &processed.inspection;
        let mut tag_scores: BTreeMap<String, TagScore> = BTreeMap::new();
        for tag in tags {
            let better = tag_scores
                .get(&tag.name)
                .is_none_or(|existing| existing.score < tag.score);
            if better {
                tag_scores.insert(
                    tag.name.clone(),
                    TagScore {
                        score: tag.score.clamp(0.0, 1.0),
                        source: tag.source.as_str().to_owned(),
                        model: tag.model.to_string(),
                    },
                );
            }
        }
        let quality = &inspection.quality;
        let flags = [
            ("too_small", quality.too_small),
            ("blurry", quality.blurry),
            ("underexposed", quality.underexposed),
            ("overexposed", quality.overexposed),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name.to_owned())
        .collect();
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
        // The CRM's fields: from the job, or kept from the stored record
        // when reprocessing.
        let (customer_id, project_id, filename, labels, source_uri, job_id) = match stored {
            Some(image) => {
                let r = &image.record;
                (
                    r.customer_id.clone(),
                    r.project_id.clone(),
                    r.filename.clone(),
                    r.labels.clone(),
                    r.source_uri.clone(),
                    r.job_id.clone(),
                )
            }
            None => (
                job.customer_id.clone(),
                job.project_id.clone(),
                job.filename.clone(),
                job.labels.clone(),
                source_uri(&job.source),
                Some(job.job_id.clone()),
            ),
        };
        NewImage {
            tenant_id: job.tenant_id.clone(),
            customer_id,
            project_id,
            sha256: inspection.fingerprints.sha256.clone(),
            phash: inspection.fingerprints.phash.clone(),
            tag_scores,
            nsfw: outcome.nsfw.unwrap_or_default(),
            quality: QualityRecord {
                sharpness: quality.sharpness,
                mean_luma: quality.mean_luma,
                flags,
            },
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
            renditions: outcome.renditions.clone(),
            source_uri,
            filename,
            job_id,
            labels,
            model_versions: self.inner.model_versions.clone(),
            vectors: ImageVectors {
                image: tagged.embedding,
                semantic: Some(tagged.semantic),
            },
        }
    }
}

fn load_models(
    config: &Config,
) -> Result<(Tagger, BTreeMap<String, EmbeddedVocabulary>), AppError> {
    let runtime = Runtime::init(&config.runtime())?;
    let store = ModelStore::open(&config.models.dir)?;
    let tagger = Tagger::load(&store, &runtime, &config.tagging)?;
    let mut vocabularies = BTreeMap::new();
    for (name, path) in &config.vocabularies {
        let text = read_text_file(path, MAX_VOCABULARY_BYTES)?;
        let vocabulary = Vocabulary::parse(&text)?;
        vocabularies.insert(name.clone(), tagger.embed_vocabulary(&vocabulary)?);
    }
    Ok((tagger, vocabularies))
}

/// Model version by role: classifier, nsfw, friendly tags, semantic space.
fn model_versions(tagger: &Tagger) -> BTreeMap<String, String> {
    const ROLES: [&str; 4] = ["classifier", "nsfw", "friendly_tags", "semantic"];
    ROLES
        .iter()
        .zip(tagger.models())
        .map(|(role, model)| ((*role).to_owned(), model.to_string()))
        .collect()
}

/// What the index records as the source (never inline bytes).
fn source_uri(source: &JobSource) -> Option<String> {
    match source {
        JobSource::File { uri } => Some(uri.clone()),
        JobSource::Object { key } => Some(format!("object:{key}")),
        JobSource::Inline { .. } | JobSource::Stored { .. } => None,
    }
}

fn format_name(extension: &str) -> &str {
    if extension == "jpg" {
        "jpeg"
    } else {
        extension
    }
}

fn elapsed_ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e5).round() / 1e2
}
