//! `imgtag search --tenant T (--text "..." | --image FILE | --like ID)`:
//! the tenant's images matching words (by meaning, by the text in the
//! image and by tag, fused: [`crate::service::hybrid`]), like an example
//! file or like a stored image (the classifier's `image` embedding), with
//! filters. Sensitive images are left out unless asked for. `--lang zh`
//! shows tag names in Chinese.

use std::io::Write;

use super::support::{analyse_file, load_analyzers, runtime};
use crate::analyzers::AnalyzerId;
use crate::api::client::{ApiClient, RemoteQuery};
use crate::cli::{FilterArgs, SearchArgs};
use crate::config::Config;
use crate::error::AppError;
use crate::index::{ImageFilter, Index, TenantId, VectorName};
use crate::service::hybrid::TextQuery;
use crate::service::privacy::{Disclosure, present_search};
use crate::service::search::{Presentation, SearchBy, SearchOutput, search_tenant, top_tags};

/// The filter the arguments describe.
pub fn image_filter(args: &FilterArgs) -> ImageFilter {
    ImageFilter {
        tags_all: args.tags.clone(),
        customers: args.customers.clone(),
        projects: args.projects.clone(),
        captured_since: args.since.clone(),
        captured_until: args.until.clone(),
        include_sensitive: args.include_sensitive,
        include_id_papers: args.include_id_papers,
        document_types: args.document_types.clone(),
        text_contains: args.contains.clone(),
        ..ImageFilter::default()
    }
}

/// Runs the command (against the local index, or `--server`).
pub fn run(config: &Config, args: &SearchArgs) -> Result<SearchOutput, AppError> {
    if let Some(server) = &args.remote.server {
        let client = ApiClient::new(server, args.remote.api_key.as_deref().unwrap_or(""))?;
        let query = match (&args.text, &args.image, &args.like) {
            (Some(text), _, _) => RemoteQuery::Text(text),
            (None, Some(path), _) => RemoteQuery::Image(path),
            (None, None, Some(id)) => RemoteQuery::Like(id),
            (None, None, None) if has_filters(&args.filter) => RemoteQuery::Filters,
            (None, None, None) => {
                return Err(AppError::Config(
                    "give --text, --image, --like, --contains or --document-type".into(),
                ));
            }
        };
        return runtime()?.block_on(client.search(
            query,
            &args.filter,
            args.limit,
            args.lang,
            &config.decode,
        ));
    }
    let tenant = TenantId::new(args.tenant.clone().unwrap_or_default())?;
    let filter = image_filter(&args.filter);
    let wanted: &[AnalyzerId] = if args.text.is_some() {
        &[AnalyzerId::Classifier, AnalyzerId::Semantic]
    } else {
        &[AnalyzerId::Classifier]
    };
    let analyzers = load_analyzers(config, wanted)?;
    let query = match (&args.text, &args.image, &args.like) {
        (Some(text), _, _) => SearchBy::Text(TextQuery::from_analyzers(text, &analyzers)?),
        (None, Some(path), _) => {
            let analysis = analyse_file(config, &analyzers, path)?;
            SearchBy::Vector(
                VectorName::Image,
                analysis.embedding,
                format!("image: {}", path.display()),
            )
        }
        (None, None, Some(id)) => SearchBy::Like(id.parse()?),
        (None, None, None) if has_filters(&args.filter) => SearchBy::Filters,
        (None, None, None) => {
            return Err(AppError::Config(
                "give --text, --image, --like, --contains or --document-type".into(),
            ));
        }
    };
    let limit = usize::from(args.limit);
    let presentation = Presentation {
        lang: args.lang,
        friendly: analyzers.classifier().map(|c| c.friendly()),
    };
    let disclosure = if args.show_personal {
        Disclosure::Whole
    } else {
        Disclosure::Masked
    };
    runtime()?.block_on(async {
        let index = Index::open(&config.index).await?;
        let output = search_tenant(
            &index.tenant(tenant),
            query,
            &filter,
            limit,
            0,
            presentation,
        )
        .await?;
        Ok(present_search(output, disclosure))
    })
}

/// Whether the filters alone make a query (no text, image or example).
fn has_filters(filter: &FilterArgs) -> bool {
    filter.contains.is_some() || !filter.document_types.is_empty()
}

/// A ranked table: score, image id, filename, top tags, capture date.
pub fn write_table(output: &SearchOutput, out: &mut impl Write) -> std::io::Result<()> {
    if output.hits.is_empty() {
        return writeln!(out, "no images match ({})", output.query);
    }
    writeln!(
        out,
        "{:>3}  {:>6}  {:<36}  {:<24}  {:<10}  {:<32}  why",
        "#", "score", "image", "filename", "captured", "tags"
    )?;
    for (rank, hit) in output.hits.iter().enumerate() {
        let record = &hit.hit.image.record;
        let captured = record
            .metadata
            .captured_at
            .as_deref()
            .map_or("-", |t| &t[..10.min(t.len())]);
        let label = |tag: &str| {
            hit.tag_labels
                .get(tag)
                .map_or(tag, String::as_str)
                .to_owned()
        };
        let tags: Vec<String> = top_tags(record, 4).into_iter().map(label).collect();
        let why = hit.why.as_ref().map_or_else(String::new, |why| {
            let mut parts = Vec::new();
            if let Some(cosine) = why.vector {
                parts.push(format!("vector {cosine:.2}"));
            }
            parts.extend(why.text.iter().map(|words| format!("text \"{words}\"")));
            parts.extend(why.tags.iter().map(|tag| format!("tag {}", label(tag))));
            parts.join("; ")
        });
        writeln!(
            out,
            "{:>3}  {:>6.4}  {:<36}  {}  {:<10}  {}  {}",
            rank + 1,
            hit.hit.score,
            record.image_id.to_string(),
            padded(record.filename.as_deref().unwrap_or("-"), 24),
            captured,
            padded(&tags.join(", "), 32),
            why
        )?;
    }
    Ok(())
}

/// `text` padded with spaces to `columns` terminal columns (Chinese
/// characters take two).
fn padded(text: &str, columns: usize) -> String {
    let width = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(columns.saturating_sub(width)))
}
