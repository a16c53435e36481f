//! Reading every field the OCR lines hold: the label pass, the pattern
//! pass and the receipt's shop over the NFKC text of the lines, then
//! settled (see [`super::found::settle`]).

use chrono::NaiveDate;

use super::Field;
use super::found::settle;
use super::labelled::read_labelled;
use super::patterns::read_patterns;
use super::receipt::read_shop;
use super::text::normalise;
use crate::evidence::EvidenceLine;

/// Every field `lines` hold, by label and by shape. Two-digit birth years
/// are pivoted on today's date (UTC).
pub fn extract(lines: &[EvidenceLine]) -> Vec<Field> {
    extract_as_of(lines, chrono::Utc::now().date_naive())
}

/// [`extract`] with two-digit birth years pivoted on `today`: a year after
/// today's two digits is in the 1900s.
pub fn extract_as_of(lines: &[EvidenceLine], today: NaiveDate) -> Vec<Field> {
    let normalised: Vec<String> = lines.iter().map(|l| normalise(&l.text)).collect();
    let mut found = read_labelled(lines, &normalised, today);
    found.extend(read_patterns(lines, &normalised, today));
    found.extend(read_shop(lines, &normalised));
    settle(found)
}
