//! Dynamic batching over a pool of sessions.
//!
//! Callers submit one preprocessed item at a time, from any thread or async
//! task. Each session of the pool has its own runner thread; a runner takes
//! the oldest request, gathers more until the batch is full or
//! [`PoolConfig::max_wait_us`] has passed, runs them as one batch and sends
//! every caller its own result. While one runner gathers, the others run, so
//! under load batches fill up without waiting and a single caller pays at
//! most the wait.
//!
//! Inference is CPU work on dedicated threads: async callers only await a
//! channel. A panic inside a run is caught and reported to every caller of
//! that batch as [`ModelError::Inference`]; the runner goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use ort::session::Session;
use tokio::sync::oneshot;

use crate::error::ModelError;
use crate::session::{LoadedModel, PoolConfig, inference_error};

/// A model that runs batches of one kind of item.
pub trait BatchModel: Send + Sync + 'static {
    /// One preprocessed input.
    type Item: Send + 'static;
    /// One result.
    type Output: Send + 'static;
    /// What one runner owns to run batches (an ONNX Runtime session).
    type Session: Send + 'static;

    /// Runs `items` as one batch; returns exactly one output per item, in
    /// order.
    fn run(
        &self,
        session: &mut Self::Session,
        items: &[Self::Item],
    ) -> Result<Vec<Self::Output>, ModelError>;
}

type Reply<M> = oneshot::Sender<Result<<M as BatchModel>::Output, ModelError>>;

struct Request<M: BatchModel> {
    item: M::Item,
    reply: Reply<M>,
}

/// Counters of a batcher, for metrics and benchmarks.
#[derive(Debug, Default)]
pub struct BatchStats {
    runs: AtomicU64,
    items: AtomicU64,
}

impl BatchStats {
    /// Batches run so far.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Items run so far.
    pub fn items(&self) -> u64 {
        self.items.load(Ordering::Relaxed)
    }

    /// Mean batch size so far (0 before the first run).
    pub fn mean_batch(&self) -> f64 {
        let runs = self.runs();
        if runs == 0 {
            0.0
        } else {
            self.items() as f64 / runs as f64
        }
    }
}

/// Runs a [`BatchModel`] on a pool of sessions with dynamic batching.
pub struct Batcher<M: BatchModel> {
    key: String,
    sender: Option<Sender<Request<M>>>,
    runners: Vec<JoinHandle<()>>,
    stats: Arc<BatchStats>,
}

impl<M: BatchModel> std::fmt::Debug for Batcher<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("model", &self.key)
            .field("runners", &self.runners.len())
            .finish_non_exhaustive()
    }
}

impl<M: BatchModel> Batcher<M> {
    /// Starts one runner thread per session of a loaded ONNX model.
    pub fn start(model: M, loaded: LoadedModel, pool: &PoolConfig) -> Result<Self, ModelError>
    where
        M: BatchModel<Session = Session>,
    {
        Self::start_with(model, &loaded.key, loaded.sessions, pool)
    }

    /// Starts one runner thread per session; `key` names the model in errors
    /// and thread names.
    pub fn start_with(
        model: M,
        key: &str,
        sessions: Vec<M::Session>,
        pool: &PoolConfig,
    ) -> Result<Self, ModelError> {
        if sessions.is_empty() {
            return Err(ModelError::Session {
                model: key.to_owned(),
                message: "no sessions to run".into(),
            });
        }
        let model = Arc::new(model);
        let stats = Arc::new(BatchStats::default());
        // Bounded so that a flood of callers waits instead of queueing
        // without limit; the bound is generous next to what is in flight.
        let (sender, receiver) =
            crossbeam_channel::bounded(pool.max_batch.max(1) * sessions.len() * 8);
        let gather = Gather {
            max_batch: pool.max_batch,
            max_wait: Duration::from_micros(pool.max_wait_us),
        };
        let mut runners = Vec::with_capacity(sessions.len());
        for (n, session) in sessions.into_iter().enumerate() {
            let runner = Runner {
                key: key.to_owned(),
                model: Arc::clone(&model),
                session,
                receiver: receiver.clone(),
                gather,
                stats: Arc::clone(&stats),
            };
            let handle = std::thread::Builder::new()
                .name(format!("imgtag-{key}-{n}"))
                .spawn(move || runner.run())
                .map_err(|e| ModelError::Session {
                    model: key.to_owned(),
                    message: format!("cannot start a runner thread: {e}"),
                })?;
            runners.push(handle);
        }
        Ok(Self {
            key: key.to_owned(),
            sender: Some(sender),
            runners,
            stats,
        })
    }

    /// Queues `item`; the receiver yields its result. Blocks only while the
    /// queue is full.
    pub fn submit(&self, item: M::Item) -> oneshot::Receiver<Result<M::Output, ModelError>> {
        let (reply, receiver) = oneshot::channel();
        let request = Request { item, reply };
        match &self.sender {
            Some(sender) => {
                if let Err(returned) = sender.send(request) {
                    let _ = returned.0.reply.send(Err(self.stopped()));
                }
            }
            None => {
                let _ = request.reply.send(Err(self.stopped()));
            }
        }
        receiver
    }

    /// Runs one item, blocking the calling thread (not for async tasks).
    pub fn run(&self, item: M::Item) -> Result<M::Output, ModelError> {
        let receiver = self.submit(item);
        self.wait(receiver)
    }

    /// Runs many items (they share batches) and returns the results in order.
    pub fn run_all(&self, items: Vec<M::Item>) -> Result<Vec<M::Output>, ModelError> {
        let receivers: Vec<_> = items.into_iter().map(|item| self.submit(item)).collect();
        receivers
            .into_iter()
            .map(|receiver| self.wait(receiver))
            .collect()
    }

    /// Runs one item from async code; the runtime's threads only wait.
    pub async fn run_async(&self, item: M::Item) -> Result<M::Output, ModelError> {
        let receiver = self.submit(item);
        receiver.await.unwrap_or_else(|_| Err(self.stopped()))
    }

    /// Waits for a submitted item's result, blocking the calling thread.
    pub fn wait(
        &self,
        receiver: oneshot::Receiver<Result<M::Output, ModelError>>,
    ) -> Result<M::Output, ModelError> {
        receiver
            .blocking_recv()
            .unwrap_or_else(|_| Err(self.stopped()))
    }

    /// Batch counters.
    pub fn stats(&self) -> &BatchStats {
        &self.stats
    }

    fn stopped(&self) -> ModelError {
        inference_error(&self.key, "the model's runner stopped")
    }
}

impl<M: BatchModel> Drop for Batcher<M> {
    fn drop(&mut self) {
        // Closing the queue lets each runner finish what it holds and exit.
        self.sender = None;
        for runner in self.runners.drain(..) {
            let _ = runner.join();
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Gather {
    max_batch: usize,
    max_wait: Duration,
}

struct Runner<M: BatchModel> {
    key: String,
    model: Arc<M>,
    session: M::Session,
    receiver: Receiver<Request<M>>,
    gather: Gather,
    stats: Arc<BatchStats>,
}

impl<M: BatchModel> Runner<M> {
    fn run(mut self) {
        while let Some(batch) = self.next_batch() {
            self.run_batch(batch);
        }
    }

    /// The oldest request plus whatever arrives before the batch is full or
    /// the wait is over; `None` once the queue is closed and empty.
    fn next_batch(&self) -> Option<Vec<Request<M>>> {
        let first = self.receiver.recv().ok()?;
        let mut batch = Vec::with_capacity(self.gather.max_batch);
        batch.push(first);
        let deadline = Instant::now() + self.gather.max_wait;
        while batch.len() < self.gather.max_batch {
            // Take what is already queued without waiting.
            match self.receiver.try_recv() {
                Ok(request) => {
                    batch.push(request);
                    continue;
                }
                Err(_) if self.gather.max_wait.is_zero() => break,
                Err(_) => {}
            }
            match self.receiver.recv_deadline(deadline) {
                Ok(request) => batch.push(request),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        Some(batch)
    }

    fn run_batch(&mut self, batch: Vec<Request<M>>) {
        let (items, replies): (Vec<M::Item>, Vec<Reply<M>>) =
            batch.into_iter().map(|r| (r.item, r.reply)).unzip();
        let model = &self.model;
        let session = &mut self.session;
        let result = catch_unwind(AssertUnwindSafe(|| model.run(session, &items)))
            .unwrap_or_else(|_| Err(inference_error(&self.key, "the model run panicked")));
        self.stats.runs.fetch_add(1, Ordering::Relaxed);
        self.stats
            .items
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        match result {
            Ok(outputs) if outputs.len() == replies.len() => {
                for (reply, output) in replies.into_iter().zip(outputs) {
                    let _ = reply.send(Ok(output));
                }
            }
            Ok(outputs) => {
                let message = format!(
                    "the model returned {} results for {} inputs",
                    outputs.len(),
                    replies.len()
                );
                for reply in replies {
                    let _ = reply.send(Err(inference_error(&self.key, &message)));
                }
            }
            Err(error) => {
                // Inputs were validated before they were queued, so a failed
                // run is the model's failure: every caller of the batch gets
                // it (the first the original error, the others its message).
                tracing::warn!(model = %self.key, code = error.code(), %error, "batch failed");
                let message = error.to_string();
                let mut replies = replies.into_iter();
                if let Some(first) = replies.next() {
                    let _ = first.send(Err(error));
                }
                for reply in replies {
                    let _ = reply.send(Err(inference_error(&self.key, &message)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Doubles numbers and records the batch sizes it saw.
    struct Doubler {
        batches: Mutex<Vec<usize>>,
    }

    impl BatchModel for Doubler {
        type Item = i32;
        type Output = i32;
        type Session = ();

        fn run(&self, _: &mut (), items: &[i32]) -> Result<Vec<i32>, ModelError> {
            if items.contains(&-1) {
                return Err(inference_error("doubler", "negative one"));
            }
            if items.contains(&-2) {
                panic!("the model exploded");
            }
            if let Ok(mut batches) = self.batches.lock() {
                batches.push(items.len());
            }
            Ok(items.iter().map(|x| x * 2).collect())
        }
    }

    fn doubler(sessions: usize, max_batch: usize, max_wait_us: u64) -> Batcher<Doubler> {
        let pool = PoolConfig {
            sessions,
            max_batch,
            max_wait_us,
            ..PoolConfig::default()
        };
        let model = Doubler {
            batches: Mutex::new(Vec::new()),
        };
        Batcher::start_with(model, "doubler", vec![(); sessions], &pool).unwrap()
    }

    #[test]
    fn results_come_back_in_order_and_batched() {
        let batcher = doubler(1, 8, 50_000);
        let results = batcher.run_all((0..20).collect()).unwrap();
        assert_eq!(results, (0..20).map(|x| x * 2).collect::<Vec<_>>());
        // 20 queued items with batches of at most 8: three runs.
        assert_eq!(batcher.stats().items(), 20);
        assert_eq!(batcher.stats().runs(), 3);
    }

    #[test]
    fn concurrent_callers_share_batches() {
        let batcher = Arc::new(doubler(1, 8, 20_000));
        let handles: Vec<_> = (0..8)
            .map(|n| {
                let batcher = Arc::clone(&batcher);
                std::thread::spawn(move || batcher.run(n).unwrap())
            })
            .collect();
        let results: Vec<i32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results, (0..8).map(|x| x * 2).collect::<Vec<_>>());
        assert!(
            batcher.stats().runs() < 8,
            "{} runs",
            batcher.stats().runs()
        );
    }

    #[test]
    fn a_single_caller_waits_at_most_the_gather_time() {
        let batcher = doubler(2, 8, 0);
        assert_eq!(batcher.run(21).unwrap(), 42);
        assert_eq!(batcher.stats().mean_batch(), 1.0);
    }

    #[test]
    fn a_failed_or_panicking_run_fails_its_callers_and_the_runner_goes_on() {
        let batcher = doubler(1, 4, 0);
        let error = batcher.run(-1).unwrap_err();
        assert_eq!(error.code(), "model.inference");
        let error = batcher.run(-2).unwrap_err();
        assert!(error.to_string().contains("panicked"), "{error}");
        assert_eq!(batcher.run(5).unwrap(), 10);
    }

    #[test]
    fn async_callers_get_their_results() {
        let batcher = Arc::new(doubler(2, 8, 1_000));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let results = runtime.block_on(async {
            let futures = (0..5).map(|n| {
                let batcher = Arc::clone(&batcher);
                async move { batcher.run_async(n).await.unwrap() }
            });
            let mut out = Vec::new();
            for f in futures {
                out.push(f.await);
            }
            out
        });
        assert_eq!(results, vec![0, 2, 4, 6, 8]);
    }

    #[test]
    fn no_sessions_is_an_error() {
        let model = Doubler {
            batches: Mutex::new(Vec::new()),
        };
        let error =
            Batcher::start_with(model, "doubler", Vec::new(), &PoolConfig::default()).unwrap_err();
        assert_eq!(error.code(), "model.session");
    }
}
