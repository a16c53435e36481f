//! One module per subcommand.

pub mod classify;
pub mod convert;
pub mod index;
pub mod inspect;
pub mod tag;
