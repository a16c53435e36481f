//! The analyzers on the sample photos: classifier and friendly tags, NSFW,
//! the semantic space (text-to-image) and zero-shot vocabularies, the
//! quality rules, and the OCR gate leaving photos without text alone; and
//! `imgtag tag`.

use std::process::Command;

use imgtag_models::vector::dot;
use imgtag_models::{Tag, TagSource, Vocabulary};
use imgtag_tests::{
    SAMPLES, analyse, analyse_with, analyzers, analyzers_config, imgtag_bin, repo_root, runtime,
    sample, store,
};
use imgtag_workers::analyzers::{Analysis, AnalyzerId, Analyzers};
use serde_json::Value;

fn tags(analysis: &Analysis) -> Vec<Tag> {
    analysis.tags().into_iter().map(|(_, tag)| tag).collect()
}

fn friendly(analysis: &Analysis) -> Vec<String> {
    tags(analysis)
        .into_iter()
        .filter(|t| t.source == TagSource::Hierarchy)
        .map(|t| t.name)
        .collect()
}

fn semantic(analysis: &Analysis) -> &[f32] {
    &analysis.semantic.as_ref().unwrap().vector
}

#[test]
fn sample_photos_get_sensible_friendly_tags() {
    for (name, wanted) in [
        ("chelsea.png", &["cat", "animal"][..]),
        ("coffee.png", &["drink"][..]),
        ("motorcycle_left.png", &["vehicle", "motorcycle"][..]),
        ("rocket.jpg", &["rocket"][..]),
    ] {
        let analysis = analyse(name);
        let names = friendly(&analysis);
        for tag in wanted {
            assert!(
                names.iter().any(|n| n == tag),
                "{name}: {names:?} lacks {tag}"
            );
        }
        // No absurd general tags on these photos.
        for wrong in ["food", "person", "document", "weapon"] {
            assert!(
                !names.iter().any(|n| n == wrong),
                "{name}: {names:?} has {wrong}"
            );
        }
    }
}

#[test]
fn every_tag_says_where_it_came_from() {
    let analysis = analyse("chelsea.png");
    let tags = tags(&analysis);
    let first = &tags[0];
    assert_eq!(first.name, "tiger_cat");
    assert_eq!(first.source, TagSource::Classifier);
    assert_eq!(first.model.id, "efficientnet-lite0-imagenet1k");
    assert!(!first.model.version.is_empty());
    assert!(tags.iter().all(|t| (0.0..=1.0).contains(&t.score)));
    assert!(analyzers().models().iter().any(|m| m.id == "opennsfw"));
    let classifier = analysis.classifier.as_ref().unwrap();
    assert_eq!(classifier.classification.embedding.len(), 1280);
    assert_eq!(semantic(&analysis).len(), 512);
    let norm: f32 = semantic(&analysis)
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    // Every enabled analyzer has a version that names its models.
    let versions = analyzers().versions();
    for id in AnalyzerId::ALL {
        assert!(versions.contains_key(id), "{id} has no version");
    }
    assert!(versions[&AnalyzerId::Classifier].contains("efficientnet-lite0-imagenet1k@"));
}

#[test]
fn ordinary_photos_are_not_sensitive() {
    for name in SAMPLES {
        let nsfw = analyse(name).nsfw.unwrap();
        assert!(nsfw.score < 0.1, "{name}: {}", nsfw.score);
        assert!(!nsfw.sensitive, "{name}");
    }
}

/// The sample whose semantic vector is closest to `query`.
fn best_match(query: &str) -> &'static str {
    let space = analyzers().semantic().unwrap().space();
    let query = space.text_vector(query).unwrap();
    SAMPLES
        .into_iter()
        .map(|name| (name, dot(&query, semantic(&analyse(name)))))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0
}

#[test]
fn text_queries_find_the_right_photo() {
    assert_eq!(best_match("a photo of a cat"), "chelsea.png");
    assert_eq!(best_match("a motorbike"), "motorcycle_left.png");
    assert_eq!(best_match("a rocket launch"), "rocket.jpg");
}

#[test]
fn the_text_encoder_loads_only_when_text_is_embedded() {
    // The shared analyzers have filled the label-vector cache; analyzers
    // built on it analyse images without ever loading the text encoder (ingest and
    // workers).
    let shared = analyzers().semantic().unwrap();
    let config = analyzers_config().only(&[AnalyzerId::Classifier, AnalyzerId::Semantic]);
    let fresh = Analyzers::build(&config, &runtime(), &store()).unwrap();
    let analysis = analyse_with(&fresh, &sample("coffee.png"), &fresh.enabled(), None);
    assert!(analysis.semantic.is_some());
    let semantic = fresh.semantic().unwrap();
    assert!(
        !semantic.text().is_loaded(),
        "analysing an image loaded the text encoder"
    );
    let words = "a cup of coffee";
    let vector = semantic.space().text_vector(words).unwrap();
    assert!(semantic.text().is_loaded());
    assert_eq!(vector, shared.space().text_vector(words).unwrap());
    semantic.text().preload().unwrap();
}

#[test]
fn zero_shot_coffee_scores_the_coffee_photo_above_every_other() {
    let vocabulary = Vocabulary::parse(
        "default_threshold = 0.5\n[tags]\ncoffee = \"a cup of coffee\"\ncat = \"a photo of a cat\"\n",
    )
    .unwrap();
    let vocabulary = analyzers()
        .semantic()
        .unwrap()
        .embed_vocabulary(&vocabulary)
        .unwrap();
    let coffee_score = |name: &str| {
        vocabulary
            .similarities(semantic(&analyse(name)))
            .into_iter()
            .find(|(tag, _)| tag.name == "coffee")
            .map(|(_, score)| score)
            .unwrap()
    };
    let coffee = coffee_score("coffee.png");
    for name in SAMPLES.into_iter().filter(|n| *n != "coffee.png") {
        let other = coffee_score(name);
        assert!(coffee > other, "coffee.png {coffee} <= {name} {other}");
    }
    // Emitted as a zero-shot tag on the coffee photo only.
    let analysis = analyse_with(
        analyzers(),
        &sample("coffee.png"),
        &analyzers().enabled(),
        Some(&vocabulary),
    );
    let zero_shot: Vec<String> = tags(&analysis)
        .into_iter()
        .filter(|t| t.source == TagSource::ZeroShot)
        .map(|t| t.name)
        .collect();
    assert_eq!(zero_shot, ["coffee"]);
}

#[test]
fn photos_without_text_get_only_the_ocr_probe() {
    for name in SAMPLES {
        let analysis = analyse(name);
        let ocr = analysis.ocr.as_ref().unwrap();
        assert!(
            !ocr.decision.read,
            "{name}: the gate read it: {:?}",
            ocr.decision
        );
        assert!(ocr.result.is_none(), "{name}");
        assert!(ocr.decision.probe.is_some(), "{name}");
    }
}

#[test]
fn cli_tags_photos_and_reports_bad_files_and_vocabularies() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = dir.path().join("vocab.toml");
    fs_err::write(&vocab, "[tags]\ncoffee = \"a cup of coffee\"\n").unwrap();
    let not_an_image = dir.path().join("photo.jpg");
    fs_err::write(&not_an_image, b"plain text, not a JPEG").unwrap();
    let output = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .arg("tag")
        .arg(sample("coffee.png"))
        .arg(&not_an_image)
        .arg("--vocab")
        .arg(&vocab)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let coffee = &json["images"][0];
    let tags = coffee["tags"].as_array().unwrap();
    let has = |name: &str, source: &str| {
        tags.iter()
            .any(|t| t["name"] == name && t["source"] == source && t["model"]["id"].is_string())
    };
    assert!(has("espresso", "classifier"), "{tags:?}");
    assert!(has("drink", "hierarchy"), "{tags:?}");
    assert!(has("coffee", "zero-shot"), "{tags:?}");
    assert_eq!(coffee["nsfw"]["sensitive"], false);
    assert!(coffee["timings_ms"]["classifier"].as_f64().unwrap() > 0.0);
    assert!(coffee["timings_ms"]["decode"].as_f64().unwrap() > 0.0);
    assert_eq!(coffee["ocr"]["read"], false, "{coffee}");
    assert_eq!(
        json["images"][1]["error"]["code"],
        "image.unsupported_format"
    );

    fs_err::write(&vocab, "[tags]\nBad-Name = \"x\"\n").unwrap();
    let output = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .args(["tag", "--vocab"])
        .arg(&vocab)
        .arg(sample("coffee.png"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error[model.vocabulary_invalid]"),
        "{stderr}"
    );
    assert!(stderr.contains("Bad-Name"), "{stderr}");
}
