//! `[api]`: where `imgtag serve` listens, its request bounds, and the API
//! keys (one tenant each, stored as SHA-256 digests: the configuration never
//! holds a usable key).

use serde::{Deserialize, Serialize};

use crate::index::TenantId;

/// `[api]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address `imgtag serve` listens on (`--listen` overrides it).
    pub listen: String,
    /// Largest request body in bytes, uploads included (an upload is then
    /// bounded again by `[decode]` before it is decoded).
    pub max_body_bytes: u64,
    /// Seconds a request may take before it is answered 408.
    pub request_timeout_secs: u64,
    /// Largest page of results a request may ask for.
    pub max_limit: u16,
    /// Seconds browsers and proxies may reuse a rendition (`Cache-Control:
    /// private, max-age=...`; revalidated by `ETag` afterwards).
    pub rendition_max_age_secs: u64,
    /// The API keys.
    pub keys: Vec<ApiKeyConfig>,
}

/// One API key: it grants exactly one tenant.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// The tenant the key grants.
    pub tenant: String,
    /// Lowercase hex SHA-256 of the key (`imgtag api-key --tenant T`
    /// prints a new key with its digest).
    pub sha256: String,
    /// Who holds the key, for logs (`crm-prod`, `analysts`); never secret.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the key sees personal fields (ID numbers, names, birth
    /// dates, MRZ lines, the text of ID papers) whole; masked otherwise.
    #[serde(default)]
    pub personal_data: bool,
}

impl std::fmt::Debug for ApiKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyConfig")
            .field("tenant", &self.tenant)
            .field("sha256", &"***")
            .field("name", &self.name)
            .field("personal_data", &self.personal_data)
            .finish()
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 32 * 1024 * 1024,
            request_timeout_secs: 30,
            max_limit: 100,
            rendition_max_age_secs: 86_400,
            keys: Vec::new(),
        }
    }
}

impl ApiConfig {
    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!("listen {:?} is not an address:port", self.listen));
        }
        if self.max_body_bytes < 1024 {
            return Err("max_body_bytes must be at least 1024".into());
        }
        if self.request_timeout_secs == 0 {
            return Err("request_timeout_secs must be positive".into());
        }
        if !(1..=1000).contains(&self.max_limit) {
            return Err("max_limit must be 1-1000".into());
        }
        let mut digests = std::collections::BTreeSet::new();
        for (i, key) in self.keys.iter().enumerate() {
            TenantId::new(key.tenant.clone()).map_err(|e| format!("keys[{i}]: {e}"))?;
            let digest = key.sha256.to_ascii_lowercase();
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "keys[{i}].sha256 must be 64 hex digits (the SHA-256 of the key, not the key)"
                ));
            }
            if !digests.insert(digest) {
                return Err(format!("keys[{i}] repeats another key"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tenant: &str, sha256: &str) -> ApiKeyConfig {
        ApiKeyConfig {
            tenant: tenant.into(),
            sha256: sha256.into(),
            name: None,
            personal_data: false,
        }
    }

    #[test]
    fn keys_must_be_digests_of_valid_tenants_and_unique() {
        let digest = "ab".repeat(32);
        let mut config = ApiConfig {
            keys: vec![key("acme", &digest)],
            ..ApiConfig::default()
        };
        assert!(config.validate().is_ok());
        config.keys.push(key("other", &digest.to_uppercase()));
        assert!(config.validate().unwrap_err().contains("repeats"));
        config.keys = vec![key("acme", "imgtag_notadigest")];
        assert!(config.validate().unwrap_err().contains("64 hex"));
        config.keys = vec![key("a b", &digest)];
        assert!(config.validate().unwrap_err().contains("tenant"));
        assert!(!format!("{:?}", key("acme", &digest)).contains(&digest));
    }
}
