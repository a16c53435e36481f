//! `imgtag worker` against the real RabbitMQ, real models and the embedded
//! index: the happy path, poison messages, a transient store failure, the
//! same job twice, a broker restart, SIGTERM and `kill -9` mid-batch.
//!
//! Each test has its own queue names and scratch directory; the restart
//! test holds the broker lock exclusively.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use imgtag_tests::broker::{TestBroker, WorkerProcess, broker_lock, rabbitmqctl, write_variants};
use imgtag_tests::index_fixtures::async_runtime;
use imgtag_tests::tls_proxy::TlsProxy;
use imgtag_tests::{imgtag_bin, repo_root, sample};
use imgtag_workers::index::{ImageFilter, Index, IndexConfig, TenantId};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(180);

/// Points of `tenant` in the worker's index (the worker must have exited).
fn points(broker: &TestBroker, tenant: &str) -> u64 {
    let mut config = IndexConfig::default();
    config.edge.dir = broker.index_dir();
    async_runtime().block_on(async {
        let index = Index::open(&config).await.unwrap();
        index
            .tenant(TenantId::new(tenant).unwrap())
            .count(&ImageFilter::everything())
            .await
            .unwrap()
    })
}

fn file_job(job_id: &str, tenant: &str, path: &Path) -> Vec<u8> {
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

fn publish_cli(config: &Path, args: &[&str]) -> String {
    let output = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .arg("--config")
        .arg(config)
        .arg("publish")
        .args(args)
        .env_remove("IMGTAG_CONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A plain HTTP/1.0 GET on 127.0.0.1 (the metrics endpoint), answered 200.
fn http_get(port: u16, path: &str) -> String {
    let response = imgtag_tests::http_get(port, path);
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
    response
}

fn stop(worker: WorkerProcess) -> String {
    worker.terminate();
    let (status, log) = worker.wait(Duration::from_secs(90));
    assert_eq!(status.code(), Some(0), "{log}");
    log
}

fn events_by_job(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .filter_map(|e| e["job_id"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn jobs_become_points_and_events_and_the_same_job_twice_is_one_point() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("happy", &[300, 600], 3);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let files = write_variants(&broker.uploads(), 10);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = broker.write_config(&format!(
        "metrics_listen = \"127.0.0.1:{port}\"\n[logging]\nformat = \"json\"\n"
    ));
    let listed = publish_cli(
        &config,
        &[
            broker.uploads().to_str().unwrap(),
            "--tenant",
            "acme",
            "--customer",
            "c-42",
            "--label",
            "claim=CL-1",
            "--json",
        ],
    );
    assert_eq!(listed.lines().count(), files.len());
    let worker = WorkerProcess::start(&config);
    let events = runtime.block_on(broker.events(files.len(), WAIT));
    assert_eq!(events.len(), files.len(), "{}", worker.log());
    for event in &events {
        assert_eq!(event["schema"], "imgtag.result.v1");
        assert_eq!(event["tenant_id"], "acme");
        assert_eq!(event["customer_id"], "c-42");
        assert!(
            event["event"] == "processed" || event["event"] == "duplicate",
            "{event}"
        );
        assert_eq!(event["indexed"], true);
        assert!(event["tags"].as_array().unwrap().len() >= 2, "{event}");
        for name in ["thumb", "preview", "original"] {
            let key = event["renditions"][name]["uri"].as_str().unwrap();
            assert!(broker.objects_dir().join(key).is_file(), "{key}");
        }
    }
    // Prometheus metrics and JSON logs with the job's span fields.
    // (The counter moves just after the event is confirmed: poll briefly.)
    let expected = format!(
        "imgtag_jobs_total{{outcome=\"processed\",code=\"ok\"}} {}",
        events.iter().filter(|e| e["event"] == "processed").count()
    );
    let mut metrics = http_get(port, "/metrics");
    for _ in 0..50 {
        if metrics.contains(&expected) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        metrics = http_get(port, "/metrics");
    }
    assert!(
        metrics.contains(&expected),
        "{expected} missing:\n{metrics}"
    );
    for name in [
        "imgtag_stage_seconds_bucket",
        "imgtag_queue_wait_seconds_bucket{class=\"live\"",
        "imgtag_model_batches_total",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
    let done: Value = worker
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["fields"]["message"] == "job done")
        .expect("a JSON `job done` line");
    assert_eq!(done["span"]["tenant"], "acme", "{done}");
    assert!(done["span"]["image_id"].is_string(), "{done}");
    let coffee = events
        .iter()
        .find(|e| e["filename"] == "coffee-0.png")
        .unwrap();
    let tags: Vec<&str> = coffee["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"espresso") || tags.contains(&"coffee"),
        "{tags:?}"
    );

    // The same jobs again (same files: same job ids) and one file under a
    // new job id: the same points, and a duplicate for the new job.
    publish_cli(
        &config,
        &[broker.uploads().to_str().unwrap(), "--tenant", "acme"],
    );
    let again = file_job("another-upload", "acme", &files[0]);
    runtime.block_on(broker.publish(&[again]));
    let events = runtime.block_on(broker.events(files.len() + 1, WAIT));
    assert_eq!(events.len(), files.len() + 1, "{}", worker.log());
    let duplicate = events
        .iter()
        .find(|e| e["job_id"] == "another-upload")
        .unwrap();
    assert_eq!(duplicate["event"], "duplicate", "{duplicate}");
    assert_eq!(duplicate["duplicates"][0]["kind"], "same_bytes");
    let redelivered: Vec<&Value> = events
        .iter()
        .filter(|e| e["job_id"] != "another-upload")
        .collect();
    assert!(redelivered.iter().all(|e| e["event"] != "failed"));
    stop(worker);
    assert_eq!(points(&broker, "acme"), files.len() as u64);
    assert_eq!(
        runtime.block_on(broker.depth(&broker.config.dead_letter_queue)),
        0
    );
    runtime.block_on(broker.cleanup());
}

#[test]
fn poison_messages_are_dead_lettered_with_codes_while_good_jobs_flow() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("poison", &[300], 3);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let good = write_variants(&broker.uploads(), 2);
    let outside = broker.dir.path().join("secret.png");
    fs_err::copy(sample("chelsea.png"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, broker.uploads().join("link.png")).unwrap();
    let garbage = base64::engine::general_purpose::STANDARD.encode(b"this is not an image at all");
    let mut bodies = vec![
        b"{not json".to_vec(),
        br#"{"schema_version": 9, "job_id": "v9", "tenant_id": "acme", "source": {"kind": "inline", "base64": "AA=="}}"#.to_vec(),
        br#"{"schema_version": 1, "job_id": "no-tenant", "source": {"kind": "inline", "base64": "AA=="}}"#.to_vec(),
        json!({"schema_version": 1, "job_id": "garbage", "tenant_id": "acme",
               "source": {"kind": "inline", "base64": garbage}}).to_string().into_bytes(),
        file_job("traversal", "acme", &broker.uploads().join("../secret.png")),
        file_job("symlink", "acme", &broker.uploads().join("link.png")),
        file_job("passwd", "acme", Path::new("/etc/passwd")),
    ];
    bodies.insert(3, file_job("good-1", "acme", &good[0]));
    bodies.push(file_job("good-2", "acme", &good[1]));
    let config = broker.write_config("");
    runtime.block_on(broker.publish(&bodies));
    let worker = WorkerProcess::start(&config);
    let dead = runtime.block_on(broker.take(&broker.config.dead_letter_queue, 7, WAIT));
    assert_eq!(dead.len(), 7, "{}", worker.log());
    let codes: BTreeSet<(String, String)> = dead
        .iter()
        .map(|m| {
            let job: Option<Value> = serde_json::from_slice(&m.body).ok();
            let id = job
                .and_then(|j| j["job_id"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "-".into());
            (id, m.headers["x-imgtag-error-code"].clone())
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("-", "job.malformed"),
        ("v9", "job.unsupported_version"),
        ("no-tenant", "job.invalid"),
        ("garbage", "image.unsupported_format"),
        ("traversal", "source.outside_roots"),
        ("symlink", "source.outside_roots"),
        ("passwd", "source.outside_roots"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(codes, expected);
    for message in &dead {
        assert_eq!(
            message.headers["x-imgtag-attempt"], "1",
            "permanent: no retry"
        );
        assert!(!message.headers["x-imgtag-error-message"].is_empty());
    }
    // Two processed events, seven failed ones.
    let events = runtime.block_on(broker.events(9, WAIT));
    let processed: BTreeSet<String> = events_by_job(
        &events
            .iter()
            .filter(|e| e["event"] != "failed")
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        processed,
        BTreeSet::from(["good-1".into(), "good-2".into()])
    );
    assert_eq!(events.iter().filter(|e| e["event"] == "failed").count(), 7);
    stop(worker);
    assert_eq!(points(&broker, "acme"), 2);

    // Operators see, replay and purge them.
    let dlq = |args: &[&str]| {
        let output = Command::new(imgtag_bin())
            .current_dir(repo_root())
            .arg("--config")
            .arg(&config)
            .arg("dlq")
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    runtime.block_on(broker.publish(&[b"{still not json".to_vec()]));
    let worker = WorkerProcess::start(&config);
    let _ = runtime.block_on(broker.events(1, WAIT));
    stop(worker);
    let listed = dlq(&["list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["code"], "job.malformed");
    assert_eq!(
        dlq(&["list"]).as_array().unwrap().len(),
        1,
        "list leaves jobs in place"
    );
    assert_eq!(dlq(&["replay"])["count"], 1);
    assert_eq!(runtime.block_on(broker.depth(&broker.config.jobs_queue)), 1);
    let worker = WorkerProcess::start(&config);
    let _ = runtime.block_on(broker.events(1, WAIT));
    stop(worker);
    assert_eq!(dlq(&["purge"])["count"], 1);
    assert_eq!(dlq(&["list"]).as_array().unwrap().len(), 0);
    runtime.block_on(broker.cleanup());
}

#[test]
fn a_store_failure_is_retried_until_it_passes() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("transient", &[1500], 10);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let files = write_variants(&broker.uploads(), 1);
    // A file where the tenant's directory must go: every put fails.
    fs_err::create_dir_all(broker.objects_dir()).unwrap();
    let blocker = broker.objects_dir().join("acme");
    fs_err::write(&blocker, b"in the way").unwrap();
    let config = broker.write_config("");
    let worker = WorkerProcess::start(&config);
    runtime.block_on(broker.publish(&[file_job("flaky", "acme", &files[0])]));
    worker.wait_for_log("retrying later", WAIT);
    fs_err::remove_file(&blocker).unwrap();
    let events = runtime.block_on(broker.events(1, WAIT));
    assert_eq!(events.len(), 1, "{}", worker.log());
    assert_eq!(events[0]["event"], "processed", "{}", events[0]);
    assert!(
        events[0]["attempts"].as_u64().unwrap() >= 2,
        "{}",
        events[0]
    );
    let log = stop(worker);
    assert!(log.contains("store.unavailable"), "{log}");
    assert_eq!(points(&broker, "acme"), 1);
    assert_eq!(
        runtime.block_on(broker.depth(&broker.config.dead_letter_queue)),
        0
    );
    runtime.block_on(broker.cleanup());
}

#[test]
fn a_job_out_of_attempts_is_dead_lettered_with_its_last_error() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("attempts", &[200], 3);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let files = write_variants(&broker.uploads(), 1);
    fs_err::create_dir_all(broker.objects_dir()).unwrap();
    fs_err::write(broker.objects_dir().join("stuck"), b"in the way").unwrap();
    let config = broker.write_config("");
    let worker = WorkerProcess::start(&config);
    runtime.block_on(broker.publish(&[file_job("doomed", "stuck", &files[0])]));
    let dead = runtime.block_on(broker.take(&broker.config.dead_letter_queue, 1, WAIT));
    assert_eq!(dead.len(), 1, "{}", worker.log());
    let headers = &dead[0].headers;
    assert_eq!(headers["x-imgtag-error-code"], "store.unavailable");
    assert_eq!(headers["x-imgtag-error-retryable"], "true");
    assert_eq!(headers["x-imgtag-attempt"], "3");
    let events = runtime.block_on(broker.events(1, WAIT));
    assert_eq!(events[0]["event"], "failed");
    assert_eq!(events[0]["job_id"], "doomed");
    assert_eq!(events[0]["attempts"], 3);
    assert_eq!(events[0]["error"]["code"], "store.unavailable");
    stop(worker);
    assert_eq!(points(&broker, "stuck"), 0);
    runtime.block_on(broker.cleanup());
}

#[test]
fn a_broker_restart_mid_batch_loses_and_duplicates_nothing() {
    let _exclusive = broker_lock().write().unwrap();
    let broker = TestBroker::new("restart", &[300, 600], 5);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let files = write_variants(&broker.uploads(), 20);
    let bodies: Vec<Vec<u8>> = files
        .iter()
        .enumerate()
        .map(|(n, f)| file_job(&format!("restart-{n}"), "acme", f))
        .collect();
    runtime.block_on(broker.publish(&bodies));
    let config = broker.write_config("");
    let worker = WorkerProcess::start(&config);
    let mut events = runtime.block_on(broker.events(2, WAIT));
    rabbitmqctl("stop_app");
    std::thread::sleep(Duration::from_secs(2));
    rabbitmqctl("start_app");
    rabbitmqctl("await_startup");
    let done = |events: &[Value]| events_by_job(events).len();
    while done(&events) < files.len() {
        let more = runtime.block_on(broker.events(1, WAIT));
        assert!(
            !more.is_empty(),
            "jobs lost after the restart:\n{}",
            worker.log()
        );
        events.extend(more);
    }
    let log = stop(worker);
    assert!(log.contains("reconnecting"), "{log}");
    assert!(events.iter().all(|e| e["event"] != "failed"));
    assert_eq!(done(&events), files.len());
    assert_eq!(points(&broker, "acme"), files.len() as u64);
    assert_eq!(runtime.block_on(broker.depth(&broker.config.jobs_queue)), 0);
    runtime.block_on(broker.cleanup());
}

#[test]
fn sigterm_and_kill_mid_batch_lose_no_job() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("signals", &[300, 600], 5);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let files = write_variants(&broker.uploads(), 20);
    let bodies: Vec<Vec<u8>> = files
        .iter()
        .enumerate()
        .map(|(n, f)| file_job(&format!("signals-{n}"), "acme", f))
        .collect();
    runtime.block_on(broker.publish(&bodies));
    let config = broker.write_config("");

    // SIGTERM after the first results: in-flight jobs finish, exit 0.
    let first = WorkerProcess::start(&config);
    let mut events = runtime.block_on(broker.events(2, WAIT));
    let log = stop(first);
    assert!(log.contains("finishing in-flight jobs"), "{log}");
    events.extend(runtime.block_on(broker.events(usize::MAX, Duration::from_secs(1))));
    let after_sigterm = events_by_job(&events).len();
    assert!(
        after_sigterm < files.len(),
        "the batch was over before SIGTERM"
    );

    // kill -9 mid-batch: its unacked jobs go back to the queue.
    let second = WorkerProcess::start(&config);
    events.extend(runtime.block_on(broker.events(1, WAIT)));
    second.kill();

    // Another worker finishes everything.
    let third = WorkerProcess::start(&config);
    while events_by_job(&events).len() < files.len() {
        let more = runtime.block_on(broker.events(1, WAIT));
        assert!(!more.is_empty(), "jobs lost:\n{}", third.log());
        events.extend(more);
    }
    stop(third);
    assert!(events.iter().all(|e| e["event"] != "failed"));
    assert_eq!(points(&broker, "acme"), files.len() as u64);
    assert_eq!(runtime.block_on(broker.depth(&broker.config.jobs_queue)), 0);
    runtime.block_on(broker.cleanup());
}

#[test]
fn the_worker_consumes_over_amqps_with_a_private_ca() {
    let _shared = broker_lock().read().unwrap();
    let mut broker = TestBroker::new("tls", &[300], 3);
    let proxy = TlsProxy::start(broker.dir.path());
    broker.config.url = format!("amqps://guest:guest@127.0.0.1:{}/%2f", proxy.port);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let files = write_variants(&broker.uploads(), 2);
    let config = broker.write_config("");

    // The system's roots do not know the CA: refused, retried, and the
    // password never reaches the log.
    let untrusting = WorkerProcess::start(&config);
    untrusting.wait_for_log("reconnecting", WAIT);
    let log = untrusting.log();
    assert!(
        log.to_lowercase().contains("certificate") || log.contains("UnknownIssuer"),
        "{log}"
    );
    assert!(log.contains("amqps://guest:***@127.0.0.1"), "{log}");
    assert!(!log.contains("guest:guest"), "{log}");
    untrusting.kill();

    let ca = proxy.ca_file.display().to_string();
    let worker = WorkerProcess::start_with(&config, &[("IMGTAG__BROKER__CA_FILE", &ca)]);
    let bodies: Vec<Vec<u8>> = files
        .iter()
        .enumerate()
        .map(|(n, f)| file_job(&format!("tls-{n}"), "acme", f))
        .collect();
    runtime.block_on(broker.publish(&bodies));
    let events = runtime.block_on(broker.events(files.len(), WAIT));
    assert_eq!(events.len(), files.len(), "{}", worker.log());
    assert!(events.iter().all(|e| e["event"] != "failed"));
    stop(worker);
    assert_eq!(points(&broker, "acme"), files.len() as u64);
    runtime.block_on(broker.cleanup());
}
