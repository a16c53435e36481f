//! Benchmarks of imgtag's models on pre-decoded sample images (decode is
//! never timed): inference latency and throughput straight on ONNX Runtime
//! sessions and through the batcher, preprocessing cost, pool layouts,
//! dynamic batching under concurrent callers, and (with `--rss`, in its
//! own process) peak RSS with every model loaded. The analyzers as a whole
//! are measured by `workers/examples/bench_floor.rs`.
//!
//! Run it through `scripts/bench_models`, which also runs the Python peer in
//! the same run and writes `bench/models.json` and `docs/BENCH_MODELS.md`:
//!
//! ```sh
//! cargo run --release -p imgtag-models --example bench_models -- --out /tmp/rust.json [--seconds 2]
//! cargo run --release -p imgtag-models --example bench_models -- --rss --out /tmp/rss.json
//! ```
//!
//! The inputs are the ones `scripts/parity_reference.py --bench` uses: the
//! sample photos in `.imgtag/samples` (batch 1 cycles them, batch 8 repeats
//! them in name order) and the search queries of
//! `models/tests/data/parity_expected.json` (batch 1 cycles them, batch 8 is
//! the first 8 in one ragged run; the tokenizer is checked against the ids
//! of that file). Text timings include tokenisation, as the Python peer's
//! original graph does it inside its run; `session_batch1_latency_ms_token_ids`
//! is the run alone on ids prepared beforehand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::RgbImage;
use imgtag_models::batcher::{BatchModel, Batcher};
use imgtag_models::text::Tokens;
use imgtag_models::{
    Classifier, ModelStore, NsfwDetector, PoolConfig, Runtime, RuntimeConfig, TextEncoder,
};
use ndarray::{Array1, Array3, Array4};
use ort::session::Session;
use ort::value::TensorRef;
use serde_json::{Value, json};

const SAMPLES: &str = ".imgtag/samples";
const MODELS: &str = ".imgtag/models";
const PARITY: &str = "models/tests/data/parity_expected.json";

struct Args {
    out: PathBuf,
    rss: bool,
    probe: bool,
    seconds: f64,
}

fn args() -> Args {
    let mut out = PathBuf::from("bench/models_rust.json");
    let mut rss = false;
    let mut probe = false;
    let mut seconds = 2.0;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--out" => out = PathBuf::from(it.next().expect("--out PATH")),
            "--rss" => rss = true,
            "--probe" => probe = true,
            "--seconds" => seconds = it.next().expect("--seconds S").parse().expect("seconds"),
            "--help" | "-h" => {
                println!("bench_models [--out PATH] [--seconds S] [--rss | --probe]");
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    Args {
        out,
        rss,
        probe,
        seconds,
    }
}

/// Median, p90 and mean of durations, in milliseconds.
fn summary(times: &[Duration]) -> Value {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let median = if ms.len() % 2 == 1 {
        ms[ms.len() / 2]
    } else {
        (ms[ms.len() / 2 - 1] + ms[ms.len() / 2]) / 2.0
    };
    let p90 = ms[(0.9 * (ms.len() - 1) as f64) as usize];
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    json!({"median": median, "p90": p90, "mean": mean, "runs": ms.len()})
}

fn median_ms(times: &[Duration]) -> f64 {
    summary(times)["median"].as_f64().unwrap()
}

/// Like the Python peer's `time_runs`: 2 warm-up runs, then at least
/// `min_runs` and `min_seconds`, at most `max_runs`.
fn time_runs(
    mut f: impl FnMut(),
    min_runs: usize,
    min_seconds: f64,
    max_runs: usize,
) -> Vec<Duration> {
    f();
    f();
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < max_runs
        && (times.len() < min_runs || start.elapsed().as_secs_f64() < min_seconds)
    {
        let t0 = Instant::now();
        f();
        times.push(t0.elapsed());
    }
    times
}

fn decode_samples() -> Vec<(String, RgbImage)> {
    let mut names: Vec<String> = std::fs::read_dir(SAMPLES)
        .expect("samples: run scripts/setup")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png") || n.ends_with(".jpg"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            // Trusted sample files; ImageReader keeps the crate's default
            // allocation limits.
            let image = image::ImageReader::open(Path::new(SAMPLES).join(&n))
                .unwrap()
                .with_guessed_format()
                .unwrap()
                .decode()
                .unwrap()
                .to_rgb8();
            (n, image)
        })
        .collect()
}

/// The search queries of the parity data (sentences of kind `query`), as
/// (name, text, token ids).
fn queries() -> Vec<(String, String, Vec<i32>)> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(PARITY).unwrap()).unwrap();
    let mut out = Vec::new();
    for (key, s) in doc["text"]["sentences"].as_object().unwrap() {
        if s["kind"] != "query" {
            continue;
        }
        let ids = s["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| i32::try_from(v.as_i64().unwrap()).unwrap())
            .collect();
        out.push((key.clone(), s["text"].as_str().unwrap().to_owned(), ids));
    }
    assert!(out.len() >= 8, "expected at least 8 queries in {PARITY}");
    out
}

fn pool(sessions: usize, intra_threads: usize, max_batch: usize, max_wait_us: u64) -> PoolConfig {
    PoolConfig {
        sessions,
        intra_threads,
        max_batch,
        max_wait_us,
    }
}

fn stack(items: &[Array3<f32>]) -> Array4<f32> {
    let views: Vec<_> = items.iter().map(|a| a.view()).collect();
    ndarray::stack(ndarray::Axis(0), &views).unwrap()
}

/// The text graph's inputs: every text's ids concatenated, and row splits.
fn ragged(rows: &[Tokens]) -> (Array1<i32>, Array1<i64>) {
    let ids: Vec<i32> = rows.iter().flat_map(|r| r.ids.iter().copied()).collect();
    let mut splits = vec![0_i64];
    for r in rows {
        splits.push(splits.last().unwrap() + r.ids.len() as i64);
    }
    (Array1::from(ids), Array1::from(splits))
}

fn run_image(session: &mut Session, input: &str, x: &Array4<f32>) {
    let tensor = TensorRef::from_array_view(x.view()).unwrap();
    let outputs = session.run(ort::inputs![input => tensor]).unwrap();
    drop(outputs);
}

fn run_text(session: &mut Session, feed: &(Array1<i32>, Array1<i64>)) {
    let outputs = session
        .run(ort::inputs![
            "token_ids" => TensorRef::from_array_view(feed.0.view()).unwrap(),
            "row_splits" => TensorRef::from_array_view(feed.1.view()).unwrap(),
        ])
        .unwrap();
    drop(outputs);
}

/// Batch-1 latency of `TextEncoder::embed` (tokenize, then the batcher),
/// cycling `texts`.
fn embed_b1(text: &TextEncoder, texts: &[&str]) -> Vec<Duration> {
    text.preload().unwrap();
    let mut i = 0;
    time_runs(
        || {
            text.embed(texts[i % texts.len()]).unwrap();
            i += 1;
        },
        10,
        3.0,
        200,
    )
}

/// Latency of `TextEncoder::embed_all` on 8 texts, with the mean batch the
/// batcher gathered (its batches still run one text at a time).
fn embed_b8(text: &TextEncoder, texts8: &[&str]) -> (Vec<Duration>, f64) {
    let stats = text.batcher().unwrap().stats();
    let runs_before = stats.runs();
    let items_before = stats.items();
    let times = time_runs(
        || {
            text.embed_all(texts8).unwrap();
        },
        5,
        4.0,
        100,
    );
    let runs = stats.runs() - runs_before;
    let items = stats.items() - items_before;
    (times, items as f64 / runs as f64)
}

/// Batch-1 latency through a batcher, cycling `items`.
fn batcher_b1<M: BatchModel>(batcher: &Batcher<M>, items: &[M::Item]) -> Vec<Duration>
where
    M::Item: Clone,
{
    let mut i = 0;
    time_runs(
        || {
            batcher.run(items[i % items.len()].clone()).unwrap();
            i += 1;
        },
        10,
        3.0,
        200,
    )
}

/// Latency of 8 items submitted at once, with the mean batch size seen.
fn batcher_b8<M: BatchModel>(batcher: &Batcher<M>, batch8: &[M::Item]) -> (Vec<Duration>, f64)
where
    M::Item: Clone,
{
    let runs_before = batcher.stats().runs();
    let items_before = batcher.stats().items();
    let times = time_runs(
        || {
            batcher.run_all(batch8.to_vec()).unwrap();
        },
        5,
        4.0,
        100,
    );
    let runs = batcher.stats().runs() - runs_before;
    let items = batcher.stats().items() - items_before;
    (times, items as f64 / runs as f64)
}

fn main() {
    let args = args();
    let runtime =
        Runtime::init(&RuntimeConfig::default()).expect("ONNX Runtime: run scripts/setup");
    let store = ModelStore::open(MODELS).expect("models: run scripts/setup");
    let samples = decode_samples();
    let cpu_before = cpu_ticks();
    let report = if args.probe {
        probe(&store, &runtime, &samples)
    } else if args.rss {
        rss(&store, &runtime, &samples)
    } else {
        bench(&store, &runtime, &samples, args.seconds)
    };
    let mut report = report;
    report["other_processes_cpu_share"] = json!(other_cpu_share(cpu_before, cpu_ticks()));
    eprintln!(
        "other processes used {:.0}% of the machine's CPU during this run",
        report["other_processes_cpu_share"].as_f64().unwrap() * 100.0
    );
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(
        &args.out,
        serde_json::to_string_pretty(&report).unwrap() + "\n",
    )
    .unwrap();
    eprintln!("wrote {}", args.out.display());
}

fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap())
        .unwrap()
}

fn rss(store: &ModelStore, runtime: &Runtime, samples: &[(String, RgbImage)]) -> Value {
    let before = status_kib("VmHWM:");
    let classifier = Classifier::load(store, runtime, &PoolConfig::default()).unwrap();
    let nsfw = NsfwDetector::load(store, runtime, &PoolConfig::default()).unwrap();
    let text = TextEncoder::load(store, runtime, &PoolConfig::default()).unwrap();
    text.preload().unwrap();
    let loaded = status_kib("VmRSS:");
    for _ in 0..3 {
        for (_, image) in samples {
            classifier.classify(image).unwrap();
            nsfw.score(image).unwrap();
        }
    }
    let hwm = status_kib("VmHWM:");
    let rss = status_kib("VmRSS:");
    let mib = |k: u64| k as f64 / 1024.0;
    eprintln!(
        "peak RSS {:.1} MiB (after load {:.1}, now {:.1}, samples decoded before load {:.1})",
        mib(hwm),
        mib(loaded),
        mib(rss),
        mib(before)
    );
    json!({
        "what": "classifier, NSFW and text encoder loaded (default pools), then every sample classified and scored 3 times; /proc/self/status",
        "vmhwm_mib": mib(hwm),
        "vmrss_after_load_mib": mib(loaded),
        "vmrss_end_mib": mib(rss),
        "vmhwm_before_load_mib": mib(before),
        "target_mib": 400,
    })
}

/// `callers` threads each running single items through `batcher` for
/// `seconds`: images/s, mean batch size, mean latency (ms).
fn throughput<M: BatchModel>(
    batcher: &Batcher<M>,
    items: &[M::Item],
    callers: usize,
    seconds: f64,
) -> Value
where
    M::Item: Clone + Sync,
{
    for item in items.iter().take(2) {
        batcher.run(item.clone()).unwrap();
    }
    let runs_before = batcher.stats().runs();
    let items_before = batcher.stats().items();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let (done, latency) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..callers)
            .map(|c| {
                scope.spawn(move || {
                    let mut n = 0usize;
                    let mut busy = Duration::ZERO;
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        batcher.run(items[(c + n) % items.len()].clone()).unwrap();
                        busy += t0.elapsed();
                        n += 1;
                    }
                    (n, busy)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, Duration::ZERO), |(n, d), (m, e)| (n + m, d + e))
    });
    let elapsed = start.elapsed().as_secs_f64();
    let runs = batcher.stats().runs() - runs_before;
    let ran = batcher.stats().items() - items_before;
    json!({
        "callers": callers,
        "images_per_s": done as f64 / elapsed,
        "mean_batch": ran as f64 / runs as f64,
        "mean_latency_ms": latency.as_secs_f64() * 1e3 / done as f64,
        "images": done,
    })
}

fn load_raw(store: &ModelStore, runtime: &Runtime, key: &str, threads: usize) -> Session {
    let mut loaded =
        imgtag_models::session::load(store, runtime, key, &pool(1, threads, 8, 0)).unwrap();
    loaded.sessions.pop().unwrap()
}

#[allow(clippy::too_many_lines)]
fn bench(
    store: &ModelStore,
    runtime: &Runtime,
    samples: &[(String, RgbImage)],
    seconds: f64,
) -> Value {
    let images: Vec<&RgbImage> = samples.iter().map(|(_, i)| i).collect();
    let queries = queries();
    let texts: Vec<&str> = queries.iter().map(|(_, t, _)| t.as_str()).collect();
    let base = pool(1, 1, 8, 0);
    let classifier = Classifier::load(store, runtime, &base).unwrap();
    let nsfw = NsfwDetector::load(store, runtime, &base).unwrap();
    let text = TextEncoder::load(store, runtime, &base).unwrap();

    // Inputs, as the Python peer builds them.
    let cls_items: Vec<Array3<f32>> = images
        .iter()
        .map(|i| classifier.prepare(i).unwrap())
        .collect();
    let nsfw_items: Vec<Array3<f32>> = images.iter().map(|i| nsfw.prepare(i).unwrap()).collect();
    let cls_b8: Vec<Array3<f32>> = (0..8)
        .map(|i| cls_items[i % cls_items.len()].clone())
        .collect();
    let nsfw_b8: Vec<Array3<f32>> = (0..8)
        .map(|i| nsfw_items[i % nsfw_items.len()].clone())
        .collect();
    let text_items: Vec<Tokens> = queries
        .iter()
        .map(|(_, _, ids)| Tokens { ids: ids.clone() })
        .collect();
    for ((name, query, _), item) in queries.iter().zip(&text_items) {
        let ours = text.tokenize(query).unwrap();
        assert_eq!(
            &ours, item,
            "tokenizer differs from the parity data on {name}"
        );
    }

    // Preprocessing on the calling thread (decode excluded).
    eprintln!("preprocessing ...");
    let per_item = |times: Vec<Duration>, count: usize| median_ms(&times) / count as f64;
    let prep_cls = per_item(
        time_runs(
            || {
                images
                    .iter()
                    .for_each(|i| drop(classifier.prepare(i).unwrap()))
            },
            3,
            1.0,
            50,
        ),
        images.len(),
    );
    let prep_nsfw = per_item(
        time_runs(
            || images.iter().for_each(|i| drop(nsfw.prepare(i).unwrap())),
            3,
            1.0,
            50,
        ),
        images.len(),
    );
    let prep_text = per_item(
        time_runs(
            || texts.iter().for_each(|t| drop(text.tokenize(t).unwrap())),
            3,
            1.0,
            200,
        ),
        texts.len(),
    );
    let preprocessing = json!({
        "classifier": {"per_item_ms_median": prep_cls, "includes": "prepare (resize+crop+normalise), decode excluded"},
        "nsfw": {"per_item_ms_median": prep_nsfw, "includes": "prepare (resize+crop+jpeg round trip+normalise), decode excluded"},
        "text": {"per_item_ms_median": prep_text, "includes": "tokenize (the queries)"},
    });
    eprintln!(
        "  classifier {prep_cls:.2} ms, nsfw {prep_nsfw:.2} ms, text {prep_text:.3} ms per item"
    );
    // `text` stays for its tokenizer; it never loads its model here.
    drop((classifier, nsfw));

    // Inference: straight on a session (what Python measures), then
    // through the batcher.
    let mut inference = Vec::new();
    let cls_b8_stacked = stack(&cls_b8);
    let nsfw_b8_stacked = stack(&nsfw_b8);
    let cls_b1: Vec<Array4<f32>> = cls_items
        .iter()
        .map(|x| stack(std::slice::from_ref(x)))
        .collect();
    let nsfw_b1: Vec<Array4<f32>> = nsfw_items
        .iter()
        .map(|x| stack(std::slice::from_ref(x)))
        .collect();
    let text_feeds_b1: Vec<_> = text_items
        .iter()
        .map(|t| ragged(std::slice::from_ref(t)))
        .collect();
    for threads in [1usize, 2] {
        for key in ["classifier", "nsfw", "text"] {
            eprintln!("inference {key}, {threads} intra threads ...");
            let mut session = load_raw(store, runtime, key, threads);
            let mut i = 0;
            let mut raw1_ids = None;
            let (raw1, raw8) = match key {
                "classifier" | "nsfw" => {
                    let (input, b1, b8) = if key == "classifier" {
                        ("input", &cls_b1, &cls_b8_stacked)
                    } else {
                        ("input:0", &nsfw_b1, &nsfw_b8_stacked)
                    };
                    let t1 = time_runs(
                        || {
                            run_image(&mut session, input, &b1[i % b1.len()]);
                            i += 1;
                        },
                        10,
                        3.0,
                        200,
                    );
                    let t8 = time_runs(|| run_image(&mut session, input, b8), 5, 4.0, 100);
                    (t1, t8)
                }
                _ => {
                    // Tokenisation included (the Python peer's original
                    // graph tokenises inside its run).
                    let t1 = time_runs(
                        || {
                            let tokens = text.tokenize(texts[i % texts.len()]).unwrap();
                            run_text(&mut session, &ragged(&[tokens]));
                            i += 1;
                        },
                        10,
                        3.0,
                        200,
                    );
                    raw1_ids = Some(time_runs(
                        || {
                            run_text(&mut session, &text_feeds_b1[i % text_feeds_b1.len()]);
                            i += 1;
                        },
                        10,
                        3.0,
                        200,
                    ));
                    let t8 = time_runs(
                        || {
                            let rows: Vec<Tokens> = texts[..8]
                                .iter()
                                .map(|t| text.tokenize(t).unwrap())
                                .collect();
                            run_text(&mut session, &ragged(&rows));
                        },
                        5,
                        4.0,
                        100,
                    );
                    (t1, t8)
                }
            };
            drop(session);
            let nowait = pool(1, threads, 8, 0);
            let default_wait = pool(1, threads, 8, 2_000);
            let (b1_nowait, b1_wait, (b8, b8_mean_batch)) = match key {
                "classifier" => {
                    let a = Classifier::load(store, runtime, &nowait).unwrap();
                    let b1_nowait = batcher_b1(a.batcher(), &cls_items);
                    drop(a);
                    let b = Classifier::load(store, runtime, &default_wait).unwrap();
                    (
                        b1_nowait,
                        batcher_b1(b.batcher(), &cls_items),
                        batcher_b8(b.batcher(), &cls_b8),
                    )
                }
                "nsfw" => {
                    let a = NsfwDetector::load(store, runtime, &nowait).unwrap();
                    let b1_nowait = batcher_b1(a.batcher(), &nsfw_items);
                    drop(a);
                    let b = NsfwDetector::load(store, runtime, &default_wait).unwrap();
                    (
                        b1_nowait,
                        batcher_b1(b.batcher(), &nsfw_items),
                        batcher_b8(b.batcher(), &nsfw_b8),
                    )
                }
                _ => {
                    let a = TextEncoder::load(store, runtime, &nowait).unwrap();
                    let b1_nowait = embed_b1(&a, &texts);
                    drop(a);
                    let b = TextEncoder::load(store, runtime, &default_wait).unwrap();
                    (b1_nowait, embed_b1(&b, &texts), embed_b8(&b, &texts[..8]))
                }
            };
            let mut r = json!({
                "model": key,
                "intra_threads": threads,
                "session_batch1_latency_ms": summary(&raw1),
                "session_batch1_throughput_per_s": 1e3 / median_ms(&raw1),
                "session_batch8_latency_ms": summary(&raw8),
                "session_batch8_throughput_per_s": 8e3 / median_ms(&raw8),
                "batcher_batch1_latency_ms_wait0": summary(&b1_nowait),
                "batcher_batch1_latency_ms_wait2000": summary(&b1_wait),
                "batcher_batch8_latency_ms": summary(&b8),
                "batcher_batch8_throughput_per_s": 8e3 / median_ms(&b8),
                "batcher_batch8_mean_batch": b8_mean_batch,
            });
            if let Some(ids) = &raw1_ids {
                r["session_batch1_latency_ms_token_ids"] = summary(ids);
                eprintln!("  session b1 on token ids alone {:.2} ms", median_ms(ids));
            }
            eprintln!(
                "  session b1 {:.2} ms, b8 {:.1} ms; batcher b1 {:.2} ms (wait 0) {:.2} ms (wait 2000), b8 {:.1} ms (mean batch {:.1})",
                median_ms(&raw1),
                median_ms(&raw8),
                median_ms(&b1_nowait),
                median_ms(&b1_wait),
                median_ms(&b8),
                b8_mean_batch
            );
            inference.push(r);
        }
    }

    // Pool layouts and dynamic batching: callers each submit one image at
    // a time.
    let mut concurrency = Vec::new();
    for key in ["classifier", "nsfw"] {
        for (sessions, threads) in [(1usize, 1usize), (1, 2), (2, 1)] {
            for max_batch in [1usize, 8] {
                let config = pool(sessions, threads, max_batch, 2_000);
                let results: Vec<Value> = if key == "classifier" {
                    let model = Classifier::load(store, runtime, &config).unwrap();
                    [1, 2, 4, 8]
                        .iter()
                        .map(|&c| throughput(model.batcher(), &cls_items, c, seconds))
                        .collect()
                } else {
                    let model = NsfwDetector::load(store, runtime, &config).unwrap();
                    [1, 2, 4, 8]
                        .iter()
                        .map(|&c| throughput(model.batcher(), &nsfw_items, c, seconds))
                        .collect()
                };
                for r in &results {
                    eprintln!(
                        "{key} {sessions}x{threads} max_batch {max_batch}: {} callers {:.1} img/s, mean batch {:.2}, latency {:.1} ms",
                        r["callers"],
                        r["images_per_s"].as_f64().unwrap(),
                        r["mean_batch"].as_f64().unwrap(),
                        r["mean_latency_ms"].as_f64().unwrap()
                    );
                }
                concurrency.push(json!({
                    "model": key,
                    "sessions": sessions,
                    "intra_threads": threads,
                    "max_batch": max_batch,
                    "max_wait_us": 2000,
                    "results": results,
                }));
            }
        }
    }

    json!({
        "format": 1,
        "generator": "cargo run --release -p imgtag-models --example bench_models (scripts/bench_models)",
        "inputs": {
            "images": samples.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "queries": queries.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>(),
            "text": "the queries; session b1: tokenize + one run (session_batch1_latency_ms_token_ids: the run alone); session b8: the first 8 tokenised, one ragged run; batcher: TextEncoder::embed / embed_all (one text per run)",
            "decode": "excluded (images decoded once with the image crate before timing)",
            "timing": "like the Python peer: 2 warm-up runs, median of >= 10 runs over >= 3 s (batch 1, cycling inputs) and >= 5 runs over >= 4 s (batch 8)",
            "concurrency_seconds_per_point": seconds,
        },
        "preprocessing": preprocessing,
        "inference": inference,
        "concurrency": concurrency,
    })
}

/// Where the batcher's batch-1 overhead comes from: the classifier's
/// `Session::run` on the calling thread, on another thread, and through
/// the batcher (wait 0).
fn probe(store: &ModelStore, runtime: &Runtime, samples: &[(String, RgbImage)]) -> Value {
    let classifier = Classifier::load(store, runtime, &pool(1, 1, 1, 0)).unwrap();
    let items: Vec<Array3<f32>> = samples
        .iter()
        .map(|(_, i)| classifier.prepare(i).unwrap())
        .collect();
    let b1: Vec<Array4<f32>> = items
        .iter()
        .map(|x| stack(std::slice::from_ref(x)))
        .collect();
    let mut out = serde_json::Map::new();
    for round in 0..2 {
        let mut session = load_raw(store, runtime, "classifier", 1);
        let mut i = 0;
        let here = time_runs(
            || {
                run_image(&mut session, "input", &b1[i % b1.len()]);
                i += 1;
            },
            10,
            3.0,
            200,
        );
        let b1_ref = &b1;
        let there = std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let mut i = 0;
                    time_runs(
                        || {
                            run_image(&mut session, "input", &b1_ref[i % b1_ref.len()]);
                            i += 1;
                        },
                        10,
                        3.0,
                        200,
                    )
                })
                .join()
                .unwrap()
        });
        let batcher = batcher_b1(classifier.batcher(), &items);
        let batcher8 = {
            let c8 = Classifier::load(store, runtime, &pool(1, 1, 8, 0)).unwrap();
            batcher_b1(c8.batcher(), &items)
        };
        eprintln!(
            "probe {round}: session on the calling thread {:.2} ms, on a spawned thread {:.2} ms, batcher (wait 0) max_batch 1 {:.2} ms, max_batch 8 {:.2} ms",
            median_ms(&here),
            median_ms(&there),
            median_ms(&batcher),
            median_ms(&batcher8)
        );
        out.insert(
            format!("round{round}"),
            json!({
                "session_calling_thread_ms": summary(&here),
                "session_spawned_thread_ms": summary(&there),
                "batcher_wait0_max_batch1_ms": summary(&batcher),
                "batcher_wait0_max_batch8_ms": summary(&batcher8),
            }),
        );
    }
    Value::Object(out)
}

/// (machine busy, machine total, this process) CPU ticks.
fn cpu_ticks() -> (u64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().unwrap())
        .collect();
    // user nice system idle iowait irq softirq steal
    let total: u64 = fields.iter().sum();
    let busy = total - fields[3] - fields[4];
    let own = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_comm = &own[own.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the comm.
    let own_ticks = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    (busy, total, own_ticks)
}

/// Share of the machine's CPU that other processes used between two
/// [`cpu_ticks`] snapshots (0: this benchmark had the machine to itself).
fn other_cpu_share(before: (u64, u64, u64), after: (u64, u64, u64)) -> f64 {
    let busy = after.0.saturating_sub(before.0) as f64;
    let total = after.1.saturating_sub(before.1).max(1) as f64;
    let own = after.2.saturating_sub(before.2) as f64;
    ((busy - own) / total).max(0.0)
}
