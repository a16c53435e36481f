//! Durability and exclusivity of the embedded store, across processes:
//! - an acknowledged write survives `kill -9` of the writer;
//! - a second process opening the same data directory gets `index.locked`
//!   naming the holder, and gets the store once the holder is gone.
//!
//! The child processes are this test binary itself, re-run on the ignored
//! test `child_process` with `IMGTAG_TEST_INDEX_CHILD` saying what to do.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use imgtag_tests::index_fixtures::{async_runtime, index_config, new_image};
use imgtag_workers::index::{ImageFilter, Index, TenantId};

const CHILD_ENV: &str = "IMGTAG_TEST_INDEX_CHILD";
const BATCH: u64 = 5;

fn tenant() -> TenantId {
    TenantId::new("durable").unwrap()
}

#[test]
#[ignore = "child process of the kill -9 and lock tests, which run it themselves"]
fn child_process() {
    let spec = std::env::var(CHILD_ENV).expect("run by index_durability tests only");
    let (action, dir) = spec.split_once(':').expect("action:dir");
    async_runtime().block_on(async {
        let index = Index::open(&index_config(Path::new(dir))).await.unwrap();
        // libtest may print "test ... " before it on the same line.
        println!("OPEN");
        match action {
            "write" => {
                let scope = index.tenant(tenant());
                for batch in 0.. {
                    let images = (batch * BATCH..(batch + 1) * BATCH)
                        .map(|n| new_image(&tenant(), n))
                        .collect();
                    scope.upsert(images).await.unwrap();
                    println!("ACK {batch}");
                }
            }
            "hold" => tokio::time::sleep(std::time::Duration::from_secs(120)).await,
            other => panic!("unknown child action {other}"),
        }
    });
}

fn spawn_child(action: &str, dir: &Path) -> (Child, impl Iterator<Item = String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "index_durability::child_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{action}:{}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    (child, lines)
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut lines) = spawn_child("write", dir.path());
    let mut acknowledged = None;
    for line in lines.by_ref() {
        if let Some(batch) = line.strip_prefix("ACK ") {
            let batch: u64 = batch.trim().parse().unwrap();
            acknowledged = Some(batch);
            if batch >= 30 {
                break;
            }
        }
    }
    // SIGKILL right after an acknowledged write, while the next is running.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer was killed, not finished");
    let acknowledged = acknowledged.expect("the child acknowledged writes") + 1;

    async_runtime().block_on(async {
        let index = Index::open(&index_config(dir.path())).await.unwrap();
        let scope = index.tenant(tenant());
        let everything = ImageFilter::everything();
        let count = scope.count(&everything).await.unwrap();
        assert!(
            count >= acknowledged * BATCH,
            "{count} points after kill -9, {} acknowledged",
            acknowledged * BATCH
        );
        for n in 0..acknowledged * BATCH {
            let expected = new_image(&tenant(), n);
            let stored = scope.get(expected.image_id().unwrap(), true).await.unwrap();
            assert_eq!(stored.record.sha256, expected.sha256);
            assert_eq!(stored.vectors.unwrap().image, expected.vectors.image);
        }
    });
}

#[test]
fn a_second_process_is_refused_with_the_holder_named() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut lines) = spawn_child("hold", dir.path());
    assert!(
        lines.any(|line| line.ends_with("OPEN")),
        "the child opened the store"
    );
    async_runtime().block_on(async {
        let error = Index::open(&index_config(dir.path())).await.unwrap_err();
        assert_eq!(error.code(), "index.locked");
        let message = error.to_string();
        assert!(
            message.contains(&format!("pid {}", child.id())),
            "{message}"
        );
        assert!(message.contains("--server URL"), "{message}");
    });
    child.kill().unwrap();
    child.wait().unwrap();
    async_runtime().block_on(async {
        let index = Index::open(&index_config(dir.path())).await.unwrap();
        assert_eq!(index.info().await.unwrap().points, 0);
    });
}
