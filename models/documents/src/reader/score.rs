//! Scoring one type's rules against a document: each matched rule is an
//! [`EvidenceItem`]; weights combine by noisy-or,
//! `1 - (1 - w1) * (1 - w2) * ...`.

use super::{EvidenceItem, EvidenceKind};
use crate::types::{MrzFormat, Origin, SearchText, Signal, TypeRule};
use crate::{DocumentEvidence, Field};

/// What the rules look at, prepared once per document.
#[derive(Debug)]
pub(crate) struct Seen<'a> {
    /// The OCR lines, folded for keywords.
    pub(crate) text: SearchText,
    /// The fields read.
    pub(crate) fields: &'a [Field],
    /// The classifier's classes with probabilities.
    pub(crate) classes: &'a [(String, f32)],
    /// The signals shown.
    pub(crate) signals: Vec<Signal>,
}

impl<'a> Seen<'a> {
    /// Prepares the evidence and the fields read from it.
    pub(crate) fn new(evidence: &'a DocumentEvidence, fields: &'a [Field]) -> Self {
        Self {
            text: SearchText::new(evidence.lines.iter().map(|line| line.text.as_str())),
            fields,
            classes: &evidence.classes,
            signals: Signal::all_seen(evidence),
        }
    }
}

/// One type's score and the rules that made it.
#[derive(Debug, Clone)]
pub(crate) struct Scored {
    /// Noisy-or of the matched weights, 0-1.
    pub(crate) score: f32,
    /// The matched rules.
    pub(crate) evidence: Vec<EvidenceItem>,
}

/// Scores one type.
pub(crate) fn score(rule: &TypeRule, seen: &Seen<'_>) -> Scored {
    let mut evidence = Vec::new();
    let keyword_kind = match rule.origin {
        Origin::Builtin => EvidenceKind::Keyword,
        Origin::Custom => EvidenceKind::CustomRule,
    };
    for keywords in &rule.table.keywords {
        let matched: Vec<&str> = keywords
            .any
            .iter()
            .filter(|keyword| seen.text.contains(keyword))
            .map(|keyword| keyword.written.as_str())
            .collect();
        if !matched.is_empty() && matched.len() >= keywords.min {
            evidence.push(item(keyword_kind, matched.join(", "), keywords.weight));
        }
    }
    for wanted in &rule.table.fields {
        let found = seen.fields.iter().any(|field| {
            field.name == wanted.field
                && (!wanted.valid || field.valid == Some(true))
                && wanted
                    .mrz
                    .is_none_or(|format| MrzFormat::of(&field.value) == Some(format))
        });
        if found {
            let detail = wanted.field.as_str().to_string();
            evidence.push(item(EvidenceKind::Field, detail, wanted.weight));
        }
    }
    for wanted in &rule.table.classes {
        let found = seen.classes.iter().find(|(class, probability)| {
            *probability >= wanted.min_probability
                && wanted
                    .any
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(class))
        });
        if let Some((class, _)) = found {
            evidence.push(item(EvidenceKind::Class, class.clone(), wanted.weight));
        }
    }
    for wanted in &rule.table.signals {
        if seen.signals.contains(&wanted.signal) {
            let detail = wanted.signal.as_str().to_string();
            evidence.push(item(EvidenceKind::Signal, detail, wanted.weight));
        }
    }
    let miss = evidence
        .iter()
        .fold(1.0_f32, |miss, item| miss * (1.0 - item.weight));
    Scored {
        score: (1.0 - miss).clamp(0.0, 1.0),
        evidence,
    }
}

fn item(kind: EvidenceKind, detail: String, weight: f32) -> EvidenceItem {
    EvidenceItem {
        kind,
        detail,
        weight,
    }
}
