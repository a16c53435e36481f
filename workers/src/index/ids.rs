//! Identifiers of the index: the tenant every record belongs to and the
//! deterministic image id derived from it.
//!
//! `image_id` is the UUIDv5 of `tenant_id`, a newline and the lowercase hex
//! sha256 of the original bytes, in the namespace [`IMAGE_ID_NAMESPACE`].
//! Uploading the same bytes again in the same tenant therefore lands on the
//! same point (an overwrite, never a duplicate), and the same bytes in two
//! tenants are two points. A tenant id cannot contain a newline, so no two
//! (tenant, sha256) pairs share a name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::IndexError;

/// Namespace of imgtag's UUIDv5 image ids (a fixed random UUID; changing it
/// would change every id).
pub const IMAGE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f0c_2b7e_4a51_4d0e_9c3f_81a2_d5e7_b914);

/// Longest tenant id accepted.
pub const MAX_TENANT_ID_LEN: usize = 64;

/// A validated tenant id: 1 to 64 characters of `A-Z a-z 0-9 . _ -`, not
/// starting with `.` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    /// Validates `value` as a tenant id.
    pub fn new(value: impl Into<String>) -> Result<Self, IndexError> {
        let value = value.into();
        validate_identifier("tenant_id", &value, MAX_TENANT_ID_LEN)?;
        Ok(Self(value))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = IndexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for TenantId {
    type Error = IndexError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

/// Checks a CRM-supplied identifier (tenant, customer, project): non-empty,
/// at most `max` bytes of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
pub fn validate_identifier(what: &str, value: &str, max: usize) -> Result<(), IndexError> {
    let invalid = |why: &str| IndexError::InvalidInput(format!("{what} {value:?} {why}"));
    if value.is_empty() {
        return Err(invalid("is empty"));
    }
    if value.len() > max {
        return Err(invalid(&format!("is longer than {max} bytes")));
    }
    if value.starts_with(['.', '-']) {
        return Err(invalid("must not start with '.' or '-'"));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(invalid("may only contain A-Z, a-z, 0-9, '.', '_' and '-'"));
    }
    Ok(())
}

/// The id of one image in one tenant (UUIDv5, see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImageId(Uuid);

impl ImageId {
    /// The id of the image whose original bytes hash to `sha256` (64
    /// lowercase or uppercase hex digits) in `tenant`.
    pub fn derive(tenant: &TenantId, sha256: &str) -> Result<Self, IndexError> {
        let sha256 = normalise_sha256(sha256)?;
        let name = format!("{}\n{sha256}", tenant.as_str());
        Ok(Self(Uuid::new_v5(&IMAGE_ID_NAMESPACE, name.as_bytes())))
    }

    /// Wraps a UUID read back from the index.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID.
    pub fn uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for ImageId {
    type Err = IndexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|e| IndexError::InvalidInput(format!("image id {s:?} is not a UUID: {e}")))
    }
}

/// Lowercases a sha256 hex digest after checking it is one.
pub fn normalise_sha256(sha256: &str) -> Result<String, IndexError> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IndexError::InvalidInput(format!(
            "sha256 {sha256:?} is not 64 hex digits"
        )));
    }
    Ok(sha256.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn ids_are_deterministic_per_tenant() {
        let a = TenantId::new("acme").unwrap();
        let b = TenantId::new("globex").unwrap();
        let id = ImageId::derive(&a, SHA).unwrap();
        assert_eq!(id, ImageId::derive(&a, &SHA.to_uppercase()).unwrap());
        assert_ne!(id, ImageId::derive(&b, SHA).unwrap());
        assert_eq!(id.uuid().get_version_num(), 5);
        assert_eq!(id.to_string().parse::<ImageId>().unwrap(), id);
        // Pinned (computed independently with Python's uuid.uuid5): the id
        // scheme is a stored contract.
        assert_eq!(id.to_string(), "de98ed16-42a1-5c41-9b9b-010742e573e3");
    }

    #[test]
    fn bad_tenants_and_hashes_are_refused() {
        for bad in ["", ".x", "-x", "a b", "a\nb", "é", &"x".repeat(65)] {
            let error = TenantId::new(bad).unwrap_err();
            assert_eq!(error.code(), "index.invalid_input", "{bad:?}");
        }
        assert!(TenantId::new("Tenant_1.prod-eu").is_ok());
        assert!(ImageId::derive(&TenantId::new("a").unwrap(), "abc").is_err());
        assert!("not-a-uuid".parse::<ImageId>().is_err());
    }
}
