//! How a keyword matches OCR text. Both are NFKC-normalised (full-width
//! forms fold to ASCII) and lower-cased. A keyword with a latin letter or
//! digit matches whole words only (`card` is not in `cardigan`); any other
//! keyword (Chinese, symbols) matches anywhere in a line with its spaces
//! removed, as OCR often spaces out CJK characters (`发 票`). A keyword
//! never spans two lines.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// One keyword of a rule, as written and as matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct Keyword {
    /// As written in the rule (reported as evidence, hashed in the digest).
    pub(crate) written: String,
    /// Normalised: lower case, NFKC; single spaces for a word keyword, no
    /// spaces for a text keyword.
    folded: String,
    /// Whether it matches whole words (it has a latin letter or digit).
    word: bool,
}

impl TryFrom<String> for Keyword {
    type Error = String;

    fn try_from(written: String) -> Result<Self, Self::Error> {
        let spaced = fold(&written);
        let word = spaced.chars().any(|c| c.is_ascii_alphanumeric());
        let folded = if word {
            spaced
        } else {
            spaced.split(' ').collect()
        };
        if folded.is_empty() {
            return Err(format!("keyword {written:?} is blank"));
        }
        Ok(Self {
            written,
            folded,
            word,
        })
    }
}

impl From<Keyword> for String {
    fn from(keyword: Keyword) -> Self {
        keyword.written
    }
}

/// OCR text prepared once for every keyword of every rule.
#[derive(Debug, Clone, Default)]
pub(crate) struct SearchText {
    /// Lines folded, words separated by one space, lines by `\n`.
    spaced: String,
    /// Lines folded without spaces, lines separated by `\n`.
    compact: String,
}

impl SearchText {
    /// Prepares the lines of a document.
    pub(crate) fn new<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        let mut text = Self::default();
        for line in lines {
            let spaced = fold(line);
            text.compact.extend(spaced.chars().filter(|c| *c != ' '));
            text.compact.push('\n');
            text.spaced.push_str(&spaced);
            text.spaced.push('\n');
        }
        text
    }

    /// Whether the keyword occurs.
    pub(crate) fn contains(&self, keyword: &Keyword) -> bool {
        if !keyword.word {
            return self.compact.contains(&keyword.folded);
        }
        let needle = keyword.folded.as_str();
        let starts_alnum = needle.starts_with(|c: char| c.is_ascii_alphanumeric());
        let ends_alnum = needle.ends_with(|c: char| c.is_ascii_alphanumeric());
        self.spaced.match_indices(needle).any(|(at, _)| {
            let before = self.spaced[..at].chars().next_back();
            let after = self.spaced[at + needle.len()..].chars().next();
            let bounded = |c: Option<char>| !c.is_some_and(|c| c.is_ascii_alphanumeric());
            (!starts_alnum || bounded(before)) && (!ends_alnum || bounded(after))
        })
    }
}

/// NFKC, lower case, whitespace runs to one space, trimmed.
fn fold(text: &str) -> String {
    let folded: String = text.nfkc().flat_map(char::to_lowercase).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{Keyword, SearchText};

    fn keyword(text: &str) -> Keyword {
        Keyword::try_from(text.to_string()).unwrap()
    }

    #[test]
    fn latin_keywords_match_whole_words_in_any_case_and_width() {
        let text = SearchText::new(["ＩＮＶＯＩＣＥ No. 42", "Cardigan, wool"]);
        assert!(text.contains(&keyword("invoice no")));
        assert!(text.contains(&keyword("Invoice")));
        assert!(!text.contains(&keyword("card")));
        assert!(!text.contains(&keyword("voice")));
        assert!(SearchText::new(["P<CHNZHANG<<SAN"]).contains(&keyword("P<")));
        assert!(!SearchText::new(["AP<CHN"]).contains(&keyword("P<")));
    }

    #[test]
    fn chinese_keywords_match_across_ocr_spaces_but_not_lines() {
        let text = SearchText::new(["增值税 电 子 普通 发票", "营业", "执照"]);
        assert!(text.contains(&keyword("电子普通发票")));
        assert!(text.contains(&keyword("发 票")));
        assert!(!text.contains(&keyword("营业执照")));
    }

    #[test]
    fn blank_keywords_are_refused() {
        assert!(Keyword::try_from("  ".to_string()).is_err());
        assert!(Keyword::try_from(String::new()).is_err());
    }
}
