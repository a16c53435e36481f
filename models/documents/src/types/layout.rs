//! Layout signals computed from where the OCR lines sit: many short lines,
//! a phone's status bar, chat bubbles, a small face among text. Boxes are
//! fractions of the image (x, y, width, height).

use unicode_normalization::UnicodeNormalization;

use crate::{DocumentEvidence, EvidenceLine};

/// Lines that make "many lines".
pub(crate) const MANY_LINES: usize = 6;
/// Lines that make "many short lines".
const MANY_SHORT_LINES: usize = 8;
/// Characters (not counting spaces) of a short line.
const SHORT_LINE_CHARS: usize = 12;
/// Share of short lines among many lines.
const SHORT_LINE_SHARE: f32 = 0.7;
/// How far down the image the status bar's lines start.
const STATUS_BAR_TOP: f32 = 0.05;
/// How far down the image the status bar's lines end.
const STATUS_BAR_BOTTOM: f32 = 0.08;
/// Characters (not counting spaces) of a status bar line.
const STATUS_BAR_CHARS: usize = 24;
/// Largest share of the image a face on a document covers.
const DOCUMENT_FACE_AREA: f32 = 0.12;
/// Lines of text a face on a document sits among.
const DOCUMENT_FACE_LINES: usize = 3;
/// A left bubble starts before this and ends before 1 minus it; a right
/// bubble mirrors it.
const BUBBLE_MARGIN: f32 = 0.3;
/// Bubbles on each side, and runs of sides, that make a chat.
const BUBBLES_PER_SIDE: usize = 2;
/// Alternations (runs of left or right bubbles) that make a chat.
const BUBBLE_RUNS: usize = 4;

/// Many lines, most of them short.
pub(crate) fn many_short_lines(lines: &[EvidenceLine]) -> bool {
    if lines.len() < MANY_SHORT_LINES {
        return false;
    }
    let short = lines
        .iter()
        .filter(|line| visible_chars(&line.text) <= SHORT_LINE_CHARS)
        .count();
    short as f32 >= lines.len() as f32 * SHORT_LINE_SHARE
}

/// A small face among lines of text.
pub(crate) fn face_on_document(evidence: &DocumentEvidence) -> bool {
    evidence.lines.len() >= DOCUMENT_FACE_LINES
        && evidence
            .faces
            .iter()
            .any(|[_, _, width, height]| width * height <= DOCUMENT_FACE_AREA)
}

/// A short line at the very top with a clock time.
pub(crate) fn status_bar(lines: &[EvidenceLine]) -> bool {
    lines
        .iter()
        .filter(|line| at_top(line) && visible_chars(&line.text) <= STATUS_BAR_CHARS)
        .any(|line| has_clock_time(&line.text))
}

/// A percentage at the very top.
pub(crate) fn battery_level(lines: &[EvidenceLine]) -> bool {
    lines
        .iter()
        .filter(|line| at_top(line))
        .any(|line| has_percentage(&line.text))
}

/// Lines alternating left and right, one per row, below the status bar.
pub(crate) fn chat_bubbles(lines: &[EvidenceLine]) -> bool {
    let sided: Vec<(&EvidenceLine, Side)> = lines
        .iter()
        .filter(|line| line.rect[1] > STATUS_BAR_BOTTOM)
        .filter_map(|line| side_of(line).map(|side| (line, side)))
        .collect();
    // A line sharing its row with a line on the other side is a table or a
    // label and its value, not a bubble.
    let mut bubbles: Vec<(f32, Side)> = sided
        .iter()
        .filter(|(line, side)| {
            !sided
                .iter()
                .any(|(other, other_side)| other_side != side && same_row(line, other))
        })
        .map(|(line, side)| (line.rect[1], *side))
        .collect();
    bubbles.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = |wanted: Side| bubbles.iter().filter(|(_, side)| *side == wanted).count();
    let runs = 1 + bubbles
        .windows(2)
        .filter(|pair| pair[0].1 != pair[1].1)
        .count();
    count(Side::Left) >= BUBBLES_PER_SIDE
        && count(Side::Right) >= BUBBLES_PER_SIDE
        && runs >= BUBBLE_RUNS
}

/// Which side of the image a bubble-like line hugs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

fn side_of(line: &EvidenceLine) -> Option<Side> {
    let [x, _, width, _] = line.rect;
    let right = x + width;
    if x < BUBBLE_MARGIN && right < 1.0 - BUBBLE_MARGIN {
        Some(Side::Left)
    } else if x > BUBBLE_MARGIN && right > 1.0 - BUBBLE_MARGIN {
        Some(Side::Right)
    } else {
        None
    }
}

fn same_row(a: &EvidenceLine, b: &EvidenceLine) -> bool {
    let (a_top, a_bottom) = (a.rect[1], a.rect[1] + a.rect[3]);
    let (b_top, b_bottom) = (b.rect[1], b.rect[1] + b.rect[3]);
    a_top < b_bottom && b_top < a_bottom
}

fn at_top(line: &EvidenceLine) -> bool {
    line.rect[1] <= STATUS_BAR_TOP && line.rect[1] + line.rect[3] <= STATUS_BAR_BOTTOM
}

fn visible_chars(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// `H:MM` or `HH:MM` (hour 0-23, minute 0-59) not inside a longer number.
fn has_clock_time(text: &str) -> bool {
    let chars: Vec<char> = text.nfkc().collect();
    (0..chars.len()).any(|colon| {
        if chars[colon] != ':' {
            return false;
        }
        let hour = digits_before(&chars, colon);
        let minute = digits_after(&chars, colon);
        matches!(hour.len(), 1 | 2)
            && minute.len() == 2
            && number(&hour).is_some_and(|h| h <= 23)
            && number(&minute).is_some_and(|m| m <= 59)
    })
}

/// `N%` with N 0-100 not inside a longer number.
fn has_percentage(text: &str) -> bool {
    let chars: Vec<char> = text.nfkc().collect();
    (0..chars.len()).any(|sign| {
        let value = digits_before(&chars, sign);
        chars[sign] == '%'
            && (1..=3).contains(&value.len())
            && number(&value).is_some_and(|v| v <= 100)
    })
}

/// The run of ASCII digits ending just before `at`.
fn digits_before(chars: &[char], at: usize) -> Vec<char> {
    let mut digits: Vec<char> = chars[..at]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .copied()
        .collect();
    digits.reverse();
    digits
}

/// The run of ASCII digits starting just after `at`.
fn digits_after(chars: &[char], at: usize) -> Vec<char> {
    chars[at + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .copied()
        .collect()
}

fn number(digits: &[char]) -> Option<u32> {
    digits.iter().collect::<String>().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{chat_bubbles, has_clock_time, has_percentage, status_bar};
    use crate::EvidenceLine;

    fn line(text: &str, rect: [f32; 4]) -> EvidenceLine {
        EvidenceLine {
            text: text.to_string(),
            confidence: 0.9,
            rect,
        }
    }

    #[test]
    fn clock_times_and_percentages() {
        assert!(has_clock_time("9:41"));
        assert!(has_clock_time("下午 12:30 ●●●"));
        assert!(has_clock_time("１２：３０"));
        assert!(!has_clock_time("25:00"));
        assert!(!has_clock_time("123:45"));
        assert!(!has_clock_time("12:345"));
        assert!(has_percentage("5G 87%"));
        assert!(has_percentage("100%"));
        assert!(!has_percentage("1000%"));
        assert!(!has_percentage("%"));
    }

    #[test]
    fn a_status_bar_is_at_the_very_top() {
        assert!(status_bar(&[line("9:41", [0.05, 0.01, 0.1, 0.02])]));
        assert!(!status_bar(&[line("9:41", [0.05, 0.3, 0.1, 0.02])]));
        let long = "Meeting moved to 9:41 tomorrow, see you all there";
        assert!(!status_bar(&[line(long, [0.05, 0.01, 0.9, 0.02])]));
    }

    #[test]
    fn bubbles_alternate_but_label_value_rows_do_not() {
        let chat = [
            line("在吗", [0.15, 0.15, 0.2, 0.04]),
            line("在的，什么事", [0.55, 0.22, 0.35, 0.04]),
            line("发票开好了吗", [0.15, 0.29, 0.3, 0.04]),
            line("开好了，马上发你", [0.5, 0.36, 0.4, 0.04]),
        ];
        assert!(chat_bubbles(&chat));
        let table = [
            line("姓名", [0.1, 0.15, 0.2, 0.04]),
            line("张三", [0.6, 0.15, 0.2, 0.04]),
            line("电话", [0.1, 0.22, 0.2, 0.04]),
            line("138 0000 0000", [0.6, 0.22, 0.3, 0.04]),
            line("地址", [0.1, 0.29, 0.2, 0.04]),
            line("北京", [0.6, 0.29, 0.2, 0.04]),
        ];
        assert!(!chat_bubbles(&table));
    }
}
