//! Custom vocabularies: a tenant's own tags, each a short description scored
//! against the image's semantic vector (zero-shot tags).
//!
//! File format (TOML):
//! ```toml
//! default_threshold = 0.55          # optional, cosine similarity
//! [tags]
//! receipt = "a paper receipt or invoice"
//! damaged_vehicle = { description = "a damaged car or truck", threshold = 0.6 }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::ModelError;
use crate::friendly::valid_tag_name;
use crate::semantic::SemanticSpace;
use crate::tags::{ModelRef, Tag, TagSource};
use crate::vector::dot;

/// Most tags in one vocabulary.
pub const MAX_TAGS: usize = 512;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 512;
/// Threshold when neither the tag nor the file gives one.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// A custom vocabulary as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    /// The tags, by name.
    pub tags: Vec<VocabularyTag>,
}

/// One custom tag.
#[derive(Debug, Clone, PartialEq)]
pub struct VocabularyTag {
    /// Tag name (lowercase ASCII, digits, `_`).
    pub name: String,
    /// What the tag means, in words.
    pub description: String,
    /// Cosine similarity needed to emit the tag.
    pub threshold: f32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyFile {
    #[serde(default)]
    default_threshold: Option<f32>,
    tags: BTreeMap<String, EntryFile>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum EntryFile {
    Description(String),
    Full {
        description: String,
        #[serde(default)]
        threshold: Option<f32>,
    },
}

impl Vocabulary {
    /// Parses and checks a vocabulary file's text.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let file: VocabularyFile =
            toml::from_str(text).map_err(|e| ModelError::Vocabulary(e.to_string()))?;
        let default = file.default_threshold.unwrap_or(DEFAULT_THRESHOLD);
        check_threshold("default_threshold", default)?;
        if file.tags.is_empty() {
            return Err(ModelError::Vocabulary("it defines no tags".into()));
        }
        if file.tags.len() > MAX_TAGS {
            return Err(ModelError::Vocabulary(format!(
                "{} tags; at most {MAX_TAGS}",
                file.tags.len()
            )));
        }
        let tags = file
            .tags
            .into_iter()
            .map(|(name, entry)| {
                let (description, threshold) = match entry {
                    EntryFile::Description(description) => (description, None),
                    EntryFile::Full {
                        description,
                        threshold,
                    } => (description, threshold),
                };
                let tag = VocabularyTag {
                    threshold: threshold.unwrap_or(default),
                    name,
                    description: description.trim().to_owned(),
                };
                tag.validate()?;
                Ok(tag)
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(Self { tags })
    }
}

impl VocabularyTag {
    fn validate(&self) -> Result<(), ModelError> {
        let name = &self.name;
        if !valid_tag_name(name) {
            return Err(ModelError::Vocabulary(format!(
                "tag `{name}`: names are 1-64 lowercase ASCII letters, digits and `_`, starting with a letter"
            )));
        }
        if self.description.is_empty() || self.description.len() > MAX_DESCRIPTION_BYTES {
            return Err(ModelError::Vocabulary(format!(
                "tag `{name}`: the description must be 1-{MAX_DESCRIPTION_BYTES} bytes"
            )));
        }
        check_threshold(&format!("tag `{name}` threshold"), self.threshold)
    }
}

fn check_threshold(what: &str, value: f32) -> Result<(), ModelError> {
    if value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(ModelError::Vocabulary(format!(
            "{what} must be in (0, 1], not {value}"
        )))
    }
}

/// A vocabulary with its descriptions embedded in one semantic space.
#[derive(Debug, Clone)]
pub struct EmbeddedVocabulary {
    space: ModelRef,
    tags: Vec<(VocabularyTag, Vec<f32>)>,
}

impl EmbeddedVocabulary {
    /// Embeds every description (CPU work: call from a blocking thread).
    pub fn build(vocabulary: &Vocabulary, space: &dyn SemanticSpace) -> Result<Self, ModelError> {
        let tags = vocabulary
            .tags
            .iter()
            .map(|tag| Ok((tag.clone(), space.text_vector(&tag.description)?)))
            .collect::<Result<_, ModelError>>()?;
        Ok(Self {
            space: space.model().clone(),
            tags,
        })
    }

    /// Every tag's similarity to an image's semantic vector, highest first.
    pub fn similarities(&self, semantic: &[f32]) -> Vec<(&VocabularyTag, f32)> {
        let mut scores: Vec<_> = self
            .tags
            .iter()
            .map(|(tag, vector)| (tag, dot(vector, semantic)))
            .collect();
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.name.cmp(&b.0.name)));
        scores
    }

    /// The tags whose similarity reaches their threshold, highest first.
    pub fn tags(&self, semantic: &[f32]) -> Vec<Tag> {
        self.similarities(semantic)
            .into_iter()
            .filter(|(tag, score)| *score >= tag.threshold)
            .map(|(tag, score)| Tag {
                name: tag.name.clone(),
                score: score.clamp(0.0, 1.0),
                source: TagSource::ZeroShot,
                model: self.space.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_full_entries_parse() {
        let vocabulary = Vocabulary::parse(
            r#"
            default_threshold = 0.6
            [tags]
            receipt = "a paper receipt or invoice"
            damaged_vehicle = { description = " a damaged car or truck ", threshold = 0.7 }
            "#,
        )
        .unwrap();
        assert_eq!(vocabulary.tags.len(), 2);
        let damaged = &vocabulary.tags[0];
        assert_eq!(damaged.name, "damaged_vehicle");
        assert_eq!(damaged.description, "a damaged car or truck");
        assert_eq!(damaged.threshold, 0.7);
        assert_eq!(vocabulary.tags[1].threshold, 0.6);
    }

    #[test]
    fn bad_vocabularies_are_refused_with_a_reason() {
        for (text, needle) in [
            ("[tags]\nReceipt = \"x\"", "Receipt"),
            ("[tags]\nreceipt = \"\"", "description"),
            (
                "[tags]\nreceipt = { description = \"x\", threshold = 1.5 }",
                "threshold",
            ),
            (
                "default_threshold = 0\n[tags]\nreceipt = \"x\"",
                "default_threshold",
            ),
            ("[tags]\n", "no tags"),
            ("tags = 3", "invalid type"),
            ("[tags]\nreceipt = \"x\"\n[other]\n", "unknown field"),
        ] {
            let error = Vocabulary::parse(text).unwrap_err();
            assert_eq!(error.code(), "model.vocabulary_invalid");
            assert!(error.to_string().contains(needle), "{text}: {error}");
        }
    }
}
