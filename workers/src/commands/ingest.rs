//! `imgtag ingest PATH...`: embedded mode. The same [`Processor`] the
//! worker runs, fed from files instead of a queue: no broker, the local
//! index and object store, `--concurrency` images in flight (their model
//! runs share batches), a progress bar, and a summary at the end; `--json`
//! prints each image's result event as one line instead.

use std::io::Write;
use std::time::Instant;

use futures::StreamExt;
use serde::Serialize;

use super::support::{collect_files, file_job, progress_bar, roots_of, runtime};
use crate::cli::IngestArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::events::{EventKind, ResultEvent};
use crate::process::Processor;

/// What `ingest` did.
#[derive(Debug, Serialize)]
pub struct IngestOutput {
    /// One result event per image, in completion order.
    pub events: Vec<ResultEvent>,
    /// Wall time of the processing (models loaded), in seconds.
    pub seconds: f64,
    /// Wall time including loading the models and opening the stores.
    pub total_seconds: f64,
}

impl IngestOutput {
    /// Images with each outcome.
    pub fn count(&self, kind: EventKind) -> usize {
        self.events.iter().filter(|e| e.event == kind).count()
    }

    /// Images per second of processing.
    pub fn images_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.events.len() as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Whether no image failed.
    pub fn all_succeeded(&self) -> bool {
        self.count(EventKind::Failed) == 0
    }
}

/// Runs the command. With `--json`, events are printed as they complete.
pub fn run(config: &Config, args: &IngestArgs) -> Result<IngestOutput, AppError> {
    let started = Instant::now();
    let files = collect_files(&args.paths)?;
    let jobs = files
        .iter()
        .map(|file| file_job(&args.job, file, false, &config.decode))
        .collect::<Result<Vec<_>, _>>()?;
    let roots = roots_of(&args.paths)?;
    let concurrency = usize::from(args.concurrency.unwrap_or(config.worker.concurrency));
    runtime()?.block_on(async {
        let processor = Processor::open(config, &roots).await?;
        let bar = progress_bar(Some(jobs.len() as u64), "images");
        let processing = Instant::now();
        let mut results = futures::stream::iter(jobs.into_iter().map(|job| {
            let processor = processor.clone();
            async move {
                let span = tracing::info_span!("job", job_id = %job.job_id, tenant = %job.tenant_id);
                let result = tracing::Instrument::instrument(processor.process(&job), span).await;
                (job, result)
            }
        }))
        .buffer_unordered(concurrency);
        let mut events = Vec::new();
        while let Some((job, result)) = results.next().await {
            let event = match &result {
                Ok(outcome) => ResultEvent::finished(&job, outcome, 1),
                Err(error) => {
                    tracing::warn!(job_id = %job.job_id, code = error.code(), %error, "image failed");
                    ResultEvent::failed(Some(&job), error.code(), &error.to_string(), error.is_retryable(), 1)
                }
            };
            if args.json {
                bar.suspend(|| {
                    let mut stdout = std::io::stdout().lock();
                    let _ = serde_json::to_writer(&mut stdout, &event);
                    let _ = writeln!(stdout);
                });
            }
            events.push(event);
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(IngestOutput {
            events,
            seconds: processing.elapsed().as_secs_f64(),
            total_seconds: started.elapsed().as_secs_f64(),
        })
    })
}

/// The summary for people: one line per image, then the totals.
pub fn write_text(output: &IngestOutput, out: &mut impl Write) -> std::io::Result<()> {
    let mut events: Vec<&ResultEvent> = output.events.iter().collect();
    events.sort_by(|a, b| a.filename.cmp(&b.filename));
    for event in events {
        let name = event.filename.as_deref().unwrap_or("?");
        match &event.error {
            Some(error) => writeln!(
                out,
                "failed     {name:<28} error[{}]: {}",
                error.code, error.message
            )?,
            None => {
                let mut tags: Vec<_> = event
                    .tags
                    .iter()
                    .filter(|t| t.source == "classifier" || t.source == "hierarchy")
                    .collect();
                tags.sort_by(|a, b| b.score.total_cmp(&a.score));
                let top: Vec<String> = tags.iter().take(4).map(|t| t.name.clone()).collect();
                let status = match event.event {
                    EventKind::Duplicate => "duplicate",
                    _ => "processed",
                };
                writeln!(out, "{status:<10} {name:<28} {}", top.join(", "))?;
            }
        }
    }
    writeln!(out)?;
    write_summary(output, out)
}

/// The totals line (with `--json` it goes to stderr, after the events).
pub fn write_summary(output: &IngestOutput, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} images in {:.2} s ({:.2} images/s; {:.1} s with start-up): {} processed, {} duplicates, {} failed",
        output.events.len(),
        output.seconds,
        output.images_per_second(),
        output.total_seconds,
        output.count(EventKind::Processed),
        output.count(EventKind::Duplicate),
        output.count(EventKind::Failed),
    )
}
