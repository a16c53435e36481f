//! Cleaning OCR'd MRZ lines: spaces dropped, `«` read as `<`, case and
//! width folded, stray marks at the ends cut; a line one or two characters
//! off its format's width fitted when it is evident where (the filler at
//! its end, or its last run of fillers); `O`/`0` put right in positions
//! that only hold digits or only letters.

use crate::fields::text::fold;

/// Whether `c` belongs to the MRZ alphabet.
pub fn is_mrz_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<'
}

/// `line` without whitespace, folded (`«` -> `<`, upper-case, NFKC), with
/// characters outside the MRZ alphabet cut from both ends.
pub fn clean_line(line: &str) -> String {
    let folded: String = line
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(fold)
        .collect();
    folded.trim_matches(|c: char| !is_mrz_char(c)).to_string()
}

/// `line` fitted to `width`: up to 2 fillers added or removed at its end
/// when it ends in a filler, else in its last run of fillers. `None` when
/// the line is further off, or there is no filler run to take the change.
pub fn fit(line: &str, width: usize) -> Option<String> {
    let len = line.chars().count();
    if len == width {
        return Some(line.to_string());
    }
    if len.abs_diff(width) > 2 {
        return None;
    }
    let chars: Vec<char> = line.chars().collect();
    let run_end = chars.iter().rposition(|&c| c == '<')? + 1;
    let run_start = chars[..run_end]
        .iter()
        .rposition(|&c| c != '<')
        .map_or(0, |i| i + 1);
    let run_len = run_end - run_start;
    let mut fitted = chars.clone();
    if len < width {
        let at_end = run_end == len;
        if !at_end && run_len < 2 {
            return None;
        }
        fitted.splice(run_end..run_end, std::iter::repeat_n('<', width - len));
    } else {
        let excess = len - width;
        if run_len <= excess {
            return None;
        }
        fitted.drain(run_end - excess..run_end);
    }
    Some(fitted.into_iter().collect())
}

/// `line` with `O` read as `0` at the `digits` positions and `0` read as
/// `O` at the `letters` positions.
pub fn fix_positions(line: &str, digits: &[usize], letters: &[usize]) -> String {
    line.chars()
        .enumerate()
        .map(|(i, c)| {
            if c == 'O' && digits.contains(&i) {
                '0'
            } else if c == '0' && letters.contains(&i) {
                'O'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_spaces_guillemets_and_stray_ends() {
        assert_eq!(
            clean_line(" p«UTOERIKSSON «<ANNA<MARIA<< |"),
            "P<UTOERIKSSON<<ANNA<MARIA<<"
        );
        assert_eq!(clean_line("ＡＢ１"), "AB1");
    }

    #[test]
    fn pads_a_short_filler_end() {
        assert_eq!(fit("AB<<", 6).unwrap(), "AB<<<<");
        assert_eq!(fit("AB<", 4).unwrap(), "AB<<");
    }

    #[test]
    fn pads_the_last_filler_run() {
        let short = "L898902C36UTO7408122F1204159ZE184226B<<<10";
        assert_eq!(
            fit(short, 44).unwrap(),
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
        );
    }

    #[test]
    fn truncates_an_overlong_filler() {
        assert_eq!(fit("AB<<<<<", 5).unwrap(), "AB<<<");
        assert_eq!(fit("A<<<<10", 6).unwrap(), "A<<<10");
    }

    #[test]
    fn refuses_when_not_evident() {
        assert!(fit("ABCDEF", 7).is_none());
        assert!(fit("A<B10", 6).is_none());
        assert!(fit("AB<", 8).is_none());
        assert!(fit("AB<C<", 4).is_none());
    }

    #[test]
    fn fixes_o_and_zero_by_position() {
        assert_eq!(fix_positions("UT0O4O", &[3, 4, 5], &[0, 1, 2]), "UTO040");
    }
}
