//! `cv2.minAreaRect` and `cv2.boxPoints` on integer points, as OpenCV 4.14
//! computes them, and rapidocr's `get_mini_boxes` on top.
//!
//! OpenCV takes the convex hull (Sklansky's scan over the points sorted by
//! x, then a cyclic shift that makes the hull's point indices monotonic),
//! runs rotating calipers over it in `float`, and turns the result into a
//! rectangle whose angle lies in [-90, 0). The float rounding of every step
//! is kept: rapidocr floors, ceils and truncates these coordinates (box
//! score window, pyclipper's integer conversion), so a corner at 9.9999995
//! instead of 10 moves a box by a pixel. `imageproc::geometry::min_area_rect`
//! rounds corners to integers and its hull compares truncated coordinates,
//! so it cannot stand in.

/// A rotated rectangle as OpenCV's `RotatedRect`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RotatedRect {
    pub center: [f32; 2],
    pub size: [f32; 2],
    /// Degrees, in [-90, 0).
    pub angle: f32,
}

fn sign(value: i64) -> i32 {
    i32::from(value > 0) - i32::from(value < 0)
}

/// OpenCV's `Sklansky_`: one quarter of the hull, as indices into `sorted`.
fn sklansky(
    points: &[[i32; 2]],
    sorted: &[usize],
    start: isize,
    end: isize,
    nsign: i32,
    sign2: i32,
) -> Vec<isize> {
    let at = |i: isize| points[sorted[i as usize]];
    if start == end || at(start) == at(end) {
        return vec![start];
    }
    let incr = if end > start { 1 } else { -1 };
    let (mut pprev, mut pcur) = (start, start + incr);
    let mut pnext = pcur + incr;
    let mut stack = vec![pprev, pcur, pnext];
    let mut size = 3_usize;
    let after_end = end + incr;
    let put = |stack: &mut Vec<isize>, index: usize, value: isize| {
        if index == stack.len() {
            stack.push(value);
        } else {
            stack[index] = value;
        }
    };
    while pnext != after_end {
        let (cur, next, prev) = (at(pcur), at(pnext), at(pprev));
        let by = i64::from(next[1] - cur[1]);
        if sign(by) != nsign {
            let ax = i64::from(cur[0] - prev[0]);
            let bx = i64::from(next[0] - cur[0]);
            let ay = i64::from(cur[1] - prev[1]);
            let convexity = ay * bx - ax * by;
            if sign(convexity) == sign2 && (ax != 0 || ay != 0) {
                pprev = pcur;
                pcur = pnext;
                pnext += incr;
                put(&mut stack, size, pnext);
                size += 1;
            } else if pprev == start {
                pcur = pnext;
                stack[1] = pcur;
                pnext += incr;
                stack[2] = pnext;
            } else {
                stack[size - 2] = pnext;
                pcur = pprev;
                pprev = stack[size - 4];
                size -= 1;
            }
        } else {
            pnext += incr;
            stack[size - 1] = pnext;
        }
    }
    stack.truncate(size - 1);
    stack
}

/// `cv2.convexHull(points, clockwise=False)`: hull points in OpenCV's order.
pub(crate) fn convex_hull(points: &[[i32; 2]]) -> Vec<[i32; 2]> {
    let total = points.len();
    if total == 0 {
        return Vec::new();
    }
    let mut sorted: Vec<usize> = (0..total).collect();
    sorted.sort_by_key(|&i| (points[i][0], points[i][1], i));
    let (mut miny, mut maxy) = (0, 0);
    for i in 1..total {
        let y = points[sorted[i]][1];
        if points[sorted[miny]][1] > y {
            miny = i;
        }
        if points[sorted[maxy]][1] < y {
            maxy = i;
        }
    }
    let last = total as isize - 1;
    let mut hull: Vec<usize> = Vec::with_capacity(total);
    if points[sorted[0]] == points[sorted[total - 1]] {
        hull.push(0);
    } else {
        // Upper half; counter-clockwise swaps the left and right parts.
        let tl = sklansky(points, &sorted, 0, maxy as isize, -1, 1);
        let tr = sklansky(points, &sorted, last, maxy as isize, -1, -1);
        let (tl, tr) = (tr, tl);
        hull.extend(tl[..tl.len() - 1].iter().map(|&i| sorted[i as usize]));
        hull.extend(tr[1..].iter().rev().map(|&i| sorted[i as usize]));
        let stop = if tr.len() > 2 {
            Some(tr[1])
        } else if tl.len() > 2 {
            Some(tl[tl.len() - 2])
        } else {
            None
        };
        // Lower half.
        let mut bl = sklansky(points, &sorted, 0, miny as isize, 1, -1);
        let mut br = sklansky(points, &sorted, last, miny as isize, 1, 1);
        if let Some(stop) = stop {
            let check = if bl.len() > 2 {
                Some(bl[1])
            } else if bl.len() + br.len() > 2 {
                Some(br[2 - bl.len()])
            } else {
                None
            };
            if let Some(check) = check
                && (check == stop
                    || points[sorted[check as usize]] == points[sorted[stop as usize]])
            {
                // All points on one line: the lower part mirrors the upper.
                bl.truncate(2);
                br.truncate(2);
            }
        }
        hull.extend(bl[..bl.len() - 1].iter().map(|&i| sorted[i as usize]));
        hull.extend(br[1..].iter().rev().map(|&i| sorted[i as usize]));
        monotonic_shift(&mut hull);
    }
    hull.into_iter().map(|i| points[i]).collect()
}

/// OpenCV's cyclic shift making the hull's point indices ascend or descend
/// when they can.
fn monotonic_shift(hull: &mut Vec<usize>) {
    let n = hull.len();
    if n < 3 {
        return;
    }
    let (mut min, mut max, mut lt) = (0_usize, 0_usize, 0_usize);
    for i in 1..n {
        let index = hull[i];
        lt += usize::from(hull[i - 1] < index);
        if lt > 1 && lt + 2 <= i {
            break;
        }
        if index < hull[min] {
            min = i;
        }
        if index > hull[max] {
            max = i;
        }
    }
    let distance = max.abs_diff(min);
    if (distance == 1 || distance == n - 1) && (lt <= 1 || lt + 2 >= n) {
        let ascending = (max + 1) % n == min;
        let first = if ascending { min } else { max };
        if first > 0 {
            let mut shifted = Vec::with_capacity(n);
            let mut j = first;
            for i in 0..n {
                let current = hull[j];
                shifted.push(current);
                let next_j = (j + 1) % n;
                if i < n - 1 && ascending != (current < hull[next_j]) {
                    return;
                }
                j = next_j;
            }
            *hull = shifted;
        }
    }
}

/// OpenCV's `rotatingCalipers` (minimum-area mode) over a hull: corner,
/// width vector and height vector, in float.
fn rotating_calipers(hull: &[[f32; 2]]) -> ([f32; 2], [f32; 2], [f32; 2]) {
    let n = hull.len();
    let mut vect = vec![[0.0_f32; 2]; n];
    let mut inv_length = vec![0.0_f32; n];
    let (mut left, mut bottom, mut right, mut top) = (0, 0, 0, 0);
    let mut p0 = hull[0];
    let (mut left_x, mut right_x, mut top_y, mut bottom_y) = (p0[0], p0[0], p0[1], p0[1]);
    for i in 0..n {
        if p0[0] < left_x {
            left_x = p0[0];
            left = i;
        }
        if p0[0] > right_x {
            right_x = p0[0];
            right = i;
        }
        if p0[1] > top_y {
            top_y = p0[1];
            top = i;
        }
        if p0[1] < bottom_y {
            bottom_y = p0[1];
            bottom = i;
        }
        let p = hull[(i + 1) % n];
        let dx = f64::from(p[0] - p0[0]);
        let dy = f64::from(p[1] - p0[1]);
        vect[i] = [dx as f32, dy as f32];
        inv_length[i] = (1.0 / (dx * dx + dy * dy).sqrt()) as f32;
        p0 = p;
    }
    // OpenCV also derives the hull's orientation here as the first base
    // vector, but its caliper choice no longer reads it before replacing it.
    let mut seq = [bottom, right, top, left];
    let mut min_area = f32::MAX;
    let mut best = (0_usize, 0.0_f32, 0.0_f32, 0.0_f32, 0.0_f32, 0_usize);
    let is_right = |v1: [f32; 2], v2: [f32; 2]| v1[1] * v2[0] + (-v1[0]) * v2[1] < 0.0;
    for _ in 0..n {
        let v = seq.map(|i| vect[i]);
        let rotated = [
            v[0],
            [v[1][1], -v[1][0]],
            [-v[2][0], -v[2][1]],
            [-v[3][1], v[3][0]],
        ];
        let mut main = 0;
        for i in 1..4 {
            if is_right(rotated[i], rotated[main]) {
                main = i;
            }
        }
        let p = seq[main];
        let lead = [vect[p][0] * inv_length[p], vect[p][1] * inv_length[p]];
        let (base_a, base_b) = match main {
            0 => (lead[0], lead[1]),
            1 => (lead[1], -lead[0]),
            2 => (-lead[0], -lead[1]),
            _ => (-lead[1], lead[0]),
        };
        seq[main] = (seq[main] + 1) % n;
        let dx = hull[seq[1]][0] - hull[seq[3]][0];
        let dy = hull[seq[1]][1] - hull[seq[3]][1];
        let width = dx * base_a + dy * base_b;
        let dx = hull[seq[2]][0] - hull[seq[0]][0];
        let dy = hull[seq[2]][1] - hull[seq[0]][1];
        let height = -dx * base_b + dy * base_a;
        let area = width * height;
        if area <= min_area {
            min_area = area;
            best = (seq[3], base_a, width, base_b, height, seq[0]);
        }
    }
    let (left, a1, width, b1, height, bottom) = best;
    let (a2, b2) = (-b1, a1);
    let c1 = a1 * hull[left][0] + hull[left][1] * b1;
    let c2 = a2 * hull[bottom][0] + hull[bottom][1] * b2;
    let idet = 1.0 / (a1 * b2 - a2 * b1);
    let corner = [(c1 * b2 - c2 * b1) * idet, (a1 * c2 - a2 * c1) * idet];
    (corner, [a1 * width, b1 * width], [a2 * height, b2 * height])
}

/// `cv2.minAreaRect(points)`.
pub(crate) fn min_area_rect(points: &[[i32; 2]]) -> RotatedRect {
    let hull: Vec<[f32; 2]> = convex_hull(points)
        .into_iter()
        .map(|p| p.map(|v| v as f32))
        .collect();
    let (center, size, angle) = match hull.len() {
        0 => ([0.0; 2], [0.0; 2], 0.0),
        1 => (hull[0], [0.0; 2], 0.0),
        2 => {
            let dx = f64::from(hull[1][0] - hull[0][0]);
            let dy = f64::from(hull[1][1] - hull[0][1]);
            (
                [
                    (hull[0][0] + hull[1][0]) * 0.5,
                    (hull[0][1] + hull[1][1]) * 0.5,
                ],
                [(dx * dx + dy * dy).sqrt() as f32, 0.0],
                dy.atan2(dx).to_degrees_opencv(),
            )
        }
        _ => {
            let (corner, v1, v2) = rotating_calipers(&hull);
            let length = |v: [f32; 2]| {
                let [x, y] = v.map(f64::from);
                (x * x + y * y).sqrt() as f32
            };
            (
                [
                    corner[0] + (v1[0] + v2[0]) * 0.5,
                    corner[1] + (v1[1] + v2[1]) * 0.5,
                ],
                [length(v1), length(v2)],
                f64::from(v1[1]).atan2(f64::from(v1[0])).to_degrees_opencv(),
            )
        }
    };
    normalised(center, size, angle)
}

/// Degrees as OpenCV computes them (`a * 180 / CV_PI`).
trait OpenCvDegrees {
    fn to_degrees_opencv(self) -> f64;
}

impl OpenCvDegrees for f64 {
    fn to_degrees_opencv(self) -> f64 {
        self * 180.0 / std::f64::consts::PI
    }
}

/// The angle brought into [-90, 0), swapping width and height per quarter
/// turn.
fn normalised(center: [f32; 2], mut size: [f32; 2], mut angle: f64) -> RotatedRect {
    while angle >= 0.0 {
        angle -= 90.0;
        size.swap(0, 1);
    }
    while angle < -90.0 {
        angle += 90.0;
        size.swap(0, 1);
    }
    RotatedRect {
        center,
        size,
        angle: angle as f32,
    }
}

/// `cv2.boxPoints(rect)`.
pub(crate) fn box_points(rect: &RotatedRect) -> [[f32; 2]; 4] {
    let angle = f64::from(rect.angle) * std::f64::consts::PI / 180.0;
    let b = angle.cos() as f32 * 0.5;
    let a = angle.sin() as f32 * 0.5;
    let [cx, cy] = rect.center;
    let [w, h] = rect.size;
    [
        [cx - a * h - b * w, cy + b * h - a * w],
        [cx + a * h - b * w, cy - b * h - a * w],
        [cx + a * h + b * w, cy - b * h + a * w],
        [cx - a * h + b * w, cy + b * h + a * w],
    ]
}

/// rapidocr's `get_mini_boxes`: the minimum-area rectangle's corners
/// (left pair then right pair, each upper first as rapidocr orders them)
/// and its shorter side.
pub(crate) fn mini_box(points: &[[i32; 2]]) -> ([[f32; 2]; 4], f32) {
    let rect = min_area_rect(points);
    let mut corners = box_points(&rect);
    // Python's `sorted(..., key=x)`: stable.
    corners.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (i1, i4) = if corners[1][1] > corners[0][1] {
        (0, 1)
    } else {
        (1, 0)
    };
    let (i2, i3) = if corners[3][1] > corners[2][1] {
        (2, 3)
    } else {
        (3, 2)
    };
    (
        [corners[i1], corners[i2], corners[i3], corners[i4]],
        rect.size[0].min(rect.size[1]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cv2.convexHull(np.array(pts, np.int32), clockwise=False)` with
    /// OpenCV 4.14.0.
    #[test]
    fn hull_matches_opencv() {
        let points = [
            [4, 7],
            [5, 6],
            [6, 6],
            [7, 7],
            [7, 8],
            [6, 9],
            [5, 9],
            [4, 8],
            [5, 7],
        ];
        assert_eq!(
            convex_hull(&points),
            [
                [4, 7],
                [5, 6],
                [6, 6],
                [7, 7],
                [7, 8],
                [6, 9],
                [5, 9],
                [4, 8]
            ]
        );
        let line = [[0, 0], [3, 3], [1, 1], [2, 2]];
        assert_eq!(convex_hull(&line), [[3, 3], [0, 0]]);
    }

    /// `cv2.minAreaRect` and `cv2.boxPoints` with OpenCV 4.14.0.
    #[test]
    fn rectangles_match_opencv() {
        let axis = min_area_rect(&[[0, 0], [10, 0], [10, 5], [0, 5]]);
        assert_eq!(
            axis,
            RotatedRect {
                center: [5.0, 2.5],
                size: [5.0, 10.0],
                angle: -90.0
            }
        );
        let tilted = min_area_rect(&[[0, 0], [10, 2], [9, 7], [-1, 5]]);
        assert_eq!(tilted.center, [4.5, 3.5]);
        assert_eq!(tilted.size, [5.099_019_5, 10.198_039]);
        assert_eq!(tilted.angle, -78.690_07);
        assert_eq!(
            box_points(&tilted),
            [
                [9.0, 6.999_999_5],
                [-0.999_999_9, 5.0],
                [-1.490_116_1e-7, 2.384_185_8e-7],
                [10.0, 1.999_999_5]
            ]
        );
    }

    #[test]
    fn mini_box_orders_corners_and_reports_the_short_side() {
        let contour = [[3, 6], [3, 9], [11, 9], [11, 6]];
        let (corners, short) = mini_box(&contour);
        assert_eq!(corners, [[3.0, 6.0], [11.0, 6.0], [11.0, 9.0], [3.0, 9.0]]);
        assert_eq!(short, 3.0);
        assert_eq!(mini_box(&[[2, 2]]).1, 0.0);
    }
}
