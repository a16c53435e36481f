//! The `imgtag` binary's library: configuration, command-line interface and
//! the commands themselves. `main.rs` only parses arguments and reports.
//!
//! - [`jobs`]: the job contract and its sources; [`process`]: one job
//!   through pipeline, models, object store and index; [`events`]: the
//!   result events; [`broker`]: RabbitMQ topology, publishing and the
//!   worker loop; [`store`]: renditions in the object store; [`index`]: the
//!   vector index; [`telemetry`]: logs and metrics; [`api`]: the HTTP API
//!   and the web page.
//!
//! See docs/ARCHITECTURE.md.

pub mod analyzers;
pub mod api;
pub mod broker;
pub mod cli;
pub mod commands;
pub mod config;
pub mod cpu_pool;
pub mod error;
pub mod events;
pub mod index;
pub mod input;
pub mod jobs;
pub mod process;
pub mod reminders;
pub mod service;
pub mod store;
pub mod telemetry;

pub use config::Config;
pub use error::AppError;
