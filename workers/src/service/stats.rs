//! A tenant's stock: totals, counts by tag, customer, project, format,
//! capture month, quality flag and document type, sensitive images,
//! identity papers and duplicate pairs.
//! `imgtag stats` and `/api/v1/stats` both answer with it.

use serde::{Deserialize, Serialize};

use super::duplicates::all_pairs;
use crate::error::AppError;
use crate::index::query::MAX_LIMIT;
use crate::index::{FacetCount, FacetField, ImageFilter, TenantIndex};

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
    /// Identity papers (ID cards, passports, driving licences).
    #[serde(default)]
    pub id_papers: u64,
    /// Images by document type (`none`: photos).
    #[serde(default)]
    pub document_types: Vec<FacetCount>,
}

/// The stock of the tenant `scope` sees.
pub async fn tenant_stats(scope: &TenantIndex<'_>) -> Result<StatsOutput, AppError> {
    let every = ImageFilter::everything();
    let total = scope.count(&every).await?;
    let safe = scope
        .count(&ImageFilter {
            include_id_papers: true,
            ..ImageFilter::default()
        })
        .await?;
    let not_id_papers = scope
        .count(&ImageFilter {
            include_sensitive: true,
            ..ImageFilter::default()
        })
        .await?;
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
        id_papers: total.saturating_sub(not_id_papers),
        document_types: facet(FacetField::DocumentType).await?,
    })
}
