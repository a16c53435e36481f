//! `imgtag duplicates --tenant T (--image FILE | --all)`: exact duplicates
//! (same bytes) and near duplicates (perceptual hashes within
//! `[index.duplicates] phash_max_distance` bits, then image embeddings at
//! least `min_cosine` alike), each with its reason.
//!
//! `--all` asks the index for the duplicates of every image of the tenant
//! (one look-up per image, a page at a time) and reports each pair once.

use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;

use super::search::top_tags;
use super::support::{analyse_file, load_tagger, runtime};
use crate::cli::DuplicatesArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::{DuplicateReason, ImageFilter, ImageId, Index, TenantId, TenantIndex};

/// One stored image, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRef {
    /// Its id.
    pub image_id: ImageId,
    /// Its filename.
    pub filename: Option<String>,
    /// Its most telling tags.
    pub tags: Vec<String>,
}

/// Two images that are duplicates, and why.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    /// The first image (the file given, for `--image`: absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
    /// Its duplicate.
    pub duplicate: ImageRef,
    /// Same bytes, or near with phash distance and cosine.
    pub reason: DuplicateReason,
}

/// What the command found.
#[derive(Debug, Serialize)]
pub struct DuplicatesOutput {
    /// The pairs.
    pub pairs: Vec<DuplicatePair>,
    /// Images looked at (`--all`), or 1.
    pub images_checked: u64,
}

/// Runs the command.
pub fn run(config: &Config, args: &DuplicatesArgs) -> Result<DuplicatesOutput, AppError> {
    let tenant = TenantId::new(args.tenant.clone())?;
    let analysis = match &args.image {
        Some(path) => Some(analyse_file(config, &load_tagger(config)?, path)?),
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

/// Every duplicate pair of the tenant, each once.
pub async fn all_pairs(scope: &TenantIndex<'_>) -> Result<DuplicatesOutput, AppError> {
    let every = ImageFilter {
        include_sensitive: true,
        ..ImageFilter::default()
    };
    let mut seen: BTreeSet<(ImageId, ImageId)> = BTreeSet::new();
    let mut pairs = Vec::new();
    let mut checked = 0;
    let mut cursor = None;
    loop {
        let page = scope.scroll(&every, cursor, 256, false).await?;
        for image in &page.images {
            checked += 1;
            let id = image.record.image_id;
            for m in scope.duplicates_of(id).await? {
                let other = m.image.record.image_id;
                let key = if id < other { (id, other) } else { (other, id) };
                if seen.insert(key) {
                    pairs.push(DuplicatePair {
                        image: Some(image_ref(&image.record)),
                        duplicate: image_ref(&m.image.record),
                        reason: m.reason,
                    });
                }
            }
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    Ok(DuplicatesOutput {
        pairs,
        images_checked: checked,
    })
}

fn image_ref(record: &crate::index::ImageRecord) -> ImageRef {
    ImageRef {
        image_id: record.image_id,
        filename: record.filename.clone(),
        tags: top_tags(record, 3).into_iter().map(str::to_owned).collect(),
    }
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
