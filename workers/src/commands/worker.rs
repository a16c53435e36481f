//! `imgtag worker`: loads the models, opens the index and the object
//! store, serves metrics if configured, and consumes the jobs queue until
//! SIGTERM or SIGINT (then exits 0 after the grace period at most).

use tokio_util::sync::CancellationToken;

use super::support::{runtime, spawn_batch_stats, spawn_signal_handler};
use crate::broker;
use crate::cli::WorkerArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::process::Processor;
use crate::telemetry;

/// Runs until stopped.
pub fn run(config: &Config, args: &WorkerArgs) -> Result<(), AppError> {
    let mut worker = config.worker.clone();
    if let Some(concurrency) = args.concurrency {
        worker.concurrency = concurrency;
    }
    runtime()?.block_on(async {
        if !worker.metrics_listen.is_empty() {
            telemetry::init_metrics(&worker.metrics_listen)?;
        }
        let shutdown = CancellationToken::new();
        spawn_signal_handler(shutdown.clone())?;
        let processor = Processor::open(config, &[]).await?;
        let stats = spawn_batch_stats(&processor);
        tracing::info!(
            index = processor.index().backend_name(),
            store = processor.store_location(),
            concurrency = worker.concurrency,
            "worker ready"
        );
        let max_job_bytes = broker::max_job_bytes(config.sources.max_inline_bytes);
        let result =
            broker::worker::run(&config.broker, &worker, max_job_bytes, processor, shutdown).await;
        stats.abort();
        tracing::info!("worker stopped");
        result
    })
}
