//! Names → running plugins. Loads concurrently, refuses duplicates, shuts everything down.

use crate::error::{Error, Result};
use crate::kind::PluginKind;
use crate::logs::LogSink;
use crate::plugin::{Plugin, PluginSpec, PluginStatus};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Manager {
    plugins: Mutex<Vec<Arc<Plugin>>>,
    /// Names being loaded right now, so two concurrent loads cannot take the same name.
    loading: Mutex<HashSet<String>>,
    /// Plugins from the configuration, started by `load_all`.
    configured: Vec<PluginSpec>,
    /// Names that mean "the first ready plugin of this chain".
    fallbacks: Vec<crate::config::Fallback>,
    sink: Arc<dyn LogSink>,
    /// Set by `shutdown` (under the `loading` lock): no new load may start, and loads in
    /// flight are abandoned (which kills what they started).
    closed: AtomicBool,
    closing: tokio::sync::watch::Sender<bool>,
    /// Signalled whenever a load ends, so shutdown can wait for loads in flight.
    load_finished: tokio::sync::Notify,
}

/// Outcome of loading one configured plugin.
pub struct LoadReport {
    pub name: String,
    pub kind: PluginKind,
    pub result: Result<Arc<Plugin>>,
}

impl Manager {
    pub fn new(config: crate::config::Config, sink: Arc<dyn LogSink>) -> Self {
        Manager {
            plugins: Mutex::new(Vec::new()),
            loading: Mutex::new(HashSet::new()),
            configured: config.plugins,
            fallbacks: config.fallbacks,
            sink,
            closed: AtomicBool::new(false),
            closing: tokio::sync::watch::Sender::new(false),
            load_finished: tokio::sync::Notify::new(),
        }
    }

    pub async fn load(&self, spec: PluginSpec) -> Result<Arc<Plugin>> {
        let name = spec.name.clone();
        if name.is_empty() {
            return Err(Error::config(format!("plugin at {} needs a non-empty name", spec.path.display())));
        }
        let shut_down = || Error::Closed { plugin: name.clone(), state: "not loaded: the manager was shut down".into() };
        {
            let loaded = self.plugins.lock().unwrap();
            let mut loading = self.loading.lock().unwrap();
            if self.closed.load(Ordering::SeqCst) {
                return Err(shut_down());
            }
            if loaded.iter().any(|p| p.name == name) || !loading.insert(name.clone()) {
                return Err(Error::config(format!("a plugin named {name:?} is already loaded")));
            }
        }
        let _reservation = Reservation { manager: self, name: name.clone() };
        let grace = spec.shutdown_grace;
        let mut closing = self.closing.subscribe();
        let plugin = tokio::select! {
            started = Plugin::start(spec, self.sink.clone()) => started?,
            // Dropping the start future kills whatever it launched.
            () = async { let _ = closing.wait_for(|closing| *closing).await; } => return Err(shut_down()),
        };
        let mut plugins = self.plugins.lock().unwrap();
        if self.closed.load(Ordering::SeqCst) {
            drop(plugins);
            plugin.shutdown(grace).await;
            return Err(Error::Closed { plugin: name, state: "stopped: the manager was shut down while it loaded".into() });
        }
        plugins.push(plugin.clone());
        Ok(plugin)
    }

    /// Starts every configured plugin not yet loaded (or only those named in `only`), all at
    /// once; one failure stops no other.
    pub async fn load_all(&self, only: Option<&[String]>) -> Vec<LoadReport> {
        // Naming a chain loads its members.
        let expanded: Option<Vec<String>> = only.map(|names| {
            let mut all = names.to_vec();
            for chain in self.fallbacks.iter().filter(|f| names.contains(&f.name)) {
                all.extend(chain.members.iter().cloned());
            }
            all
        });
        let only = expanded.as_deref();
        let pending: Vec<PluginSpec> = {
            let loaded = self.plugins.lock().unwrap();
            self.configured
                .iter()
                .filter(|spec| only.is_none_or(|names| names.contains(&spec.name)))
                .filter(|spec| !loaded.iter().any(|p| p.name == spec.name))
                .cloned()
                .collect()
        };
        let loads = pending.into_iter().map(|spec| async move {
            let (name, kind) = (spec.name.clone(), spec.kind);
            LoadReport { name, kind, result: self.load(spec).await }
        });
        let mut reports = futures_util::future::join_all(loads).await;
        // Each chain reports the member that serves it (the members' own reports say why the
        // ones before it do not).
        for chain in &self.fallbacks {
            if only.is_none_or(|names| names.contains(&chain.name)) {
                reports.push(LoadReport { name: chain.name.clone(), kind: chain.kind, result: self.first_ready(chain) });
            }
        }
        reports
    }

    /// Whether `name` is a fallback chain (resolved again on every call by typed clients).
    pub fn is_fallback(&self, name: &str) -> bool {
        self.fallbacks.iter().any(|f| f.name == name)
    }

    /// The plugin called `name`, checked to be of `kind` when one is given. For a fallback
    /// chain: its first member that is loaded and ready.
    pub fn get(&self, name: &str, kind: Option<PluginKind>) -> Result<Arc<Plugin>> {
        if let Some(chain) = self.fallbacks.iter().find(|f| f.name == name && kind.is_none_or(|k| k == f.kind)) {
            return self.first_ready(chain);
        }
        let plugins = self.plugins.lock().unwrap();
        let wanted = |p: &&Arc<Plugin>| kind.is_none_or(|k| p.kind == k);
        if let Some(plugin) = plugins.iter().find(|p| p.name == name) {
            if wanted(&plugin) {
                return Ok(plugin.clone());
            }
        }
        let kind_name = kind.map(|k| k.as_str().to_string()).unwrap_or_else(|| "plugin".into());
        let known = plugins.iter().filter(wanted).map(|p| p.name.clone()).collect();
        Err(Error::NotFound { name: name.into(), kind: kind_name, known })
    }

    fn first_ready(&self, chain: &crate::config::Fallback) -> Result<Arc<Plugin>> {
        let plugins = self.plugins.lock().unwrap();
        let mut why = Vec::new();
        for member in &chain.members {
            match plugins.iter().find(|p| p.name == *member) {
                Some(plugin) if plugin.is_serving() => return Ok(plugin.clone()),
                Some(plugin) => why.push(format!("{member} is {}", plugin.state().as_str())),
                None => why.push(format!("{member} is not loaded")),
            }
        }
        Err(Error::Closed { plugin: chain.name.clone(), state: format!("a fallback chain with no ready member ({})", why.join(", ")) })
    }

    pub fn statuses(&self) -> Vec<PluginStatus> {
        self.plugins.lock().unwrap().iter().map(|p| p.status()).collect()
    }

    pub fn configured(&self) -> &[PluginSpec] {
        &self.configured
    }

    /// Checks every configured plugin as far as possible without launching it.
    pub fn validate(&self) -> Vec<(PluginSpec, Result<Option<crate::manifest::Manifest>>)> {
        self.configured
            .iter()
            .map(|spec| (spec.clone(), crate::plugin::prepare(spec.clone()).map(|(_, manifest)| manifest)))
            .collect()
    }

    /// Stops every plugin concurrently (each: graceful, then killed after `grace`, or after
    /// its own configured grace period). Loads still in flight are waited for and stopped.
    pub async fn shutdown(&self, grace: Option<Duration>) {
        {
            let _loading = self.loading.lock().unwrap();
            self.closed.store(true, Ordering::SeqCst);
        }
        self.closing.send_replace(true);
        loop {
            let finished = self.load_finished.notified();
            if self.loading.lock().unwrap().is_empty() {
                break;
            }
            finished.await;
        }
        let plugins: Vec<Arc<Plugin>> = self.plugins.lock().unwrap().clone();
        futures_util::future::join_all(plugins.iter().map(|p| p.shutdown(grace.unwrap_or_else(|| p.shutdown_grace())))).await;
    }
}

/// Holds a name while its plugin loads; releasing it wakes a waiting shutdown.
struct Reservation<'a> {
    manager: &'a Manager,
    name: String,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.manager.loading.lock().unwrap().remove(&self.name);
        self.manager.load_finished.notify_waiters();
    }
}
