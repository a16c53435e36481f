//! Three `imgtag worker` processes on one Qdrant server collection and one
//! object store, against the real RabbitMQ: the same bytes under several
//! job ids at the same moment (the duplicate race), the same job twice,
//! `imgtag reprocess --via-queue` and an erase while they run.
//!
//! Runs only when `QDRANT_URL` is set (no Qdrant server can be installed on
//! the development and CI machines); says it was skipped otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use imgtag_tests::broker::{TestBroker, WorkerProcess, broker_lock, write_variants};
use imgtag_tests::index_fixtures::async_runtime;
use imgtag_tests::{imgtag_bin, repo_root};
use imgtag_workers::index::{
    BackendKind, ImageFilter, ImageId, Index, IndexConfig, ServerConfig, StoredImage, TenantId,
};
use serde_json::{Value, json};

/// How long to wait for results (three workers share two cores).
const WAIT: Duration = Duration::from_secs(600);
/// Worker processes.
const WORKERS: usize = 3;
/// Distinct images (every sample photo, as is, flipped and rotated).
const IMAGES: usize = 20;
/// The first `RACED` images are published under `JOB_IDS_PER_RACE` job ids
/// each, one after the other, so that different workers take them at the
/// same moment; the others once, each twice under the same job id.
const RACED: usize = 10;
const JOB_IDS_PER_RACE: usize = 4;
/// The tenant (the collection is new for every run).
const TENANT: &str = "acme";

/// Says a test was skipped where the person running the tests sees it
/// (the same as the contract suite: libtest does not capture stderr
/// writes that bypass the print macros).
fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
}

fn file_job(job_id: &str, path: &Path) -> Vec<u8> {
    json!({
        "schema_version": 1,
        "job_id": job_id,
        "tenant_id": TENANT,
        "filename": path.file_name().unwrap().to_string_lossy(),
        "source": {"kind": "file", "uri": format!("file://{}", path.display())},
    })
    .to_string()
    .into_bytes()
}

/// `[index]` of the workers' config: the server backend on `collection`
/// (keys of `workers/src/index/config.rs`: `backend`, `[index.server]`
/// `url`, `collection`, `timeout_secs`; the API key comes from the
/// environment, never from the file).
fn server_section(url: &str, collection: &str) -> String {
    format!(
        "[index]\nbackend = \"server\"\n[index.server]\nurl = \"{url}\"\n\
         collection = \"{collection}\"\ntimeout_secs = 10\n"
    )
}

/// What the test process opens to look at the collection.
fn index_config(url: &str, collection: &str) -> IndexConfig {
    IndexConfig {
        backend: BackendKind::Server,
        server: ServerConfig {
            url: url.to_owned(),
            api_key: api_key(),
            collection: collection.to_owned(),
            ..ServerConfig::default()
        },
        ..IndexConfig::default()
    }
}

fn api_key() -> Option<String> {
    std::env::var("QDRANT_API_KEY")
        .ok()
        .filter(|k| !k.is_empty())
}

/// Environment of every imgtag process the test starts: the server's API
/// key when there is one; each worker takes one job ahead of its slots and
/// serves the tenant without a per-tenant share, so that consecutive
/// messages go to different workers.
fn process_env() -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("IMGTAG__WORKER__LOOKAHEAD", "1".to_owned()),
        ("IMGTAG__WORKER__TENANT_SHARE", "1.0".to_owned()),
    ];
    if let Some(key) = api_key() {
        env.push(("IMGTAG__INDEX__SERVER__API_KEY", key));
    }
    env
}

/// Every image of the tenant, by id.
async fn records(index: &Index) -> BTreeMap<ImageId, StoredImage> {
    let scope = index.tenant(TenantId::new(TENANT).unwrap());
    let mut found = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = scope
            .scroll(&ImageFilter::everything(), cursor, 100, false)
            .await
            .unwrap();
        for image in page.images {
            found.insert(image.record.image_id, image);
        }
        cursor = page.next;
        if cursor.is_none() {
            return found;
        }
    }
}

async fn points(index: &Index) -> u64 {
    index
        .tenant(TenantId::new(TENANT).unwrap())
        .count(&ImageFilter::everything())
        .await
        .unwrap()
}

/// Events until `want` arrived, then whatever follows within two seconds
/// (delivery is at least once: a repeated event has the same `event_id`).
fn take_events(
    runtime: &tokio::runtime::Runtime,
    broker: &TestBroker,
    want: usize,
    logs: &dyn Fn() -> String,
) -> Vec<Value> {
    let mut events = runtime.block_on(broker.events(want, WAIT));
    assert!(
        events.len() >= want,
        "{} of {want} events:\n{}",
        events.len(),
        logs()
    );
    events.extend(runtime.block_on(broker.events(usize::MAX, Duration::from_secs(2))));
    events
}

/// Events by `event_id` (what consumers deduplicate on).
fn distinct(events: &[Value]) -> BTreeMap<String, Value> {
    events
        .iter()
        .map(|e| (e["event_id"].as_str().unwrap().to_owned(), e.clone()))
        .collect()
}

/// Whether an event reports that another job stored the same bytes.
fn same_bytes(event: &Value) -> bool {
    event["duplicates"]
        .as_array()
        .is_some_and(|d| d.iter().any(|d| d["kind"] == "same_bytes"))
}

/// The event of a job that wrote the image: `processed`, or `duplicate`
/// only for near duplicates among the other photos.
fn assert_wrote(event: &Value) {
    assert!(!same_bytes(event), "{event}");
    let near_only = event["duplicates"]
        .as_array()
        .is_some_and(|d| !d.is_empty() && d.iter().all(|d| d["kind"] == "near"));
    assert!(
        event["event"] == "processed" || (event["event"] == "duplicate" && near_only),
        "{event}"
    );
    assert_eq!(event["indexed"], true, "{event}");
}

/// The files under `{objects}/{tenant}/{image}`.
fn objects_of(objects: &Path, image: ImageId) -> Vec<PathBuf> {
    let dir = objects.join(TENANT).join(image.to_string());
    match fs_err::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Erases one image with `imgtag erase` (its point, then every object
/// under its key prefix: renditions, original, the claim on its bytes)
/// while the workers run.
fn erase(config: &Path, env: &[(&str, &str)], image: ImageId) {
    let output = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .arg("--config")
        .arg(config)
        .args(["erase", "--tenant", TENANT, &image.to_string(), "--json"])
        .env_remove("IMGTAG_CONFIG")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["images"][0]["point"], true, "{report}");
}

#[test]
fn three_workers_share_one_server_collection() {
    let Some(url) = std::env::var("QDRANT_URL").ok().filter(|u| !u.is_empty()) else {
        skipped("multi-worker test (set QDRANT_URL=http://host:6334 to run it)");
        return;
    };
    let _shared = broker_lock().read().unwrap();
    // Long retries: a job that finds its bytes claimed by a job still
    // running comes back later, and must not run out of attempts first.
    let broker = TestBroker::new("multi", &[1000, 3000, 10_000], 10);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let collection = format!("imgtag_multi_{}_{nanos}", std::process::id());
    let config = broker.write_config(&server_section(&url, &collection));
    let objects = broker.objects_dir();

    // The jobs: for image i < RACED, JOB_IDS_PER_RACE copies of its bytes
    // under as many job ids, back to back (and the first of them twice);
    // every other image once, under one job id published twice.
    let files = write_variants(&broker.uploads(), IMAGES);
    assert_eq!(files.len(), IMAGES);
    let mut bodies = Vec::new();
    let mut group_of_job: BTreeMap<String, usize> = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        if i < RACED {
            for k in 0..JOB_IDS_PER_RACE {
                let copy = if k == 0 {
                    file.clone()
                } else {
                    let copy = file.with_file_name(format!(
                        "{}-copy{k}.png",
                        file.file_stem().unwrap().to_string_lossy()
                    ));
                    fs_err::copy(file, &copy).unwrap();
                    copy
                };
                let job_id = format!("multi-{i}-{k}");
                bodies.push(file_job(&job_id, &copy));
                group_of_job.insert(job_id, i);
            }
            // The same job again (a redelivery), right behind the others.
            bodies.push(file_job(&format!("multi-{i}-0"), file));
        } else {
            let job_id = format!("multi-{i}");
            bodies.push(file_job(&job_id, file));
            bodies.push(file_job(&job_id, file));
            group_of_job.insert(job_id, i);
        }
    }
    assert!(bodies.len() >= 60, "{}", bodies.len());

    // Three workers open the new collection at the same moment (the first
    // opens race to create it), then consume.
    let env = process_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let workers: Vec<WorkerProcess> = (0..WORKERS)
        .map(|_| WorkerProcess::start_with(&config, &env))
        .collect();
    for worker in &workers {
        worker.wait_for_log("consuming", WAIT);
    }
    let logs = || {
        workers
            .iter()
            .enumerate()
            .map(|(n, w)| format!("--- worker {n}\n{}", w.log()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let index = runtime
        .block_on(Index::open(&index_config(&url, &collection)))
        .unwrap_or_else(|e| panic!("{e}"));

    runtime.block_on(broker.publish(&bodies));
    let events = take_events(&runtime, &broker, bodies.len(), &logs);
    assert!(
        events.iter().all(|e| e["event"] != "failed"),
        "{:#?}\n{}",
        events
            .iter()
            .filter(|e| e["event"] == "failed")
            .collect::<Vec<_>>(),
        logs()
    );
    let events = distinct(&events);
    assert!(
        events
            .values()
            .all(|e| group_of_job.contains_key(e["job_id"].as_str().unwrap())),
        "{events:#?}"
    );

    // Per group of the same bytes: one image id, exactly one job wrote it,
    // every other job reported the same bytes as a duplicate.
    let mut image_of_group: BTreeMap<usize, ImageId> = BTreeMap::new();
    let mut writer_of_group: BTreeMap<usize, String> = BTreeMap::new();
    let mut jobs_seen = BTreeSet::new();
    for group in 0..IMAGES {
        let group_events: Vec<&Value> = events
            .values()
            .filter(|e| group_of_job.get(e["job_id"].as_str().unwrap()) == Some(&group))
            .collect();
        let ids: BTreeSet<&str> = group_events
            .iter()
            .map(|e| e["image_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 1, "group {group}: {group_events:#?}");
        let image: ImageId = ids.first().unwrap().parse().unwrap();
        image_of_group.insert(group, image);
        // By job id: a repeated job may be answered twice (the same event,
        // or a `duplicate` of near copies written in between).
        let (writers, duplicates): (Vec<&Value>, Vec<&Value>) =
            group_events.iter().partition(|e| !same_bytes(e));
        let writer_jobs: BTreeSet<&str> = writers
            .iter()
            .map(|e| e["job_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            writer_jobs.len(),
            1,
            "group {group}: exactly one job writes the same bytes: {writers:#?}"
        );
        writers.iter().copied().for_each(assert_wrote);
        writer_of_group.insert(group, writer_jobs.first().unwrap().to_string());
        for duplicate in &duplicates {
            assert_eq!(duplicate["event"], "duplicate", "{duplicate}");
            assert_eq!(duplicate["indexed"], true, "{duplicate}");
            assert!(
                duplicate["duplicates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d["kind"] == "same_bytes" && d["image_id"] == image.to_string()),
                "{duplicate}"
            );
        }
        let duplicate_jobs: BTreeSet<&str> = duplicates
            .iter()
            .map(|e| e["job_id"].as_str().unwrap())
            .collect();
        // Every job of the group was answered: the writer, and each other
        // job id as a duplicate of it.
        let expected_jobs: BTreeSet<&str> = group_of_job
            .iter()
            .filter(|(_, g)| **g == group)
            .map(|(job, _)| job.as_str())
            .collect();
        assert!(
            writer_jobs.is_disjoint(&duplicate_jobs),
            "group {group}: {group_events:#?}"
        );
        assert_eq!(
            writer_jobs
                .union(&duplicate_jobs)
                .copied()
                .collect::<BTreeSet<_>>(),
            expected_jobs,
            "group {group}"
        );
        jobs_seen.extend(expected_jobs.into_iter().map(str::to_owned));
    }
    assert_eq!(jobs_seen.len(), group_of_job.len());
    let images: BTreeSet<ImageId> = image_of_group.values().copied().collect();
    assert_eq!(images.len(), IMAGES, "distinct bytes, distinct images");

    // One point per distinct image, written by the group's writer; its
    // objects in the shared store, and nothing else there.
    let before = runtime.block_on(records(&index));
    assert_eq!(runtime.block_on(points(&index)), IMAGES as u64);
    assert_eq!(before.keys().copied().collect::<BTreeSet<_>>(), images);
    for (group, image) in &image_of_group {
        assert_eq!(
            before[image].record.job_id.as_deref(),
            Some(writer_of_group[group].as_str()),
            "group {group}"
        );
        for rendition in before[image].record.renditions.values() {
            assert!(objects.join(&rendition.uri).is_file(), "{}", rendition.uri);
        }
    }
    let stored: BTreeSet<String> = fs_err::read_dir(objects.join(TENANT))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        stored,
        images
            .iter()
            .map(ImageId::to_string)
            .collect::<BTreeSet<_>>()
    );

    // Reprocessing through the queue while the workers run: every image
    // re-run once from its stored original, no new point.
    let output = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .arg("--config")
        .arg(&config)
        .args(["reprocess", "--tenant", TENANT, "--via-queue", "--json"])
        .env_remove("IMGTAG_CONFIG")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["done"], IMAGES as u64, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["via_queue"], true, "{report}");
    let rerun = distinct(&take_events(&runtime, &broker, IMAGES, &logs));
    assert!(
        rerun.values().all(|e| e["event"] != "failed"),
        "{rerun:#?}\n{}",
        logs()
    );
    assert!(
        rerun
            .values()
            .all(|e| e["job_id"].as_str().unwrap().starts_with("reprocess.")),
        "{rerun:#?}"
    );
    rerun.values().for_each(assert_wrote);
    let rerun_images: BTreeSet<ImageId> = rerun
        .values()
        .map(|e| e["image_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(rerun_images, images);
    assert_eq!(rerun.len(), IMAGES, "{rerun:#?}");
    let after = runtime.block_on(records(&index));
    assert_eq!(runtime.block_on(points(&index)), IMAGES as u64);
    assert_eq!(after.keys().copied().collect::<BTreeSet<_>>(), images);
    for (image, record) in &after {
        let old = &before[image].record;
        assert_ne!(
            record.record.updated_at, old.updated_at,
            "{image} rewritten"
        );
        assert_eq!(record.record.ingested_at, old.ingested_at, "{image}");
        assert_eq!(record.record.job_id, old.job_id, "{image}");
    }

    // An erase while the workers run: the point and every object go, and
    // stay gone; the same bytes uploaded again are a new image, not a
    // duplicate of the erased one (no claim left behind).
    let erased = image_of_group[&0];
    assert!(!objects_of(&objects, erased).is_empty());
    erase(&config, &env, erased);
    let scope = index.tenant(TenantId::new(TENANT).unwrap());
    let gone = |step: &str| {
        assert_eq!(
            runtime
                .block_on(scope.get(erased, false))
                .unwrap_err()
                .code(),
            "index.not_found",
            "{step}"
        );
        assert_eq!(
            runtime.block_on(points(&index)),
            IMAGES as u64 - 1,
            "{step}"
        );
        assert!(
            objects_of(&objects, erased).is_empty(),
            "{step}: {:?}",
            objects_of(&objects, erased)
        );
    };
    gone("just erased");
    std::thread::sleep(Duration::from_secs(3));
    gone("three seconds later");
    runtime.block_on(broker.publish(&[file_job("multi-after-erase", &files[0])]));
    let again: Vec<Value> = distinct(&take_events(&runtime, &broker, 1, &logs))
        .into_values()
        .collect();
    assert_eq!(again.len(), 1, "{again:#?}");
    assert_eq!(again[0]["job_id"], "multi-after-erase");
    assert_eq!(again[0]["image_id"], erased.to_string());
    assert_wrote(&again[0]);
    assert_eq!(runtime.block_on(points(&index)), IMAGES as u64);
    assert!(!objects_of(&objects, erased).is_empty());

    // The workers stop cleanly; nothing was dead-lettered or left queued.
    for worker in workers {
        worker.terminate();
        let (status, log) = worker.wait(Duration::from_secs(120));
        assert_eq!(status.code(), Some(0), "{log}");
    }
    assert_eq!(
        runtime.block_on(broker.depth(&broker.config.dead_letter_queue)),
        0
    );
    assert_eq!(runtime.block_on(broker.depth(&broker.config.jobs_queue)), 0);
    runtime.block_on(broker.cleanup());
}
