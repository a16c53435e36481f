//! The endpoints. Every `/api/v1` handler takes a [`Caller`] first, so the
//! key is checked before anything else runs, and reads only through
//! `index().tenant(caller.tenant)`: the tenant never comes from a
//! parameter.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use imgtag_models::{FriendlyTags, Lang};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::params::{QueryParams, facet_field};
use crate::broker::BrokerStatus;
use crate::broker::status::StatusReport;
use crate::error::AppError;
use crate::index::query::MAX_LIMIT;
use crate::index::{FacetCount, ImageId, ImageRecord, VectorName};
use crate::process::ORIGINAL;
use crate::service::expiry::{ExpiringOutput, ExpiringQuery, expiring};
use crate::service::privacy::{present_record, present_search};
use crate::service::search::{Presentation, SearchBy, SearchOutput, search_tenant};
use crate::service::stats::{StatsOutput, tenant_stats};

/// The OpenAPI document (`docs/openapi.json`, served as is).
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");
/// Facet values returned when `limit` is not given.
const DEFAULT_FACET_LIMIT: usize = 100;

/// `GET /healthz`: the process is up.
pub async fn health() -> Json<Status> {
    Json(Status {
        status: "ok",
        index: None,
        consumer: None,
    })
}

/// `GET /readyz`: models loaded (the server listens only after) and the
/// index answering; 503 while shutting down or when the index fails. With
/// `serve --worker` it reports the queue consumer too (`consumer`: its
/// state, since when, the last broker error, the lanes' depths): the API
/// stays ready while the broker is away, searches do not need it.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    if state.shutdown.is_cancelled() {
        return Err(ApiError::Unavailable("shutting down".into()));
    }
    let index = state.processor.index();
    index
        .info()
        .await
        .map_err(|e| ApiError::Unavailable(format!("index: {e}")))?;
    Ok(Json(Status {
        status: "ready",
        index: Some(index.backend_name()),
        consumer: state.consumer.as_ref().map(BrokerStatus::report),
    }))
}

/// Health and readiness answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Status {
    /// `ok` or `ready`.
    pub status: &'static str,
    /// The index backend (`edge` or `server`), once ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<&'static str>,
    /// The queue consumer of `serve --worker`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer: Option<StatusReport>,
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// `GET /api/v1/search?text=...`: images nearest to words; with
/// `contains=...` or `document_type=...` only, the images those filters
/// match.
pub async fn search_text(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchOutput>, ApiError> {
    let params = QueryParams::parse(raw.as_deref())?;
    let limit = params.limit(state.max_limit)?;
    let by = match params.text.clone() {
        Some(text) => SearchBy::Text(state.processor.text_query(text).await?),
        None if params.filter.text_contains.is_some()
            || !params.filter.document_types.is_empty() =>
        {
            SearchBy::Filters
        }
        None => {
            return Err(ApiError::BadRequest(
                "give `text`, `contains` or `document_type`".into(),
            ));
        }
    };
    search(&state, &caller, by, &params, &headers, limit).await
}

/// `POST /api/v1/search/image` (multipart, one `image` field): images like
/// the uploaded one. The whole body is read (within the body limit) before
/// anything is refused: answering while the client is still sending makes
/// its connection reset, and it would see a broken pipe instead of the
/// error.
pub async fn search_upload(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<SearchOutput>, ApiError> {
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::BadRequest(format!(
            "send the image as multipart/form-data: {}",
            rejection.body_text()
        ))
    })?;
    let mut images: Vec<(String, Bytes)> = Vec::new();
    let mut unknown: Option<String> = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().map(str::to_owned);
        let file_name = field
            .file_name()
            .map_or_else(|| "upload".to_owned(), printable);
        let bytes = field.bytes().await.map_err(multipart_error)?;
        match name.as_deref() {
            Some("image") => images.push((file_name, bytes)),
            other => {
                unknown.get_or_insert_with(|| printable(other.unwrap_or("")));
            }
        }
    }
    let params = QueryParams::parse(raw.as_deref())?;
    if params.text.is_some() {
        return Err(ApiError::BadRequest(
            "an image search takes no `text`".into(),
        ));
    }
    let limit = params.limit(state.max_limit)?;
    if let Some(field) = unknown {
        return Err(ApiError::BadRequest(format!(
            "unknown form field {field:?} (send the file as `image`)"
        )));
    }
    if images.len() > 1 {
        return Err(ApiError::BadRequest("send one `image` field".into()));
    }
    let (name, bytes) = images
        .pop()
        .ok_or_else(|| ApiError::BadRequest("no `image` field in the form".into()))?;
    let vector = state.processor.embed_image(bytes).await?;
    let by = SearchBy::Vector(VectorName::Image, vector, format!("image: {name}"));
    search(&state, &caller, by, &params, &headers, limit).await
}

/// `GET /api/v1/images/{id}/similar`: images like a stored one.
pub async fn similar(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchOutput>, ApiError> {
    let params = QueryParams::parse(raw.as_deref())?;
    params.refuse_text_and_offset("a similar-images search")?;
    let limit = params.limit(state.max_limit)?;
    let by = SearchBy::Like(image_id(&id)?);
    search(&state, &caller, by, &params, &headers, limit).await
}

async fn search(
    state: &AppState,
    caller: &Caller,
    by: SearchBy,
    params: &QueryParams,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Json<SearchOutput>, ApiError> {
    let scope = state.processor.index().tenant(caller.tenant.clone());
    let presentation = Presentation {
        lang: params.language(headers),
        friendly: friendly_tags(state),
    };
    let output = search_tenant(
        &scope,
        by,
        &params.filter,
        limit,
        params.offset,
        presentation,
    )
    .await
    .map_err(AppError::from)?;
    Ok(Json(present_search(output, caller.disclosure)))
}

fn friendly_tags(state: &AppState) -> Option<&FriendlyTags> {
    state
        .processor
        .analyzers()
        .classifier()
        .map(|classifier| classifier.friendly())
}

/// The friendly-tag vocabulary in both languages.
#[derive(Debug, Serialize)]
pub struct TagVocabulary {
    /// The language of `label`.
    pub lang: Lang,
    /// Every friendly tag, by name.
    pub tags: Vec<TagNames>,
}

/// One friendly tag's names.
#[derive(Debug, Serialize)]
pub struct TagNames {
    /// The name stored and filtered on.
    pub name: String,
    /// English display name.
    pub en: String,
    /// Simplified Chinese name.
    pub zh: Option<String>,
    /// The name in the requested language.
    pub label: String,
}

/// `GET /api/v1/tags`: the friendly tags with their names in English and
/// Chinese (what a tag filter offers; either name is accepted in `tag=`).
pub async fn tags(
    _caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<TagVocabulary>, ApiError> {
    let params = QueryParams::parse(raw.as_deref())?;
    let lang = params.language(&headers);
    let tags = friendly_tags(&state)
        .map(|friendly| {
            friendly
                .tags()
                .iter()
                .map(|tag| TagNames {
                    en: friendly.display_name(&tag.name, Lang::En).to_owned(),
                    zh: friendly.zh_name(&tag.name).map(str::to_owned),
                    label: friendly.display_name(&tag.name, lang).to_owned(),
                    name: tag.name.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(TagVocabulary { lang, tags }))
}

/// `GET /api/v1/images/{id}`: one image's record.
pub async fn image(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ImageRecord>, ApiError> {
    let scope = state.processor.index().tenant(caller.tenant);
    let image = scope
        .get(image_id(&id)?, false)
        .await
        .map_err(AppError::from)?;
    Ok(Json(present_record(image.record, caller.disclosure)))
}

/// `GET /api/v1/images/{id}/renditions/{name}`: a rendition's bytes, with
/// its content type, `Cache-Control`, and an `ETag` answered with 304.
/// The stored original is not served (it may carry the metadata the
/// renditions strip).
pub async fn rendition(
    caller: Caller,
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = image_id(&id)?;
    let missing = || ApiError::NotFound(format!("image {id} has no rendition {name:?}"));
    if name == ORIGINAL {
        return Err(missing());
    }
    let scope = state.processor.index().tenant(caller.tenant);
    let record = scope.get(id, false).await.map_err(AppError::from)?.record;
    let rendition = record.renditions.get(&name).ok_or_else(missing)?;
    let content_type = content_type(&rendition.format).ok_or_else(missing)?;
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(format!(
            "{}\n{}\n{}\n{}",
            rendition.uri, rendition.format, rendition.bytes, record.updated_at
        )))[..32]
    );
    let cache = format!("private, max-age={}", state.rendition_max_age_secs);
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, cache),
        (header::VARY, "Authorization".to_owned()),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let bytes = state
        .processor
        .store()
        .get(&rendition.uri, state.max_rendition_bytes)
        .await
        .map_err(AppError::from)?;
    let mut response = (common, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// `GET /api/v1/facets/{field}`: how many images carry each value.
pub async fn facets(
    caller: Caller,
    State(state): State<AppState>,
    Path(field): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<FacetsOutput>, ApiError> {
    let facet = facet_field(&field)?;
    let params = QueryParams::parse(raw.as_deref())?;
    params.refuse_text_and_offset("a facet")?;
    let limit = match params.limit {
        None => DEFAULT_FACET_LIMIT,
        Some(_) => params.limit(MAX_LIMIT)?,
    };
    let scope = state.processor.index().tenant(caller.tenant);
    let counts = scope
        .facet(facet, &params.filter, limit)
        .await
        .map_err(AppError::from)?;
    Ok(Json(FacetsOutput { field, counts }))
}

/// Counts of one field's values.
#[derive(Debug, Serialize, Deserialize)]
pub struct FacetsOutput {
    /// The field (`tag`, `customer`, ...).
    pub field: String,
    /// Most frequent first.
    pub counts: Vec<FacetCount>,
}

/// `GET /api/v1/stats`: the tenant's stock (what `imgtag stats` prints).
pub async fn stats(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<StatsOutput>, ApiError> {
    let scope = state.processor.index().tenant(caller.tenant);
    Ok(Json(tenant_stats(&scope).await?))
}

/// `GET /api/v1/documents/expiring?within=30d[&customer=C][&include_expired=true][&today=DATE]`:
/// the tenant's documents expiring within the window, soonest first
/// (what `imgtag expiring` prints). Personal fields are masked unless the
/// key may see them.
pub async fn expiring_documents(
    caller: Caller,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ExpiringOutput>, ApiError> {
    let query = expiring_query(raw.as_deref())?;
    let scope = state.processor.index().tenant(caller.tenant);
    Ok(Json(expiring(&scope, &query, caller.disclosure).await?))
}

/// The parameters of the expiry listing.
fn expiring_query(raw: Option<&str>) -> Result<ExpiringQuery, ApiError> {
    let mut query = ExpiringQuery {
        within_days: 30,
        customer: None,
        include_expired: false,
        today: chrono::Utc::now().date_naive(),
    };
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let bad = |what: String| ApiError::BadRequest(format!("{key}: {what}"));
        match key.as_ref() {
            "within" => query.within_days = crate::cli::parse_days(&value).map_err(bad)?,
            "customer" => query.customer = Some(value.into_owned()),
            "include_expired" => {
                query.include_expired = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not true or false")))?;
            }
            "today" => {
                query.today = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a date (YYYY-MM-DD)")))?;
            }
            // The page sends its language everywhere; the listing has no
            // words to translate.
            "lang" => {}
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {other:?} (known: within, customer, include_expired, today, lang)"
                )));
            }
        }
    }
    Ok(query)
}

/// Anything else.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint (see /api/v1/openapi.json)".into())
}

fn image_id(text: &str) -> Result<ImageId, ApiError> {
    text.parse::<ImageId>()
        .map_err(|_| ApiError::NotFound(format!("image {text:?} not found")))
}

/// The media type of a stored rendition format.
fn content_type(format: &str) -> Option<&'static str> {
    Some(match format {
        "webp" => "image/webp",
        "avif" => "image/avif",
        "jpeg" => "image/jpeg",
        "png" => "image/png",
        _ => return None,
    })
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!("upload too large: {}", error.body_text()))
    } else {
        ApiError::BadRequest(format!("malformed form: {}", error.body_text()))
    }
}

/// A client-supplied file name, safe to echo: no control characters, at
/// most 200 characters.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(200)
        .collect()
}
