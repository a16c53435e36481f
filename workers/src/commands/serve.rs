//! `imgtag serve [--listen ADDR] [--worker]`: loads the models, opens the
//! index and the object store, then serves the HTTP API and the search page
//! until SIGTERM or SIGINT. With `--worker` the same process also consumes
//! the jobs queue, so one process holds the embedded index for both (an
//! embedded index admits one process). While it runs, the data directory
//! names its URL, so a local `imgtag search` can point the user at it.

use super::support::{Service, runtime, start_service};
use crate::api::discovery::Announcement;
use crate::api::{self, AppState};
use crate::broker;
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::error::AppError;
use crate::index::BackendKind;

/// Runs until stopped.
pub fn run(config: &Config, args: &ServeArgs) -> Result<(), AppError> {
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| config.api.listen.clone());
    listen
        .parse::<std::net::SocketAddr>()
        .map_err(|e| AppError::Config(format!("--listen {listen:?}: {e}")))?;
    if config.api.keys.is_empty() {
        return Err(AppError::Config(
            "no API keys: every request would be refused; make one with `imgtag api-key \
             --tenant T` and add it under [[api.keys]]"
                .into(),
        ));
    }
    runtime()?.block_on(async {
        let Service {
            worker,
            shutdown,
            processor,
            stats,
        } = start_service(config, args.concurrency).await?;
        // Text search needs the text encoder, which the processor loads on
        // first use: load it now, so a bad model file stops the start and
        // the first query is as quick as the others.
        let loading = processor.clone();
        tokio::task::spawn_blocking(move || match loading.analyzers().semantic() {
            Some(semantic) => semantic.text().preload(),
            None => Ok(()),
        })
        .await
        .map_err(|e| AppError::Config(format!("loading the text encoder failed: {e}")))??;
        let consumer = args.worker.then(broker::BrokerStatus::new);
        let state = AppState::new(processor.clone(), config, shutdown.clone())?
            .with_consumer(consumer.clone());
        let keys = state.keys().len();
        let router = api::router(state, &config.api);
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|source| AppError::Listen {
                address: listen.clone(),
                source,
            })?;
        let url = match listener.local_addr() {
            Ok(address) => format!("http://{address}"),
            Err(_) => format!("http://{listen}"),
        };
        let _announcement = match config.index.backend {
            BackendKind::Edge => Some(Announcement::write(&config.index.edge.dir, &url)?),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        tracing::info!(
            %url,
            keys,
            worker = args.worker,
            index = processor.index().backend_name(),
            store = processor.store_location(),
            "serving"
        );
        let served = async {
            let result = api::serve(listener, router, shutdown.clone()).await;
            shutdown.cancel();
            result
        };
        let result = if let Some(consumer) = consumer {
            let max_job_bytes = broker::max_job_bytes(config.sources.max_inline_bytes);
            let consumed = async {
                let result = broker::worker::run(
                    &config.broker,
                    &worker,
                    max_job_bytes,
                    processor,
                    consumer,
                    shutdown.clone(),
                )
                .await;
                shutdown.cancel();
                result
            };
            let (served, consumed) = tokio::join!(served, consumed);
            served.and(consumed)
        } else {
            served.await
        };
        stats.abort();
        tracing::info!("server stopped");
        result
    })
}
