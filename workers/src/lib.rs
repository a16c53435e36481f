//! The `imgtag` binary's library: configuration, command-line interface and
//! the commands themselves. `main.rs` only parses arguments and reports.
//!
//! Later issues add the queue consumer, the embedded runner, the index and
//! object-store adapters and the HTTP API here (see docs/ARCHITECTURE.md).

pub mod cli;
pub mod commands;
pub mod config;
pub mod derived_tags;
pub mod error;
pub mod index;
pub mod input;

pub use config::Config;
pub use error::AppError;
