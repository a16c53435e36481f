//! Greedy non-maximum suppression, as OpenCV's `dnn::NMSBoxes`: the best
//! face first, then every face overlapping none kept so far by more than the
//! IoU threshold.

use super::Face;

/// Intersection over union of two `[x, y, w, h]` boxes (0 when both are
/// empty).
pub(crate) fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let width = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let height = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    let intersection = width.max(0.0) * height.max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - intersection;
    if union > 0.0 {
        intersection / union
    } else {
        0.0
    }
}

/// The faces kept, best first, at most `max_keep`. Ties keep their input
/// order.
pub(crate) fn suppress(mut faces: Vec<Face>, iou_threshold: f32, max_keep: usize) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for face in faces {
        if kept.len() == max_keep {
            break;
        }
        if kept
            .iter()
            .all(|k| iou(&k.rect, &face.rect) <= iou_threshold)
        {
            kept.push(face);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(rect: [f32; 4], score: f32) -> Face {
        Face {
            rect,
            score,
            landmarks: [[0.0; 2]; 5],
        }
    }

    #[test]
    fn iou_of_known_boxes() {
        let a = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(iou(&a, &a), 1.0);
        // Half of a overlaps b: 50 / (100 + 100 - 50).
        assert!((iou(&a, &[5.0, 0.0, 10.0, 10.0]) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(iou(&a, &[10.0, 0.0, 10.0, 10.0]), 0.0);
        assert_eq!(iou(&a, &[20.0, 20.0, 5.0, 5.0]), 0.0);
        // b inside a: 25 / 100.
        assert_eq!(iou(&a, &[2.0, 2.0, 5.0, 5.0]), 0.25);
        assert_eq!(iou(&[0.0; 4], &[0.0; 4]), 0.0);
    }

    #[test]
    fn overlapping_faces_keep_the_best() {
        let faces = vec![
            face([0.0, 0.0, 10.0, 10.0], 0.8),
            face([1.0, 0.0, 10.0, 10.0], 0.9),
            face([50.0, 50.0, 10.0, 10.0], 0.75),
            // IoU 1/3 with the best: above 0.3, suppressed.
            face([6.0, 0.0, 10.0, 10.0], 0.85),
            // IoU 0.25 with the best: kept.
            face([3.0, 3.0, 5.0, 5.0], 0.7),
        ];
        let kept = suppress(faces, 0.3, 10);
        let scores: Vec<f32> = kept.iter().map(|f| f.score).collect();
        assert_eq!(scores, [0.9, 0.75, 0.7]);
    }

    #[test]
    fn at_most_max_keep_faces_are_kept() {
        let faces = (0..10)
            .map(|i| face([i as f32 * 20.0, 0.0, 10.0, 10.0], i as f32 / 10.0))
            .collect();
        let kept = suppress(faces, 0.3, 3);
        let scores: Vec<f32> = kept.iter().map(|f| f.score).collect();
        assert_eq!(scores, [0.9, 0.8, 0.7]);
        assert!(suppress(Vec::new(), 0.3, 3).is_empty());
    }
}
