//! End-to-end ingestion benchmark (`scripts/bench_jobs`): the same photos
//! through `imgtag ingest` (embedded, no broker) and through
//! `imgtag publish` + `imgtag worker` over the real RabbitMQ, each with a
//! fresh index and object store.
//!
//! Photos: the five sample photos, each flipped or rotated four ways and
//! scaled 1x, 2x and 3x (Lanczos), written as JPEG q90: 60 images of
//! 0.2-2.4 MP, deterministic. Reported: images/s of the processing (models
//! loaded; `ingest`'s own summary, and for the worker from its "consuming"
//! log line to the last result event), wall time with start-up, the publish
//! rate, and the peak RSS of each process (VmHWM). Writes bench/jobs.json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imgtag_pipeline::image::{DynamicImage, ImageFormat, imageops::FilterType};
use imgtag_pipeline::{DecodeLimits, decode};
use imgtag_workers::broker::{BrokerConfig, Lane, Publisher, topology};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use serde_json::json;

const SAMPLES: [&str; 5] = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "rocket.jpg",
];
const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

fn imgtag() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let bin = target.join("debug/imgtag");
    assert!(
        bin.is_file(),
        "{} missing: cargo build --bin imgtag",
        bin.display()
    );
    bin
}

/// The benchmark's photos, written once into `dir`.
fn photos(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut written = Vec::new();
    for name in SAMPLES {
        let bytes = fs_err::read(Path::new(".imgtag/samples").join(name)).unwrap();
        let image = decode(&bytes, &DecodeLimits::default()).unwrap().image;
        for (turn, turned) in [
            image.clone(),
            image.fliph(),
            image.flipv(),
            image.rotate180(),
        ]
        .into_iter()
        .enumerate()
        {
            for scale in [1u32, 2, 3] {
                let scaled: DynamicImage = if scale == 1 {
                    turned.clone()
                } else {
                    turned.resize(
                        turned.width() * scale,
                        turned.height() * scale,
                        FilterType::Lanczos3,
                    )
                };
                let rgb = DynamicImage::ImageRgb8(scaled.to_rgb8());
                let stem = name.split('.').next().unwrap();
                let path = dir.join(format!("{stem}-{turn}-{scale}x.jpg"));
                let mut out = std::io::Cursor::new(Vec::new());
                let encoder = imgtag_pipeline::image::codecs::jpeg::JpegEncoder::new_with_quality(
                    &mut out, 90,
                );
                rgb.write_with_encoder(encoder).unwrap();
                fs_err::write(&path, out.into_inner()).unwrap();
                written.push((path, u64::from(rgb.width()) * u64::from(rgb.height())));
            }
        }
    }
    let _ = ImageFormat::Jpeg;
    written
}

/// Polls a child's peak RSS (VmHWM, KiB) until it exits.
fn watch_peak(pid: u32) -> Arc<Mutex<u64>> {
    let peak = Arc::new(Mutex::new(0));
    let sink = Arc::clone(&peak);
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        while let Ok(status) = fs_err::read_to_string(&path) {
            if let Some(kib) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                let mut peak = sink.lock().unwrap();
                *peak = (*peak).max(kib);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    peak
}

/// A plain HTTP/1.0 GET on 127.0.0.1.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn main() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("photos");
    fs_err::create_dir_all(&images).unwrap();
    let photos = photos(&images);
    let n = photos.len();
    let pixels: u64 = photos.iter().map(|(_, p)| p).sum();
    let bytes: u64 = photos
        .iter()
        .map(|(p, _)| fs_err::metadata(p).unwrap().len())
        .sum();
    println!(
        "{n} photos, {:.1} MP in all, {:.1} MB of JPEG",
        pixels as f64 / 1e6,
        bytes as f64 / 1e6
    );

    // 1. imgtag ingest, embedded.
    let store = work.path().join("ingest");
    let started = Instant::now();
    let child = Command::new(imgtag())
        .args(["ingest", images.to_str().unwrap(), "--tenant", "bench"])
        .env_remove("IMGTAG_CONFIG")
        .env("IMGTAG__INDEX__EDGE__DIR", store.join("index"))
        .env("IMGTAG__STORE__URL", store.join("objects"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ingest_peak = watch_peak(child.id());
    let output = child.wait_with_output().unwrap();
    let ingest_wall = started.elapsed().as_secs_f64();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let summary = text.lines().last().unwrap().to_owned();
    assert!(summary.contains(&format!("{n} images in")), "{summary}");
    assert!(summary.contains(" 0 failed"), "{summary}");
    // "N images in X s (Y images/s; ..."
    let ingest_seconds: f64 = summary
        .split(" images in ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ingest_rate = n as f64 / ingest_seconds;
    let ingest_peak_mib = *ingest_peak.lock().unwrap() as f64 / 1024.0;
    println!(
        "ingest: {ingest_rate:.2} images/s ({ingest_seconds:.2} s; {ingest_wall:.2} s with start-up), peak RSS {ingest_peak_mib:.0} MiB"
    );

    // 2. imgtag publish + imgtag worker over RabbitMQ.
    let prefix = format!("imgtag-bench.{}", std::process::id());
    let broker = BrokerConfig {
        url: URL.into(),
        jobs_queue: format!("{prefix}.jobs"),
        bulk_queue: format!("{prefix}.bulk"),
        batch_queue: format!("{prefix}.batch"),
        dead_letter_queue: format!("{prefix}.dead"),
        retry_queue_prefix: format!("{prefix}.retry"),
        results_exchange: format!("{prefix}.results"),
        ..BrokerConfig::default()
    };
    let capture = format!("{prefix}.capture");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let connection = runtime.block_on(async {
        let connection = Connection::connect(URL, ConnectionProperties::default())
            .await
            .unwrap();
        let publisher = Publisher::open(&connection, &broker).await.unwrap();
        topology::declare(publisher.channel(), &broker)
            .await
            .unwrap();
        let channel = publisher.channel();
        channel
            .queue_declare(
                capture.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                capture.as_str().into(),
                broker.results_exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        connection
    });
    let store = work.path().join("worker");
    let config = work.path().join("imgtag.toml");
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    fs_err::write(
        &config,
        format!(
            "[index.edge]\ndir = \"{}\"\n[store]\nurl = \"{}\"\n[sources]\nallowed_roots = [\"{}\"]\n\
             [broker]\njobs_queue = \"{}\"\nbulk_queue = \"{}\"\nbatch_queue = \"{}\"\ndead_letter_queue = \"{}\"\nretry_queue_prefix = \"{}\"\nresults_exchange = \"{}\"\n\
             [worker]\nmetrics_listen = \"127.0.0.1:{}\"\n",
            store.join("index").display(),
            store.join("objects").display(),
            images.display(),
            broker.jobs_queue,
            broker.bulk_queue,
            broker.batch_queue,
            broker.dead_letter_queue,
            broker.retry_queue_prefix,
            broker.results_exchange,
            metrics_port,
        ),
    )
    .unwrap();
    let publish = Command::new(imgtag())
        .args([
            "--config",
            config.to_str().unwrap(),
            "publish",
            images.to_str().unwrap(),
            "--tenant",
            "bench",
        ])
        .env_remove("IMGTAG_CONFIG")
        .output()
        .unwrap();
    assert!(
        publish.status.success(),
        "{}",
        String::from_utf8_lossy(&publish.stderr)
    );
    let publish_line = String::from_utf8(publish.stderr).unwrap().trim().to_owned();
    println!("publish: {publish_line}");
    let publish_rate: f64 = publish_line
        .split('(')
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let mut worker = Command::new(imgtag())
        .args(["--config", config.to_str().unwrap(), "worker"])
        .env_remove("IMGTAG_CONFIG")
        .env("IMGTAG_LOG", "info,lapin=warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let worker_peak = watch_peak(worker.id());
    let spawned = Instant::now();
    let consuming: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&consuming);
    let stderr = worker.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("consuming") {
                seen.lock().unwrap().get_or_insert_with(Instant::now);
            }
        }
    });
    let events = runtime.block_on(async {
        let channel = connection.create_channel().await.unwrap();
        let mut events = 0;
        let deadline = Instant::now() + Duration::from_secs(600);
        while events < n && Instant::now() < deadline {
            match channel
                .basic_get(capture.as_str().into(), BasicGetOptions::default())
                .await
                .unwrap()
            {
                Some(message) => {
                    let event: serde_json::Value =
                        serde_json::from_slice(&message.delivery.data).unwrap();
                    assert_ne!(event["event"], "failed", "{event}");
                    message
                        .delivery
                        .ack(BasicAckOptions::default())
                        .await
                        .unwrap();
                    events += 1;
                }
                None => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        events
    });
    let finished = Instant::now();
    assert_eq!(events, n);
    let start = consuming
        .lock()
        .unwrap()
        .expect("the worker logged `consuming`");
    let worker_seconds = (finished - start).as_secs_f64();
    let worker_wall = (finished - spawned).as_secs_f64();
    let worker_rate = n as f64 / worker_seconds;
    // Mean model batch: the worker refreshes its batch counters every 5 s.
    std::thread::sleep(Duration::from_secs(6));
    let metrics = http_get(metrics_port, "/metrics");
    let batches = |model: &str| {
        let value = |name: &str| -> f64 {
            metrics
                .lines()
                .find(|l| l.starts_with(&format!("{name}{{model=\"{model}\"}}")))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let runs = value("imgtag_model_batches_total");
        let items = value("imgtag_model_batch_items_total");
        (runs, items, if runs > 0.0 { items / runs } else { 0.0 })
    };
    let (classifier_runs, classifier_items, classifier_mean) = batches("classifier");
    let (nsfw_runs, _, nsfw_mean) = batches("nsfw");
    println!(
        "worker batches: classifier {classifier_items} images in {classifier_runs} runs (mean {classifier_mean:.2}), nsfw mean {nsfw_mean:.2} ({nsfw_runs} runs)"
    );
    Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    assert!(worker.wait().unwrap().success());
    let worker_peak_mib = *worker_peak.lock().unwrap() as f64 / 1024.0;
    println!(
        "worker: {worker_rate:.2} images/s ({worker_seconds:.2} s; {worker_wall:.2} s with start-up), peak RSS {worker_peak_mib:.0} MiB"
    );
    runtime.block_on(async {
        let channel = connection.create_channel().await.unwrap();
        for queue in [broker.dead_letter_queue.clone(), capture.clone()]
            .into_iter()
            .chain(Lane::ALL.into_iter().flat_map(|lane| {
                let mut queues = vec![lane.queue(&broker).to_owned()];
                queues.extend(broker.retry_queues(lane).into_iter().map(|(q, _)| q));
                queues
            }))
        {
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        let _ = channel
            .exchange_delete(
                broker.results_exchange.as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
    });

    let cpu = fs_err::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("model name"))
        .map(|l| l.split(':').nth(1).unwrap().trim().to_owned())
        .unwrap_or_default();
    let result = json!({
        "photos": n,
        "megapixels": pixels as f64 / 1e6,
        "jpeg_megabytes": bytes as f64 / 1e6,
        "machine": {"cores": std::thread::available_parallelism().map_or(0, usize::from), "cpu": cpu},
        "profile": "dev (dependencies at opt-level 3, imgtag-models/pipeline at 2)",
        "ingest": {"images_per_second": ingest_rate, "seconds": ingest_seconds, "wall_seconds_with_startup": ingest_wall, "peak_rss_mib": ingest_peak_mib, "concurrency": 8},
        "worker": {"images_per_second": worker_rate, "seconds": worker_seconds, "wall_seconds_with_startup": worker_wall, "peak_rss_mib": worker_peak_mib, "concurrency": 8,
                   "mean_batch": {"classifier": classifier_mean, "nsfw": nsfw_mean}},
        "publish": {"jobs_per_second": publish_rate},
    });
    fs_err::create_dir_all("bench").unwrap();
    fs_err::write(
        "bench/jobs.json",
        serde_json::to_string_pretty(&result).unwrap() + "\n",
    )
    .unwrap();
    println!("wrote bench/jobs.json");
}
