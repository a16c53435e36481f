//! `imgtag reminders [--tenant T]... [--today DATE]`: one sweep of the
//! expiry reminders ([`crate::reminders`]): publishes each due
//! `document.expiring` / `document.expired` event on the results exchange
//! and records it with the document, so a timer can run it as often as it
//! likes.

use std::io::Write;

use super::support::runtime;
use crate::broker::{Publisher, connect, topology};
use crate::cli::RemindersArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::{Index, TenantId};
use crate::reminders::{SweepReport, sweep};

/// Runs the command.
pub fn run(config: &Config, args: &RemindersArgs) -> Result<SweepReport, AppError> {
    let names = if args.tenants.is_empty() {
        &config.reminders.tenants
    } else {
        &args.tenants
    };
    if names.is_empty() {
        return Err(AppError::Config(
            "give --tenant T, or list them in [reminders] tenants".into(),
        ));
    }
    let tenants = names
        .iter()
        .map(|name| TenantId::new(name.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut reminders = config.reminders.clone();
    if args.today.is_some() {
        reminders.today = args.today;
    }
    runtime()?.block_on(async {
        let connection = connect(&config.broker, "imgtag reminders").await?;
        let publisher = Publisher::open(&connection, &config.broker).await?;
        topology::declare(publisher.channel(), &config.broker).await?;
        let index = Index::open(&config.index).await?;
        let report = sweep(&index, &connection, &publisher, &reminders, &tenants).await;
        let _ = connection.close(200, "done".into()).await;
        report
    })
}

/// Text for people.
pub fn write_text(report: &SweepReport, out: &mut impl Write) -> std::io::Result<()> {
    if !report.ran {
        return writeln!(
            out,
            "another sweeper holds the reminders lock: nothing sent"
        );
    }
    writeln!(
        out,
        "{} document(s) looked at, {} reminder(s) sent",
        report.documents,
        report.sent.len()
    )?;
    for event in &report.sent {
        writeln!(
            out,
            "  {:<18}  {:<8}  {}  {:>5} days  {}  {}",
            event.event.routing_key(),
            event.threshold,
            event.expires_on,
            event.days_left,
            event.document_type,
            event.image_id
        )?;
    }
    Ok(())
}
