//! `imgtag stats --tenant T`: the tenant's stock: total images, counts by
//! tag, customer, project, format, capture month and quality flag, the
//! sensitive images, and the near-duplicate pairs (see
//! [`super::duplicates`]: one index look-up per image). With `--server`,
//! the server's `/api/v1/stats` answers instead.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::duplicates::all_pairs;
use super::support::runtime;
use crate::api::client::ApiClient;
use crate::cli::StatsArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::query::MAX_LIMIT;
use crate::index::{FacetCount, FacetField, ImageFilter, Index, TenantId, TenantIndex};

/// The stock of one tenant (also the HTTP API's stats response).
#[derive(Debug, Serialize, Deserialize)]
pub struct StatsOutput {
    /// The tenant.
    pub tenant_id: String,
    /// Every image, sensitive ones included.
    pub total: u64,
    /// Images the NSFW model flagged.
    pub sensitive: u64,
    /// Pairs of duplicates (each pair once).
    pub duplicate_pairs: u64,
    /// Images by tag (most frequent first, at most 1000 values).
    pub tags: Vec<FacetCount>,
    /// Images by customer.
    pub customers: Vec<FacetCount>,
    /// Images by project.
    pub projects: Vec<FacetCount>,
    /// Images by format.
    pub formats: Vec<FacetCount>,
    /// Images by capture month (`YYYY-MM`).
    pub months: Vec<FacetCount>,
    /// Images by quality flag.
    pub quality_flags: Vec<FacetCount>,
}

/// Runs the command.
pub fn run(config: &Config, args: &StatsArgs) -> Result<StatsOutput, AppError> {
    if let Some(server) = &args.remote.server {
        let client = ApiClient::new(server, args.remote.api_key.as_deref().unwrap_or(""))?;
        return runtime()?.block_on(client.stats());
    }
    let tenant = TenantId::new(args.tenant.clone().unwrap_or_default())?;
    runtime()?.block_on(async {
        let index = Index::open(&config.index).await?;
        tenant_stats(&index.tenant(tenant)).await
    })
}

/// The stock of the tenant `scope` sees.
pub async fn tenant_stats(scope: &TenantIndex<'_>) -> Result<StatsOutput, AppError> {
    let every = ImageFilter {
        include_sensitive: true,
        ..ImageFilter::default()
    };
    let total = scope.count(&every).await?;
    let safe = scope.count(&ImageFilter::default()).await?;
    let facet = |field| scope.facet(field, &every, MAX_LIMIT);
    Ok(StatsOutput {
        tenant_id: scope.tenant().to_string(),
        total,
        sensitive: total.saturating_sub(safe),
        duplicate_pairs: all_pairs(scope).await?.pairs.len() as u64,
        tags: facet(FacetField::Tag).await?,
        customers: facet(FacetField::Customer).await?,
        projects: facet(FacetField::Project).await?,
        formats: facet(FacetField::Format).await?,
        months: facet(FacetField::CaptureMonth).await?,
        quality_flags: facet(FacetField::QualityFlag).await?,
    })
}

/// Text for people.
pub fn write_text(output: &StatsOutput, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "tenant {}: {} images, {} sensitive, {} duplicate pair(s)",
        output.tenant_id, output.total, output.sensitive, output.duplicate_pairs
    )?;
    for (title, counts) in [
        ("tags", &output.tags),
        ("customers", &output.customers),
        ("projects", &output.projects),
        ("formats", &output.formats),
        ("capture months", &output.months),
        ("quality flags", &output.quality_flags),
    ] {
        if counts.is_empty() {
            continue;
        }
        writeln!(out, "\n{title}:")?;
        for count in counts {
            writeln!(out, "  {:>7}  {}", count.count, count.value)?;
        }
    }
    Ok(())
}
