//! rapidocr's `unclip`: a box grown by `area * ratio / perimeter` with
//! pyclipper (Clipper 6.4.2 `ClipperOffset`, round joins, closed polygon,
//! arc tolerance 0.25), whose points then feed another minimum-area
//! rectangle.
//!
//! For a rectangle grown by `d` with round corners, the minimum-area
//! enclosing rectangle is the rectangle grown by `d` on every side: the
//! area at a tilt `t` exceeds the untilted one by
//! `(W² + H²) sin t cos t + 2d (W + H)(sin t + cos t - 1) >= 0`. But Clipper
//! works on integers (pyclipper truncates the float corners) and rounds
//! every offset vertex, and its round joins add vertices on arcs, so the
//! grown rectangle's corners land on integers in ways a closed formula
//! would miss by a pixel. This module therefore generates Clipper's offset
//! vertices exactly (`ClipperOffset::DoOffset`); the union Clipper runs
//! afterwards only removes points inside the hull, so the next
//! `minAreaRect` sees the same hull. No Clipper 1 port is on crates.io
//! (`clipper2` is Clipper 2, whose offset differs; `geo-clipper` binds the
//! C++ library).

use std::f64::consts::PI;

/// Clipper's `def_arc_tolerance`.
const ARC_TOLERANCE: f64 = 0.25;

/// Clipper's `Round`: half away from zero.
fn round(value: f64) -> i64 {
    if value < 0.0 {
        (value - 0.5) as i64
    } else {
        (value + 0.5) as i64
    }
}

/// GEOS's (shapely's) polygon area and perimeter of a closed ring.
fn area_and_length(ring: &[[f64; 2]]) -> (f64, f64) {
    let n = ring.len();
    let closed: Vec<[f64; 2]> = ring.iter().copied().chain(ring.first().copied()).collect();
    let x0 = closed[0][0];
    let mut sum = 0.0;
    for i in 1..n {
        let x = closed[i][0] - x0;
        sum += x * (closed[i - 1][1] - closed[i + 1][1]);
    }
    let length = closed
        .windows(2)
        .map(|s| ((s[1][0] - s[0][0]).powi(2) + (s[1][1] - s[0][1]).powi(2)).sqrt())
        .sum();
    ((sum / 2.0).abs(), length)
}

/// Clipper's signed area (positive: its "orientation true").
fn clipper_area(path: &[[i64; 2]]) -> f64 {
    let mut area = 0.0;
    let mut j = path.len() - 1;
    for i in 0..path.len() {
        area += (path[j][0] as f64 + path[i][0] as f64) * (path[j][1] as f64 - path[i][1] as f64);
        j = i;
    }
    -area * 0.5
}

fn unit_normal(a: [i64; 2], b: [i64; 2]) -> [f64; 2] {
    if a == b {
        return [0.0, 0.0];
    }
    let dx = (b[0] - a[0]) as f64;
    let dy = (b[1] - a[1]) as f64;
    let f = 1.0 / (dx * dx + dy * dy).sqrt();
    [dy * f, -(dx * f)]
}

/// The vertices pyclipper's `PyclipperOffset.Execute(distance)` builds for
/// `box` (round joins), before its clean-up union.
pub(crate) fn unclip(quad: &[[f32; 2]; 4], ratio: f64) -> Vec<[i32; 2]> {
    let ring = quad.map(|p| p.map(f64::from));
    let (area, length) = area_and_length(&ring);
    if length <= 0.0 {
        return Vec::new();
    }
    let delta = area * ratio / length;
    // pyclipper converts the float corners with int(): truncation.
    let mut path: Vec<[i64; 2]> = Vec::with_capacity(4);
    for p in quad {
        let point = [p[0] as i64, p[1] as i64];
        if path.last() != Some(&point) {
            path.push(point);
        }
    }
    while path.len() > 1 && path.first() == path.last() {
        path.pop();
    }
    if path.len() < 3 {
        return Vec::new();
    }
    if clipper_area(&path) < 0.0 {
        path.reverse();
    }
    offset(&path, delta)
}

/// `ClipperOffset::DoOffset` for one closed polygon with round joins.
fn offset(path: &[[i64; 2]], delta: f64) -> Vec<[i32; 2]> {
    let tolerance = if ARC_TOLERANCE > delta.abs() * ARC_TOLERANCE {
        delta.abs() * ARC_TOLERANCE
    } else {
        ARC_TOLERANCE
    };
    let mut steps = PI / (1.0 - tolerance / delta.abs()).acos();
    if steps > delta.abs() * PI {
        steps = delta.abs() * PI;
    }
    let (sin, cos) = ((2.0 * PI / steps).sin(), (2.0 * PI / steps).cos());
    let steps_per_radian = steps / (2.0 * PI);
    let n = path.len();
    let normals: Vec<[f64; 2]> = (0..n)
        .map(|j| unit_normal(path[j], path[(j + 1) % n]))
        .collect();
    let mut out: Vec<[i64; 2]> = Vec::new();
    let at = |p: [i64; 2], normal: [f64; 2]| {
        [
            round(p[0] as f64 + normal[0] * delta),
            round(p[1] as f64 + normal[1] * delta),
        ]
    };
    let mut k = n - 1;
    for j in 0..n {
        let (nk, nj) = (normals[k], normals[j]);
        let mut sin_a = nk[0] * nj[1] - nj[0] * nk[1];
        let cos_a = nk[0] * nj[0] + nj[1] * nk[1];
        if (sin_a * delta).abs() < 1.0 {
            if cos_a > 0.0 {
                // Nearly straight: one point, and `k` stays.
                out.push(at(path[j], nk));
                continue;
            }
        } else {
            sin_a = sin_a.clamp(-1.0, 1.0);
        }
        if sin_a * delta < 0.0 {
            out.push(at(path[j], nk));
            out.push(path[j]);
            out.push(at(path[j], nj));
        } else {
            // DoRound.
            let angle = sin_a.atan2(nk[0] * nj[0] + nk[1] * nj[1]);
            let count = round(steps_per_radian * angle.abs()).max(1);
            let (mut x, mut y) = (nk[0], nk[1]);
            for _ in 0..count {
                out.push(at(path[j], [x, y]));
                let x2 = x;
                x = x * cos - sin * y;
                y = x2 * sin + y * cos;
            }
            out.push(at(path[j], nj));
        }
        k = j;
    }
    out.into_iter()
        .map(|p| p.map(|v| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::min_rect::mini_box;
    use super::*;

    /// pyclipper 1.4.0: `PyclipperOffset().AddPath(box, JT_ROUND,
    /// ET_CLOSEDPOLYGON); Execute(d)` gives these points (its union may
    /// start elsewhere and drop collinear ones).
    #[test]
    fn offset_points_match_pyclipper() {
        let mut points = offset(&[[0, 0], [10, 0], [10, 5], [0, 5]], 2.0);
        points.sort_unstable();
        points.dedup();
        let mut expected = vec![
            [12, -1],
            [12, 5],
            [11, 7],
            [0, 7],
            [-2, 6],
            [-2, 0],
            [-1, -2],
            [10, -2],
        ];
        expected.sort_unstable();
        for point in &expected {
            assert!(points.contains(point), "{point:?} missing from {points:?}");
        }
    }

    #[test]
    fn a_rectangle_grows_by_the_distance_on_every_side() {
        // 40 x 8: area 320, perimeter 96, ratio 1.6: d = 5.33.
        let quad = [[10.0, 10.0], [50.0, 10.0], [50.0, 18.0], [10.0, 18.0]];
        let grown = unclip(&quad, 1.6);
        let (corners, short) = mini_box(&grown);
        assert_eq!(
            corners,
            [[5.0, 5.0], [55.0, 5.0], [55.0, 23.0], [5.0, 23.0]]
        );
        assert_eq!(short, 18.0);
    }

    #[test]
    fn float_corners_are_truncated_like_pyclipper() {
        let exact = unclip(&[[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0]], 1.6);
        let fuzzy = unclip(&[[0.9, 0.9], [10.99, 0.5], [10.5, 5.7], [-0.7, 5.99]], 1.6);
        // Same integer polygon, slightly different distance.
        assert_eq!(mini_box(&exact).0[0], mini_box(&fuzzy).0[0]);
    }

    #[test]
    fn degenerate_boxes_give_nothing() {
        assert!(unclip(&[[1.0, 1.0]; 4], 1.6).is_empty());
        assert!(unclip(&[[0.0, 0.0], [5.0, 0.0], [5.0, 0.5], [0.0, 0.5]], 1.6).is_empty());
    }
}
