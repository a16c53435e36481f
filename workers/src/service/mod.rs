//! The read side shared by the CLI and the HTTP API: search, stats and
//! duplicates of one tenant. `commands/` (the CLI) and `api/` (the HTTP
//! handlers and the client) both call these functions; neither imports
//! the other, and nothing here knows about either.

pub mod duplicates;
pub mod erase;
pub mod expiry;
pub mod hybrid;
pub mod people_tags;
pub mod privacy;
pub mod search;
pub mod stats;
