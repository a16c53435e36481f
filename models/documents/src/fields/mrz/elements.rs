//! Reading the elements of an MRZ: the name, dates, codes and document
//! numbers, each from its fixed positions.

use chrono::NaiveDate;

use super::check::verify;
use crate::fields::dates::Century;

/// A value with whether its check passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The value read.
    pub value: String,
    /// Whether its check digit (and, for a date, the calendar) passes.
    pub valid: bool,
}

/// Characters `range` of `line` (empty when out of bounds; MRZ lines are
/// ASCII once cleaned).
pub fn slice(line: &str, range: std::ops::Range<usize>) -> &str {
    line.get(range).unwrap_or("")
}

/// Character `at` of `line`, `?` when out of bounds.
pub fn char_at(line: &str, at: usize) -> char {
    line.as_bytes().get(at).map_or('?', |&b| char::from(b))
}

/// A name element: the primary identifier before `<<`, the secondary after
/// it, `<` as spaces: `ERIKSSON<<ANNA<MARIA<<<` -> `ERIKSSON ANNA MARIA`.
pub fn name(element: &str) -> String {
    let (primary, secondary) = element.split_once("<<").unwrap_or((element, ""));
    let words = |part: &str| -> Vec<String> {
        part.split('<')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut all = words(primary);
    all.extend(words(secondary));
    all.join(" ")
}

/// A code element (state, nationality) without its fillers: `D<<` -> `D`.
pub fn code(element: &str) -> String {
    element.trim_end_matches('<').to_string()
}

/// A `YYMMDD` date with its check digit, as ISO `YYYY-MM-DD`; the digits as
/// read when they are not six, and invalid then or when the date is not a
/// real one.
pub fn date(element: &str, check: char, century: Century) -> Checked {
    let check_ok = verify(element, check, false);
    let digits_ok = element.len() == 6 && element.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok {
        return Checked {
            value: element.to_string(),
            valid: false,
        };
    }
    let yy: i32 = slice(element, 0..2).parse().unwrap_or(0);
    let (mm, dd) = (slice(element, 2..4), slice(element, 4..6));
    let year = century.resolve(yy);
    let real = match (mm.parse(), dd.parse()) {
        (Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(year, m, d).is_some(),
        _ => false,
    };
    Checked {
        value: format!("{year}-{mm}-{dd}"),
        valid: check_ok && real,
    }
}

/// A document number with its check digit. When the number is longer than
/// its 9 places, the check place holds `<` and the rest of the number and
/// its check digit open the optional data (`overflow`).
pub fn document_number(principal: &str, check: char, overflow: &str) -> Checked {
    if check == '<' {
        let rest = overflow.split('<').next().unwrap_or("");
        if let Some((extra, check)) = rest.char_indices().last().map(|(i, c)| (&rest[..i], c)) {
            let number = format!("{principal}{extra}");
            return Checked {
                valid: verify(&number, check, false),
                value: number,
            };
        }
    }
    Checked {
        value: code(principal),
        valid: verify(principal, check, false),
    }
}

/// The sex element: `M`, `F`, or `None` for `<` (unspecified) and anything
/// else.
pub fn sex(c: char) -> Option<char> {
    matches!(c, 'M' | 'F').then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn names() {
        assert_eq!(name("ERIKSSON<<ANNA<MARIA<<<<<<<"), "ERIKSSON ANNA MARIA");
        assert_eq!(name("ERIKSSON<<<<<<"), "ERIKSSON");
        assert_eq!(name("VAN<DER<BERG<<JAN"), "VAN DER BERG JAN");
    }

    #[test]
    fn dates_and_centuries() {
        let birth = date("740812", '2', Century::Past(today()));
        assert_eq!(birth.value, "1974-08-12");
        assert!(birth.valid);
        let birth = date("100101", '5', Century::Past(today()));
        assert_eq!(birth.value, "2010-01-01");
        let expiry = date("120415", '9', Century::TwentyFirst);
        assert_eq!(expiry.value, "2012-04-15");
        assert!(expiry.valid);
        assert!(!date("120415", '8', Century::TwentyFirst).valid);
        assert!(!date("12O415", '9', Century::TwentyFirst).valid);
    }

    #[test]
    fn impossible_date_is_invalid_even_with_its_check() {
        // 2012-02-30; check digit of 120230 is 6.
        let expiry = date("120230", '6', Century::TwentyFirst);
        assert_eq!(expiry.value, "2012-02-30");
        assert!(!expiry.valid);
    }

    #[test]
    fn document_numbers() {
        let number = document_number("L898902C3", '6', "ZE184226B<<<<<");
        assert_eq!(number.value, "L898902C3");
        assert!(number.valid);
        let number = document_number("AB2134<<<", '5', "");
        assert_eq!(number.value, "AB2134");
        assert!(number.valid);
    }

    // ICAO 9303 part 5: a 12-character number D23145890734, check 9.
    #[test]
    fn long_document_number_continues_in_optional_data() {
        let number = document_number("D23145890", '<', "7349<<<<<<<<<<<");
        assert_eq!(number.value, "D23145890734");
        assert!(number.valid);
    }

    #[test]
    fn sexes() {
        assert_eq!(sex('F'), Some('F'));
        assert_eq!(sex('<'), None);
    }
}
