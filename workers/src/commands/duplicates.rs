//! `imgtag duplicates --tenant T (--image FILE | --all)`: exact duplicates
//! (same bytes) and near duplicates (perceptual hashes within
//! `[index.duplicates] phash_max_distance` bits, then image embeddings at
//! least `min_cosine` alike), each with its reason.
//!
//! `--all` asks the index for the duplicates of every image of the tenant
//! (one look-up per image, a page at a time) and reports each pair once.

use std::io::Write;

use super::support::{analyse_file, load_analyzers, runtime};
use crate::analyzers::AnalyzerId;
use crate::cli::DuplicatesArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::{DuplicateReason, Index, TenantId};
use crate::service::duplicates::{DuplicatePair, DuplicatesOutput, ImageRef, all_pairs, image_ref};

/// Runs the command.
pub fn run(config: &Config, args: &DuplicatesArgs) -> Result<DuplicatesOutput, AppError> {
    let tenant = TenantId::new(args.tenant.clone())?;
    let analysis = match &args.image {
        Some(path) => {
            let analyzers = load_analyzers(config, &[AnalyzerId::Classifier])?;
            Some(analyse_file(config, &analyzers, path)?)
        }
        None => None,
    };
    runtime()?.block_on(async {
        let index = Index::open(&config.index).await?;
        let scope = index.tenant(tenant);
        match analysis {
            Some(analysis) => {
                let matches = scope
                    .duplicates(&analysis.sha256, analysis.phash, &analysis.embedding, None)
                    .await?;
                Ok(DuplicatesOutput {
                    pairs: matches
                        .into_iter()
                        .map(|m| DuplicatePair {
                            image: None,
                            duplicate: image_ref(&m.image.record),
                            reason: m.reason,
                        })
                        .collect(),
                    images_checked: 1,
                })
            }
            None => all_pairs(&scope).await,
        }
    })
}

fn reason_text(reason: &DuplicateReason) -> String {
    match reason {
        DuplicateReason::SameBytes => "same bytes".into(),
        DuplicateReason::Near {
            phash_distance,
            cosine,
        } => {
            format!("near: perceptual hash distance {phash_distance}, embedding cosine {cosine:.3}")
        }
    }
}

fn describe(image: &ImageRef) -> String {
    format!(
        "{} ({})",
        image.image_id,
        image.filename.as_deref().unwrap_or("-")
    )
}

/// Text for people.
pub fn write_text(output: &DuplicatesOutput, out: &mut impl Write) -> std::io::Result<()> {
    if output.pairs.is_empty() {
        return writeln!(
            out,
            "no duplicates among {} image(s) checked",
            output.images_checked
        );
    }
    for pair in &output.pairs {
        match &pair.image {
            Some(image) => writeln!(
                out,
                "{}\n  = {}\n  {}",
                describe(image),
                describe(&pair.duplicate),
                reason_text(&pair.reason)
            )?,
            None => writeln!(
                out,
                "{}  {}",
                describe(&pair.duplicate),
                reason_text(&pair.reason)
            )?,
        }
    }
    writeln!(
        out,
        "{} pair(s) among {} image(s) checked",
        output.pairs.len(),
        output.images_checked
    )
}
