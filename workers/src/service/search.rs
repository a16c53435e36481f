//! Searching one tenant: what the CLI (`imgtag search`) and the HTTP API
//! (`/api/v1/search...`) both run, so the two answer alike.

use serde::{Deserialize, Serialize};

use crate::index::query::MAX_LIMIT;
use crate::index::{Hit, ImageFilter, ImageId, IndexError, TenantIndex, VectorName};

/// The ranked results (also the HTTP API's search response).
#[derive(Debug, Serialize, Deserialize)]
pub struct SearchOutput {
    /// The query, for people (`text: ...`, `image: FILE`, `like: ID`).
    pub query: String,
    /// Best first.
    pub hits: Vec<Hit>,
}

/// What a search compares with.
#[derive(Debug, Clone)]
pub enum SearchBy {
    /// A vector computed from the query (text or example image), with the
    /// query as people read it.
    Vector(VectorName, Vec<f32>, String),
    /// A stored image's own vector (the image itself left out).
    Like(ImageId),
    /// No vector: the images the filters match (e.g. text the image
    /// contains), in id order, each with score 1.
    Filters,
}

/// Runs a search in one tenant.
pub async fn search_tenant(
    scope: &TenantIndex<'_>,
    by: SearchBy,
    filter: &ImageFilter,
    limit: usize,
    offset: usize,
) -> Result<SearchOutput, IndexError> {
    Ok(match by {
        SearchBy::Vector(vector, values, query) => SearchOutput {
            query,
            hits: scope
                .search(vector, values, filter, limit, offset, None)
                .await?,
        },
        SearchBy::Like(id) => SearchOutput {
            query: format!("like: {id}"),
            hits: scope
                .more_like_this(id, VectorName::Image, filter, limit)
                .await?,
        },
        SearchBy::Filters => SearchOutput {
            query: describe_filters(filter),
            hits: matching(scope, filter, limit, offset).await?,
        },
    })
}

/// The images `filter` matches, after skipping `offset` of them.
async fn matching(
    scope: &TenantIndex<'_>,
    filter: &ImageFilter,
    limit: usize,
    offset: usize,
) -> Result<Vec<Hit>, IndexError> {
    if offset > 10 * MAX_LIMIT {
        return Err(IndexError::InvalidInput(format!(
            "offset {offset}: at most {}",
            10 * MAX_LIMIT
        )));
    }
    let mut skip = offset;
    let mut hits = Vec::new();
    let mut cursor = None;
    loop {
        let page = scope
            .scroll(
                filter,
                cursor,
                (skip + limit - hits.len()).min(MAX_LIMIT),
                false,
            )
            .await?;
        for image in page.images {
            if skip > 0 {
                skip -= 1;
            } else if hits.len() < limit {
                hits.push(Hit { image, score: 1.0 });
            }
        }
        cursor = page.next;
        if cursor.is_none() || hits.len() == limit {
            return Ok(hits);
        }
    }
}

/// A filter-only query, for people.
fn describe_filters(filter: &ImageFilter) -> String {
    match &filter.text_contains {
        Some(text) => format!("contains: {text}"),
        None => "filters".to_owned(),
    }
}

/// The most telling tags of a record: classifier and hierarchy tags by
/// score.
pub fn top_tags(record: &crate::index::ImageRecord, count: usize) -> Vec<&str> {
    let mut tags: Vec<(&String, f32)> = record
        .tag_scores
        .iter()
        .filter(|(_, t)| t.source == "classifier" || t.source == "hierarchy")
        .map(|(name, t)| (name, t.score))
        .collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter()
        .take(count)
        .map(|(name, _)| name.as_str())
        .collect()
}
