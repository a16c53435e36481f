//! Money amounts as printed on invoices and receipts: `¥1,130.00`,
//! `￥1130.00`, `(小写)¥1130.00`, `12.50`, `USD 12.50`, `¥ 1,000.00`,
//! `12,50 €`. The value is a plain decimal (`1130.00`), the unit an ISO
//! 4217 code from the symbol or code printed (`¥`, `￥`, `元`, `RMB` ->
//! `CNY`; `$` -> `USD` unless a code says otherwise).
//!
//! Text is expected in NFKC (`￥` is then `¥`).

/// An amount read from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    /// Plain decimal: no grouping, `.` for the decimal point.
    pub value: String,
    /// ISO 4217 currency code, when the text shows one.
    pub unit: Option<String>,
}

/// Currency codes recognised as words, with the code they stand for.
const CODES: [(&str, &str); 14] = [
    ("CNY", "CNY"),
    ("RMB", "CNY"),
    ("USD", "USD"),
    ("EUR", "EUR"),
    ("GBP", "GBP"),
    ("JPY", "JPY"),
    ("HKD", "HKD"),
    ("TWD", "TWD"),
    ("KRW", "KRW"),
    ("SGD", "SGD"),
    ("AUD", "AUD"),
    ("CAD", "CAD"),
    ("CHF", "CHF"),
    ("MOP", "MOP"),
];

/// The amount in `text`, the number that looks most like money: the one
/// right after a currency symbol or code when there is one, else the first
/// with two decimals (`86.50`; a quantity or a count has none), else the
/// first with a decimal point, else the first number. `None` when `text`
/// holds no number.
pub fn find_amount(text: &str) -> Option<Amount> {
    let chars: Vec<char> = text.chars().collect();
    let numbers = numbers(&chars);
    let marked = numbers.iter().find(|n| follows_currency(&chars, n.start));
    let chosen = marked
        .or_else(|| numbers.iter().find(|n| has_cents(n)))
        .or_else(|| numbers.iter().find(|n| n.value.contains('.')))
        .or_else(|| numbers.first())?;
    Some(Amount {
        value: chosen.value.clone(),
        unit: unit(text),
    })
}

/// The amount in `text` when it looks like money: a number after a
/// currency symbol or code, or one with two decimals. `None` for bare
/// counts and quantities (`9`, `1.5`).
pub fn find_money(text: &str) -> Option<Amount> {
    let chars: Vec<char> = text.chars().collect();
    let numbers = numbers(&chars);
    let chosen = numbers
        .iter()
        .find(|n| follows_currency(&chars, n.start))
        .or_else(|| numbers.iter().find(|n| has_cents(n)))?;
    Some(Amount {
        value: chosen.value.clone(),
        unit: unit(text),
    })
}

/// The currency `text` names: a code word first, then a symbol.
pub fn unit(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let words = upper.split(|c: char| !c.is_ascii_alphabetic());
    for word in words {
        if let Some((_, code)) = CODES.iter().find(|(w, _)| *w == word) {
            return Some(code.to_string());
        }
    }
    let symbol_code = if upper.contains("HK$") {
        "HKD"
    } else if upper.contains('$') {
        "USD"
    } else if upper.contains(['¥', '元', '圆']) {
        "CNY"
    } else if upper.contains('€') {
        "EUR"
    } else if upper.contains('£') {
        "GBP"
    } else {
        return None;
    };
    Some(symbol_code.to_string())
}

/// A number in the text: where it starts and its plain value.
struct Number {
    start: usize,
    value: String,
}

fn numbers(chars: &[char]) -> Vec<Number> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit());
        if !starts {
            i += 1;
            continue;
        }
        let len = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || matches!(c, ',' | '.'))
            .count();
        let printed: String = chars[i..i + len].iter().collect();
        if let Some(value) = plain_decimal(printed.trim_end_matches([',', '.'])) {
            found.push(Number { start: i, value });
        }
        i += len;
    }
    found
}

/// Whether a number has two decimals, as money has.
fn has_cents(number: &Number) -> bool {
    number
        .value
        .split_once('.')
        .is_some_and(|(_, fraction)| fraction.len() == 2)
}

/// Whether a currency symbol or code stands just before `at` (spaces
/// aside).
fn follows_currency(chars: &[char], at: usize) -> bool {
    let before: String = chars[..at].iter().collect();
    let before = before.trim_end().to_ascii_uppercase();
    before.ends_with(['¥', '$', '€', '£'])
        || CODES.iter().any(|(word, _)| {
            before.ends_with(word)
                && !before[..before.len() - word.len()].ends_with(|c: char| c.is_ascii_alphabetic())
        })
}

/// `printed` (digits, `,` and `.`) as a plain decimal: the last separator
/// followed by 1-2 digits is the decimal point, every other one groups.
fn plain_decimal(printed: &str) -> Option<String> {
    let last_sep = printed.rfind([',', '.']);
    let (int_part, fraction) = match last_sep {
        Some(at) if (1..=2).contains(&(printed.len() - at - 1)) => {
            (&printed[..at], Some(&printed[at + 1..]))
        }
        // A lone `.` before 3+ digits is still a decimal point (`0.125`);
        // a `,` there groups thousands.
        Some(at) if printed[at..].starts_with('.') && printed.matches('.').count() == 1 => {
            (&printed[..at], Some(&printed[at + 1..]))
        }
        _ => (printed, None),
    };
    let digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_start_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    match fraction {
        Some(f) if f.chars().all(|c| c.is_ascii_digit()) => Some(format!("{digits}.{f}")),
        Some(_) => None,
        None => Some(digits.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::text::normalise;

    fn read(text: &str) -> Option<(String, Option<String>)> {
        find_amount(&normalise(text)).map(|a| (a.value, a.unit))
    }

    fn cny(value: &str) -> Option<(String, Option<String>)> {
        Some((value.to_string(), Some("CNY".to_string())))
    }

    #[test]
    fn chinese_amounts() {
        assert_eq!(read("¥1,130.00"), cny("1130.00"));
        assert_eq!(read("￥1130.00"), cny("1130.00"));
        assert_eq!(
            read("（大写）壹仟壹佰叁拾元整（小写）¥1130.00"),
            cny("1130.00")
        );
        assert_eq!(read("¥ 1,000.00"), cny("1000.00"));
        assert_eq!(read("1130.00元"), cny("1130.00"));
        assert_eq!(read("RMB 88"), cny("88"));
    }

    #[test]
    fn other_currencies() {
        assert_eq!(read("12.50"), Some(("12.50".to_string(), None)));
        assert_eq!(
            read(": USD 12.50"),
            Some(("12.50".to_string(), Some("USD".to_string())))
        );
        assert_eq!(
            read("$3.99"),
            Some(("3.99".to_string(), Some("USD".to_string())))
        );
        assert_eq!(
            read("CAD $3.99"),
            Some(("3.99".to_string(), Some("CAD".to_string())))
        );
        assert_eq!(
            read("HK$ 20"),
            Some(("20".to_string(), Some("HKD".to_string())))
        );
        assert_eq!(
            read("12,50 €"),
            Some(("12.50".to_string(), Some("EUR".to_string())))
        );
        assert_eq!(
            read("£1.234,5"),
            Some(("1234.5".to_string(), Some("GBP".to_string())))
        );
    }

    #[test]
    fn prefers_the_marked_then_the_decimal_number() {
        assert_eq!(read("3 items 12.50"), Some(("12.50".to_string(), None)));
        assert_eq!(read("3 items ¥12"), cny("12"));
        assert_eq!(read("¥1000.00 ¥130.00"), cny("1000.00"));
    }

    #[test]
    fn money_has_two_decimals() {
        // A receipt's total row: the item count, then the sum.
        assert_eq!(read("9 86.50"), Some(("86.50".to_string(), None)));
        assert_eq!(read("1.5 kg 22.30"), Some(("22.30".to_string(), None)));
        assert_eq!(read("0.125 3"), Some(("0.125".to_string(), None)));
        assert_eq!(find_money("9"), None);
        assert_eq!(find_money("1.5"), None);
        assert_eq!(find_money("¥12").map(|a| a.value).as_deref(), Some("12"));
        assert_eq!(
            find_money("9 86.50").map(|a| a.value).as_deref(),
            Some("86.50")
        );
    }

    #[test]
    fn no_number_no_amount() {
        assert_eq!(read("壹仟元整"), None);
        assert_eq!(read(""), None);
    }

    #[test]
    fn plain_decimals() {
        assert_eq!(plain_decimal("1,234,567.89").as_deref(), Some("1234567.89"));
        assert_eq!(plain_decimal("1,234").as_deref(), Some("1234"));
        assert_eq!(plain_decimal("0.125").as_deref(), Some("0.125"));
        assert_eq!(plain_decimal("007").as_deref(), Some("7"));
        assert_eq!(plain_decimal("0.50").as_deref(), Some("0.50"));
    }
}
