//! [`CustomTypeRule`]: a tenant's own document type, a keyword rule from
//! its config.

use serde::{Deserialize, Serialize};

use super::keyword::Keyword;
use super::rules::{CUSTOM_MIN_SCORE, KeywordRule, Origin, TypeRule, TypeTable};
use super::{DocumentType, valid_custom_id};
use crate::DocumentError;

/// A tenant's document type: the image is of this type when at least
/// `min_matches` of its keywords occur in the text (matched like the
/// built-in keywords: NFKC, any case, whole words for latin keywords).
/// Its score is then `weight`, and it wins unless a built-in type scores
/// more (custom types win ties); a weight below 0.5 still wins when nothing
/// else reaches its own minimum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomTypeRule {
    /// The type's id: 1-40 of `a-z`, `0-9`, `_`, starting with a letter,
    /// not a built-in id (`insurance_claim`).
    pub id: String,
    /// Chinese display name (`理赔申请`).
    pub name_zh: String,
    /// English display name; the Chinese one shows when absent.
    #[serde(default)]
    pub name_en: Option<String>,
    /// The keywords (`理赔`, `保单号`).
    pub keywords: Vec<String>,
    /// How many of them must occur.
    #[serde(default = "one")]
    pub min_matches: usize,
    /// The score when they do, in (0, 1].
    #[serde(default = "default_weight")]
    pub weight: f32,
}

fn one() -> usize {
    1
}

fn default_weight() -> f32 {
    0.9
}

impl CustomTypeRule {
    /// Checks it and turns it into the rules the reader scores.
    pub(crate) fn compile(&self) -> Result<TypeRule, DocumentError> {
        let at = format!("custom document type {:?}", self.id);
        if !valid_custom_id(&self.id) {
            return Err(DocumentError::Rules(format!(
                "{at}: the id must be 1-40 of a-z, 0-9 and _, start with a letter \
                 and not be a built-in type"
            )));
        }
        if self.name_zh.trim().is_empty() {
            return Err(DocumentError::Rules(format!("{at}: name_zh is empty")));
        }
        if self.keywords.is_empty() {
            return Err(DocumentError::Rules(format!("{at}: no keywords")));
        }
        if self.min_matches == 0 || self.min_matches > self.keywords.len() {
            return Err(DocumentError::Rules(format!(
                "{at}: min_matches {} is not between 1 and its {} keywords",
                self.min_matches,
                self.keywords.len()
            )));
        }
        if !(self.weight > 0.0 && self.weight <= 1.0) {
            return Err(DocumentError::Rules(format!(
                "{at}: weight {} is not in (0, 1]",
                self.weight
            )));
        }
        let keywords = self
            .keywords
            .iter()
            .map(|keyword| Keyword::try_from(keyword.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| DocumentError::Rules(format!("{at}: {error}")))?;
        let table = TypeTable {
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone().filter(|name| !name.trim().is_empty()),
            min_score: self.weight.min(CUSTOM_MIN_SCORE),
            keywords: vec![KeywordRule {
                any: keywords,
                min: self.min_matches,
                weight: self.weight,
            }],
            fields: Vec::new(),
            classes: Vec::new(),
            signals: Vec::new(),
            sides: None,
        };
        table.validate(&at)?;
        Ok(TypeRule {
            doc_type: DocumentType::Custom(self.id.clone()),
            origin: Origin::Custom,
            table,
        })
    }
}
