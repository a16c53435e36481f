//! rapidocr's `DBPostProcess` (fast score mode, dilation on): the
//! probability map thresholded and dilated with a 2x2 kernel, every contour
//! turned into its minimum-area rectangle, scored, grown by the unclip
//! distance, rectangled again, scaled to the page and rounded; then
//! `filter_det_res` (corners ordered, clipped, tiny boxes dropped).

use super::contours::find_contours;
use super::det::ProbMap;
use super::min_rect::mini_box;
use super::order::order_clockwise;
use super::raster::box_score;
use super::unclip::unclip;

/// rapidocr's `min_size`: rectangles with a shorter side are dropped.
const MIN_SIZE: f32 = 3.0;

/// The post-processing settings (`Det.*` of rapidocr's config).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DbParams {
    pub threshold: f32,
    pub box_threshold: f32,
    pub unclip_ratio: f64,
    pub max_candidates: usize,
}

/// A box on the page: corners top-left, top-right, bottom-right,
/// bottom-left (integers, as rapidocr's), and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PageBox {
    pub quad: [[f32; 2]; 4],
    pub score: f32,
}

/// `pred > thresh`, then `cv2.dilate` with a 2x2 kernel of ones (each pixel
/// takes the maximum of itself and its left, upper and upper-left
/// neighbours).
fn bitmap(map: &ProbMap, threshold: f32) -> Vec<u8> {
    let (w, h) = (map.width, map.height);
    let above: Vec<u8> = map.data.iter().map(|&p| u8::from(p > threshold)).collect();
    let mut dilated = vec![0_u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let at = |xx: usize, yy: usize| above[yy * w + xx];
            let mut v = at(x, y);
            if x > 0 {
                v |= at(x - 1, y);
            }
            if y > 0 {
                v |= at(x, y - 1);
                if x > 0 {
                    v |= at(x - 1, y - 1);
                }
            }
            dilated[y * w + x] = v;
        }
    }
    dilated
}

/// The boxes of a page of `width` x `height` whose detector output is
/// `map`, in contour order (not yet in reading order).
pub(crate) fn boxes(map: &ProbMap, width: usize, height: usize, params: &DbParams) -> Vec<PageBox> {
    let (mw, mh) = (map.width, map.height);
    if mw == 0 || mh == 0 {
        return Vec::new();
    }
    let mask = bitmap(map, params.threshold);
    let mut found = Vec::new();
    for contour in find_contours(&mask, mw, mh)
        .iter()
        .take(params.max_candidates)
    {
        let (corners, short) = mini_box(contour);
        if short < MIN_SIZE {
            continue;
        }
        let score = box_score(map, &corners);
        if f64::from(params.box_threshold) > score {
            continue;
        }
        let grown = unclip(&corners, params.unclip_ratio);
        if grown.is_empty() {
            continue;
        }
        let (corners, short) = mini_box(&grown);
        if short < MIN_SIZE + 2.0 {
            continue;
        }
        // numpy float32: box / width * dest_width, rounded half to even,
        // clipped, then cast to int32.
        let scale = |v: f32, from: usize, to: usize| {
            (v / from as f32 * to as f32)
                .round_ties_even()
                .clamp(0.0, to as f32) as i32
        };
        let quad = corners.map(|p| [scale(p[0], mw, width), scale(p[1], mh, height)]);
        if let Some(quad) = filtered(quad, width, height) {
            found.push(PageBox {
                quad,
                score: score as f32,
            });
        }
    }
    found
}

/// rapidocr's `filter_det_res` for one box: corners ordered clockwise from
/// the top-left, clipped to the page, dropped when a side is 3 pixels or
/// less.
fn filtered(quad: [[i32; 2]; 4], width: usize, height: usize) -> Option<[[f32; 2]; 4]> {
    let ordered = order_clockwise(quad);
    let clipped = ordered.map(|p| {
        [
            p[0].clamp(0.0, width as f32 - 1.0).trunc(),
            p[1].clamp(0.0, height as f32 - 1.0).trunc(),
        ]
    });
    let side = |a: [f32; 2], b: [f32; 2]| {
        let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
        (dx * dx + dy * dy).sqrt() as i64
    };
    (side(clipped[0], clipped[1]) > 3 && side(clipped[0], clipped[3]) > 3).then_some(clipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> DbParams {
        DbParams {
            threshold: 0.3,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
            max_candidates: 1000,
        }
    }

    /// A map of `w` x `h` with `value` inside each (x0, y0, x1, y1) block
    /// (inclusive).
    fn map(w: usize, h: usize, blocks: &[(usize, usize, usize, usize, f32)]) -> ProbMap {
        let mut data = vec![0.0; w * h];
        for &(x0, y0, x1, y1, value) in blocks {
            for y in y0..=y1 {
                for x in x0..=x1 {
                    data[y * w + x] = value;
                }
            }
        }
        ProbMap {
            width: w,
            height: h,
            data,
        }
    }

    #[test]
    fn dilation_grows_right_and_down() {
        let m = map(4, 3, &[(1, 0, 1, 0, 0.9)]);
        assert_eq!(bitmap(&m, 0.3), [0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    }

    /// The same map through rapidocr 3.10.0's `DBPostProcess` (OpenCV
    /// 4.14.0, pyclipper 1.4.0): a line of text 40x8 and a faint blob.
    #[test]
    fn a_synthetic_map_gives_rapidocrs_boxes() {
        let m = map(64, 32, &[(10, 10, 49, 17, 0.9), (5, 25, 12, 29, 0.35)]);
        let found = boxes(&m, 64, 32, &params());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].quad,
            [[5.0, 5.0], [55.0, 5.0], [55.0, 23.0], [5.0, 23.0]]
        );
        // The dilated ring around the block counts with probability 0.
        assert!((found[0].score - 0.780_487_8).abs() < 1e-6);
    }

    #[test]
    fn boxes_scale_to_the_page() {
        let m = map(64, 32, &[(10, 10, 49, 17, 0.9)]);
        let found = boxes(&m, 128, 64, &params());
        assert_eq!(
            found[0].quad,
            [[10.0, 10.0], [110.0, 10.0], [110.0, 46.0], [10.0, 46.0]]
        );
    }

    #[test]
    fn small_blobs_and_empty_maps_give_nothing() {
        let m = map(32, 32, &[(3, 3, 4, 4, 0.99)]);
        assert!(boxes(&m, 32, 32, &params()).is_empty());
        assert!(boxes(&map(16, 16, &[]), 16, 16, &params()).is_empty());
    }
}
