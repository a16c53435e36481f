//! The classifier on real photos, checked against the reference values of
//! ../shared/facts/MODELS.md (Python onnxruntime + Pillow).

use imgtag_pipeline::{DecodeLimits, decode};
use imgtag_tests::{classifier, sample};

fn top(name: &str, k: usize) -> Vec<(String, f32)> {
    let bytes = fs_err::read(sample(name)).unwrap();
    let image = decode(&bytes, &DecodeLimits::default())
        .unwrap()
        .image
        .into_rgb8();
    let classifier = classifier();
    let result = classifier.classify(&image).unwrap();
    classifier
        .top_k(&result, k)
        .into_iter()
        .map(|c| (c.label, c.probability))
        .collect()
}

#[test]
fn chelsea_is_a_cat() {
    let top = top("chelsea.png", 3);
    let names: Vec<&str> = top.iter().map(|(n, _)| n.as_str()).collect();
    // Reference: tiger cat 0.39, Egyptian cat 0.36, tabby 0.17.
    assert_eq!(names, ["tiger cat", "Egyptian cat", "tabby"], "{top:?}");
    for ((_, p), reference) in top.iter().zip([0.39, 0.36, 0.17]) {
        assert!((p - reference).abs() < 0.03, "{top:?}");
    }
}

#[test]
fn coffee_is_espresso() {
    let top = top("coffee.png", 1);
    assert_eq!(top[0].0, "espresso", "{top:?}");
    assert!((top[0].1 - 0.95).abs() < 0.02, "{top:?}");
}

#[test]
fn batch_gives_the_same_results_as_single_runs() {
    let load = |name| {
        let bytes = fs_err::read(sample(name)).unwrap();
        decode(&bytes, &DecodeLimits::default())
            .unwrap()
            .image
            .into_rgb8()
    };
    let (cat, cup) = (load("chelsea.png"), load("coffee.png"));
    let classifier = classifier();
    let batch = classifier.classify_all(&[&cat, &cup]).unwrap();
    let single = [
        classifier.classify(&cat).unwrap(),
        classifier.classify(&cup).unwrap(),
    ];
    for (b, s) in batch.iter().zip(&single) {
        let max_diff = b
            .probabilities
            .iter()
            .zip(&s.probabilities)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0_f32, f32::max);
        assert!(
            max_diff < 1e-5,
            "batch and single runs differ by {max_diff}"
        );
        let norm: f32 = b.embedding.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "embedding norm {norm}");
        assert_eq!(b.embedding.len(), 1280);
    }
    // Different photos, clearly different embeddings.
    let cosine: f32 = batch[0]
        .embedding
        .iter()
        .zip(&batch[1].embedding)
        .map(|(x, y)| x * y)
        .sum();
    assert!(cosine < 0.9, "cat vs coffee cosine {cosine}");
}
