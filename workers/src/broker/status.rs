//! The consumer's broker state, shared between the worker loop (which
//! sets it) and whoever reports it: `GET /readyz` of `serve --worker`,
//! and the `imgtag_broker_connected` gauge.
//!
//! A plain mutex over a small value: it is never held across an `.await`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Lane;
use crate::index::record::format_datetime;

/// Where the consumer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerState {
    /// Connecting for the first time.
    Connecting,
    /// Connected, topology declared, consuming every lane.
    Consuming,
    /// The connection was lost or refused; retrying with backoff.
    Reconnecting,
    /// Stopped (shutdown, or an error a retry cannot fix).
    Stopped,
}

/// What `/readyz` shows of the consumer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusReport {
    /// Where the consumer is.
    pub state: ConsumerState,
    /// Since when (RFC 3339, UTC).
    pub since: String,
    /// Why the last connection ended or failed (no credentials in it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Jobs waiting in each lane's queue at the last reading (when read).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub queue_depth: BTreeMap<String, u32>,
    /// Jobs running in this process.
    pub in_flight: usize,
}

#[derive(Debug)]
struct Inner {
    state: ConsumerState,
    since: DateTime<Utc>,
    last_error: Option<String>,
    depth: BTreeMap<&'static str, u32>,
    in_flight: usize,
}

/// The shared handle; cloning shares it.
#[derive(Debug, Clone)]
pub struct BrokerStatus {
    inner: Arc<Mutex<Inner>>,
}

impl Default for BrokerStatus {
    fn default() -> Self {
        Self::new()
    }
}

impl BrokerStatus {
    /// A consumer that is connecting.
    pub fn new() -> Self {
        metrics::gauge!("imgtag_broker_connected").set(0.0);
        Self {
            inner: Arc::new(Mutex::new(Inner {
                state: ConsumerState::Connecting,
                since: Utc::now(),
                last_error: None,
                depth: BTreeMap::new(),
                in_flight: 0,
            })),
        }
    }

    fn update(&self, change: impl FnOnce(&mut Inner)) {
        // A poisoned lock only means another thread panicked mid-update
        // of this small value: keep reporting.
        let mut inner = match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        };
        change(&mut inner);
    }

    /// Moves to `state` (the time changes only when the state does).
    pub fn set(&self, state: ConsumerState, error: Option<String>) {
        let connected = state == ConsumerState::Consuming;
        metrics::gauge!("imgtag_broker_connected").set(if connected { 1.0 } else { 0.0 });
        self.update(|inner| {
            if inner.state != state {
                inner.state = state;
                inner.since = Utc::now();
            }
            if error.is_some() {
                inner.last_error = error;
            }
        });
    }

    /// Records a reading of a lane's queue depth.
    pub fn set_depth(&self, lane: Lane, ready: u32) {
        self.update(|inner| {
            inner.depth.insert(lane.as_str(), ready);
        });
    }

    /// Records the number of jobs running here.
    pub fn set_in_flight(&self, in_flight: usize) {
        self.update(|inner| inner.in_flight = in_flight);
    }

    /// Whether the consumer is consuming.
    pub fn is_consuming(&self) -> bool {
        self.report().state == ConsumerState::Consuming
    }

    /// A copy of the current state.
    pub fn report(&self) -> StatusReport {
        let inner = match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        };
        StatusReport {
            state: inner.state,
            since: format_datetime(inner.since),
            last_error: inner.last_error.clone(),
            queue_depth: inner
                .depth
                .iter()
                .map(|(lane, ready)| ((*lane).to_owned(), *ready))
                .collect(),
            in_flight: inner.in_flight,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_and_its_reasons_are_reported() {
        let status = BrokerStatus::new();
        assert_eq!(status.report().state, ConsumerState::Connecting);
        status.set(ConsumerState::Consuming, None);
        status.set_depth(Lane::Batch, 12);
        assert!(status.is_consuming());
        status.set(ConsumerState::Reconnecting, Some("connection reset".into()));
        let report = status.report();
        assert_eq!(report.state, ConsumerState::Reconnecting);
        assert_eq!(report.last_error.as_deref(), Some("connection reset"));
        assert_eq!(report.queue_depth.get("batch"), Some(&12));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["state"], "reconnecting");
    }
}
