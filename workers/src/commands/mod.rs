//! One module per subcommand.

pub mod classify;
pub mod inspect;
