//! `imgtag expiring --tenant T --within 30d [--customer C]`: the tenant's
//! documents that expire within the window, soonest first, with their
//! type, expiry date and days left ([`crate::service::expiry`], the same
//! listing as `GET /api/v1/documents/expiring`).

use std::io::Write;

use chrono::Utc;

use super::support::runtime;
use crate::cli::ExpiringArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::{Index, TenantId};
use crate::service::expiry::{ExpiringOutput, ExpiringQuery, expiring};
use crate::service::privacy::Disclosure;

/// Runs the command.
pub fn run(config: &Config, args: &ExpiringArgs) -> Result<ExpiringOutput, AppError> {
    let tenant = TenantId::new(args.tenant.clone())?;
    let query = ExpiringQuery {
        within_days: args.within,
        customer: args.customer.clone(),
        include_expired: args.include_expired,
        today: args.today.unwrap_or_else(|| Utc::now().date_naive()),
    };
    let disclosure = if args.show_personal {
        Disclosure::Whole
    } else {
        Disclosure::Masked
    };
    runtime()?.block_on(async {
        let index = Index::open(&config.index).await?;
        expiring(&index.tenant(tenant), &query, disclosure).await
    })
}

/// A table for people.
pub fn write_table(output: &ExpiringOutput, out: &mut impl Write) -> std::io::Result<()> {
    if output.documents.is_empty() {
        return writeln!(
            out,
            "tenant {}: no document expires within {} days of {}",
            output.tenant_id, output.within_days, output.today
        );
    }
    writeln!(
        out,
        "{:<10}  {:>5}  {:<16}  {:<36}  {:<16}  filename",
        "expires", "days", "type", "image", "customer"
    )?;
    for document in &output.documents {
        writeln!(
            out,
            "{:<10}  {:>5}  {:<16}  {:<36}  {:<16}  {}",
            document.expires_on,
            document.days_left,
            document.document_type,
            document.image_id,
            document.customer_id.as_deref().unwrap_or("-"),
            document.filename.as_deref().unwrap_or("-"),
        )?;
    }
    Ok(())
}
