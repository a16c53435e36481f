//! imgtag's end-to-end tests: one test binary, real ONNX Runtime, real
//! models, real photos. Run `scripts/setup` (or `scripts/test`) first.

// Helpers of a test binary may fail the test the short way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod classify;
mod cli;
mod convert;
mod corpus;
mod documents;
mod hierarchy;
mod home_dir;
mod index_cli;
mod index_contract;
mod index_durability;
mod index_isolation;
mod index_migration;
mod ingest;
mod inspect;
mod model_files;
mod multi_worker;
mod ocr;
mod parity;
mod s3_store;
mod same_bytes;
mod scheduling;
mod search_quality;
mod serve;
mod tagging;
mod worker;
