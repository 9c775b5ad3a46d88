//! Names → running plugins and in-process providers. Loads concurrently, refuses duplicates,
//! resolves fallback chains, shuts everything down. The one home of every name's policy: the
//! embedding layer (Python) only converts.

use crate::config::Builtin;
use crate::error::{Closed, Error, Result, ShutDownDuring};
use crate::logs::LogSink;
use crate::plugin::{Plugin, PluginSpec, PluginStatus, State};
pub use crate::provider::{InProcess, Provider};
pub use load_all::{strict_outcome, LoadReport};

mod hot_reload;
mod load_all;
mod registry;
mod reload;
pub mod stop_order;
mod supervise;
use crate::supervisor::{EventKind, Events, Phase, Supervised};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `P` is what the embedding layer needs to call an in-process provider (see [`InProcess`]);
/// `()` when there are none.
pub struct Manager<P: Send + Sync + 'static = ()> {
    plugins: Mutex<Vec<Arc<Plugin>>>,
    /// Names being loaded right now, so two concurrent loads cannot take the same name.
    loading: Mutex<HashSet<String>>,
    /// Plugins from the configuration, started by `load_all`.
    configured: Vec<PluginSpec>,
    /// Names that mean "the first ready plugin of this chain".
    fallbacks: Vec<crate::config::Fallback>,
    /// In-process providers the configuration declares (`type: builtin`).
    declared_builtins: Vec<Builtin>,
    /// In-process providers registered so far. Calling them is the embedding layer's business;
    /// their payloads are always dropped outside this lock (dropping one may run code that
    /// calls back in).
    in_process: Mutex<Vec<Arc<InProcess<P>>>>,
    sink: Arc<dyn LogSink>,
    /// Set by `shutdown` (under the `loading` lock): no new load may start, and loads in
    /// flight are abandoned (which kills what they started).
    closed: AtomicBool,
    closing: tokio::sync::watch::Sender<bool>,
    /// Signalled whenever a load ends, so shutdown can wait for loads in flight.
    load_finished: tokio::sync::Notify,
    /// Each plugin name's supervision record (phase, restart history, counters, saved state),
    /// which outlives its processes.
    supervised: Mutex<HashMap<String, Arc<Supervised>>>,
    events: Events,
    /// Names whose executable is watched for hot reload.
    watched: Mutex<HashSet<String>>,
    /// Processes a reload replaced that still finish their calls (`manager/reload.rs`).
    draining: Mutex<Vec<Arc<Plugin>>>,
    /// Set once `shutdown` has stopped every plugin (and sent their `stopped` events).
    shut_down: tokio::sync::watch::Sender<bool>,
}

impl<P: Send + Sync + 'static> Manager<P> {
    pub fn new(config: crate::config::Config, sink: Arc<dyn LogSink>) -> Self {
        Manager {
            plugins: Mutex::new(Vec::new()),
            loading: Mutex::new(HashSet::new()),
            configured: config.plugins,
            fallbacks: config.fallbacks,
            declared_builtins: config.builtins,
            in_process: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            closing: tokio::sync::watch::Sender::new(false),
            load_finished: tokio::sync::Notify::new(),
            supervised: Mutex::new(HashMap::new()),
            watched: Mutex::new(HashSet::new()),
            shut_down: tokio::sync::watch::Sender::new(false),
            draining: Mutex::new(Vec::new()),
            events: Events::new(sink.clone()),
            sink,
        }
    }

    /// Launches a plugin under its name. A name whose plugin crashed or was stopped is taken
    /// over: the old process is cleaned up and replaced (its restart count starts again at 0).
    pub async fn load(self: &Arc<Self>, spec: PluginSpec) -> Result<Arc<Plugin>> {
        self.start_named(spec, 0, StartWhy::Load).await
    }

    /// Stops the plugin `name` (gracefully, if it still runs) and starts it again with the spec
    /// and config it was loaded with; a configured plugin that never loaded is started from its
    /// configuration. On failure the old entry stays, stopped, and the error says why.
    /// A plugin whose circuit is open (`failed`) is started again with a fresh restart history.
    pub async fn restart(self: &Arc<Self>, name: &str) -> Result<Arc<Plugin>> {
        let (spec, restarts) = {
            let plugins = self.plugins.lock().unwrap();
            match plugins.iter().find(|p| p.name == name) {
                Some(plugin) => (plugin.spec().clone(), plugin.restarts() + 1),
                None => match self.configured.iter().find(|spec| spec.name == name) {
                    Some(spec) => (spec.clone(), 0),
                    None => {
                        let known = plugins.iter().map(|p| p.name.clone()).collect();
                        return Err(Error::NotFound {
                            name: name.into(),
                            kind: "plugin".into(),
                            known,
                            elsewhere: None,
                        });
                    }
                },
            }
        };
        if let Some(record) = self.existing_record(name) {
            record.reset_circuit();
        }
        self.start_named(spec, restarts, StartWhy::ManualRestart).await
    }

    /// Starts `crashed`'s name again, unless another process took the name over meanwhile
    /// (then `Ok(false)`).
    pub(super) async fn restart_after_crash(self: &Arc<Self>, crashed: &Arc<Plugin>) -> Result<bool> {
        let still_current = self.plugins.lock().unwrap().iter().any(|p| Arc::ptr_eq(p, crashed));
        if !still_current || self.loading.lock().unwrap().contains(&crashed.name) {
            return Ok(false);
        }
        self.start_named(crashed.spec().clone(), crashed.restarts() + 1, StartWhy::AutoRestart).await?;
        Ok(true)
    }

    async fn start_named(self: &Arc<Self>, spec: PluginSpec, restarts: u32, why: StartWhy) -> Result<Arc<Plugin>> {
        let takeover = why.takeover();
        let name = spec.name.clone();
        crate::names::check_name(&name)
            .map_err(|e| Error::config(format!("plugin at {}: {e}", spec.path.display())))?;
        let shut_down = || Error::Closed { plugin: name.clone(), state: Closed::ShutDown(ShutDownDuring::Load) };
        if crate::runtime::exiting() {
            return Err(shut_down());
        }
        let previous = {
            let loaded = self.plugins.lock().unwrap();
            let mut loading = self.loading.lock().unwrap();
            if self.closed.load(Ordering::SeqCst) {
                return Err(shut_down());
            }
            if self.in_process.lock().unwrap().iter().any(|b| b.name == name)
                || self.declared_builtins.iter().any(|b| b.name == name)
            {
                return Err(Error::config(format!("{name:?} is the name of an in-process provider")));
            }
            if self.is_fallback(name.as_str()) {
                return Err(Error::config(format!("{name:?} is the name of a fallback chain")));
            }
            if loading.contains(&name) {
                return Err(Error::config(format!("a plugin named {name:?} is being loaded or restarted right now")));
            }
            let previous = loaded.iter().find(|p| p.name == name).cloned();
            if let Some(running) = previous.as_ref().filter(|p| takeover == Takeover::FinishedOnly && !p.is_finished())
            {
                return Err(Error::config(format!(
                    "a plugin named {name:?} is already loaded ({}); use restart({name:?}) to start it again",
                    running.state().as_str()
                )));
            }
            loading.insert(name.clone());
            previous
        };
        let _reservation = Reservation { manager: self, name: name.clone() };
        // A running one hands over its state as of now, and calls wait for its successor.
        let replaced = previous.as_ref().filter(|p| p.is_serving()).map(|p| (p, self.record(&name, || Phase::Steady)));
        if let Some((previous, record)) = &replaced {
            if why.keeps_state() {
                if let Some(state) = previous.fetch_state().await {
                    record.save_state(state);
                }
            }
            let reason = "pm.restart() asked for a new process".to_string();
            record.set_phase(Phase::Restarting { attempt: 0, since: std::time::SystemTime::now(), reason });
        }
        if let Some(previous) = &previous {
            // A crashed one only needs its leftovers swept; a running one is asked to stop.
            previous.shutdown(previous.shutdown_grace()).await;
        }
        let grace = spec.shutdown_grace;
        let mut closing = self.closing.subscribe();
        let started = tokio::select! {
            started = Plugin::start(spec, self.sink.clone()) => started,
            // Dropping the start future kills whatever it launched.
            () = async { let _ = closing.wait_for(|closing| *closing).await; } => return Err(shut_down()),
        };
        let plugin = match started {
            Ok(plugin) => plugin,
            Err(error) => {
                // Calls that waited for the new process fail with the old one's state.
                if let Some((_, record)) = &replaced {
                    record.set_phase(Phase::Steady);
                }
                return Err(error);
            }
        };
        plugin.set_restarts(restarts);
        let record = self.record(&name, || Phase::Steady);
        if let Some(state) = record.saved_state().filter(|_| why.keeps_state()) {
            if let Err(error) = plugin.restore_state(state).await {
                plugin.kill_now().await;
                return Err(error);
            }
        }
        let mut plugins = self.plugins.lock().unwrap();
        if self.closed.load(Ordering::SeqCst) {
            drop(plugins);
            plugin.shutdown(grace).await;
            return Err(Error::Closed { plugin: name, state: Closed::ShutDown(ShutDownDuring::LoadInFlight) });
        }
        if let Some(previous) = &previous {
            plugins.retain(|p| !Arc::ptr_eq(p, previous));
            record.retired.absorb(previous.stats());
        }
        plugins.push(plugin.clone());
        drop(plugins);
        self.supervise(&plugin, &record);
        if plugin.spec().supervision.hot_reload && plugin.pid != 0 {
            self.watch_for_changes(&name, plugin.path.clone());
        }
        self.emit(&plugin, why.event(), format!("pid {}", plugin.pid));
        Ok(plugin)
    }

    /// Every plugin name's status: its current process, with what supervision knows of the name
    /// (restarting, failed, not started yet, and the counters of all its processes).
    pub fn statuses(&self) -> Vec<PluginStatus> {
        let plugins = self.plugins.lock().unwrap().clone();
        let records = self.supervised.lock().unwrap().clone();
        let mut statuses: Vec<PluginStatus> = plugins
            .iter()
            .map(|plugin| {
                let mut status = plugin.status();
                if let Some(record) = records.get(&plugin.name) {
                    record.fill(&mut status);
                }
                status
            })
            .collect();
        for spec in self.configured.iter().filter(|s| !plugins.iter().any(|p| p.name == s.name)) {
            if let Some(record) = records.get(&spec.name) {
                let mut status = PluginStatus::not_started(spec);
                record.fill(&mut status);
                statuses.push(status);
            }
        }
        statuses
    }

    pub fn configured(&self) -> &[PluginSpec] {
        &self.configured
    }

    /// The fallback chains the configuration declares.
    pub fn fallback_chains(&self) -> &[crate::config::Fallback] {
        &self.fallbacks
    }

    /// The names the configuration declares `type: builtin`.
    pub fn declared_builtins(&self) -> &[Builtin] {
        &self.declared_builtins
    }

    /// Checks every configured plugin as far as possible without launching it. Nothing is
    /// started, so what `load` would report as a failed start is a configuration problem here.
    pub fn validate(&self) -> Vec<(PluginSpec, Result<Option<crate::manifest::Manifest>>)> {
        let as_config_error = |error: Error| match error {
            Error::Start { plugin, message, .. } => Error::config(format!("plugin {plugin:?}: {message}")),
            other => other,
        };
        self.configured
            .iter()
            .map(|spec| {
                let checked = crate::plugin::prepare(spec.clone()).map(|(_, manifest)| manifest);
                (spec.clone(), checked.map_err(as_config_error))
            })
            .collect()
    }

    /// The first, synchronous half of [`Manager::shutdown`]: from now on nothing can be loaded,
    /// registered or called. Hands back the in-process providers (for the caller to drop
    /// outside any lock of ours, e.g. while it holds its interpreter).
    pub fn close(&self) -> Vec<Arc<InProcess<P>>> {
        {
            let _loading = self.loading.lock().unwrap();
            self.closed.store(true, Ordering::SeqCst);
        }
        self.closing.send_replace(true);
        self.take_in_process()
    }

    /// Stops every plugin (each: graceful, then killed after `grace`, or after its own
    /// configured grace period), dependents before what they depend on, independent ones
    /// concurrently. Loads still in flight are waited for and stopped. `total` bounds the
    /// whole: what still runs then is killed at once.
    pub async fn shutdown(&self, grace: Option<Duration>, total: Option<Duration>) {
        drop(self.close());
        loop {
            let finished = self.load_finished.notified();
            if self.loading.lock().unwrap().is_empty() {
                break;
            }
            finished.await;
        }
        let mut plugins: Vec<Arc<Plugin>> = self.plugins.lock().unwrap().clone();
        // Processes a reload replaced, still finishing their calls, stop now too.
        plugins.extend(self.draining.lock().unwrap().iter().cloned());
        let stopped = |plugin: &Plugin| self.emit(plugin, EventKind::Stopped, "");
        let in_order = stop_order::stop_in_dependency_order(plugins.clone(), grace, &stopped);
        if let Some(total) = total {
            if tokio::time::timeout(total, in_order).await.is_err() {
                // Out of time: whatever still runs is killed now, all at once.
                futures_util::future::join_all(plugins.iter().filter(|p| p.state() != State::Stopped).map(
                    |p| async move {
                        let was_running = !p.is_finished();
                        p.kill_now().await;
                        if was_running {
                            stopped(p);
                        }
                    },
                ))
                .await;
            }
        } else {
            in_order.await;
        }
        self.shut_down.send_replace(true);
    }

    /// Becomes true once `shutdown` has stopped every plugin: no event comes after that.
    pub fn shut_down(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shut_down.subscribe()
    }
}

/// Why a plugin is being started: what it may take over, and the event its start is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartWhy {
    Load,
    Lazy,
    ManualRestart,
    AutoRestart,
}

impl StartWhy {
    fn takeover(self) -> Takeover {
        match self {
            StartWhy::Load | StartWhy::Lazy => Takeover::FinishedOnly,
            _ => Takeover::Any,
        }
    }

    /// Whether the new process takes over the state the name's earlier process kept.
    fn keeps_state(self) -> bool {
        matches!(self, StartWhy::AutoRestart | StartWhy::ManualRestart)
    }

    fn event(self) -> EventKind {
        match self {
            StartWhy::Load | StartWhy::Lazy => EventKind::Loaded,
            StartWhy::ManualRestart | StartWhy::AutoRestart => EventKind::Restarted,
        }
    }
}

/// Whether starting a plugin may take over a name that already has one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Takeover {
    /// Only from a plugin that crashed or was stopped (`load`).
    FinishedOnly,
    /// From any plugin, stopping it first (`restart`).
    Any,
}

impl<P: Send + Sync + 'static> Drop for Manager<P> {
    /// A manager dropped without `shutdown()` stops its plugins the same graceful way, in the
    /// background (the host's exit path waits for them).
    fn drop(&mut self) {
        // Ends the tasks that outlive no manager: hot-reload watchers, waiting calls.
        self.closing.send_replace(true);
        if self.closed.load(Ordering::SeqCst) || !crate::runtime::usable() {
            return;
        }
        let plugins = std::mem::take(self.plugins.get_mut().unwrap_or_else(|e| e.into_inner()));
        if plugins.iter().all(|p| p.state() == crate::plugin::State::Stopped) {
            return;
        }
        let stop_all = async move {
            futures_util::future::join_all(plugins.iter().map(|p| p.shutdown(p.shutdown_grace()))).await;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(stop_all)),
            Err(_) => drop(crate::runtime::runtime().spawn(stop_all)),
        }
    }
}

/// Holds a name while its plugin loads; releasing it wakes a waiting shutdown.
struct Reservation<'a, P: Send + Sync + 'static> {
    manager: &'a Manager<P>,
    name: String,
}

impl<P: Send + Sync + 'static> Drop for Reservation<'_, P> {
    fn drop(&mut self) {
        self.manager.loading.lock().unwrap().remove(&self.name);
        self.manager.load_finished.notify_waiters();
    }
}

#[cfg(test)]
mod tests;
