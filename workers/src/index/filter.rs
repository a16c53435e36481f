//! Filters in the project's own terms.
//!
//! [`ImageFilter`] is what an analyst asks for (tags, customer, dates...).
//! [`ScopedFilter`] is what a backend receives: the conditions plus the
//! tenant, which only [`super::TenantIndex`] can set. A backend cannot be
//! handed a filter without a tenant, so no query crosses tenants.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::IndexError;
use super::ids::{ImageId, TenantId};
use super::layout::Field;
use super::record::{GeoPoint, parse_datetime};

/// Most values in one list of a filter (tags, customers...).
pub const MAX_FILTER_VALUES: usize = 64;

/// One condition on indexed fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The keyword field (or one element of it, for arrays) equals one of
    /// the values.
    Keyword {
        /// The field.
        field: Field,
        /// Accepted values (at least one).
        any_of: Vec<String>,
    },
    /// The point id is one of these.
    Ids(Vec<ImageId>),
    /// A datetime field in `[gte, lt)`; times in the stored RFC 3339 form.
    DatetimeRange {
        /// The field.
        field: Field,
        /// Inclusive lower bound.
        gte: Option<String>,
        /// Exclusive upper bound.
        lt: Option<String>,
    },
    /// A float field in `[gte, lte]`.
    FloatRange {
        /// The field.
        field: Field,
        /// Inclusive lower bound.
        gte: Option<f64>,
        /// Inclusive upper bound.
        lte: Option<f64>,
    },
    /// A boolean field equals `value`.
    Flag {
        /// The field.
        field: Field,
        /// The value.
        value: bool,
    },
    /// A full-text field holds these space-separated terms next to each
    /// other, in order (see [`super::text`]).
    Phrase {
        /// The field.
        field: Field,
        /// The terms.
        terms: String,
    },
    /// The keyword field lacks at least one of the values (one `should`
    /// of `must_not`s): "stale for at least one analyzer".
    MissingAny {
        /// The field.
        field: Field,
        /// The values (at least one).
        values: Vec<String>,
    },
    /// A geo field within `radius_m` metres of `center`.
    GeoRadius {
        /// The field.
        field: Field,
        /// Centre.
        center: GeoPoint,
        /// Radius in metres.
        radius_m: f64,
    },
}

impl Condition {
    /// The condition in Qdrant's REST JSON (what both the engine's `Filter`
    /// and the server's REST API accept).
    pub fn to_qdrant_json(&self) -> Value {
        match self {
            Self::Keyword { field, any_of } => match any_of.as_slice() {
                [one] => json!({"key": field.path(), "match": {"value": one}}),
                many => json!({"key": field.path(), "match": {"any": many}}),
            },
            Self::Ids(ids) => {
                json!({"has_id": ids.iter().map(ToString::to_string).collect::<Vec<_>>()})
            }
            Self::DatetimeRange { field, gte, lt } => {
                let mut range = serde_json::Map::new();
                if let Some(gte) = gte {
                    range.insert("gte".into(), json!(gte));
                }
                if let Some(lt) = lt {
                    range.insert("lt".into(), json!(lt));
                }
                json!({"key": field.path(), "range": range})
            }
            Self::FloatRange { field, gte, lte } => {
                let mut range = serde_json::Map::new();
                if let Some(gte) = gte {
                    range.insert("gte".into(), json!(gte));
                }
                if let Some(lte) = lte {
                    range.insert("lte".into(), json!(lte));
                }
                json!({"key": field.path(), "range": range})
            }
            Self::Flag { field, value } => json!({"key": field.path(), "match": {"value": value}}),
            Self::Phrase { field, terms } => {
                json!({"key": field.path(), "match": {"phrase": terms}})
            }
            Self::MissingAny { field, values } => json!({
                "should": values
                    .iter()
                    .map(|value| json!({"must_not": [{"key": field.path(), "match": {"value": value}}]}))
                    .collect::<Vec<_>>()
            }),
            Self::GeoRadius {
                field,
                center,
                radius_m,
            } => json!({
                "key": field.path(),
                "geo_radius": {"center": {"lon": center.lon, "lat": center.lat}, "radius": radius_m}
            }),
        }
    }
}

/// Conditions bound to one tenant. Built only by the tenant-scoped API.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopedFilter {
    tenant: TenantId,
    must: Vec<Condition>,
    must_not: Vec<Condition>,
}

impl ScopedFilter {
    pub(super) fn new(tenant: TenantId) -> Self {
        Self {
            tenant,
            must: Vec::new(),
            must_not: Vec::new(),
        }
    }

    pub(super) fn with(mut self, must: Vec<Condition>, must_not: Vec<Condition>) -> Self {
        self.must.extend(must);
        self.must_not.extend(must_not);
        self
    }

    /// The tenant every match belongs to.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Every condition that must hold, the tenant's first.
    pub fn must(&self) -> Vec<Condition> {
        let mut must = vec![Condition::Keyword {
            field: Field::Tenant,
            any_of: vec![self.tenant.as_str().to_owned()],
        }];
        must.extend(self.must.iter().cloned());
        must
    }

    /// Conditions that must not hold.
    pub fn must_not(&self) -> &[Condition] {
        &self.must_not
    }

    /// The whole filter in Qdrant's REST JSON.
    pub fn to_qdrant_json(&self) -> Value {
        let must: Vec<Value> = self.must().iter().map(Condition::to_qdrant_json).collect();
        let must_not: Vec<Value> = self
            .must_not
            .iter()
            .map(Condition::to_qdrant_json)
            .collect();
        if must_not.is_empty() {
            json!({"must": must})
        } else {
            json!({"must": must, "must_not": must_not})
        }
    }
}

/// A circle on the map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoRadius {
    /// Centre.
    pub center: GeoPoint,
    /// Radius in metres.
    pub radius_m: f64,
}

/// What an analyst filters on. Every list is "any of" except `tags_all`
/// and `labels` (all must hold); empty means "no condition".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageFilter {
    /// Images carrying every one of these tags.
    pub tags_all: Vec<String>,
    /// Images carrying at least one of these tags.
    pub tags_any: Vec<String>,
    /// Customers.
    pub customers: Vec<String>,
    /// Projects.
    pub projects: Vec<String>,
    /// Captured at or after (RFC 3339, or a date).
    pub captured_since: Option<String>,
    /// Captured before (RFC 3339, or a date).
    pub captured_until: Option<String>,
    /// Include images the NSFW model flagged (excluded by default).
    pub include_sensitive: bool,
    /// Leave out images with any of these quality flags.
    pub exclude_quality_flags: Vec<String>,
    /// Only images at least this sharp (Laplacian variance).
    pub min_sharpness: Option<f64>,
    /// Formats.
    pub formats: Vec<String>,
    /// CRM labels that must all be present with these values.
    pub labels: BTreeMap<String, String>,
    /// Taken within this circle.
    pub near: Option<GeoRadius>,
    /// Text read in the image contains this (a substring for Chinese and
    /// Japanese, whole words and numbers otherwise; see
    /// [`super::text`]).
    pub text_contains: Option<String>,
    /// Document types (`invoice`, `passport`, `none`, a tenant's own).
    pub document_types: Vec<String>,
    /// Include identity papers (ID cards, passports, driving licences:
    /// excluded by default, like sensitive images).
    pub include_id_papers: bool,
    /// Documents expiring on or after this date (RFC 3339, or a date).
    pub expires_since: Option<String>,
    /// Documents expiring before this date (RFC 3339, or a date).
    pub expires_until: Option<String>,
}

impl ImageFilter {
    /// Every image: sensitive images and identity papers included (for
    /// maintenance, stats and duplicate checks).
    pub fn everything() -> Self {
        Self {
            include_sensitive: true,
            include_id_papers: true,
            ..Self::default()
        }
    }

    /// Validates the filter and turns it into (must, must_not) conditions.
    pub fn conditions(&self) -> Result<(Vec<Condition>, Vec<Condition>), IndexError> {
        let mut must = Vec::new();
        let mut must_not = Vec::new();
        for (what, list) in [
            ("tags_all", &self.tags_all),
            ("tags_any", &self.tags_any),
            ("customers", &self.customers),
            ("projects", &self.projects),
            ("exclude_quality_flags", &self.exclude_quality_flags),
            ("formats", &self.formats),
            ("document_types", &self.document_types),
        ] {
            if list.len() > MAX_FILTER_VALUES {
                return Err(IndexError::InvalidInput(format!(
                    "{what} has {} values, at most {MAX_FILTER_VALUES}",
                    list.len()
                )));
            }
            if list.iter().any(|v| v.is_empty() || v.len() > 256) {
                return Err(IndexError::InvalidInput(format!(
                    "{what} has an empty or over-long value"
                )));
            }
        }
        if self.labels.len() > MAX_FILTER_VALUES {
            return Err(IndexError::InvalidInput(
                "too many labels in the filter".into(),
            ));
        }
        let keyword = |field: Field, values: &[String]| Condition::Keyword {
            field,
            any_of: values.to_vec(),
        };
        for tag in &self.tags_all {
            must.push(keyword(Field::Tags, std::slice::from_ref(tag)));
        }
        for (field, values) in [
            (Field::Tags, &self.tags_any),
            (Field::Customer, &self.customers),
            (Field::Project, &self.projects),
            (Field::Format, &self.formats),
            (Field::DocumentType, &self.document_types),
        ] {
            if !values.is_empty() {
                must.push(keyword(field, values));
            }
        }
        for (key, value) in &self.labels {
            must.push(keyword(Field::Labels, &[format!("{key}={value}")]));
        }
        for (field, name, since, until) in [
            (
                Field::CapturedAt,
                "captured",
                &self.captured_since,
                &self.captured_until,
            ),
            (
                Field::DocumentExpiresOn,
                "expires",
                &self.expires_since,
                &self.expires_until,
            ),
        ] {
            if let Some(range) = datetime_range(field, name, since, until)? {
                must.push(range);
            }
        }
        if let Some(min) = self.min_sharpness {
            if !min.is_finite() {
                return Err(IndexError::InvalidInput(
                    "min_sharpness is not finite".into(),
                ));
            }
            must.push(Condition::FloatRange {
                field: Field::Sharpness,
                gte: Some(min),
                lte: None,
            });
        }
        if let Some(near) = self.near {
            let GeoRadius { center, radius_m } = near;
            if !((-90.0..=90.0).contains(&center.lat)
                && (-180.0..=180.0).contains(&center.lon)
                && radius_m.is_finite()
                && radius_m > 0.0)
            {
                return Err(IndexError::InvalidInput(format!("bad geo radius {near:?}")));
            }
            must.push(Condition::GeoRadius {
                field: Field::Gps,
                center,
                radius_m,
            });
        }
        if let Some(query) = &self.text_contains {
            if query.chars().count() > super::text::MAX_QUERY_CHARS {
                return Err(IndexError::InvalidInput(format!(
                    "text_contains is longer than {} characters",
                    super::text::MAX_QUERY_CHARS
                )));
            }
            let terms = super::text::query_phrase(query).ok_or_else(|| {
                IndexError::InvalidInput(format!(
                    "text_contains {query:?} has no letters or digits to look for"
                ))
            })?;
            must.push(Condition::Phrase {
                field: Field::OcrTerms,
                terms,
            });
        }
        if !self.include_sensitive {
            must_not.push(Condition::Flag {
                field: Field::NsfwFlagged,
                value: true,
            });
        }
        if !self.include_id_papers {
            must_not.push(Condition::Flag {
                field: Field::DocumentIdentity,
                value: true,
            });
        }
        if !self.exclude_quality_flags.is_empty() {
            must_not.push(keyword(Field::QualityFlags, &self.exclude_quality_flags));
        }
        Ok((must, must_not))
    }
}

/// `[since, until)` on a datetime field, when either bound is given.
fn datetime_range(
    field: Field,
    name: &str,
    since: &Option<String>,
    until: &Option<String>,
) -> Result<Option<Condition>, IndexError> {
    let since = since.as_deref().map(parse_datetime).transpose()?;
    let until = until.as_deref().map(parse_datetime).transpose()?;
    if let (Some(since), Some(until)) = (&since, &until)
        && since >= until
    {
        return Err(IndexError::InvalidInput(format!(
            "{name}_since {since} is not before {name}_until {until}"
        )));
    }
    Ok(
        (since.is_some() || until.is_some()).then_some(Condition::DatetimeRange {
            field,
            gte: since,
            lt: until,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_is_always_the_first_condition() {
        let tenant = TenantId::new("acme").unwrap();
        let filter = ImageFilter {
            tags_all: vec!["cat".into(), "indoor".into()],
            captured_since: Some("2024-01-01".into()),
            ..ImageFilter::default()
        };
        let (must, must_not) = filter.conditions().unwrap();
        let scoped = ScopedFilter::new(tenant).with(must, must_not);
        let json = scoped.to_qdrant_json();
        assert_eq!(
            json["must"][0],
            json!({"key": "tenant_id", "match": {"value": "acme"}})
        );
        assert_eq!(json["must"].as_array().unwrap().len(), 4);
        assert_eq!(
            json["must_not"][0],
            json!({"key": "nsfw.flagged", "match": {"value": true}})
        );
        assert_eq!(json["must"][3]["range"]["gte"], "2024-01-01T00:00:00Z");
    }

    #[test]
    fn text_contains_is_a_phrase_of_normalised_terms() {
        let filter = ImageFilter {
            text_contains: Some("ＩＮＶＯＩＣＥ 发票 No.123".into()),
            ..ImageFilter::default()
        };
        let (must, _) = filter.conditions().unwrap();
        let phrase = must
            .iter()
            .map(Condition::to_qdrant_json)
            .find(|c| c["key"] == "ocr_terms")
            .expect("an ocr_terms condition");
        assert_eq!(
            phrase,
            json!({"key": "ocr_terms", "match": {"phrase": "invoice 发 票 no 123"}})
        );
        let nothing = ImageFilter {
            text_contains: Some(" ，。!? ".into()),
            ..ImageFilter::default()
        };
        assert_eq!(
            nothing.conditions().unwrap_err().code(),
            "index.invalid_input"
        );
    }

    #[test]
    fn missing_any_is_a_should_of_must_nots() {
        let stale = Condition::MissingAny {
            field: Field::AnalyzerKeys,
            values: vec!["ocr@1".into(), "nsfw@2".into()],
        };
        assert_eq!(
            stale.to_qdrant_json(),
            json!({"should": [
                {"must_not": [{"key": "analyzer_keys", "match": {"value": "ocr@1"}}]},
                {"must_not": [{"key": "analyzer_keys", "match": {"value": "nsfw@2"}}]},
            ]})
        );
    }

    #[test]
    fn bad_filters_are_refused() {
        let reversed = ImageFilter {
            captured_since: Some("2024-02-01".into()),
            captured_until: Some("2024-01-01".into()),
            ..ImageFilter::default()
        };
        assert_eq!(
            reversed.conditions().unwrap_err().code(),
            "index.invalid_input"
        );
        let many = ImageFilter {
            tags_any: vec!["x".into(); 65],
            ..ImageFilter::default()
        };
        assert!(many.conditions().is_err());
    }
}
