//! The crate's one error type.

use thiserror::Error;

/// What can go wrong building the document rules. Reading a document never
/// fails: an unreadable document is type `other_document` or `none` with no
/// fields.
#[derive(Debug, Error)]
pub enum DocumentError {
    /// The compiled-in rule file or a tenant's custom rule is malformed.
    #[error("document rules: {0}")]
    Rules(String),
}

impl DocumentError {
    /// Stable code for logs, events and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rules(_) => "document.rules_invalid",
        }
    }

    /// Whether retrying can help (never: rules are configuration).
    pub fn retryable(&self) -> bool {
        false
    }
}
