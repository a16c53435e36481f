//! `imgtag index info|optimize|backup|migrate|restore`: operating the
//! vector index (no records are printed: analysts search through
//! `imgtag search`).

use std::path::Path;

use serde::Serialize;

use crate::cli::{IndexAction, IndexArgs};
use crate::config::Config;
use crate::error::AppError;
use crate::index::{BackendKind, Index, backup};

/// What an index command reports.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum IndexOutput {
    /// `info`.
    Info(crate::index::IndexInfo),
    /// `optimize`.
    Optimize(crate::index::OptimizeReport),
    /// `backup`.
    Backup(crate::index::BackupReport),
    /// `restore`.
    Restore(backup::BackupManifest),
    /// `migrate`.
    Migrate(crate::index::MigrationPlan),
}

/// Runs the command.
pub fn run(config: &Config, args: &IndexArgs) -> Result<IndexOutput, AppError> {
    let destination = match &args.action {
        IndexAction::Restore { backup: from } => return restore(config, from),
        IndexAction::Backup { destination } => destination.clone(),
        IndexAction::Info | IndexAction::Optimize | IndexAction::Migrate => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Config(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        if let IndexAction::Migrate = args.action {
            return Ok(IndexOutput::Migrate(Index::migrate(&config.index).await?));
        }
        let index = Index::open(&config.index).await?;
        Ok(match &args.action {
            IndexAction::Optimize => IndexOutput::Optimize(index.optimize().await?),
            IndexAction::Backup { .. } | IndexAction::Restore { .. } => {
                IndexOutput::Backup(index.backup(destination).await?)
            }
            IndexAction::Info | IndexAction::Migrate => IndexOutput::Info(index.info().await?),
        })
    })
}

/// Restores needs the store closed: it only copies files into the empty
/// data directory.
fn restore(config: &Config, from: &Path) -> Result<IndexOutput, AppError> {
    if config.index.backend != BackendKind::Edge {
        return Err(AppError::Config(
            "restore applies to the embedded store; restore a server snapshot with \
             Qdrant's snapshot recovery API"
                .into(),
        ));
    }
    Ok(IndexOutput::Restore(backup::restore(
        from,
        &config.index.edge.dir,
    )?))
}

/// Text form.
pub fn write_text(output: &IndexOutput, out: &mut impl std::io::Write) -> std::io::Result<()> {
    match output {
        IndexOutput::Info(info) => {
            writeln!(out, "backend          {}", info.backend)?;
            writeln!(out, "location         {}", info.location)?;
            writeln!(out, "points           {}", info.points)?;
            writeln!(out, "indexed vectors  {}", info.indexed_vectors)?;
            writeln!(out, "segments         {}", info.segments)?;
            writeln!(out, "payload indexes  {}", info.payload_indexes.join(", "))
        }
        IndexOutput::Optimize(report) => writeln!(
            out,
            "optimised in {:.1} s ({})",
            report.seconds,
            if report.changed {
                "segments rebuilt"
            } else {
                "nothing to do"
            }
        ),
        IndexOutput::Backup(report) => writeln!(
            out,
            "backed up {} points ({} bytes) to {}",
            report.points, report.bytes, report.location
        ),
        IndexOutput::Restore(manifest) => writeln!(
            out,
            "restored {} points (backup of {}) into the data directory",
            manifest.points, manifest.created_at
        ),
        IndexOutput::Migrate(plan) if plan.is_empty() => {
            writeln!(out, "the index already has this version's layout")
        }
        IndexOutput::Migrate(plan) => {
            writeln!(out, "migrated: {}", plan.describe())?;
            writeln!(
                out,
                "every image is kept; run `imgtag reprocess --tenant T --only-stale` for each \
                 tenant to compute the new vectors (until then those images are found by \
                 their text, tags and filters, not by meaning)"
            )
        }
    }
}
