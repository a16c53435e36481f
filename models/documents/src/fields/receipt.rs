//! The shop on a till receipt: its seller.
//!
//! A till receipt prints no label before the shop's name: the name heads
//! the slip, alone on its line, with a title such as `收银小票` or
//! `RECEIPT` above or below it and the branch, address, phone, date and
//! cashier after it. The rule:
//!
//! - The page is a till receipt when one of its first [`HEAD_LINES`] lines
//!   is a receipt title, whole (`收银小票`, `购物小票`, `收据`,
//!   `RECEIPT`, `收银小票 RECEIPT`; a line merely mentioning `小票` is
//!   not).
//! - The seller is the first line of the head (the lines before the first
//!   one holding a label, at most [`HEAD_LINES`]) that is neither a title
//!   nor a greeting (`欢迎光临`, `WELCOME`) and reads as a name: letters,
//!   no date, at most a third digits, at most [`MAX_NAME_CHARS`]
//!   characters. The first line that is not a title but does not read as
//!   a name (a phone, a date) ends the search: the name is not printed
//!   above it.
//!
//! Found by its place rather than a label, it is less sure
//! ([`Origin::Pattern`]).

use super::FieldName;
use super::dates::find_date;
use super::found::{Found, Origin};
use super::labels::find_labels;
use super::text::collapse_spaces;
use super::text::trim_separators;
use crate::evidence::EvidenceLine;

/// How many lines at the top of a receipt hold its title and shop.
pub const HEAD_LINES: usize = 6;
/// Longest shop name kept.
pub const MAX_NAME_CHARS: usize = 60;
/// Titles of till receipts, spaces and case aside.
const TITLES: &[&str] = &[
    "收银小票",
    "购物小票",
    "销售小票",
    "结账小票",
    "小票",
    "收银单",
    "结账单",
    "购物清单",
    "收据",
    "收款收据",
    "RECEIPT",
    "SALESRECEIPT",
    "CASHRECEIPT",
    "TILLRECEIPT",
];
/// Greetings printed at the top of a receipt, spaces and case aside.
const GREETINGS: &[&str] = &["欢迎光临", "欢迎惠顾", "WELCOME"];

/// The seller of a till receipt among `lines` (`normalised`: their NFKC
/// text), when they are one and the name is printed.
pub fn read_shop(lines: &[EvidenceLine], normalised: &[String]) -> Option<Found> {
    let head: Vec<&String> = normalised
        .iter()
        .take(HEAD_LINES)
        .take_while(|text| find_labels(&text.chars().collect::<Vec<_>>()).is_empty())
        .collect();
    let titled = normalised
        .iter()
        .take(HEAD_LINES)
        .any(|text| made_of(text, TITLES));
    if !titled {
        return None;
    }
    let (at, text) = head
        .iter()
        .enumerate()
        .find(|(_, text)| !made_of(text, TITLES) && !made_of(text, GREETINGS))?;
    let name = collapse_spaces(trim_separators(text));
    reads_as_name(&name)
        .then(|| Found::new(FieldName::Seller, name, None, Origin::Pattern, at, lines))
}

/// Whether `text` is nothing but words of `words` (spaces, punctuation
/// and case aside), one at least.
fn made_of(text: &str, words: &[&str]) -> bool {
    let mut rest: String = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let Some(word) = words
            .iter()
            .filter(|w| rest.starts_with(*w))
            .max_by_key(|w| w.len())
        else {
            return false;
        };
        rest.drain(..word.len());
    }
    true
}

/// Whether `text` reads as a shop's name: letters, no date, at most a
/// third digits, not too long.
fn reads_as_name(text: &str) -> bool {
    let alnum = text.chars().filter(|c| c.is_alphanumeric()).count();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    text.chars().any(char::is_alphabetic)
        && digits * 3 <= alnum
        && text.chars().count() <= MAX_NAME_CHARS
        && find_date(text, None).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(texts: &[&str]) -> Option<(String, usize)> {
        let lines: Vec<EvidenceLine> = texts
            .iter()
            .map(|t| EvidenceLine {
                text: t.to_string(),
                confidence: 1.0,
                rect: [0.0; 4],
            })
            .collect();
        let normalised: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        read_shop(&lines, &normalised).map(|f| (f.field.value, f.field.line))
    }

    #[test]
    fn the_line_after_the_title() {
        assert_eq!(
            shop(&[
                "收银小票",
                "百佳鲜超市 BESTFRESH MART",
                "北京朝阳门店 Store 0217",
                "TEL: 010-8562 0217",
                "日期 Date: 2026-11-28 10:26:53",
            ]),
            Some(("百佳鲜超市 BESTFRESH MART".to_string(), 1))
        );
    }

    #[test]
    fn the_line_before_the_title() {
        assert_eq!(
            shop(&["GREEN GROCER", "SALES RECEIPT", "12 High Street"]),
            Some(("GREEN GROCER".to_string(), 0))
        );
        assert_eq!(
            shop(&["欢迎光临", "联华超市", "购物小票"]),
            Some(("联华超市".to_string(), 1))
        );
    }

    #[test]
    fn no_title_no_receipt() {
        assert_eq!(shop(&["CAFE", "TOTAL: USD 12.50"]), None);
        assert_eq!(
            shop(&["9:41", "好的，金额¥1,130.00", "退换货请保留小票"]),
            None
        );
    }

    #[test]
    fn no_name_above_a_label_or_a_date() {
        assert_eq!(shop(&["收银小票", "日期: 2026-11-28", "某某超市"]), None);
        assert_eq!(shop(&["RECEIPT", "2026-11-28 10:26", "某某超市"]), None);
    }
}
