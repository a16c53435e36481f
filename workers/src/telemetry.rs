//! Logs and metrics.
//!
//! - Logs go to stderr, as text or one JSON object per line
//!   (`[logging] format`); `IMGTAG_LOG` sets the filter (default `warn`,
//!   `info` for the worker). Spans carry job id, tenant and image id.
//! - Metrics (Prometheus, `[worker] metrics_listen`): jobs by outcome and
//!   error code, job and stage latency, queue lag, jobs in flight,
//!   reconnects, and the models' batch counts. Labels are few-valued: an
//!   outcome, a stable error code, a stage or a model name.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::SocketAddr;

use metrics_exporter_prometheus::PrometheusBuilder;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

/// `[logging]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// `text` or `json`.
    pub format: LogFormat,
}

/// Installs the global subscriber. `default_filter` applies when
/// `IMGTAG_LOG` is unset.
pub fn init_logging(format: LogFormat, default_filter: &str) {
    // qdrant-edge 0.7.2 warns at every open that its feature flags and an
    // mmap check were not initialised; it exposes no way to do either, and
    // its defaults are what we want. Its errors still show.
    let filter = tracing_subscriber::EnvFilter::try_from_env("IMGTAG_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{default_filter},qdrant_edge=error"))
    });
    // Colours only on a terminal: piped logs go to collectors and files.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second installation (tests calling commands twice) is harmless.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}

/// Serves Prometheus metrics on `listen` (must run inside a tokio runtime).
pub fn init_metrics(listen: &str) -> Result<(), AppError> {
    let address: SocketAddr = listen
        .parse()
        .map_err(|e| AppError::Config(format!("worker.metrics_listen {listen:?}: {e}")))?;
    let seconds = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
    ];
    PrometheusBuilder::new()
        .with_http_listener(address)
        .set_buckets(&seconds)
        .map_err(|e| AppError::Config(format!("metrics buckets: {e}")))?
        .install()
        .map_err(|e| AppError::Config(format!("cannot serve metrics on {listen}: {e}")))
}

/// Records a job's stage timings (milliseconds) as seconds.
pub fn record_stages(timings_ms: &BTreeMap<String, f64>) {
    for (stage, ms) in timings_ms {
        if let Some(analyzer) = stage.strip_prefix("analyzer.") {
            // Few values: the registered analyzers.
            if let Ok(id) = analyzer.parse::<crate::analyzers::AnalyzerId>() {
                metrics::histogram!("imgtag_analyzer_seconds", "analyzer" => id.as_str())
                    .record(ms / 1000.0);
            }
            continue;
        }
        let stage = match stage.as_str() {
            "fetch" => "fetch",
            "queue" => "queue",
            "cpu" => "cpu",
            "duplicates" => "duplicates",
            "store" => "store",
            "index" => "index",
            _ => "other",
        };
        metrics::histogram!("imgtag_stage_seconds", "stage" => stage).record(ms / 1000.0);
    }
}

/// Publishes the models' batch counters (call periodically).
pub fn record_batches(analyzers: &crate::analyzers::Analyzers) {
    let batchers = [
        analyzers
            .classifier()
            .map(|a| ("classifier", a.classifier().batcher().stats())),
        analyzers
            .nsfw()
            .map(|a| ("nsfw", a.detector().batcher().stats())),
    ];
    for (model, stats) in batchers.into_iter().flatten() {
        metrics::counter!("imgtag_model_batches_total", "model" => model).absolute(stats.runs());
        metrics::counter!("imgtag_model_batch_items_total", "model" => model)
            .absolute(stats.items());
    }
}
