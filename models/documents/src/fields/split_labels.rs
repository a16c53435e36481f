//! Labels printed spaced out, which OCR reads as separate lines of one or
//! two ideographs: `名      称` across a row (a short label spread to the
//! width of the longer ones under it, as on a business licence), or
//! `购` / `买方` down a column (the vertical party headers of a VAT
//! invoice).
//!
//! The rule: a line of one or two ideographs that is not a label itself is
//! a piece. Pieces are joined while they spell the start of a label, each
//! the nearest piece right of the last on its row (at most
//! [`ROW_GAP`] of its heights away) or else below it in its column (at
//! most [`COLUMN_GAP`] heights); without line boxes, the next line. A whole
//! label spelt that way is printed where its pieces are: their union.

use super::labels::{LABELS, Label, find_labels, match_at};
use super::layout::{Layout, Region};
use super::text::{fold, is_cjk};

/// Most characters in a piece.
const PIECE_CHARS: usize = 2;
/// Most pieces joined (a label is at most 5-6 characters).
const MAX_PIECES: usize = 6;
/// How far right the next piece on the row may be, in heights of the
/// last (spaced labels are spread wide).
pub const ROW_GAP: f32 = 5.0;
/// How far below the next piece in the column may be, in heights of the
/// last.
pub const COLUMN_GAP: f32 = 1.5;

/// A label spelt by pieces on several lines.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitLabel {
    /// The label.
    pub label: &'static Label,
    /// The lines of its pieces, in order.
    pub lines: Vec<usize>,
    /// Where it is printed: the union of its pieces' regions (`None`
    /// without line boxes).
    pub region: Option<Region>,
}

/// Every label spelt by pieces in `normalised` (NFKC lines), each piece
/// used once.
pub fn split_labels(normalised: &[String], layout: &Layout) -> Vec<SplitLabel> {
    let pieces: Vec<Option<Vec<char>>> = normalised.iter().map(|t| piece(t)).collect();
    let mut used = vec![false; normalised.len()];
    let mut out = Vec::new();
    for start in 0..normalised.len() {
        if used[start] || pieces[start].is_none() {
            continue;
        }
        if let Some(found) = spell_from(start, &pieces, &used, layout) {
            for &line in &found.lines {
                used[line] = true;
            }
            out.push(found);
        }
    }
    out
}

/// The label spelt from the piece on line `start`, if one is.
fn spell_from(
    start: usize,
    pieces: &[Option<Vec<char>>],
    used: &[bool],
    layout: &Layout,
) -> Option<SplitLabel> {
    let mut lines = vec![start];
    let mut spelt: Vec<char> = pieces.get(start)?.clone()?;
    let mut region = layout.region(start);
    let mut best: Option<SplitLabel> = None;
    while lines.len() < MAX_PIECES && starts_a_label(&spelt) {
        if let Some(label) = whole_label(&spelt) {
            best = Some(SplitLabel {
                label,
                lines: lines.clone(),
                region,
            });
        }
        let last = *lines.last()?;
        let free = |i: &usize| {
            used.get(*i) == Some(&false)
                && !lines.contains(i)
                && pieces.get(*i).is_some_and(Option::is_some)
        };
        let extends = |i: &usize| {
            let mut longer = spelt.clone();
            longer.extend(pieces.get(*i).into_iter().flatten().flatten());
            starts_a_label(&longer)
        };
        let next = match layout.region(last) {
            Some(at) => next_piece(layout, &at, &lines, free, extends),
            None => Some(last + 1).filter(free).filter(extends),
        };
        let Some(next) = next else { break };
        spelt.extend(pieces.get(next).into_iter().flatten().flatten());
        region = match (region, layout.region(next)) {
            (Some(a), Some(b)) => Some(a.union(&b)),
            _ => None,
        };
        lines.push(next);
    }
    best
}

/// The piece after the one at `at`: the nearest right on its row, else
/// the nearest below in its column, when close and extending the label.
fn next_piece(
    layout: &Layout,
    at: &Region,
    lines: &[usize],
    free: impl Fn(&usize) -> bool,
    extends: impl Fn(&usize) -> bool,
) -> Option<usize> {
    let right = layout.right_of(at, lines).into_iter().next().filter(|i| {
        layout
            .region(*i)
            .is_some_and(|r| r.left - at.right <= ROW_GAP * at.height())
    });
    right.filter(&free).filter(&extends).or_else(|| {
        layout
            .below(at, lines, COLUMN_GAP)
            .filter(&free)
            .filter(&extends)
    })
}

/// The characters of a piece: one or two ideographs that are no label.
fn piece(text: &str) -> Option<Vec<char>> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let short = (1..=PIECE_CHARS).contains(&chars.len());
    (short && chars.iter().all(|&c| is_cjk(c)) && find_labels(&chars).is_empty()).then_some(chars)
}

/// Whether `spelt` is the start of some label.
fn starts_a_label(spelt: &[char]) -> bool {
    LABELS.iter().any(|label| {
        let text: Vec<char> = label.text.chars().filter(|c| *c != ' ').collect();
        text.len() >= spelt.len() && text.iter().zip(spelt).all(|(a, b)| fold(*a) == fold(*b))
    })
}

/// The label `spelt` is, whole.
fn whole_label(spelt: &[char]) -> Option<&'static Label> {
    LABELS
        .iter()
        .find(|label| match_at(spelt, 0, label.text) == Some(spelt.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::EvidenceLine;
    use crate::fields::FieldName;
    use crate::fields::labels::Kind;

    fn lines(items: &[(&str, [f32; 4])]) -> (Vec<String>, Layout) {
        let evidence: Vec<EvidenceLine> = items
            .iter()
            .map(|(t, rect)| EvidenceLine {
                text: t.to_string(),
                confidence: 1.0,
                rect: *rect,
            })
            .collect();
        let normalised = items.iter().map(|(t, _)| t.to_string()).collect();
        (normalised, Layout::new(&evidence))
    }

    fn spelt(items: &[(&str, [f32; 4])]) -> Vec<(&'static str, Vec<usize>)> {
        let (normalised, layout) = lines(items);
        split_labels(&normalised, &layout)
            .into_iter()
            .map(|s| (s.label.text, s.lines))
            .collect()
    }

    #[test]
    fn a_spaced_label_across_a_row() {
        // A business licence: 名 and 称 far apart, the value after them.
        let found = spelt(&[
            ("名", [0.102, 0.360, 0.027, 0.021]),
            ("称", [0.188, 0.361, 0.048, 0.017]),
            ("福州星河云图科技有限公司", [0.236, 0.360, 0.270, 0.020]),
            ("类", [0.101, 0.408, 0.030, 0.021]),
            ("型", [0.188, 0.409, 0.031, 0.018]),
        ]);
        assert_eq!(found, vec![("名称", vec![0, 1]), ("类型", vec![3, 4])]);
    }

    #[test]
    fn a_vertical_header_down_a_column() {
        // A VAT invoice's buyer header, read between the lines right of it.
        let items = [
            (
                "名称:北京青禾餐饮管理有限公司",
                [0.109, 0.185, 0.295, 0.017],
            ),
            ("购", [0.059, 0.197, 0.025, 0.019]),
            ("密", [0.643, 0.197, 0.024, 0.018]),
            (
                "纳税人识别号:91110105MA01R8XK3P",
                [0.107, 0.215, 0.348, 0.017],
            ),
            ("买方", [0.054, 0.226, 0.034, 0.058]),
            ("码", [0.643, 0.230, 0.024, 0.018]),
            ("区", [0.643, 0.263, 0.024, 0.018]),
        ];
        let (normalised, layout) = lines(&items);
        let found = split_labels(&normalised, &layout);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].label.kind, Kind::Party(FieldName::Buyer));
        assert_eq!(found[0].lines, vec![1, 4]);
        let region = found[0].region.unwrap();
        assert!((region.top - 0.197).abs() < 1e-3 && (region.bottom - 0.284).abs() < 1e-3);
        assert_eq!(found[1].label.text, "密码区");
    }

    #[test]
    fn without_boxes_pieces_follow_each_other() {
        let found = spelt(&[
            ("名", [0.0; 4]),
            ("称", [0.0; 4]),
            ("某某有限公司", [0.0; 4]),
        ]);
        assert_eq!(found, vec![("名称", vec![0, 1])]);
    }

    #[test]
    fn single_characters_that_spell_nothing_stay() {
        assert!(spelt(&[("女", [0.0; 4]), ("名", [0.0; 4])]).is_empty());
        assert!(spelt(&[("林", [0.0; 4]), ("赵", [0.0; 4])]).is_empty());
    }
}
