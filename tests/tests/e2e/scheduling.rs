//! Fair scheduling through the real binary and the real RabbitMQ: with a
//! reprocess queued in the batch lane and a burst from tenant A in the live
//! lane ahead of tenant B's uploads, B's uploads finish among the first
//! jobs, A's burst is moved to the bulk lane and runs before the batch
//! work, and the metrics show the lanes. In a single first-come queue B
//! would finish after A's whole burst (and the batch work queued first).

use std::path::{Path, PathBuf};
use std::time::Duration;

use imgtag_tests::broker::{TestBroker, WorkerProcess, broker_lock};
use imgtag_tests::http_get;
use imgtag_tests::index_fixtures::async_runtime;
use imgtag_workers::broker::Lane;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(240);
const BATCH: usize = 8;
const BURST: usize = 16;
const UPLOADS: usize = 2;
/// `[worker] concurrency` of the worker under test; `tenant_share` 0.5
/// lets one tenant hold 2 live jobs.
const CONCURRENCY: usize = 4;

/// A small image of its own bytes (a gradient with `n` in its colours).
fn tiny_image(dir: &Path, n: usize) -> PathBuf {
    let image = image::RgbImage::from_fn(96, 72, |x, y| {
        image::Rgb([
            (x * 2) as u8,
            (y * 3) as u8,
            (n * 7 % 256) as u8 ^ ((x + y) as u8),
        ])
    });
    let path = dir.join(format!("tiny-{n:03}.png"));
    image.save(&path).unwrap();
    path
}

fn job(job_id: &str, tenant: &str, path: &Path) -> Vec<u8> {
    json!({
        "schema_version": 1,
        "job_id": job_id,
        "tenant_id": tenant,
        "filename": path.file_name().unwrap().to_string_lossy(),
        "source": {"kind": "file", "uri": format!("file://{}", path.display())},
    })
    .to_string()
    .into_bytes()
}

#[test]
fn live_uploads_pass_a_burst_and_batch_work() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("fair", &[300], 3);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let mut n = 0;
    let mut next_image = || {
        n += 1;
        tiny_image(&broker.uploads(), n)
    };
    // Queued before the worker starts, in the order that is worst for B:
    // the reprocess first, then A's burst, then B's uploads.
    let batch: Vec<Vec<u8>> = (0..BATCH)
        .map(|i| job(&format!("batch-{i}"), "reproc", &next_image()))
        .collect();
    let burst: Vec<Vec<u8>> = (0..BURST)
        .map(|i| job(&format!("a-{i}"), "tenant-a", &next_image()))
        .collect();
    let uploads: Vec<Vec<u8>> = (0..UPLOADS)
        .map(|i| job(&format!("b-{i}"), "tenant-b", &next_image()))
        .collect();
    runtime.block_on(async {
        broker.publish_to(Lane::Batch, &batch).await;
        broker.publish_to(Lane::Live, &burst).await;
        broker.publish_to(Lane::Live, &uploads).await;
    });

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = broker.write_config(&format!(
        "tenant_share = 0.5\nlookahead = 16\nqueue_depth_interval_secs = 1\n\
         metrics_listen = \"127.0.0.1:{port}\"\n"
    ));
    let worker = WorkerProcess::start(&config);
    let total = BATCH + BURST + UPLOADS;
    let events = runtime.block_on(broker.events(total, WAIT));
    assert_eq!(events.len(), total, "{}", worker.log());
    let order: Vec<String> = events
        .iter()
        .map(|e| {
            // (The gradients are near duplicates of each other.)
            assert!(
                e["event"] == "processed" || e["event"] == "duplicate",
                "{e}"
            );
            assert_eq!(e["indexed"], true, "{e}");
            e["job_id"].as_str().unwrap().to_owned()
        })
        .collect();
    let position = |prefix: &str| -> Vec<usize> {
        order
            .iter()
            .enumerate()
            .filter(|(_, id)| id.starts_with(prefix))
            .map(|(i, _)| i + 1)
            .collect()
    };
    let b = position("b-");
    let a = position("a-");
    let batch_positions = position("batch-");
    // B's uploads run in the first round of slots (A holds 2 of the 4,
    // and at start a few batch jobs may have been received first), not
    // after the 16 jobs of A's burst ahead of them in the live queue.
    assert!(
        b.iter().all(|&p| p <= 2 * CONCURRENCY),
        "B's uploads finished at {b:?} of {order:?}"
    );
    // A's burst (moved to the bulk lane) runs before the batch work, but
    // for batch jobs started before the first moved jobs arrived.
    let last_a = *a.iter().max().unwrap();
    let batch_before = batch_positions.iter().filter(|&&p| p < last_a).count();
    assert!(
        batch_before <= CONCURRENCY,
        "{batch_before} batch jobs ran before A's burst ended: {order:?}"
    );

    // The moves and the lanes, in /metrics.
    let mut metrics = http_get(port, "/metrics");
    for _ in 0..40 {
        if metrics.contains("imgtag_queue_depth{class=\"batch\"} 0") {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
        metrics = http_get(port, "/metrics");
    }
    let moved_line = metrics
        .lines()
        .find(|l| l.starts_with("imgtag_jobs_moved_total"))
        .unwrap_or_else(|| panic!("no moves counted:\n{metrics}"));
    let moved: f64 = moved_line.rsplit(' ').next().unwrap().parse().unwrap();
    // A keeps 2 live jobs at a time: the rest of its burst is moved (one
    // or two more may stay if a kept job finished while the burst was
    // still arriving); B's uploads never are.
    let moved = moved as usize;
    assert!((BURST - 4..=BURST - 2).contains(&moved), "{moved_line}");
    for needle in [
        "imgtag_queue_depth{class=\"live\"} 0",
        "imgtag_queue_depth{class=\"bulk\"} 0",
        "imgtag_queue_depth{class=\"batch\"} 0",
        "imgtag_queue_wait_seconds_count{class=\"live\"}",
        "imgtag_queue_wait_seconds_count{class=\"bulk\"}",
        "imgtag_queue_wait_seconds_count{class=\"batch\"}",
        "imgtag_broker_connected 1",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
    // A lane whose queue disappears (deleted by an operator): the worker
    // notices its consumer was cancelled, reconnects and declares the
    // queue again, instead of leaving the lane unserved.
    runtime.block_on(async {
        let connection = imgtag_tests::broker::connect().await;
        let channel = connection.create_channel().await.unwrap();
        channel
            .queue_delete(
                broker.config.bulk_queue.as_str().into(),
                lapin::options::QueueDeleteOptions::default(),
            )
            .await
            .unwrap();
        let _ = connection.close(200, "deleted".into()).await;
    });
    worker.wait_for_log("the bulk lane's consumer was cancelled", WAIT);
    let late = job("b-late", "tenant-b", &next_image());
    let mut redeclared = false;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(200));
        if worker.log().matches("consuming").count() >= 6 {
            redeclared = true;
            break;
        }
    }
    assert!(redeclared, "{}", worker.log());
    runtime.block_on(broker.publish_to(Lane::Bulk, &[late]));
    let events = runtime.block_on(broker.events(1, WAIT));
    assert_eq!(events[0]["job_id"], "b-late", "{}", worker.log());

    worker.terminate();
    let (status, log) = worker.wait(Duration::from_secs(60));
    assert!(status.success(), "{log}");
    runtime.block_on(broker.cleanup());
}

/// Moved jobs keep their guarantees: a job moved to the bulk lane and
/// failing for good is dead-lettered (with lane `bulk`, which `dlq replay`
/// reads) and gets its `image.failed` event, like a live one.
#[test]
fn moved_jobs_keep_their_lane_through_dead_letters() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("fairdlq", &[300], 2);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    // One tenant, share 1 of 4 slots: the first job stays live, the rest
    // are moved. Every job names a file that does not exist.
    let missing = broker.uploads().join("missing.png");
    let jobs: Vec<Vec<u8>> = (0..4)
        .map(|i| job(&format!("gone-{i}"), "tenant-a", &missing))
        .collect();
    runtime.block_on(broker.publish_to(Lane::Live, &jobs));
    let config = broker.write_config("tenant_share = 0.25\n");
    let worker = WorkerProcess::start(&config);
    let dead = runtime.block_on(broker.take(&broker.config.dead_letter_queue, jobs.len(), WAIT));
    assert_eq!(dead.len(), jobs.len(), "{}", worker.log());
    let mut lanes: Vec<&str> = dead
        .iter()
        .map(|m| {
            assert_eq!(m.headers["x-imgtag-error-code"], "source.not_found");
            m.headers["x-imgtag-lane"].as_str()
        })
        .collect();
    lanes.sort_unstable();
    // The first job stays live; the others arrive while it runs and are
    // moved (one may stay live if the first failed before it arrived).
    assert_eq!(lanes[0], "bulk", "{lanes:?}");
    assert_eq!(lanes[lanes.len() - 1], "live", "{lanes:?}");
    assert!(
        lanes.iter().all(|l| *l == "bulk" || *l == "live"),
        "{lanes:?}"
    );
    worker.terminate();
    let (status, log) = worker.wait(Duration::from_secs(60));
    assert!(status.success(), "{log}");
    let events = runtime.block_on(broker.events(jobs.len(), WAIT));
    assert!(
        events
            .iter()
            .all(|e: &Value| e["event"] == "failed" && e["error"]["code"] == "source.not_found"),
        "{events:?}"
    );
    runtime.block_on(broker.cleanup());
}
