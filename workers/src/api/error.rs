//! How the API answers failures: an HTTP status and one JSON shape,
//! `{"error": {"code", "message", "retryable"}}`, where `code` is the same
//! stable code the CLI, logs and result events use.
//!
//! A missing or wrong key is 401. An image id that is not the caller's
//! tenant's is 404, exactly as one that does not exist (no existence leak).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No key, a malformed header, or a key no tenant has.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// No such route, image or rendition in the caller's tenant.
    #[error("{0}")]
    NotFound(String),
    /// A parameter or body the API cannot use.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than `[api] max_body_bytes`.
    #[error("{0}")]
    TooLarge(String),
    /// The server is not ready (still loading, or shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// The work itself failed (decoding, models, index, object store).
    #[error(transparent)]
    App(#[from] AppError),
}

/// The JSON body of an error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// One error, as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`api.unauthorized`, `image.corrupt`...).
    pub code: String,
    /// For people.
    pub message: String,
    /// Whether the same request could succeed later.
    pub retryable: bool,
}

impl ApiError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "api.unauthorized",
            Self::NotFound(_) => "api.not_found",
            Self::BadRequest(_) => "api.bad_request",
            Self::TooLarge(_) => "api.too_large",
            Self::Unavailable(_) => "api.unavailable",
            Self::App(error) => error.code(),
        }
    }

    /// Whether the same request could succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unauthorized(_) | Self::NotFound(_) | Self::BadRequest(_) | Self::TooLarge(_) => {
                false
            }
            Self::Unavailable(_) => true,
            Self::App(error) => error.is_retryable(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::App(error) => app_status(error),
        }
    }
}

/// Status of a failure of the work itself, by its code.
fn app_status(error: &AppError) -> StatusCode {
    match error.code() {
        "index.not_found" | "source.not_found" => StatusCode::NOT_FOUND,
        "index.invalid_input" | "job.invalid" => StatusCode::BAD_REQUEST,
        "image.too_large" | "source.too_large" | "job.too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "image.unsupported_format" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        // The server's configuration switched off what the request needs.
        "analyzer.disabled" => StatusCode::NOT_IMPLEMENTED,
        code if code.starts_with("image.") && code != "image.encode_failed" => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ if error.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        if status.is_server_error() {
            tracing::error!(code, error = %self, "request failed");
        } else {
            tracing::debug!(code, error = %self, "request refused");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
                retryable: self.is_retryable(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"imgtag\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexError;

    #[test]
    fn statuses_follow_the_codes() {
        let not_found = ApiError::from(AppError::from(IndexError::NotFound("x".into())));
        assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
        assert_eq!(not_found.code(), "index.not_found");
        let corrupt = ApiError::from(AppError::from(imgtag_pipeline::PipelineError::Empty));
        assert_eq!(corrupt.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let busy = ApiError::from(AppError::from(IndexError::Unavailable("down".into())));
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(busy.is_retryable());
        let response = ApiError::Unauthorized("no").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
