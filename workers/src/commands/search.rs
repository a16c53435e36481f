//! `imgtag search --tenant T --text "..."`: the tenant's images nearest to
//! the words, through the semantic vector the models give images and text
//! alike. Sensitive images are left out unless asked for.

use std::io::Write;

use imgtag_models::{ModelStore, Runtime, Tagger};
use serde::Serialize;

use super::support::runtime;
use crate::cli::SearchArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::{Hit, ImageFilter, Index, TenantId, VectorName};

/// The ranked results.
#[derive(Debug, Serialize)]
pub struct SearchOutput {
    /// The query.
    pub text: String,
    /// Best first.
    pub hits: Vec<Hit>,
}

/// Runs the command.
pub fn run(config: &Config, args: &SearchArgs) -> Result<SearchOutput, AppError> {
    let tenant = TenantId::new(args.tenant.clone())?;
    let model_config = config.clone();
    let text = args.text.clone();
    let query = {
        let runtime = Runtime::init(&model_config.runtime())?;
        let store = ModelStore::open(&model_config.models.dir)?;
        let tagger = Tagger::load(&store, &runtime, &model_config.tagging)?;
        tagger.semantic().text_vector(&text)?
    };
    let filter = ImageFilter {
        tags_all: args.tags.clone(),
        include_sensitive: args.include_sensitive,
        ..ImageFilter::default()
    };
    runtime()?.block_on(async {
        let index = Index::open(&config.index).await?;
        let hits = index
            .tenant(tenant)
            .search(
                VectorName::Semantic,
                query,
                &filter,
                usize::from(args.limit),
                0,
                None,
            )
            .await?;
        Ok(SearchOutput {
            text: args.text.clone(),
            hits,
        })
    })
}

/// A ranked table: score, image id, filename, top tags, capture date.
pub fn write_table(output: &SearchOutput, out: &mut impl Write) -> std::io::Result<()> {
    if output.hits.is_empty() {
        return writeln!(out, "no images match {:?}", output.text);
    }
    writeln!(
        out,
        "{:>3}  {:>6}  {:<36}  {:<24}  {:<10}  tags",
        "#", "score", "image", "filename", "captured"
    )?;
    for (rank, hit) in output.hits.iter().enumerate() {
        let record = &hit.image.record;
        let mut tags: Vec<(&String, f32)> = record
            .tag_scores
            .iter()
            .filter(|(_, t)| t.source == "classifier" || t.source == "hierarchy")
            .map(|(name, t)| (name, t.score))
            .collect();
        tags.sort_by(|a, b| b.1.total_cmp(&a.1));
        let tags: Vec<&str> = tags.iter().take(4).map(|(name, _)| name.as_str()).collect();
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
            tags.join(", ")
        )?;
    }
    Ok(())
}
