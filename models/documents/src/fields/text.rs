//! Text helpers shared by the field readers: NFKC normalisation of OCR
//! text, character folding for comparisons, character classes.

use unicode_normalization::UnicodeNormalization;

/// `text` in NFKC: full-width letters, digits and punctuation become ASCII
/// (`：` -> `:`, `（` -> `(`, `１` -> `1`), `￥` becomes `¥`.
pub fn normalise(text: &str) -> String {
    text.nfkc().collect()
}

/// `c` folded for comparison: NFKC when that gives one character, ASCII
/// upper-case, and the guillemets OCR reads for an MRZ filler (`«`, `‹`) as
/// `<`.
pub fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if matches!(c as u32, 0x4E00..=0x9FFF) {
        return c;
    }
    let mut decomposed = std::iter::once(c).nfkc();
    let single = match (decomposed.next(), decomposed.next()) {
        (Some(first), None) => first,
        _ => c,
    };
    match single {
        '«' | '‹' => '<',
        other => other.to_ascii_uppercase(),
    }
}

/// Whether `c` is a CJK ideograph (the basic block, extension A and B, and
/// the compatibility ideographs).
pub fn is_cjk(c: char) -> bool {
    matches!(
        c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF
    )
}

/// Whether `c` can be part of a word or number (a letter, digit or CJK
/// ideograph), as opposed to a separator.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// `text` with leading and trailing separators (whitespace, `:`, `/`,
/// brackets, dashes, commas) removed.
pub fn trim_separators(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ":：;；,，.。/|()（）[]【】-—_".contains(c))
}

/// `text` with runs of whitespace collapsed to one space, and no space kept
/// between two CJK ideographs (`张 三` -> `张三`).
pub fn collapse_spaces(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            let prev_cjk = words[i - 1].chars().last().is_some_and(is_cjk);
            let next_cjk = word.chars().next().is_some_and(is_cjk);
            if !(prev_cjk && next_cjk) {
                out.push(' ');
            }
        }
        out.push_str(word);
    }
    out
}

/// The maximal runs of ASCII letters and digits in `text`.
pub fn ascii_alnum_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|run| !run.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_full_width() {
        assert_eq!(normalise("姓名：张三 ￥１１３０"), "姓名:张三 ¥1130");
    }

    #[test]
    fn folds_case_width_and_guillemets() {
        assert_eq!(fold('a'), 'A');
        assert_eq!(fold('Ａ'), 'A');
        assert_eq!(fold('«'), '<');
        assert_eq!(fold('张'), '张');
    }

    #[test]
    fn collapses_spaces_between_ideographs_only() {
        assert_eq!(collapse_spaces(" 张  三 "), "张三");
        assert_eq!(collapse_spaces("ANNA   MARIA"), "ANNA MARIA");
        assert_eq!(collapse_spaces("XX 公司 Ltd"), "XX 公司 Ltd");
    }

    #[test]
    fn trims_separators() {
        assert_eq!(trim_separators(" :张三, "), "张三");
        assert_eq!(trim_separators("（小写）"), "小写");
    }

    #[test]
    fn finds_alnum_runs() {
        assert_eq!(ascii_alnum_runs("号码 1101-X a"), vec!["1101", "X", "a"]);
    }
}
