//! Searching one tenant: what the CLI (`imgtag search`) and the HTTP API
//! (`/api/v1/search...`) both run, so the two answer alike.

use std::collections::BTreeMap;

use imgtag_models::{FriendlyTags, Lang};
use serde::{Deserialize, Serialize};

use super::hybrid::{TextQuery, Why, search_text};
use super::people_tags;
use crate::index::query::MAX_LIMIT;
use crate::index::{Hit, ImageFilter, ImageId, IndexError, TenantIndex, VectorName};

/// The ranked results (also the HTTP API's search response).
#[derive(Debug, Serialize, Deserialize)]
pub struct SearchOutput {
    /// The query, for people (`text: ...`, `image: FILE`, `like: ID`).
    pub query: String,
    /// The language of `tag_labels` (`en` or `zh`).
    #[serde(default)]
    pub lang: Lang,
    /// Best first.
    pub hits: Vec<SearchHit>,
}

/// One result.
#[derive(Debug, Serialize, Deserialize)]
pub struct SearchHit {
    /// The image and its score (cosine for vector searches, the fusion
    /// score for text searches).
    #[serde(flatten)]
    pub hit: Hit,
    /// Why it matched (text searches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<Why>,
    /// Display names of its friendly tags in `lang` (tags without one are
    /// shown by name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tag_labels: BTreeMap<String, String>,
}

/// What a search compares with.
#[derive(Debug, Clone)]
pub enum SearchBy {
    /// Words: the semantic vector, the text in the image and the tags,
    /// fused ([`super::hybrid`]).
    Text(TextQuery),
    /// A vector computed from an example image, with the query as people
    /// read it.
    Vector(VectorName, Vec<f32>, String),
    /// A stored image's own vector (the image itself left out).
    Like(ImageId),
    /// No vector: the images the filters match (e.g. text the image
    /// contains), in id order, each with score 1.
    Filters,
}

/// How results are presented: the language of tag names, and the tags.
#[derive(Debug, Clone, Copy)]
pub struct Presentation<'a> {
    /// The caller's language.
    pub lang: Lang,
    /// The friendly tags (their names in every language), when the
    /// classifier is loaded.
    pub friendly: Option<&'a FriendlyTags>,
}

/// Runs a search in one tenant. Tag names in the filter may be given in
/// any language the tags have.
pub async fn search_tenant(
    scope: &TenantIndex<'_>,
    by: SearchBy,
    filter: &ImageFilter,
    limit: usize,
    offset: usize,
    presentation: Presentation<'_>,
) -> Result<SearchOutput, IndexError> {
    let filter = &resolve_tag_names(filter, presentation.friendly);
    let plain = |hits: Vec<Hit>| hits.into_iter().map(|hit| (hit, None)).collect::<Vec<_>>();
    let (query, hits) = match by {
        SearchBy::Text(text) => {
            let hits = search_text(scope, &text, filter, limit, offset).await?;
            (
                format!("text: {}", text.text),
                hits.into_iter()
                    .map(|(hit, why)| (hit, Some(why)))
                    .collect(),
            )
        }
        SearchBy::Vector(vector, values, query) => (
            query,
            plain(
                scope
                    .search(vector, values, filter, limit, offset, None)
                    .await?,
            ),
        ),
        SearchBy::Like(id) => (
            format!("like: {id}"),
            plain(
                scope
                    .more_like_this(id, VectorName::Image, filter, limit)
                    .await?,
            ),
        ),
        SearchBy::Filters => (
            describe_filters(filter),
            plain(matching(scope, filter, limit, offset).await?),
        ),
    };
    Ok(SearchOutput {
        query,
        lang: presentation.lang,
        hits: hits
            .into_iter()
            .map(|(hit, why)| SearchHit {
                tag_labels: tag_labels(&hit, presentation),
                hit,
                why,
            })
            .collect(),
    })
}

/// The filter with every tag name typed in another language (`猫`,
/// "Sports Car") replaced by the tag's name (`cat`, `sports_car`).
pub fn resolve_tag_names(filter: &ImageFilter, friendly: Option<&FriendlyTags>) -> ImageFilter {
    let Some(friendly) = friendly else {
        return filter.clone();
    };
    let resolve = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .map(|name| {
                friendly
                    .resolve(name)
                    .or_else(|| people_tags::resolve(name))
                    .map_or_else(|| name.clone(), str::to_owned)
            })
            .collect()
    };
    ImageFilter {
        tags_all: resolve(&filter.tags_all),
        tags_any: resolve(&filter.tags_any),
        ..filter.clone()
    }
}

/// Display names of a hit's friendly tags in the caller's language.
fn tag_labels(hit: &Hit, presentation: Presentation<'_>) -> BTreeMap<String, String> {
    if presentation.lang != Lang::Zh {
        return BTreeMap::new();
    }
    hit.image
        .record
        .tag_scores
        .keys()
        .filter_map(|tag| {
            let name = presentation
                .friendly
                .and_then(|friendly| friendly.zh_name(tag))
                .or_else(|| people_tags::label(tag, Lang::Zh))?;
            Some((tag.clone(), name.to_owned()))
        })
        .collect()
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
        None if !filter.document_types.is_empty() => {
            format!("document type: {}", filter.document_types.join(", "))
        }
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
