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

use imgtag_models::{
    Classifier, ModelStore, PoolConfig, Runtime, RuntimeConfig, Tagger, TaggerConfig,
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

/// All models (classifier, NSFW, text, ConSE space) shared by the tests of
/// this process. The label-vector cache goes to a directory of its own.
pub fn tagger() -> &'static Tagger {
    static TAGGER: OnceLock<Tagger> = OnceLock::new();
    TAGGER.get_or_init(|| {
        let mut config = TaggerConfig::default();
        config.conse.cache_dir = install_dir().join("cache").join("tests");
        Tagger::load(&store(), &runtime(), &config).unwrap_or_else(|e| panic!("{e}"))
    })
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
