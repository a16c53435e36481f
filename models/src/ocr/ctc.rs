//! rapidocr's `CTCLabelDecode`: per time step the most probable class; a
//! class equal to the previous step's, or blank (class 0), is dropped; the
//! line's score is the mean of the kept steps' probabilities, each rounded
//! to 5 decimals, the mean rounded again.

use super::charset::Charset;

/// Python's `round(x, 5)` on a float32 value taken as a double.
fn round5(x: f64) -> f64 {
    (x * 1e5).round_ties_even() / 1e5
}

/// Decodes one line from its per-step (best class, probability) pairs:
/// the text and rapidocr's score.
pub(crate) fn decode(steps: &[(u32, f32)], charset: &Charset) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut kept) = (0.0_f64, 0_usize);
    let mut previous = None;
    for &(class, probability) in steps {
        let repeated = previous == Some(class);
        previous = Some(class);
        if repeated || class == 0 {
            continue;
        }
        if let Some(character) = charset.get(class) {
            text.push_str(character);
        }
        sum += round5(f64::from(probability));
        kept += 1;
    }
    let score = if kept == 0 {
        0.0
    } else {
        round5(sum / kept as f64)
    };
    (text, score as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charset() -> Charset {
        Charset::parse("a\nb\n中", 5).unwrap()
    }

    #[test]
    fn repeats_and_blanks_are_dropped() {
        // a a _ a b b _ _ 中 space
        let steps = [
            (1, 0.9),
            (1, 0.8),
            (0, 0.99),
            (1, 0.7),
            (2, 0.6),
            (2, 0.9),
            (0, 0.9),
            (0, 0.9),
            (3, 0.5),
            (4, 0.95),
        ];
        let (text, score) = decode(&steps, &charset());
        assert_eq!(text, "aab中 ");
        // Kept: 0.9, 0.7, 0.6, 0.5, 0.95 -> mean 0.73.
        assert!((score - 0.73).abs() < 1e-6, "{score}");
    }

    #[test]
    fn an_empty_line_scores_zero() {
        assert_eq!(
            decode(&[(0, 0.99), (0, 0.98)], &charset()),
            (String::new(), 0.0)
        );
        assert_eq!(decode(&[], &charset()), (String::new(), 0.0));
    }
}
