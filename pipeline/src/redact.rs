//! Redaction of renditions: faces blurred, ID-number lines masked, so the
//! renditions of an identity paper can be shared while the original is kept
//! unchanged.
//!
//! A [`Redaction`] holds its areas in fractions of the upright image, so one
//! value applies to every rendition size. [`crate::rendition::render_redacted`]
//! applies it to each rendition after resizing and before encoding, so the
//! pixels outside the areas are exactly those of the plain rendition.
//!
//! - A blurred region is grown by [`BLUR_MARGIN`] of its size on each side
//!   (at least [`MIN_MARGIN_PX`]) and reduced to about [`BLUR_CELLS`] cells
//!   along its long side (the mean of each cell, premultiplied by alpha),
//!   which are then interpolated bilinearly back over the region: a smooth
//!   blur holding about 8x8 values, in which a face cannot be recognised.
//! - A filled quad (the four corners of a text line, in any order: their
//!   convex hull is filled) is grown by [`MIN_MARGIN_PX`] and painted opaque
//!   black.
//!
//! The margins of at least 3 pixels cover the support of the Lanczos3
//! kernel that made the rendition (3 output pixels), so what was inside an
//! area does not ring into the pixels left untouched around it.
//!
//! Pixels outside the grown areas are never written; the image keeps its
//! colour type. Areas that are not finite, have no extent or lie outside the
//! image are ignored.

use image::{DynamicImage, ImageBuffer, Pixel};
use serde::{Deserialize, Serialize};

/// An axis-aligned region `[x, y, width, height]` in fractions (0..1) of the
/// upright image's width and height.
pub type Region = [f32; 4];

/// The four corners `[x, y]` of a (possibly rotated) text line, in fractions
/// of the upright image's width and height, in any order.
pub type Quad = [[f32; 2]; 4];

/// Grown by this fraction of its width (height) on the left and right (top
/// and bottom), a face region also covers hair, ears and chin.
pub const BLUR_MARGIN: f64 = 0.15;

/// Least margin around every area, in pixels of the image redacted: the
/// support of the Lanczos3 kernel that made the rendition.
pub const MIN_MARGIN_PX: f64 = 3.0;

/// Cells along the long side of a blurred region.
pub const BLUR_CELLS: f64 = 8.0;

/// What to hide in the renditions of one image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    /// Regions to blur beyond recognition (faces).
    pub blur: Vec<Region>,
    /// Text lines to fill with solid black (ID numbers, machine-readable
    /// zones).
    pub fill: Vec<Quad>,
}

impl Redaction {
    /// Nothing to hide.
    pub fn is_empty(&self) -> bool {
        self.blur.is_empty() && self.fill.is_empty()
    }
}

/// A redacted copy of `image` (see [`redact_in_place`]).
pub fn redact(image: &DynamicImage, redaction: &Redaction) -> DynamicImage {
    let mut copy = image.clone();
    redact_in_place(&mut copy, redaction);
    copy
}

/// Blurs and fills the areas of `redaction` in `image`, keeping its colour
/// type; pixels outside the grown areas are left as they are.
pub fn redact_in_place(image: &mut DynamicImage, redaction: &Redaction) {
    if redaction.is_empty() {
        return;
    }
    match image {
        DynamicImage::ImageLuma8(b) => redact_buffer(b, false, redaction),
        DynamicImage::ImageLumaA8(b) => redact_buffer(b, true, redaction),
        DynamicImage::ImageRgb8(b) => redact_buffer(b, false, redaction),
        DynamicImage::ImageRgba8(b) => redact_buffer(b, true, redaction),
        DynamicImage::ImageLuma16(b) => redact_buffer(b, false, redaction),
        DynamicImage::ImageLumaA16(b) => redact_buffer(b, true, redaction),
        DynamicImage::ImageRgb16(b) => redact_buffer(b, false, redaction),
        DynamicImage::ImageRgba16(b) => redact_buffer(b, true, redaction),
        DynamicImage::ImageRgb32F(b) => redact_buffer(b, false, redaction),
        DynamicImage::ImageRgba32F(b) => redact_buffer(b, true, redaction),
        // A layout added to `image` later: redacted as 8-bit RGBA rather
        // than left unredacted.
        other => {
            let mut rgba = other.to_rgba8();
            redact_buffer(&mut rgba, true, redaction);
            *other = DynamicImage::ImageRgba8(rgba);
        }
    }
}

/// A channel value: 8 or 16-bit integer, or 32-bit float (0..1).
trait Sample: Copy {
    /// Full intensity (opaque alpha).
    const MAX: Self;
    /// Zero intensity.
    const ZERO: Self;
    fn to_f64(self) -> f64;
    /// Rounded and clamped to the type's range.
    fn from_f64(value: f64) -> Self;
}

impl Sample for u8 {
    const MAX: Self = u8::MAX;
    const ZERO: Self = 0;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(value: f64) -> Self {
        value.round().clamp(0.0, 255.0) as u8
    }
}

impl Sample for u16 {
    const MAX: Self = u16::MAX;
    const ZERO: Self = 0;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(value: f64) -> Self {
        value.round().clamp(0.0, 65_535.0) as u16
    }
}

impl Sample for f32 {
    const MAX: Self = 1.0;
    const ZERO: Self = 0.0;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(value: f64) -> Self {
        // Float images may hold values beyond 0..1 (HDR): kept as they are.
        value as f32
    }
}

fn redact_buffer<P>(
    buffer: &mut ImageBuffer<P, Vec<P::Subpixel>>,
    has_alpha: bool,
    redaction: &Redaction,
) where
    P: Pixel,
    P::Subpixel: Sample,
{
    let (width, height) = buffer.dimensions();
    let data: &mut [P::Subpixel] = buffer;
    let mut plane = Plane {
        data,
        width: width as usize,
        height: height as usize,
        channels: usize::from(P::CHANNEL_COUNT),
        has_alpha,
    };
    for region in &redaction.blur {
        if let Some(rect) = plane.blur_rect(region) {
            plane.blur(rect);
        }
    }
    for quad in &redaction.fill {
        plane.fill(quad);
    }
}

/// Pixel rectangle `[x0, x1) x [y0, y1)`, non-empty, within the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rect {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

/// The interleaved samples of one image.
struct Plane<'a, S> {
    data: &'a mut [S],
    width: usize,
    height: usize,
    channels: usize,
    has_alpha: bool,
}

impl<S: Sample> Plane<'_, S> {
    /// The pixels of `region` grown by its margin, clamped to the image;
    /// `None` when invalid or outside.
    fn blur_rect(&self, region: &Region) -> Option<Rect> {
        let [x, y, w, h] = region.map(f64::from);
        if !(x.is_finite() && y.is_finite() && w.is_finite() && h.is_finite())
            || w <= 0.0
            || h <= 0.0
        {
            return None;
        }
        let (iw, ih) = (self.width as f64, self.height as f64);
        let mx = (w * iw * BLUR_MARGIN).max(MIN_MARGIN_PX);
        let my = (h * ih * BLUR_MARGIN).max(MIN_MARGIN_PX);
        let clamp = |v: f64, limit: usize| v.clamp(0.0, limit as f64) as usize;
        let rect = Rect {
            x0: clamp((x * iw - mx).floor(), self.width),
            x1: clamp(((x + w) * iw + mx).ceil(), self.width),
            y0: clamp((y * ih - my).floor(), self.height),
            y1: clamp(((y + h) * ih + my).ceil(), self.height),
        };
        (rect.x1 > rect.x0 && rect.y1 > rect.y0).then_some(rect)
    }

    /// Replaces `rect` by the bilinear interpolation of its cell means.
    fn blur(&mut self, rect: Rect) {
        let (rw, rh) = (rect.x1 - rect.x0, rect.y1 - rect.y0);
        let cell = rw.max(rh) as f64 / BLUR_CELLS;
        let cells = |side: usize| ((side as f64 / cell).round() as usize).clamp(1, side);
        let (nx, ny) = (cells(rw), cells(rh));
        let c = self.channels;
        let alpha = self.has_alpha.then_some(c - 1);
        let alpha_max = S::MAX.to_f64();
        // Per cell and channel: the mean premultiplied by alpha, the plain
        // mean (colour under fully transparent cells), and the pixel count.
        let mut premultiplied = vec![0.0_f64; nx * ny * c];
        let mut plain = vec![0.0_f64; nx * ny * c];
        let mut count = vec![0_u32; nx * ny];
        for y in rect.y0..rect.y1 {
            let cy = (y - rect.y0) * ny / rh;
            for x in rect.x0..rect.x1 {
                let cx = (x - rect.x0) * nx / rw;
                let cell = cy * nx + cx;
                let pixel = &self.data[(y * self.width + x) * c..][..c];
                let weight = alpha.map_or(1.0, |a| pixel[a].to_f64() / alpha_max);
                for (channel, sample) in pixel.iter().enumerate() {
                    let value = sample.to_f64();
                    plain[cell * c + channel] += value;
                    premultiplied[cell * c + channel] += if Some(channel) == alpha {
                        value
                    } else {
                        value * weight
                    };
                }
                count[cell] += 1;
            }
        }
        for (cell, &n) in count.iter().enumerate() {
            let n = f64::from(n.max(1));
            for channel in 0..c {
                plain[cell * c + channel] /= n;
                premultiplied[cell * c + channel] /= n;
            }
        }
        // Each pixel centre between the four nearest cell centres.
        let taps = |side: usize, n: usize| -> Vec<(usize, usize, f64)> {
            (0..side)
                .map(|i| {
                    let u = ((i as f64 + 0.5) * n as f64 / side as f64 - 0.5)
                        .clamp(0.0, (n - 1) as f64);
                    let i0 = u.floor() as usize;
                    (i0, (i0 + 1).min(n - 1), u - i0 as f64)
                })
                .collect()
        };
        let (columns, rows) = (taps(rw, nx), taps(rh, ny));
        let lerp = |values: &[f64],
                    (y0, y1, fy): (usize, usize, f64),
                    (x0, x1, fx): (usize, usize, f64),
                    channel: usize| {
            let at = |cy: usize, cx: usize| values[(cy * nx + cx) * c + channel];
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
            let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
            top * (1.0 - fy) + bottom * fy
        };
        for (dy, &row) in rows.iter().enumerate() {
            for (dx, &column) in columns.iter().enumerate() {
                let start = ((rect.y0 + dy) * self.width + rect.x0 + dx) * c;
                let coverage = alpha.map(|a| lerp(&premultiplied, row, column, a) / alpha_max);
                for channel in 0..c {
                    let value = match coverage {
                        Some(_) if Some(channel) == alpha => {
                            lerp(&premultiplied, row, column, channel)
                        }
                        Some(covered) if covered > 1e-9 => {
                            lerp(&premultiplied, row, column, channel) / covered
                        }
                        _ => lerp(&plain, row, column, channel),
                    };
                    self.data[start + channel] = S::from_f64(value);
                }
            }
        }
    }

    /// Paints the convex hull of `quad`, grown by [`MIN_MARGIN_PX`], opaque
    /// black; ignores a quad that is not finite or has no area.
    fn fill(&mut self, quad: &Quad) {
        if quad.iter().flatten().any(|v| !v.is_finite()) {
            return;
        }
        let (iw, ih) = (self.width as f64, self.height as f64);
        let hull = convex_hull(quad.map(|[x, y]| [f64::from(x) * iw, f64::from(y) * ih]));
        if hull.len() < 3 || area(&hull) < 1e-6 {
            return;
        }
        let grow = MIN_MARGIN_PX;
        let (mut low, mut high) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for point in &hull {
            for axis in 0..2 {
                low[axis] = low[axis].min(point[axis] - grow);
                high[axis] = high[axis].max(point[axis] + grow);
            }
        }
        let clamp = |v: f64, limit: usize| v.clamp(0.0, limit as f64) as usize;
        let rect = Rect {
            x0: clamp(low[0].floor(), self.width),
            x1: clamp(high[0].ceil(), self.width),
            y0: clamp(low[1].floor(), self.height),
            y1: clamp(high[1].ceil(), self.height),
        };
        let c = self.channels;
        let alpha = self.has_alpha.then_some(c - 1);
        for y in rect.y0..rect.y1 {
            for x in rect.x0..rect.x1 {
                let centre = [x as f64 + 0.5, y as f64 + 0.5];
                if !within(&hull, centre, grow) {
                    continue;
                }
                let pixel = &mut self.data[(y * self.width + x) * c..][..c];
                for (channel, sample) in pixel.iter_mut().enumerate() {
                    *sample = if Some(channel) == alpha {
                        S::MAX
                    } else {
                        S::ZERO
                    };
                }
            }
        }
    }
}

/// `(b - a) x (c - a)`: positive when `a, b, c` turn counter-clockwise (in
/// axes with y up).
fn cross(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// The convex hull of `points`, counter-clockwise (monotone chain), without
/// collinear points.
fn convex_hull(points: [[f64; 2]; 4]) -> Vec<[f64; 2]> {
    let mut points = points.to_vec();
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(points.len() + 1);
    for pass in [
        &points[..],
        &points.iter().rev().copied().collect::<Vec<_>>()[..],
    ] {
        let floor = hull.len();
        for &p in pass {
            while hull.len() >= floor + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        // The last point of each chain starts the other one.
        hull.pop();
    }
    hull
}

/// Area of a convex polygon.
fn area(polygon: &[[f64; 2]]) -> f64 {
    let origin = polygon[0];
    polygon
        .windows(2)
        .map(|pair| cross(origin, pair[0], pair[1]))
        .sum::<f64>()
        .abs()
        / 2.0
}

/// Whether `point` lies inside the counter-clockwise convex `polygon` or
/// within `grow` of its boundary.
fn within(polygon: &[[f64; 2]], point: [f64; 2], grow: f64) -> bool {
    let edges = || {
        polygon
            .iter()
            .zip(polygon.iter().cycle().skip(1))
            .map(|(&a, &b)| (a, b))
    };
    edges().all(|(a, b)| cross(a, b, point) >= 0.0)
        || edges().any(|(a, b)| distance_to_segment(point, a, b) <= grow)
}

fn distance_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length = dx * dx + dy * dy;
    let t = if length > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p[0] - a[0] - t * dx).hypot(p[1] - a[1] - t * dy)
}

#[cfg(test)]
mod tests {
    use image::{GenericImageView, Luma, Rgb, RgbImage, Rgba, Rgba32FImage, RgbaImage};

    use super::*;

    /// A busy background (so untouched pixels are checked meaningfully)
    /// with a 2-pixel black-and-white checkerboard "face" at `face` pixels.
    fn textured(width: u32, height: u32, face: [u32; 4]) -> DynamicImage {
        let [fx, fy, fw, fh] = face;
        DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
            if (fx..fx + fw).contains(&x) && (fy..fy + fh).contains(&y) {
                let v = if (x / 2 + y / 2) % 2 == 0 { 0 } else { 255 };
                Rgb([v, v, v])
            } else {
                Rgb([
                    (x * 7 % 256) as u8,
                    (y * 13 % 256) as u8,
                    ((x * y) % 251) as u8,
                ])
            }
        }))
    }

    fn luma_variance(image: &DynamicImage, [x, y, w, h]: [u32; 4]) -> f64 {
        let values: Vec<f64> = image
            .view(x, y, w, h)
            .to_image()
            .pixels()
            .map(|p| f64::from(p.to_luma().0[0]))
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64
    }

    /// Pixels (x, y) where `a` and `b` differ.
    fn changed(a: &DynamicImage, b: &DynamicImage) -> Vec<(u32, u32)> {
        a.pixels()
            .zip(b.pixels())
            .filter(|((_, _, p), (_, _, q))| p != q)
            .map(|((x, y, _), _)| (x, y))
            .collect()
    }

    #[test]
    fn a_blurred_face_loses_its_detail_and_nothing_else_changes() {
        // 200x160; the region [0.25, 0.25, 0.5, 0.375] is x 50..150, y 40..100
        // (fractions exact in binary, so the pixel bounds are too).
        let face = [50, 40, 100, 60];
        let image = textured(200, 160, face);
        let redaction = Redaction {
            blur: vec![[0.25, 0.25, 0.5, 0.375]],
            fill: vec![],
        };
        let redacted = redact(&image, &redaction);
        assert_eq!(redacted.color(), image.color());
        // Grown by 15 %: 15 px left and right, 9 px above and below.
        let grown = (35..165, 31..109);
        let changes = changed(&image, &redacted);
        assert!(
            changes
                .iter()
                .all(|(x, y)| grown.0.contains(x) && grown.1.contains(y)),
            "a pixel outside the grown region changed"
        );
        assert!(changes.contains(&(35, 31)) && changes.contains(&(164, 108)));
        let before = luma_variance(&image, face);
        let after = luma_variance(&redacted, face);
        assert!(after < before * 0.2, "variance {before} -> {after}");
        // The checkerboard is gone: neighbours are nearly equal.
        let rgb = redacted.to_rgb8();
        let steepest = (50..149)
            .flat_map(|x| (40..100).map(move |y| (x, y)))
            .map(|(x, y)| rgb.get_pixel(x, y)[0].abs_diff(rgb.get_pixel(x + 1, y)[0]))
            .max()
            .unwrap();
        assert!(steepest < 40, "an edge of {steepest} is left");
        // The original is unchanged (redact copies).
        assert_eq!(image, textured(200, 160, face));
    }

    #[test]
    fn a_filled_quad_is_covered_with_its_margin_only() {
        let image = textured(200, 100, [0, 0, 0, 0]);
        // x 50..100, y 40..45, corners in no particular order.
        let quad = [[0.5, 0.45], [0.25, 0.4], [0.5, 0.4], [0.25, 0.45]];
        let redacted = redact(
            &image,
            &Redaction {
                blur: vec![],
                fill: vec![quad],
            },
        );
        let rgb = redacted.to_rgb8();
        for x in 50..100 {
            for y in 40..45 {
                assert_eq!(rgb.get_pixel(x, y), &Rgb([0, 0, 0]), "({x}, {y})");
            }
        }
        // The margin: 3 px around (round at the corners), pixel centres
        // measured.
        assert_eq!(rgb.get_pixel(47, 42), &Rgb([0, 0, 0]));
        assert_eq!(rgb.get_pixel(102, 42), &Rgb([0, 0, 0]));
        assert_eq!(rgb.get_pixel(75, 37), &Rgb([0, 0, 0]));
        assert_eq!(rgb.get_pixel(75, 47), &Rgb([0, 0, 0]));
        assert_ne!(rgb.get_pixel(102, 37), &Rgb([0, 0, 0]), "a corner");
        assert!(
            changed(&image, &redacted)
                .iter()
                .all(|&(x, y)| (47..103).contains(&x) && (37..48).contains(&y))
        );
    }

    #[test]
    fn a_rotated_quad_is_filled_along_its_slant() {
        let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(100, 100, Rgb([200, 200, 200])));
        // A line from (20, 20) to (80, 80), 6 px thick, corners in any order.
        let corners = [[0.22, 0.18], [0.18, 0.22], [0.78, 0.82], [0.82, 0.78]];
        let redacted = redact(
            &image,
            &Redaction {
                blur: vec![],
                fill: vec![corners],
            },
        )
        .to_rgb8();
        for t in 20..80 {
            assert_eq!(redacted.get_pixel(t, t), &Rgb([0, 0, 0]), "({t}, {t})");
        }
        assert_eq!(redacted.get_pixel(80, 20), &Rgb([200, 200, 200]));
        assert_eq!(redacted.get_pixel(20, 80), &Rgb([200, 200, 200]));
        assert_eq!(redacted.get_pixel(60, 50), &Rgb([200, 200, 200]));
    }

    #[test]
    fn areas_outside_are_clamped_and_degenerate_ones_ignored() {
        let image = textured(64, 48, [0, 0, 64, 48]);
        let degenerate = Redaction {
            blur: vec![
                [1.5, 1.5, 0.1, 0.1],
                [-0.5, 0.2, 0.3, 0.3],
                [0.2, 0.2, 0.0, 0.3],
                [0.2, 0.2, -0.1, 0.3],
                [f32::NAN, 0.2, 0.3, 0.3],
                [0.2, 0.2, f32::INFINITY, 0.3],
            ],
            fill: vec![
                [[0.5, 0.5]; 4],
                [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4]],
                [[f32::NAN, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.2]],
                [[2.0, 2.0], [3.0, 2.0], [3.0, 3.0], [2.0, 3.0]],
            ],
        };
        assert!(!degenerate.is_empty());
        assert_eq!(redact(&image, &degenerate), image);
        let partly_outside = Redaction {
            blur: vec![[-0.25, -0.25, 0.5, 0.5], [0.9, 0.9, 0.5, 0.5]],
            fill: vec![[[0.8, -0.1], [1.2, -0.1], [1.2, 0.1], [0.8, 0.1]]],
        };
        let redacted = redact(&image, &partly_outside);
        assert_eq!(redacted.dimensions(), (64, 48));
        assert_ne!(redacted, image);
        assert_eq!(redacted.to_rgb8().get_pixel(63, 0), &Rgb([0, 0, 0]));
        // The whole of a 1x1 image, and an empty redaction.
        let dot = DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb([9, 9, 9])));
        let whole = Redaction {
            blur: vec![[0.0, 0.0, 1.0, 1.0]],
            fill: vec![[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]],
        };
        assert_eq!(
            redact(&dot, &whole).to_rgb8().get_pixel(0, 0),
            &Rgb([0, 0, 0])
        );
        assert!(Redaction::default().is_empty());
        assert_eq!(redact(&image, &Redaction::default()), image);
    }

    #[test]
    fn colour_types_are_kept_and_alpha_respected() {
        let redaction = Redaction {
            blur: vec![[0.25, 0.25, 0.5, 0.5]],
            fill: vec![[[0.0, 0.9], [1.0, 0.9], [1.0, 1.0], [0.0, 1.0]]],
        };
        let base = textured(40, 40, [10, 10, 20, 20]);
        for image in [
            DynamicImage::ImageLuma8(base.to_luma8()),
            DynamicImage::ImageLumaA8(base.to_luma_alpha8()),
            DynamicImage::ImageRgb16(base.to_rgb16()),
            DynamicImage::ImageRgba16(base.to_rgba16()),
            DynamicImage::ImageLuma16(base.to_luma16()),
            DynamicImage::ImageRgb32F(base.to_rgb32f()),
            DynamicImage::ImageRgba32F(base.to_rgba32f()),
        ] {
            let redacted = redact(&image, &redaction);
            assert_eq!(redacted.color(), image.color());
            assert_eq!(
                redacted.to_rgba8().get_pixel(20, 39),
                &Rgba([0, 0, 0, 255]),
                "{:?}",
                image.color()
            );
            let face = [10, 10, 20, 20];
            assert!(luma_variance(&redacted, face) < luma_variance(&image, face) * 0.2);
            assert_eq!(
                redacted.to_rgba8().get_pixel(0, 0),
                image.to_rgba8().get_pixel(0, 0)
            );
        }
        assert_eq!(
            redact(&DynamicImage::ImageLuma8(base.to_luma8()), &redaction)
                .as_luma8()
                .unwrap()
                .get_pixel(20, 39),
            &Luma([0])
        );
        // Transparent red around opaque blue: blurring does not turn the
        // visible pixels red (colour is averaged premultiplied).
        let rgba = RgbaImage::from_fn(40, 40, |x, _| {
            if x < 20 {
                Rgba([255, 0, 0, 0])
            } else {
                Rgba([0, 0, 255, 255])
            }
        });
        let blurred = redact(
            &DynamicImage::ImageRgba8(rgba),
            &Redaction {
                blur: vec![[0.25, 0.25, 0.5, 0.5]],
                fill: vec![],
            },
        )
        .to_rgba8();
        for pixel in blurred.pixels().filter(|p| p[3] > 0) {
            assert!(pixel[0] < 2, "red bled into {pixel:?}");
        }
        // HDR values in float images are kept, not clamped.
        let bright = Rgba32FImage::from_pixel(16, 16, Rgba([4.0, 4.0, 4.0, 1.0]));
        let blurred = redact(
            &DynamicImage::ImageRgba32F(bright),
            &Redaction {
                blur: vec![[0.0, 0.0, 1.0, 1.0]],
                fill: vec![],
            },
        );
        let value = blurred.as_rgba32f().unwrap().get_pixel(8, 8)[0];
        assert!((value - 4.0).abs() < 1e-4, "{value}");
    }
}
