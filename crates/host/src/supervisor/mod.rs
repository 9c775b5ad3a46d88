//! Supervision (docs/supervision.md): what happens to a plugin between its start and its
//! shutdown. Each name the manager serves has a [`Supervised`] record that outlives its
//! processes: its phase (serving, restarting, failed, not started yet), its restart history
//! (the circuit breaker), the counters `pm.plugins` shows, and the state a stateful plugin
//! handed over. The manager runs one supervising task per process (`crate::manager::supervise`);
//! this module holds the parts that need no manager: the health probe, the watch over one
//! process, and the events. The policy is `crate::policy`; the counters of one process are
//! `crate::plugin::CallStats`.

pub mod events;
mod health;
mod process_watch;

pub use crate::policy::{HealthPolicy, RestartPolicy, Supervision, WhileRestarting};
pub use events::{Event, EventKind, Events};
pub use health::probe;
pub use process_watch::{watch_process, Trouble};

use crate::plugin::{CallStats, HealthRecord, PluginStatus, State};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
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
    /// Calls refused before any process had them (circuit open, `while_restarting: fail`, no
    /// process within the call's deadline, a lazy start that failed): failures of the name too.
    pub(crate) refused: CallStats,
    /// The counts of replaced processes that still finish their calls (a reload drains the old
    /// one): shown with the name's until they join `retired`.
    draining: Mutex<Vec<Arc<CallStats>>>,
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
            refused: CallStats::default(),
            draining: Mutex::new(Vec::new()),
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

    /// Counts an automatic restart and returns its number within `window` (1 for the first);
    /// `None` when it would be one more than `max` (the circuit opens instead).
    pub fn allow_restart(&self, max: u32, window: std::time::Duration) -> Option<u32> {
        let mut times = self.restart_times.lock().unwrap();
        let now = Instant::now();
        while times.front().is_some_and(|t| now.duration_since(*t) > window) {
            times.pop_front();
        }
        if times.len() >= max as usize {
            return None;
        }
        times.push_back(now);
        Some(times.len() as u32)
    }

    /// A manual restart closes the circuit and forgets the history.
    pub fn reset_circuit(&self) {
        self.restart_times.lock().unwrap().clear();
    }

    /// A replaced process whose calls still run: its counts show with the name's meanwhile.
    pub fn begin_draining(&self, stats: &Arc<CallStats>) {
        self.draining.lock().unwrap().push(stats.clone());
    }

    /// The drained process stopped: its counts join the retired ones.
    pub fn end_draining(&self, stats: &Arc<CallStats>) {
        self.draining.lock().unwrap().retain(|s| !Arc::ptr_eq(s, stats));
        self.retired.absorb(stats);
    }

    /// Calls and failures of the name beyond its current process: those of every earlier
    /// process, and those refused before reaching one.
    pub fn earlier_counts(&self) -> (u64, u64, Option<(SystemTime, String)>) {
        let draining = self.draining.lock().unwrap();
        let counted = || draining.iter().map(|s| &**s).chain([&self.retired, &self.refused]);
        let calls = counted().map(CallStats::calls).sum();
        let failures = counted().map(CallStats::failures).sum();
        let last = counted().filter_map(CallStats::last_error).max_by_key(|(at, _)| *at);
        (calls, failures, last)
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

impl Supervised {
    /// Adds to `status` (its current process's) what this record knows: its phase, when that
    /// overrides the process's state; the counts of its earlier processes; the latest check.
    pub fn fill(&self, status: &mut PluginStatus) {
        let (calls, failures, last_error) = self.earlier_counts();
        status.calls += calls;
        status.failures += failures;
        status.last_error = status.last_error.take().into_iter().chain(last_error).max_by_key(|(at, _)| *at);
        status.last_health = self.last_health();
        match self.phase() {
            Phase::Steady => {}
            Phase::NotStarted { last_error } => {
                status.state = State::NotStarted;
                status.reason = last_error.map(|e| (SystemTime::now(), e.to_string()));
            }
            Phase::Starting => status.state = State::Starting,
            Phase::Restarting { since, reason, .. } => {
                status.state = State::Restarting;
                status.reason = Some((since, reason));
            }
            Phase::Failed { since, reason } => {
                status.state = State::Failed;
                status.reason = Some((since, reason));
            }
        }
    }
}
