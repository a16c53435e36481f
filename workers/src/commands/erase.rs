//! `imgtag erase --tenant T IMAGE_ID...`: deletes images for good, their
//! index points and their objects ([`crate::service::erase`]).

use std::io::Write;

use super::support::runtime;
use crate::cli::EraseArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::{Index, TenantId};
use crate::service::erase::{EraseOutput, erase_images};
use crate::store::ObjectStorage;

/// Runs the command.
pub fn run(config: &Config, args: &EraseArgs) -> Result<EraseOutput, AppError> {
    let tenant = TenantId::new(args.tenant.clone())?;
    let store = ObjectStorage::open(&config.store)?;
    runtime()?.block_on(async {
        let index = Index::open(&config.index).await?;
        let output = erase_images(&index.tenant(tenant), &store, &args.images).await?;
        index.flush().await?;
        Ok(output)
    })
}

/// One line per image for people.
pub fn write_text(output: &EraseOutput, out: &mut impl Write) -> std::io::Result<()> {
    for image in &output.images {
        let point = if image.point {
            "point deleted"
        } else {
            "no point in this tenant"
        };
        writeln!(
            out,
            "{}: {point}, {} objects deleted",
            image.image_id, image.objects
        )?;
    }
    Ok(())
}
