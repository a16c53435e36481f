//! The pattern pass: fields found by their shape wherever they are. An
//! identity number gives its birth date and sex too; a credit code is
//! taken only when it passes its checks (a label vouches for the others);
//! an 18-digit run that fails both its identity-number checks is taken for
//! some other number.

use chrono::NaiveDate;

use super::found::{Found, Origin};
use super::{FieldName, credit_code, mrz, mrz_fields, prc_id};
use crate::evidence::EvidenceLine;

/// Every field found by its shape in `lines` (`normalised` holds their
/// NFKC text).
pub fn read_patterns(
    lines: &[EvidenceLine],
    normalised: &[String],
    today: NaiveDate,
) -> Vec<Found> {
    let texts: Vec<&str> = normalised.iter().map(String::as_str).collect();
    let mut in_mrz = vec![false; lines.len()];
    let mut out = Vec::new();
    for block in mrz::find_all(&texts, today) {
        let span = block.first_line..block.first_line + block.line_count;
        for flag in in_mrz.get_mut(span).unwrap_or_default() {
            *flag = true;
        }
        out.extend(mrz_fields::fields(&block, lines));
    }
    for (i, text) in normalised.iter().enumerate() {
        if !in_mrz.get(i).copied().unwrap_or(false) {
            out.extend(id_numbers(text, i, lines));
            out.extend(credit_codes(text, i, lines));
        }
    }
    out
}

fn id_numbers(text: &str, line: usize, lines: &[EvidenceLine]) -> Vec<Found> {
    let mut out = Vec::new();
    for id in prc_id::find_all(text) {
        let a_credit_code = credit_code::parse(&id.number).is_some_and(|c| c.valid());
        if !id.valid() && (a_credit_code || !(id.check_ok || id.date_ok)) {
            continue;
        }
        let valid = Some(id.valid());
        let found =
            |name, value: String, origin| Found::new(name, value, valid, origin, line, lines);
        out.push(found(
            FieldName::IdNumber,
            id.number.clone(),
            Origin::Pattern,
        ));
        out.push(found(
            FieldName::BirthDate,
            id.birth_date.clone(),
            Origin::Derived,
        ));
        out.push(found(FieldName::Sex, id.sex.to_string(), Origin::Derived));
    }
    out
}

fn credit_codes(text: &str, line: usize, lines: &[EvidenceLine]) -> Vec<Found> {
    credit_code::find_all(text)
        .into_iter()
        .filter(|code| code.valid())
        .filter(|code| !prc_id::parse(&code.code).is_some_and(|id| id.valid()))
        .map(|code| {
            Found::new(
                FieldName::CreditCode,
                code.code,
                Some(true),
                Origin::Pattern,
                line,
                lines,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(texts: &[&str]) -> Vec<(FieldName, String, Option<bool>, Origin)> {
        let lines: Vec<EvidenceLine> = texts
            .iter()
            .map(|t| EvidenceLine {
                text: t.to_string(),
                confidence: 1.0,
                rect: [0.0; 4],
            })
            .collect();
        let normalised: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        read_patterns(&lines, &normalised, today)
            .into_iter()
            .map(|f| (f.field.name, f.field.value, f.field.valid, f.origin))
            .collect()
    }

    #[test]
    fn id_number_with_birth_date_and_sex() {
        let found = read(&["号码 11010519491231002X"]);
        assert_eq!(
            found,
            vec![
                (
                    FieldName::IdNumber,
                    "11010519491231002X".into(),
                    Some(true),
                    Origin::Pattern
                ),
                (
                    FieldName::BirthDate,
                    "1949-12-31".into(),
                    Some(true),
                    Origin::Derived
                ),
                (FieldName::Sex, "F".into(), Some(true), Origin::Derived),
            ]
        );
    }

    #[test]
    fn failing_id_number_is_reported_invalid() {
        let found = read(&["110101199003074478"]);
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|f| f.2 == Some(false)));
    }

    #[test]
    fn random_digits_are_not_an_id_number() {
        assert!(read(&["账号 622202123456789012"]).is_empty());
    }

    #[test]
    fn digit_only_credit_code_is_a_credit_code() {
        let found = read(&["914403001922038216"]);
        assert_eq!(
            found,
            vec![(
                FieldName::CreditCode,
                "914403001922038216".into(),
                Some(true),
                Origin::Pattern
            )]
        );
    }

    #[test]
    fn invalid_unlabelled_credit_code_is_ignored() {
        assert!(read(&["91350100M000100Y44"]).is_empty());
    }
}
