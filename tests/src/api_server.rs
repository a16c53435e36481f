//! One real API server for the API tests: the real `Processor` (models,
//! embedded index, local object store) with the sample photos ingested for
//! tenant `acme` and the coffee photo for tenant `other`, served by the
//! real router on a loopback port from a thread of its own, for the life of
//! the test binary.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use imgtag_workers::Config;
use imgtag_workers::api::auth::generate_key;
use imgtag_workers::api::{self, ApiKeyConfig, AppState};
use imgtag_workers::cli::JobFields;
use imgtag_workers::commands::support::file_job;
use imgtag_workers::process::Processor;
use tokio_util::sync::CancellationToken;

use crate::{SAMPLES, install_dir, models_dir, runtime_config, sample};

/// Largest request body the test server accepts.
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
/// Widest image the test server decodes.
pub const MAX_WIDTH: u32 = 4000;

/// The running server.
pub struct ApiServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Key of tenant `acme` (the samples).
    pub acme_key: String,
    /// Key of tenant `other` (the coffee photo only).
    pub other_key: String,
    /// `acme`'s image ids by file name.
    pub acme_ids: BTreeMap<String, String>,
    /// `other`'s coffee photo.
    pub other_coffee_id: String,
    /// Where index and objects live.
    pub dir: PathBuf,
}

/// A configuration on real models and a fresh data directory.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.onnxruntime.library = runtime_config().library;
    config.models.dir = models_dir();
    config.analyzers.semantic.conse.cache_dir = install_dir().join("cache").join("tests");
    config.index.edge.dir = dir.join("index");
    config.store.url = dir.join("objects").display().to_string();
    config
}

/// The server, started on first use.
pub fn api_server() -> &'static ApiServer {
    static SERVER: OnceLock<ApiServer> = OnceLock::new();
    SERVER.get_or_init(start)
}

fn start() -> ApiServer {
    let dir = tempfile::tempdir().unwrap().keep();
    let (acme_key, acme_digest) = generate_key().unwrap();
    let (other_key, other_digest) = generate_key().unwrap();
    let mut config = test_config(&dir);
    config.decode.max_width = MAX_WIDTH;
    config.api.max_body_bytes = MAX_BODY_BYTES;
    config.api.keys = vec![
        ApiKeyConfig {
            tenant: "acme".into(),
            sha256: acme_digest,
            name: Some("tests".into()),
            personal_data: false,
        },
        ApiKeyConfig {
            tenant: "other".into(),
            sha256: other_digest,
            name: None,
            personal_data: false,
        },
    ];
    config.validate().unwrap();
    let (ready, started) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let samples = install_dir().join("samples");
            let processor = Processor::open(&config, std::slice::from_ref(&samples))
                .await
                .unwrap();
            let mut acme_ids = BTreeMap::new();
            for name in SAMPLES {
                let id = ingest(&processor, &config, "acme", name).await;
                acme_ids.insert(name.to_owned(), id);
            }
            let other_coffee_id = ingest(&processor, &config, "other", "coffee.png").await;
            processor.index().flush().await.unwrap();
            let state = AppState::new(processor, &config, CancellationToken::new()).unwrap();
            let router = api::router(state, &config.api);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            ready.send((url, acme_ids, other_coffee_id)).unwrap();
            api::serve(listener, router, CancellationToken::new())
                .await
                .unwrap();
        });
    });
    let (url, acme_ids, other_coffee_id) = started
        .recv_timeout(std::time::Duration::from_secs(300))
        .expect("the API test server did not start");
    ApiServer {
        url,
        acme_key,
        other_key,
        acme_ids,
        other_coffee_id,
        dir,
    }
}

async fn ingest(processor: &Processor, config: &Config, tenant: &str, name: &str) -> String {
    let fields = JobFields {
        tenant: tenant.into(),
        customer: Some(format!("{tenant}-customer")),
        project: None,
        labels: Vec::new(),
        vocabulary: None,
    };
    let job = file_job(&fields, &sample(name), false, &config.decode).unwrap();
    let outcome = processor.process(&job).await.unwrap();
    assert!(outcome.indexed, "{name} was not indexed");
    outcome.image_id.to_string()
}
