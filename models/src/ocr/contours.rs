//! `cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)`: the
//! borders of every 8-connected region of a binary mask, outer borders and
//! hole borders alike, as OpenCV 4.14 returns them.
//!
//! This is Suzuki and Abe's border following as OpenCV implements it
//! (`icvFetchContour`): the same start pixels, the same direction (outer
//! borders counter-clockwise on screen, holes clockwise), only the points
//! where the direction changes, and the list in OpenCV's order (the last
//! border found first). The order matters to rapidocr's result: it decides
//! which contours `max_candidates` keeps, and the convex hull (hence the
//! minimum-area rectangle's float rounding) depends on the point order.
//! `imageproc::contours` follows the same algorithm but keeps every border
//! point and costs about 80 s of compilation (nalgebra and friends), so the
//! 100 lines are kept here.

/// Neighbour offsets in OpenCV's chain-code order, 0 = east, counting
/// counter-clockwise on screen (y grows downwards).
const CODE_DELTAS: [[i32; 2]; 8] = [
    [1, 0],
    [1, -1],
    [0, -1],
    [-1, -1],
    [-1, 0],
    [-1, 1],
    [0, 1],
    [1, 1],
];

/// Label of a border pixel already followed.
const VISITED: i8 = 2;
/// Label of a border pixel with background on its right (`nbd | -128`).
const VISITED_RIGHT: i8 = 2 | -128;

/// The borders of the non-zero regions of `mask` (`width` x `height`, row
/// major), in OpenCV's order, each as the points where it turns.
pub(crate) fn find_contours(mask: &[u8], width: usize, height: usize) -> Vec<Vec<[i32; 2]>> {
    debug_assert_eq!(mask.len(), width * height);
    // OpenCV works on a copy with a one-pixel zero frame, values 0/1.
    let step = width + 2;
    let mut image = vec![0_i8; step * (height + 2)];
    for (y, row) in mask.chunks_exact(width.max(1)).enumerate().take(height) {
        for (x, &value) in row.iter().enumerate() {
            image[(y + 1) * step + x + 1] = i8::from(value != 0);
        }
    }
    let mut found = Vec::new();
    for y in 1..=height {
        let row = y * step;
        let mut prev = 0_i8;
        let mut x = 1;
        while x <= width {
            let p = image[row + x];
            if p == prev {
                x += 1;
                continue;
            }
            let outer = prev == 0 && p == 1;
            let hole = !outer && p == 0 && prev >= 1;
            if outer || hole {
                let start_x = if hole { x - 1 } else { x };
                let origin = [start_x as i32 - 1, y as i32 - 1];
                found.push(follow(&mut image, step, row + start_x, origin, hole));
                // The scan goes on after the start pixel, with the label the
                // start pixel has now.
                prev = image[row + x];
            } else {
                prev = p;
            }
            x += 1;
        }
    }
    found.reverse();
    found
}

/// Follows one border from pixel `start` (at `origin` in mask coordinates),
/// labelling its pixels; returns its turning points.
fn follow(
    image: &mut [i8],
    step: usize,
    start: usize,
    origin: [i32; 2],
    hole: bool,
) -> Vec<[i32; 2]> {
    let step = step as isize;
    let offsets: [isize; 8] = [1, 1 - step, -step, -step - 1, -1, step - 1, step, step + 1];
    let at = |index: usize, s: usize| index.wrapping_add_signed(offsets[s & 7]);
    // The first non-zero neighbour, turning clockwise from west (outer) or
    // east (hole).
    let end = if hole { 0 } else { 4 };
    let mut s = end;
    let mut first;
    loop {
        s = (s + 7) & 7;
        first = at(start, s);
        if image[first] != 0 || s == end {
            break;
        }
    }
    if s == end && image[first] == 0 {
        image[start] = VISITED_RIGHT;
        return vec![origin];
    }
    let mut points = Vec::new();
    let mut point = origin;
    let mut current = start;
    let mut previous_direction = s ^ 4;
    loop {
        let search_end = s;
        let mut next = current;
        // Counter-clockwise from the pixel we came from.
        while s < 15 {
            s += 1;
            next = at(current, s);
            if image[next] != 0 {
                break;
            }
        }
        s &= 7;
        if s.wrapping_sub(1) < search_end {
            image[current] = VISITED_RIGHT;
        } else if image[current] == 1 {
            image[current] = VISITED;
        }
        if s != previous_direction {
            points.push(point);
            previous_direction = s;
        }
        point[0] += CODE_DELTAS[s][0];
        point[1] += CODE_DELTAS[s][1];
        if next == start && current == first {
            break;
        }
        current = next;
        s = (s + 4) & 7;
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_from(rows: &[&str]) -> (Vec<u8>, usize, usize) {
        let width = rows[0].len();
        let mask = rows
            .iter()
            .flat_map(|row| row.bytes().map(|b| u8::from(b == b'#')))
            .collect();
        (mask, width, rows.len())
    }

    /// The same mask through `cv2.findContours(m, cv2.RETR_LIST,
    /// cv2.CHAIN_APPROX_SIMPLE)` with OpenCV 4.14.0.
    #[test]
    fn matches_opencv_on_shapes_with_a_hole_and_a_lone_pixel() {
        let (mask, width, height) = mask_from(&[
            "...............#",
            ".#####.......###",
            ".#####....#..###",
            ".#####..........",
            "................",
            "................",
            "...#########....",
            "...##..#####....",
            "...##..#####....",
            "...#########....",
            "................",
            "................",
        ]);
        let contours = find_contours(&mask, width, height);
        let expected: Vec<Vec<[i32; 2]>> = vec![
            vec![
                [4, 7],
                [5, 6],
                [6, 6],
                [7, 7],
                [7, 8],
                [6, 9],
                [5, 9],
                [4, 8],
            ],
            vec![[3, 6], [3, 9], [11, 9], [11, 6]],
            vec![[10, 2]],
            vec![[1, 1], [1, 3], [5, 3], [5, 1]],
            vec![[15, 0], [14, 1], [13, 1], [13, 2], [15, 2]],
        ];
        assert_eq!(contours, expected);
    }

    /// A ring touching the image border, a diagonal line and a one-pixel
    /// wide bar, compared with OpenCV 4.14.0.
    #[test]
    fn matches_opencv_on_thin_and_border_shapes() {
        let (mask, width, height) = mask_from(&[
            "#######..#",
            "#.....#.#.",
            "#.....##..",
            "#######...",
            "..........",
            "##########",
        ]);
        let contours = find_contours(&mask, width, height);
        let expected: Vec<Vec<[i32; 2]>> = vec![
            vec![[0, 5], [9, 5]],
            vec![
                [0, 1],
                [1, 0],
                [5, 0],
                [6, 1],
                [6, 2],
                [5, 3],
                [1, 3],
                [0, 2],
            ],
            vec![[0, 0], [0, 3], [6, 3], [9, 0], [7, 2], [6, 1], [6, 0]],
        ];
        assert_eq!(contours, expected);
    }

    #[test]
    fn empty_and_full_masks() {
        assert!(find_contours(&[0; 12], 4, 3).is_empty());
        assert_eq!(
            find_contours(&[1; 12], 4, 3),
            vec![vec![[0, 0], [0, 2], [3, 2], [3, 0]]]
        );
        assert!(find_contours(&[], 0, 0).is_empty());
    }
}
