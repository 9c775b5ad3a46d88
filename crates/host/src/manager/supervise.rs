//! The manager's side of supervision (docs/supervision.md): one task per process that waits for
//! its crash or failed health checks and starts the name again with backoff, until the circuit
//! opens; the wait of a call for a plugin that is restarting or not started yet (lazy); and the
//! name-level records behind `pm.plugins`.

use super::{Manager, StartWhy};
use crate::error::{Closed, Error, Result};
use crate::plugin::Plugin;
use crate::supervisor::{watch_process, Event, EventKind, Phase, Supervised, Trouble, WhileRestarting};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

impl<P: Send + Sync + 'static> Manager<P> {
    /// The record of `name`, created (in `phase`) if it has none yet.
    pub(super) fn record(&self, name: &str, phase: impl FnOnce() -> Phase) -> Arc<Supervised> {
        let mut records = self.supervised.lock().unwrap();
        records.entry(name.to_string()).or_insert_with(|| Arc::new(Supervised::new(name, phase()))).clone()
    }

    pub(super) fn existing_record(&self, name: &str) -> Option<Arc<Supervised>> {
        self.supervised.lock().unwrap().get(name).cloned()
    }

    /// Every lifecycle event from now on (`pm.on`).
    pub fn subscribe_events(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub(super) fn emit(&self, plugin: &Plugin, kind: EventKind, message: impl Into<String>) {
        self.events.emit(&plugin.name, kind, plugin.pid, message);
    }

    /// Puts a process that just started under supervision (see the module's documentation).
    pub(super) fn supervise(self: &Arc<Self>, plugin: &Arc<Plugin>, record: &Arc<Supervised>) {
        record.set_phase(Phase::Steady);
        let manager = Arc::downgrade(self);
        let (plugin, record) = (plugin.clone(), record.clone());
        tokio::spawn(async move { supervise(manager, plugin, record).await });
    }

    /// The process that should answer a call to `name` now. `held` is the process the call
    /// resolved to (`None`: a lazy plugin never started). A serving process is returned at
    /// once; otherwise the call waits, within `limit`, for the start or restart that is under
    /// way, or fails at once when the plugin is `failed` (circuit open) or configured to fail
    /// fast. A process that crashed and will not be restarted is returned as it is: the call
    /// then fails with its crash. A refusal counts as a call and failure of the name.
    pub async fn serving(
        self: &Arc<Self>,
        name: &str,
        held: Option<Arc<Plugin>>,
        limit: Option<Duration>,
    ) -> Result<Arc<Plugin>> {
        let outcome = self.find_serving(name, held, limit).await;
        if outcome.is_err() {
            // No process will count it: the name does (`pm.plugins`' calls and failures).
            if let Some(record) = self.existing_record(name) {
                record.refused.record(&outcome);
            }
        }
        outcome
    }

    /// As [`Self::serving`], for the second attempt of a call lost to a crash (an idempotent
    /// RPC): the lost attempt counted the call and its failure already, so a refusal is not
    /// counted again.
    pub async fn serving_again(
        self: &Arc<Self>,
        name: &str,
        lost_on: Arc<Plugin>,
        limit: Option<Duration>,
    ) -> Result<Arc<Plugin>> {
        self.find_serving(name, Some(lost_on), limit).await
    }

    /// Starts a lazy plugin that something loaded now depends on, and waits for it: not a
    /// call, so a failure is not counted as one.
    pub(super) async fn start_for_dependent(self: &Arc<Self>, name: &str) -> Result<()> {
        self.find_serving(name, None, None).await.map(|_| ())
    }

    async fn find_serving(
        self: &Arc<Self>,
        name: &str,
        held: Option<Arc<Plugin>>,
        limit: Option<Duration>,
    ) -> Result<Arc<Plugin>> {
        if let Some(plugin) = held.as_ref().filter(|p| p.is_serving() && !p.is_retired()) {
            return Ok(plugin.clone());
        }
        let Some(record) = self.existing_record(name) else {
            return held.ok_or_else(|| self.not_loaded(name));
        };
        self.wait_for_serving(name, held, &record, limit).await
    }

    async fn wait_for_serving(
        self: &Arc<Self>,
        name: &str,
        held: Option<Arc<Plugin>>,
        record: &Arc<Supervised>,
        limit: Option<Duration>,
    ) -> Result<Arc<Plugin>> {
        let limit = limit.or_else(|| self.configured_call_timeout(name, held.as_deref()));
        let deadline = limit.map(|limit| Instant::now() + limit);
        let mut phase = record.subscribe();
        let mut closing = self.closing.subscribe();
        let mut waited_for_a_start = false;
        loop {
            if self.is_closed() {
                return Err(Error::Closed {
                    plugin: name.into(),
                    state: Closed::ShutDown(crate::error::ShutDownDuring::Call),
                });
            }
            if let Some(current) = self.current(name).filter(|p| p.is_serving()) {
                return Ok(current);
            }
            let now = phase.borrow_and_update().clone();
            match now {
                Phase::Failed { since, reason } => {
                    return Err(Error::Closed { plugin: name.into(), state: Closed::CircuitOpen { since, reason } })
                }
                Phase::Restarting { attempt, since, reason } => {
                    let policy = self.current(name).map(|p| p.spec().supervision.while_restarting);
                    if policy == Some(WhileRestarting::FailFast) {
                        return Err(Error::Closed {
                            plugin: name.into(),
                            state: Closed::Restarting { attempt, since, reason },
                        });
                    }
                }
                Phase::NotStarted { last_error: Some(error) } if waited_for_a_start => return Err(error),
                Phase::NotStarted { .. } => {
                    waited_for_a_start = true;
                    self.start_lazy(name, record);
                    continue;
                }
                // Its outcome is this call's, failure included.
                Phase::Starting => waited_for_a_start = true,
                Phase::Steady => {
                    // Crashed, and the supervisor has not taken it in hand yet (it does at once
                    // when restarts are on).
                    let current = self.current(name);
                    let restarts = current.as_ref().is_some_and(|p| p.spec().supervision.restart.enabled);
                    if !restarts || current.as_ref().is_some_and(|p| p.is_stopped_on_purpose()) {
                        return current.or(held).ok_or_else(|| self.not_loaded(name));
                    }
                }
            }
            // A shutdown ends the wait too (the loop then refuses the call).
            let changed = async {
                tokio::select! {
                    _ = phase.changed() => {}
                    _ = closing.wait_for(|closing| *closing) => {}
                }
            };
            let outcome = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, changed).await.map_err(|_| ()),
                None => {
                    changed.await;
                    Ok(())
                }
            };
            if outcome.is_err() {
                return Err(self.still_not_serving(name, record, limit.unwrap_or_default()));
            }
        }
    }

    /// The default deadline of a call to `name`: its process's, else its configuration's.
    fn configured_call_timeout(&self, name: &str, held: Option<&Plugin>) -> Option<Duration> {
        match held {
            Some(plugin) => plugin.call_timeout(),
            None => self.configured.iter().find(|s| s.name == name).and_then(|s| s.connection.call_timeout),
        }
    }

    /// The process in the manager's list under `name` (serving or not).
    fn current(&self, name: &str) -> Option<Arc<Plugin>> {
        self.plugins.lock().unwrap().iter().find(|p| p.name == name).cloned()
    }

    fn not_loaded(&self, name: &str) -> Error {
        Error::NotFound { name: name.into(), kind: "plugin".into(), known: Vec::new(), elsewhere: None }
    }

    fn still_not_serving(&self, name: &str, record: &Supervised, waited: Duration) -> Error {
        let what = match record.phase() {
            Phase::Restarting { attempt, reason, .. } => {
                format!("it is restarting (attempt {attempt}, after: {reason})")
            }
            Phase::Starting | Phase::NotStarted { .. } => "it is still starting".into(),
            _ => "no process became ready".into(),
        };
        Error::Call {
            plugin: name.into(),
            method: "(waiting for the plugin)".into(),
            code: tonic::Code::DeadlineExceeded,
            message: format!("{what}; no ready process within {:.3}s (the call's deadline)", waited.as_secs_f64()),
        }
    }

    /// The first call of a lazy plugin starts it, once: later calls wait for the same start.
    fn start_lazy(self: &Arc<Self>, name: &str, record: &Arc<Supervised>) {
        let Some(spec) = self.configured.iter().find(|s| s.name == name).cloned() else { return };
        let begun = record.change_phase(|phase| {
            let idle = matches!(phase, Phase::NotStarted { .. });
            if idle {
                *phase = Phase::Starting;
            }
            idle
        });
        if begun {
            let manager = self.clone();
            let record = record.clone();
            tokio::spawn(async move {
                if let Err(error) = manager.start_named(spec, 0, StartWhy::Lazy).await {
                    record.set_phase(Phase::NotStarted { last_error: Some(error) });
                }
            });
        }
    }
}

/// Watches `plugin`, and starts its name again when it crashed or was unhealthy (see the
/// module's documentation). Ends once a new process took over, the circuit opened, or the
/// plugin was stopped on purpose.
async fn supervise<P: Send + Sync + 'static>(manager: Weak<Manager<P>>, plugin: Arc<Plugin>, record: Arc<Supervised>) {
    let policy = plugin.spec().supervision.clone();
    let trouble = watch_process(&plugin, &policy.health, &record).await;
    // A process replaced meanwhile (a reload) is no longer the name's: its end is no event.
    if plugin.is_retired() {
        return;
    }
    let mut reason = match trouble {
        Trouble::Stopped => return,
        Trouble::Crashed(how) => {
            emit(&manager, &plugin, EventKind::Crashed, how.clone());
            how
        }
        Trouble::Unhealthy(why) => {
            emit(&manager, &plugin, EventKind::Unhealthy, why.clone());
            plugin.kill_as_unhealthy();
            format!("unhealthy: {why}")
        }
    };
    if !policy.restart.enabled {
        return;
    }
    loop {
        if stopped_for_good(&manager) {
            return;
        }
        // Counted over the window, so that a plugin that starts and soon dies again waits
        // longer each time, not only within one attempt's retries.
        let Some(attempt) = record.allow_restart(policy.restart.max_restarts, policy.restart.window) else {
            let reason = format!(
                "{} restarts within {:.0}s; last: {reason}. Call pm.restart({:?}) to try again",
                policy.restart.max_restarts,
                policy.restart.window.as_secs_f64(),
                plugin.name
            );
            record.set_phase(Phase::Failed { since: SystemTime::now(), reason: reason.clone() });
            emit(&manager, &plugin, EventKind::Failed, reason);
            return;
        };
        let wait = policy.restart.backoff(attempt);
        record.set_phase(Phase::Restarting { attempt, since: SystemTime::now(), reason: reason.clone() });
        emit(
            &manager,
            &plugin,
            EventKind::Restarting,
            format!("attempt {attempt} in {:.3}s, after: {reason}", wait.as_secs_f64()),
        );
        let Some(closing) = manager.upgrade().map(|m| m.closing.subscribe()) else { return };
        if wait_or_close(wait, closing).await {
            return;
        }
        let Some(owner) = manager.upgrade() else { return };
        match owner.restart_after_crash(&plugin).await {
            Ok(true) => return,
            // Someone else (a manual restart, a reload, a load) has the name: theirs to finish.
            Ok(false) => {
                // Our own `restarting` (attempts count from 1; a manual restart's is 0) ends here.
                record.change_phase(|phase| {
                    let ours = matches!(phase, Phase::Restarting { attempt, .. } if *attempt > 0);
                    if ours {
                        *phase = Phase::Steady;
                    }
                    ours
                });
                return;
            }
            Err(error) => {
                if stopped_for_good(&manager) {
                    return;
                }
                reason = format!("the restart failed: {error}");
            }
        }
    }
}

/// The manager is gone, shut down, or the process exits: no restart any more.
fn stopped_for_good<P: Send + Sync + 'static>(manager: &Weak<Manager<P>>) -> bool {
    crate::runtime::exiting() || manager.upgrade().is_none_or(|m| m.is_closed())
}

/// Waits `wait`, unless the manager closes first (then true).
async fn wait_or_close(wait: Duration, mut closing: tokio::sync::watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(wait) => false,
        _ = closing.wait_for(|closing| *closing) => true,
    }
}

fn emit<P: Send + Sync + 'static>(manager: &Weak<Manager<P>>, plugin: &Plugin, kind: EventKind, message: String) {
    if let Some(manager) = manager.upgrade() {
        manager.emit(plugin, kind, message);
    }
}
