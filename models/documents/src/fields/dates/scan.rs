//! Character-level readers of one date at a position: `2015年03月01日`,
//! `2015.03.01`, `2015-03-01`, `2015/3/1`, `01 MAR 2015`, `12 AUG/AOUT 74`,
//! `March 1, 2015`. Each returns the date's parts and where it ends.

use super::Century;

/// A date's parts as printed, and the index just past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// Year (four digits, or resolved from two).
    pub year: i32,
    /// Month as printed (maybe out of range).
    pub month: u32,
    /// Day as printed (maybe out of range).
    pub day: u32,
    /// Index just past the date.
    pub end: usize,
}

/// English month names; a month word is a prefix of one, three letters at
/// least (`MAR`, `Sept`, `December`).
const MONTHS: [&str; 12] = [
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
];

/// The date starting at `chars[at]`, in any of the forms read.
pub fn date_at(chars: &[char], at: usize, short_years: Option<Century>) -> Option<Scanned> {
    numeric_at(chars, at)
        .or_else(|| day_month_year_at(chars, at, short_years))
        .or_else(|| month_day_year_at(chars, at))
}

/// `YYYY年M月D日`, `YYYY.MM.DD`, `YYYY-MM-DD`, `YYYY/M/D`.
fn numeric_at(chars: &[char], at: usize) -> Option<Scanned> {
    if !starts_number(chars, at) {
        return None;
    }
    let (year, i) = digits(chars, at, 4, 4)?;
    let i = skip_spaces(chars, i);
    let sep = *chars.get(i).filter(|c| "年.-/".contains(**c))?;
    let (month, i) = digits(chars, skip_spaces(chars, i + 1), 1, 2)?;
    let i = skip_spaces(chars, i);
    let sep2 = if sep == '年' { '月' } else { sep };
    let i = skip_spaces(chars, expect(chars, i, sep2)?);
    let (day, mut end) = digits(chars, i, 1, 2)?;
    if sep == '年' {
        let j = skip_spaces(chars, end);
        if matches!(chars.get(j), Some('日' | '号')) {
            end = j + 1;
        }
    }
    Some(Scanned {
        year: year as i32,
        month,
        day,
        end,
    })
}

/// `01 MAR 2015`, `12 AUG/AOUT 74` (two-digit years only with a century).
fn day_month_year_at(chars: &[char], at: usize, short_years: Option<Century>) -> Option<Scanned> {
    if !starts_number(chars, at) {
        return None;
    }
    let (day, i) = digits(chars, at, 1, 2)?;
    let (month, i) = month_word(chars, skip_date_gap(chars, i))?;
    let i = skip_translation(chars, i);
    let (year, end) = year_at(chars, skip_date_gap(chars, i), short_years)?;
    Some(Scanned {
        year,
        month,
        day,
        end,
    })
}

/// `March 1, 2015`, `MAR 01 2015`.
fn month_day_year_at(chars: &[char], at: usize) -> Option<Scanned> {
    if at > 0 && chars.get(at - 1).is_some_and(|c| c.is_alphabetic()) {
        return None;
    }
    let (month, i) = month_word(chars, at)?;
    let (day, i) = digits(chars, skip_spaces(chars, i), 1, 2)?;
    let i = skip_date_gap(chars, i);
    let (year, end) = year_at(chars, i, None)?;
    Some(Scanned {
        year,
        month,
        day,
        end,
    })
}

fn year_at(chars: &[char], at: usize, short_years: Option<Century>) -> Option<(i32, usize)> {
    if let Some((year, end)) = digits(chars, at, 4, 4) {
        return Some((year as i32, end));
    }
    let century = short_years?;
    let (yy, end) = digits(chars, at, 2, 2)?;
    Some((century.resolve(yy as i32), end))
}

/// A month word at `at`: its number and where it ends.
fn month_word(chars: &[char], at: usize) -> Option<(u32, usize)> {
    let len = chars[at.min(chars.len())..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    if len < 3 {
        return None;
    }
    let word: String = chars[at..at + len]
        .iter()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let index = MONTHS.iter().position(|m| m.starts_with(&word))?;
    Some((index as u32 + 1, at + len))
}

/// Skips a `/AOUT`-style translation of a month word.
fn skip_translation(chars: &[char], at: usize) -> usize {
    if chars.get(at) != Some(&'/') {
        return at;
    }
    let letters = chars[at + 1..]
        .iter()
        .take_while(|c| c.is_alphabetic())
        .count();
    if letters == 0 { at } else { at + 1 + letters }
}

/// `count` digits (between `min` and `max`) at `at`, not followed by a
/// digit: their value and where they end.
fn digits(chars: &[char], at: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let run = chars[at.min(chars.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if run < min || run > max {
        return None;
    }
    let value = chars[at..at + run]
        .iter()
        .fold(0, |acc, c| acc * 10 + c.to_digit(10).unwrap_or(0));
    Some((value, at + run))
}

fn starts_number(chars: &[char], at: usize) -> bool {
    chars.get(at).is_some_and(char::is_ascii_digit)
        && (at == 0 || !chars.get(at - 1).is_some_and(char::is_ascii_digit))
}

fn expect(chars: &[char], at: usize, c: char) -> Option<usize> {
    (chars.get(at) == Some(&c)).then_some(at + 1)
}

fn skip_spaces(chars: &[char], mut at: usize) -> usize {
    while chars.get(at).is_some_and(|c| c.is_whitespace()) {
        at += 1;
    }
    at
}

/// Skips what may stand between a date's words: spaces, `-`, `.`, `,`.
fn skip_date_gap(chars: &[char], mut at: usize) -> usize {
    while chars
        .get(at)
        .is_some_and(|&c| c.is_whitespace() || matches!(c, '-' | '.' | ','))
    {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Option<(i32, u32, u32, usize)> {
        let chars: Vec<char> = text.chars().collect();
        date_at(&chars, 0, Some(Century::TwentyFirst)).map(|s| (s.year, s.month, s.day, s.end))
    }

    #[test]
    fn numeric_forms() {
        assert_eq!(scan("2015年03月01日"), Some((2015, 3, 1, 11)));
        assert_eq!(scan("1990 年 1 月 1 日 x"), Some((1990, 1, 1, 14)));
        assert_eq!(scan("2015.03.01-2035"), Some((2015, 3, 1, 10)));
        assert_eq!(scan("2015-03-01"), Some((2015, 3, 1, 10)));
        assert_eq!(scan("2015/3/1"), Some((2015, 3, 1, 8)));
    }

    #[test]
    fn english_forms() {
        assert_eq!(scan("01 MAR 2015"), Some((2015, 3, 1, 11)));
        assert_eq!(scan("12 Mar 2015"), Some((2015, 3, 12, 11)));
        assert_eq!(scan("15 APR/AVR 12"), Some((2012, 4, 15, 13)));
        assert_eq!(scan("March 1, 2015"), Some((2015, 3, 1, 13)));
        assert_eq!(scan("1 Sept 2020"), Some((2020, 9, 1, 11)));
    }

    #[test]
    fn not_dates() {
        assert_eq!(scan("2015.03"), None);
        assert_eq!(scan("20150301"), None);
        assert_eq!(scan("2015.03/01"), None);
        assert_eq!(scan("12 MA 2015"), None);
        assert_eq!(scan("12345 MAR 2015"), None);
        assert_eq!(scan(""), None);
    }

    #[test]
    fn two_digit_years_need_a_century() {
        let chars: Vec<char> = "12 AUG 74".chars().collect();
        assert!(date_at(&chars, 0, None).is_none());
    }
}
