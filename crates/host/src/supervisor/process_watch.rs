//! The watch over one process: it ends when the process crashes, fails its health checks
//! `failure_threshold` times in a row, or is stopped on purpose (a shutdown, a restart, a reload).
//! After each passed check it keeps the plugin's state, if it has one (docs/supervision.md).

use super::health::probe;
use super::Supervised;
use crate::plugin::HealthRecord;
use crate::plugin::{Plugin, State};
use crate::policy::HealthPolicy;
use std::time::SystemTime;

/// Why the watch over a process ended.
#[derive(Debug)]
pub enum Trouble {
    /// Someone stopped it: nothing to do.
    Stopped,
    /// It crashed (how: its exit, or its closed connection).
    Crashed(String),
    /// It still runs but failed its health checks (why: the last failure).
    Unhealthy(String),
}

pub async fn watch_process(plugin: &Plugin, health: &HealthPolicy, record: &Supervised) -> Trouble {
    let mut state = plugin.subscribe_state();
    let ended = async move {
        let _ = state.wait_for(|s| *s != State::Ready).await;
    };
    tokio::select! {
        () = ended => {}
        why = failing_checks(plugin, health, record) => return Trouble::Unhealthy(why),
    }
    match plugin.state() {
        State::Crashed => Trouble::Crashed(plugin.exit_description().await),
        _ => Trouble::Stopped,
    }
}

/// Checks every `interval` until `failure_threshold` checks in a row failed; never ends when
/// checks are off.
async fn failing_checks(plugin: &Plugin, health: &HealthPolicy, record: &Supervised) -> String {
    let Some(interval) = health.interval else { return std::future::pending().await };
    // Checks start every `interval` (a slow check delays the next, never shifts them all), so a
    // frozen plugin is called unhealthy within interval × failure_threshold + timeout.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failed_in_a_row = 0;
    loop {
        ticks.tick().await;
        if plugin.is_retired() {
            // Replaced: its calls drain, and its state is no longer the name's.
            return std::future::pending().await;
        }
        match probe(plugin, health.timeout).await {
            Ok(message) => {
                failed_in_a_row = 0;
                // A healthy plugin's state is worth keeping for its next process (kept before
                // the check is reported, so that whoever sees the check sees the state too).
                if let Some(state) = plugin.fetch_state().await {
                    if !plugin.is_retired() {
                        record.save_state(state);
                    }
                }
                record.note_health(HealthRecord { at: SystemTime::now(), healthy: true, message });
            }
            Err(why) => {
                failed_in_a_row += 1;
                record.note_health(HealthRecord { at: SystemTime::now(), healthy: false, message: why.clone() });
                if failed_in_a_row >= health.failure_threshold {
                    return format!("{failed_in_a_row} health checks in a row failed; the last: {why}");
                }
            }
        }
    }
}
