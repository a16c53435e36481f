//! Key fields of documents, each with the line it came from and, where the
//! field has a check (a check digit, a calendar date), whether it passes.
//! A field that fails its check is kept with `valid: Some(false)`, never
//! corrected.
//!
//! [`extract`] reads every field from OCR lines: by label (`姓名`,
//! `Date of birth`, `价税合计`, ...; [`labels`]), its value where forms
//! print it (after it, right of it on its row, under it in its column, on
//! the upright and deskewed page: [`layout`]), by shape (identity
//! numbers, [`prc_id`]; credit codes, [`credit_code`]; machine-readable
//! zones, [`mrz`]) and by place (a till receipt's shop), the values read
//! by [`dates`] and [`amounts`].

pub mod amounts;
pub mod credit_code;
pub mod dates;
mod extract;
mod found;
mod label_values;
mod labelled;
pub mod labels;
pub mod layout;
pub mod mrz;
mod mrz_fields;
mod parties;
mod patterns;
pub mod prc_id;
mod receipt;
mod split_labels;
pub mod text;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use extract::{extract, extract_as_of};

/// The fields imgtag reads. A closed set: the API, events and the index
/// name them by [`FieldName::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldName {
    /// PRC resident identity number (18 characters).
    IdNumber,
    /// A person's name (ID card, passport, driving licence).
    Name,
    /// `M` or `F` (from the ID number or the MRZ).
    Sex,
    /// ISO date `YYYY-MM-DD`.
    BirthDate,
    /// ICAO three-letter code (passport, MRZ), or the printed ethnicity /
    /// nationality of a PRC ID card.
    Nationality,
    /// Passport or ID document number (from the MRZ or printed).
    DocumentNumber,
    /// The whole machine-readable zone, lines joined by `\n`.
    Mrz,
    /// Issuing state (ICAO code) of an MRZ.
    IssuingState,
    /// ISO date the document was issued.
    IssueDate,
    /// ISO date the document expires, or `permanent` (`长期`).
    ExpiryDate,
    /// Unified social credit code (统一社会信用代码, 18 characters).
    CreditCode,
    /// Company name of a business licence (名称).
    CompanyName,
    /// Invoice code (发票代码, 10 or 12 digits).
    InvoiceCode,
    /// Invoice number (发票号码, 8 or 20 digits).
    InvoiceNumber,
    /// Total amount (价税合计, 合计, Total): a decimal with its currency in
    /// [`Field::unit`].
    TotalAmount,
    /// Seller's name (销售方 名称).
    Seller,
    /// Buyer's name (购买方 名称).
    Buyer,
}

impl FieldName {
    /// Every field name.
    pub const ALL: &'static [FieldName] = &[
        Self::IdNumber,
        Self::Name,
        Self::Sex,
        Self::BirthDate,
        Self::Nationality,
        Self::DocumentNumber,
        Self::Mrz,
        Self::IssuingState,
        Self::IssueDate,
        Self::ExpiryDate,
        Self::CreditCode,
        Self::CompanyName,
        Self::InvoiceCode,
        Self::InvoiceNumber,
        Self::TotalAmount,
        Self::Seller,
        Self::Buyer,
    ];

    /// The field's stable name (`id_number`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdNumber => "id_number",
            Self::Name => "name",
            Self::Sex => "sex",
            Self::BirthDate => "birth_date",
            Self::Nationality => "nationality",
            Self::DocumentNumber => "document_number",
            Self::Mrz => "mrz",
            Self::IssuingState => "issuing_state",
            Self::IssueDate => "issue_date",
            Self::ExpiryDate => "expiry_date",
            Self::CreditCode => "credit_code",
            Self::CompanyName => "company_name",
            Self::InvoiceCode => "invoice_code",
            Self::InvoiceNumber => "invoice_number",
            Self::TotalAmount => "total_amount",
            Self::Seller => "seller",
            Self::Buyer => "buyer",
        }
    }

    /// Whether the field is personal data (masked unless the caller may
    /// see it whole; never logged).
    pub fn personal(self) -> bool {
        matches!(
            self,
            Self::IdNumber
                | Self::Name
                | Self::Sex
                | Self::BirthDate
                | Self::DocumentNumber
                | Self::Mrz
        )
    }
}

/// One field read from a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Which field.
    pub name: FieldName,
    /// The value, normalised (ISO dates, upper-case check characters,
    /// decimal amounts without separators).
    pub value: String,
    /// Unit of an amount (`CNY`, `USD`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Index of the OCR line it came from (the first, for a field spanning
    /// lines such as an MRZ).
    pub line: usize,
    /// The text of that line (or lines, joined by `\n`).
    pub source: String,
    /// How sure the reading is, 0-1: the line's OCR confidence, lowered
    /// when the field was found by position rather than by its label.
    pub confidence: f32,
    /// Whether its check passes; `None` when the field has no check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
}

/// The date the document expires: its first expiry-date field that does
/// not fail its check. `None` when there is none, or it is `permanent`.
pub fn expires_on(fields: &[Field]) -> Option<NaiveDate> {
    let expiry = fields
        .iter()
        .find(|f| f.name == FieldName::ExpiryDate && f.valid != Some(false))?;
    NaiveDate::parse_from_str(&expiry.value, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests;
