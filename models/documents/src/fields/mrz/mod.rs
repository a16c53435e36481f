//! ICAO 9303 machine-readable zones: TD1 (3 lines of 30, ID cards), TD2
//! (2 of 36) and TD3 (2 of 44, passports). Every check digit is verified,
//! the composite too; a failing element is reported as read, with
//! `valid: false`.
//!
//! OCR'd zones are noisy: spaces inside lines, `«` for `<`, `O` for `0`,
//! a filler or two dropped or doubled. [`find_all`] finds zones among other
//! lines and tolerates that (see [`clean`]): beyond dropping spaces and
//! reading `«` as `<`, it only adds or removes fillers where a line is
//! evidently short or long, and reads `O`/`0` where only one can stand.

pub mod check;
pub mod clean;
pub mod elements;
pub mod format;
pub mod locate;
pub mod parse;

pub use check::check_digit;
pub use elements::Checked;
pub use format::MrzFormat;
pub use locate::{MrzBlock, find_all, looks_like_mrz, read};
pub use parse::Mrz;
