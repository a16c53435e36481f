//! Reading the value after a label, by the label's kind: free text, sex,
//! dates and periods, identity numbers, credit codes, codes and amounts.

use chrono::NaiveDate;

use super::FieldName;
use super::amounts::find_amount;
use super::dates::{Century, PERMANENT, PeriodEnd, Validity, find_date, find_validity};
use super::labels::{Kind, Label};
use super::text::{ascii_alnum_runs, collapse_spaces, trim_separators};
use super::{credit_code, prc_id};

/// Longest text value kept (names, company names).
const MAX_TEXT_CHARS: usize = 80;

/// One value read after a label.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The field it fills.
    pub name: FieldName,
    /// Its normalised value.
    pub value: String,
    /// The currency of an amount.
    pub unit: Option<String>,
    /// Whether its check passes, where it has one.
    pub valid: Option<bool>,
}

impl Reading {
    fn new(name: FieldName, value: impl Into<String>, valid: Option<bool>) -> Self {
        Self {
            name,
            value: value.into(),
            unit: None,
            valid,
        }
    }
}

/// What `value` (the text after `label`, NFKC) holds. `party` is the buyer
/// or seller whose block the label is in, if any. Surnames and given names
/// are returned as [`FieldName::Name`]; the caller joins them.
pub fn read(
    label: &Label,
    value: &str,
    party: Option<FieldName>,
    today: NaiveDate,
) -> Vec<Reading> {
    match label.kind {
        Kind::Text(name) => text(name, value).into_iter().collect(),
        Kind::Surname | Kind::GivenNames => text(FieldName::Name, value).into_iter().collect(),
        Kind::CompanyOrParty => text(party.unwrap_or(FieldName::CompanyName), value)
            .into_iter()
            .collect(),
        Kind::Sex => sex(value).into_iter().collect(),
        Kind::Date(name) => date(name, value, today).into_iter().collect(),
        Kind::Validity => validity(value),
        Kind::IdNumber => id_number(value).into_iter().collect(),
        Kind::CreditCode => credit(value).into_iter().collect(),
        Kind::Code(name) => code(name, value).into_iter().collect(),
        Kind::Amount(_) => amount(value, label.chinese()).into_iter().collect(),
        Kind::Party(_) | Kind::Other => Vec::new(),
    }
}

fn text(name: FieldName, value: &str) -> Option<Reading> {
    let value = collapse_spaces(trim_separators(value));
    let has_letters = value.chars().any(char::is_alphabetic);
    let short = value.chars().count() <= MAX_TEXT_CHARS;
    (has_letters && short).then(|| Reading::new(name, value, None))
}

fn sex(value: &str) -> Option<Reading> {
    let sex = if value.contains('男') {
        "M"
    } else if value.contains('女') {
        "F"
    } else {
        let word = value
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| !w.is_empty())?
            .to_ascii_uppercase();
        match word.as_str() {
            "M" | "MALE" => "M",
            "F" | "FEMALE" => "F",
            _ => return None,
        }
    };
    Some(Reading::new(FieldName::Sex, sex, None))
}

fn date(name: FieldName, value: &str, today: NaiveDate) -> Option<Reading> {
    let century = match name {
        FieldName::BirthDate => Century::Past(today),
        _ => Century::TwentyFirst,
    };
    if name == FieldName::ExpiryDate && find_validity(value) == Some(Validity::Permanent) {
        return Some(Reading::new(name, PERMANENT, Some(true)));
    }
    let date = find_date(value, Some(century))?;
    Some(Reading::new(name, date.value, Some(date.valid)))
}

fn validity(value: &str) -> Vec<Reading> {
    let expiry = |end: PeriodEnd| match end {
        PeriodEnd::Date(d) => Reading::new(FieldName::ExpiryDate, d.value, Some(d.valid)),
        PeriodEnd::Permanent => Reading::new(FieldName::ExpiryDate, PERMANENT, Some(true)),
    };
    match find_validity(value) {
        Some(Validity::Period { start, end }) => {
            let issue = Reading::new(FieldName::IssueDate, start.value, Some(start.valid));
            std::iter::once(issue).chain(end.map(expiry)).collect()
        }
        Some(Validity::Until(date)) => vec![expiry(PeriodEnd::Date(date))],
        Some(Validity::Permanent) => vec![expiry(PeriodEnd::Permanent)],
        None => Vec::new(),
    }
}

/// An identity number after its label: the number of the right shape,
/// else the longest run of 15-20 letters and digits, invalid.
fn id_number(value: &str) -> Option<Reading> {
    if let Some(id) = prc_id::find_all(value).into_iter().next() {
        let valid = Some(id.valid());
        return Some(Reading::new(FieldName::IdNumber, id.number, valid));
    }
    misshapen(FieldName::IdNumber, value)
}

/// A credit code after its label, as [`id_number`].
fn credit(value: &str) -> Option<Reading> {
    if let Some(code) = credit_code::find_all(value).into_iter().next() {
        let valid = Some(code.valid());
        return Some(Reading::new(FieldName::CreditCode, code.code, valid));
    }
    misshapen(FieldName::CreditCode, value)
}

fn misshapen(name: FieldName, value: &str) -> Option<Reading> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let run = ascii_alnum_runs(&compact)
        .into_iter()
        .filter(|r| (15..=20).contains(&r.len()))
        .max_by_key(|r| r.len())?;
    Some(Reading::new(name, run.to_ascii_uppercase(), Some(false)))
}

/// A document number (letters and digits, 5 or more, one digit at least),
/// invoice code (10-12 digits) or invoice number (8-20 digits).
fn code(name: FieldName, value: &str) -> Option<Reading> {
    let runs = ascii_alnum_runs(value);
    let found = match name {
        FieldName::InvoiceCode => runs.into_iter().find(|r| digits(r, 10..=12)),
        FieldName::InvoiceNumber => runs.into_iter().find(|r| digits(r, 8..=20)),
        _ => runs
            .into_iter()
            .find(|r| r.len() >= 5 && r.bytes().any(|b| b.is_ascii_digit())),
    }?;
    Some(Reading::new(name, found.to_ascii_uppercase(), None))
}

fn digits(run: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&run.len()) && run.bytes().all(|b| b.is_ascii_digit())
}

/// An amount; after a Chinese label without a currency shown, in yuan.
fn amount(value: &str, chinese_label: bool) -> Option<Reading> {
    let amount = find_amount(value)?;
    let unit = amount
        .unit
        .or_else(|| chinese_label.then(|| "CNY".to_string()));
    Some(Reading {
        unit,
        ..Reading::new(FieldName::TotalAmount, amount.value, None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::labels::LABELS;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    fn label(text: &str) -> &'static Label {
        LABELS.iter().find(|l| l.text == text).unwrap()
    }

    fn values(label_text: &str, value: &str) -> Vec<(FieldName, String, Option<bool>)> {
        read(label(label_text), value, None, today())
            .into_iter()
            .map(|r| (r.name, r.value, r.valid))
            .collect()
    }

    #[test]
    fn names_and_sex() {
        assert_eq!(
            values("姓名", ": 张 三"),
            vec![(FieldName::Name, "张三".into(), None)]
        );
        assert_eq!(
            values("性别", "男"),
            vec![(FieldName::Sex, "M".into(), None)]
        );
        assert_eq!(
            values("Sex", " F"),
            vec![(FieldName::Sex, "F".into(), None)]
        );
        assert!(values("Sex", " X").is_empty());
        assert!(values("姓名", " : ").is_empty());
    }

    #[test]
    fn dates_and_periods() {
        assert_eq!(
            values("出生", "1949年12月31日"),
            vec![(FieldName::BirthDate, "1949-12-31".into(), Some(true))]
        );
        assert_eq!(
            values("有效期限", "2015.03.01-2035.03.01"),
            vec![
                (FieldName::IssueDate, "2015-03-01".into(), Some(true)),
                (FieldName::ExpiryDate, "2035-03-01".into(), Some(true)),
            ]
        );
        assert_eq!(
            values("营业期限", "2015年03月01日 至 长期"),
            vec![
                (FieldName::IssueDate, "2015-03-01".into(), Some(true)),
                (FieldName::ExpiryDate, PERMANENT.into(), Some(true)),
            ]
        );
        assert_eq!(
            values("Date of expiry", " 15 APR 12"),
            vec![(FieldName::ExpiryDate, "2012-04-15".into(), Some(true))]
        );
    }

    #[test]
    fn numbers_and_codes() {
        assert_eq!(
            values("公民身份号码", "11010519491231002X"),
            vec![(FieldName::IdNumber, "11010519491231002X".into(), Some(true))]
        );
        assert_eq!(
            values("公民身份号码", "1101051949123100"),
            vec![(FieldName::IdNumber, "1101051949123100".into(), Some(false))]
        );
        assert_eq!(
            values("统一社会信用代码", "91350100M000100Y43"),
            vec![(
                FieldName::CreditCode,
                "91350100M000100Y43".into(),
                Some(true)
            )]
        );
        assert_eq!(
            values("发票代码", ":044031900111"),
            vec![(FieldName::InvoiceCode, "044031900111".into(), None)]
        );
        assert_eq!(
            values("Passport No", ". l898902c3"),
            vec![(FieldName::DocumentNumber, "L898902C3".into(), None)]
        );
    }

    #[test]
    fn amounts_default_to_yuan_after_chinese_labels() {
        let readings = read(label("合计"), " 1,000.00", None, today());
        assert_eq!(readings[0].value, "1000.00");
        assert_eq!(readings[0].unit.as_deref(), Some("CNY"));
        let readings = read(label("Total"), " 12.50", None, today());
        assert_eq!(readings[0].unit, None);
    }

    #[test]
    fn company_name_or_party() {
        let readings = read(
            label("名称"),
            ":某某有限公司",
            Some(FieldName::Buyer),
            today(),
        );
        assert_eq!(readings[0].name, FieldName::Buyer);
        let readings = read(label("名称"), ":某某有限公司", None, today());
        assert_eq!(readings[0].name, FieldName::CompanyName);
    }
}
