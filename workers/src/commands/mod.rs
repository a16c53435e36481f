//! One module per subcommand, and what they share ([`support`]).

pub mod api_key;
pub mod classify;
pub mod convert;
pub mod dlq;
pub mod duplicates;
pub mod erase;
pub mod expiring;
pub mod index;
pub mod ingest;
pub mod inspect;
pub mod ocr;
pub mod publish;
pub mod reminders;
pub mod reprocess;
pub mod search;
pub mod serve;
pub mod stats;
pub mod support;
pub mod tag;
pub mod worker;
