//! ICAO 9303 check digits: weights 7, 3, 1 repeating over the character
//! values (`0`-`9` as themselves, `A`-`Z` as 10-35, the filler `<` as 0),
//! the sum mod 10.

/// A character's value, `None` outside `0-9`, `A-Z` and `<`.
pub fn char_value(c: char) -> Option<u32> {
    match c {
        '<' => Some(0),
        '0'..='9' | 'A'..='Z' => c.to_digit(36),
        _ => None,
    }
}

/// The check digit of `field`, `None` when it holds a character outside the
/// MRZ alphabet.
pub fn check_digit(field: &str) -> Option<u32> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0;
    for (i, c) in field.chars().enumerate() {
        sum += char_value(c)? * WEIGHTS[i % 3];
    }
    Some(sum % 10)
}

/// Whether `check` is the check digit of `field`. The check must be a
/// digit, or the filler when `filler_allowed` (an empty optional-data field
/// may have `<` for 0).
pub fn verify(field: &str, check: char, filler_allowed: bool) -> bool {
    let check_value = match check {
        '0'..='9' => check.to_digit(10),
        '<' if filler_allowed => Some(0),
        _ => None,
    };
    check_value.is_some() && check_value == check_digit(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    // ICAO 9303 part 3, 4.9 worked examples and the part 4 specimen.
    #[test]
    fn published_examples() {
        assert_eq!(check_digit("520727"), Some(3));
        assert_eq!(check_digit("AB2134<<<"), Some(5));
        assert_eq!(check_digit("L898902C3"), Some(6));
        assert_eq!(check_digit("740812"), Some(2));
        assert_eq!(check_digit("120415"), Some(9));
        assert_eq!(check_digit("ZE184226B<<<<<"), Some(1));
    }

    #[test]
    fn verifies_and_rejects() {
        assert!(verify("L898902C3", '6', false));
        assert!(!verify("L898902C3", '7', false));
        assert!(!verify("L898902C3", 'X', false));
        assert!(verify("<<<<<<<<<<<<<<", '<', true));
        assert!(!verify("<<<<<<<<<<<<<<", '<', false));
        assert!(!verify("L89 902C3", '6', false));
    }
}
