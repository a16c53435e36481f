//! rapidocr's page preparation before detection (`RapidOCR.preprocess_img`
//! and `apply_vertical_padding`): the long side capped, the short side
//! raised, both rounded to multiples of 32, wide or flat pages padded with
//! black rows; and the way back from the prepared page to the upright one
//! (`map_boxes_to_original`).

use super::image::Bgr;
use super::resize;

/// rapidocr `Global.width_height_ratio`: pages wider than this many heights
/// are padded.
const WIDTH_HEIGHT_RATIO: f64 = 8.0;
/// rapidocr `Global.min_height`: pages at most this high are padded.
const MIN_HEIGHT: usize = 30;

/// Python's `int(round(x / 32) * 32)` for a size.
fn round_to_32(size: usize) -> usize {
    ((size as f64 / 32.0).round_ties_even() * 32.0) as usize
}

/// The page the detector works on and how to map its points back.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// The page after bounds and padding.
    pub image: Bgr,
    /// Upright pixels per prepared pixel, horizontally and vertically.
    pub ratio: [f64; 2],
    /// Black rows added on top.
    pub pad_top: usize,
    /// Size of the upright page.
    pub upright: [usize; 2],
}

/// Resizes so `side` (the long or the short one) becomes `target`, both
/// sides then rounded to multiples of 32 (rapidocr `reduce_max_side` /
/// `increase_min_side`); `None` when a side rounds to 0.
fn rescale(image: &Bgr, target: usize, long: bool) -> Option<(Bgr, [f64; 2])> {
    let (w, h) = (image.width, image.height);
    let ratio = if long == (h > w) {
        target as f64 / h as f64
    } else {
        target as f64 / w as f64
    };
    let height = round_to_32((h as f64 * ratio) as usize);
    let width = round_to_32((w as f64 * ratio) as usize);
    if width == 0 || height == 0 {
        return None;
    }
    let resized = resize::linear(image.view(), width, height);
    Some((resized, [w as f64 / width as f64, h as f64 / height as f64]))
}

/// Prepares the upright page: `None` when it is degenerate (a side rounds
/// to nothing, or padding would make it larger than `max_pixels`).
pub(crate) fn prepare(
    upright: Bgr,
    min_side: usize,
    max_side: usize,
    max_pixels: usize,
) -> Option<Prepared> {
    let size = [upright.width, upright.height];
    if upright.width == 0 || upright.height == 0 {
        return None;
    }
    let mut image = upright;
    let mut ratio = [1.0, 1.0];
    if image.width.max(image.height) > max_side {
        (image, ratio) = rescale(&image, max_side, true)?;
    }
    if image.width.min(image.height) < min_side {
        // rapidocr keeps only this step's ratio.
        (image, ratio) = rescale(&image, min_side, false)?;
    }
    let (w, h) = (image.width, image.height);
    let mut pad_top = 0;
    if h <= MIN_HEIGHT || w as f64 / h as f64 > WIDTH_HEIGHT_RATIO {
        let target = ((w as f64 / WIDTH_HEIGHT_RATIO) as usize).max(MIN_HEIGHT) * 2;
        pad_top = target.abs_diff(h) / 2;
        if w * (h + 2 * pad_top) > max_pixels {
            return None;
        }
        image = image.pad_rows(pad_top, pad_top);
    }
    if image.width * image.height > max_pixels {
        return None;
    }
    Some(Prepared {
        image,
        ratio,
        pad_top,
        upright: size,
    })
}

impl Prepared {
    /// A point of the prepared page in the upright page, as rapidocr maps
    /// boxes back (float32 arithmetic, clipped to the page).
    pub fn to_upright(&self, point: [f32; 2]) -> [f32; 2] {
        let x = point[0] * self.ratio[0] as f32;
        let y = (point[1] - self.pad_top as f32) * self.ratio[1] as f32;
        [
            x.clamp(0.0, self.upright[0] as f32),
            y.clamp(0.0, self.upright[1] as f32),
        ]
    }
}

/// rapidocr's detector input size (`DetPreProcess.resize`): the page
/// scaled by the limit, both sides rounded to multiples of `multiple`;
/// `None` when a side rounds to 0.
pub(crate) fn det_size(
    width: usize,
    height: usize,
    limit: super::DetLimit,
    multiple: usize,
) -> Option<(usize, usize)> {
    let (w, h) = (width as f64, height as f64);
    let ratio = match limit {
        super::DetLimit::MaxSide(side) if width.max(height) > side as usize => {
            f64::from(side) / if height > width { h } else { w }
        }
        super::DetLimit::MinSide(side) if width.min(height) < side as usize => {
            f64::from(side) / if height < width { h } else { w }
        }
        _ => 1.0,
    };
    let round = |size: f64| {
        let m = multiple.max(1) as f64;
        (((size as usize) as f64 / m).round_ties_even() * m) as usize
    };
    let (rw, rh) = (round(w * ratio), round(h * ratio));
    (rw > 0 && rh > 0).then_some((rw, rh))
}

#[cfg(test)]
mod tests {
    use super::super::DetLimit;
    use super::*;

    const CAP: usize = 1 << 24;

    #[test]
    fn a_normal_page_is_left_alone() {
        let page = prepare(Bgr::black(1240, 1754), 30, 2000, CAP).unwrap();
        assert_eq!((page.image.width, page.image.height), (1240, 1754));
        assert_eq!((page.ratio, page.pad_top), ([1.0, 1.0], 0));
        assert_eq!(page.to_upright([10.0, 20.0]), [10.0, 20.0]);
    }

    #[test]
    fn a_large_page_is_capped_and_rounded_to_32() {
        let page = prepare(Bgr::black(2480, 3508), 30, 2000, CAP).unwrap();
        // 3508 -> 2000 -> 62.5 * 32 -> 1984 (ties to even), 2480 -> 1413.9
        // -> 1413 -> 1408.
        assert_eq!((page.image.width, page.image.height), (1408, 1984));
        assert!((page.ratio[0] - 2480.0 / 1408.0).abs() < 1e-12);
        assert!((page.ratio[1] - 3508.0 / 1984.0).abs() < 1e-12);
    }

    #[test]
    fn a_wide_line_is_padded() {
        let page = prepare(Bgr::black(900, 40), 30, 2000, CAP).unwrap();
        // max(900 / 8, 30) * 2 = 224 -> (224 - 40) / 2 = 92 rows each side.
        assert_eq!(page.pad_top, 92);
        assert_eq!(page.image.height, 40 + 184);
        assert_eq!(page.to_upright([5.0, 92.0]), [5.0, 0.0]);
        assert_eq!(page.to_upright([5.0, 500.0]), [5.0, 40.0]);
    }

    #[test]
    fn tiny_and_degenerate_pages_are_refused() {
        assert!(prepare(Bgr::black(0, 10), 30, 2000, CAP).is_none());
        assert!(prepare(Bgr::black(1000, 1), 30, 2000, 8_000_000).is_none());
        assert!(prepare(Bgr::black(3, 3), 30, 2000, CAP).is_some());
    }

    #[test]
    fn det_sizes_follow_rapidocr() {
        assert_eq!(
            det_size(1240, 1754, DetLimit::MinSide(736), 32),
            Some((1248, 1760))
        );
        assert_eq!(
            det_size(300, 200, DetLimit::MinSide(736), 32),
            Some((1088, 736))
        );
        assert_eq!(
            det_size(1240, 1754, DetLimit::MaxSide(512), 32),
            Some((352, 512))
        );
        assert_eq!(
            det_size(100, 80, DetLimit::MaxSide(512), 32),
            Some((96, 64))
        );
        assert_eq!(det_size(10, 10, DetLimit::MaxSide(512), 32), None);
    }
}
