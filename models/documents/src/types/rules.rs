//! [`TypeRules`]: the built-in rule file (`data/document_types.toml`,
//! compiled in) parsed and validated, plus a tenant's custom types. The
//! file's format is documented at its top.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::DocumentType;
use super::custom::CustomTypeRule;
use super::keyword::Keyword;
use super::signal::Signal;
use crate::{DocumentError, FieldName};

/// The built-in rule file.
pub(super) const BUILTIN_RULES: &str = include_str!("../../data/document_types.toml");

/// Lowest score a custom type needs to win (its weight, when lower).
pub(crate) const CUSTOM_MIN_SCORE: f32 = 0.5;

/// Every document type's rules: the built-in ones and a tenant's own.
#[derive(Debug, Clone)]
pub struct TypeRules {
    /// In tie-break order: custom types in config order, then the built-in
    /// ones in [`DocumentType::BUILTIN`] order.
    rules: Vec<TypeRule>,
    /// Short stable hex of the effective rules.
    digest: String,
}

impl TypeRules {
    /// The built-in rules alone.
    pub fn builtin() -> Result<Self, DocumentError> {
        Self::with_custom(&[])
    }

    /// The built-in rules plus a tenant's custom types. Fails when a custom
    /// rule is malformed (bad id, a built-in id, a repeated id, no
    /// keywords, a weight outside (0, 1], `min_matches` outside 1 to the
    /// number of keywords) or, never in a released build, when the rule
    /// file is.
    pub fn with_custom(custom: &[CustomTypeRule]) -> Result<Self, DocumentError> {
        let mut rules = Vec::with_capacity(custom.len() + DocumentType::BUILTIN.len());
        for rule in custom {
            let compiled = rule.compile()?;
            if rules
                .iter()
                .any(|known: &TypeRule| known.doc_type == compiled.doc_type)
            {
                return Err(DocumentError::Rules(format!(
                    "custom document type {:?} is defined twice",
                    rule.id
                )));
            }
            rules.push(compiled);
        }
        rules.extend(parse_builtin(BUILTIN_RULES)?);
        let digest = digest_of(&rules)?;
        Ok(Self { rules, digest })
    }

    /// The type's display name in Chinese (`zh`) or English. A custom type
    /// without an English name shows its Chinese one; `none` is "非文档" /
    /// "Not a document"; a custom type no longer configured shows its id.
    pub fn display_name(&self, doc_type: &DocumentType, zh: bool) -> String {
        if *doc_type == DocumentType::None {
            return if zh { "非文档" } else { "Not a document" }.to_string();
        }
        match self.rules.iter().find(|rule| rule.doc_type == *doc_type) {
            Some(rule) if zh => rule.table.name_zh.clone(),
            Some(rule) => rule
                .table
                .name_en
                .clone()
                .unwrap_or_else(|| rule.table.name_zh.clone()),
            None => doc_type.as_str().to_string(),
        }
    }

    /// Short stable hex (64-bit FNV-1a) of the effective rules as parsed:
    /// changes with any weight, keyword, minimum or custom type, not with
    /// display names, comments or the layout of the rule file.
    pub fn digest(&self) -> String {
        self.digest.clone()
    }

    /// Every type's rules in tie-break order.
    pub(crate) fn rules(&self) -> &[TypeRule] {
        &self.rules
    }
}

/// One type's rules, ready to score.
#[derive(Debug, Clone)]
pub(crate) struct TypeRule {
    /// The type they decide.
    pub(crate) doc_type: DocumentType,
    /// Built in or a tenant's.
    pub(crate) origin: Origin,
    /// The rules as written.
    pub(crate) table: TypeTable,
}

/// Where a type's rules come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Origin {
    /// `data/document_types.toml`.
    Builtin,
    /// A tenant's [`CustomTypeRule`].
    Custom,
}

/// The rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    types: BTreeMap<String, TypeTable>,
}

/// One `[types.<id>]` table. Serialised only for the digest, which leaves
/// out the display names: renaming a type does not change any reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TypeTable {
    #[serde(skip_serializing)]
    pub(crate) name_zh: String,
    #[serde(default, skip_serializing)]
    pub(crate) name_en: Option<String>,
    pub(crate) min_score: f32,
    #[serde(default)]
    pub(crate) keywords: Vec<KeywordRule>,
    #[serde(default)]
    pub(crate) fields: Vec<FieldRule>,
    #[serde(default)]
    pub(crate) classes: Vec<ClassRule>,
    #[serde(default)]
    pub(crate) signals: Vec<SignalRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sides: Option<SideKeywords>,
}

/// At least `min` of `any` occur in the text.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeywordRule {
    pub(crate) any: Vec<Keyword>,
    #[serde(default = "one")]
    pub(crate) min: usize,
    pub(crate) weight: f32,
}

/// The field reader found this field (valid, of this MRZ format).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldRule {
    pub(crate) field: FieldName,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mrz: Option<MrzFormat>,
    pub(crate) weight: f32,
}

/// ICAO 9303 machine-readable zone formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MrzFormat {
    /// Three lines of 30 (ID cards).
    Td1,
    /// Two lines of 36.
    Td2,
    /// Two lines of 44 (passports).
    Td3,
}

impl MrzFormat {
    /// The format of an MRZ field's value (lines joined by `\n`).
    pub(crate) fn of(mrz: &str) -> Option<Self> {
        let lengths: Vec<usize> = mrz.lines().map(|line| line.trim().len()).collect();
        match lengths.as_slice() {
            [30, 30, 30] => Some(Self::Td1),
            [36, 36] => Some(Self::Td2),
            [44, 44] => Some(Self::Td3),
            _ => None,
        }
    }
}

/// The classifier gave one of `any` at least `min_probability`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassRule {
    pub(crate) any: Vec<String>,
    #[serde(default = "default_min_probability")]
    pub(crate) min_probability: f32,
    pub(crate) weight: f32,
}

/// The evidence shows the signal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalRule {
    pub(crate) signal: Signal,
    pub(crate) weight: f32,
}

/// Keywords of each side of a card.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SideKeywords {
    pub(crate) front: Vec<Keyword>,
    pub(crate) back: Vec<Keyword>,
}

fn one() -> usize {
    1
}

fn default_min_probability() -> f32 {
    0.1
}

/// Parses and validates the rule file: every built-in type but `none`
/// present, no other, names given, weights and scores in (0, 1].
pub(super) fn parse_builtin(text: &str) -> Result<Vec<TypeRule>, DocumentError> {
    let file: RuleFile = toml::from_str(text)
        .map_err(|error| DocumentError::Rules(format!("rule file: {error}")))?;
    let mut rules = Vec::with_capacity(file.types.len());
    for doc_type in DocumentType::BUILTIN {
        if *doc_type == DocumentType::None {
            continue;
        }
        let table = file.types.get(doc_type.as_str()).ok_or_else(|| {
            DocumentError::Rules(format!("rule file: no [types.{doc_type}] table"))
        })?;
        let at = format!("types.{doc_type}");
        if table
            .name_en
            .as_deref()
            .is_none_or(|name| name.trim().is_empty())
        {
            return Err(DocumentError::Rules(format!("{at}: name_en is missing")));
        }
        table.validate(&at)?;
        rules.push(TypeRule {
            doc_type: doc_type.clone(),
            origin: Origin::Builtin,
            table: table.clone(),
        });
    }
    if let Some(unknown) = file.types.keys().find(|id| {
        !rules
            .iter()
            .any(|rule| rule.doc_type.as_str() == id.as_str())
    }) {
        return Err(DocumentError::Rules(format!(
            "rule file: [types.{unknown}] is not a built-in document type"
        )));
    }
    Ok(rules)
}

impl TypeTable {
    /// Checks names, scores and weights; `at` names the table in errors.
    pub(crate) fn validate(&self, at: &str) -> Result<(), DocumentError> {
        if self.name_zh.trim().is_empty() {
            return Err(DocumentError::Rules(format!("{at}: name_zh is empty")));
        }
        unit_interval(&format!("{at}.min_score"), self.min_score)?;
        for (index, rule) in self.keywords.iter().enumerate() {
            let here = format!("{at}.keywords[{index}]");
            unit_interval(&here, rule.weight)?;
            if rule.min == 0 || rule.min > rule.any.len() {
                return Err(DocumentError::Rules(format!(
                    "{here}: min {} is not between 1 and its {} keywords",
                    rule.min,
                    rule.any.len()
                )));
            }
        }
        for (index, rule) in self.fields.iter().enumerate() {
            let here = format!("{at}.fields[{index}]");
            unit_interval(&here, rule.weight)?;
            if rule.mrz.is_some() && rule.field != FieldName::Mrz {
                return Err(DocumentError::Rules(format!(
                    "{here}: `mrz` applies to field \"mrz\" only"
                )));
            }
        }
        for (index, rule) in self.classes.iter().enumerate() {
            let here = format!("{at}.classes[{index}]");
            unit_interval(&here, rule.weight)?;
            if rule.any.is_empty() || rule.any.iter().any(|class| class.trim().is_empty()) {
                return Err(DocumentError::Rules(format!("{here}: a class is missing")));
            }
            if !(0.0..=1.0).contains(&rule.min_probability) {
                return Err(DocumentError::Rules(format!(
                    "{here}: min_probability {} is not in [0, 1]",
                    rule.min_probability
                )));
            }
        }
        for (index, rule) in self.signals.iter().enumerate() {
            unit_interval(&format!("{at}.signals[{index}]"), rule.weight)?;
        }
        if let Some(sides) = &self.sides
            && (sides.front.is_empty() || sides.back.is_empty())
        {
            return Err(DocumentError::Rules(format!(
                "{at}.sides: front and back each need a keyword"
            )));
        }
        Ok(())
    }
}

/// A weight or score in (0, 1].
fn unit_interval(at: &str, value: f32) -> Result<(), DocumentError> {
    if value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(DocumentError::Rules(format!(
            "{at}: {value} is not in (0, 1]"
        )))
    }
}

/// FNV-1a (64 bits) of the rules' canonical JSON, as 16 hex digits.
fn digest_of(rules: &[TypeRule]) -> Result<String, DocumentError> {
    #[derive(Serialize)]
    struct Canonical<'a> {
        id: &'a str,
        origin: Origin,
        rules: &'a TypeTable,
    }
    let canonical: Vec<Canonical<'_>> = rules
        .iter()
        .map(|rule| Canonical {
            id: rule.doc_type.as_str(),
            origin: rule.origin,
            rules: &rule.table,
        })
        .collect();
    let json = serde_json::to_vec(&canonical)
        .map_err(|error| DocumentError::Rules(format!("digest: {error}")))?;
    Ok(format!("{:016x}", fnv1a_64(&json)))
}

/// 64-bit FNV-1a: small, stable across Rust versions and platforms.
pub(crate) fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}
