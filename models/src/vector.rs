//! Small vector helpers shared by the models: normalisation and similarity.

/// The vector divided by its L2 norm (a zero vector stays zero).
pub fn l2_normalised(values: impl Iterator<Item = f32> + Clone) -> Vec<f32> {
    let norm = values.clone().map(|x| x * x).sum::<f32>().sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    values.map(|x| x * scale).collect()
}

/// Dot product (the cosine similarity of two L2-normalised vectors). Extra
/// elements of the longer vector are ignored.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_normalised_has_unit_norm() {
        let v = l2_normalised([3.0_f32, 4.0].into_iter());
        assert_eq!(v, vec![0.6, 0.8]);
        assert_eq!(l2_normalised([0.0_f32, 0.0].into_iter()), vec![0.0, 0.0]);
    }

    #[test]
    fn dot_of_unit_vectors_is_their_cosine() {
        assert!((dot(&[0.6, 0.8], &[0.6, 0.8]) - 1.0).abs() < 1e-6);
        assert_eq!(dot(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
    }
}
