//! Where the OCR lines sit on the page, in the page's own frame: upright
//! and deskewed, so that "on the same row" and "below, in the same column"
//! mean what they mean on the printed form.
//!
//! The recogniser reports each line's axis-aligned box in the image
//! ([`EvidenceLine::rect`]). [`Layout::new`] turns those into [`Region`]s:
//!
//! - **Orientation.** When most lines of four characters or more are
//!   taller than wide, the page lies on its side: it is turned upright,
//!   clockwise or counter-clockwise as the reading order runs (lines read
//!   right to left across the image: its top is on the right). A page
//!   whose reading order runs up the image is upside down.
//! - **Skew.** A page scanned or photographed a few degrees off makes rows
//!   climb or fall across it. The slope is the one (within ±0.15, in steps
//!   of 0.0025) that lines up the most pairs of side-by-side lines; it is
//!   taken out (rows sheared level), and each box's height loses what the
//!   slope added over its width. Fewer than three aligned pairs, or no
//!   better alignment than level, leave the page as it is.
//!
//! A line without a box (all zeros, as in hand-written evidence) has no
//! region; the readers then fall back to reading order.

use crate::evidence::EvidenceLine;

/// Lines at least this long (characters, spaces aside) show which way the
/// text runs.
const SHAPE_CHARS: usize = 4;
/// Steepest skew tried (image fractions, rise over run).
const MAX_SLOPE: f32 = 0.15;
/// Step between the skews tried.
const SLOPE_STEP: f32 = 0.0025;
/// Fewest side-by-side pairs that must line up to take a skew out.
const MIN_ALIGNED_PAIRS: usize = 3;
/// Two centres line up when they are within this share of the lower
/// line's height of the slope.
const ALIGN_SHARE: f32 = 0.25;
/// A deskewed box keeps at least this share of its height.
const MIN_HEIGHT_SHARE: f32 = 0.3;
/// Two regions share a row when their vertical extents overlap by this
/// share of the lower one's height.
const ROW_OVERLAP: f32 = 0.5;
/// Two regions share a column when their horizontal extents overlap by
/// this share of the narrower one's width.
const COLUMN_OVERLAP: f32 = 0.25;
/// How far a region may reach back over the one it is right of, in
/// heights of the latter (boxes of neighbours touch or overlap a little).
const RIGHT_SLACK: f32 = 0.5;

/// A line's box on the upright, deskewed page: fractions of the image,
/// `top` down from the page's top edge, `left` in from its left edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// Left edge.
    pub left: f32,
    /// Top edge.
    pub top: f32,
    /// Right edge.
    pub right: f32,
    /// Bottom edge.
    pub bottom: f32,
}

impl Region {
    /// Its height.
    pub fn height(&self) -> f32 {
        self.bottom - self.top
    }

    /// Its width.
    pub fn width(&self) -> f32 {
        self.right - self.left
    }

    /// The smallest region holding both.
    pub fn union(&self, other: &Region) -> Region {
        Region {
            left: self.left.min(other.left),
            top: self.top.min(other.top),
            right: self.right.max(other.right),
            bottom: self.bottom.max(other.bottom),
        }
    }

    /// How much their vertical extents overlap (negative: the gap).
    pub fn vertical_overlap(&self, other: &Region) -> f32 {
        self.bottom.min(other.bottom) - self.top.max(other.top)
    }

    /// Whether `other` is on the same row: their vertical extents overlap
    /// by half the lower one's height.
    pub fn same_row(&self, other: &Region) -> bool {
        self.vertical_overlap(other) >= ROW_OVERLAP * self.height().min(other.height())
    }

    /// Whether `other` is in the same column: their horizontal extents
    /// overlap by a quarter of the narrower one's width.
    pub fn same_column(&self, other: &Region) -> bool {
        let overlap = self.right.min(other.right) - self.left.max(other.left);
        overlap > COLUMN_OVERLAP * self.width().min(other.width())
    }

    /// Whether `other` starts right of this region's right edge (give or
    /// take a little).
    pub fn left_of(&self, other: &Region) -> bool {
        other.left >= self.right - RIGHT_SLACK * self.height()
    }
}

/// The regions of a page's lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    regions: Vec<Option<Region>>,
}

impl Layout {
    /// The regions of `lines`, turned upright and deskewed.
    pub fn new(lines: &[EvidenceLine]) -> Self {
        let boxes: Vec<Option<[f32; 4]>> = lines.iter().map(|l| known(l.rect)).collect();
        let turn = orientation(lines, &boxes);
        let upright: Vec<Option<[f32; 4]>> =
            boxes.iter().map(|b| b.map(|r| turn.apply(r))).collect();
        let slope = skew(&upright);
        let regions = upright
            .iter()
            .map(|b| b.map(|r| deskewed(r, slope)))
            .collect();
        Self { regions }
    }

    /// The region of line `line`, when its box is known.
    pub fn region(&self, line: usize) -> Option<Region> {
        self.regions.get(line).copied().flatten()
    }

    /// The lines on the same row as `of` and right of it, nearest first,
    /// but those in `except`.
    pub fn right_of(&self, of: &Region, except: &[usize]) -> Vec<usize> {
        let mut found: Vec<(usize, Region)> = self
            .regions
            .iter()
            .enumerate()
            .filter(|(i, _)| !except.contains(i))
            .filter_map(|(i, r)| r.map(|r| (i, r)))
            .filter(|(_, r)| of.same_row(r) && of.left_of(r))
            .collect();
        found.sort_by(|a, b| a.1.left.total_cmp(&b.1.left));
        found.into_iter().map(|(i, _)| i).collect()
    }

    /// The nearest line below `of` in its column, but those in `except`,
    /// when its top is at most `max_gap` heights of `of` below it.
    pub fn below(&self, of: &Region, except: &[usize], max_gap: f32) -> Option<usize> {
        let centre = (of.top + of.bottom) / 2.0;
        self.regions
            .iter()
            .enumerate()
            .filter(|(i, _)| !except.contains(i))
            .filter_map(|(i, r)| r.map(|r| (i, r)))
            .filter(|(_, r)| r.top > centre && of.same_column(r))
            .min_by(|a, b| a.1.top.total_cmp(&b.1.top))
            .filter(|(_, r)| r.top - of.bottom <= max_gap * of.height())
            .map(|(i, _)| i)
    }
}

/// `rect` when it is a real box (positive width and height).
fn known(rect: [f32; 4]) -> Option<[f32; 4]> {
    let [x, y, w, h] = rect;
    let finite = rect.iter().all(|v| v.is_finite());
    (finite && w > 0.0 && h > 0.0 && x >= -1.0 && y >= -1.0).then_some(rect)
}

/// How the image is turned relative to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// Upright.
    None,
    /// The page's top is on the image's right.
    Clockwise,
    /// The page's top is on the image's left.
    CounterClockwise,
    /// The page's top is at the image's bottom.
    UpsideDown,
}

impl Turn {
    /// `rect` (x, y, w, h in the image) on the upright page.
    fn apply(self, [x, y, w, h]: [f32; 4]) -> [f32; 4] {
        match self {
            Self::None => [x, y, w, h],
            Self::Clockwise => [y, 1.0 - (x + w), h, w],
            Self::CounterClockwise => [1.0 - (y + h), x, h, w],
            Self::UpsideDown => [1.0 - (x + w), 1.0 - (y + h), w, h],
        }
    }
}

/// Which way the page is turned: on its side when most long lines are
/// taller than wide (which side by the way reading order runs across the
/// image), upside down when reading order runs up it.
fn orientation(lines: &[EvidenceLine], boxes: &[Option<[f32; 4]>]) -> Turn {
    let long: Vec<(usize, [f32; 4])> = boxes
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.map(|b| (i, b)))
        .filter(|(i, _)| {
            lines.get(*i).is_some_and(|l| {
                l.text.chars().filter(|c| !c.is_whitespace()).count() >= SHAPE_CHARS
            })
        })
        .collect();
    let tall = long.iter().filter(|(_, [_, _, w, h])| h > w).count();
    let centres: Vec<[f32; 2]> = boxes
        .iter()
        .flatten()
        .map(|[x, y, w, h]| [x + w / 2.0, y + h / 2.0])
        .collect();
    if tall * 2 > long.len() {
        return if trend(&centres, 0) < 0 {
            Turn::Clockwise
        } else {
            Turn::CounterClockwise
        };
    }
    let (down, up) = pair_order(&centres, 1);
    if up > 2 * down && up > 0 {
        Turn::UpsideDown
    } else {
        Turn::None
    }
}

/// Whether `axis` of the centres grows (positive) or shrinks (negative)
/// along reading order.
fn trend(centres: &[[f32; 2]], axis: usize) -> i64 {
    let (grows, shrinks) = pair_order(centres, axis);
    grows as i64 - shrinks as i64
}

/// How many pairs of centres (in reading order) grow and shrink along
/// `axis`.
fn pair_order(centres: &[[f32; 2]], axis: usize) -> (usize, usize) {
    let mut grows = 0;
    let mut shrinks = 0;
    for (i, a) in centres.iter().enumerate() {
        for b in &centres[i + 1..] {
            if b[axis] > a[axis] {
                grows += 1;
            } else if b[axis] < a[axis] {
                shrinks += 1;
            }
        }
    }
    (grows, shrinks)
}

/// The page's skew (rise over run, image fractions): the slope lining up
/// the most pairs of side-by-side lines, 0 when none does better than
/// level.
fn skew(boxes: &[Option<[f32; 4]>]) -> f32 {
    let known: Vec<[f32; 4]> = boxes.iter().flatten().copied().collect();
    let mut pairs = Vec::new();
    for (i, a) in known.iter().enumerate() {
        for b in &known[i + 1..] {
            let side_by_side = a[0] + a[2] <= b[0] || b[0] + b[2] <= a[0];
            let dx = (b[0] + b[2] / 2.0) - (a[0] + a[2] / 2.0);
            let dy = (b[1] + b[3] / 2.0) - (a[1] + a[3] / 2.0);
            if side_by_side && dy.abs() <= MAX_SLOPE * dx.abs() + a[3].max(b[3]) {
                pairs.push((dx, dy, *a, *b));
            }
        }
    }
    let aligned = |slope: f32| -> usize {
        pairs
            .iter()
            .filter(|(dx, dy, a, b)| {
                let height = |r: &[f32; 4]| r[3] - slope.abs() * r[2];
                let tolerance = ALIGN_SHARE * height(a).min(height(b));
                tolerance > 0.0 && (dy - slope * dx).abs() < tolerance
            })
            .count()
    };
    let steps = (MAX_SLOPE / SLOPE_STEP).round() as i32;
    let counts: Vec<(f32, usize)> = (-steps..=steps)
        .map(|k| {
            let slope = k as f32 * SLOPE_STEP;
            (slope, aligned(slope))
        })
        .collect();
    let best = counts.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let level = aligned(0.0);
    if best < MIN_ALIGNED_PAIRS || best <= level {
        return 0.0;
    }
    let top: Vec<f32> = counts
        .iter()
        .filter(|(_, n)| *n == best)
        .map(|(s, _)| *s)
        .collect();
    top.iter().sum::<f32>() / top.len() as f32
}

/// `rect` with rows sheared level by `slope`, its height less what the
/// slope added over its width.
fn deskewed([x, y, w, h]: [f32; 4], slope: f32) -> Region {
    let centre_x = x + w / 2.0;
    let centre_y = y + h / 2.0 - slope * centre_x;
    let height = (h - slope.abs() * w).max(MIN_HEIGHT_SHARE * h);
    Region {
        left: x,
        top: centre_y - height / 2.0,
        right: x + w,
        bottom: centre_y + height / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, rect: [f32; 4]) -> EvidenceLine {
        EvidenceLine {
            text: text.to_string(),
            confidence: 1.0,
            rect,
        }
    }

    /// Part of a business licence as OCR'd: a label spaced into two lines,
    /// the value right of it, a period wrapped under its first line.
    fn licence() -> Vec<EvidenceLine> {
        vec![
            line("名", [0.102, 0.360, 0.027, 0.021]),
            line("称", [0.188, 0.361, 0.048, 0.017]),
            line("福州星河云图科技有限公司", [0.236, 0.360, 0.270, 0.020]),
            line("营业期限", [0.530, 0.456, 0.093, 0.019]),
            line("2015年03月01日至", [0.643, 0.457, 0.188, 0.017]),
            line("法定代表人", [0.102, 0.481, 0.119, 0.019]),
            line("2035年02月28日", [0.643, 0.482, 0.166, 0.019]),
        ]
    }

    #[test]
    fn rows_and_columns_of_an_upright_page() {
        let layout = Layout::new(&licence());
        let name = layout.region(0).unwrap().union(&layout.region(1).unwrap());
        assert_eq!(layout.right_of(&name, &[0, 1]), vec![2]);
        let term = layout.region(3).unwrap();
        assert_eq!(layout.right_of(&term, &[]), vec![4]);
        let start = layout.region(4).unwrap();
        assert_eq!(layout.below(&start, &[], 2.5), Some(6));
        assert_eq!(
            layout.below(&term, &[], 2.5),
            None,
            "nothing under 营业期限"
        );
    }

    #[test]
    fn unknown_boxes_have_no_region() {
        let layout = Layout::new(&[line("姓名", [0.0; 4])]);
        assert_eq!(layout.region(0), None);
        assert_eq!(layout.region(5), None);
    }

    #[test]
    fn a_page_on_its_side_is_turned_upright() {
        // The licence turned a quarter clockwise: x' = 1 - (y + h), y' = x.
        let turned: Vec<EvidenceLine> = licence()
            .into_iter()
            .map(|l| {
                let [x, y, w, h] = l.rect;
                line(&l.text, [1.0 - (y + h), x, h, w])
            })
            .collect();
        let upright = Layout::new(&licence());
        let layout = Layout::new(&turned);
        for i in 0..turned.len() {
            let (a, b) = (upright.region(i).unwrap(), layout.region(i).unwrap());
            assert!((a.left - b.left).abs() < 1e-4 && (a.top - b.top).abs() < 1e-4);
        }
    }

    #[test]
    fn a_skewed_page_is_levelled() {
        // A VAT invoice's total rows scanned 5 degrees off: the amounts of
        // the 合计 row sit as low as the 价税合计 label on the left.
        let lines = vec![
            line("合计", [0.214, 0.497, 0.047, 0.025]),
            line("价税合计(大写)", [0.115, 0.527, 0.137, 0.027]),
            line("¥1000.00", [0.673, 0.530, 0.077, 0.021]),
            line("⊗壹仟壹佰叁拾元整", [0.276, 0.538, 0.168, 0.028]),
            line("¥130.00", [0.812, 0.539, 0.070, 0.021]),
            line("(小写)¥1130.00", [0.617, 0.559, 0.150, 0.029]),
            line("*计算机配套产品*机械键盘", [0.132, 0.332, 0.205, 0.031]),
            line("K87", [0.382, 0.348, 0.042, 0.020]),
            line("2", [0.562, 0.361, 0.021, 0.021]),
            line("300.00", [0.612, 0.363, 0.062, 0.022]),
            line("600.00", [0.709, 0.370, 0.062, 0.021]),
            line("13%", [0.772, 0.374, 0.045, 0.020]),
            line("78.00", [0.849, 0.379, 0.053, 0.021]),
        ];
        let layout = Layout::new(&lines);
        let total = layout.region(0).unwrap();
        assert_eq!(layout.right_of(&total, &[]), vec![2, 4]);
        let with_tax = layout.region(1).unwrap();
        assert_eq!(layout.right_of(&with_tax, &[]), vec![3, 5]);
    }

    #[test]
    fn a_level_page_stays_level() {
        let lines: Vec<EvidenceLine> = (0..6)
            .map(|i| {
                line(
                    "某某 12.00",
                    [
                        0.1 + 0.3 * (i % 2) as f32,
                        0.1 + 0.05 * (i / 2) as f32,
                        0.2,
                        0.03,
                    ],
                )
            })
            .collect();
        let layout = Layout::new(&lines);
        assert_eq!(layout.region(0).unwrap().top, 0.1);
        assert_eq!(layout.right_of(&layout.region(0).unwrap(), &[]), vec![1]);
    }
}
