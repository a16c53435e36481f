//! Explainable tags: every tag says how sure it is, where it came from and
//! which model (id and version) produced it.

use serde::{Deserialize, Serialize};

use crate::manifest::ModelEntry;

/// Where a tag came from (a closed set, stored with every tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagSource {
    /// An ImageNet class of the classifier.
    Classifier,
    /// A friendly tag summed up the WordNet hierarchy.
    Hierarchy,
    /// A custom vocabulary tag scored in the semantic space.
    ZeroShot,
    /// Derived from the image's EXIF metadata.
    Exif,
    /// A quality check of the image pipeline.
    Check,
    /// Read from the text in the image.
    Ocr,
    /// Found by the face detector (`person`, `face`, `group`).
    Faces,
    /// The document type the document rules decided (`doc_invoice`, ...).
    Document,
}

impl TagSource {
    /// The stable name (`classifier`, `hierarchy`, `zero-shot`, `exif`,
    /// `check`, `ocr`, `faces`, `document`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classifier => "classifier",
            Self::Hierarchy => "hierarchy",
            Self::ZeroShot => "zero-shot",
            Self::Exif => "exif",
            Self::Check => "check",
            Self::Ocr => "ocr",
            Self::Faces => "faces",
            Self::Document => "document",
        }
    }
}

/// A model (or rule set) and its version, for provenance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelRef {
    /// Stable id, e.g. `efficientnet-lite0-imagenet1k`.
    pub id: String,
    /// Version; bumped whenever outputs may change.
    pub version: String,
}

impl ModelRef {
    /// The id and version of a manifest model.
    pub fn of(entry: &ModelEntry) -> Self {
        Self {
            id: entry.id.clone(),
            version: entry.version.clone(),
        }
    }
}

impl std::fmt::Display for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.id, self.version)
    }
}

/// One tag of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// Tag name: lowercase, words joined by `_` (`tiger_cat`, `vehicle`).
    pub name: String,
    /// Confidence in [0, 1] (a probability, a probability mass or a
    /// similarity, depending on the source).
    pub score: f32,
    /// Where the tag came from.
    pub source: TagSource,
    /// What produced it.
    pub model: ModelRef,
}

/// A class label as a tag name: lowercase, runs of other characters as `_`
/// ("tiger cat" -> `tiger_cat`, "jack-o'-lantern" -> `jack_o_lantern`).
pub fn tag_name(label: &str) -> String {
    let mut name = String::with_capacity(label.len());
    for c in label.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    while name.ends_with('_') {
        name.pop();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_become_tag_names() {
        assert_eq!(tag_name("tiger cat"), "tiger_cat");
        assert_eq!(tag_name("jack-o'-lantern"), "jack_o_lantern");
        assert_eq!(tag_name("  Band Aid "), "band_aid");
    }

    #[test]
    fn sources_serialise_to_their_stable_names() {
        for source in [
            TagSource::Classifier,
            TagSource::Hierarchy,
            TagSource::ZeroShot,
            TagSource::Exif,
            TagSource::Check,
        ] {
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(json, format!("\"{}\"", source.as_str()));
        }
    }
}
