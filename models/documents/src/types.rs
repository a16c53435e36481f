//! Document types from rules over evidence. The built-in rules live in
//! `data/document_types.toml` (compiled in, reviewable, a test per rule);
//! a tenant adds its own types with keyword rules in config
//! ([`CustomTypeRule`]).
//!
//! - [`DocumentType`]: the types, built-in and custom.
//! - `rules`: [`TypeRules`], the rule file parsed and validated, plus the
//!   tenant's custom types; its digest versions the reader.
//! - `custom`: [`CustomTypeRule`], a tenant's keyword rule from config.
//! - `keyword`: how keywords match OCR text (NFKC, lower case, whole words
//!   for latin keywords).
//! - `signal`: [`Signal`], the closed set of image and layout signals;
//!   `layout` computes the layout ones (status bar, chat bubbles).

mod custom;
mod keyword;
mod layout;
mod rules;
mod signal;
#[cfg(test)]
mod tests;

pub use custom::CustomTypeRule;
pub(crate) use keyword::{Keyword, SearchText};
pub use rules::TypeRules;
pub(crate) use rules::{MrzFormat, Origin, TypeRule};
pub use signal::Signal;

use serde::{Deserialize, Serialize};

/// What kind of document an image is. The built-in types are a closed set;
/// a tenant's own types (keyword rules in config) are [`DocumentType::Custom`]
/// with an id of `a-z`, `0-9` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentType {
    /// Identity card (incl. the PRC resident identity card, front or back).
    IdCard,
    /// Passport (data page).
    Passport,
    /// Driving licence.
    DrivingLicence,
    /// Business licence (营业执照).
    BusinessLicence,
    /// Invoice (incl. PRC VAT invoices, 增值税发票, 全电发票).
    Invoice,
    /// Till or card-terminal receipt.
    Receipt,
    /// Bank slip (transfer receipt, deposit slip).
    BankSlip,
    /// A form to fill in.
    Form,
    /// A letter.
    Letter,
    /// A screenshot (chat, app, web page).
    Screenshot,
    /// A document of no type above.
    OtherDocument,
    /// Not a document (a photo).
    None,
    /// A tenant's own type.
    Custom(String),
}

impl DocumentType {
    /// The built-in types.
    pub const BUILTIN: &'static [DocumentType] = &[
        Self::IdCard,
        Self::Passport,
        Self::DrivingLicence,
        Self::BusinessLicence,
        Self::Invoice,
        Self::Receipt,
        Self::BankSlip,
        Self::Form,
        Self::Letter,
        Self::Screenshot,
        Self::OtherDocument,
        Self::None,
    ];

    /// Its stable id (`id_card`, `passport`, ..., or the custom id).
    pub fn as_str(&self) -> &str {
        match self {
            Self::IdCard => "id_card",
            Self::Passport => "passport",
            Self::DrivingLicence => "driving_licence",
            Self::BusinessLicence => "business_licence",
            Self::Invoice => "invoice",
            Self::Receipt => "receipt",
            Self::BankSlip => "bank_slip",
            Self::Form => "form",
            Self::Letter => "letter",
            Self::Screenshot => "screenshot",
            Self::OtherDocument => "other_document",
            Self::None => "none",
            Self::Custom(id) => id,
        }
    }

    /// Parses a built-in id, else a valid custom id.
    pub fn parse(id: &str) -> Option<Self> {
        if let Some(builtin) = Self::BUILTIN.iter().find(|t| t.as_str() == id) {
            return Some(builtin.clone());
        }
        valid_custom_id(id).then(|| Self::Custom(id.to_string()))
    }

    /// Whether it is an identity paper (personal data, left out of search
    /// unless asked for, renditions redacted).
    pub fn identity_paper(&self) -> bool {
        matches!(self, Self::IdCard | Self::Passport | Self::DrivingLicence)
    }
}

/// Whether `id` may name a custom type: 1-40 of `a-z`, `0-9`, `_`, starting
/// with a letter, and not a built-in id.
pub fn valid_custom_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !DocumentType::BUILTIN.iter().any(|t| t.as_str() == id)
}

impl std::fmt::Display for DocumentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DocumentType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DocumentType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Self::parse(&id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown document type {id:?}")))
    }
}
