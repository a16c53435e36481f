//! `imgtag reprocess --tenant T [--only-stale] [--via-queue]`: re-runs a
//! tenant's images from their stored originals, after a model change.
//!
//! - Walks the tenant in id order, a page at a time: every image (all
//!   analyzers, renditions rewritten), or with `--only-stale` those
//!   lacking one of the running analyzers' versions; such an image re-runs
//!   only its stale analyzers (and those that read them), and every other
//!   output of its record stays as it is.
//! - In process (default): each page runs through the same [`Processor`]
//!   as ingestion, `--concurrency` images at once.
//! - `--via-queue`: publishes one `stored` job per image instead (confirmed)
//!   to the batch lane, for the workers to run when no live or bulk work
//!   waits.
//! - Resumable: after every page the cursor and counts are saved in
//!   `{index dir}.reprocess/{tenant}.json`; an interrupted run resumes
//!   there (`--restart` starts over). The file is removed when the walk
//!   completes.

use std::io::Write;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::support::{progress_bar, runtime};
use crate::broker::Lane;
use crate::broker::publisher::confirmed;
use crate::broker::{Publisher, connect, topology};
use crate::cli::ReprocessArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::{ImageFilter, ImageId, Page, TenantId};
use crate::jobs::{Job, JobSource, Operation, SCHEMA_VERSION};
use crate::process::Processor;

/// Images per page of the walk.
const PAGE: usize = 64;

/// Progress of a run, saved after every page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReprocessState {
    /// The tenant.
    pub tenant_id: String,
    /// Whether only stale images are walked.
    pub only_stale: bool,
    /// Where the next page starts (`None`: from the beginning).
    pub cursor: Option<ImageId>,
    /// Images re-run (or published) so far.
    pub done: u64,
    /// Images that failed.
    pub failed: u64,
    /// Failures: image id and error code.
    pub failures: Vec<(ImageId, String)>,
}

/// What the run did.
#[derive(Debug, Serialize)]
pub struct ReprocessOutput {
    /// The final state.
    #[serde(flatten)]
    pub state: ReprocessState,
    /// Whether an earlier run was resumed.
    pub resumed: bool,
    /// Whether jobs were published rather than run here.
    pub via_queue: bool,
    /// Seconds taken.
    pub seconds: f64,
}

/// Runs the command.
pub fn run(config: &Config, args: &ReprocessArgs) -> Result<ReprocessOutput, AppError> {
    let tenant = TenantId::new(args.tenant.clone())?;
    let state_path = state_path(config, &tenant);
    let saved = if args.restart {
        None
    } else {
        load_state(&state_path)?
    };
    let resumed = saved
        .as_ref()
        .is_some_and(|s| s.only_stale == args.only_stale);
    let mut state = saved
        .filter(|s| s.only_stale == args.only_stale)
        .unwrap_or_else(|| ReprocessState {
            tenant_id: tenant.to_string(),
            only_stale: args.only_stale,
            ..ReprocessState::default()
        });
    let concurrency = usize::from(args.concurrency.unwrap_or(config.worker.concurrency));
    let started = std::time::Instant::now();
    runtime()?.block_on(async {
        let processor = Processor::open(config, &[]).await?;
        let publisher = if args.via_queue {
            let connection = connect(&config.broker, "imgtag reprocess").await?;
            let publisher = Publisher::open(&connection, &config.broker).await?;
            topology::declare(publisher.channel(), &config.broker).await?;
            Some((connection, publisher))
        } else {
            None
        };
        let scope = processor.index().tenant(tenant.clone());
        let total = if args.only_stale {
            None
        } else {
            Some(
                scope
                    .count(&ImageFilter::everything())
                    .await?,
            )
        };
        let bar = progress_bar(total, "images");
        bar.set_position(state.done + state.failed);
        let current = processor.analyzer_versions();
        let models_tag = models_tag(&current);
        loop {
            let page: Page = if args.only_stale {
                scope.stale(&current, state.cursor, PAGE).await?
            } else {
                let all = ImageFilter::everything();
                scope.scroll(&all, state.cursor, PAGE, false).await?
            };
            let jobs: Vec<Job> = page
                .images
                .iter()
                .map(|image| {
                    let operations = if args.only_stale {
                        let stale = processor.analyzers().stale(&image.record.model_versions);
                        stale
                            .into_iter()
                            .map(Operation::of)
                            .chain([Operation::Index])
                            .collect()
                    } else {
                        Operation::all()
                    };
                    stored_job(&tenant, image.record.image_id, &models_tag, operations)
                })
                .collect();
            match &publisher {
                Some((_, publisher)) => {
                    let mut pending = Vec::with_capacity(jobs.len());
                    for job in &jobs {
                        pending.push(
                            publisher
                                .start_job(Lane::Batch, &job.job_id, &job.to_body(), 1)
                                .await?,
                        );
                    }
                    for confirm in pending {
                        confirmed(confirm, "reprocessing job").await?;
                        state.done += 1;
                        bar.inc(1);
                    }
                }
                None => {
                    let mut results = futures::stream::iter(jobs.into_iter().map(|job| {
                        let processor = processor.clone();
                        async move {
                            let result = processor.process(&job).await;
                            (job, result)
                        }
                    }))
                    .buffer_unordered(concurrency);
                    while let Some((job, result)) = results.next().await {
                        match result {
                            Ok(_) => state.done += 1,
                            Err(error) => {
                                state.failed += 1;
                                if let JobSource::Stored { image_id } = job.source {
                                    state.failures.push((image_id, error.code().to_owned()));
                                }
                                tracing::warn!(job_id = %job.job_id, code = error.code(), %error, "reprocessing failed");
                            }
                        }
                        bar.inc(1);
                    }
                }
            }
            state.cursor = page.next;
            if state.cursor.is_none() {
                break;
            }
            save_state(&state_path, &state)?;
        }
        bar.finish_and_clear();
        if let Some((connection, _)) = publisher {
            let _ = connection.close(200, "done".into()).await;
        }
        Ok::<_, AppError>(())
    })?;
    remove_state(&state_path)?;
    Ok(ReprocessOutput {
        state,
        resumed,
        via_queue: args.via_queue,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A job re-running one image from its stored original.
fn stored_job(
    tenant: &TenantId,
    image_id: ImageId,
    models_tag: &str,
    operations: Vec<Operation>,
) -> Job {
    Job {
        schema_version: SCHEMA_VERSION,
        job_id: format!("reprocess.{image_id}.{models_tag}"),
        tenant_id: tenant.clone(),
        customer_id: None,
        project_id: None,
        filename: None,
        labels: Default::default(),
        source: JobSource::Stored { image_id },
        operations,
        vocabulary: None,
    }
}

/// Eight hex digits naming the analyzer versions (part of reprocessing job
/// ids: the same image under new analyzers is new work).
fn models_tag(versions: &std::collections::BTreeMap<String, String>) -> String {
    use sha2::Digest;
    let joined: Vec<String> = versions.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let digest = sha2::Sha256::digest(joined.join("\n").as_bytes());
    hex::encode(&digest[..4])
}

fn state_path(config: &Config, tenant: &TenantId) -> PathBuf {
    let mut dir = config.index.edge.dir.clone().into_os_string();
    dir.push(".reprocess");
    PathBuf::from(dir).join(format!("{tenant}.json"))
}

fn load_state(path: &Path) -> Result<Option<ReprocessState>, AppError> {
    match crate::input::read_text_file(path, 16 * 1024 * 1024) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            AppError::Config(format!(
                "{}: unreadable reprocessing state ({e}); run with --restart",
                path.display()
            ))
        }),
        Err(AppError::Input { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

fn save_state(path: &Path, state: &ReprocessState) -> Result<(), AppError> {
    let output_error = |source| AppError::Output {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir).map_err(output_error)?;
    }
    let temporary = path.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(state).map_err(|e| output_error(e.into()))?;
    fs_err::write(&temporary, text).map_err(output_error)?;
    fs_err::rename(&temporary, path).map_err(output_error)
}

fn remove_state(path: &Path) -> Result<(), AppError> {
    match fs_err::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(AppError::Output {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Text for people.
pub fn write_text(output: &ReprocessOutput, out: &mut impl Write) -> std::io::Result<()> {
    let verb = if output.via_queue {
        "published"
    } else {
        "reprocessed"
    };
    writeln!(
        out,
        "{verb} {} images of tenant {} in {:.1} s ({} failed){}",
        output.state.done,
        output.state.tenant_id,
        output.seconds,
        output.state.failed,
        if output.resumed {
            ", resuming an interrupted run"
        } else {
            ""
        }
    )?;
    for (image, code) in &output.state.failures {
        writeln!(out, "  failed {image}: error[{code}]")?;
    }
    Ok(())
}
