//! Jobs: the contract upstream CRMs publish ([`contract`]), where their
//! bytes come from ([`source`]), and what can go wrong around the image
//! pipeline ([`error`]).

pub mod contract;
pub mod error;
pub mod source;

#[cfg(test)]
mod docs_tests;

pub use contract::{Job, JobSource, Operation, SCHEMA_VERSION};
pub use error::JobError;
pub use source::{SourceReader, SourcesConfig};
