//! Friendly tags: general words (`cat`, `animal`, `vehicle`, `food`, ...)
//! derived from the classifier's probabilities through the WordNet hierarchy.
//!
//! Two checked-in data files, compiled into the binary:
//! - `models/data/imagenet_hierarchy.json` (from `scripts/imagenet_hierarchy.py`):
//!   every ImageNet class's WordNet synset and all of its ancestors, with
//!   every parent (WordNet is a graph: 38 classes have two parents).
//! - `models/data/friendly_tags.toml`: each friendly tag names the synsets
//!   whose descendants it covers, minus any `exclude` synsets; reviewed with
//!   `docs/FRIENDLY_TAGS.md` (`scripts/friendly_tags_report.py`).
//!
//! A tag's score is the probability mass of the classes it covers (each class
//! counted once, however many paths lead to it); the tag is emitted when the
//! score reaches its threshold.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ModelError;
use crate::labels::Labels;

const HIERARCHY_JSON: &str = include_str!("../data/imagenet_hierarchy.json");
const FRIENDLY_TOML: &str = include_str!("../data/friendly_tags.toml");
const HIERARCHY_PATH: &str = "models/data/imagenet_hierarchy.json";
const FRIENDLY_PATH: &str = "models/data/friendly_tags.toml";

#[derive(Debug, Deserialize)]
struct HierarchyFile {
    format: u32,
    classes: Vec<HierarchyClass>,
    synsets: HashMap<String, Synset>,
}

#[derive(Debug, Deserialize)]
struct HierarchyClass {
    index: usize,
    wnid: String,
}

#[derive(Debug, Deserialize)]
struct Synset {
    lemmas: Vec<String>,
    parents: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FriendlyFile {
    format: u32,
    default_threshold: f32,
    tag: BTreeMap<String, FriendlyEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FriendlyEntry {
    #[serde(default)]
    description: Option<String>,
    synsets: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    threshold: Option<f32>,
}

/// One friendly tag with the classes it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct FriendlyTag {
    /// Tag name (lowercase, `_` allowed).
    pub name: String,
    /// Score needed to emit the tag.
    pub threshold: f32,
    /// Indices of the classes the tag covers, ascending.
    pub classes: Vec<usize>,
}

/// A friendly tag emitted for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct FriendlyScore {
    /// Tag name.
    pub name: String,
    /// Probability mass of the covered classes.
    pub score: f32,
}

/// The friendly vocabulary, resolved against the classifier's classes.
#[derive(Debug, Clone)]
pub struct FriendlyTags {
    tags: Vec<FriendlyTag>,
    /// For each class, the indices into `tags` that cover it.
    by_class: Vec<Vec<usize>>,
    /// For each class, the lemmas of its WordNet ancestors, nearest first.
    ancestors: Vec<Vec<String>>,
    /// First 12 hex digits of the sha256 of both data files: changes
    /// whenever a rule or the hierarchy does, with nothing to bump by hand.
    version: String,
}

impl FriendlyTags {
    /// The checked-in hierarchy and friendly-tag map, checked against the
    /// classifier's labels (same WordNet id for every class index).
    pub fn embedded(labels: &Labels) -> Result<Self, ModelError> {
        Self::parse(HIERARCHY_JSON, FRIENDLY_TOML, labels)
    }

    /// Parses a hierarchy (JSON) and a friendly-tag map (TOML).
    pub fn parse(hierarchy: &str, friendly: &str, labels: &Labels) -> Result<Self, ModelError> {
        let (hierarchy_text, friendly_text) = (hierarchy, friendly);
        let asset = |path: &str, message: String| ModelError::Asset {
            path: PathBuf::from(path),
            message,
        };
        let hierarchy: HierarchyFile =
            serde_json::from_str(hierarchy).map_err(|e| asset(HIERARCHY_PATH, e.to_string()))?;
        if hierarchy.format != 1 {
            return Err(asset(
                HIERARCHY_PATH,
                format!("unknown format {}", hierarchy.format),
            ));
        }
        if hierarchy.classes.len() != labels.len() {
            return Err(asset(
                HIERARCHY_PATH,
                format!(
                    "{} classes, the classifier has {}",
                    hierarchy.classes.len(),
                    labels.len()
                ),
            ));
        }
        let mut ancestor_sets = Vec::with_capacity(labels.len());
        let mut ancestors = Vec::with_capacity(labels.len());
        for (position, class) in hierarchy.classes.iter().enumerate() {
            let label = labels.get(position).map(|l| l.wnid.as_str());
            if class.index != position || label != Some(class.wnid.as_str()) {
                return Err(asset(
                    HIERARCHY_PATH,
                    format!(
                        "class {position} is {} ({}), the classifier's is {:?}",
                        class.index, class.wnid, label
                    ),
                ));
            }
            let order = ancestors_of(&class.wnid, &hierarchy.synsets)
                .map_err(|message| asset(HIERARCHY_PATH, message))?;
            ancestors.push(
                order
                    .iter()
                    .skip(1)
                    .filter_map(|wnid| hierarchy.synsets.get(wnid)?.lemmas.first().cloned())
                    .collect(),
            );
            ancestor_sets.push(order.into_iter().collect::<HashSet<_>>());
        }

        let friendly: FriendlyFile =
            toml::from_str(friendly).map_err(|e| asset(FRIENDLY_PATH, e.to_string()))?;
        if friendly.format != 1 {
            return Err(asset(
                FRIENDLY_PATH,
                format!("unknown format {}", friendly.format),
            ));
        }
        check_threshold(friendly.default_threshold)
            .map_err(|m| asset(FRIENDLY_PATH, format!("default_threshold {m}")))?;
        let mut tags = Vec::with_capacity(friendly.tag.len());
        let mut by_class = vec![Vec::new(); labels.len()];
        for (name, entry) in friendly.tag {
            let invalid = |message: String| asset(FRIENDLY_PATH, format!("tag {name}: {message}"));
            if !valid_tag_name(&name) {
                return Err(invalid(
                    "names are lowercase ASCII letters, digits and `_`".into(),
                ));
            }
            let _ = entry.description;
            let threshold = entry.threshold.unwrap_or(friendly.default_threshold);
            check_threshold(threshold).map_err(|m| invalid(format!("threshold {m}")))?;
            if entry.synsets.is_empty() {
                return Err(invalid("lists no synsets".into()));
            }
            for wnid in entry.synsets.iter().chain(&entry.exclude) {
                if !hierarchy.synsets.contains_key(wnid) {
                    return Err(invalid(format!("{wnid} is not in the hierarchy")));
                }
            }
            let classes: Vec<usize> = ancestor_sets
                .iter()
                .enumerate()
                .filter(|(_, set)| {
                    entry.synsets.iter().any(|s| set.contains(s))
                        && !entry.exclude.iter().any(|s| set.contains(s))
                })
                .map(|(index, _)| index)
                .collect();
            if classes.is_empty() {
                return Err(invalid("covers no class".into()));
            }
            for &class in &classes {
                by_class[class].push(tags.len());
            }
            tags.push(FriendlyTag {
                name,
                threshold,
                classes,
            });
        }
        let digest = Sha256::new()
            .chain_update(hierarchy_text)
            .chain_update(friendly_text)
            .finalize();
        Ok(Self {
            tags,
            by_class,
            ancestors,
            version: hex::encode(digest)[..12].to_owned(),
        })
    }

    /// Version of the rules: derived from the content of the data files.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every friendly tag, by name.
    pub fn tags(&self) -> &[FriendlyTag] {
        &self.tags
    }

    /// Names of the friendly tags covering class `index`.
    pub fn tags_of_class(&self, index: usize) -> impl Iterator<Item = &str> {
        self.by_class
            .get(index)
            .into_iter()
            .flatten()
            .map(|&tag| self.tags[tag].name.as_str())
    }

    /// First lemmas of class `index`'s WordNet ancestors, nearest first
    /// (breadth-first over every parent).
    pub fn ancestors_of_class(&self, index: usize) -> &[String] {
        self.ancestors.get(index).map_or(&[], Vec::as_slice)
    }

    /// The tags whose covered probability mass reaches their threshold,
    /// highest score first.
    pub fn score(&self, probabilities: &[f32]) -> Vec<FriendlyScore> {
        let mut scores: Vec<FriendlyScore> = self
            .tags
            .iter()
            .filter_map(|tag| {
                let score: f32 = tag
                    .classes
                    .iter()
                    .filter_map(|&class| probabilities.get(class))
                    .sum();
                (score >= tag.threshold).then(|| FriendlyScore {
                    name: tag.name.clone(),
                    score: score.min(1.0),
                })
            })
            .collect();
        scores.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.name.cmp(&b.name))
        });
        scores
    }
}

/// `wnid` and all its ancestors, breadth-first, each once.
fn ancestors_of(wnid: &str, synsets: &HashMap<String, Synset>) -> Result<Vec<String>, String> {
    let mut order = vec![wnid.to_owned()];
    let mut seen: HashSet<&str> = HashSet::from([wnid]);
    let mut next = 0;
    while next < order.len() {
        let synset = synsets
            .get(&order[next])
            .ok_or_else(|| format!("synset {} is missing", order[next]))?;
        next += 1;
        for parent in &synset.parents {
            if seen.insert(parent.as_str()) {
                order.push(parent.clone());
            }
        }
    }
    Ok(order)
}

fn check_threshold(value: f32) -> Result<(), String> {
    if value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(format!("{value} is not in (0, 1]"))
    }
}

/// Whether `name` is a valid tag name: 1-64 of `a-z`, `0-9`, `_`, starting
/// with a letter.
pub fn valid_tag_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Three classes: two cats (one also reachable through a second parent)
    /// and a car.
    const HIERARCHY: &str = r#"{
      "format": 1,
      "classes": [
        {"index": 0, "wnid": "n1", "name": "tiger cat", "chain": []},
        {"index": 1, "wnid": "n2", "name": "tabby", "chain": []},
        {"index": 2, "wnid": "n3", "name": "sports car", "chain": []}
      ],
      "synsets": {
        "n1": {"lemmas": ["tiger cat"], "parents": ["c"], "gloss": ""},
        "n2": {"lemmas": ["tabby"], "parents": ["c", "pet"], "gloss": ""},
        "n3": {"lemmas": ["sports car"], "parents": ["v"], "gloss": ""},
        "c": {"lemmas": ["cat"], "parents": ["a"], "gloss": ""},
        "pet": {"lemmas": ["pet"], "parents": ["a"], "gloss": ""},
        "a": {"lemmas": ["animal"], "parents": ["e"], "gloss": ""},
        "v": {"lemmas": ["vehicle"], "parents": ["e"], "gloss": ""},
        "e": {"lemmas": ["entity"], "parents": [], "gloss": ""}
      }
    }"#;

    fn labels() -> Labels {
        Labels::parse(
            Path::new("ids"),
            "n1\nn2\nn3\n",
            Path::new("names"),
            "n1\ttiger cat\nn2\ttabby\nn3\tsports car\n",
        )
        .unwrap()
    }

    const FRIENDLY: &str = r#"
        format = 1
        default_threshold = 0.3
        [tag.cat]
        synsets = ["c"]
        [tag.animal]
        synsets = ["a"]
        [tag.vehicle]
        synsets = ["v"]
        threshold = 0.05
        [tag.non_pet_animal]
        synsets = ["a"]
        exclude = ["pet"]
    "#;

    #[test]
    fn mass_is_summed_once_per_class_up_every_path() {
        let tags = FriendlyTags::parse(HIERARCHY, FRIENDLY, &labels()).unwrap();
        let scores = tags.score(&[0.2, 0.5, 0.1]);
        let named: Vec<(&str, f32)> = scores.iter().map(|s| (s.name.as_str(), s.score)).collect();
        // tabby reaches `animal` through `cat` and `pet`: counted once.
        assert_eq!(named[0].0, "animal");
        assert!((named[0].1 - 0.7).abs() < 1e-6);
        assert_eq!(named[1].0, "cat");
        assert_eq!(named[2].0, "vehicle");
        // non_pet_animal covers only the tiger cat (0.2 < 0.3).
        assert!(!named.iter().any(|(name, _)| *name == "non_pet_animal"));
        assert_eq!(named.len(), 3);
        assert_eq!(tags.tags_of_class(1).collect::<Vec<_>>(), ["animal", "cat"]);
        assert_eq!(
            tags.ancestors_of_class(1),
            ["cat", "pet", "animal", "entity"]
        );
    }

    #[test]
    fn version_follows_the_content() {
        let tags = FriendlyTags::parse(HIERARCHY, FRIENDLY, &labels()).unwrap();
        let changed = FRIENDLY.replace("0.05", "0.06");
        let other = FriendlyTags::parse(HIERARCHY, &changed, &labels()).unwrap();
        assert_ne!(tags.version(), other.version());
        assert_eq!(tags.version().len(), 12);
    }

    #[test]
    fn unknown_synsets_and_bad_names_are_refused() {
        let unknown = "format = 1\ndefault_threshold = 0.3\n[tag.cat]\nsynsets = [\"zz\"]\n";
        let error = FriendlyTags::parse(HIERARCHY, unknown, &labels()).unwrap_err();
        assert_eq!(error.code(), "model.asset_invalid");
        assert!(error.to_string().contains("zz"), "{error}");
        let bad = "format = 1\ndefault_threshold = 0.3\n[tag.Cat]\nsynsets = [\"c\"]\n";
        assert!(FriendlyTags::parse(HIERARCHY, bad, &labels()).is_err());
        let empty = "format = 1\ndefault_threshold = 0.3\n[tag.cat]\nsynsets = [\"c\"]\nexclude = [\"c\"]\n";
        let error = FriendlyTags::parse(HIERARCHY, empty, &labels()).unwrap_err();
        assert!(error.to_string().contains("covers no class"), "{error}");
    }

    #[test]
    fn hierarchy_must_match_the_classifier() {
        let other = Labels::parse(
            Path::new("ids"),
            "n1\nn3\nn2\n",
            Path::new("names"),
            "n1\ta\nn2\tb\nn3\tc\n",
        )
        .unwrap();
        assert!(FriendlyTags::parse(HIERARCHY, FRIENDLY, &other).is_err());
    }

    #[test]
    fn tag_names() {
        assert!(valid_tag_name("damaged_vehicle"));
        assert!(valid_tag_name("a4"));
        assert!(!valid_tag_name("4a"));
        assert!(!valid_tag_name(""));
        assert!(!valid_tag_name("Cat"));
        assert!(!valid_tag_name("cat-dog"));
    }
}
