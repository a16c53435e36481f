//! `imgtag stats --tenant T`: the tenant's stock: total images, counts by
//! tag, customer, project, format, capture month and quality flag, the
//! sensitive images, and the near-duplicate pairs (see
//! [`super::duplicates`]: one index look-up per image). With `--server`,
//! the server's `/api/v1/stats` answers instead.

use std::io::Write;

use super::support::runtime;
use crate::api::client::ApiClient;
use crate::cli::StatsArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::{Index, TenantId};
use crate::service::stats::{StatsOutput, tenant_stats};

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
