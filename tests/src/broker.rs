//! RabbitMQ fixtures: unique names per test (so tests run side by side),
//! a config file for a worker process, a capture queue on the results
//! exchange, worker processes whose logs are kept, and the broker's own
//! stop/start for restart tests.
//!
//! Tests that restart the broker take [`broker_lock`] for writing; every
//! other broker test holds it for reading, so a restart never cuts another
//! test's connections.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use imgtag_workers::broker::{BrokerConfig, Lane, Publisher, topology};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use serde_json::Value;

use crate::{imgtag_bin, install_dir, repo_root};

/// The broker every test uses.
pub const BROKER_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Held for reading by broker tests, for writing by restart tests.
pub fn broker_lock() -> &'static RwLock<()> {
    static LOCK: RwLock<()> = RwLock::new(());
    &LOCK
}

/// One test's topology names and scratch directory.
pub struct TestBroker {
    /// Name prefix, unique per test run.
    pub prefix: String,
    /// Scratch directory (index, objects, uploads, config).
    pub dir: tempfile::TempDir,
    /// The `[broker]` section the worker gets.
    pub config: BrokerConfig,
}

impl TestBroker {
    /// Unique names for `test`, retry delays `retry_delays_ms`, at most
    /// `max_attempts` deliveries.
    pub fn new(test: &str, retry_delays_ms: &[u64], max_attempts: u32) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let prefix = format!("imgtag-test.{test}.{}.{nanos}", std::process::id());
        let config = BrokerConfig {
            url: BROKER_URL.into(),
            jobs_queue: format!("{prefix}.jobs"),
            bulk_queue: format!("{prefix}.bulk"),
            batch_queue: format!("{prefix}.batch"),
            dead_letter_queue: format!("{prefix}.dead"),
            retry_queue_prefix: format!("{prefix}.retry"),
            results_exchange: format!("{prefix}.results"),
            retry_delays_ms: retry_delays_ms.to_vec(),
            max_attempts,
            reconnect_max_backoff_ms: 1000,
            ..BrokerConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("uploads")).unwrap();
        Self {
            prefix,
            dir,
            config,
        }
    }

    /// Where test images go (an allowed root of the worker).
    pub fn uploads(&self) -> PathBuf {
        self.dir.path().join("uploads")
    }

    /// The worker's index directory.
    pub fn index_dir(&self) -> PathBuf {
        self.dir.path().join("index")
    }

    /// The worker's object store directory.
    pub fn objects_dir(&self) -> PathBuf {
        self.dir.path().join("objects")
    }

    /// Writes the worker's config file (`extra` is appended) and returns
    /// its path.
    pub fn write_config(&self, extra: &str) -> PathBuf {
        let c = &self.config;
        let delays: Vec<String> = c.retry_delays_ms.iter().map(u64::to_string).collect();
        let text = format!(
            r#"
[index.edge]
dir = "{index}"
[store]
url = "{objects}"
[sources]
allowed_roots = ["{uploads}"]
[analyzers.semantic.conse]
cache_dir = "{cache}"
[broker]
url = "{url}"
jobs_queue = "{jobs}"
bulk_queue = "{bulk}"
batch_queue = "{batch}"
dead_letter_queue = "{dead}"
retry_queue_prefix = "{retry}"
results_exchange = "{results}"
retry_delays_ms = [{delays}]
max_attempts = {attempts}
reconnect_max_backoff_ms = 1000
[worker]
concurrency = 4
shutdown_grace_secs = 60
{extra}
"#,
            index = self.index_dir().display(),
            objects = self.objects_dir().display(),
            uploads = self.uploads().display(),
            cache = install_dir().join("cache").join("tests").display(),
            url = c.url,
            jobs = c.jobs_queue,
            bulk = c.bulk_queue,
            batch = c.batch_queue,
            dead = c.dead_letter_queue,
            retry = c.retry_queue_prefix,
            results = c.results_exchange,
            delays = delays.join(", "),
            attempts = c.max_attempts,
        );
        let path = self.dir.path().join("imgtag.toml");
        fs_err::write(&path, text).unwrap();
        path
    }

    /// The capture queue bound to every result event.
    pub fn capture_queue(&self) -> String {
        format!("{}.capture", self.prefix)
    }

    /// Declares the topology and the capture queue.
    pub async fn declare(&self) {
        let connection = connect().await;
        let publisher = Publisher::open(&connection, &self.config).await.unwrap();
        topology::declare(publisher.channel(), &self.config)
            .await
            .unwrap();
        let channel = publisher.channel();
        channel
            .queue_declare(
                self.capture_queue().as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                self.capture_queue().as_str().into(),
                self.config.results_exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let _ = connection.close(200, "declared".into()).await;
    }

    /// Publishes raw job bodies to the live jobs queue, confirmed.
    pub async fn publish(&self, bodies: &[Vec<u8>]) {
        self.publish_to(Lane::Live, bodies).await;
    }

    /// Publishes raw job bodies to `lane`'s queue, confirmed.
    pub async fn publish_to(&self, lane: Lane, bodies: &[Vec<u8>]) {
        let connection = connect().await;
        let publisher = Publisher::open(&connection, &self.config).await.unwrap();
        for (n, body) in bodies.iter().enumerate() {
            publisher
                .publish_job(lane, &format!("raw-{n}"), body)
                .await
                .unwrap();
        }
        let _ = connection.close(200, "published".into()).await;
    }

    /// Takes messages from `queue` until `want` arrived or `timeout`
    /// passed; survives broker restarts. Returns (routing key, body, headers).
    pub async fn take(&self, queue: &str, want: usize, timeout: Duration) -> Vec<Message> {
        let deadline = Instant::now() + timeout;
        let mut taken = Vec::new();
        while taken.len() < want && Instant::now() < deadline {
            let Ok(connection) = try_connect().await else {
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            };
            let Ok(channel) = connection.create_channel().await else {
                continue;
            };
            while taken.len() < want && Instant::now() < deadline {
                match channel
                    .basic_get(queue.into(), BasicGetOptions::default())
                    .await
                {
                    Ok(Some(message)) => {
                        let delivery = message.delivery;
                        let _ = delivery.ack(BasicAckOptions::default()).await;
                        taken.push(Message {
                            routing_key: delivery.routing_key.as_str().to_owned(),
                            body: delivery.data.clone(),
                            headers: headers_of(&delivery.properties),
                        });
                    }
                    Ok(None) => tokio::time::sleep(Duration::from_millis(100)).await,
                    Err(_) => break,
                }
            }
            let _ = connection.close(200, "taken".into()).await;
        }
        taken
    }

    /// Result events from the capture queue.
    pub async fn events(&self, want: usize, timeout: Duration) -> Vec<Value> {
        self.take(&self.capture_queue(), want, timeout)
            .await
            .into_iter()
            .map(|m| serde_json::from_slice(&m.body).unwrap())
            .collect()
    }

    /// Messages in a queue, without taking them.
    pub async fn depth(&self, queue: &str) -> u32 {
        let connection = connect().await;
        let channel = connection.create_channel().await.unwrap();
        let declared = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let _ = connection.close(200, "counted".into()).await;
        declared.message_count()
    }

    /// Deletes every queue and the exchange of this test.
    pub async fn cleanup(&self) {
        let connection = connect().await;
        let channel = connection.create_channel().await.unwrap();
        let mut queues = vec![self.config.dead_letter_queue.clone(), self.capture_queue()];
        for lane in Lane::ALL {
            queues.push(lane.queue(&self.config).to_owned());
            queues.extend(
                self.config
                    .retry_queues(lane)
                    .into_iter()
                    .map(|(name, _)| name),
            );
        }
        for queue in queues {
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        let _ = channel
            .exchange_delete(
                self.config.results_exchange.as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
        let _ = connection.close(200, "cleaned".into()).await;
    }
}

/// One message taken from a queue.
#[derive(Debug, Clone)]
pub struct Message {
    /// Its routing key.
    pub routing_key: String,
    /// Its body.
    pub body: Vec<u8>,
    /// Its headers, as text.
    pub headers: std::collections::BTreeMap<String, String>,
}

fn headers_of(properties: &lapin::BasicProperties) -> std::collections::BTreeMap<String, String> {
    use lapin::types::AMQPValue;
    properties
        .headers()
        .as_ref()
        .map(|h| {
            h.inner()
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        AMQPValue::LongString(s) => {
                            String::from_utf8_lossy(s.as_bytes()).into_owned()
                        }
                        AMQPValue::LongLongInt(n) => n.to_string(),
                        AMQPValue::Boolean(b) => b.to_string(),
                        other => format!("{other:?}"),
                    };
                    (k.as_str().to_owned(), text)
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn try_connect() -> Result<Connection, lapin::Error> {
    Connection::connect(BROKER_URL, ConnectionProperties::default()).await
}

/// Connects, waiting up to a minute for the broker (it may be restarting).
pub async fn connect() -> Connection {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match try_connect().await {
            Ok(connection) => return connection,
            Err(error) if Instant::now() > deadline => panic!("RabbitMQ unreachable: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

/// `rabbitmqctl <action>` (stop_app, start_app, await_startup).
pub fn rabbitmqctl(action: &str) {
    let output = Command::new("rabbitmqctl").arg(action).output().unwrap();
    assert!(
        output.status.success(),
        "rabbitmqctl {action}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A worker process whose stderr is collected.
pub struct WorkerProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl WorkerProcess {
    /// Starts `imgtag worker --config <config>` in the repository root.
    pub fn start(config: &Path) -> Self {
        Self::start_with(config, &[])
    }

    /// Like [`WorkerProcess::start`], with extra environment variables.
    pub fn start_with(config: &Path, env: &[(&str, &str)]) -> Self {
        Self::run(config, &["worker"], env)
    }

    /// Starts `imgtag --config CONFIG ARGS...` (a long-running command:
    /// `worker`, `serve`), its log collected.
    pub fn run(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(imgtag_bin())
            .current_dir(repo_root())
            .arg("--config")
            .arg(config)
            .args(args)
            .env_remove("IMGTAG_CONFIG")
            .env("IMGTAG_LOG", "info,lapin=warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, log }
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The URL an `imgtag serve` logs once it listens (waits for it).
    pub fn served_url(&self, timeout: Duration) -> String {
        self.wait_for_log("serving", timeout);
        let log = self.log();
        let line = log
            .lines()
            .find(|l| l.contains("serving"))
            .expect("the serving line");
        let start = line.find("url=").expect("the url field") + 4;
        line[start..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned()
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "no log line with {needle:?} in {timeout:?}:\n{}",
            self.log()
        );
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGKILL, and reaps the process.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for the process to exit.
    pub fn wait(mut self, timeout: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the log thread drain.
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.log());
            }
            if Instant::now() > deadline {
                let log = self.log();
                let _ = self.child.kill();
                panic!("the worker did not exit in {timeout:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Distinct test images: each sample photo as is and flipped or rotated,
/// written as PNG into `dir`; returns their paths.
pub fn write_variants(dir: &Path, count: usize) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    'outer: for variant in 0..4 {
        for name in crate::SAMPLES {
            if paths.len() == count {
                break 'outer;
            }
            let bytes = fs_err::read(crate::sample(name)).unwrap();
            let decoded =
                imgtag_pipeline::decode(&bytes, &imgtag_pipeline::DecodeLimits::default())
                    .unwrap()
                    .image;
            let image = match variant {
                0 => decoded,
                1 => decoded.fliph(),
                2 => decoded.flipv(),
                _ => decoded.rotate180(),
            };
            let stem = name.split('.').next().unwrap();
            let path = dir.join(format!("{stem}-{variant}.png"));
            image
                .save_with_format(&path, image::ImageFormat::Png)
                .unwrap();
            paths.push(path);
        }
    }
    paths
}
