//! Unified social credit codes (统一社会信用代码, GB 32100-2015): 18
//! characters of `0-9` and the capitals without `I O Z S V`, the last a
//! MOD 31 check character. Characters 9-17 are the organisation code
//! (GB 11714-1997) with its own MOD 11 check character; both are verified.

use super::text::ascii_alnum_runs;

/// The code's alphabet; a character's value is its index.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the 17 body characters.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// Weights of the organisation code's 8 body characters.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A credit code read from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode {
    /// The 18 characters, upper-case.
    pub code: String,
    /// Whether the MOD 31 check character matches.
    pub check_ok: bool,
    /// Whether the embedded organisation code's check character matches.
    pub org_code_ok: bool,
}

impl CreditCode {
    /// Whether the code passes both checks.
    pub fn valid(&self) -> bool {
        self.check_ok && self.org_code_ok
    }
}

/// The check character for 17 body characters, `None` when `body` is not
/// 17 characters of [`ALPHABET`].
pub fn check_char(body: &str) -> Option<char> {
    if body.chars().count() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, weight) in body.chars().zip(WEIGHTS) {
        sum += value(c)? * weight;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(check as usize)
}

/// Whether a 9-character organisation code (GB 11714: 8 digits or capitals
/// and a check character `0`-`9` or `X`) passes its check.
pub fn org_code_ok(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    let [body @ .., last] = chars.as_slice() else {
        return false;
    };
    if body.len() != 8 {
        return false;
    }
    let mut sum = 0;
    for (&c, weight) in body.iter().zip(ORG_WEIGHTS) {
        let Some(v) = c
            .to_digit(36)
            .filter(|_| c.is_ascii_digit() || c.is_ascii_uppercase())
        else {
            return false;
        };
        sum += v * weight;
    }
    let expected = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('?'),
    };
    *last == expected
}

/// Reads `candidate` as a credit code: 18 characters of [`ALPHABET`]
/// (lower-case accepted). `None` when it does not have that shape.
pub fn parse(candidate: &str) -> Option<CreditCode> {
    let code = candidate.to_ascii_uppercase();
    if code.chars().count() != 18 || !code.chars().all(|c| value(c).is_some()) {
        return None;
    }
    let (body, last) = code.split_at(17);
    let check_ok = check_char(body).is_some_and(|c| last.starts_with(c));
    let org_code_ok = org_code_ok(&code[8..17]);
    Some(CreditCode {
        code,
        check_ok,
        org_code_ok,
    })
}

/// Every run of 18 ASCII letters and digits in `text` shaped like a credit
/// code (checks not applied: see [`CreditCode::valid`]).
pub fn find_all(text: &str) -> Vec<CreditCode> {
    ascii_alnum_runs(text)
        .into_iter()
        .filter_map(parse)
        .collect()
}

fn value(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of GB 32100-2015 and codes printed on public licences.
    const VALID: [&str; 4] = [
        "91350100M000100Y43",
        "9144030071526726XG",
        "914403001922038216",
        "91110108551385082Q",
    ];

    #[test]
    fn published_codes_pass() {
        for code in VALID {
            let parsed = parse(code).unwrap();
            assert!(parsed.valid(), "{code}");
        }
    }

    #[test]
    fn check_character_of_the_standard_example() {
        assert_eq!(check_char("91350100M000100Y4"), Some('3'));
    }

    #[test]
    fn organisation_code_check() {
        assert!(org_code_ok("M000100Y4"));
        assert!(!org_code_ok("M000100Y5"));
        assert!(org_code_ok("71526726X"));
        assert!(!org_code_ok("7152672"));
    }

    #[test]
    fn altered_code_fails() {
        let parsed = parse("91350100M000100Y44").unwrap();
        assert!(!parsed.check_ok);
        assert!(!parsed.valid());
        assert_eq!(parsed.code, "91350100M000100Y44");
    }

    #[test]
    fn letters_outside_the_alphabet_are_not_codes() {
        assert!(parse("91350100M000100I43").is_none());
        assert!(parse("91350100M000100Y4").is_none());
    }

    #[test]
    fn lower_case_is_located() {
        let found = find_all("统一社会信用代码：91350100m000100y43");
        assert_eq!(found.len(), 1);
        assert!(found[0].valid());
    }
}
