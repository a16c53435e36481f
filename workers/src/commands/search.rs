//! `imgtag search --tenant T (--text "..." | --image FILE | --like ID)`:
//! the tenant's images nearest to words (the semantic vector text and
//! images share), to an example file or to a stored image (the
//! classifier's `image` embedding), with filters. Sensitive images are left
//! out unless asked for.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::support::{analyse_file, load_tagger, runtime};
use crate::api::client::{ApiClient, RemoteQuery};
use crate::cli::{FilterArgs, SearchArgs};
use crate::config::Config;
use crate::error::AppError;
use crate::index::{
    Hit, ImageFilter, ImageId, Index, IndexError, TenantId, TenantIndex, VectorName,
};

/// The ranked results (also the HTTP API's search response).
#[derive(Debug, Serialize, Deserialize)]
pub struct SearchOutput {
    /// The query, for people (`text: ...`, `image: FILE`, `like: ID`).
    pub query: String,
    /// Best first.
    pub hits: Vec<Hit>,
}

/// The filter the arguments describe.
pub fn image_filter(args: &FilterArgs) -> ImageFilter {
    ImageFilter {
        tags_all: args.tags.clone(),
        customers: args.customers.clone(),
        projects: args.projects.clone(),
        captured_since: args.since.clone(),
        captured_until: args.until.clone(),
        include_sensitive: args.include_sensitive,
        ..ImageFilter::default()
    }
}

/// What a search compares with.
#[derive(Debug, Clone)]
pub enum SearchBy {
    /// A vector computed from the query (text or example image), with the
    /// query as people read it.
    Vector(VectorName, Vec<f32>, String),
    /// A stored image's own vector (the image itself left out).
    Like(ImageId),
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
    })
}

/// Runs the command (against the local index, or `--server`).
pub fn run(config: &Config, args: &SearchArgs) -> Result<SearchOutput, AppError> {
    if let Some(server) = &args.remote.server {
        let client = ApiClient::new(server, args.remote.api_key.as_deref().unwrap_or(""))?;
        let query = match (&args.text, &args.image, &args.like) {
            (Some(text), _, _) => RemoteQuery::Text(text),
            (None, Some(path), _) => RemoteQuery::Image(path),
            (None, None, Some(id)) => RemoteQuery::Like(id),
            (None, None, None) => {
                return Err(AppError::Config("give --text, --image or --like".into()));
            }
        };
        return runtime()?.block_on(client.search(query, &args.filter, args.limit, &config.decode));
    }
    let tenant = TenantId::new(args.tenant.clone().unwrap_or_default())?;
    let filter = image_filter(&args.filter);
    let query = match (&args.text, &args.image, &args.like) {
        (Some(text), _, _) => {
            let vector = load_tagger(config)?.semantic().text_vector(text)?;
            SearchBy::Vector(VectorName::Semantic, vector, format!("text: {text}"))
        }
        (None, Some(path), _) => {
            let analysis = analyse_file(config, &load_tagger(config)?, path)?;
            SearchBy::Vector(
                VectorName::Image,
                analysis.embedding,
                format!("image: {}", path.display()),
            )
        }
        (None, None, Some(id)) => SearchBy::Like(id.parse()?),
        (None, None, None) => {
            return Err(AppError::Config("give --text, --image or --like".into()));
        }
    };
    let limit = usize::from(args.limit);
    runtime()?.block_on(async {
        let index = Index::open(&config.index).await?;
        Ok(search_tenant(&index.tenant(tenant), query, &filter, limit, 0).await?)
    })
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

/// A ranked table: score, image id, filename, top tags, capture date.
pub fn write_table(output: &SearchOutput, out: &mut impl Write) -> std::io::Result<()> {
    if output.hits.is_empty() {
        return writeln!(out, "no images match ({})", output.query);
    }
    writeln!(
        out,
        "{:>3}  {:>6}  {:<36}  {:<24}  {:<10}  tags",
        "#", "score", "image", "filename", "captured"
    )?;
    for (rank, hit) in output.hits.iter().enumerate() {
        let record = &hit.image.record;
        let captured = record
            .metadata
            .captured_at
            .as_deref()
            .map_or("-", |t| &t[..10.min(t.len())]);
        writeln!(
            out,
            "{:>3}  {:>6.3}  {:<36}  {:<24}  {:<10}  {}",
            rank + 1,
            hit.score,
            record.image_id.to_string(),
            record.filename.as_deref().unwrap_or("-"),
            captured,
            top_tags(record, 4).join(", ")
        )?;
    }
    Ok(())
}
