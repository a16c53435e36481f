//! A text query, searched three ways and fused into one ranking.
//!
//! Words typed by an analyst can mean what an image shows (`一杯咖啡`, "a
//! red car"), what a document says (`发票号码`, an invoice number) or a tag
//! (`猫`, "vehicle"). [`TextQuery`] prepares all three from the query:
//! - **vector**: the query's vector in the semantic space, nearest images
//!   first;
//! - **text**: the query (and, for several words, each word) as a phrase in
//!   the OCR text ([`crate::index::text`]: NFKC, lower case, simplified
//!   Chinese on both sides);
//! - **tags**: the friendly tags the query names, in English or Chinese.
//!
//! Each branch is a search in the tenant with the caller's filter plus its
//! own condition, ranked by the semantic vector when there is one (so
//! images within a branch are ordered by meaning too), and then by id for
//! images that have no vector yet (reprocess pending after a model change).
//! The rankings are fused by reciprocal rank fusion (Cormack et al., 2009):
//! `score = Σ 1 / (K + rank)` over the branches an image appears in, with
//! `K` = 60. Every hit carries [`Why`]: the vector similarity when the
//! vector branch found it, the words found in its text, the tags matched.
//!
//! Every branch goes through the same [`TenantIndex`], so tenant isolation
//! and the caller's filter hold in each of them.

use std::collections::BTreeMap;

use futures::future::try_join_all;
use imgtag_models::FriendlyTags;
use serde::{Deserialize, Serialize};

use super::people_tags;
use crate::analyzers::Analyzers;
use crate::error::AppError;
use crate::index::query::MAX_LIMIT;
use crate::index::text::{self, is_cjk};
use crate::index::{Hit, ImageFilter, ImageId, IndexError, TenantIndex, VectorName};

/// Reciprocal rank fusion's constant: how much the first ranks dominate.
const RRF_K: f32 = 60.0;
/// Fewest results each branch fetches (more when the page is deeper).
const MIN_DEPTH: usize = 30;
/// Most words of a query searched one by one in the text.
const MAX_WORDS: usize = 4;
/// Most tags of a query searched.
const MAX_TAGS: usize = 4;
/// English words that mean nothing on their own in a document's text.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "is", "it", "of", "on", "or",
    "the", "to", "with", "photo", "picture", "image", "images", "photos", "pictures",
];

/// A text query ready to search.
#[derive(Debug, Clone)]
pub struct TextQuery {
    /// As typed.
    pub text: String,
    /// The query's vector in the semantic space (`None` when the semantic
    /// analyzer is off: text and tags still work).
    pub vector: Option<Vec<f32>>,
    /// Phrases looked for in the OCR text: the whole query first, then its
    /// words.
    pub phrases: Vec<String>,
    /// Friendly tags the query names, with the words that named them.
    pub tags: Vec<(String, String)>,
}

impl TextQuery {
    /// Prepares `text` with what the loaded analyzers offer: its vector when
    /// the semantic analyzer runs, its tags when the classifier does. CPU
    /// work (the text encoder): call from a blocking thread.
    pub fn from_analyzers(text: &str, analyzers: &Analyzers) -> Result<Self, AppError> {
        let vector = match analyzers.semantic() {
            Some(semantic) => Some(semantic.space().text_vector(text)?),
            None => None,
        };
        let friendly = analyzers.classifier().map(|c| c.friendly());
        Ok(Self::new(text, vector, friendly))
    }

    /// Prepares `text` (with its vector, when there is a semantic space).
    pub fn new(text: &str, vector: Option<Vec<f32>>, friendly: Option<&FriendlyTags>) -> Self {
        let normalized = text::normalized(text);
        let mut tags: Vec<(String, String)> = friendly
            .map(|tags| {
                tags.mentioned_in(&normalized)
                    .into_iter()
                    .map(|mention| (mention.tag, mention.matched))
                    .collect()
            })
            .unwrap_or_default();
        // People and document types, unless a friendly tag took the words.
        for (tag, matched) in people_tags::mentioned_in(&normalized) {
            if !tags
                .iter()
                .any(|(_, words)| words.contains(&matched) || matched.contains(words.as_str()))
            {
                tags.push((tag, matched));
            }
        }
        tags.truncate(MAX_TAGS);
        Self {
            text: text.to_owned(),
            vector,
            phrases: phrases(&normalized),
            tags,
        }
    }
}

/// The phrases of a normalised query: the whole of it, then (for several
/// words) each word that is not a stop word, longest first.
fn phrases(normalized: &str) -> Vec<String> {
    let mut phrases: Vec<String> = Vec::new();
    let whole = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
    let whole = whole.as_str();
    if text::query_phrase(whole).is_some() && whole.chars().count() <= text::MAX_QUERY_CHARS {
        phrases.push(whole.to_owned());
    }
    let mut words: Vec<&str> = whole
        .split(|c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '-'))
        .filter(|word| {
            let cjk = word.chars().any(is_cjk);
            (cjk || word.chars().count() >= 2)
                && !STOP_WORDS.contains(word)
                && text::query_phrase(word).is_some()
        })
        .collect();
    if words.len() > 1 {
        words.sort_by_key(|word| std::cmp::Reverse(word.chars().count()));
        for word in words {
            if phrases.len() > MAX_WORDS {
                break;
            }
            if !phrases.iter().any(|p| p == word) {
                phrases.push(word.to_owned());
            }
        }
    }
    phrases
}

/// Why a hit matched a text query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Why {
    /// Cosine similarity to the query, when the vector branch found it.
    pub vector: Option<f32>,
    /// Words of the query found in the image's text.
    pub text: Vec<String>,
    /// Tags of the query the image carries.
    pub tags: Vec<String>,
}

/// What one branch looks for.
#[derive(Debug, Clone)]
enum Branch {
    Vector,
    Text(String),
    Tag(String),
}

/// Searches `query` in the tenant: the fused ranking, best first, after
/// skipping `offset`, with each hit's reasons. `Hit::score` is the fusion
/// score.
pub async fn search_text(
    scope: &TenantIndex<'_>,
    query: &TextQuery,
    filter: &ImageFilter,
    limit: usize,
    offset: usize,
) -> Result<Vec<(Hit, Why)>, IndexError> {
    let depth = (offset + limit).clamp(MIN_DEPTH, MAX_LIMIT);
    let mut branches = Vec::new();
    if query.vector.is_some() {
        branches.push(Branch::Vector);
    }
    // A `contains` filter already confines every branch to that text.
    if filter.text_contains.is_none() {
        branches.extend(query.phrases.iter().cloned().map(Branch::Text));
    }
    branches.extend(query.tags.iter().map(|(tag, _)| Branch::Tag(tag.clone())));
    let rankings = try_join_all(
        branches
            .iter()
            .map(|branch| run_branch(scope, query, branch, filter, depth)),
    )
    .await?;
    Ok(fuse(&branches, rankings, limit, offset))
}

/// One branch's ranking.
async fn run_branch(
    scope: &TenantIndex<'_>,
    query: &TextQuery,
    branch: &Branch,
    filter: &ImageFilter,
    depth: usize,
) -> Result<Vec<Hit>, IndexError> {
    let mut narrowed = filter.clone();
    match branch {
        Branch::Vector => {
            let vector = query.vector.clone().unwrap_or_default();
            return scope
                .search(VectorName::Semantic, vector, filter, depth, 0, None)
                .await;
        }
        Branch::Text(phrase) => narrowed.text_contains = Some(phrase.clone()),
        Branch::Tag(tag) => narrowed.tags_all.push(tag.clone()),
    }
    let mut hits = match &query.vector {
        Some(vector) => {
            scope
                .search(
                    VectorName::Semantic,
                    vector.clone(),
                    &narrowed,
                    depth,
                    0,
                    None,
                )
                .await?
        }
        None => Vec::new(),
    };
    if hits.len() < depth {
        // Images without a semantic vector (not yet reprocessed) still match.
        let page = scope.scroll(&narrowed, None, depth, false).await?;
        let seen: std::collections::HashSet<ImageId> =
            hits.iter().map(|hit| hit.image.record.image_id).collect();
        hits.extend(
            page.images
                .into_iter()
                .filter(|image| !seen.contains(&image.record.image_id))
                .take(depth - hits.len())
                .map(|image| Hit { image, score: 0.0 }),
        );
    }
    Ok(hits)
}

/// Reciprocal rank fusion of the branches' rankings.
fn fuse(
    branches: &[Branch],
    rankings: Vec<Vec<Hit>>,
    limit: usize,
    offset: usize,
) -> Vec<(Hit, Why)> {
    let mut fused: BTreeMap<ImageId, (f32, Hit, Why)> = BTreeMap::new();
    for (branch, ranking) in branches.iter().zip(rankings) {
        for (rank, hit) in ranking.into_iter().enumerate() {
            let contribution = 1.0 / (RRF_K + rank as f32 + 1.0);
            let cosine = hit.score;
            let entry = fused
                .entry(hit.image.record.image_id)
                .or_insert_with(|| (0.0, hit, Why::default()));
            entry.0 += contribution;
            match branch {
                Branch::Vector => entry.2.vector = Some(cosine),
                Branch::Text(phrase) => entry.2.text.push(phrase.clone()),
                Branch::Tag(tag) => entry.2.tags.push(tag.clone()),
            }
        }
    }
    let mut ranked: Vec<(f32, Hit, Why)> = fused.into_values().collect();
    ranked.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| {
                b.2.vector
                    .unwrap_or(0.0)
                    .total_cmp(&a.2.vector.unwrap_or(0.0))
            })
            .then_with(|| a.1.image.record.image_id.cmp(&b.1.image.record.image_id))
    });
    ranked
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(score, mut hit, why)| {
            hit.score = score;
            (hit, why)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_is_searched_whole_and_word_by_word() {
        assert_eq!(
            phrases(&text::normalized("Invoice   Total amount")),
            ["invoice total amount", "invoice", "amount", "total"]
        );
    }

    #[test]
    fn stop_words_and_single_letters_are_not_searched_alone() {
        assert_eq!(
            phrases(&text::normalized("a cup of coffee")),
            ["a cup of coffee", "coffee", "cup"]
        );
    }

    #[test]
    fn chinese_is_one_phrase_and_traditional_becomes_simplified() {
        assert_eq!(phrases(&text::normalized("發票號碼")), ["发票号码"]);
        assert_eq!(phrases(&text::normalized("ＩＮＶＯＩＣＥ")), ["invoice"]);
    }

    #[test]
    fn punctuation_only_is_no_phrase() {
        assert!(phrases(" ，。 ").is_empty());
    }
}
