//! The same bytes under several job ids at the same moment, through the
//! real worker and RabbitMQ: one stored image, one `image.processed`, the
//! others `image.duplicate` of it (the claim in the object store decides,
//! `docs/JOBS.md`, "Duplicates"); then `imgtag erase` removes the point,
//! the objects and the claim, so the same bytes are stored afresh.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use imgtag_tests::broker::{TestBroker, WorkerProcess, broker_lock, write_variants};
use imgtag_tests::imgtag_bin;
use imgtag_tests::index_fixtures::async_runtime;
use imgtag_workers::index::{ImageFilter, Index, IndexConfig, TenantId};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(180);
const JOBS: usize = 4;

fn job(job_id: &str, path: &Path) -> Vec<u8> {
    json!({
        "schema_version": 1,
        "job_id": job_id,
        "tenant_id": "acme",
        "source": {"kind": "file", "uri": format!("file://{}", path.display())},
    })
    .to_string()
    .into_bytes()
}

fn points(broker: &TestBroker) -> u64 {
    let mut config = IndexConfig::default();
    config.edge.dir = broker.index_dir();
    async_runtime().block_on(async {
        let index = Index::open(&config).await.unwrap();
        index
            .tenant(TenantId::new("acme").unwrap())
            .count(&ImageFilter::everything())
            .await
            .unwrap()
    })
}

/// Runs the worker until `want` events arrived, then stops it.
fn run_worker(broker: &TestBroker, config: &Path, want: usize) -> Vec<Value> {
    let runtime = async_runtime();
    let worker = WorkerProcess::start(config);
    let events = runtime.block_on(broker.events(want, WAIT));
    assert_eq!(events.len(), want, "{}", worker.log());
    worker.terminate();
    let (status, log) = worker.wait(Duration::from_secs(60));
    assert!(status.success(), "{log}");
    events
}

#[test]
fn the_same_bytes_at_once_are_stored_once_and_erase_forgets_them() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("samebytes", &[300], 5);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let file = write_variants(&broker.uploads(), 1).remove(0);
    // Every slot takes one of them at once (no tenant share).
    let config = broker.write_config("tenant_share = 1.0\n");
    let jobs: Vec<Vec<u8>> = (0..JOBS)
        .map(|i| job(&format!("upload-{i}"), &file))
        .collect();
    runtime.block_on(broker.publish(&jobs));
    let events = run_worker(&broker, &config, JOBS);
    let processed: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "processed")
        .collect();
    assert_eq!(processed.len(), 1, "{events:?}");
    let image_id = processed[0]["image_id"].as_str().unwrap().to_owned();
    for event in events.iter().filter(|e| e["event"] != "processed") {
        assert_eq!(event["event"], "duplicate", "{event}");
        assert_eq!(event["image_id"], image_id.as_str(), "{event}");
        assert_eq!(event["duplicates"][0]["kind"], "same_bytes", "{event}");
        assert_eq!(event["indexed"], true, "{event}");
    }
    assert_eq!(points(&broker), 1);
    let image_dir = broker.objects_dir().join("acme").join(&image_id);
    assert!(image_dir.join("claim.json").is_file());
    let claim: Value =
        serde_json::from_slice(&fs_err::read(image_dir.join("claim.json")).unwrap()).unwrap();
    assert_eq!(claim["job_id"], processed[0]["job_id"], "{claim}");

    // Erase: the point, the renditions, the original and the claim go.
    let erased = Command::new(imgtag_bin())
        .arg("--config")
        .arg(&config)
        .args(["erase", "--tenant", "acme", &image_id, "--json"])
        .env_remove("IMGTAG_CONFIG")
        .output()
        .unwrap();
    assert!(
        erased.status.success(),
        "{}",
        String::from_utf8_lossy(&erased.stderr)
    );
    let report: Value = serde_json::from_slice(&erased.stdout).unwrap();
    assert_eq!(report["images"][0]["point"], true, "{report}");
    assert!(
        report["images"][0]["objects"].as_u64().unwrap() >= 3,
        "{report}"
    );
    assert_eq!(points(&broker), 0);
    assert!(!image_dir.exists() || fs_err::read_dir(&image_dir).unwrap().next().is_none());
    // Another tenant's erase of the id finds nothing.
    let other = Command::new(imgtag_bin())
        .arg("--config")
        .arg(&config)
        .args(["erase", "--tenant", "globex", &image_id, "--json"])
        .env_remove("IMGTAG_CONFIG")
        .output()
        .unwrap();
    let other: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(other["images"][0]["point"], false, "{other}");
    assert_eq!(other["images"][0]["objects"], 0, "{other}");

    // The same bytes again, under a new job id: stored afresh.
    runtime.block_on(broker.publish(&[job("after-erase", &file)]));
    let again = run_worker(&broker, &config, 1);
    assert_eq!(again[0]["event"], "processed", "{:?}", again[0]);
    assert_eq!(again[0]["image_id"], image_id.as_str());
    assert_eq!(points(&broker), 1);
    runtime.block_on(broker.cleanup());
}
