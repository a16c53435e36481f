//! Text made searchable: the terms the engine's full-text index holds for
//! an image's OCR text, and the phrase a `contains` query becomes.
//!
//! Chinese and Japanese are written without spaces, and the engine's
//! tokenizers either split on spaces or segment with a dictionary (which
//! cannot find a two-character name inside a longer word, and drops
//! numbers). So the terms are made here, the same way for documents and
//! queries, and the engine only splits them on spaces:
//! - the text is NFKC-normalised (full-width letters, digits and
//!   punctuation become their ordinary forms), lower-cased, and traditional
//!   Chinese characters become simplified ones (`fast2s`), so `ＩＮＶＯＩＣＥ`
//!   finds `invoice` and `發票` finds `发票`;
//! - every CJK character (Han, kana) is a term of its own;
//! - every other run of letters or digits is a term (an invoice number
//!   stays one term and matches only whole);
//! - punctuation and spaces separate terms and are dropped.
//!
//! A query matches when its terms appear next to each other, in order
//! (the engine's phrase match): for CJK that is exactly "the text contains
//! this substring", and for words and numbers "contains these whole words,
//! in this order".

use unicode_normalization::UnicodeNormalization;

/// Most terms stored per image (bounds the index; about 16 KB of text).
pub const MAX_TERMS: usize = 8_192;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;

/// Whether `c` is written without spaces between words (Han ideographs,
/// Japanese kana, CJK compatibility ideographs): each such character is a
/// term. The same rule decides which tag names are Chinese.
pub use imgtag_models::friendly::is_cjk;

/// The terms of `text`, in order.
pub fn terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut word = String::new();
    for c in normalized(text).chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                terms.push(std::mem::take(&mut word));
            }
            terms.push(c.to_string());
        } else if c.is_alphanumeric() {
            word.push(c);
        } else if !word.is_empty() {
            terms.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        terms.push(word);
    }
    terms
}

/// `text` NFKC-normalised, lower-cased and in simplified Chinese: the form
/// search terms and query text are compared in.
pub fn normalized(text: &str) -> String {
    let folded: String = text.nfkc().flat_map(char::to_lowercase).collect();
    fast2s::convert(&folded)
}

/// The stored form: the terms of `text`, space-separated, at most
/// [`MAX_TERMS`].
pub fn indexed_terms(text: &str) -> String {
    let mut terms = terms(text);
    terms.truncate(MAX_TERMS);
    terms.join(" ")
}

/// The phrase a `contains` query searches for, or `None` when the query
/// has no letters or digits at all.
pub fn query_phrase(query: &str) -> Option<String> {
    let terms = terms(query);
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_becomes_one_term_per_character_and_numbers_stay_whole() {
        assert_eq!(
            indexed_terms("发票号码：No.12345678 张伟"),
            "发 票 号 码 no 12345678 张 伟"
        );
    }

    #[test]
    fn full_width_forms_and_case_are_folded() {
        assert_eq!(indexed_terms("ＴＯＴＡＬ　１２３"), "total 123");
        assert_eq!(query_phrase("Invoice No"), Some("invoice no".into()));
    }

    #[test]
    fn traditional_chinese_is_searched_as_simplified() {
        assert_eq!(query_phrase("發票號碼"), query_phrase("发票号码"));
        assert_eq!(indexed_terms("營業執照"), "营 业 执 照");
        assert_eq!(query_phrase("ＩＮＶＯＩＣＥ"), query_phrase("invoice"));
    }

    #[test]
    fn a_query_without_letters_or_digits_is_no_query() {
        assert_eq!(query_phrase(" ，。-- "), None);
    }

    #[test]
    fn mixed_scripts_split_at_the_boundary() {
        assert_eq!(terms("增值税INV-2024"), ["增", "值", "税", "inv", "2024"]);
        assert!(is_cjk('发') && is_cjk('カ') && !is_cjk('a') && !is_cjk('한'));
    }
}
