//! The model-only floor of `scripts/bench`: the analyzers `imgtag ingest`
//! runs (classifier, NSFW, friendly tags, the ConSE vector, the OCR gate
//! and quality rules; `Analyzers::run`, preprocessing included) alone, on
//! model inputs decoded beforehand by the same pipeline (decode and
//! resizing are never timed), from `--threads` threads at once, the way
//! the processor's CPU permits call them. How close the full pipeline gets
//! to this rate is its overhead.
//!
//! ```sh
//! cargo run --release -p imgtag-workers --example bench_floor -- \
//!     --images DIR [--threads N] [--rounds R] --json OUT
//! ```
//!
//! Configuration as `imgtag` reads it (defaults < ./imgtag.toml <
//! `IMGTAG__…`), so the models, thresholds and sessions are the ones the
//! pipeline ran with.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use imgtag_models::{ModelStore, Runtime};
use imgtag_pipeline::PipelineConfig;
use imgtag_pipeline::image::DynamicImage;
use imgtag_workers::analyzers::{AnalysisInput, Analyzers};
use imgtag_workers::config::Config;
use serde_json::json;

struct Args {
    images: PathBuf,
    threads: usize,
    rounds: usize,
    json: PathBuf,
}

fn args() -> Args {
    let mut images = None;
    let mut threads = std::thread::available_parallelism().map_or(2, usize::from);
    let mut rounds = 1;
    let mut json = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--images" => images = Some(PathBuf::from(value())),
            "--threads" => threads = value().parse().expect("--threads N"),
            "--rounds" => rounds = value().parse().expect("--rounds R"),
            "--json" => json = Some(PathBuf::from(value())),
            other => panic!("unknown argument {other}; see the example's docs"),
        }
    }
    Args {
        images: images.expect("--images DIR"),
        threads,
        rounds,
        json: json.expect("--json OUT"),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() {
    let args = args();
    let config = Config::load(None).unwrap();
    let pipeline = PipelineConfig {
        decode: config.decode.clone(),
        quality: config.quality.clone(),
        renditions: Vec::new(),
        ..PipelineConfig::default()
    }
    .build()
    .unwrap();
    let mut files: Vec<PathBuf> = fs_err::read_dir(&args.images)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    let inputs: Vec<_> = files
        .iter()
        .map(|path| {
            let bytes = fs_err::read(path).unwrap();
            let processed = pipeline.process(&bytes).unwrap();
            (
                DynamicImage::ImageRgb8(processed.model_input),
                processed.inspection,
            )
        })
        .collect();
    let runtime = Runtime::init(&config.runtime()).unwrap();
    let store = ModelStore::open(&config.models.dir).unwrap();
    let analyzers = Analyzers::build(&config.analyzers, &runtime, &store).unwrap();
    let plan = analyzers.plan(&analyzers.enabled());
    let analyse = |(image, inspection): &(DynamicImage, imgtag_pipeline::Inspection)| {
        let model_input = image.as_rgb8().unwrap();
        analyzers
            .run(
                &AnalysisInput {
                    image,
                    model_input,
                    inspection,
                    source: None,
                    vocabulary: None,
                },
                &plan,
            )
            .unwrap();
    };
    for input in inputs.iter().take(args.threads.max(2)) {
        analyse(input);
    }

    let total = inputs.len() * args.rounds;
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let mut latencies: Vec<f64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break mine;
                        }
                        let one = Instant::now();
                        analyse(&inputs[i % inputs.len()]);
                        mine.push(one.elapsed().as_secs_f64() * 1e3);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let result = json!({
        "what": "Analyzers::run alone on pre-decoded model inputs (classifier + friendly tags, NSFW, ConSE vector, OCR gate, quality rules)",
        "images": inputs.len(),
        "rounds": args.rounds,
        "threads": args.threads,
        "seconds": seconds,
        "images_per_second": total as f64 / seconds,
        "latency_ms": {"p50": percentile(&latencies, 50.0), "p99": percentile(&latencies, 99.0)},
    });
    println!(
        "model-only floor: {:.2} images/s over {total} runs on {} threads (p50 {:.1} ms)",
        total as f64 / seconds,
        args.threads,
        percentile(&latencies, 50.0)
    );
    fs_err::write(
        &args.json,
        serde_json::to_string_pretty(&result).unwrap() + "\n",
    )
    .unwrap();
}
