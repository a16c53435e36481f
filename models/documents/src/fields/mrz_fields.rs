//! The fields of an MRZ found among the lines: the zone itself (valid when
//! every check passes) and, derived from it, the name, nationality,
//! issuing state, document number, birth date, sex and expiry date, each
//! dated and numbered element valid when its own check digit passes. When
//! every check of the zone passes, its elements are [`Origin::Verified`]:
//! they win over what a label reads (`UTOPIAN` under `Nationality`), while
//! those without a check digit of their own keep `valid: None`.

use super::FieldName;
use super::found::{Found, Origin};
use super::mrz::MrzBlock;
use crate::evidence::EvidenceLine;

/// The fields of `block`, their source its lines as OCR'd joined by `\n`,
/// their confidence the least sure of those lines'.
pub fn fields(block: &MrzBlock, lines: &[EvidenceLine]) -> Vec<Found> {
    let span = lines
        .get(block.first_line..block.first_line + block.line_count)
        .unwrap_or_default();
    let source = span
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let confidence = span.iter().map(|l| l.confidence).fold(1.0_f32, f32::min);
    let found = |name, value: String, valid, origin| {
        Found::spanning(
            name,
            value,
            valid,
            origin,
            block.first_line,
            source.clone(),
            confidence,
        )
    };
    let zone_valid = block.mrz.as_ref().is_some_and(|m| m.valid());
    let mut out = vec![found(
        FieldName::Mrz,
        block.lines.join("\n"),
        Some(zone_valid),
        Origin::Pattern,
    )];
    let Some(mrz) = &block.mrz else {
        return out;
    };
    let derived = [
        (FieldName::Name, mrz.name.clone(), None),
        (FieldName::Nationality, mrz.nationality.clone(), None),
        (FieldName::IssuingState, mrz.issuing_state.clone(), None),
        (
            FieldName::DocumentNumber,
            mrz.document_number.value.clone(),
            Some(mrz.document_number.valid),
        ),
        (
            FieldName::BirthDate,
            mrz.birth_date.value.clone(),
            Some(mrz.birth_date.valid),
        ),
        (
            FieldName::Sex,
            mrz.sex.map(String::from).unwrap_or_default(),
            None,
        ),
        (
            FieldName::ExpiryDate,
            mrz.expiry_date.value.clone(),
            Some(mrz.expiry_date.valid),
        ),
    ];
    let origin = if zone_valid {
        Origin::Verified
    } else {
        Origin::Derived
    };
    out.extend(
        derived
            .into_iter()
            .filter(|(_, value, _)| !value.is_empty())
            .map(|(name, value, valid)| found(name, value, valid, origin)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::mrz::find_all;
    use chrono::NaiveDate;

    #[test]
    fn td3_specimen_fields() {
        let texts = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
        ];
        let lines: Vec<EvidenceLine> = texts
            .iter()
            .map(|t| EvidenceLine {
                text: t.to_string(),
                confidence: 0.5,
                rect: [0.0; 4],
            })
            .collect();
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let blocks = find_all(&texts, today);
        let found = fields(&blocks[0], &lines);
        let values: Vec<(FieldName, &str, Option<bool>)> = found
            .iter()
            .map(|f| (f.field.name, f.field.value.as_str(), f.field.valid))
            .collect();
        assert_eq!(
            values,
            vec![
                (FieldName::Mrz, &*texts.join("\n"), Some(true)),
                (FieldName::Name, "ERIKSSON ANNA MARIA", None),
                (FieldName::Nationality, "UTO", None),
                (FieldName::IssuingState, "UTO", None),
                (FieldName::DocumentNumber, "L898902C3", Some(true)),
                (FieldName::BirthDate, "1974-08-12", Some(true)),
                (FieldName::Sex, "F", None),
                (FieldName::ExpiryDate, "2012-04-15", Some(true)),
            ]
        );
        assert!(
            found
                .iter()
                .all(|f| f.field.line == 0 && (f.field.confidence - 0.4).abs() < 1e-6)
        );
        assert_eq!(found[1].field.source, texts.join("\n"));
        assert!(found[1..].iter().all(|f| f.origin == Origin::Verified));
    }

    #[test]
    fn a_failing_zone_only_derives() {
        let texts = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<11",
        ];
        let lines: Vec<EvidenceLine> = texts
            .iter()
            .map(|t| EvidenceLine {
                text: t.to_string(),
                confidence: 0.5,
                rect: [0.0; 4],
            })
            .collect();
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let found = fields(&find_all(&texts, today)[0], &lines);
        assert_eq!(found[0].field.valid, Some(false));
        assert!(found[1..].iter().all(|f| f.origin == Origin::Derived));
    }
}
