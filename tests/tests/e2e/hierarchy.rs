//! The checked-in ImageNet hierarchy (models/data/imagenet_hierarchy.json)
//! agrees with the classifier's labels and holds the expected chains.

use std::collections::HashMap;

use imgtag_tests::{classifier, repo_root};
use serde_json::Value;

fn hierarchy() -> Value {
    let path = repo_root().join("models/data/imagenet_hierarchy.json");
    serde_json::from_slice(&fs_err::read(path).unwrap()).unwrap()
}

#[test]
fn classes_match_the_classifier_labels() {
    let hierarchy = hierarchy();
    let classes = hierarchy["classes"].as_array().unwrap();
    let labels = classifier().labels();
    assert_eq!(classes.len(), labels.len());
    for (class, label) in classes.iter().zip(labels.iter()) {
        assert_eq!(class["wnid"], label.wnid.as_str());
        assert_eq!(class["name"], label.name.as_str());
    }
}

#[test]
fn chains_reach_the_general_concepts() {
    let hierarchy = hierarchy();
    let synsets = hierarchy["synsets"].as_object().unwrap();
    let first_lemma: HashMap<&str, &str> = synsets
        .iter()
        .map(|(wnid, s)| (wnid.as_str(), s["lemmas"][0].as_str().unwrap()))
        .collect();
    let chain_of = |index: usize| -> Vec<&str> {
        hierarchy["classes"][index]["chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| first_lemma[w.as_str().unwrap()])
            .collect()
    };
    let tiger_cat = chain_of(282);
    for concept in ["cat", "feline", "mammal", "animal", "entity"] {
        assert!(
            tiger_cat.contains(&concept),
            "tiger cat chain {tiger_cat:?}"
        );
    }
    let espresso = chain_of(967);
    assert!(
        espresso.contains(&"beverage") && espresso.contains(&"food"),
        "{espresso:?}"
    );
    // Every chain ends at the root, and every parent is itself described.
    for class in hierarchy["classes"].as_array().unwrap() {
        let chain = class["chain"].as_array().unwrap();
        assert_eq!(chain.last().unwrap(), "n00001740", "{class}");
    }
    for synset in synsets.values() {
        for parent in synset["parents"].as_array().unwrap() {
            assert!(synsets.contains_key(parent.as_str().unwrap()), "{parent}");
        }
    }
}
