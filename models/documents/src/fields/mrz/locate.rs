//! Finding MRZs among OCR lines: consecutive lines of 28-46 characters
//! made almost only of `A-Z`, `0-9` and `<`, as many as a format has and as
//! wide, each with a filler or a run of digits.

use chrono::NaiveDate;

use super::clean::{clean_line, fit, fix_positions, is_mrz_char};
use super::format::MrzFormat;
use super::parse::{Mrz, parse};

/// Shortest and longest cleaned line taken for an MRZ line.
const WIDTHS: std::ops::RangeInclusive<usize> = 28..=46;
/// Share of a line's characters that must be MRZ characters.
const MIN_MRZ_SHARE: f32 = 0.9;

/// An MRZ found among OCR lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrzBlock {
    /// Index of its first line.
    pub first_line: usize,
    /// How many lines it spans.
    pub line_count: usize,
    /// Its lines, cleaned (and fitted to the format when they could be).
    pub lines: Vec<String>,
    /// What it holds; `None` when a line could not be fitted to the
    /// format's width.
    pub mrz: Option<Mrz>,
}

/// Every MRZ among `lines` (in reading order), birth years pivoted on
/// `today`.
pub fn find_all(lines: &[&str], today: NaiveDate) -> Vec<MrzBlock> {
    let cleaned: Vec<String> = lines.iter().map(|l| clean_line(l)).collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < cleaned.len() {
        match block_at(&cleaned, i) {
            Some(format) => {
                let n = format.line_count();
                blocks.push(read_block(format, &cleaned[i..i + n], i, today));
                i += n;
            }
            None => i += 1,
        }
    }
    blocks
}

/// Reads lines already found to be an MRZ of `format`: fitted to its
/// width, `O`/`0` put right by position, then parsed.
pub fn read(format: MrzFormat, lines: &[String], today: NaiveDate) -> Option<Mrz> {
    let fitted: Option<Vec<String>> = lines
        .iter()
        .enumerate()
        .map(|(n, line)| {
            let line = fit(line, format.width())?;
            Some(fix_positions(
                &line,
                &format.digit_positions(n),
                &format.letter_positions(n),
            ))
        })
        .collect();
    parse(format, &fitted?, today)
}

/// Whether every line of `text` looks like an MRZ line.
pub fn looks_like_mrz(text: &str) -> bool {
    text.lines().all(|l| mrz_like(&clean_line(l)))
}

fn read_block(
    format: MrzFormat,
    lines: &[String],
    first_line: usize,
    today: NaiveDate,
) -> MrzBlock {
    let mrz = read(format, lines, today);
    MrzBlock {
        first_line,
        line_count: lines.len(),
        lines: mrz
            .as_ref()
            .map_or_else(|| lines.to_vec(), |m| m.lines.clone()),
        mrz,
    }
}

/// The format of the MRZ starting at `cleaned[i]`, if one does.
fn block_at(cleaned: &[String], i: usize) -> Option<MrzFormat> {
    let first = cleaned.get(i)?;
    if !mrz_like(first) || !first.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    let format = MrzFormat::by_width(first.chars().count())?;
    let block = cleaned.get(i..i + format.line_count())?;
    let fits = block
        .iter()
        .all(|l| mrz_like(l) && l.chars().count().abs_diff(format.width()) <= 2);
    let fillers: usize = block.iter().map(|l| l.matches('<').count()).sum();
    (fits && fillers >= 2).then_some(format)
}

/// Whether a cleaned line could be an MRZ line.
fn mrz_like(line: &str) -> bool {
    let len = line.chars().count();
    if !WIDTHS.contains(&len) {
        return false;
    }
    let mrz_chars = line.chars().filter(|&c| is_mrz_char(c)).count();
    let digits = line.chars().filter(char::is_ascii_digit).count();
    mrz_chars as f32 >= MIN_MRZ_SHARE * len as f32 && (line.contains('<') || digits >= 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn finds_a_noisy_td3_among_other_lines() {
        let lines = [
            "PASSPORT PASSEPORT",
            "Surname ERIKSSON",
            "P«UTOERIKSSON«<ANNA<MARIA<<<<<<<<<<<<<<<<<",
            "L898902C3 6UTO74O8122F12O4159ZE184226B<<<<<10",
            "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
        ];
        let blocks = find_all(&lines, today());
        assert_eq!(blocks.len(), 1);
        let block = &blocks[0];
        assert_eq!(block.first_line, 2);
        assert_eq!(block.line_count, 2);
        let mrz = block.mrz.as_ref().unwrap();
        assert!(mrz.valid(), "{mrz:?}");
        assert_eq!(mrz.lines[0], "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<");
        assert_eq!(mrz.birth_date.value, "1974-08-12");
    }

    #[test]
    fn finds_a_td1() {
        let lines = [
            "I<UTOD231458907<<<<<<<<<<<<<<<",
            "7408122F1204159UTO<<<<<<<<<<<6",
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
        ];
        let blocks = find_all(&lines, today());
        assert_eq!(blocks.len(), 1);
        assert!(blocks[0].mrz.as_ref().unwrap().valid());
    }

    #[test]
    fn unfittable_block_is_kept_without_a_reading() {
        let lines = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226BX10",
        ];
        assert!(find_all(&lines, today()).is_empty());
        let lines = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226BABC10",
        ];
        // 42 characters and no filler run: a block, but not fittable.
        let blocks = find_all(&lines, today());
        assert_eq!(blocks.len(), 1);
        assert!(blocks[0].mrz.is_none());
    }

    #[test]
    fn prose_and_numbers_are_not_mrz() {
        let lines = [
            "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
            "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
            "公民身份号码 11010519491231002X",
        ];
        assert!(find_all(&lines, today()).is_empty());
    }

    #[test]
    fn recognises_mrz_text() {
        assert!(looks_like_mrz(
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
        ));
        assert!(!looks_like_mrz("姓名 张三"));
    }
}
