//! One job through the whole product: fetch the bytes (bounded), decode,
//! check and render them once (`imgtag_pipeline`), run the analyzers the
//! job asks for ([`crate::analyzers`]: classifier, NSFW, semantic vector,
//! OCR, quality; the models' batchers group concurrent jobs), look for
//! duplicates in the tenant, write renditions and the original to the
//! object store, upsert the index. The worker and `imgtag ingest` share
//! this [`Processor`]; only where jobs come from and where outcomes go
//! differ.
//!
//! Idempotent by construction: the image id is derived from tenant and
//! bytes, object keys from the image id, so a redelivered job rewrites the
//! same point and the same objects. A job whose bytes are already stored by
//! *another* job is a duplicate: nothing is rewritten. A job re-running a
//! stored image (`stored` source) rewrites only its analyzers' outputs
//! ([`record`]).
//!
//! CPU work runs on the processor's own threads ([`CpuPool`], one per
//! core) behind a semaphore of as many permits; a panic there is caught at
//! the job boundary and becomes `job.panicked`.

mod objects;
pub mod outcome;
pub mod record;
pub mod redaction;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use imgtag_models::{EmbeddedVocabulary, ModelStore, Runtime, Vocabulary};
use imgtag_pipeline::{Pipeline, ProcessedImage};
use tokio::sync::Semaphore;

pub use outcome::{JobOutcome, OcrSummary, OutcomeKind};
use record::{RecordParts, event_tags};

use crate::analyzers::{Analysis, AnalysisInput, Analyzers, Plan};
use crate::config::{Config, PrivacyConfig};
use crate::cpu_pool::{CpuPool, PoolError};
use crate::error::AppError;
use crate::events::EventDuplicate;
use crate::index::{
    DuplicateReason, ImageId, Index, IndexError, NewImage, StoredImage, TenantIndex,
};
use crate::input::read_text_file;
use crate::jobs::{Job, JobError, JobSource, Operation, SourceReader};
use crate::service::hybrid::TextQuery;
use crate::service::privacy::{mask_document, mask_text};
use crate::store::{Claim, ObjectStorage};

/// Name of the original among an image's objects.
pub const ORIGINAL: &str = "original";
/// Largest vocabulary file.
const MAX_VOCABULARY_BYTES: u64 = 1024 * 1024;
/// A claim on an image's bytes older than this, whose job wrote no point,
/// was left by a job that will not finish (its worker died and the job
/// went elsewhere, or it was purged): another job may take it over.
pub const CLAIM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Everything a job needs, loaded once.
#[derive(Debug, Clone)]
pub struct Processor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    with_renditions: Pipeline,
    without_renditions: Pipeline,
    analyzers: Analyzers,
    vocabularies: BTreeMap<String, EmbeddedVocabulary>,
    index: Index,
    store: ObjectStorage,
    sources: SourceReader,
    cpu: Semaphore,
    cpu_threads: CpuPool,
    keep_originals: bool,
    max_input_bytes: u64,
    models: Vec<String>,
    privacy: PrivacyConfig,
}

/// What the CPU part of a job produced.
struct Analysed {
    processed: ProcessedImage,
    analysis: Analysis,
}

impl Processor {
    /// Loads the analyzers and vocabularies and opens the index and the
    /// store. `extra_roots` are added to `[sources] allowed_roots` (what
    /// `imgtag ingest` was given).
    pub async fn open(config: &Config, extra_roots: &[PathBuf]) -> Result<Self, AppError> {
        let cpu_permits = config.pipeline(false).max_concurrency;
        let with_renditions = config.pipeline(true).build()?;
        let without_renditions = config.pipeline(false).build()?;
        let models_config = config.clone();
        let (analyzers, vocabularies) =
            tokio::task::spawn_blocking(move || load_analyzers(&models_config))
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
        let models = analyzers.models().iter().map(ToString::to_string).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                with_renditions,
                without_renditions,
                analyzers,
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
                privacy: config.privacy.clone(),
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

    /// The loaded analyzers.
    pub fn analyzers(&self) -> &Analyzers {
        &self.inner.analyzers
    }

    /// Analyzer version by analyzer name, as stored with each image: what
    /// makes an image stale when it differs.
    pub fn analyzer_versions(&self) -> BTreeMap<String, String> {
        self.inner.analyzers.version_map()
    }

    /// Runs one job to the end.
    pub async fn process(&self, job: &Job) -> Result<JobOutcome, AppError> {
        let inner = &self.inner;
        let mut timings = BTreeMap::new();
        let tenant = inner.index.tenant(job.tenant_id.clone());
        let vocabulary = self.vocabulary(job)?;

        let started = Instant::now();
        let stored = match &job.source {
            JobSource::Stored { image_id } => Some(tenant.get(*image_id, true).await?),
            _ => None,
        };
        let bytes = match &stored {
            Some(image) => self.stored_original(image).await?,
            None => inner.sources.fetch(job).await?,
        };
        timings.insert("fetch".to_owned(), elapsed_ms(started));

        let wanted = job.analyzers();
        let plan = match &stored {
            Some(_) => Plan::rewrite(&wanted, &inner.analyzers.enabled()),
            None => inner.analyzers.plan(&wanted),
        };
        let analysed = self
            .run_cpu(job, bytes.clone(), vocabulary, plan.clone(), &mut timings)
            .await?;
        for (analyzer, ms) in &analysed.analysis.timings_ms {
            timings.insert(format!("analyzer.{analyzer}"), *ms);
        }
        let inspection = &analysed.processed.inspection;
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
        let parts = RecordParts {
            job,
            stored: stored.as_ref(),
            inspection,
            analysis: &analysed.analysis,
            plan: &plan,
            versions: inner.analyzers.versions(),
        };
        let document = parts.document();
        let identity = document.as_ref().is_some_and(|d| d.identity);
        let mut outcome = JobOutcome {
            kind: OutcomeKind::Processed,
            image_id,
            sha256: sha256.clone(),
            indexed: false,
            tags: event_tags(&parts.tags()),
            nsfw: parts.nsfw(),
            ocr: parts.ocr().as_ref().map(|ocr| {
                let mut summary = OcrSummary::of(ocr);
                if identity {
                    summary.text = mask_text(&summary.text);
                }
                summary
            }),
            faces: parts.faces().map(|faces| faces.count),
            document: document.map(|mut document| {
                mask_document(&mut document);
                document.reminders.clear();
                document
            }),
            renditions: BTreeMap::new(),
            duplicates: Vec::new(),
            models: if plan.written().is_empty() {
                Vec::new()
            } else {
                inner.models.clone()
            },
            analyzers: plan
                .written()
                .iter()
                .filter_map(|id| {
                    let version = inner.analyzers.versions().get(id)?;
                    Some((id.as_str().to_owned(), version.clone()))
                })
                .collect(),
            timings_ms: timings,
        };

        let indexing = job.wants(Operation::Index);
        let new_image = indexing
            .then(|| parts.new_image(BTreeMap::new()))
            .transpose()?;
        if let Some(new_image) = &new_image {
            let started = Instant::now();
            if stored.is_none()
                && let Some(existing) = self.claim_bytes(&tenant, job, image_id).await?
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
            outcome.duplicates =
                find_duplicates(&tenant, &sha256, inspection, new_image, image_id).await?;
            outcome
                .timings_ms
                .insert("duplicates".to_owned(), elapsed_ms(started));
        }

        let written = self
            .write_and_index(
                job,
                &tenant,
                image_id,
                &analysed,
                &bytes,
                stored.as_ref(),
                new_image,
                &mut outcome,
            )
            .await;
        if let Err(error) = written {
            if stored.is_none() && indexing && !error.is_retryable() {
                // Failed for good: let the next job with these bytes in.
                if let Err(release) = inner.store.release_claim(&job.tenant_id, image_id).await {
                    tracing::warn!(code = release.code(), %release, "could not release the image's claim");
                }
            }
            return Err(error);
        }
        Ok(outcome)
    }

    /// Writes the renditions and the original, then the index point.
    #[allow(clippy::too_many_arguments)]
    async fn write_and_index(
        &self,
        job: &Job,
        tenant: &TenantIndex<'_>,
        image_id: ImageId,
        analysed: &Analysed,
        bytes: &Bytes,
        stored: Option<&StoredImage>,
        new_image: Option<NewImage>,
        outcome: &mut JobOutcome,
    ) -> Result<(), AppError> {
        if job.wants(Operation::Renditions) {
            let started = Instant::now();
            outcome.renditions = self
                .write_objects(&job.tenant_id, image_id, &analysed.processed, bytes, stored)
                .await?;
            outcome
                .timings_ms
                .insert("store".to_owned(), elapsed_ms(started));
        } else if let Some(image) = stored {
            outcome.renditions = image.record.renditions.clone();
        }

        if let Some(mut new_image) = new_image {
            let started = Instant::now();
            new_image.renditions = outcome.renditions.clone();
            tenant.upsert(vec![new_image]).await?;
            outcome.indexed = true;
            outcome
                .timings_ms
                .insert("index".to_owned(), elapsed_ms(started));
        }
        Ok(())
    }

    /// The job's vocabulary, which must be configured.
    fn vocabulary(&self, job: &Job) -> Result<Option<String>, AppError> {
        let vocabularies = &self.inner.vocabularies;
        match &job.vocabulary {
            Some(name) if !vocabularies.contains_key(name) => Err(JobError::Invalid(format!(
                "unknown vocabulary {name:?} (configured: {})",
                vocabularies.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
            .into()),
            other => Ok(other.clone()),
        }
    }

    /// Makes this job the one that stores these bytes, or says which
    /// stored image it duplicates. The index is read first (the common
    /// case: stored long ago); then the claim object is created atomically
    /// in the store, so of two jobs with the same bytes at the same moment,
    /// on any workers, exactly one writes. A job that finds the claim of
    /// another job whose point is not written yet fails with
    /// `job.in_progress` (retried: by then the point is there and this job
    /// is its duplicate). A claim older than [`CLAIM_TIMEOUT`] without a
    /// point was left by a job that will not finish: it is taken over.
    async fn claim_bytes(
        &self,
        tenant: &TenantIndex<'_>,
        job: &Job,
        image_id: ImageId,
    ) -> Result<Option<StoredImage>, AppError> {
        if let Some(existing) = self.stored_by_another_job(tenant, job, image_id).await? {
            return Ok(Some(existing));
        }
        let store = &self.inner.store;
        if !store.supports_claims() {
            // An S3-compatible store without conditional writes: the index
            // check above is all there is (docs/JOBS.md, "Duplicates").
            return Ok(None);
        }
        let mut taken_over = false;
        loop {
            let holder = match store.claim(&job.tenant_id, image_id, &job.job_id).await? {
                Claim::Won | Claim::Ours => return Ok(None),
                Claim::Held { job_id, claimed_at } => (job_id, claimed_at),
            };
            // The holder may have written its point since the index was read.
            if let Some(existing) = self.stored_by_another_job(tenant, job, image_id).await? {
                return Ok(Some(existing));
            }
            let age = chrono::Utc::now().signed_duration_since(holder.1);
            if taken_over || age.to_std().unwrap_or_default() < CLAIM_TIMEOUT {
                return Err(JobError::InProgress {
                    image_id: image_id.to_string(),
                }
                .into());
            }
            tracing::warn!(
                claimed_secs = age.num_seconds(),
                "taking over a stale claim on these bytes"
            );
            store.release_claim(&job.tenant_id, image_id).await?;
            taken_over = true;
        }
    }

    /// The stored image with these bytes, when another job wrote it.
    async fn stored_by_another_job(
        &self,
        tenant: &TenantIndex<'_>,
        job: &Job,
        image_id: ImageId,
    ) -> Result<Option<StoredImage>, AppError> {
        match tenant.get(image_id, false).await {
            Ok(image) if image.record.job_id.as_deref() != Some(job.job_id.as_str()) => {
                Ok(Some(image))
            }
            Ok(_) | Err(IndexError::NotFound(_)) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The classifier's embedding of an uploaded image (what `image`
    /// vectors hold), through the same bounded decoder and checks as jobs.
    pub async fn embed_image(&self, bytes: Bytes) -> Result<Vec<f32>, AppError> {
        self.on_cpu(move |inner| {
            let classifier = inner
                .analyzers
                .classifier()
                .ok_or(AppError::AnalyzerDisabled {
                    analyzer: "classifier",
                    needed_for: "searching by example image",
                })?;
            let (_, classification) = inner.without_renditions.process_with(&bytes, |decoded| {
                classifier.classifier().classify(decoded.model_input)
            })?;
            Ok(classification?.embedding)
        })
        .await
    }

    /// Words prepared for a search (their semantic vector and the tags they
    /// name), on the CPU threads.
    pub async fn text_query(&self, text: String) -> Result<TextQuery, AppError> {
        self.on_cpu(move |inner| TextQuery::from_analyzers(&text, &inner.analyzers))
            .await
    }

    /// Decode, checks, renditions and analyzers on the CPU threads,
    /// bounded; records the wait for a permit (`queue`) and the work
    /// (`cpu`).
    async fn run_cpu(
        &self,
        job: &Job,
        bytes: Bytes,
        vocabulary: Option<String>,
        plan: Plan,
        timings: &mut BTreeMap<String, f64>,
    ) -> Result<Analysed, AppError> {
        let wants_renditions = job.wants(Operation::Renditions);
        self.on_cpu_timed(timings, move |inner| {
            let pipeline = if wants_renditions {
                &inner.with_renditions
            } else {
                &inner.without_renditions
            };
            let (processed, analysis) = pipeline.process_redacted(
                &bytes,
                |decoded| {
                    let input = AnalysisInput {
                        image: decoded.image,
                        model_input: decoded.model_input,
                        inspection: decoded.inspection,
                        source: Some((&bytes, &inner.without_renditions)),
                        vocabulary: vocabulary.as_ref().and_then(|n| inner.vocabularies.get(n)),
                    };
                    inner.analyzers.run(&input, &plan)
                },
                |analysis| {
                    let analysis = analysis.as_ref().ok()?;
                    redaction::redaction_for(analysis, &inner.privacy)
                },
            )?;
            Ok(Analysed {
                processed,
                analysis: analysis?,
            })
        })
        .await
    }

    /// Runs `work` on the CPU threads once one of the CPU permits is
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
}

/// Exact and near duplicates of the image about to be written, in its
/// tenant (itself left out).
async fn find_duplicates(
    tenant: &TenantIndex<'_>,
    sha256: &str,
    inspection: &imgtag_pipeline::Inspection,
    new_image: &crate::index::NewImage,
    image_id: ImageId,
) -> Result<Vec<EventDuplicate>, AppError> {
    let phash = crate::index::record::parse_phash(&inspection.fingerprints.phash)?;
    let matches = tenant
        .duplicates(sha256, phash, &new_image.vectors.image, Some(image_id))
        .await?;
    Ok(matches
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
        .collect())
}

fn load_analyzers(
    config: &Config,
) -> Result<(Analyzers, BTreeMap<String, EmbeddedVocabulary>), AppError> {
    let runtime = Runtime::init(&config.runtime())?;
    let store = ModelStore::open(&config.models.dir)?;
    let analyzers = Analyzers::build(&config.analyzers, &runtime, &store)?;
    let mut vocabularies = BTreeMap::new();
    if !config.vocabularies.is_empty() {
        let semantic = analyzers.semantic().ok_or(AppError::AnalyzerDisabled {
            analyzer: "semantic",
            needed_for: "custom vocabularies",
        })?;
        for (name, path) in &config.vocabularies {
            let text = read_text_file(path, MAX_VOCABULARY_BYTES)?;
            let vocabulary = Vocabulary::parse(&text)?;
            vocabularies.insert(name.clone(), semantic.embed_vocabulary(&vocabulary)?);
        }
    }
    Ok((analyzers, vocabularies))
}

fn elapsed_ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e5).round() / 1e2
}
