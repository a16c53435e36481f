//! YuNet's outputs -> faces in canvas pixels, as OpenCV's `FaceDetectorYN`
//! decodes the 2023mar graph (`modules/objdetect/src/face_detect.cpp`).
//!
//! Each stride `s` has a grid of `(height / s) x (width / s)` cells over the
//! canvas the graph ran on, row-major (as `FaceDetectorYN` over its padded
//! input). Per
//! cell: the score is `sqrt(clamp(cls, 0, 1) * clamp(obj, 0, 1))`; the box
//! centre is `((col + b0) * s, (row + b1) * s)` and its size
//! `(exp(b2) * s, exp(b3) * s)`; landmark `i` is
//! `((col + k[2i]) * s, (row + k[2i + 1]) * s)`.

use super::Face;

/// One stride's outputs, flat and row-major.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level<'a> {
    /// Cell side in canvas pixels.
    pub stride: u32,
    /// Class score per cell.
    pub cls: &'a [f32],
    /// Objectness per cell.
    pub obj: &'a [f32],
    /// Four box offsets per cell.
    pub bbox: &'a [f32],
    /// Ten landmark offsets per cell.
    pub kps: &'a [f32],
}

/// Appends the faces of one level of a run on a `width` x `height` canvas
/// scoring above `threshold` to `out`. Errs when the outputs do not fit the
/// level's `(height / stride) x (width / stride)` grid.
pub(crate) fn decode(
    (width, height): (u32, u32),
    level: &Level<'_>,
    threshold: f32,
    out: &mut Vec<Face>,
) -> Result<(), String> {
    let stride = level.stride.max(1);
    let (rows, cols) = ((height / stride) as usize, (width / stride) as usize);
    let cells = rows * cols;
    if level.cls.len() != cells
        || level.obj.len() != cells
        || level.bbox.len() != cells * 4
        || level.kps.len() != cells * 10
    {
        return Err(format!(
            "stride {} outputs hold {}, {}, {} and {} values; a {cols}x{rows} grid needs \
             {cells}, {cells}, {} and {}",
            level.stride,
            level.cls.len(),
            level.obj.len(),
            level.bbox.len(),
            level.kps.len(),
            cells * 4,
            cells * 10,
        ));
    }
    let stride = level.stride as f32;
    for (index, (cls, obj)) in level.cls.iter().zip(level.obj).enumerate() {
        let score = (cls.clamp(0.0, 1.0) * obj.clamp(0.0, 1.0)).sqrt();
        // Strictly above, as OpenCV's NMSBoxes.
        if score.is_nan() || score <= threshold {
            continue;
        }
        let (row, col) = ((index / cols) as f32, (index % cols) as f32);
        let b = &level.bbox[index * 4..][..4];
        let k = &level.kps[index * 10..][..10];
        let (cx, cy) = ((col + b[0]) * stride, (row + b[1]) * stride);
        let (w, h) = (b[2].exp() * stride, b[3].exp() * stride);
        let mut landmarks = [[0.0; 2]; 5];
        for (i, point) in landmarks.iter_mut().enumerate() {
            *point = [(col + k[2 * i]) * stride, (row + k[2 * i + 1]) * stride];
        }
        let face = Face {
            rect: [cx - w / 2.0, cy - h / 2.0, w, h],
            score,
            landmarks,
        };
        if face.is_finite() {
            out.push(face);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANVAS: (u32, u32) = (32, 32);

    /// Outputs of a 4x4 grid (32 x 32 canvas, stride 8), all cells silent but
    /// `cell`, which gets `cls`, `obj`, `bbox` and landmark offsets
    /// `0.1 * i`.
    fn grid(cell: usize, cls: f32, obj: f32, bbox: [f32; 4]) -> [Vec<f32>; 4] {
        let mut outputs = [vec![0.0; 16], vec![0.0; 16], vec![0.0; 64], vec![0.0; 160]];
        outputs[0][cell] = cls;
        outputs[1][cell] = obj;
        outputs[2][cell * 4..][..4].copy_from_slice(&bbox);
        for i in 0..10 {
            outputs[3][cell * 10 + i] = 0.1 * i as f32;
        }
        outputs
    }

    fn level(outputs: &[Vec<f32>; 4]) -> Level<'_> {
        Level {
            stride: 8,
            cls: &outputs[0],
            obj: &outputs[1],
            bbox: &outputs[2],
            kps: &outputs[3],
        }
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn a_cell_decodes_to_its_box_score_and_landmarks() {
        // Row 2, column 1; centre offset (0.5, 0.25), size exp(0) and exp(ln 2) cells.
        let outputs = grid(9, 0.81, 1.0, [0.5, 0.25, 0.0, 2f32.ln()]);
        let mut faces = Vec::new();
        decode(CANVAS, &level(&outputs), 0.5, &mut faces).unwrap();
        assert_eq!(faces.len(), 1);
        let face = faces[0];
        assert!(close(face.score, 0.9), "{face:?}");
        // Centre (12, 18), size 8 x 16.
        let want = [8.0, 10.0, 8.0, 16.0];
        assert!(
            face.rect.iter().zip(want).all(|(a, b)| close(*a, b)),
            "{face:?}"
        );
        // Landmark 0: ((1 + 0) * 8, (2 + 0.1) * 8); landmark 4: ((1 + 0.8) * 8, (2 + 0.9) * 8).
        assert!(close(face.landmarks[0][0], 8.0) && close(face.landmarks[0][1], 16.8));
        assert!(close(face.landmarks[4][0], 14.4) && close(face.landmarks[4][1], 23.2));
    }

    #[test]
    fn scores_are_clamped_and_thresholded() {
        let mut faces = Vec::new();
        // cls above 1 counts as 1: sqrt(1 * 0.64) = 0.8.
        decode(
            CANVAS,
            &level(&grid(0, 1.7, 0.64, [0.0; 4])),
            0.79,
            &mut faces,
        )
        .unwrap();
        assert_eq!(faces.len(), 1);
        assert!(close(faces[0].score, 0.8));
        // A negative objectness counts as 0 (and sqrt(0) = 0 is above -1,
        // where sqrt(-0.5) would be NaN).
        decode(
            CANVAS,
            &level(&grid(0, 1.0, -0.5, [0.0; 4])),
            -1.0,
            &mut faces,
        )
        .unwrap();
        assert_eq!(faces.len(), 17);
        faces.clear();
        decode(
            CANVAS,
            &level(&grid(0, 0.48, 1.0, [0.0; 4])),
            0.7,
            &mut faces,
        )
        .unwrap();
        assert!(faces.is_empty());
        decode(
            CANVAS,
            &level(&grid(0, f32::NAN, 1.0, [0.0; 4])),
            0.1,
            &mut faces,
        )
        .unwrap();
        assert!(faces.is_empty());
        // An infinite box is dropped.
        decode(
            CANVAS,
            &level(&grid(0, 1.0, 1.0, [0.0, 0.0, 100.0, 0.0])),
            0.5,
            &mut faces,
        )
        .unwrap();
        assert!(faces.is_empty());
    }

    #[test]
    fn outputs_of_the_wrong_size_are_an_error() {
        let mut outputs = grid(0, 1.0, 1.0, [0.0; 4]);
        outputs[3].pop();
        let error = decode((32, 32), &level(&outputs), 0.5, &mut Vec::new()).unwrap_err();
        assert!(error.contains("4x4 grid"), "{error}");
        let outputs = grid(0, 1.0, 1.0, [0.0; 4]);
        let error = decode((64, 32), &level(&outputs), 0.5, &mut Vec::new()).unwrap_err();
        assert!(error.contains("8x4 grid"), "{error}");
    }

    #[test]
    fn a_wide_canvas_has_more_columns_than_rows() {
        // A 64 x 16 canvas at stride 8: 2 rows of 8 cells; cell 11 is row 1, column 3.
        let mut outputs = [vec![0.0; 16], vec![0.0; 16], vec![0.0; 64], vec![0.0; 160]];
        outputs[0][11] = 1.0;
        outputs[1][11] = 1.0;
        let mut faces = Vec::new();
        decode((64, 16), &level(&outputs), 0.5, &mut faces).unwrap();
        assert_eq!(faces.len(), 1);
        // Centre (3 * 8, 1 * 8), size 8 x 8.
        assert_eq!(faces[0].rect, [20.0, 4.0, 8.0, 8.0]);
        // The same outputs read as a 16 x 64 canvas: row 5, column 1.
        faces.clear();
        decode((16, 64), &level(&outputs), 0.5, &mut faces).unwrap();
        assert_eq!(faces[0].rect, [4.0, 36.0, 8.0, 8.0]);
    }
}
