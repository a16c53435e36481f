//! The HTTP API and the web page (`imgtag serve`), on axum.
//!
//! - [`auth`]: API keys, one tenant each, hashed in the configuration and
//!   compared in constant time; every `/api/v1` endpoint takes its tenant
//!   from the key.
//! - [`routes`]: search by text, by uploaded image and by stored image, one
//!   image's record, rendition bytes, facets, stats, health, readiness and
//!   the OpenAPI document (`docs/openapi.json`).
//! - [`web`]: the search page at `/` (plain HTML, CSS and JavaScript).
//! - [`client`]: what `imgtag search|stats --server URL` use;
//!   [`discovery`]: how they learn that URL when the index is held.
//!
//! Bounds: the body limit (`[api] max_body_bytes`) applies before a request
//! is read, uploads then go through the same bounded decoder as jobs, CPU
//! work (text and image vectors) shares the processor's permits, and every
//! request has a timeout. Each request runs in a `request` span (method,
//! route, tenant, key name) and counts towards `imgtag_http_requests_total{route,
//! status}` and `imgtag_http_request_seconds{route}`.

pub mod auth;
pub mod client;
pub mod config;
pub mod discovery;
pub mod error;
pub mod params;
pub mod routes;
pub mod web;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

pub use auth::{ApiKeys, Caller};
pub use config::{ApiConfig, ApiKeyConfig};
pub use error::ApiError;

use crate::broker::BrokerStatus;
use crate::config::Config;
use crate::error::AppError;
use crate::process::Processor;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    processor: Processor,
    keys: ApiKeys,
    max_limit: usize,
    rendition_max_age_secs: u64,
    max_rendition_bytes: u64,
    shutdown: CancellationToken,
    /// The queue consumer's state when this process also consumes
    /// (`serve --worker`).
    consumer: Option<BrokerStatus>,
}

impl AppState {
    /// The state of a server over `processor`; `shutdown` turns readiness
    /// off when cancelled.
    pub fn new(
        processor: Processor,
        config: &Config,
        shutdown: CancellationToken,
    ) -> Result<Self, AppError> {
        let keys = ApiKeys::new(&config.api.keys).map_err(AppError::Config)?;
        Ok(Self {
            processor,
            keys,
            max_limit: usize::from(config.api.max_limit),
            rendition_max_age_secs: config.api.rendition_max_age_secs,
            max_rendition_bytes: config.decode.max_input_bytes,
            shutdown,
            consumer: None,
        })
    }

    /// Reports `consumer` in `/readyz` (`serve --worker`).
    pub fn with_consumer(mut self, consumer: Option<BrokerStatus>) -> Self {
        self.consumer = consumer;
        self
    }

    /// The configured keys.
    pub fn keys(&self) -> &ApiKeys {
        &self.keys
    }
}

/// Every route, with the body limit, the timeout and the request span.
pub fn router(state: AppState, config: &ApiConfig) -> Router {
    let body_limit = usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/", get(web::page))
        .route("/app.js", get(web::script))
        .route("/app.css", get(web::style))
        .route("/healthz", get(routes::health))
        .route("/readyz", get(routes::ready))
        .route("/api/v1/openapi.json", get(routes::openapi))
        .route("/api/v1/search", get(routes::search_text))
        .route("/api/v1/search/image", post(routes::search_upload))
        .route("/api/v1/images/{id}", get(routes::image))
        .route("/api/v1/images/{id}/similar", get(routes::similar))
        .route(
            "/api/v1/images/{id}/renditions/{name}",
            get(routes::rendition),
        )
        .route("/api/v1/facets/{field}", get(routes::facets))
        .route("/api/v1/stats", get(routes::stats))
        .route(
            "/api/v1/documents/expiring",
            get(routes::expiring_documents),
        )
        .route("/api/v1/tags", get(routes::tags))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(observe))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_secs),
        ))
        .with_state(state)
}

/// The request span, the access log line and the metrics.
async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| route_label(path.as_str()));
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        tenant = tracing::field::Empty,
        key = tracing::field::Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    tracing::info!(parent: &span, status, ms = seconds * 1000.0, "request");
    metrics::counter!("imgtag_http_requests_total", "route" => route, "status" => status.to_string())
        .increment(1);
    metrics::histogram!("imgtag_http_request_seconds", "route" => route).record(seconds);
    response
}

/// The documented routes (`docs/openapi.json` lists exactly these).
pub const API_ROUTES: [&str; 12] = [
    "/healthz",
    "/readyz",
    "/api/v1/openapi.json",
    "/api/v1/search",
    "/api/v1/search/image",
    "/api/v1/images/{id}",
    "/api/v1/images/{id}/similar",
    "/api/v1/images/{id}/renditions/{name}",
    "/api/v1/facets/{field}",
    "/api/v1/stats",
    "/api/v1/tags",
    "/api/v1/documents/expiring",
];
/// The page and its assets.
pub const PAGE_ROUTES: [&str; 3] = ["/", "/app.js", "/app.css"];

/// The route template as a `'static` label (metrics labels stay few).
fn route_label(path: &str) -> &'static str {
    API_ROUTES
        .iter()
        .chain(PAGE_ROUTES.iter())
        .find(|route| **route == path)
        .copied()
        .unwrap_or("other")
}

/// Serves until `shutdown` is cancelled, then lets requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> Result<(), AppError> {
    let address = listener
        .local_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .map_err(|source| AppError::Listen { address, source })
}
