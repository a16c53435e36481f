//! `imgtag publish PATH... --tenant T`: what a CRM or a batch job does.
//! One job per file (`file://` sources, or the bytes inline with
//! `--inline`), published persistent with publisher confirms; up to
//! [`CONFIRM_WINDOW`] publishes are in flight before their confirms are
//! awaited. A progress bar shows the rate.

use std::collections::VecDeque;
use std::io::Write;
use std::time::Instant;

use imgtag_pipeline::DecodeLimits;
use serde::Serialize;

use super::support::{collect_files, file_job, progress_bar, runtime};
use crate::broker::publisher::confirmed;
use crate::broker::{Publisher, connect, topology};
use crate::cli::PublishArgs;
use crate::config::Config;
use crate::error::AppError;

/// Publishes awaiting their confirm at once.
pub const CONFIRM_WINDOW: usize = 256;

/// What was published.
#[derive(Debug, Serialize)]
pub struct PublishOutput {
    /// Job ids, in file order.
    pub job_ids: Vec<String>,
    /// Files that could not become jobs (unreadable, too large to inline).
    pub skipped: Vec<std::path::PathBuf>,
    /// Seconds from the first publish to the last confirm.
    pub seconds: f64,
}

impl PublishOutput {
    /// Confirmed jobs per second.
    pub fn jobs_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.job_ids.len() as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Runs the command.
pub fn run(config: &Config, args: &PublishArgs) -> Result<PublishOutput, AppError> {
    let files = collect_files(&args.paths)?;
    runtime()?.block_on(async {
        let connection = connect(&config.broker, "imgtag publish").await?;
        let publisher = Publisher::open(&connection, &config.broker).await?;
        topology::declare(publisher.channel(), &config.broker).await?;
        let bar = progress_bar(Some(files.len() as u64), "jobs");
        let started = Instant::now();
        let mut pending = VecDeque::new();
        let mut job_ids = Vec::with_capacity(files.len());
        // Inline jobs carry at most what a worker accepts inline.
        let limits = DecodeLimits {
            max_input_bytes: if args.inline {
                config
                    .decode
                    .max_input_bytes
                    .min(config.sources.max_inline_bytes)
            } else {
                config.decode.max_input_bytes
            },
            ..config.decode.clone()
        };
        let mut skipped = Vec::new();
        for file in &files {
            let job = match file_job(&args.job, file, args.inline, &limits) {
                Ok(job) => job,
                // A file that cannot become a job is reported, not fatal.
                Err(error @ (AppError::Input { .. } | AppError::Image(_))) => {
                    bar.suspend(|| {
                        eprintln!(
                            "skipped {}: error[{}]: {error}",
                            file.display(),
                            error.code()
                        );
                    });
                    skipped.push(file.clone());
                    bar.inc(1);
                    continue;
                }
                Err(error) => return Err(error),
            };
            pending.push_back(
                publisher
                    .start_job(args.lane, &job.job_id, &job.to_body(), 1)
                    .await?,
            );
            if args.json {
                bar.suspend(|| {
                    let line = serde_json::json!({"job_id": job.job_id, "file": file});
                    let _ = writeln!(std::io::stdout().lock(), "{line}");
                });
            }
            job_ids.push(job.job_id);
            if pending.len() >= CONFIRM_WINDOW
                && let Some(oldest) = pending.pop_front()
            {
                confirmed(oldest, "job").await?;
                bar.inc(1);
            }
        }
        while let Some(oldest) = pending.pop_front() {
            confirmed(oldest, "job").await?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        let _ = connection.close(200, "done".into()).await;
        Ok(PublishOutput {
            job_ids,
            skipped,
            seconds,
        })
    })
}
