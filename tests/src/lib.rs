//! Fixtures for imgtag's end-to-end tests: where the repository, the
//! installed models and sample photos, and the built `imgtag` binary are.
//!
//! Everything here points at real things `scripts/setup` installed; when they
//! are missing, the helpers fail with a message naming the command to run.

// Test fixtures: failing loudly with a message is their job.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

pub mod api_server;
pub mod broker;
pub mod index_fixtures;
pub mod openapi;
pub mod tls_proxy;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use imgtag_models::{Classifier, ModelStore, PoolConfig, Runtime, RuntimeConfig};
use imgtag_workers::analyzers::{
    Analysis, AnalysisInput, AnalyzerSet, Analyzers, AnalyzersConfig, Plan,
};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Where `scripts/setup` installs everything.
pub fn install_dir() -> PathBuf {
    repo_root().join(".imgtag")
}

/// The model directory.
pub fn models_dir() -> PathBuf {
    install_dir().join("models")
}

/// A sample photo by file name (e.g. `chelsea.png`).
pub fn sample(name: &str) -> PathBuf {
    let path = install_dir().join("samples").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup",
        path.display()
    );
    path
}

/// A test document by file name (e.g. `invoice.png`): the documents
/// `scripts/make_documents.py` renders and scikit-image's `page.png`, which
/// `scripts/setup` puts in `.imgtag/documents`.
pub fn document(name: &str) -> PathBuf {
    let path = install_dir().join("documents").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup",
        path.display()
    );
    path
}

/// The ONNX Runtime settings the tests use (the library scripts/setup installs).
pub fn runtime_config() -> RuntimeConfig {
    let library = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| install_dir().join("onnxruntime/libonnxruntime.so"));
    RuntimeConfig { library }
}

/// The process's runtime, initialised once.
pub fn runtime() -> Runtime {
    Runtime::init(&runtime_config()).unwrap_or_else(|e| panic!("{e}"))
}

/// The installed model store.
pub fn store() -> ModelStore {
    ModelStore::open(models_dir()).unwrap_or_else(|e| panic!("{e}"))
}

/// A classifier shared by the tests of this process (loading costs ~100 ms).
pub fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| {
        Classifier::load(&store(), &runtime(), &PoolConfig::default())
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The analyzers' default configuration, with the label-vector cache in a
/// directory of the tests' own.
pub fn analyzers_config() -> AnalyzersConfig {
    let mut config = AnalyzersConfig::default();
    config.semantic.conse.cache_dir = install_dir().join("cache").join("tests");
    config
}

/// Every analyzer (classifier, NSFW, semantic, OCR, quality), with the
/// default configuration, shared by the tests of this process.
pub fn analyzers() -> &'static Analyzers {
    static ANALYZERS: OnceLock<Analyzers> = OnceLock::new();
    ANALYZERS.get_or_init(|| {
        Analyzers::build(&analyzers_config(), &runtime(), &store())
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

/// What `analyzers` say about an image file, through the same pipeline as
/// ingestion (decode, checks, model input), running `wanted` (and what
/// they read).
pub fn analyse_with(
    analyzers: &Analyzers,
    path: &Path,
    wanted: &AnalyzerSet,
    vocabulary: Option<&imgtag_models::EmbeddedVocabulary>,
) -> Analysis {
    let bytes = bytes::Bytes::from(fs_err::read(path).unwrap_or_else(|e| panic!("{e}")));
    let pipeline = imgtag_pipeline::PipelineConfig {
        renditions: Vec::new(),
        ..imgtag_pipeline::PipelineConfig::default()
    }
    .build()
    .unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::new(wanted, &analyzers.enabled());
    let (_, analysis) = pipeline
        .process_with(&bytes, |decoded| {
            analyzers.run(
                &AnalysisInput {
                    image: decoded.image,
                    model_input: decoded.model_input,
                    inspection: decoded.inspection,
                    source: Some((&bytes, &pipeline)),
                    vocabulary,
                },
                &plan,
            )
        })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    analysis.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every analyzer on a sample photo.
pub fn analyse(name: &str) -> Analysis {
    let analyzers = analyzers();
    analyse_with(analyzers, &sample(name), &analyzers.enabled(), None)
}

/// A sample photo, decoded (bounded, upright, sRGB) to RGB.
pub fn sample_rgb(name: &str) -> image::RgbImage {
    let bytes = fs_err::read(sample(name)).unwrap_or_else(|e| panic!("{e}"));
    imgtag_pipeline::decode(&bytes, &imgtag_pipeline::DecodeLimits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .image
        .into_rgb8()
}

/// The names of the sample photos `scripts/setup` installs.
pub const SAMPLES: [&str; 5] = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "rocket.jpg",
];

/// The `imgtag` binary of the same build as this test.
///
/// `cargo test` does not build other packages' binaries, so `scripts/test`
/// runs `cargo build --workspace --bins` first.
pub fn imgtag_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/e2e-<hash> -> target/<profile>/imgtag
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join("imgtag");
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build --workspace --bins` (scripts/test does)",
        bin.display()
    );
    bin
}

/// Runs `imgtag` from the repository root on a scratch data directory
/// (`work/index`, `work/objects`; the shared label-vector cache), with no
/// config file or API key from the environment, plus `env`.
pub fn imgtag_in(work: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(imgtag_bin())
        .current_dir(repo_root())
        .args(args)
        .env_remove("IMGTAG_CONFIG")
        .env_remove("IMGTAG_API_KEY")
        .env("IMGTAG__INDEX__EDGE__DIR", work.join("index"))
        .env("IMGTAG__STORE__URL", work.join("objects"))
        .env(
            "IMGTAG__ANALYZERS__SEMANTIC__CONSE__CACHE_DIR",
            install_dir().join("cache").join("tests"),
        )
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The stdout of a run that must have succeeded (its stderr otherwise).
pub fn succeeded(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A plain HTTP/1.0 GET on 127.0.0.1 (a worker's metrics endpoint): the
/// whole response, status line included.
pub fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
