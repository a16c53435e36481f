//! PRC resident identity numbers (GB 11643-1999): 17 digits and an
//! ISO 7064 MOD 11-2 check character (`0`-`9` or `X`). Digits 7-14 are the
//! birth date (`YYYYMMDD`), digit 17 the sex (odd male, even female).
//!
//! A number that fails its check is reported as read, never corrected;
//! OCR confusions (a lower-case `x`, spaces between digit groups) are only
//! tolerated to locate it.

use chrono::NaiveDate;

use super::text::ascii_alnum_runs;

/// Weights of the 17 body digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder of the weighted sum mod 11.
const CHECK_TABLE: &[u8; 11] = b"10X98765432";
/// Earliest and latest birth years accepted.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// An identity number read from text, and what it tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrcId {
    /// The 18 characters, the check character upper-case.
    pub number: String,
    /// The printed birth date as `YYYY-MM-DD` (not necessarily a real date).
    pub birth_date: String,
    /// `M` or `F`, from digit 17.
    pub sex: char,
    /// Whether the check character matches the body.
    pub check_ok: bool,
    /// Whether the birth date is a real calendar date in 1900-2100.
    pub date_ok: bool,
}

impl PrcId {
    /// Whether the number passes every check.
    pub fn valid(&self) -> bool {
        self.check_ok && self.date_ok
    }
}

/// The check character for 17 body digits, `None` when `body` is not 17
/// ASCII digits.
pub fn check_char(body: &str) -> Option<char> {
    if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_TABLE.get((sum % 11) as usize).map(|&b| char::from(b))
}

/// Reads `candidate` as an identity number: 17 digits and a digit or `X`
/// (`x` accepted). `None` when it does not have that shape.
pub fn parse(candidate: &str) -> Option<PrcId> {
    let number = candidate.to_ascii_uppercase();
    let (body, last) = number.split_at_checked(17)?;
    let expected = check_char(body)?;
    let last = single_char(last)?;
    if !(last.is_ascii_digit() || last == 'X') {
        return None;
    }
    let (year, month, day) = (&body[6..10], &body[10..12], &body[12..14]);
    let date_ok = real_date(year, month, day);
    let sex_digit = body.as_bytes()[16] - b'0';
    Some(PrcId {
        birth_date: format!("{year}-{month}-{day}"),
        sex: if sex_digit % 2 == 1 { 'M' } else { 'F' },
        check_ok: last == expected,
        date_ok,
        number,
    })
}

/// Every identity number in `text`: runs of 18 ASCII letters and digits of
/// the right shape; when there is none, the same in `text` with its spaces
/// removed (`1101 0519 4912 3100 2X`).
pub fn find_all(text: &str) -> Vec<PrcId> {
    let found: Vec<PrcId> = ascii_alnum_runs(text)
        .into_iter()
        .filter_map(parse)
        .collect();
    if !found.is_empty() {
        return found;
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    ascii_alnum_runs(&compact)
        .into_iter()
        .filter_map(parse)
        .collect()
}

fn single_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn real_date(year: &str, month: &str, day: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (year.parse(), month.parse(), day.parse()) else {
        return false;
    };
    YEARS.contains(&y) && NaiveDate::from_ymd_opt(y, m, d).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The two examples of GB 11643-1999.
    #[test]
    fn standard_examples_pass() {
        let id = parse("11010519491231002X").unwrap();
        assert!(id.valid());
        assert_eq!(id.birth_date, "1949-12-31");
        assert_eq!(id.sex, 'F');
        let id = parse("440524188001010014").unwrap();
        assert!(id.check_ok);
        assert_eq!(id.sex, 'M');
        // Born 1880: a real date, but out of the accepted years.
        assert!(!id.date_ok);
    }

    #[test]
    fn check_characters() {
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert_eq!(check_char("11010119900307447"), Some('7'));
        assert_eq!(check_char("1101011990030744"), None);
        assert_eq!(check_char("1101011990030744A"), None);
    }

    #[test]
    fn failing_number_is_kept_not_corrected() {
        let id = parse("110101199003074478").unwrap();
        assert!(!id.check_ok);
        assert_eq!(id.number, "110101199003074478");
    }

    #[test]
    fn impossible_birth_date_fails() {
        // 1990-02-30, with its check character computed to match.
        let body = "11010119900230447";
        let number = format!("{body}{}", check_char(body).unwrap());
        let id = parse(&number).unwrap();
        assert!(id.check_ok);
        assert!(!id.date_ok);
        assert!(!id.valid());
        assert_eq!(id.birth_date, "1990-02-30");
    }

    #[test]
    fn lower_case_x_is_located_and_upper_cased() {
        let found = find_all("公民身份号码 11010519491231002x");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].number, "11010519491231002X");
        assert!(found[0].valid());
    }

    #[test]
    fn spaced_groups_are_located() {
        let found = find_all("1101 0519 4912 3100 2X");
        assert_eq!(found[0].number, "11010519491231002X");
    }

    #[test]
    fn wrong_shapes_are_not_numbers() {
        assert!(parse("11010519491231002").is_none());
        assert!(parse("1101051949123100XX").is_none());
        assert!(parse("11010519491231002XX").is_none());
        assert!(find_all("tel 110105194912310021234").is_empty());
        assert!(parse("11010519491231002é").is_none());
    }
}
