//! How personal fields are shown to a caller that may not see them whole.
//!
//! [`mask_field`] masks the value and the source line of a personal field
//! ([`FieldName::personal`]): an identity number keeps its first 6 and last
//! 4 characters (`110105********002X`), a document number its first and
//! last 2, a name the first character of each word (`张*`,
//! `E******* A*** M****`), a birth date nothing (`****-**-**`), the sex
//! nothing (`*`), an MRZ the first 5 characters of each line. The source
//! is masked as [`mask_line`] does (so that it shows no other personal
//! value printed on the line either), then the characters the masked value
//! shows are shown again where the value is printed (also spaced:
//! `1101 05** **** **00 2X`). An MRZ source only keeps the first 5
//! characters of each line.
//!
//! [`mask_line`] masks an OCR line of an identity paper: the labels and
//! titles stay, every other letter, digit and ideograph becomes `*`.

use crate::fields::labels::{TITLES, find_labels, match_at, value_start};
use crate::fields::mrz::looks_like_mrz;
use crate::fields::text::fold;
use crate::fields::{Field, FieldName};

/// How many characters of each MRZ line stay (document code and issuing
/// state on the first).
const MRZ_KEPT: usize = 5;
/// Values of at most this many letters and digits are only found as whole
/// words.
const SHORT_VALUE: usize = 2;

/// `field` as shown to a caller that may not see it: a personal field with
/// its value and source masked, any other unchanged.
pub fn mask_field(field: &Field) -> Field {
    if !field.name.personal() {
        return field.clone();
    }
    let value = mask_value(field.name, &field.value);
    let source = if field.name == FieldName::Mrz || looks_like_mrz(&field.source) {
        mask_mrz(&field.source)
    } else {
        mask_source(field.name, &field.value, &field.source)
    };
    Field {
        value,
        source,
        ..field.clone()
    }
}

/// `text` (one OCR line of an identity paper) with its labels, titles and
/// separators kept and every other letter, digit and ideograph as `*`. A
/// line that looks like an MRZ line keeps its first 5 characters.
pub fn mask_line(text: &str) -> String {
    if looks_like_mrz(text) {
        return mask_mrz(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut kept = vec![false; chars.len()];
    for hit in find_labels(&chars) {
        let end = value_start(&chars, hit.end);
        kept[hit.start..end].iter_mut().for_each(|k| *k = true);
    }
    for at in 0..chars.len() {
        for title in TITLES {
            if let Some(end) = match_at(&chars, at, title) {
                kept[at..end].iter_mut().for_each(|k| *k = true);
            }
        }
    }
    chars
        .iter()
        .zip(kept)
        .map(|(&c, keep)| if keep || !c.is_alphanumeric() { c } else { '*' })
        .collect()
}

/// The masked form of a personal field's value.
fn mask_value(name: FieldName, value: &str) -> String {
    if name == FieldName::Mrz {
        return mask_mrz(value);
    }
    let kept = kept_positions(name, value);
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if !c.is_alphanumeric() || kept.contains(&i) {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Indices of the characters of `value` that stay visible.
fn kept_positions(name: FieldName, value: &str) -> Vec<usize> {
    let alnum: Vec<usize> = value
        .chars()
        .enumerate()
        .filter(|(_, c)| c.is_alphanumeric())
        .map(|(i, _)| i)
        .collect();
    let n = alnum.len();
    let keep = |first: usize, last: usize| -> Vec<usize> {
        if n <= first + last {
            return Vec::new();
        }
        alnum[..first]
            .iter()
            .chain(&alnum[n - last..])
            .copied()
            .collect()
    };
    match name {
        FieldName::IdNumber => keep(6, 4),
        FieldName::DocumentNumber => keep(1, 2),
        FieldName::Name => first_of_each_word(value),
        _ => Vec::new(),
    }
}

fn first_of_each_word(value: &str) -> Vec<usize> {
    let mut kept = Vec::new();
    let mut in_word = false;
    for (i, c) in value.chars().enumerate() {
        if c.is_alphanumeric() && !in_word {
            kept.push(i);
        }
        in_word = !c.is_whitespace();
    }
    kept
}

/// The zone starred but for the first 5 characters of its first line
/// (document code and issuing state): the other lines hold the document
/// number, dates and name, and no part of them is shown. A single line
/// keeps its first 5 only when it reads as a first line (`P<UTO`,
/// `I<UTO`). Spaces are kept.
fn mask_mrz(text: &str) -> String {
    text.split('\n')
        .enumerate()
        .map(|(n, line)| {
            let first = n == 0 && line.chars().nth(1) == Some('<');
            line.chars()
                .enumerate()
                .map(|(i, c)| {
                    if (first && i < MRZ_KEPT) || c.is_whitespace() {
                        c
                    } else {
                        '*'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `source` masked as [`mask_line`] does, with the characters the masked
/// `value` shows shown again wherever `value` is printed.
fn mask_source(name: FieldName, value: &str, source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut masked: Vec<char> = mask_line(source).chars().collect();
    let (wanted, shown): (Vec<char>, Vec<bool>) = value
        .chars()
        .zip(mask_value(name, value).chars())
        .filter(|(c, _)| c.is_alphanumeric())
        .map(|(c, m)| (c, m != '*'))
        .unzip();
    if !shown.contains(&true) {
        return masked.into_iter().collect();
    }
    let mut at = 0;
    while let Some(positions) = find_printed(&chars, at, &wanted) {
        for (&p, _) in positions.iter().zip(&shown).filter(|(_, show)| **show) {
            if let (Some(slot), Some(&c)) = (masked.get_mut(p), chars.get(p)) {
                *slot = c;
            }
        }
        at = positions.last().map_or(chars.len(), |p| p + 1);
    }
    masked.into_iter().collect()
}

/// Positions in `chars` (from `from`) of the characters of `wanted` in
/// order, separated only by spaces or punctuation (`1101 0519 ...`); a
/// short value not inside an ASCII word.
fn find_printed(chars: &[char], from: usize, wanted: &[char]) -> Option<Vec<usize>> {
    let (&first, rest) = wanted.split_first()?;
    let bounded = wanted.len() <= SHORT_VALUE;
    (from..chars.len()).find_map(|start| {
        if fold(chars[start]) != fold(first)
            || bounded && inside_ascii_word(chars, start, first, -1)
        {
            return None;
        }
        let mut positions = vec![start];
        let mut k = start + 1;
        for &c in rest {
            while chars
                .get(k)
                .is_some_and(|&s| !s.is_alphanumeric() && fold(s) != fold(c))
            {
                k += 1;
            }
            if chars.get(k).map(|&s| fold(s)) != Some(fold(c)) {
                return None;
            }
            positions.push(k);
            k += 1;
        }
        let last = wanted.last().copied().unwrap_or(first);
        (!(bounded && inside_ascii_word(chars, k - 1, last, 1))).then_some(positions)
    })
}

/// Whether the neighbour of `chars[at]` in `direction` continues an ASCII
/// word or number that `c` belongs to.
fn inside_ascii_word(chars: &[char], at: usize, c: char, direction: isize) -> bool {
    let neighbour = at.checked_add_signed(direction).and_then(|n| chars.get(n));
    c.is_ascii_alphanumeric() && neighbour.is_some_and(|n| fold(*n).is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `text` is one of the labels kept by [`mask_line`].
    fn is_label(text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        crate::fields::labels::LABELS
            .iter()
            .any(|l| match_at(&chars, 0, l.text) == Some(chars.len()))
    }

    fn field(name: FieldName, value: &str, source: &str) -> Field {
        Field {
            name,
            value: value.to_string(),
            unit: None,
            line: 3,
            source: source.to_string(),
            confidence: 0.9,
            valid: Some(true),
        }
    }

    fn masked(name: FieldName, value: &str, source: &str) -> (String, String) {
        let m = mask_field(&field(name, value, source));
        (m.value, m.source)
    }

    #[test]
    fn id_number_keeps_region_and_tail() {
        assert_eq!(
            masked(
                FieldName::IdNumber,
                "11010519491231002X",
                "公民身份号码 11010519491231002X"
            ),
            (
                "110105********002X".to_string(),
                "公民身份号码 110105********002X".to_string()
            )
        );
    }

    #[test]
    fn id_number_printed_spaced_and_lower_case() {
        let (_, source) = masked(
            FieldName::IdNumber,
            "11010519491231002X",
            "公民身份号码 1101 0519 4912 3100 2x",
        );
        assert_eq!(source, "公民身份号码 1101 05** **** **00 2x");
    }

    #[test]
    fn document_number_keeps_first_and_last_two() {
        assert_eq!(
            masked(
                FieldName::DocumentNumber,
                "L898902C3",
                "Passport No. L898902C3"
            ),
            (
                "L******C3".to_string(),
                "Passport No. L******C3".to_string()
            )
        );
    }

    #[test]
    fn names_keep_each_word_initial() {
        assert_eq!(
            masked(FieldName::Name, "张三", "姓名 张 三"),
            ("张*".to_string(), "姓名 张 *".to_string())
        );
        assert_eq!(
            masked(
                FieldName::Name,
                "ERIKSSON ANNA MARIA",
                "ERIKSSON\nANNA MARIA"
            ),
            (
                "E******* A*** M****".to_string(),
                "E*******\nA*** M****".to_string()
            )
        );
    }

    #[test]
    fn birth_date_and_sex_hide_everything() {
        assert_eq!(
            masked(
                FieldName::BirthDate,
                "1949-12-31",
                "出生 1949 年 12 月 31 日"
            ),
            (
                "****-**-**".to_string(),
                "出生 **** * ** * ** *".to_string()
            )
        );
        assert_eq!(
            masked(FieldName::Sex, "M", "性别 男 民族 汉"),
            ("*".to_string(), "性别 * 民族 *".to_string())
        );
        assert_eq!(
            masked(FieldName::Sex, "F", "Sex/Sexe F"),
            ("*".to_string(), "Sex/Sexe *".to_string())
        );
    }

    #[test]
    fn source_shows_no_other_value() {
        let line = "姓名 张三 性别 男";
        assert_eq!(masked(FieldName::Sex, "M", line).1, "姓名 ** 性别 *");
        assert_eq!(masked(FieldName::Name, "张三", line).1, "姓名 张* 性别 *");
    }

    #[test]
    fn value_not_printed_masks_the_line() {
        // A birth date derived from the number on the line.
        let (_, source) = masked(
            FieldName::BirthDate,
            "1949-12-31",
            "公民身份号码 11010519491231002X",
        );
        assert_eq!(source, "公民身份号码 ******************");
        let (_, source) = masked(FieldName::BirthDate, "1990-01-01", "出生 1990 年 1 月 1 日");
        assert_eq!(source, "出生 **** * * * * *");
    }

    #[test]
    fn mrz_keeps_only_the_document_code_and_state() {
        let mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
        let (value, source) = masked(FieldName::Mrz, mrz, mrz);
        let expected = format!("P<UTO{}\n{}", "*".repeat(39), "*".repeat(44));
        assert_eq!(value, expected);
        assert_eq!(source, expected);
        // An element derived from the zone: its source is the zone.
        let (value, source) = masked(FieldName::Sex, "F", mrz);
        assert_eq!(value, "*");
        assert_eq!(source, expected);
    }

    #[test]
    fn other_fields_are_unchanged() {
        let f = field(
            FieldName::CreditCode,
            "91350100M000100Y43",
            "代码 91350100M000100Y43",
        );
        assert_eq!(mask_field(&f), f);
        let f = field(
            FieldName::ExpiryDate,
            "2035-03-01",
            "有效期限 2015.03.01-2035.03.01",
        );
        assert_eq!(mask_field(&f), f);
    }

    #[test]
    fn masked_field_keeps_its_place() {
        let m = mask_field(&field(FieldName::Name, "张三", "姓名 张三"));
        assert_eq!((m.line, m.valid, m.name), (3, Some(true), FieldName::Name));
    }

    #[test]
    fn lines_keep_labels_only() {
        assert_eq!(mask_line("姓名 张三"), "姓名 **");
        assert_eq!(mask_line("性别男 民族汉"), "性别* 民族*");
        assert_eq!(
            mask_line("出生 1949 年 12 月 31 日"),
            "出生 **** * ** * ** *"
        );
        assert_eq!(mask_line("住址 北京市东城区1号"), "住址 ********");
        assert_eq!(
            mask_line("公民身份号码 11010519491231002X"),
            "公民身份号码 ******************"
        );
        assert_eq!(mask_line("签发机关 某某公安局"), "签发机关 *****");
        assert_eq!(
            mask_line("有效期限 2015.03.01-2035.03.01"),
            "有效期限 ****.**.**-****.**.**"
        );
        assert_eq!(mask_line("Surname/Nom ERIKSSON"), "Surname/Nom ********");
        assert_eq!(
            mask_line("Date of birth 12 AUG 74"),
            "Date of birth ** *** **"
        );
        assert_eq!(
            mask_line("Passport No. L898902C3"),
            "Passport No. *********"
        );
        assert_eq!(
            mask_line("中华人民共和国 居民身份证"),
            "中华人民共和国 居民身份证"
        );
        assert_eq!(mask_line(""), "");
    }

    #[test]
    fn mrz_lines_keep_only_a_first_lines_code() {
        assert_eq!(
            mask_line("L898902C36UTO7408122F1204159ZE184226B<<<<<10"),
            "*".repeat(44)
        );
        assert_eq!(
            mask_line("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"),
            format!("P<UTO{}", "*".repeat(39))
        );
    }

    #[test]
    fn every_listed_label_is_kept() {
        for label in [
            "姓名",
            "性别",
            "民族",
            "出生",
            "住址",
            "公民身份号码",
            "签发机关",
            "有效期限",
        ] {
            assert!(is_label(label), "{label}");
        }
        for label in [
            "Surname",
            "Given names",
            "Nationality",
            "Date of birth",
            "Sex",
            "Passport No",
            "Date of expiry",
        ] {
            assert!(is_label(label), "{label}");
        }
    }
}
