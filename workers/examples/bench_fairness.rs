//! Fair scheduling benchmark (`scripts/bench_fairness`): the latency of
//! tenant B's uploads while 5,000 reprocessing jobs and a 2,000-job burst
//! from tenant A are queued, through the real `imgtag worker` and the real
//! RabbitMQ, in two designs in the same run:
//!
//! - `fifo` (the design before lanes): every job in the one jobs queue in
//!   arrival order, no tenant share (`tenant_share = 1.0`);
//! - `fair`: the reprocess in the batch lane, A's burst and B's uploads in
//!   the live lane, `tenant_share = 0.5` (A's burst is moved to the bulk
//!   lane).
//!
//! Each design gets a fresh index, object store and queues. After the
//! backlog is queued and the worker has loaded its models, B publishes one
//! upload a second for `UPLOADS` seconds; each upload's latency runs from
//! its publish to its result event. Uploads still unfinished
//! `GRACE_SECS` after the last one was published are reported as
//! unfinished (their latency is at least the time waited). The job service
//! time is the worker's slots divided by its throughput in the window.
//! Writes bench/fairness.json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use imgtag_pipeline::image::{DynamicImage, ImageFormat};
use imgtag_pipeline::{DecodeLimits, decode};
use imgtag_workers::broker::publisher::confirmed;
use imgtag_workers::broker::{BrokerConfig, Lane, Publisher, topology};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use serde_json::{Value, json};

const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const BATCH: usize = 5_000;
const BURST: usize = 2_000;
const UPLOADS: usize = 30;
const GRACE_SECS: u64 = 60;
/// Distinct images the backlog's jobs cycle through (more than a design's
/// window processes, so none of them is a same-bytes duplicate there).
const POOL: usize = 900;
const CONCURRENCY: usize = 8;
const SAMPLES: [&str; 5] = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "rocket.jpg",
];

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

/// `count` distinct 480x360 JPEG photos cut from the samples at different
/// places, written into `dir` as `{stem}-{i}.jpg`.
fn photos(dir: &Path, stem: &str, count: usize, offset: usize) -> Vec<PathBuf> {
    let sources: Vec<DynamicImage> = SAMPLES
        .iter()
        .map(|name| {
            let bytes = fs_err::read(Path::new(".imgtag/samples").join(name)).unwrap();
            decode(&bytes, &DecodeLimits::default()).unwrap().image
        })
        .collect();
    (0..count)
        .map(|i| {
            let n = i + offset;
            let source = &sources[n % sources.len()];
            let (w, h) = (source.width(), source.height());
            let (cw, ch) = (w.min(480), h.min(360));
            let x = (n as u32 * 7) % (w - cw + 1);
            let y = (n as u32 * 13) % (h - ch + 1);
            let mut crop = source.crop_imm(x, y, cw, ch).to_rgb8();
            // One pixel of its own: distinct bytes even where crops repeat.
            crop.put_pixel(
                0,
                0,
                imgtag_pipeline::image::Rgb([(n % 256) as u8, (n / 256 % 256) as u8, 7]),
            );
            let path = dir.join(format!("{stem}-{i}.jpg"));
            DynamicImage::ImageRgb8(crop)
                .save_with_format(&path, ImageFormat::Jpeg)
                .unwrap();
            path
        })
        .collect()
}

fn job(job_id: &str, tenant: &str, path: &Path) -> Vec<u8> {
    json!({
        "schema_version": 1,
        "job_id": job_id,
        "tenant_id": tenant,
        "source": {"kind": "file", "uri": format!("file://{}", path.display())},
    })
    .to_string()
    .into_bytes()
}

/// Publishes jobs to a lane, confirms awaited in windows of 256.
async fn publish_all(publisher: &Publisher, lane: Lane, jobs: &[(String, Vec<u8>)]) {
    let mut pending = std::collections::VecDeque::new();
    for (id, body) in jobs {
        pending.push_back(publisher.start_job(lane, id, body, 1).await.unwrap());
        if pending.len() >= 256 {
            confirmed(pending.pop_front().unwrap(), "job")
                .await
                .unwrap();
        }
    }
    for confirm in pending {
        confirmed(confirm, "job").await.unwrap();
    }
}

/// What one design measured.
struct Measured {
    latencies: Vec<f64>,
    unfinished: usize,
    waited_unfinished: f64,
    jobs_done: usize,
    window_seconds: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn start_worker(config: &Path) -> Child {
    Command::new(imgtag())
        .args(["--config", config.to_str().unwrap(), "worker"])
        .env_remove("IMGTAG_CONFIG")
        .env("IMGTAG_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[allow(clippy::too_many_lines)]
async fn run_design(
    name: &str,
    work: &Path,
    pool: &[PathBuf],
    uploads: &[PathBuf],
    warmup: &Path,
) -> Measured {
    let fair = name == "fair";
    let prefix = format!("imgtag-bench-fair.{}.{name}", std::process::id());
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
    let connection = Connection::connect(URL, ConnectionProperties::default())
        .await
        .unwrap();
    let publisher = Publisher::open(&connection, &broker).await.unwrap();
    topology::declare(publisher.channel(), &broker)
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
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
    let store = work.join(name);
    let config = work.join(format!("{name}.toml"));
    fs_err::write(
        &config,
        format!(
            "[index.edge]\ndir = \"{}\"\n[store]\nurl = \"{}\"\n[sources]\nallowed_roots = [\"{}\"]\n\
             [broker]\njobs_queue = \"{}\"\nbulk_queue = \"{}\"\nbatch_queue = \"{}\"\n\
             dead_letter_queue = \"{}\"\nretry_queue_prefix = \"{}\"\nresults_exchange = \"{}\"\n\
             [worker]\nconcurrency = {CONCURRENCY}\ntenant_share = {}\n",
            store.join("index").display(),
            store.join("objects").display(),
            work.display(),
            broker.jobs_queue,
            broker.bulk_queue,
            broker.batch_queue,
            broker.dead_letter_queue,
            broker.retry_queue_prefix,
            broker.results_exchange,
            if fair { "0.5" } else { "1.0" },
        ),
    )
    .unwrap();

    // The worker loads its models on one warm-up job before the backlog.
    let mut worker = start_worker(&config);
    let mut events = channel
        .basic_consume(
            capture.as_str().into(),
            "bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    publisher
        .publish_job(Lane::Live, "warmup", &job("warmup", "warmup", warmup))
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(300), events.next())
        .await
        .expect("the warm-up job finished")
        .unwrap()
        .unwrap();
    event.ack(BasicAckOptions::default()).await.unwrap();

    // The backlog: the reprocess first, then A's burst.
    let batch: Vec<(String, Vec<u8>)> = (0..BATCH)
        .map(|i| {
            let id = format!("batch-{i}");
            let body = job(&id, "reproc", &pool[i % pool.len()]);
            (id, body)
        })
        .collect();
    let burst: Vec<(String, Vec<u8>)> = (0..BURST)
        .map(|i| {
            let id = format!("a-{i}");
            let body = job(&id, "tenant-a", &pool[(i + BATCH / 2) % pool.len()]);
            (id, body)
        })
        .collect();
    let started = Instant::now();
    publish_all(
        &publisher,
        if fair { Lane::Batch } else { Lane::Live },
        &batch,
    )
    .await;
    publish_all(&publisher, Lane::Live, &burst).await;
    println!(
        "{name}: {} backlog jobs queued in {:.1} s",
        BATCH + BURST,
        started.elapsed().as_secs_f64()
    );

    // B's uploads, one a second, while the events are counted. `published`
    // keeps the uploads not finished yet.
    let window = Instant::now();
    let mut published: HashMap<String, Instant> = HashMap::new();
    let mut latencies = Vec::new();
    let mut jobs_done = 0usize;
    let mut next_upload = 0usize;
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut last_published = None;
    loop {
        if next_upload == UPLOADS && latencies.len() == UPLOADS {
            break;
        }
        if let Some(last) = last_published
            && Instant::now().duration_since(last) > Duration::from_secs(GRACE_SECS)
        {
            break;
        }
        tokio::select! {
            _ = ticks.tick(), if next_upload < UPLOADS => {
                let id = format!("b-{next_upload}");
                let body = job(&id, "tenant-b", &uploads[next_upload]);
                published.insert(id.clone(), Instant::now());
                publisher.publish_job(Lane::Live, &id, &body).await.unwrap();
                next_upload += 1;
                if next_upload == UPLOADS {
                    last_published = Some(Instant::now());
                }
            }
            delivery = events.next() => {
                let delivery = delivery.unwrap().unwrap();
                let event: Value = serde_json::from_slice(&delivery.data).unwrap();
                delivery.ack(BasicAckOptions::default()).await.unwrap();
                assert_ne!(event["event"], "failed", "{event}");
                jobs_done += 1;
                let id = event["job_id"].as_str().unwrap_or_default();
                if let Some(at) = published.remove(id) {
                    latencies.push(at.elapsed().as_secs_f64());
                }
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    let window_seconds = window.elapsed().as_secs_f64();
    let unfinished = UPLOADS - latencies.len();
    let waited_unfinished = published
        .values()
        .map(|at| at.elapsed().as_secs_f64())
        .fold(f64::INFINITY, f64::min);
    Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    let _ = worker.wait();
    for queue in Lane::ALL
        .iter()
        .flat_map(|lane| {
            let mut queues = vec![lane.queue(&broker).to_owned()];
            queues.extend(broker.retry_queues(*lane).into_iter().map(|(q, _)| q));
            queues
        })
        .chain([broker.dead_letter_queue.clone(), capture.clone()])
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
    let _ = connection.close(200, "done".into()).await;
    latencies.sort_by(f64::total_cmp);
    Measured {
        latencies,
        unfinished,
        waited_unfinished: if unfinished > 0 {
            waited_unfinished
        } else {
            0.0
        },
        jobs_done,
        window_seconds,
    }
}

fn main() {
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let pool = photos(work.path(), "pool", POOL, 0);
    let uploads = photos(work.path(), "upload", UPLOADS * 2, POOL);
    println!(
        "{} photos written in {:.1} s",
        pool.len() + uploads.len(),
        started.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut results = serde_json::Map::new();
    let mut summary = Vec::new();
    for (i, name) in ["fifo", "fair"].into_iter().enumerate() {
        let own_uploads = &uploads[i * UPLOADS..(i + 1) * UPLOADS];
        let warmup = &uploads[0];
        let measured = runtime.block_on(run_design(name, work.path(), &pool, own_uploads, warmup));
        let throughput = measured.jobs_done as f64 / measured.window_seconds;
        let service = CONCURRENCY as f64 / throughput;
        let p50 = percentile(&measured.latencies, 50.0);
        let p99 = percentile(&measured.latencies, 99.0);
        let line = format!(
            "{name}: {} of {UPLOADS} uploads done; latency p50 {p50:.2} s, p99 {p99:.2} s, max {:.2} s; \
             {} unfinished (waited >= {:.0} s); throughput {throughput:.2} jobs/s, \
             job service time {service:.2} s ({CONCURRENCY} slots); p99 = {:.1} service times",
            measured.latencies.len(),
            measured.latencies.last().copied().unwrap_or(f64::NAN),
            measured.unfinished,
            measured.waited_unfinished,
            p99 / service,
        );
        println!("{line}");
        summary.push(line);
        results.insert(
            name.to_owned(),
            json!({
                "uploads": UPLOADS,
                "finished": measured.latencies.len(),
                "unfinished": measured.unfinished,
                "unfinished_waited_at_least_seconds": measured.waited_unfinished,
                "latency_seconds": {"p50": p50, "p99": p99, "max": measured.latencies.last()},
                "latencies_seconds": measured.latencies,
                "throughput_jobs_per_second": throughput,
                "job_service_seconds": service,
                "p99_in_service_times": p99 / service,
                "window_seconds": measured.window_seconds,
                "jobs_done_in_window": measured.jobs_done,
            }),
        );
    }
    let cpu = fs_err::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("model name"))
        .map(|l| l.split(':').nth(1).unwrap().trim().to_owned())
        .unwrap_or_default();
    let result = json!({
        "backlog": {"batch": BATCH, "burst_tenant_a": BURST},
        "uploads_tenant_b": {"count": UPLOADS, "every_seconds": 1, "grace_seconds": GRACE_SECS},
        "photos": "480x360 JPEG crops of the samples",
        "worker": {"concurrency": CONCURRENCY},
        "machine": {"cores": std::thread::available_parallelism().map_or(0, usize::from), "cpu": cpu},
        "profile": "dev (dependencies at opt-level 3)",
        "designs": results,
        "summary": summary,
    });
    fs_err::create_dir_all("bench").unwrap();
    fs_err::write(
        "bench/fairness.json",
        serde_json::to_string_pretty(&result).unwrap() + "\n",
    )
    .unwrap();
    println!("wrote bench/fairness.json");
}
