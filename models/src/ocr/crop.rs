//! rapidocr's `get_rotate_crop_image`: a box cut out of the page with a
//! perspective warp (`cv2.getPerspectiveTransform`, `cv2.warpPerspective`
//! with `INTER_CUBIC` and `BORDER_REPLICATE`), turned a quarter counter-
//! clockwise when it stands at least 1.5 times taller than wide.
//!
//! The warp is OpenCV 4.14's, bit for bit: the inverse map in double,
//! source coordinates rounded to 1/32 pixel (in 64x16 blocks, as OpenCV
//! walks them), bicubic weights (a = -0.75) from its 32x32 fixed-point
//! table scaled by 2^15. `imageproc`'s warp uses a = -0.5 in float, which
//! changes the pixels the recogniser sees.

use std::sync::OnceLock;

use super::image::{Bgr, View};

/// Subpixel steps per pixel (`INTER_TAB_SIZE`).
const TAB: i64 = 32;
/// Fixed-point scale of the weights (`INTER_REMAP_COEF_SCALE`).
const COEF_SCALE: i32 = 1 << 15;

/// OpenCV's `interpolateCubic` (a = -0.75), in float.
fn cubic(x: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let c0 = ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
    let c1 = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let c2 = ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    [c0, c1, c2, 1.0 - c0 - c1 - c2]
}

/// OpenCV's `initInterTab2D(INTER_CUBIC, fixpt)`: for each of the 32x32
/// subpixel positions, 4x4 weights summing to 2^15.
fn cubic_table() -> &'static Vec<[i32; 16]> {
    static TABLE: OnceLock<Vec<[i32; 16]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let scale = 1.0_f32 / TAB as f32;
        let one_d: Vec<[f32; 4]> = (0..TAB).map(|i| cubic(i as f32 * scale)).collect();
        let mut table = Vec::with_capacity((TAB * TAB) as usize);
        for y in 0..TAB as usize {
            for x in 0..TAB as usize {
                let mut weights = [0_i32; 16];
                let mut sum = 0;
                for k1 in 0..4 {
                    for k2 in 0..4 {
                        let v = one_d[y][k1] * one_d[x][k2];
                        let w = (v * COEF_SCALE as f32).round_ties_even() as i32;
                        weights[k1 * 4 + k2] = w;
                        sum += w;
                    }
                }
                if sum != COEF_SCALE {
                    let diff = sum - COEF_SCALE;
                    // OpenCV looks at rows and columns 2-3 only.
                    let (mut big, mut small) = (10, 10);
                    for k1 in 2..4 {
                        for k2 in 2..4 {
                            let i = k1 * 4 + k2;
                            if weights[i] < weights[small] {
                                small = i;
                            } else if weights[i] > weights[big] {
                                big = i;
                            }
                        }
                    }
                    if diff < 0 {
                        weights[big] -= diff;
                    } else {
                        weights[small] -= diff;
                    }
                }
                table.push(weights);
            }
        }
        table
    })
}

/// `cv2.getPerspectiveTransform(src, dst)`: the 3x3 map (row major) solved
/// with OpenCV's LU decomposition.
fn perspective_transform(src: &[[f32; 2]; 4], dst: &[[f32; 2]; 4]) -> Option<[f64; 9]> {
    let mut a = [[0.0_f64; 8]; 8];
    let mut b = [0.0_f64; 8];
    for i in 0..4 {
        let ([sx, sy], [dx, dy]) = (src[i], dst[i]);
        a[i] = [
            f64::from(sx),
            f64::from(sy),
            1.0,
            0.0,
            0.0,
            0.0,
            f64::from(-sx * dx),
            f64::from(-sy * dx),
        ];
        a[i + 4] = [
            0.0,
            0.0,
            0.0,
            f64::from(sx),
            f64::from(sy),
            1.0,
            f64::from(-sx * dy),
            f64::from(-sy * dy),
        ];
        b[i] = f64::from(dx);
        b[i + 4] = f64::from(dy);
    }
    // OpenCV's LUImpl: partial pivoting, eliminating with -1/pivot.
    let eps = f64::EPSILON * 100.0;
    for i in 0..8 {
        let mut k = i;
        for j in i + 1..8 {
            if a[j][i].abs() > a[k][i].abs() {
                k = j;
            }
        }
        if a[k][i].abs() < eps {
            return None;
        }
        if k != i {
            a.swap(i, k);
            b.swap(i, k);
        }
        let d = -1.0 / a[i][i];
        let pivot = a[i];
        for j in i + 1..8 {
            let alpha = a[j][i] * d;
            for (target, &source) in a[j].iter_mut().zip(&pivot).skip(i + 1) {
                *target += alpha * source;
            }
            b[j] += alpha * b[i];
        }
    }
    for i in (0..8).rev() {
        let mut s = b[i];
        for (&coefficient, &known) in a[i].iter().zip(&b).skip(i + 1) {
            s -= coefficient * known;
        }
        b[i] = s / a[i][i];
    }
    Some([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], 1.0])
}

/// OpenCV's `invert` of a 3x3 double matrix (the determinant formula).
fn invert(m: &[f64; 9]) -> Option<[f64; 9]> {
    let at = |r: usize, c: usize| m[r * 3 + c];
    let det = at(0, 0) * (at(1, 1) * at(2, 2) - at(1, 2) * at(2, 1))
        - at(0, 1) * (at(1, 0) * at(2, 2) - at(1, 2) * at(2, 0))
        + at(0, 2) * (at(1, 0) * at(2, 1) - at(1, 1) * at(2, 0));
    if det == 0.0 {
        return None;
    }
    let d = 1.0 / det;
    Some([
        (at(1, 1) * at(2, 2) - at(1, 2) * at(2, 1)) * d,
        (at(0, 2) * at(2, 1) - at(0, 1) * at(2, 2)) * d,
        (at(0, 1) * at(1, 2) - at(0, 2) * at(1, 1)) * d,
        (at(1, 2) * at(2, 0) - at(1, 0) * at(2, 2)) * d,
        (at(0, 0) * at(2, 2) - at(0, 2) * at(2, 0)) * d,
        (at(0, 2) * at(1, 0) - at(0, 0) * at(1, 2)) * d,
        (at(1, 0) * at(2, 1) - at(1, 1) * at(2, 0)) * d,
        (at(0, 1) * at(2, 0) - at(0, 0) * at(2, 1)) * d,
        (at(0, 0) * at(1, 1) - at(0, 1) * at(1, 0)) * d,
    ])
}

/// `cv2.warpPerspective(image, m, (width, height), flags=INTER_CUBIC,
/// borderMode=BORDER_REPLICATE)`.
fn warp(image: View<'_>, m: &[f64; 9], width: usize, height: usize) -> Option<Bgr> {
    let inv = invert(m)?;
    let table = cubic_table();
    let mut out = Bgr::black(width, height);
    if width == 0 || height == 0 || image.width == 0 || image.height == 0 {
        return Some(out);
    }
    let (sw, sh) = (image.width as i64, image.height as i64);
    let block_h = height.min(16);
    let block_w = width.min(1024 / block_h);
    let block_h = height.min(1024 / block_w);
    for y0 in (0..height).step_by(block_h) {
        for x0 in (0..width).step_by(block_w) {
            for y in y0..(y0 + block_h).min(height) {
                let (xf, yf) = (x0 as f64, y as f64);
                let bx = inv[0] * xf + inv[1] * yf + inv[2];
                let by = inv[3] * xf + inv[4] * yf + inv[5];
                let bw = inv[6] * xf + inv[7] * yf + inv[8];
                for x in x0..(x0 + block_w).min(width) {
                    let x1 = (x - x0) as f64;
                    let w = bw + inv[6] * x1;
                    let w = if w != 0.0 { TAB as f64 / w } else { 0.0 };
                    let limit = |v: f64| v.clamp(f64::from(i32::MIN), f64::from(i32::MAX));
                    let sx = limit((bx + inv[0] * x1) * w).round_ties_even() as i64;
                    let sy = limit((by + inv[3] * x1) * w).round_ties_even() as i64;
                    let (ix, iy) = (
                        (sx >> 5).clamp(-32768, 32767),
                        (sy >> 5).clamp(-32768, 32767),
                    );
                    let weights = &table[((sy & (TAB - 1)) * TAB + (sx & (TAB - 1))) as usize];
                    let mut sums = [0_i32; 3];
                    for k1 in 0..4 {
                        let row = image.row((iy - 1 + k1 as i64).clamp(0, sh - 1) as usize);
                        for k2 in 0..4 {
                            let px = (ix - 1 + k2 as i64).clamp(0, sw - 1) as usize;
                            let weight = weights[k1 * 4 + k2];
                            for c in 0..3 {
                                sums[c] += i32::from(row[px * 3 + c]) * weight;
                            }
                        }
                    }
                    let pixel = &mut out.data[(y * width + x) * 3..][..3];
                    for c in 0..3 {
                        pixel[c] = ((sums[c] + (1 << 14)) >> 15).clamp(0, 255) as u8;
                    }
                }
            }
        }
    }
    Some(out)
}

/// `np.rot90(image)`: a quarter turn counter-clockwise.
fn rotate_counter_clockwise(image: &Bgr) -> Bgr {
    let (w, h) = (image.width, image.height);
    let mut out = Bgr::black(h, w);
    for y in 0..w {
        for x in 0..h {
            let source = &image.row(x)[(w - 1 - y) * 3..][..3];
            out.data[(y * h + x) * 3..][..3].copy_from_slice(source);
        }
    }
    out
}

/// Length of a box side as numpy measures it (float32).
fn side(a: [f32; 2], b: [f32; 2]) -> usize {
    let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
    (dx * dx + dy * dy).sqrt() as usize
}

/// The line image of `quad` (top-left, top-right, bottom-right,
/// bottom-left) cut out of the page; `None` for a degenerate box.
pub(crate) fn crop(page: &Bgr, quad: &[[f32; 2]; 4]) -> Option<Bgr> {
    let width = side(quad[0], quad[1]).max(side(quad[2], quad[3]));
    let height = side(quad[0], quad[3]).max(side(quad[1], quad[2]));
    if width == 0 || height == 0 {
        return None;
    }
    let (w, h) = (width as f32, height as f32);
    let target = [[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]];
    let m = perspective_transform(quad, &target)?;
    let cut = warp(page.view(), &m, width, height)?;
    Some(if height as f64 / width as f64 >= 1.5 {
        rotate_counter_clockwise(&cut)
    } else {
        cut
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An 80x60 page of pseudo-random bytes (the same formula in Python).
    fn page() -> Bgr {
        Bgr {
            width: 80,
            height: 60,
            data: (0..80 * 60 * 3)
                .map(|i: usize| ((i * 31 + (i / 240) * 17 + i * i % 7) % 256) as u8)
                .collect(),
        }
    }

    #[test]
    fn transform_maps_the_corners() {
        let src = [[3.0, 4.0], [50.0, 6.0], [52.0, 30.0], [2.0, 28.0]];
        let dst = [[0.0, 0.0], [47.0, 0.0], [47.0, 24.0], [0.0, 24.0]];
        let m = perspective_transform(&src, &dst).unwrap();
        for (s, d) in src.iter().zip(&dst) {
            let (x, y) = (f64::from(s[0]), f64::from(s[1]));
            let w = m[6] * x + m[7] * y + m[8];
            assert!(((m[0] * x + m[1] * y + m[2]) / w - f64::from(d[0])).abs() < 1e-9);
            assert!(((m[3] * x + m[4] * y + m[5]) / w - f64::from(d[1])).abs() < 1e-9);
        }
    }

    #[test]
    fn cubic_table_rows_sum_to_one() {
        for weights in cubic_table() {
            assert_eq!(weights.iter().sum::<i32>(), COEF_SCALE);
        }
        // Whole-pixel positions copy the pixel.
        assert_eq!(cubic_table()[0][5], COEF_SCALE);
    }

    /// `get_rotate_crop_image(page, box)` of rapidocr 3.10.0 with OpenCV
    /// 4.14.0: shape and the first bytes.
    #[test]
    fn crop_matches_opencv() {
        let quad = [[3.0, 4.0], [50.0, 6.0], [52.0, 30.0], [2.0, 28.0]];
        let cut = crop(&page(), &quad).unwrap();
        assert_eq!((cut.width, cut.height), (50, 24));
        assert_eq!(
            &cut.data[..12],
            &[157, 188, 221, 247, 23, 61, 102, 102, 136, 188, 221, 223]
        );
        assert_eq!(&cut.data[cut.data.len() - 6..], &[250, 33, 34, 74, 86, 113]);
        let sum: u64 = cut.data.iter().map(|&v| u64::from(v)).sum();
        assert_eq!(sum, 457_996);
    }

    #[test]
    fn tall_boxes_are_turned_and_flat_ones_dropped() {
        let tall = [[10.0, 5.0], [20.0, 5.0], [20.0, 45.0], [10.0, 45.0]];
        let cut = crop(&page(), &tall).unwrap();
        assert_eq!((cut.width, cut.height), (40, 10));
        assert_eq!(
            &cut.data[..9],
            &[142, 175, 203, 174, 204, 236, 207, 241, 14]
        );
        let sum: u64 = cut.data.iter().map(|&v| u64::from(v)).sum();
        assert_eq!(sum, 153_247);
        let flat = [[10.0, 5.0], [20.0, 5.0], [20.0, 5.0], [10.0, 5.0]];
        assert!(crop(&page(), &flat).is_none());
    }
}
