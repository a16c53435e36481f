//! Which received job a worker starts next: the local half of fair
//! scheduling (`docs/JOBS.md`, "Scheduling").
//!
//! The broker hands a worker a window of jobs per lane (its prefetch); the
//! worker starts them as its `concurrency` slots free up:
//! - live jobs first, one tenant after another (round-robin), then bulk,
//!   then batch, so a lower lane runs only when no better job waits here,
//!   and a slot is never left idle while any job waits;
//! - a tenant may hold at most `limit` live jobs here (running or waiting);
//!   a live job beyond that is moved to the bulk lane at once (the caller
//!   publishes it there), which drains one tenant's burst out of the live
//!   queue at broker speed, so another tenant's next upload reaches a
//!   worker after at most one move per job ahead of it.
//!
//! Pure bookkeeping, no I/O: the worker loop (`worker.rs`) does the rest.

use std::collections::{HashMap, VecDeque};

use super::Lane;

/// What to do with a live job that just arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Keep it: it waits here for a slot (`Scheduler::push`).
    Keep,
    /// Its tenant holds its share already: move it to the bulk lane.
    MoveToBulk,
}

/// Jobs received and not yet started, and the live jobs each tenant holds.
#[derive(Debug)]
pub struct Scheduler<T> {
    limit: Option<usize>,
    /// Waiting live jobs by tenant.
    live: HashMap<String, VecDeque<T>>,
    /// Tenants with waiting live jobs, in the order they are served.
    turn: VecDeque<String>,
    bulk: VecDeque<T>,
    batch: VecDeque<T>,
    /// Live jobs each tenant holds here, waiting or running.
    held: HashMap<String, usize>,
}

impl<T> Scheduler<T> {
    /// A scheduler letting one tenant hold at most `limit` live jobs
    /// (`None`: no limit).
    pub fn new(limit: Option<usize>) -> Self {
        Self {
            limit,
            live: HashMap::new(),
            turn: VecDeque::new(),
            bulk: VecDeque::new(),
            batch: VecDeque::new(),
            held: HashMap::new(),
        }
    }

    /// Decides on a live job of `tenant`; a kept job counts as held until
    /// [`Scheduler::release`].
    pub fn admit(&mut self, tenant: &str) -> Admission {
        let held = self.held.entry(tenant.to_owned()).or_insert(0);
        if self.limit.is_some_and(|limit| *held >= limit) {
            return Admission::MoveToBulk;
        }
        *held += 1;
        Admission::Keep
    }

    /// A live job of `tenant` is done (acked, retried, dead-lettered or
    /// handed back).
    pub fn release(&mut self, tenant: &str) {
        if let Some(held) = self.held.get_mut(tenant) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                self.held.remove(tenant);
            }
        }
    }

    /// Queues a received job (a live one after [`Scheduler::admit`] said
    /// keep).
    pub fn push(&mut self, lane: Lane, tenant: &str, job: T) {
        match lane {
            Lane::Live => {
                let waiting = self.live.entry(tenant.to_owned()).or_default();
                if waiting.is_empty() {
                    self.turn.push_back(tenant.to_owned());
                }
                waiting.push_back(job);
            }
            Lane::Bulk => self.bulk.push_back(job),
            Lane::Batch => self.batch.push_back(job),
        }
    }

    /// The job to start now: live (the next tenant's turn), else bulk,
    /// else batch.
    pub fn next_job(&mut self) -> Option<(Lane, T)> {
        while let Some(tenant) = self.turn.pop_front() {
            let Some(waiting) = self.live.get_mut(&tenant) else {
                continue;
            };
            let Some(job) = waiting.pop_front() else {
                self.live.remove(&tenant);
                continue;
            };
            if waiting.is_empty() {
                self.live.remove(&tenant);
            } else {
                self.turn.push_back(tenant);
            }
            return Some((Lane::Live, job));
        }
        if let Some(job) = self.bulk.pop_front() {
            return Some((Lane::Bulk, job));
        }
        self.batch.pop_front().map(|job| (Lane::Batch, job))
    }

    /// Jobs waiting here, all lanes.
    pub fn waiting(&self) -> usize {
        self.live.values().map(VecDeque::len).sum::<usize>() + self.bulk.len() + self.batch.len()
    }

    /// Takes every waiting job (the session is ending: they go back to the
    /// broker).
    pub fn drain(&mut self) -> Vec<T> {
        self.turn.clear();
        let mut jobs: Vec<T> = self.live.drain().flat_map(|(_, jobs)| jobs).collect();
        jobs.extend(self.bulk.drain(..));
        jobs.extend(self.batch.drain(..));
        jobs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(scheduler: &mut Scheduler<&'static str>) -> Vec<&'static str> {
        std::iter::from_fn(|| scheduler.next_job().map(|(_, job)| job)).collect()
    }

    #[test]
    fn live_before_bulk_before_batch_and_tenants_take_turns() {
        let mut scheduler = Scheduler::new(None);
        scheduler.push(Lane::Batch, "x", "batch-1");
        scheduler.push(Lane::Bulk, "a", "bulk-1");
        for job in ["a1", "a2", "a3"] {
            assert_eq!(scheduler.admit("a"), Admission::Keep);
            scheduler.push(Lane::Live, "a", job);
        }
        assert_eq!(scheduler.admit("b"), Admission::Keep);
        scheduler.push(Lane::Live, "b", "b1");
        assert_eq!(scheduler.waiting(), 6);
        assert_eq!(
            order(&mut scheduler),
            ["a1", "b1", "a2", "a3", "bulk-1", "batch-1"]
        );
        assert_eq!(scheduler.waiting(), 0);
    }

    #[test]
    fn a_tenant_over_its_share_is_moved_until_it_releases() {
        let mut scheduler: Scheduler<&str> = Scheduler::new(Some(2));
        assert_eq!(scheduler.admit("a"), Admission::Keep);
        assert_eq!(scheduler.admit("a"), Admission::Keep);
        assert_eq!(scheduler.admit("a"), Admission::MoveToBulk);
        assert_eq!(scheduler.admit("b"), Admission::Keep);
        scheduler.release("a");
        assert_eq!(scheduler.admit("a"), Admission::Keep);
        assert_eq!(scheduler.admit("a"), Admission::MoveToBulk);
        // Without a limit nothing is moved.
        let mut open: Scheduler<&str> = Scheduler::new(None);
        assert!((0..100).all(|_| open.admit("a") == Admission::Keep));
    }

    #[test]
    fn draining_returns_every_waiting_job() {
        let mut scheduler = Scheduler::new(None);
        scheduler.push(Lane::Live, "a", 1);
        scheduler.push(Lane::Live, "b", 2);
        scheduler.push(Lane::Bulk, "a", 3);
        scheduler.push(Lane::Batch, "a", 4);
        let mut drained = scheduler.drain();
        drained.sort_unstable();
        assert_eq!(drained, [1, 2, 3, 4]);
        assert!(scheduler.next_job().is_none());
    }
}
