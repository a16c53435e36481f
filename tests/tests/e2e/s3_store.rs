//! The object store on S3, end to end: the real `imgtag` binary (ingest,
//! reprocess, a worker reading a job's `object` source) and the library
//! (erasure, claims) against an S3-compatible server on 127.0.0.1.
//!
//! The server is moto's S3 through `scripts/s3-server` (installed by
//! `scripts/setup` into `.imgtag/venv-s3`): every request must carry a valid
//! SigV4 signature of the key it prints, and conditional writes
//! (`If-None-Match: *`) are atomic. `docs/JOBS.md` ("S3 and S3-compatible
//! stores") says what this proves and what it does not.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use imgtag_tests::broker::{TestBroker, WorkerProcess, broker_lock};
use imgtag_tests::index_fixtures::async_runtime;
use imgtag_tests::{SAMPLES, imgtag_bin, install_dir, repo_root, sample};
use imgtag_workers::index::{ImageId, TenantId};
use imgtag_workers::store::{Claim, ObjectStorage, StoreConfig};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use serde_json::{Value, json};

const BUCKET: &str = "imgtag-e2e";
/// The key prefix of the store inside the bucket (`s3://BUCKET/PREFIX`).
const PREFIX: &str = "objects";

/// One S3 server process, stopped when dropped.
struct S3Server {
    child: Child,
    /// Closing it stops the server too (`--exit-on-stdin-eof`), should this
    /// process die without dropping it.
    _stdin: ChildStdin,
    endpoint: String,
    access_key_id: String,
    secret_access_key: String,
    /// The server's log (one line per request).
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl S3Server {
    /// Starts `scripts/s3-server` on a free port with `BUCKET`, serving
    /// HTTPS with `tls` (certificate and key PEM files) if given.
    fn start(tls: Option<(&Path, &Path)>) -> Self {
        let python = install_dir().join("venv-s3/bin/python");
        assert!(
            python.is_file(),
            "{} is missing: run scripts/setup (it installs moto, the S3 test server, \
             from scripts/requirements-s3.txt)",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("s3-server.log");
        let mut command = Command::new(repo_root().join("scripts/s3-server"));
        command.args(["--bucket", BUCKET, "--exit-on-stdin-eof"]);
        if let Some((cert, key)) = tls {
            command
                .arg("--tls-cert")
                .arg(cert)
                .arg("--tls-key")
                .arg(key);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_default();
        let Ok(info) = serde_json::from_str::<Value>(&line) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "scripts/s3-server did not start (first line {line:?}):\n{}",
                fs_err::read_to_string(&log).unwrap_or_default()
            );
        };
        let text = |name: &str| info[name].as_str().unwrap().to_owned();
        Self {
            child,
            _stdin: stdin,
            endpoint: text("endpoint"),
            access_key_id: text("access_key_id"),
            secret_access_key: text("secret_access_key"),
            log,
            _dir: dir,
        }
    }

    /// The credentials, as the AWS tools read them from the environment.
    fn aws_env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID".into(), self.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                self.secret_access_key.clone(),
            ),
        ]
    }

    /// `[store]` of the bucket under `prefix` ("" for the bucket's root)
    /// through this server.
    fn config(&self, prefix: &str) -> StoreConfig {
        StoreConfig {
            url: format!("s3://{BUCKET}/{prefix}"),
            endpoint: Some(self.endpoint.clone()),
            allow_http: self.endpoint.starts_with("http://"),
            ..StoreConfig::default()
        }
    }

    /// The store at the bucket's root: keys as they are in the bucket.
    fn bucket(&self) -> ObjectStorage {
        ObjectStorage::open_with_env(&self.config(""), self.aws_env()).unwrap()
    }

    /// The store as imgtag sees it (under `PREFIX`).
    fn store(&self) -> ObjectStorage {
        ObjectStorage::open_with_env(&self.config(PREFIX), self.aws_env()).unwrap()
    }

    /// The environment that points a real `imgtag` at this bucket.
    fn imgtag_env(&self) -> Vec<(String, String)> {
        let mut env = self.aws_env();
        env.extend([
            (
                "IMGTAG__STORE__URL".into(),
                format!("s3://{BUCKET}/{PREFIX}"),
            ),
            ("IMGTAG__STORE__ENDPOINT".into(), self.endpoint.clone()),
            ("IMGTAG__STORE__ALLOW_HTTP".into(), "true".into()),
        ]);
        env
    }

    fn log(&self) -> String {
        fs_err::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `imgtag ARGS` like `imgtag_tests::imgtag_in` (scratch index in
/// `work`), on the S3 store of `server`, with no other `AWS_*` variable of
/// this process.
fn imgtag_s3(server: &S3Server, work: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(imgtag_bin());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
        .current_dir(repo_root())
        .args(args)
        .env_remove("IMGTAG_CONFIG")
        .env_remove("IMGTAG_API_KEY")
        .env("IMGTAG__INDEX__EDGE__DIR", work.join("index"))
        .env(
            "IMGTAG__ANALYZERS__SEMANTIC__CONSE__CACHE_DIR",
            install_dir().join("cache").join("tests"),
        )
        .envs(server.imgtag_env())
        .output()
        .unwrap()
}

/// The claims among `keys` (`.../claim.json`, written by the job that
/// stored an image), and the other keys.
fn split_claims(keys: Vec<String>) -> (Vec<String>, Vec<String>) {
    keys.into_iter()
        .partition(|key| key.ends_with("/claim.json"))
}

/// The job id in the claim at `key`.
fn claim_job(runtime: &tokio::runtime::Runtime, store: &ObjectStorage, key: &str) -> String {
    let body = runtime.block_on(store.get(key, 4096)).unwrap();
    let claim: Value = serde_json::from_slice(&body).unwrap();
    claim["job_id"].as_str().unwrap().to_owned()
}

fn json_lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn ingest_reprocess_and_erase_on_an_s3_bucket() {
    let server = S3Server::start(None);
    let runtime = async_runtime();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let samples = install_dir().join("samples");

    let events = json_lines(&imgtag_s3(
        &server,
        work,
        &[
            "ingest",
            samples.to_str().unwrap(),
            "--tenant",
            "demo",
            "--json",
        ],
    ));
    assert_eq!(events.len(), SAMPLES.len());
    assert!(
        !work.join("objects").exists(),
        "objects were written locally"
    );

    // Every rendition and original is in the bucket under the documented
    // key, with the size the event gives; the originals are the files'
    // bytes; nothing else was written but the images' claims.
    let bucket = server.bucket();
    let mut expected = BTreeSet::new();
    let mut claims = BTreeSet::new();
    for event in &events {
        assert_eq!(event["event"], "processed", "{event}");
        let image_id = event["image_id"].as_str().unwrap();
        let renditions = event["renditions"].as_object().unwrap();
        for name in ["thumb", "preview", "original"] {
            assert!(renditions.contains_key(name), "{event}");
        }
        for (name, rendition) in renditions {
            let uri = rendition["uri"].as_str().unwrap();
            let extension = match name.as_str() {
                "original" => rendition["format"].as_str().unwrap().to_owned(),
                _ => "webp".to_owned(),
            };
            assert_eq!(uri, format!("demo/{image_id}/{name}.{extension}"));
            let key = format!("{PREFIX}/{uri}");
            let bytes = runtime.block_on(bucket.get(&key, 1 << 30)).unwrap();
            assert_eq!(bytes.len() as u64, rendition["bytes"].as_u64().unwrap());
            if name == "original" {
                let file = sample(event["filename"].as_str().unwrap());
                assert_eq!(bytes, fs_err::read(file).unwrap());
            }
            expected.insert(key);
        }
        claims.insert((
            format!("{PREFIX}/demo/{image_id}/claim.json"),
            event["job_id"].as_str().unwrap().to_owned(),
        ));
    }
    let (listed_claims, listed) = split_claims(runtime.block_on(bucket.list(PREFIX)).unwrap());
    assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), expected);
    for key in listed_claims {
        let job = claim_job(&runtime, &bucket, &key);
        assert!(claims.contains(&(key.clone(), job.clone())), "{key}: {job}");
    }

    // Reprocess re-runs every image from its original in the bucket: a
    // rendition deleted meanwhile is written again; an image whose original
    // is gone fails with source.not_found.
    let store = server.store();
    let first = &events[0];
    let thumb = first["renditions"]["thumb"]["uri"].as_str().unwrap();
    let thumb_bytes = runtime.block_on(store.get(thumb, 1 << 30)).unwrap();
    runtime
        .block_on(store.put(thumb, Bytes::from_static(b"stale")))
        .unwrap();
    let lost = &events[1];
    let lost_original = lost["renditions"]["original"]["uri"].as_str().unwrap();
    runtime.block_on(store.delete(lost_original)).unwrap();
    assert!(runtime.block_on(store.get(lost_original, 1 << 30)).is_err());
    let output = imgtag_s3(&server, work, &["reprocess", "--tenant", "demo", "--json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "reprocess printed no JSON:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(report["done"], SAMPLES.len() as u64 - 1, "{report}");
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(
        report["failures"],
        json!([[lost["image_id"], "source.not_found"]]),
        "{report}"
    );
    let rewritten = runtime.block_on(store.get(thumb, 1 << 30)).unwrap();
    assert_eq!(rewritten, thumb_bytes, "the thumbnail was not re-rendered");

    // Erasing an image deletes its objects and its claim, and only its.
    let tenant = TenantId::new("demo").unwrap();
    let doomed: ImageId = serde_json::from_value(first["image_id"].clone()).unwrap();
    let doomed_job = first["job_id"].as_str().unwrap();
    runtime.block_on(async {
        // The claim of the job that stored it (made now if ingest made none).
        let claim = store.claim(&tenant, doomed, doomed_job).await.unwrap();
        assert!(matches!(claim, Claim::Won | Claim::Ours), "{claim:?}");
        let before = store.list(&format!("demo/{doomed}")).await.unwrap();
        assert_eq!(before.len(), 4, "{before:?}");
        assert_eq!(store.delete_image(&tenant, doomed).await.unwrap(), 4);
        assert!(
            bucket
                .list(&format!("{PREFIX}/demo/{doomed}"))
                .await
                .unwrap()
                .is_empty()
        );
        let (_, left) = split_claims(bucket.list(PREFIX).await.unwrap());
        // Five images of three objects each, less the erased one, less the
        // original deleted above.
        assert_eq!(left.len(), 3 * SAMPLES.len() - 3 - 1, "{left:?}");
    });
}

#[test]
fn a_worker_reads_object_jobs_from_the_inbox_in_the_bucket() {
    let _shared = broker_lock().read().unwrap();
    let server = S3Server::start(None);
    let broker = TestBroker::new("s3-inbox", &[300], 2);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let store = server.store();
    let tenant = TenantId::new("acme").unwrap();
    let inbox_key = store.inbox_key(&tenant, "2024/05/17/coffee.png");
    assert_eq!(inbox_key, "inbox/acme/2024/05/17/coffee.png");
    let coffee = fs_err::read(sample("coffee.png")).unwrap();
    runtime
        .block_on(store.put(&inbox_key, Bytes::from(coffee.clone())))
        .unwrap();
    let job = |job_id: &str, key: &str| {
        json!({
            "schema_version": 1,
            "job_id": job_id,
            "tenant_id": "acme",
            "source": {"kind": "object", "key": key},
        })
        .to_string()
        .into_bytes()
    };
    runtime.block_on(broker.publish(&[
        job("s3-present", "2024/05/17/coffee.png"),
        job("s3-absent", "2024/05/17/absent.png"),
    ]));
    let config = broker.write_config("");
    let env = server.imgtag_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let worker = WorkerProcess::start_with(&config, &env);
    let events = runtime.block_on(broker.events(2, Duration::from_secs(180)));
    worker.terminate();
    let (status, log) = worker.wait(Duration::from_secs(90));
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(events.len(), 2, "{events:?}\n{log}");
    let by_job = |id: &str| {
        events
            .iter()
            .find(|e| e["job_id"] == id)
            .unwrap_or_else(|| panic!("no event of {id}: {events:?}"))
    };

    let present = by_job("s3-present");
    assert_eq!(present["event"], "processed", "{present}\n{log}");
    let image_id = present["image_id"].as_str().unwrap();
    let bucket = server.bucket();
    let (claims, keys) = split_claims(
        runtime
            .block_on(bucket.list(&format!("{PREFIX}/acme/{image_id}")))
            .unwrap(),
    );
    for claim in &claims {
        assert_eq!(claim_job(&runtime, &bucket, claim), "s3-present");
    }
    assert_eq!(
        keys,
        vec![
            format!("{PREFIX}/acme/{image_id}/original.png"),
            format!("{PREFIX}/acme/{image_id}/preview.webp"),
            format!("{PREFIX}/acme/{image_id}/thumb.webp"),
        ]
    );
    let original = runtime.block_on(bucket.get(&keys[0], 1 << 30)).unwrap();
    assert_eq!(original, coffee);
    // The inbox object stays where it was.
    assert!(runtime.block_on(store.get(&inbox_key, 1 << 30)).is_ok());

    let absent = by_job("s3-absent");
    assert_eq!(absent["event"], "failed", "{absent}");
    assert_eq!(absent["error"]["code"], "source.not_found", "{absent}");
    assert!(
        absent["error"]["message"]
            .as_str()
            .unwrap()
            .contains("inbox/acme/2024/05/17/absent.png"),
        "{absent}"
    );
    // The worker signed every request: the server logged them, and no 403.
    let requests = server.log();
    assert!(
        requests.contains("PUT /imgtag-e2e/objects/acme/"),
        "{requests}"
    );
    assert!(!requests.contains("\" 403 "), "{requests}");
    runtime.block_on(broker.cleanup());
}

/// A throwaway CA and a certificate for 127.0.0.1 signed by it, written
/// under `dir`: (CA file, certificate, key).
fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "imgtag S3 test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf_params
        .extended_key_usages
        .push(ExtendedKeyUsagePurpose::ServerAuth);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server-key.pem"),
    );
    fs_err::write(&paths.0, ca.pem()).unwrap();
    fs_err::write(&paths.1, leaf.pem()).unwrap();
    fs_err::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    paths
}

#[test]
fn claims_on_s3_over_https_are_won_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_files(dir.path());
    let server = S3Server::start(Some((&cert, &key)));
    assert!(
        server.endpoint.starts_with("https://"),
        "{}",
        server.endpoint
    );
    let mut config = server.config(PREFIX);
    config.ca_file = Some(ca);
    let store = ObjectStorage::open_with_env(&config, server.aws_env()).unwrap();
    let tenant = TenantId::new("acme").unwrap();
    let image = |n: u32| ImageId::derive(&tenant, &format!("{n:064x}")).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();

    runtime.block_on(async {
        // Sixteen workers race for each of eight images.
        for round in 0..8 {
            let image = image(round);
            let barrier = Arc::new(tokio::sync::Barrier::new(16));
            let tasks: Vec<_> = (0..16)
                .map(|n| {
                    let (store, barrier, tenant) =
                        (store.clone(), Arc::clone(&barrier), tenant.clone());
                    tokio::spawn(async move {
                        let job = format!("job-{round}-{n}");
                        barrier.wait().await;
                        let claim = store.claim(&tenant, image, &job).await.unwrap();
                        (job, claim)
                    })
                })
                .collect();
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(task.await.unwrap());
            }
            let winners: Vec<&str> = outcomes
                .iter()
                .filter(|(_, claim)| *claim == Claim::Won)
                .map(|(job, _)| job.as_str())
                .collect();
            assert_eq!(winners.len(), 1, "{outcomes:?}");
            for (_, claim) in &outcomes {
                if let Claim::Held { job_id, .. } = claim {
                    assert_eq!(job_id, winners[0], "{outcomes:?}");
                } else {
                    assert_eq!(*claim, Claim::Won, "{outcomes:?}");
                }
            }
            // The winner's redelivery finds its own claim.
            assert_eq!(
                store.claim(&tenant, image, winners[0]).await.unwrap(),
                Claim::Ours
            );
        }
        let claimed = store.list("acme").await.unwrap();
        assert_eq!(claimed.len(), 8, "{claimed:?}");
        assert!(
            claimed.iter().all(|k| k.ends_with("/claim.json")),
            "{claimed:?}"
        );

        // Released, the claim can be won again; releasing twice is fine.
        store.release_claim(&tenant, image(0)).await.unwrap();
        store.release_claim(&tenant, image(0)).await.unwrap();
        assert_eq!(
            store.claim(&tenant, image(0), "job-later").await.unwrap(),
            Claim::Won
        );
    });

    // The server checks the signatures: a wrong secret is refused.
    let mut wrong = server.aws_env();
    wrong[1].1 = "not-the-secret".into();
    let unsigned = ObjectStorage::open_with_env(&config, wrong).unwrap();
    let error = runtime
        .block_on(unsigned.put("acme/x/thumb.webp", Bytes::from_static(b"x")))
        .unwrap_err();
    assert!(
        error.to_string().contains("403") || error.to_string().contains("Signature"),
        "{error}"
    );
    assert!(runtime.block_on(store.list("acme/x")).unwrap().is_empty());
}
