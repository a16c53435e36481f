//! Field labels (`姓名`, `Date of birth`, `价税合计`, ...) and finding them
//! in a line. A label's value runs from its end (past a `/Nom`-style
//! translation) to the next label or the end of the line.
//!
//! Matching folds width and ASCII case, and lets spaces fall between the
//! characters of a Chinese label (`姓 名`). An ASCII label only matches
//! whole words. A label followed by its translation of the same kind
//! (`合计 TOTAL`, `日期 Date:`) is one label: the value follows the
//! translation.

pub mod table;

use crate::fields::FieldName;
use crate::fields::text::{fold, is_word_char};

pub use table::{LABELS, TITLES};

/// What a label's value is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text (names, company names, nationality).
    Text(FieldName),
    /// A surname, joined with the given names when both are found.
    Surname,
    /// Given names, joined after the surname.
    GivenNames,
    /// `男`/`女`, `M`/`F`.
    Sex,
    /// A date.
    Date(FieldName),
    /// A validity period: start -> issue date, end -> expiry date.
    Validity,
    /// A PRC identity number.
    IdNumber,
    /// A unified social credit code.
    CreditCode,
    /// A document, invoice code or invoice number.
    Code(FieldName),
    /// A total amount; a lower rank is a better total (`价税合计` 0,
    /// `合计` 1, `金额` 2).
    Amount(u8),
    /// `名称`: the buyer's or seller's name after their party label, else a
    /// company name.
    CompanyOrParty,
    /// `购买方`, `销售方`: the party whose names follow.
    Party(FieldName),
    /// A label with no field: only ends the value before it.
    Other,
}

/// A label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    /// As printed (a space matches any run of whitespace).
    pub text: &'static str,
    /// What its value is.
    pub kind: Kind,
    /// Whether it only counts at the start of a line, after a separator or
    /// right after another label.
    pub boundary: bool,
    /// Whether its value may be on the next line when none follows it.
    pub next_line: bool,
}

impl Label {
    /// Whether it is a Chinese label.
    pub fn chinese(&self) -> bool {
        !self.text.is_ascii()
    }
}

/// A label found in a line: character indices of its start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelHit {
    /// The label.
    pub label: &'static Label,
    /// Index of its first character.
    pub start: usize,
    /// Index just past it.
    pub end: usize,
}

/// Every label in `chars`, left to right, the longest at each place, not
/// overlapping. A label's translation (`姓名/Name`, `Sex/Sexe`) is part of
/// it, not another label.
pub fn find_labels(chars: &[char]) -> Vec<LabelHit> {
    let mut hits: Vec<LabelHit> = Vec::new();
    let mut label_end: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let after_label =
            label_end.is_some_and(|end| chars[end.min(i)..i].iter().all(|c| c.is_whitespace()));
        match longest_at(chars, i, after_label) {
            Some(hit) => {
                let end = value_start(chars, hit.end).max(hit.end);
                i = end;
                label_end = Some(end);
                match hits.last_mut() {
                    Some(prev) if translates(chars, prev, &hit) => prev.end = hit.end,
                    _ => hits.push(hit),
                }
            }
            None => i += 1,
        }
    }
    hits
}

/// Whether `hit` translates `prev`, the label just before it (`合计
/// TOTAL`, `日期 Date:`, `合计/TOTAL`): the same kind of label in the other
/// language, only spaces or a `/` between.
fn translates(chars: &[char], prev: &LabelHit, hit: &LabelHit) -> bool {
    let gap = chars
        .get(value_start(chars, prev.end).min(hit.start)..hit.start)
        .unwrap_or_default();
    prev.label.kind == hit.label.kind
        && prev.label.chinese() != hit.label.chinese()
        && gap.iter().all(|c| c.is_whitespace() || *c == '/')
}

/// Where the value of a label ending at `end` starts: past a translation
/// of the label (`/Nom`, `/Date de naissance`: words with a lower-case
/// letter after a `/`).
pub fn value_start(chars: &[char], end: usize) -> usize {
    let mut i = end;
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    if chars.get(i) != Some(&'/') {
        return end;
    }
    i += 1;
    loop {
        let word_start = i;
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        let word_end = i + chars[i.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_alphabetic() || **c == '\'')
            .count();
        if !chars[i.min(chars.len())..word_end.min(chars.len())]
            .iter()
            .any(|c| c.is_lowercase())
        {
            return word_start;
        }
        i = word_end;
    }
}

fn longest_at(chars: &[char], at: usize, after_label: bool) -> Option<LabelHit> {
    if !may_start(chars, at, after_label, false) {
        return None;
    }
    LABELS
        .iter()
        .filter(|label| !label.boundary || may_start(chars, at, after_label, true))
        .filter_map(|label| {
            let end = match_at(chars, at, label.text)?;
            Some(LabelHit {
                label,
                start: at,
                end,
            })
        })
        .max_by_key(|hit| (hit.end, std::cmp::Reverse(hit.label.text.len())))
}

/// Whether a label may start at `at`: not inside an ASCII word; for a
/// bounded label, not inside any word unless right after another label.
fn may_start(chars: &[char], at: usize, after_label: bool, bounded: bool) -> bool {
    let Some(prev) = at.checked_sub(1).and_then(|p| chars.get(p)) else {
        return true;
    };
    let first = chars.get(at).copied().unwrap_or(' ');
    if first.is_ascii_alphanumeric() && prev.is_ascii_alphanumeric() {
        return false;
    }
    !bounded || after_label || !is_word_char(*prev)
}

/// Where `label` ends when it starts at `chars[at]`.
pub fn match_at(chars: &[char], at: usize, label: &str) -> Option<usize> {
    let mut i = at;
    let mut prev: Option<char> = None;
    for lc in label.chars() {
        if lc == ' ' {
            let spaces = chars[i.min(chars.len())..]
                .iter()
                .take_while(|c| c.is_whitespace())
                .count();
            if spaces == 0 {
                return None;
            }
            i += spaces;
        } else {
            if prev.is_some_and(|p| !p.is_ascii()) && !lc.is_ascii() {
                while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                    i += 1;
                }
            }
            if chars.get(i).map(|&c| fold(c)) != Some(fold(lc)) {
                return None;
            }
            i += 1;
        }
        prev = Some(lc);
    }
    let ends_word = label
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if ends_word && chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<(&'static str, String)> {
        let chars: Vec<char> = text.chars().collect();
        let hits = find_labels(&chars);
        hits.iter()
            .enumerate()
            .map(|(k, hit)| {
                let end = hits.get(k + 1).map_or(chars.len(), |h| h.start);
                let start = value_start(&chars, hit.end).min(end);
                (hit.label.text, chars[start..end].iter().collect::<String>())
            })
            .collect()
    }

    #[test]
    fn several_labels_on_a_line() {
        assert_eq!(
            labels("性别男民族汉"),
            vec![("性别", "男".to_string()), ("民族", "汉".to_string())]
        );
    }

    #[test]
    fn spaced_and_full_width_labels() {
        assert_eq!(labels("姓 名：张三"), vec![("姓名", "：张三".to_string())]);
        assert_eq!(labels("ＮＡＭＥ Ｘ"), vec![("Name", " Ｘ".to_string())]);
    }

    #[test]
    fn longest_label_wins() {
        assert_eq!(labels("价税合计 ¥1")[0].0, "价税合计");
        assert_eq!(labels("出生日期 x")[0].0, "出生日期");
        assert_eq!(labels("有效期限 x")[0].0, "有效期限");
    }

    #[test]
    fn ascii_labels_match_whole_words() {
        assert!(labels("Surname").iter().all(|(l, _)| *l == "Surname"));
        assert!(labels("Sexe").is_empty());
        assert_eq!(labels("Subtotal 3")[0].0, "Subtotal");
    }

    #[test]
    fn bounded_labels_not_inside_words() {
        assert!(labels("服务名称").is_empty());
        assert_eq!(labels("名 称：某公司")[0].0, "名称");
        assert_eq!(labels("购买方 名称:X")[0].0, "购买方名称");
        assert_eq!(labels("购买方信息 名称:X")[1].0, "名称");
        assert_eq!(labels("购买方名称:X")[0].0, "购买方名称");
    }

    #[test]
    fn bilingual_labels_are_one() {
        assert_eq!(labels("合计 TOTAL"), vec![("合计", String::new())]);
        assert_eq!(
            labels("日期 Date: 2026-11-28 10:26:53"),
            vec![("日期", ": 2026-11-28 10:26:53".to_string())]
        );
        assert_eq!(labels("合计/TOTAL 9.00")[0], ("合计", " 9.00".to_string()));
        // Labels of different kinds stay apart.
        assert_eq!(labels("合计 Tax").len(), 2);
    }

    #[test]
    fn translations_are_skipped() {
        assert_eq!(
            labels("Surname/Nom ERIKSSON"),
            vec![("Surname", " ERIKSSON".to_string())]
        );
        assert_eq!(
            labels("Date of birth/Date de naissance 12 AUG 74"),
            vec![("Date of birth", " 12 AUG 74".to_string())]
        );
        assert_eq!(labels("Sex/Sexe F"), vec![("Sex", " F".to_string())]);
    }
}
