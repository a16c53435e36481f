//! Fields as found, with how they were found, and the rules that settle
//! them into the final list: the best-ranked totals only, confirmed values
//! (from a machine-readable zone whose check digits all pass, or a derived
//! value that passed its own check) over printed ones, labelled values
//! over derived ones, no two fields with the same name and value, ordered
//! by line.

use std::collections::HashSet;

use super::{Field, FieldName};
use crate::evidence::EvidenceLine;

/// How much less sure a field is when found by its shape or derived from
/// another field rather than read after its label.
pub const UNLABELLED_FACTOR: f32 = 0.8;

/// How a field was found, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// An element of a machine-readable zone whose check digits all pass
    /// (document number, dates, optional data, composite): the zone was
    /// read as printed, so every element of it was, including those
    /// without a check digit of their own (name, nationality, sex). Its
    /// `valid` stays what its own check says (`None` without one).
    Verified,
    /// Read after its label.
    Labelled,
    /// Found by its shape (an identity number, a credit code, an MRZ).
    Pattern,
    /// Derived from another field (birth date and sex from an identity
    /// number, the elements of an MRZ).
    Derived,
}

/// A field as found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The field.
    pub field: Field,
    /// How it was found.
    pub origin: Origin,
    /// For totals, the label's rank (lower is better); 0 otherwise.
    pub rank: u8,
}

impl Found {
    /// A field read from `lines[line]`, its confidence that line's, lowered
    /// when not labelled.
    pub fn new(
        name: FieldName,
        value: String,
        valid: Option<bool>,
        origin: Origin,
        line: usize,
        lines: &[EvidenceLine],
    ) -> Self {
        let (source, confidence) = lines
            .get(line)
            .map_or((String::new(), 0.0), |l| (l.text.clone(), l.confidence));
        Self::spanning(name, value, valid, origin, line, source, confidence)
    }

    /// A field whose source is given (several lines joined).
    pub fn spanning(
        name: FieldName,
        value: String,
        valid: Option<bool>,
        origin: Origin,
        line: usize,
        source: String,
        confidence: f32,
    ) -> Self {
        let factor = if origin == Origin::Labelled {
            1.0
        } else {
            UNLABELLED_FACTOR
        };
        Self {
            field: Field {
                name,
                value,
                unit: None,
                line,
                source,
                confidence: confidence * factor,
                valid,
            },
            origin,
            rank: 0,
        }
    }
}

impl Found {
    /// Whether a check vouches for it: a verified MRZ element, or a value
    /// derived from a field whose check passed (a valid ID number's birth
    /// date and sex, an MRZ element whose own check digit passes).
    fn confirmed(&self) -> bool {
        self.origin == Origin::Verified
            || (self.origin == Origin::Derived && self.field.valid == Some(true))
    }
}

/// The final fields: totals of the best rank found; a confirmed value
/// (see [`Found::confirmed`]) over printed labelled values of that name
/// and over unconfirmed derived ones, otherwise labelled values over
/// derived ones; of fields with the same name and value, the printed one
/// (it names the line the value is printed on), then the most trusted,
/// then the earliest; ordered by line, name, origin.
pub fn settle(found: Vec<Found>) -> Vec<Field> {
    let best_total = found
        .iter()
        .filter(|f| f.field.name == FieldName::TotalAmount)
        .map(|f| f.rank)
        .min();
    let labelled: HashSet<FieldName> = found
        .iter()
        .filter(|f| f.origin == Origin::Labelled)
        .map(|f| f.field.name)
        .collect();
    let checked: HashSet<(FieldName, &str)> = found
        .iter()
        .filter(|f| f.confirmed())
        .map(|f| (f.field.name, f.field.value.as_str()))
        .collect();
    let checked_names: HashSet<FieldName> = checked.iter().map(|(name, _)| *name).collect();
    // A printed value the check confirms is kept (it names the printed
    // line); one it contradicts gives way.
    let keep_labelled: Vec<bool> = found
        .iter()
        .map(|f| {
            !checked_names.contains(&f.field.name)
                || checked.contains(&(f.field.name, f.field.value.as_str()))
        })
        .collect();
    let mut kept: Vec<Found> = found
        .into_iter()
        .zip(keep_labelled)
        .filter(|(f, _)| f.field.name != FieldName::TotalAmount || Some(f.rank) == best_total)
        .filter(|(f, keep)| match f.origin {
            Origin::Derived => {
                f.confirmed()
                    || !(labelled.contains(&f.field.name) || checked_names.contains(&f.field.name))
            }
            Origin::Labelled => *keep,
            Origin::Verified | Origin::Pattern => true,
        })
        .map(|(f, _)| f)
        .collect();
    kept.sort_by_key(|f| (f.origin != Origin::Labelled, f.origin, f.field.line));
    let mut seen = HashSet::new();
    kept.retain(|f| seen.insert((f.field.name, f.field.value.clone())));
    kept.sort_by_key(|f| (f.field.line, f.field.name, f.origin));
    kept.into_iter().map(|f| f.field).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<EvidenceLine> {
        (0..3)
            .map(|i| EvidenceLine {
                text: format!("line {i}"),
                confidence: 0.9,
                rect: [0.0; 4],
            })
            .collect()
    }

    fn found(name: FieldName, value: &str, origin: Origin, line: usize) -> Found {
        Found::new(name, value.to_string(), None, origin, line, &lines())
    }

    #[test]
    fn unlabelled_fields_are_less_sure() {
        let f = found(FieldName::IdNumber, "x", Origin::Pattern, 1);
        assert!((f.field.confidence - 0.72).abs() < 1e-6);
        assert_eq!(f.field.source, "line 1");
        let f = found(FieldName::IdNumber, "x", Origin::Labelled, 1);
        assert!((f.field.confidence - 0.9).abs() < 1e-6);
    }

    #[test]
    fn duplicates_keep_the_most_trusted() {
        let fields = settle(vec![
            found(FieldName::IdNumber, "1", Origin::Pattern, 2),
            found(FieldName::IdNumber, "1", Origin::Labelled, 2),
        ]);
        assert_eq!(fields.len(), 1);
        assert!((fields[0].confidence - 0.9).abs() < 1e-6);
    }

    #[test]
    fn labels_override_derived_values() {
        let fields = settle(vec![
            found(FieldName::BirthDate, "1949-12-31", Origin::Derived, 2),
            found(FieldName::BirthDate, "1949-12-30", Origin::Labelled, 1),
            found(FieldName::Sex, "F", Origin::Derived, 2),
        ]);
        let values: Vec<&str> = fields.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(values, vec!["1949-12-30", "F"]);
    }

    #[test]
    fn verified_zone_elements_beat_printed_values() {
        // A passport: the printed nationality is the word, the zone's the
        // code; a zone whose check digits all pass was read as printed.
        let fields = settle(vec![
            found(FieldName::Nationality, "UTOPIAN", Origin::Labelled, 1),
            found(FieldName::Nationality, "UTO", Origin::Verified, 2),
            found(FieldName::Name, "ERIKSSON ANNA", Origin::Labelled, 0),
            found(FieldName::Name, "ERIKSSON ANNA", Origin::Verified, 2),
        ]);
        let values: Vec<(&str, usize, Option<bool>)> = fields
            .iter()
            .map(|f| (f.value.as_str(), f.line, f.valid))
            .collect();
        // The confirmed printed name is kept for its line; no validity is
        // claimed for elements without a check digit.
        assert_eq!(values, vec![("ERIKSSON ANNA", 0, None), ("UTO", 2, None)]);
    }

    #[test]
    fn unverified_zone_elements_give_way_to_labels() {
        let fields = settle(vec![
            found(FieldName::Nationality, "UTOPIAN", Origin::Labelled, 1),
            found(FieldName::Nationality, "UT0", Origin::Derived, 2),
        ]);
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].value, "UTOPIAN");
    }

    #[test]
    fn only_the_best_totals() {
        let mut best = found(FieldName::TotalAmount, "1130.00", Origin::Labelled, 2);
        best.rank = 0;
        let mut worse = found(FieldName::TotalAmount, "1000.00", Origin::Labelled, 1);
        worse.rank = 1;
        let fields = settle(vec![worse, best]);
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].value, "1130.00");
    }
}
