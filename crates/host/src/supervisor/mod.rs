//! Supervision (docs/supervision.md): what happens to a plugin between its start and its
//! shutdown. Each name the manager serves has a [`Supervised`] record that outlives its
//! processes: its phase (serving, restarting, failed, not started yet), its restart history
//! (the circuit breaker), the counters `pm.plugins` shows, and the state a stateful plugin
//! handed over. The manager runs one supervising task per process (`crate::manager::supervise`);
//! this module holds the parts that need no manager: the policy, the health probe, the watch
//! over one process, and the events.

pub mod events;
mod health;
mod policy;
mod process_watch;

pub use events::{Event, EventKind, Events};
pub use health::{probe, HealthRecord};
pub use policy::{HealthPolicy, RestartPolicy, Supervision, WhileRestarting};
pub use process_watch::{watch_process, Trouble};

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};
use tokio::sync::watch;

/// Where a name stands, beyond the state of its current process.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Its current process (in the manager's list) serves, or its state says why not.
    Steady,
    /// A lazy plugin before its first call; `last_error` is why its last start failed.
    NotStarted { last_error: Option<crate::Error> },
    /// Its first start (lazy) is under way.
    Starting,
    /// Its process crashed or was unhealthy; attempt `attempt` will start it again.
    Restarting { attempt: u32, since: SystemTime, reason: String },
    /// Too many restarts in the window: calls fail at once until a manual restart.
    Failed { since: SystemTime, reason: String },
}

/// One name's record (see the module's documentation).
pub struct Supervised {
    pub name: String,
    phase: watch::Sender<Phase>,
    /// When each automatic restart of the current window began (the circuit breaker's count).
    restart_times: Mutex<VecDeque<Instant>>,
    /// Calls and failures of the processes this name had before the current one.
    pub(crate) retired: CallStats,
    last_health: Mutex<Option<HealthRecord>>,
    /// The latest state `GetState` gave (docs/protocol.md §7.8), handed to the next process.
    saved_state: Mutex<Option<Vec<u8>>>,
}

impl Supervised {
    pub fn new(name: &str, phase: Phase) -> Self {
        Supervised {
            name: name.into(),
            phase: watch::Sender::new(phase),
            restart_times: Mutex::new(VecDeque::new()),
            retired: CallStats::default(),
            last_health: Mutex::new(None),
            saved_state: Mutex::new(None),
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase.borrow().clone()
    }

    pub fn set_phase(&self, phase: Phase) {
        self.phase.send_replace(phase);
    }

    /// Changes the phase only if `change` says so (under the watch's lock, so two callers
    /// cannot both take a transition).
    pub fn change_phase(&self, change: impl FnOnce(&mut Phase) -> bool) -> bool {
        self.phase.send_if_modified(change)
    }

    pub fn subscribe(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    /// Counts an automatic restart; `false` when it would be one more than `max` within
    /// `window` (the circuit opens instead).
    pub fn allow_restart(&self, max: u32, window: std::time::Duration) -> bool {
        let mut times = self.restart_times.lock().unwrap();
        let now = Instant::now();
        while times.front().is_some_and(|t| now.duration_since(*t) > window) {
            times.pop_front();
        }
        if times.len() >= max as usize {
            return false;
        }
        times.push_back(now);
        true
    }

    /// A manual restart closes the circuit and forgets the history.
    pub fn reset_circuit(&self) {
        self.restart_times.lock().unwrap().clear();
    }

    pub fn note_health(&self, record: HealthRecord) {
        *self.last_health.lock().unwrap() = Some(record);
    }

    pub fn last_health(&self) -> Option<HealthRecord> {
        self.last_health.lock().unwrap().clone()
    }

    pub fn save_state(&self, state: Vec<u8>) {
        *self.saved_state.lock().unwrap() = Some(state);
    }

    pub fn saved_state(&self) -> Option<Vec<u8>> {
        self.saved_state.lock().unwrap().clone()
    }
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
            self.failures.fetch_add(1, Ordering::Relaxed);
            *self.last_error.lock().unwrap() = Some((SystemTime::now(), error.to_string()));
        }
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
            *self.last_error.lock().unwrap() = Some(error);
        }
    }
}
