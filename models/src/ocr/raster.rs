//! rapidocr's `box_score_fast`: the mean detection probability inside a
//! box, with the box rasterised as `cv2.fillPoly` rasterises it (outline
//! drawn with 8-connected lines, interior filled by scanlines between the
//! edges in 16.16 fixed point), so borderline boxes keep or lose the 0.5
//! threshold as they do in rapidocr.

use super::det::ProbMap;

const XY_SHIFT: u32 = 16;
const XY_ONE: i64 = 1 << XY_SHIFT;

/// A mask being drawn on.
struct Mask {
    width: i64,
    height: i64,
    data: Vec<u8>,
}

impl Mask {
    fn set(&mut self, x: i64, y: i64) {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.data[(y * self.width + x) as usize] = 1;
        }
    }
}

/// `cv::clipLine`: clips the segment to the image; false when it lies
/// outside.
fn clip_line(width: i64, height: i64, p1: &mut [i64; 2], p2: &mut [i64; 2]) -> bool {
    let (right, bottom) = (width - 1, height - 1);
    if width <= 0 || height <= 0 {
        return false;
    }
    let code = |p: &[i64; 2]| {
        i32::from(p[0] < 0)
            + i32::from(p[0] > right) * 2
            + i32::from(p[1] < 0) * 4
            + i32::from(p[1] > bottom) * 8
    };
    let (mut c1, mut c2) = (code(p1), code(p2));
    if (c1 & c2) == 0 && (c1 | c2) != 0 {
        if c1 & 12 != 0 {
            let a = if c1 < 8 { 0 } else { bottom };
            p1[0] += ((a - p1[1]) as f64 * (p2[0] - p1[0]) as f64 / (p2[1] - p1[1]) as f64) as i64;
            p1[1] = a;
            c1 = i32::from(p1[0] < 0) + i32::from(p1[0] > right) * 2;
        }
        if c2 & 12 != 0 {
            let a = if c2 < 8 { 0 } else { bottom };
            p2[0] += ((a - p2[1]) as f64 * (p2[0] - p1[0]) as f64 / (p2[1] - p1[1]) as f64) as i64;
            p2[1] = a;
            c2 = i32::from(p2[0] < 0) + i32::from(p2[0] > right) * 2;
        }
        if (c1 & c2) == 0 && (c1 | c2) != 0 {
            if c1 != 0 {
                let a = if c1 == 1 { 0 } else { right };
                p1[1] +=
                    ((a - p1[0]) as f64 * (p2[1] - p1[1]) as f64 / (p2[0] - p1[0]) as f64) as i64;
                p1[0] = a;
                c1 = 0;
            }
            if c2 != 0 {
                let a = if c2 == 1 { 0 } else { right };
                p2[1] +=
                    ((a - p2[0]) as f64 * (p2[1] - p1[1]) as f64 / (p2[0] - p1[0]) as f64) as i64;
                p2[0] = a;
                c2 = 0;
            }
        }
    }
    (c1 | c2) == 0
}

/// OpenCV's 8-connected `Line` (a left-to-right `LineIterator`).
fn line(mask: &mut Mask, mut p1: [i64; 2], mut p2: [i64; 2]) {
    let outside =
        |p: &[i64; 2]| !(0..mask.width).contains(&p[0]) || !(0..mask.height).contains(&p[1]);
    if (outside(&p1) || outside(&p2)) && !clip_line(mask.width, mask.height, &mut p1, &mut p2) {
        return;
    }
    let (mut dx, mut dy) = (p2[0] - p1[0], p2[1] - p1[1]);
    if dx < 0 {
        dx = -dx;
        dy = -dy;
        std::mem::swap(&mut p1, &mut p2);
    }
    let step_y = if dy < 0 { -1 } else { 1 };
    dy = dy.abs();
    let vertical = dy > dx;
    let (long, short) = if vertical { (dy, dx) } else { (dx, dy) };
    let mut err = long - (short + short);
    let (plus, minus) = (long + long, -(short + short));
    let mut p = p1;
    for _ in 0..=long {
        mask.set(p[0], p[1]);
        let diagonal = err < 0;
        err += minus + if diagonal { plus } else { 0 };
        if vertical {
            p[1] += step_y;
            if diagonal {
                p[0] += 1;
            }
        } else {
            p[0] += 1;
            if diagonal {
                p[1] += step_y;
            }
        }
    }
}

/// One non-horizontal polygon edge in fixed point.
#[derive(Debug, Clone, Copy)]
struct Edge {
    y0: i64,
    y1: i64,
    x: i64,
    dx: i64,
}

/// `cv2.fillPoly(mask, [points], 1)` with 8-connected outlines.
fn fill_poly(mask: &mut Mask, points: &[[i64; 2]]) {
    let mut edges = Vec::with_capacity(points.len());
    let Some(&last) = points.last() else {
        return;
    };
    let mut p0 = last;
    for &p1 in points {
        let (mut t0, mut t1) = (p0, p1);
        line(mask, t0, t1);
        let (mut c0, mut c1) = ([p0[0] << XY_SHIFT, p0[1]], [p1[0] << XY_SHIFT, p1[1]]);
        let outside =
            |p: &[i64; 2]| !(0..mask.width).contains(&p[0]) || !(0..mask.height).contains(&p[1]);
        if outside(&t0) || outside(&t1) {
            clip_line(mask.width, mask.height, &mut t0, &mut t1);
            if t0[1] != t1[1] {
                c0[1] = t0[1];
                c1[1] = t1[1];
            }
        }
        c0[0] = t0[0] << XY_SHIFT;
        c1[0] = t1[0] << XY_SHIFT;
        if p0[1] != p1[1] {
            let dx = (c1[0] - c0[0]) / (c1[1] - c0[1]);
            edges.push(if p0[1] < p1[1] {
                Edge {
                    y0: p0[1],
                    y1: p1[1],
                    x: c0[0] + (p0[1] - c0[1]) * dx,
                    dx,
                }
            } else {
                Edge {
                    y0: p1[1],
                    y1: p0[1],
                    x: c1[0] + (p1[1] - c1[1]) * dx,
                    dx,
                }
            });
        }
        p0 = p1;
    }
    fill_edges(mask, edges);
}

/// OpenCV's `FillEdgeCollection`: scanline fill between pairs of active
/// edges, each span from the left edge rounded up to the right edge
/// rounded down.
fn fill_edges(mask: &mut Mask, mut edges: Vec<Edge>) {
    if edges.len() < 2 {
        return;
    }
    let y_min = edges.iter().map(|e| e.y0).min().unwrap_or(0);
    let y_max = edges
        .iter()
        .map(|e| e.y1)
        .max()
        .unwrap_or(0)
        .min(mask.height);
    edges.sort_by_key(|e| (e.y0, e.x, e.dx));
    let mut next = 0;
    let mut active: Vec<Edge> = Vec::new();
    for y in y_min..y_max {
        active.retain(|e| e.y1 != y);
        while next < edges.len() && edges[next].y0 == y {
            active.push(edges[next]);
            next += 1;
        }
        active.sort_by_key(|e| e.x);
        for pair in active.chunks_exact_mut(2) {
            if y >= 0 {
                let (left, right) = (pair[0].x.min(pair[1].x), pair[0].x.max(pair[1].x));
                let x1 = ((left + XY_ONE - 1) >> XY_SHIFT).max(0);
                let x2 = (right >> XY_SHIFT).min(mask.width - 1);
                for x in x1..=x2 {
                    mask.set(x, y);
                }
            }
            pair[0].x += pair[0].dx;
            pair[1].x += pair[1].dx;
        }
    }
}

/// rapidocr's `box_score_fast(map, box)`: the mean of `map` inside the
/// quadrilateral, computed on the box's bounding window.
pub(crate) fn box_score(map: &ProbMap, quad: &[[f32; 2]; 4]) -> f64 {
    let (w, h) = (map.width as i64, map.height as i64);
    if w == 0 || h == 0 {
        return 0.0;
    }
    let xs = quad.map(|p| p[0]);
    let ys = quad.map(|p| p[1]);
    let min = |v: [f32; 4]| v.iter().copied().fold(f32::INFINITY, f32::min);
    let max = |v: [f32; 4]| v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let xmin = (min(xs).floor() as i64).clamp(0, w - 1);
    let xmax = (max(xs).ceil() as i64).clamp(0, w - 1);
    let ymin = (min(ys).floor() as i64).clamp(0, h - 1);
    let ymax = (max(ys).ceil() as i64).clamp(0, h - 1);
    let mut mask = Mask {
        width: xmax - xmin + 1,
        height: ymax - ymin + 1,
        data: vec![0; ((xmax - xmin + 1) * (ymax - ymin + 1)) as usize],
    };
    // numpy's astype(int32) truncates toward zero.
    let points = quad.map(|p| [(p[0] - xmin as f32) as i64, (p[1] - ymin as f32) as i64]);
    fill_poly(&mut mask, &points);
    let (mut sum, mut count) = (0.0_f64, 0_u64);
    for y in 0..mask.height {
        let row = &map.data[((ymin + y) * w + xmin) as usize..][..mask.width as usize];
        let flags = &mask.data[(y * mask.width) as usize..][..mask.width as usize];
        for (&value, &flag) in row.iter().zip(flags) {
            if flag != 0 {
                sum += f64::from(value);
                count += 1;
            }
        }
    }
    if count == 0 { 0.0 } else { sum / count as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(width: i64, height: i64, points: &[[i64; 2]]) -> Vec<String> {
        let mut mask = Mask {
            width,
            height,
            data: vec![0; (width * height) as usize],
        };
        fill_poly(&mut mask, points);
        mask.data
            .chunks(width as usize)
            .map(|row| {
                row.iter()
                    .map(|&v| if v == 1 { '#' } else { '.' })
                    .collect()
            })
            .collect()
    }

    /// `cv2.fillPoly(np.zeros((7, 9), np.uint8), [pts], 1)` with OpenCV
    /// 4.14.0.
    #[test]
    fn fill_matches_opencv() {
        assert_eq!(
            filled(9, 7, &[[1, 1], [7, 2], [6, 5], [0, 4]]),
            [
                ".........",
                ".####....",
                ".#######.",
                "########.",
                "#######..",
                "....###..",
                "........."
            ]
        );
        assert_eq!(
            filled(8, 8, &[[3, 0], [7, 3], [4, 7], [0, 4]]),
            [
                "...#....", "..####..", ".######.", ".#######", "#######.", ".#####..", "...###..",
                "....#..."
            ]
        );
        assert_eq!(
            filled(6, 4, &[[-1, 0], [7, 0], [7, 2], [-1, 2]]),
            ["######", "######", "######", "......"]
        );
    }

    #[test]
    fn score_is_the_mean_inside_the_box() {
        let mut data = vec![0.0_f32; 10 * 6];
        for y in 1..4 {
            for x in 2..8 {
                data[y * 10 + x] = 1.0;
            }
        }
        let map = ProbMap {
            width: 10,
            height: 6,
            data,
        };
        let inside = [[2.0, 1.0], [7.0, 1.0], [7.0, 3.0], [2.0, 3.0]];
        assert!((box_score(&map, &inside) - 1.0).abs() < 1e-9);
        let wider = [[0.0, 1.0], [9.0, 1.0], [9.0, 3.0], [0.0, 3.0]];
        assert!((box_score(&map, &wider) - 0.6).abs() < 1e-9);
    }
}
