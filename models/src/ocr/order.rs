//! Corner order within a box and box order on the page, as rapidocr does
//! them: `order_points_clockwise` (imutils' top-left, top-right,
//! bottom-right, bottom-left) and `TextDetector.sorted_boxes` (top to
//! bottom; boxes whose top-left corners are less than 10 pixels apart
//! vertically form a line, read left to right).

use super::db::PageBox;

/// rapidocr's `_BOX_SORT_Y_THRESHOLD`.
const LINE_TOLERANCE: f32 = 10.0;

/// Corners as top-left, top-right, bottom-right, bottom-left: the two
/// leftmost (by x, ties kept in order) split by y, then the two rightmost.
pub(crate) fn order_clockwise(points: [[i32; 2]; 4]) -> [[f32; 2]; 4] {
    let mut by_x = points;
    by_x.sort_by_key(|p| p[0]);
    let mut left = [by_x[0], by_x[1]];
    let mut right = [by_x[2], by_x[3]];
    left.sort_by_key(|p| p[1]);
    right.sort_by_key(|p| p[1]);
    let [tl, bl] = left;
    let [tr, br] = right;
    [tl, tr, br, bl].map(|p| p.map(|v| v as f32))
}

/// Boxes in reading order: a stable sort by the top-left corner's y, line
/// numbers that grow where consecutive y values differ by 10 or more, then
/// a stable sort by (line, x).
pub(crate) fn reading_order(mut boxes: Vec<PageBox>) -> Vec<PageBox> {
    boxes.sort_by(|a, b| a.quad[0][1].total_cmp(&b.quad[0][1]));
    let mut line = 0_usize;
    let mut lines = Vec::with_capacity(boxes.len());
    for (i, b) in boxes.iter().enumerate() {
        if i > 0 && b.quad[0][1] - boxes[i - 1].quad[0][1] >= LINE_TOLERANCE {
            line += 1;
        }
        lines.push(line);
    }
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| {
        lines[a]
            .cmp(&lines[b])
            .then(boxes[a].quad[0][0].total_cmp(&boxes[b].quad[0][0]))
    });
    order.into_iter().map(|i| boxes[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32, y: f32) -> PageBox {
        PageBox {
            quad: [[x, y], [x + 10.0, y], [x + 10.0, y + 5.0], [x, y + 5.0]],
            score: 0.9,
        }
    }

    #[test]
    fn corners_come_out_clockwise_from_top_left() {
        let tilted = [[10, 2], [0, 0], [9, 7], [-1, 5]];
        assert_eq!(
            order_clockwise(tilted),
            [[0.0, 0.0], [10.0, 2.0], [9.0, 7.0], [-1.0, 5.0]]
        );
        let axis = [[5, 9], [5, 3], [1, 9], [1, 3]];
        assert_eq!(
            order_clockwise(axis),
            [[1.0, 3.0], [5.0, 3.0], [5.0, 9.0], [1.0, 9.0]]
        );
    }

    #[test]
    fn boxes_read_top_to_bottom_then_left_to_right_within_tolerance() {
        let boxes = vec![
            at(50.0, 105.0),
            at(10.0, 100.0),
            at(30.0, 40.0),
            at(5.0, 112.0),
        ];
        let ordered: Vec<[f32; 2]> = reading_order(boxes).iter().map(|b| b.quad[0]).collect();
        // 100 and 105 differ by less than 10: one line; 112 - 105 = 7 keeps
        // chaining it into the same line.
        assert_eq!(
            ordered,
            [[30.0, 40.0], [5.0, 112.0], [10.0, 100.0], [50.0, 105.0]]
        );
    }

    #[test]
    fn a_gap_of_ten_starts_a_new_line() {
        let boxes = vec![at(50.0, 10.0), at(10.0, 20.0)];
        let ordered: Vec<[f32; 2]> = reading_order(boxes).iter().map(|b| b.quad[0]).collect();
        assert_eq!(ordered, [[50.0, 10.0], [10.0, 20.0]]);
    }
}
