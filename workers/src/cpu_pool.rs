//! A fixed set of threads for the processor's CPU work (decode, checks,
//! renditions, model preprocessing), instead of tokio's blocking pool.
//!
//! tokio grows its blocking pool on demand and shares it with file I/O, so
//! image work used to land on whichever of a dozen threads was free. Every
//! such thread kept its own allocator arenas full of freed image buffers
//! (libwebp and libjpeg-turbo allocate through glibc), which cost `imgtag
//! ingest` well over 100 MiB of peak RSS (BENCHMARKS.md). Here the same
//! `threads` threads do all of it, one job each at a time, in the order the
//! jobs came; the caller's tracing span goes with the job, and a panic is
//! caught and returned, never losing the thread.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crossbeam_channel::{Receiver, Sender};

type Task = Box<dyn FnOnce() + Send>;

/// The pool; cloning shares it. Its threads end when the last clone is
/// dropped (after finishing what was queued).
#[derive(Debug, Clone)]
pub struct CpuPool {
    tasks: Sender<Task>,
}

/// Why a job on the pool gave no result.
#[derive(Debug)]
pub enum PoolError {
    /// The job panicked; the panic's message.
    Panicked(String),
    /// The pool's threads are gone (the process is shutting down).
    Closed,
}

impl CpuPool {
    /// Starts `threads` threads named `{name}-{i}`.
    pub fn new(threads: usize, name: &str) -> std::io::Result<Self> {
        let (tasks, queue) = crossbeam_channel::unbounded::<Task>();
        for i in 0..threads.max(1) {
            let queue: Receiver<Task> = queue.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    while let Ok(task) = queue.recv() {
                        task();
                    }
                })?;
        }
        Ok(Self { tasks })
    }

    /// Runs `work` on one of the pool's threads, in the caller's span, and
    /// waits for it without blocking the async runtime.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let task: Task = Box::new(move || {
            let _entered = span.enter();
            let outcome = catch_unwind(AssertUnwindSafe(work)).map_err(panic_message);
            // The caller may have gone (its job was cancelled): nothing to do.
            let _ = done.send(outcome);
        });
        self.tasks.send(task).map_err(|_| PoolError::Closed)?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => Err(PoolError::Panicked(message)),
            Err(_) => Err(PoolError::Closed),
        }
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_on_named_threads_and_survives_panics() {
        let pool = CpuPool::new(2, "cpu-test").unwrap();
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("cpu-test-"));
        let panicked = pool.run(|| -> u32 { panic!("boom") }).await;
        assert!(matches!(panicked, Err(PoolError::Panicked(m)) if m == "boom"));
        // Both threads are still there.
        let results = futures::future::join_all((0..4).map(|i| pool.run(move || i * 2))).await;
        let values: Vec<u32> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(values, vec![0, 2, 4, 6]);
    }
}
