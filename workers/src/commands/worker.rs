//! `imgtag worker`: loads the models, opens the index and the object
//! store, serves metrics if configured, and consumes the jobs queue until
//! SIGTERM or SIGINT (then exits 0 after the grace period at most).

use super::support::{Service, runtime, start_service};
use crate::broker;
use crate::cli::WorkerArgs;
use crate::config::Config;
use crate::error::AppError;

/// Runs until stopped.
pub fn run(config: &Config, args: &WorkerArgs) -> Result<(), AppError> {
    runtime()?.block_on(async {
        let Service {
            worker,
            shutdown,
            processor,
            stats,
        } = start_service(config, args.concurrency).await?;
        tracing::info!(
            index = processor.index().backend_name(),
            store = processor.store_location(),
            concurrency = worker.concurrency,
            "worker ready"
        );
        let reminders = config.reminders.enabled.then(|| {
            tokio::spawn(crate::reminders::run_periodically(
                processor.clone(),
                config.broker.clone(),
                config.reminders.clone(),
                shutdown.clone(),
            ))
        });
        let max_job_bytes = broker::max_job_bytes(config.sources.max_inline_bytes);
        let result = broker::worker::run(
            &config.broker,
            &worker,
            max_job_bytes,
            processor,
            broker::BrokerStatus::new(),
            shutdown,
        )
        .await;
        stats.abort();
        if let Some(reminders) = reminders {
            reminders.abort();
        }
        tracing::info!("worker stopped");
        result
    })
}
