//! Reading fitted MRZ lines of a known format into their elements, every
//! check digit verified: document number, birth date, expiry date, the
//! optional data (TD3) and the composite.

use chrono::NaiveDate;

use super::check::verify;
use super::elements::{Checked, char_at, code, date, document_number, name, sex, slice};
use super::format::MrzFormat;
use crate::fields::dates::Century;

/// A machine-readable zone and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mrz {
    /// Its format.
    pub format: MrzFormat,
    /// The lines as read (cleaned and fitted).
    pub lines: Vec<String>,
    /// Document code (`P`, `I`, `ID`, `V`, ...).
    pub document_code: String,
    /// Issuing state or organisation (ICAO code).
    pub issuing_state: String,
    /// Holder's name: primary identifier, then the secondary, spaced.
    pub name: String,
    /// Nationality (ICAO code).
    pub nationality: String,
    /// `M`, `F`, or `None` when unspecified.
    pub sex: Option<char>,
    /// Document number.
    pub document_number: Checked,
    /// Birth date, ISO (century from the pivot on `today`).
    pub birth_date: Checked,
    /// Expiry date, ISO (20YY).
    pub expiry_date: Checked,
    /// Whether the optional data's check digit passes (or it has none).
    pub optional_ok: bool,
    /// Whether the composite check digit passes (or it has none: visas).
    pub composite_ok: bool,
}

impl Mrz {
    /// Whether every check passes.
    pub fn valid(&self) -> bool {
        self.document_number.valid
            && self.birth_date.valid
            && self.expiry_date.valid
            && self.optional_ok
            && self.composite_ok
    }

    /// Whether it is a visa (no composite check digit).
    pub fn visa(&self) -> bool {
        self.document_code.starts_with('V')
    }
}

/// Reads `lines`, already fitted to `format`. Birth years are pivoted on
/// `today`. `None` when the line count is not the format's.
pub fn parse(format: MrzFormat, lines: &[String], today: NaiveDate) -> Option<Mrz> {
    match (format, lines) {
        (MrzFormat::Td1, [l1, l2, l3]) => Some(td1(l1, l2, l3, today)),
        (MrzFormat::Td2 | MrzFormat::Td3, [l1, l2]) => Some(two_line(format, l1, l2, today)),
        _ => None,
    }
}

fn td1(l1: &str, l2: &str, l3: &str, today: NaiveDate) -> Mrz {
    let composite = [
        slice(l1, 5..30),
        slice(l2, 0..7),
        slice(l2, 8..15),
        slice(l2, 18..29),
    ];
    Mrz {
        format: MrzFormat::Td1,
        lines: vec![l1.to_string(), l2.to_string(), l3.to_string()],
        document_code: code(slice(l1, 0..2)),
        issuing_state: code(slice(l1, 2..5)),
        name: name(slice(l3, 0..30)),
        nationality: code(slice(l2, 15..18)),
        sex: sex(char_at(l2, 7)),
        document_number: document_number(slice(l1, 5..14), char_at(l1, 14), slice(l1, 15..30)),
        birth_date: date(slice(l2, 0..6), char_at(l2, 6), Century::Past(today)),
        expiry_date: date(slice(l2, 8..14), char_at(l2, 14), Century::TwentyFirst),
        optional_ok: true,
        composite_ok: verify(&composite.concat(), char_at(l2, 29), false),
    }
}

fn two_line(format: MrzFormat, l1: &str, l2: &str, today: NaiveDate) -> Mrz {
    let w = format.width();
    let document_code = code(slice(l1, 0..2));
    let visa = document_code.starts_with('V');
    let optional_ok =
        visa || format != MrzFormat::Td3 || verify(slice(l2, 28..42), char_at(l2, 42), true);
    let composite = [slice(l2, 0..10), slice(l2, 13..20), slice(l2, 21..w - 1)];
    Mrz {
        format,
        lines: vec![l1.to_string(), l2.to_string()],
        issuing_state: code(slice(l1, 2..5)),
        name: name(slice(l1, 5..w)),
        nationality: code(slice(l2, 10..13)),
        sex: sex(char_at(l2, 20)),
        document_number: document_number(slice(l2, 0..9), char_at(l2, 9), slice(l2, 28..w - 1)),
        birth_date: date(slice(l2, 13..19), char_at(l2, 19), Century::Past(today)),
        expiry_date: date(slice(l2, 21..27), char_at(l2, 27), Century::TwentyFirst),
        optional_ok,
        composite_ok: visa || verify(&composite.concat(), char_at(l2, w - 1), false),
        document_code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|l| l.to_string()).collect()
    }

    // ICAO 9303 part 4 specimen.
    const TD3: [&str; 2] = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    // ICAO 9303 part 5 specimen.
    const TD1: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    // ICAO 9303 part 6 specimen.
    const TD2: [&str; 2] = [
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "D231458907UTO7408122F1204159<<<<<<<6",
    ];

    #[test]
    fn td3_specimen() {
        let mrz = parse(MrzFormat::Td3, &lines(&TD3), today()).unwrap();
        assert!(mrz.valid());
        assert_eq!(mrz.document_code, "P");
        assert_eq!(mrz.issuing_state, "UTO");
        assert_eq!(mrz.name, "ERIKSSON ANNA MARIA");
        assert_eq!(mrz.nationality, "UTO");
        assert_eq!(mrz.sex, Some('F'));
        assert_eq!(mrz.document_number.value, "L898902C3");
        assert_eq!(mrz.birth_date.value, "1974-08-12");
        assert_eq!(mrz.expiry_date.value, "2012-04-15");
    }

    #[test]
    fn td1_specimen() {
        let mrz = parse(MrzFormat::Td1, &lines(&TD1), today()).unwrap();
        assert!(mrz.valid());
        assert_eq!(mrz.document_code, "I");
        assert_eq!(mrz.document_number.value, "D23145890");
        assert_eq!(mrz.name, "ERIKSSON ANNA MARIA");
        assert_eq!(mrz.birth_date.value, "1974-08-12");
        assert_eq!(mrz.expiry_date.value, "2012-04-15");
        assert_eq!(mrz.sex, Some('F'));
    }

    #[test]
    fn td2_specimen() {
        let mrz = parse(MrzFormat::Td2, &lines(&TD2), today()).unwrap();
        assert!(mrz.valid());
        assert_eq!(mrz.document_number.value, "D23145890");
        assert_eq!(mrz.nationality, "UTO");
    }

    #[test]
    fn a_wrong_digit_fails_its_element_and_the_composite() {
        let bad = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408132F1204159ZE184226B<<<<<10",
        ];
        let mrz = parse(MrzFormat::Td3, &lines(&bad), today()).unwrap();
        assert!(!mrz.birth_date.valid);
        assert!(mrz.document_number.valid);
        assert!(mrz.expiry_date.valid);
        assert!(!mrz.composite_ok);
        assert!(!mrz.valid());
    }

    #[test]
    fn a_wrong_composite_alone_fails_the_zone_only() {
        let bad = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<11",
        ];
        let mrz = parse(MrzFormat::Td3, &lines(&bad), today()).unwrap();
        assert!(mrz.document_number.valid && mrz.birth_date.valid && mrz.expiry_date.valid);
        assert!(!mrz.composite_ok);
        assert!(!mrz.valid());
    }

    #[test]
    fn wrong_line_count_is_none() {
        assert!(parse(MrzFormat::Td1, &lines(&TD3), today()).is_none());
    }
}
