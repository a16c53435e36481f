//! What the OCR engine returns: lines with their outlines, detected boxes,
//! the page orientation and timings. Everything serialises, so callers can
//! store and emit it as it is.

use serde::{Deserialize, Serialize};

/// A quadrilateral: top-left, top-right, bottom-right, bottom-left corners of
/// a text line as it reads, in pixels (x, y) of the image the caller gave.
pub type Quad = [[f32; 2]; 4];

/// Area of a quadrilateral in square pixels (shoelace formula).
pub fn quad_area(quad: &Quad) -> f32 {
    let mut twice = 0.0;
    for i in 0..4 {
        let [x1, y1] = quad[i];
        let [x2, y2] = quad[(i + 1) % 4];
        twice += x1 * y2 - x2 * y1;
    }
    twice.abs() / 2.0
}

/// A text region found by the detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextBox {
    /// The region's outline.
    pub quad: Quad,
    /// Mean text probability inside the region before it was grown.
    pub score: f32,
}

/// One recognised line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrLine {
    /// The text (characters as the recogniser emits them: CJK punctuation
    /// and full-width forms are kept).
    pub text: String,
    /// Mean probability of the kept characters (rapidocr's line score).
    pub confidence: f32,
    /// The line's outline in the pixels of the image given to
    /// [`crate::ocr::OcrEngine::read`], also when the page was turned to be
    /// read.
    pub quad: Quad,
}

/// The page orientation classifier's answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PageOrientation {
    /// Degrees the content is turned clockwise: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Probability of that answer.
    pub confidence: f32,
}

/// Where the time of one read went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OcrTimings {
    /// Page orientation (0 when not checked).
    pub orientation_ms: f64,
    /// Bounds, detection and its post-processing.
    pub detect_ms: f64,
    /// Cropping, recognition and decoding of the lines.
    pub recognize_ms: f64,
    /// The whole read.
    pub total_ms: f64,
}

/// The text of one image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OcrResult {
    /// The lines in reading order (top to bottom, then left to right, in the
    /// upright page).
    pub lines: Vec<OcrLine>,
    /// Degrees the content was turned clockwise, undone before reading: 0,
    /// 90, 180 or 270 (0 when not checked or not confident enough).
    pub rotation: u16,
    /// The orientation classifier's probability for `rotation` (0 when the
    /// orientation was not checked).
    pub rotation_confidence: f32,
    /// Whether the text holds CJK characters (Han, kana, hangul, CJK
    /// punctuation).
    pub has_cjk: bool,
    /// Whether lines were left out at `max_lines` or `max_text_chars`.
    pub truncated: bool,
    /// Where the time went.
    pub timings: OcrTimings,
}

impl OcrResult {
    /// The lines joined by newlines.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(&line.text);
        }
        text
    }
}

/// Whether `c` is a CJK character: Han ideographs (with extensions and
/// compatibility forms), kana, hangul, bopomofo, CJK symbols and punctuation,
/// full-width forms.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF      // radicals
        | 0x3000..=0x303F    // CJK symbols and punctuation
        | 0x3040..=0x30FF    // hiragana, katakana
        | 0x3100..=0x312F    // bopomofo
        | 0x3130..=0x318F    // hangul compatibility jamo
        | 0x31A0..=0x31FF    // bopomofo extended, katakana extensions
        | 0x3400..=0x4DBF    // extension A
        | 0x4E00..=0x9FFF    // unified ideographs
        | 0xAC00..=0xD7AF    // hangul syllables
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0xFF00..=0xFFEF    // half-width and full-width forms
        | 0x20000..=0x3134F  // extensions B-G
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quad_area_is_the_rectangle_area() {
        let quad = [[10.0, 10.0], [30.0, 10.0], [30.0, 15.0], [10.0, 15.0]];
        assert!((quad_area(&quad) - 100.0).abs() < 1e-3);
    }

    fn line(text: &str) -> OcrLine {
        OcrLine {
            text: text.into(),
            confidence: 0.9,
            quad: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
        }
    }

    #[test]
    fn text_joins_lines_with_newlines() {
        let result = OcrResult {
            lines: vec![line("第一行"), line("second")],
            ..OcrResult::default()
        };
        assert_eq!(result.text(), "第一行\nsecond");
        assert_eq!(OcrResult::default().text(), "");
    }

    #[test]
    fn cjk_detection() {
        assert!("增值税".chars().all(is_cjk));
        assert!(is_cjk('，') && is_cjk('ア') && is_cjk('한'));
        assert!(!"Invoice 42 ¥".chars().any(is_cjk));
    }

    #[test]
    fn results_round_trip_through_json() {
        let result = OcrResult {
            lines: vec![line("x")],
            rotation: 90,
            rotation_confidence: 0.9,
            has_cjk: false,
            truncated: true,
            timings: OcrTimings::default(),
        };
        let json = serde_json::to_string(&result).unwrap();
        assert_eq!(serde_json::from_str::<OcrResult>(&json).unwrap(), result);
    }
}
