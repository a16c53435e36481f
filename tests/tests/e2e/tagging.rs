//! The whole tagger on the sample photos: friendly tags, NSFW, the semantic
//! space (text-to-image) and zero-shot vocabularies.

use imgtag_models::semantic::similarity;
use imgtag_models::{ImageTags, TagSource, Vocabulary};
use imgtag_tests::{SAMPLES, sample_rgb, tagger};

fn tag(name: &str) -> ImageTags {
    tagger().tag(&sample_rgb(name), None).unwrap()
}

#[test]
fn explore() {
    let tagger = tagger();
    let queries = [
        "a cup of coffee",
        "a photo of a cat",
        "a motorbike",
        "a rocket launch",
        "an astronaut",
        "a car",
        "food",
        "a receipt",
    ];
    let qv: Vec<_> = queries
        .iter()
        .map(|q| tagger.semantic().text_vector(q).unwrap())
        .collect();
    for name in SAMPLES {
        let tags = tag(name);
        println!(
            "== {name} nsfw {:.4} timings {:?}",
            tags.nsfw.score, tags.timings
        );
        for t in &tags.tags {
            println!("   {:<10} {:<24} {:.3}", t.source.as_str(), t.name, t.score);
        }
        for (q, v) in queries.iter().zip(&qv) {
            println!("   q {:<20} {:.3}", q, similarity(v, &tags.semantic));
        }
    }
    let _ = (
        TagSource::Hierarchy,
        Vocabulary::parse("[tags]\na = \"b\"").unwrap(),
    );
}
