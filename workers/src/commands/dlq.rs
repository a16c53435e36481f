//! `imgtag dlq list|replay|purge` (see [`crate::broker::dlq`]).

use std::io::Write;

use serde::Serialize;

use super::support::runtime;
use crate::broker::dlq::{self, DeadJob, DlqReport};
use crate::cli::{DlqAction, DlqArgs};
use crate::config::Config;
use crate::error::AppError;

/// What a dlq command reports.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum DlqOutput {
    /// `list`.
    List(Vec<DeadJob>),
    /// `replay`, `purge`.
    Moved(DlqReport),
}

/// Runs the command.
pub fn run(config: &Config, args: &DlqArgs) -> Result<DlqOutput, AppError> {
    runtime()?.block_on(async {
        Ok(match &args.action {
            DlqAction::List { limit } => DlqOutput::List(dlq::list(&config.broker, *limit).await?),
            DlqAction::Replay { limit } => {
                DlqOutput::Moved(dlq::replay(&config.broker, *limit).await?)
            }
            DlqAction::Purge => DlqOutput::Moved(dlq::purge(&config.broker).await?),
        })
    })
}

/// Text for operators.
pub fn write_text(args: &DlqArgs, output: &DlqOutput, out: &mut impl Write) -> std::io::Result<()> {
    match output {
        DlqOutput::List(jobs) if jobs.is_empty() => writeln!(out, "the dead-letter queue is empty"),
        DlqOutput::List(jobs) => {
            for job in jobs {
                writeln!(
                    out,
                    "{:<38} {:<16} attempts {:<2} error[{}]: {}",
                    job.job_id.as_deref().unwrap_or("-"),
                    job.tenant_id.as_deref().unwrap_or("-"),
                    job.attempts,
                    job.code,
                    job.message
                )?;
            }
            Ok(())
        }
        DlqOutput::Moved(report) => {
            let verb = match args.action {
                DlqAction::Purge => "purged",
                _ => "replayed",
            };
            writeln!(out, "{verb} {} jobs", report.count)
        }
    }
}
