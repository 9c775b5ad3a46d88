//! What `pm.plugins` counts for one process: its calls and failures, and the outcome of its
//! latest health check (docs/supervision.md, "States").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

/// The outcome of the latest health check.
#[derive(Debug, Clone)]
pub struct HealthRecord {
    pub at: SystemTime,
    pub healthy: bool,
    /// Why it failed, or what the plugin said.
    pub message: String,
}

/// Calls made to a process, and how many failed (`pm.plugins` shows them per name).
#[derive(Debug, Default)]
pub struct CallStats {
    calls: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<(SystemTime, String)>>,
}

impl CallStats {
    pub fn record<T>(&self, outcome: &crate::Result<T>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = outcome {
            self.record_failure(error);
        }
    }

    /// A call counted as begun that failed later (a stream cut after it opened).
    pub fn record_failure(&self, error: &crate::Error) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap() = Some((SystemTime::now(), error.to_string()));
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub fn last_error(&self) -> Option<(SystemTime, String)> {
        self.last_error.lock().unwrap().clone()
    }

    /// Adds `other`'s counts to these (a process that is replaced hands its counts over).
    pub fn absorb(&self, other: &CallStats) {
        self.calls.fetch_add(other.calls(), Ordering::Relaxed);
        self.failures.fetch_add(other.failures(), Ordering::Relaxed);
        if let Some(error) = other.last_error() {
            let mut last = self.last_error.lock().unwrap();
            if last.as_ref().is_none_or(|(at, _)| *at <= error.0) {
                *last = Some(error);
            }
        }
    }
}
