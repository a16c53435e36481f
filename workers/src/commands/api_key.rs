//! `imgtag api-key --tenant T`: a new random API key for one tenant, shown
//! once, with the `[[api.keys]]` lines (its SHA-256, never the key) that
//! make `imgtag serve` accept it.

use std::io::Write;

use serde::Serialize;

use crate::api::auth::generate_key;
use crate::cli::ApiKeyArgs;
use crate::error::AppError;
use crate::index::TenantId;

/// A new key.
#[derive(Debug, Serialize)]
pub struct NewKey {
    /// The tenant it grants.
    pub tenant: String,
    /// The key (give it to the client; it is not stored anywhere).
    pub key: String,
    /// What the configuration holds.
    pub sha256: String,
    /// Who holds it.
    pub name: Option<String>,
}

/// Runs the command.
pub fn run(args: &ApiKeyArgs) -> Result<NewKey, AppError> {
    let tenant = TenantId::new(args.tenant.clone())?;
    if let Some(name) = &args.name
        && (name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control() || c == '"'))
    {
        return Err(AppError::Config(
            "--name must be 1-64 printable characters without quotes".into(),
        ));
    }
    let (key, sha256) = generate_key().map_err(AppError::Config)?;
    Ok(NewKey {
        tenant: tenant.to_string(),
        key,
        sha256,
        name: args.name.clone(),
    })
}

/// Text for people.
pub fn write_text(output: &NewKey, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "API key for tenant {} (shown once; keep it in a secret store):\n\n  {}\n",
        output.tenant, output.key
    )?;
    writeln!(out, "Add to the imgtag configuration of `imgtag serve`:\n")?;
    writeln!(
        out,
        "[[api.keys]]\ntenant = \"{}\"\nsha256 = \"{}\"",
        output.tenant, output.sha256
    )?;
    if let Some(name) = &output.name {
        writeln!(out, "name = \"{name}\"")?;
    }
    writeln!(
        out,
        "\nClients send it as `Authorization: Bearer KEY`; the CLI reads IMGTAG_API_KEY."
    )
}
