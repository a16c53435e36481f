//! API keys: each grants exactly one tenant, and every endpoint takes its
//! tenant from the key ([`Caller`]), never from a parameter.
//!
//! A key is `imgtag_` followed by 43 base64url characters (32 bytes from the
//! operating system's generator). The configuration holds only its SHA-256:
//! keys are long random secrets, so a fast digest is enough (a slow password
//! hash protects guessable passwords, which these are not). A presented key
//! is hashed and compared with *every* configured digest in constant time
//! (`subtle`), so neither the comparison nor the loop reveals how much of a
//! guess was right.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::AppState;
use super::config::ApiKeyConfig;
use super::error::ApiError;
use crate::index::TenantId;
use crate::service::privacy::Disclosure;

/// Prefix of every key (lets secret scanners recognise leaked keys).
pub const KEY_PREFIX: &str = "imgtag_";
/// Longest `Authorization` value considered.
const MAX_KEY_LEN: usize = 256;

/// The configured keys, ready to check.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    keys: Arc<Vec<KnownKey>>,
}

#[derive(Debug)]
struct KnownKey {
    digest: [u8; 32],
    tenant: TenantId,
    name: Option<String>,
    disclosure: Disclosure,
}

/// Who is calling: the tenant its key grants.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The only tenant this request may see.
    pub tenant: TenantId,
    /// The key's holder, for logs.
    pub key_name: Option<String>,
    /// Whether the key sees personal fields whole.
    pub disclosure: Disclosure,
}

impl ApiKeys {
    /// Builds the table from validated configuration.
    pub fn new(keys: &[ApiKeyConfig]) -> Result<Self, String> {
        let keys = keys
            .iter()
            .map(|key| {
                let mut digest = [0u8; 32];
                hex::decode_to_slice(key.sha256.to_ascii_lowercase(), &mut digest)
                    .map_err(|e| format!("api key of {}: {e}", key.tenant))?;
                Ok(KnownKey {
                    digest,
                    tenant: TenantId::new(key.tenant.clone()).map_err(|e| e.to_string())?,
                    name: key.name.clone(),
                    disclosure: if key.personal_data {
                        Disclosure::Whole
                    } else {
                        Disclosure::Masked
                    },
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            keys: Arc::new(keys),
        })
    }

    /// How many keys are configured.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is configured (then every request is refused).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The caller a presented key identifies, if any.
    pub fn check(&self, presented: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        // Visit every key whatever matches, selecting in constant time.
        let mut found = subtle::Choice::from(0);
        let mut index = 0u64;
        for (i, key) in self.keys.iter().enumerate() {
            let matches = key.digest.ct_eq(&digest);
            index = u64::conditional_select(&index, &(i as u64), matches);
            found |= matches;
        }
        if !bool::from(found) {
            return None;
        }
        let key = usize::try_from(index).ok().and_then(|i| self.keys.get(i))?;
        Some(Caller {
            tenant: key.tenant.clone(),
            key_name: key.name.clone(),
            disclosure: key.disclosure,
        })
    }
}

/// The key of an `Authorization: Bearer KEY` header.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header =
        parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or(ApiError::Unauthorized(
                "no API key (send Authorization: Bearer KEY)",
            ))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not text"))?;
    let (scheme, key) = value.split_once(' ').ok_or(ApiError::Unauthorized(
        "the Authorization header is not `Bearer KEY`",
    ))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized(
            "the Authorization header is not `Bearer KEY`",
        ));
    }
    let key = key.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::Unauthorized("invalid API key"));
    }
    Ok(key)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer(parts)?;
        let caller = state
            .keys
            .check(key)
            .ok_or(ApiError::Unauthorized("invalid API key"))?;
        let span = tracing::Span::current();
        span.record("tenant", caller.tenant.as_str());
        if let Some(name) = &caller.key_name {
            span.record("key", name.as_str());
        }
        Ok(caller)
    }
}

/// A new random key and its digest for `[[api.keys]]`.
pub fn generate_key() -> Result<(String, String), String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness from the system: {e}"))?;
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let digest = key_digest(&key);
    Ok((key, digest))
}

/// Lowercase hex SHA-256 of a key, as configured.
pub fn key_digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_grants_its_tenant_only() {
        let (acme_key, acme_digest) = generate_key().unwrap();
        let (other_key, other_digest) = generate_key().unwrap();
        assert!(acme_key.starts_with(KEY_PREFIX) && acme_key.len() == 50);
        assert_ne!(acme_key, other_key);
        let keys = ApiKeys::new(&[
            ApiKeyConfig {
                tenant: "acme".into(),
                sha256: acme_digest,
                name: Some("crm".into()),
                personal_data: false,
            },
            ApiKeyConfig {
                tenant: "other".into(),
                sha256: other_digest.to_uppercase(),
                name: None,
                personal_data: false,
            },
        ])
        .unwrap();
        let caller = keys.check(&acme_key).unwrap();
        assert_eq!(caller.tenant.as_str(), "acme");
        assert_eq!(caller.key_name.as_deref(), Some("crm"));
        assert_eq!(keys.check(&other_key).unwrap().tenant.as_str(), "other");
        assert!(keys.check(&acme_key[..acme_key.len() - 1]).is_none());
        assert!(keys.check("").is_none());
        assert!(keys.check(&key_digest(&acme_key)).is_none());
    }
}
