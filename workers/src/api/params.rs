//! Query-string parameters: the filters every search and facet endpoint
//! shares, the text, and paging. Repeated keys are lists (`tag=a&tag=b`);
//! an unknown key is refused rather than silently ignored, so a typo never
//! widens a search.

use axum::http::{HeaderMap, header};
use imgtag_models::Lang;

use crate::index::{FacetField, ImageFilter};

use super::error::ApiError;

/// What a search or facet request asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryParams {
    /// `text`: words to look for.
    pub text: Option<String>,
    /// The filters.
    pub filter: ImageFilter,
    /// `limit`: how many results (default 20).
    pub limit: Option<usize>,
    /// `offset`: how many best results to skip.
    pub offset: usize,
    /// `lang`: the language of tag names in the answer (`en`, `zh`).
    pub lang: Option<Lang>,
}

/// Longest `text` accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 1000;
/// Results when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 20;

impl QueryParams {
    /// Parses a raw query string (`None`: no query at all).
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut params = Self::default();
        let Some(raw) = raw else {
            return Ok(params);
        };
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            let value = value.into_owned();
            let filter = &mut params.filter;
            match key.as_ref() {
                "text" => {
                    let text = value.trim();
                    if text.is_empty() {
                        return Err(bad("text must not be empty"));
                    }
                    if text.len() > MAX_TEXT_BYTES {
                        return Err(bad(&format!("text is longer than {MAX_TEXT_BYTES} bytes")));
                    }
                    params.text = Some(text.to_owned());
                }
                "tag" => filter.tags_all.push(value),
                "any_tag" => filter.tags_any.push(value),
                "customer" => filter.customers.push(value),
                "project" => filter.projects.push(value),
                "format" => filter.formats.push(value),
                "since" => filter.captured_since = non_empty(value),
                "until" => filter.captured_until = non_empty(value),
                "include_sensitive" => filter.include_sensitive = boolean(&key, &value)?,
                "include_id_papers" => filter.include_id_papers = boolean(&key, &value)?,
                "document_type" => filter.document_types.push(value),
                "expires_since" => filter.expires_since = non_empty(value),
                "expires_until" => filter.expires_until = non_empty(value),
                "contains" => {
                    let text = value.trim();
                    if text.is_empty() {
                        return Err(bad("contains must not be empty"));
                    }
                    filter.text_contains = Some(text.to_owned());
                }
                "limit" => params.limit = Some(number(&key, &value)?),
                "offset" => params.offset = number(&key, &value)?,
                "lang" => {
                    params.lang = Some(
                        Lang::parse(&value)
                            .ok_or_else(|| bad(&format!("lang {value:?}: use en or zh")))?,
                    );
                }
                other => {
                    return Err(bad(&format!(
                        "unknown parameter {other:?} (known: text, contains, tag, any_tag, \
                         customer, project, format, since, until, include_sensitive, \
                         include_id_papers, document_type, expires_since, expires_until, limit, \
                         offset, lang)"
                    )));
                }
            }
        }
        // Validate now, so a bad date is a 400 before any model runs.
        params
            .filter
            .conditions()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(params)
    }

    /// The answer's language: `lang`, else the request's `Accept-Language`,
    /// else English.
    pub fn language(&self, headers: &HeaderMap) -> Lang {
        self.lang.unwrap_or_else(|| request_language(headers))
    }

    /// `limit`, defaulted and bounded by `max`.
    pub fn limit(&self, max: usize) -> Result<usize, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT.min(max));
        if limit == 0 || limit > max {
            return Err(bad(&format!("limit must be 1-{max}")));
        }
        Ok(limit)
    }

    /// Refuses parameters an endpoint does not use.
    pub fn refuse_text_and_offset(&self, endpoint: &str) -> Result<(), ApiError> {
        if self.text.is_some() {
            return Err(bad(&format!("{endpoint} takes no `text`")));
        }
        if self.offset != 0 {
            return Err(bad(&format!("{endpoint} takes no `offset`")));
        }
        Ok(())
    }
}

/// The language `Accept-Language` prefers (English when it names none
/// that imgtag speaks).
pub fn request_language(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

/// A facet field by its API name.
pub fn facet_field(name: &str) -> Result<FacetField, ApiError> {
    Ok(match name {
        "tag" => FacetField::Tag,
        "customer" => FacetField::Customer,
        "project" => FacetField::Project,
        "format" => FacetField::Format,
        "month" => FacetField::CaptureMonth,
        "quality_flag" => FacetField::QualityFlag,
        "document_type" => FacetField::DocumentType,
        other => {
            return Err(ApiError::NotFound(format!(
                "no facet {other:?} (tag, customer, project, format, month, quality_flag, document_type)"
            )));
        }
    })
}

fn bad(message: &str) -> ApiError {
    ApiError::BadRequest(message.to_owned())
}

fn non_empty(value: String) -> Option<String> {
    (!value.trim().is_empty()).then_some(value)
}

fn boolean(key: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(bad(&format!("{key} must be true or false"))),
    }
}

fn number(key: &str, value: &str) -> Result<usize, ApiError> {
    value
        .parse()
        .map_err(|_| bad(&format!("{key} must be a non-negative integer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_filters_and_paging_parse() {
        let params = QueryParams::parse(Some(
            "text=red+car&tag=car&tag=outdoor&customer=42&since=2024-01-01&include_sensitive=true&limit=5&offset=10",
        ))
        .unwrap();
        assert_eq!(params.text.as_deref(), Some("red car"));
        assert_eq!(params.filter.tags_all, ["car", "outdoor"]);
        assert_eq!(params.filter.customers, ["42"]);
        assert!(params.filter.include_sensitive);
        assert_eq!(params.limit(100).unwrap(), 5);
        assert_eq!(params.offset, 10);
        assert_eq!(QueryParams::parse(None).unwrap().limit(100).unwrap(), 20);
        let params =
            QueryParams::parse(Some("contains=%E5%8F%91%E7%A5%A8%E5%8F%B7%E7%A0%81")).unwrap();
        assert_eq!(params.filter.text_contains.as_deref(), Some("发票号码"));
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        for raw in [
            "tags=car",
            "limit=ten",
            "include_sensitive=maybe",
            "since=yesterday",
            "text=",
            "contains=",
            "contains=%E3%80%82%E3%80%82",
        ] {
            let error = QueryParams::parse(Some(raw)).unwrap_err();
            assert_eq!(error.code(), "api.bad_request", "{raw}");
        }
        let params = QueryParams::parse(Some("limit=500")).unwrap();
        assert!(params.limit(100).is_err());
        assert!(facet_field("colour").is_err());
        assert_eq!(facet_field("month").unwrap(), FacetField::CaptureMonth);
    }
}
