//! The page as rapidocr's models see it: packed 8-bit BGR (OpenCV's order),
//! built from the caller's RGB image in one pass, turned upright when the
//! content is rotated, and the mapping of points back to the caller's image.

use image::RgbImage;

/// Packed 8-bit BGR pixels, row-major, no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bgr {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

/// Borrowed packed 3-channel pixels (BGR, or RGB where a caller says so).
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub width: usize,
    pub height: usize,
    pub data: &'a [u8],
}

impl<'a> View<'a> {
    /// The pixels of an `image` RGB buffer (channels stay R, G, B).
    pub fn of_rgb(image: &'a RgbImage) -> Self {
        Self {
            width: image.width() as usize,
            height: image.height() as usize,
            data: image.as_raw(),
        }
    }

    /// One row of packed pixels.
    pub fn row(&self, y: usize) -> &'a [u8] {
        &self.data[y * self.width * 3..][..self.width * 3]
    }
}

impl Bgr {
    /// The pixels as a borrowed view.
    pub fn view(&self) -> View<'_> {
        View {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }

    /// A black image.
    pub fn black(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0; width * height * 3],
        }
    }

    /// One row of packed pixels.
    pub fn row(&self, y: usize) -> &[u8] {
        &self.data[y * self.width * 3..][..self.width * 3]
    }

    /// The caller's image in BGR, turned so that content rotated `rotation`
    /// degrees clockwise (0, 90, 180, 270) becomes upright.
    pub fn upright_from_rgb(image: &RgbImage, rotation: u16) -> Self {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let raw = image.as_raw();
        let (width, height) = if rotation == 90 || rotation == 270 {
            (h, w)
        } else {
            (w, h)
        };
        let mut data = vec![0_u8; width * height * 3];
        for (y, row) in data.chunks_exact_mut(width * 3).enumerate() {
            for (x, out) in row.chunks_exact_mut(3).enumerate() {
                let (sx, sy) = match rotation {
                    90 => (w - 1 - y, x),
                    180 => (w - 1 - x, h - 1 - y),
                    270 => (y, h - 1 - x),
                    _ => (x, y),
                };
                let source = &raw[(sy * w + sx) * 3..][..3];
                out[0] = source[2];
                out[1] = source[1];
                out[2] = source[0];
            }
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// The image with `top` black rows above and `bottom` below
    /// (`cv2.copyMakeBorder` with a constant 0 border).
    pub fn pad_rows(&self, top: usize, bottom: usize) -> Self {
        let stride = self.width * 3;
        let mut data = vec![0_u8; stride * (self.height + top + bottom)];
        data[stride * top..][..self.data.len()].copy_from_slice(&self.data);
        Self {
            width: self.width,
            height: self.height + top + bottom,
            data,
        }
    }
}

/// Maps a point of the upright page back into the caller's image of
/// `width` x `height` pixels whose content was turned `rotation` degrees
/// clockwise (pixel centres at integer coordinates, as OpenCV counts them).
pub(crate) fn to_caller(point: [f32; 2], rotation: u16, width: u32, height: u32) -> [f32; 2] {
    let (w, h) = (width as f32, height as f32);
    let [x, y] = point;
    match rotation {
        90 => [w - 1.0 - y, x],
        180 => [w - 1.0 - x, h - 1.0 - y],
        270 => [y, h - 1.0 - x],
        _ => [x, y],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 image whose pixels encode their coordinates.
    fn sample() -> RgbImage {
        RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8, y as u8, 100]))
    }

    #[test]
    fn conversion_swaps_to_bgr() {
        let bgr = Bgr::upright_from_rgb(&sample(), 0);
        assert_eq!((bgr.width, bgr.height), (3, 2));
        assert_eq!(&bgr.row(1)[6..9], &[100, 1, 2]);
    }

    #[test]
    fn every_turn_maps_pixels_and_points_consistently() {
        let original = sample();
        for rotation in [0, 90, 180, 270] {
            let upright = Bgr::upright_from_rgb(&original, rotation);
            for y in 0..upright.height {
                for x in 0..upright.width {
                    let [ox, oy] = to_caller([x as f32, y as f32], rotation, 3, 2);
                    let pixel = &upright.row(y)[x * 3..][..3];
                    assert_eq!(
                        (pixel[2] as f32, pixel[1] as f32),
                        (ox, oy),
                        "rotation {rotation} at {x},{y}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_page_turned_clockwise_is_turned_back() {
        // Content turned 90 degrees clockwise: the original top-left pixel
        // (marked) sits at the top-right of the file.
        let mut turned = RgbImage::new(2, 3);
        turned.put_pixel(1, 0, image::Rgb([255, 0, 0]));
        let upright = Bgr::upright_from_rgb(&turned, 90);
        assert_eq!((upright.width, upright.height), (3, 2));
        assert_eq!(&upright.row(0)[..3], &[0, 0, 255]);
    }

    #[test]
    fn padding_adds_black_rows() {
        let bgr = Bgr::upright_from_rgb(&sample(), 0).pad_rows(2, 1);
        assert_eq!(bgr.height, 5);
        assert!(bgr.row(0).iter().chain(bgr.row(4)).all(|&v| v == 0));
        assert_eq!(&bgr.row(2)[..3], &[100, 0, 0]);
    }
}
