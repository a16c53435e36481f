//! The search page at `/`: plain HTML, CSS and JavaScript compiled into the
//! binary (no build step). The page asks for an API key, keeps it in the
//! tab's `sessionStorage`, and sends it as `Authorization: Bearer` on every
//! call; thumbnails are fetched the same way and shown from blob URLs, so
//! no key ever appears in a URL.
//!
//! Served with a strict Content-Security-Policy (same-origin scripts and
//! styles only, images from the page itself or blob URLs) and `no-cache`,
//! so a new binary's page shows at once.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("web/index.html");
const SCRIPT: &str = include_str!("web/app.js");
const STYLE: &str = include_str!("web/app.css");
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                      img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; \
                      form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
}

/// `GET /`.
pub async fn page() -> impl IntoResponse {
    asset("text/html; charset=utf-8", PAGE)
}

/// `GET /app.js`.
pub async fn script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /app.css`.
pub async fn style() -> impl IntoResponse {
    asset("text/css; charset=utf-8", STYLE)
}
