//! Dates and validity periods as printed on documents, normalised to ISO
//! `YYYY-MM-DD`: `2015年03月01日`, `2015.03.01`, `2015-03-01`, `2015/3/1`,
//! `01 MAR 2015`, `12 Mar 2015`, `March 1, 2015`; periods
//! `2015.03.01-2035.03.01`, `2015.03.01至2035.03.01`,
//! `2015年03月01日 至 长期`, and `长期` alone (permanent).
//!
//! A date that is not a real calendar date (`2015.02.30`) is kept as read,
//! with `valid: false`. Text is expected in NFKC (see
//! [`crate::fields::text::normalise`]).

pub mod scan;

use chrono::{Datelike, NaiveDate};

/// The value of an expiry that never comes (`长期`).
pub const PERMANENT: &str = "permanent";
/// Years a valid date may fall in.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;
/// What separates the two dates of a period.
const RANGE_SEPARATORS: &str = "-~至到—–―一";
/// Words for a period without an end.
const PERMANENT_WORDS: [&str; 4] = ["长期", "永久", "PERMANENT", "LONGTERM"];

/// Which century a two-digit year falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Century {
    /// A date in the past (a birth date): `YY` above this year's is 19YY.
    Past(NaiveDate),
    /// A date of this century (issue, expiry): always 20YY.
    TwentyFirst,
}

impl Century {
    /// The four-digit year of `yy` (0-99).
    pub fn resolve(self, yy: i32) -> i32 {
        match self {
            Self::Past(today) if yy > today.year() % 100 => 1900 + yy,
            _ => 2000 + yy,
        }
    }
}

/// A date read from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateValue {
    /// `YYYY-MM-DD` as printed (maybe not a real date).
    pub value: String,
    /// Whether it is a real calendar date in 1900-2199.
    pub valid: bool,
}

impl DateValue {
    fn new(year: i32, month: u32, day: u32) -> Self {
        Self {
            value: format!("{year:04}-{month:02}-{day:02}"),
            valid: YEARS.contains(&year) && NaiveDate::from_ymd_opt(year, month, day).is_some(),
        }
    }

    /// The date, when valid.
    pub fn date(&self) -> Option<NaiveDate> {
        self.valid
            .then(|| NaiveDate::parse_from_str(&self.value, "%Y-%m-%d").ok())
            .flatten()
    }
}

/// The end of a validity period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodEnd {
    /// It ends on this date.
    Date(DateValue),
    /// It never ends (`长期`).
    Permanent,
}

/// What a validity field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validity {
    /// A period: a start date, and its end when printed.
    Period {
        /// The first day.
        start: DateValue,
        /// The end (`None` when the text stops after the separator).
        end: Option<PeriodEnd>,
    },
    /// A single date (`有效期至 2030.01.01`): the end.
    Until(DateValue),
    /// Only `长期`: permanent.
    Permanent,
}

/// A date found in text, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedDate {
    /// The date.
    pub date: DateValue,
    /// Character index of its start.
    pub start: usize,
    /// Character index just past it.
    pub end: usize,
}

/// Every date in `text`, in order, with where it is. Two-digit years are
/// read only with a `short_years` century.
pub fn locate_dates(text: &str, short_years: Option<Century>) -> Vec<LocatedDate> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match scan::date_at(&chars, i, short_years) {
            Some(d) => {
                found.push(LocatedDate {
                    date: DateValue::new(d.year, d.month, d.day),
                    start: i,
                    end: d.end,
                });
                i = d.end;
            }
            None => i += 1,
        }
    }
    found
}

/// Every date in `text`, in order (see [`locate_dates`]).
pub fn find_dates(text: &str, short_years: Option<Century>) -> Vec<DateValue> {
    locate_dates(text, short_years)
        .into_iter()
        .map(|d| d.date)
        .collect()
}

/// The first date in `text`.
pub fn find_date(text: &str, short_years: Option<Century>) -> Option<DateValue> {
    find_dates(text, short_years).into_iter().next()
}

/// The validity period or date in `text`.
pub fn find_validity(text: &str) -> Option<Validity> {
    let chars: Vec<char> = text.chars().collect();
    let Some((start, after)) = first_date(&chars, 0) else {
        return permanent(&chars).then_some(Validity::Permanent);
    };
    let i = skip_spaces(&chars, after);
    let separator = match chars.get(i) {
        Some(c) if RANGE_SEPARATORS.contains(*c) => Some(i + 1),
        Some('T' | 't') if matches!(chars.get(i + 1), Some('O' | 'o')) => Some(i + 2),
        _ => None,
    };
    let Some(rest_at) = separator else {
        return Some(Validity::Until(start));
    };
    let rest = &chars[rest_at.min(chars.len())..];
    let end = match scan::date_at(rest, skip_spaces(rest, 0), None) {
        Some(d) => Some(PeriodEnd::Date(DateValue::new(d.year, d.month, d.day))),
        None if permanent(rest) => Some(PeriodEnd::Permanent),
        None => None,
    };
    Some(Validity::Period { start, end })
}

fn first_date(chars: &[char], from: usize) -> Option<(DateValue, usize)> {
    (from..chars.len()).find_map(|i| {
        scan::date_at(chars, i, None).map(|d| (DateValue::new(d.year, d.month, d.day), d.end))
    })
}

fn permanent(chars: &[char]) -> bool {
    let compact: String = chars
        .iter()
        .filter(|c| c.is_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    PERMANENT_WORDS.iter().any(|w| compact.contains(w))
}

fn skip_spaces(chars: &[char], mut at: usize) -> usize {
    while chars.get(at).is_some_and(|c| c.is_whitespace()) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(text: &str) -> Option<(String, bool)> {
        find_date(text, None).map(|d| (d.value, d.valid))
    }

    #[test]
    fn single_dates() {
        for text in [
            "2015年03月01日",
            "2015.03.01",
            "2015-03-01",
            "2015/3/1",
            "01 MAR 2015",
        ] {
            assert_eq!(iso(text), Some(("2015-03-01".to_string(), true)), "{text}");
        }
        assert_eq!(
            iso("出生 12 Mar 2015"),
            Some(("2015-03-12".to_string(), true))
        );
    }

    #[test]
    fn impossible_dates_are_kept_invalid() {
        assert_eq!(iso("2015.02.30"), Some(("2015-02-30".to_string(), false)));
        assert_eq!(
            iso("2015年13月01日"),
            Some(("2015-13-01".to_string(), false))
        );
    }

    #[test]
    fn two_digit_years() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let birth = find_date("12 AUG/AOUT 74", Some(Century::Past(today))).unwrap();
        assert_eq!(birth.value, "1974-08-12");
        let expiry = find_date("15 APR/AVR 12", Some(Century::TwentyFirst)).unwrap();
        assert_eq!(expiry.value, "2012-04-15");
    }

    fn period(start: &str, end: Option<PeriodEnd>) -> Validity {
        Validity::Period {
            start: DateValue::new(
                start[0..4].parse().unwrap(),
                start[5..7].parse().unwrap(),
                start[8..10].parse().unwrap(),
            ),
            end,
        }
    }

    fn end(date: &str) -> Option<PeriodEnd> {
        find_date(date, None).map(PeriodEnd::Date)
    }

    #[test]
    fn periods() {
        let expected = period("2015-03-01", end("2035-03-01"));
        for text in [
            "2015.03.01-2035.03.01",
            "2015.03.01至2035.03.01",
            "2015.03.01 一 2035.03.01",
            "2015年03月01日 至 2035年03月01日",
            "2015-03-01 to 2035-03-01",
        ] {
            assert_eq!(find_validity(text), Some(expected.clone()), "{text}");
        }
    }

    #[test]
    fn permanent_periods() {
        assert_eq!(
            find_validity("2015年03月01日 至 长期"),
            Some(period("2015-03-01", Some(PeriodEnd::Permanent)))
        );
        assert_eq!(
            find_validity("2015.03.01-长 期"),
            Some(period("2015-03-01", Some(PeriodEnd::Permanent)))
        );
        assert_eq!(find_validity("长期"), Some(Validity::Permanent));
    }

    #[test]
    fn single_date_is_the_end() {
        assert_eq!(
            find_validity("2030.01.01"),
            Some(Validity::Until(DateValue::new(2030, 1, 1)))
        );
        assert_eq!(
            find_validity("2015.03.01-"),
            Some(period("2015-03-01", None))
        );
        assert_eq!(find_validity("无"), None);
    }

    #[test]
    fn locates_dates() {
        let found = locate_dates("01 JAN 2015 31 DEC 24", Some(Century::TwentyFirst));
        let spans: Vec<(usize, usize, &str)> = found
            .iter()
            .map(|d| (d.start, d.end, d.date.value.as_str()))
            .collect();
        assert_eq!(spans, vec![(0, 11, "2015-01-01"), (12, 21, "2024-12-31")]);
    }

    #[test]
    fn valid_dates_give_a_naive_date() {
        assert_eq!(
            DateValue::new(2015, 3, 1).date(),
            NaiveDate::from_ymd_opt(2015, 3, 1)
        );
        assert_eq!(DateValue::new(2015, 2, 30).date(), None);
    }
}
