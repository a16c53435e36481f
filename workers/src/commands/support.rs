//! What several commands share: the async runtime, progress bars, turning
//! files and directories into jobs, signals and model batch metrics for the
//! long-running commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use imgtag_pipeline::DecodeLimits;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::analyzers::{AnalyzerId, Analyzers};
use crate::cli::JobFields;
use crate::error::AppError;
use crate::index::TenantId;
use crate::input::read_image_file;
use crate::jobs::{Job, JobSource, Operation, SCHEMA_VERSION};
use crate::process::Processor;

/// Namespace of the job ids `ingest` and `publish` derive for files.
const FILE_JOB_NAMESPACE: Uuid = Uuid::from_u128(0x5d2e_8a41_c7f3_4b09_9e6d_1f84_a2c5_7b30);

/// A multi-threaded tokio runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Config(format!("cannot start the async runtime: {e}")))
}

/// A progress bar on stderr (drawn only when stderr is a terminal).
pub fn progress_bar(length: Option<u64>, what: &str) -> ProgressBar {
    let bar = match length {
        Some(length) => ProgressBar::new(length),
        None => ProgressBar::new_spinner(),
    };
    let template = if length.is_some() {
        format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
        )
    } else {
        format!("{{elapsed_precise}} {{spinner}} {{pos}} {what} ({{per_sec}})")
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Every regular file under `paths` (directories walked recursively,
/// hidden entries skipped), canonical, sorted, without repeats.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, AppError> {
    let mut files = Vec::new();
    for path in paths {
        let input_error = |source| AppError::Input {
            path: path.clone(),
            source,
        };
        let metadata = fs_err::metadata(path).map_err(input_error)?;
        if metadata.is_file() {
            files.push(fs_err::canonicalize(path).map_err(input_error)?);
            continue;
        }
        for entry in walkdir::WalkDir::new(path)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        {
            let entry = entry.map_err(|e| AppError::Input {
                path: path.clone(),
                source: e.into(),
            })?;
            if entry.file_type().is_file() {
                files.push(fs_err::canonicalize(entry.path()).map_err(input_error)?);
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The directories `paths` name (a file's parent directory).
pub fn roots_of(paths: &[PathBuf]) -> Result<Vec<PathBuf>, AppError> {
    paths
        .iter()
        .map(|path| {
            let canonical = fs_err::canonicalize(path).map_err(|source| AppError::Input {
                path: path.clone(),
                source,
            })?;
            Ok(if canonical.is_dir() {
                canonical
            } else {
                canonical
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or(canonical)
            })
        })
        .collect()
}

/// The job for one file. The job id is derived from tenant, path, size and
/// modification time: the same unchanged file gives the same job (a re-run
/// is a redelivery, not a duplicate).
pub fn file_job(
    fields: &JobFields,
    file: &Path,
    inline: bool,
    limits: &DecodeLimits,
) -> Result<Job, AppError> {
    let tenant = TenantId::new(fields.tenant.clone())?;
    let metadata = fs_err::metadata(file).map_err(|source| AppError::Input {
        path: file.to_owned(),
        source,
    })?;
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let name = format!(
        "{tenant}\n{}\n{}\n{modified}",
        file.display(),
        metadata.len()
    );
    let job_id = Uuid::new_v5(&FILE_JOB_NAMESPACE, name.as_bytes()).to_string();
    let source = if inline {
        let bytes = read_image_file(file, limits)?;
        JobSource::Inline {
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    } else {
        let uri = url::Url::from_file_path(file)
            .map_err(|()| AppError::Input {
                path: file.to_owned(),
                source: std::io::Error::other("not an absolute path"),
            })?
            .to_string();
        JobSource::File { uri }
    };
    let job = Job {
        schema_version: SCHEMA_VERSION,
        job_id,
        tenant_id: tenant,
        customer_id: fields.customer.clone(),
        project_id: fields.project.clone(),
        filename: file.file_name().map(|name| {
            // A name is for people: control characters become `?` rather
            // than failing the job.
            name.to_string_lossy()
                .chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .take(512)
                .collect()
        }),
        labels: parse_labels(&fields.labels)?,
        source,
        operations: Operation::all(),
        vocabulary: fields.vocabulary.clone(),
    };
    job.validate()?;
    Ok(job)
}

fn parse_labels(labels: &[String]) -> Result<BTreeMap<String, String>, AppError> {
    labels
        .iter()
        .map(|label| {
            label
                .split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| AppError::Config(format!("--label {label:?} is not KEY=VALUE")))
        })
        .collect()
}

/// What the index compares an image file by.
#[derive(Debug, Clone)]
pub struct FileAnalysis {
    /// sha256 of the bytes.
    pub sha256: String,
    /// Perceptual hash.
    pub phash: u64,
    /// The classifier's embedding (`image` vector).
    pub embedding: Vec<f32>,
}

/// Reads `path` (bounded) and computes what ingestion stores for it,
/// through the same pipeline configuration, so that values compare.
pub fn analyse_file(
    config: &crate::config::Config,
    analyzers: &Analyzers,
    path: &Path,
) -> Result<FileAnalysis, AppError> {
    let classifier = analyzers.classifier().ok_or(AppError::AnalyzerDisabled {
        analyzer: "classifier",
        needed_for: "comparing an image file with the index",
    })?;
    let bytes = read_image_file(path, &config.decode)?;
    // With the renditions, as ingestion decodes: shrink-on-load stops at the
    // same size, so the model input (and the embedding) is the same.
    let pipeline = config.pipeline(true).build()?;
    let (processed, classification) = pipeline.process_with(&bytes, |decoded| {
        classifier.classifier().classify(decoded.model_input)
    })?;
    Ok(FileAnalysis {
        sha256: processed.inspection.fingerprints.sha256.clone(),
        phash: crate::index::record::parse_phash(&processed.inspection.fingerprints.phash)?,
        embedding: classification?.embedding,
    })
}

/// Loads the analyzers among `needed` that the configuration enables
/// (blocking; their models are sha256-checked).
pub fn load_analyzers(
    config: &crate::config::Config,
    needed: &[AnalyzerId],
) -> Result<Analyzers, AppError> {
    let runtime = imgtag_models::Runtime::init(&config.runtime())?;
    let store = imgtag_models::ModelStore::open(&config.models.dir)?;
    Analyzers::build(&config.analyzers.only(needed), &runtime, &store)
}

/// Cancels `shutdown` on SIGTERM or SIGINT.
pub fn spawn_signal_handler(shutdown: CancellationToken) -> Result<(), AppError> {
    use tokio::signal::unix::{SignalKind, signal};
    let signal_error = |e: std::io::Error| AppError::Config(format!("cannot watch signals: {e}"));
    let mut terminate = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_error)?;
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
        }
        shutdown.cancel();
    });
    Ok(())
}

/// Publishes the models' batch counters every 5 s until aborted.
pub fn spawn_batch_stats(processor: &Processor) -> tokio::task::JoinHandle<()> {
    let processor = processor.clone();
    tokio::spawn(async move {
        loop {
            crate::telemetry::record_batches(processor.analyzers());
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        }
    })
}

/// What a long-running command (`worker`, `serve`) runs with.
pub struct Service {
    /// `[worker]`, with the command line's concurrency.
    pub worker: crate::broker::WorkerConfig,
    /// Cancelled by SIGTERM or SIGINT.
    pub shutdown: CancellationToken,
    /// Models, index and object store.
    pub processor: Processor,
    /// The models' batch metrics task (abort it when done).
    pub stats: tokio::task::JoinHandle<()>,
}

/// Starts what `worker` and `serve` share (inside the runtime): the metrics
/// endpoint if configured, the signal handler, the processor and its batch
/// metrics.
pub async fn start_service(
    config: &crate::config::Config,
    concurrency: Option<u16>,
) -> Result<Service, AppError> {
    let mut worker = config.worker.clone();
    if let Some(concurrency) = concurrency {
        worker.concurrency = concurrency;
    }
    if !worker.metrics_listen.is_empty() {
        crate::telemetry::init_metrics(&worker.metrics_listen)?;
    }
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone())?;
    let processor = Processor::open(config, &[]).await?;
    let stats = spawn_batch_stats(&processor);
    Ok(Service {
        worker,
        shutdown,
        processor,
        stats,
    })
}
