//! Duplicates in one tenant: every pair, each once, with its reason.
//! `imgtag duplicates --all` and `imgtag stats` (its pair count) use it.

use std::collections::BTreeSet;

use serde::Serialize;

use super::search::top_tags;
use crate::error::AppError;
use crate::index::{DuplicateReason, ImageFilter, ImageId, ImageRecord, TenantIndex};

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

/// Every duplicate pair of the tenant, each once.
pub async fn all_pairs(scope: &TenantIndex<'_>) -> Result<DuplicatesOutput, AppError> {
    let every = ImageFilter::everything();
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

/// A stored image as the reports show it.
pub fn image_ref(record: &ImageRecord) -> ImageRef {
    ImageRef {
        image_id: record.image_id,
        filename: record.filename.clone(),
        tags: top_tags(record, 3).into_iter().map(str::to_owned).collect(),
    }
}
