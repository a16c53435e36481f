//! The API's client: what `imgtag search|stats --server URL` use when the
//! data directory is held by a running `imgtag serve`, or the index lives
//! elsewhere. The key (`IMGTAG_API_KEY`) decides the tenant, as for any
//! client. HTTPS through rustls with ring and the system's roots.

use std::path::Path;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde::de::DeserializeOwned;

use super::error::ErrorBody;
use crate::cli::FilterArgs;
use crate::error::AppError;
use crate::input::read_image_file;
use crate::service::search::SearchOutput;
use crate::service::stats::StatsOutput;

/// A client of one imgtag server.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: url::Url,
    key: String,
    http: reqwest::Client,
}

/// What to search by, remotely.
#[derive(Debug, Clone)]
pub enum RemoteQuery<'a> {
    /// Words.
    Text(&'a str),
    /// An example file, uploaded.
    Image(&'a Path),
    /// A stored image id.
    Like(&'a str),
    /// Only the filters (e.g. `--contains`).
    Filters,
}

impl ApiClient {
    /// A client of the server at `base` (`http://host:port`) with `key`.
    pub fn new(base: &str, key: &str) -> Result<Self, AppError> {
        let unreachable = |message: String| AppError::Unreachable {
            url: base.to_owned(),
            message,
        };
        let base = url::Url::parse(base).map_err(|e| unreachable(format!("not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(unreachable("the URL must be http:// or https://".into()));
        }
        if key.trim().is_empty() {
            return Err(AppError::Config(
                "--server needs an API key: set IMGTAG_API_KEY".into(),
            ));
        }
        // reqwest is built without a crypto provider; use ring, as lapin
        // does. Installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("imgtag/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Self {
            base,
            key: key.trim().to_owned(),
            http,
        })
    }

    /// A search, with the filters and limit of the command line.
    pub async fn search(
        &self,
        query: RemoteQuery<'_>,
        filter: &FilterArgs,
        limit: u16,
        lang: imgtag_models::Lang,
        max_upload: &imgtag_pipeline::DecodeLimits,
    ) -> Result<SearchOutput, AppError> {
        let mut params = filter_params(filter);
        params.push(("limit", limit.to_string()));
        params.push(("lang", lang.as_str().to_owned()));
        let request = match query {
            RemoteQuery::Text(text) => {
                params.push(("text", text.to_owned()));
                self.http.get(self.url("api/v1/search")?)
            }
            RemoteQuery::Filters => self.http.get(self.url("api/v1/search")?),
            RemoteQuery::Like(id) => self.http.get(self.url(&format!(
                "api/v1/images/{}/similar",
                url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
            ))?),
            RemoteQuery::Image(path) => {
                let bytes = read_image_file(path, max_upload)?;
                let name = path
                    .file_name()
                    .map_or_else(|| "upload".to_owned(), |n| n.to_string_lossy().into_owned());
                let form = Form::new().part("image", Part::bytes(bytes).file_name(name));
                self.http
                    .post(self.url("api/v1/search/image")?)
                    .multipart(form)
            }
        };
        self.send(request.query(&params)).await
    }

    /// The tenant's stock.
    pub async fn stats(&self) -> Result<StatsOutput, AppError> {
        self.send(self.http.get(self.url("api/v1/stats")?)).await
    }

    fn url(&self, path: &str) -> Result<url::Url, AppError> {
        let mut base = self.base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(path).map_err(|e| AppError::Unreachable {
            url: self.base.to_string(),
            message: e.to_string(),
        })
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, AppError> {
        let unreachable = |message: String| AppError::Unreachable {
            url: self.base.to_string(),
            message,
        };
        let response = request
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| unreachable(format!("unexpected answer ({status}): {e}")));
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(ErrorBody { error }) => Err(AppError::Remote {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
                retryable: error.retryable,
            }),
            Err(_) => Err(unreachable(format!(
                "answered {status} with something that is not an imgtag error"
            ))),
        }
    }
}

/// The command line's filters as query parameters.
fn filter_params(filter: &FilterArgs) -> Vec<(&'static str, String)> {
    let mut params = Vec::new();
    params.extend(filter.tags.iter().map(|t| ("tag", t.clone())));
    params.extend(filter.customers.iter().map(|c| ("customer", c.clone())));
    params.extend(filter.projects.iter().map(|p| ("project", p.clone())));
    params.extend(filter.since.iter().map(|s| ("since", s.clone())));
    params.extend(filter.until.iter().map(|u| ("until", u.clone())));
    if filter.include_sensitive {
        params.push(("include_sensitive", "true".into()));
    }
    if filter.include_id_papers {
        params.push(("include_id_papers", "true".into()));
    }
    params.extend(
        filter
            .document_types
            .iter()
            .map(|t| ("document_type", t.clone())),
    );
    params.extend(filter.contains.iter().map(|c| ("contains", c.clone())));
    params
}

/// An error with its causes (reqwest's own message is only the outermost).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
