//! Names → running plugins and in-process providers. Loads concurrently, refuses duplicates,
//! resolves fallback chains, shuts everything down.

use crate::config::Builtin;
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
    /// In-process providers the configuration declares (`type: builtin`).
    declared_builtins: Vec<Builtin>,
    /// In-process providers registered so far. The core only tracks their names: calling them
    /// is the embedding layer's business.
    builtins: Mutex<Vec<Builtin>>,
    sink: Arc<dyn LogSink>,
    /// Set by `shutdown` (under the `loading` lock): no new load may start, and loads in
    /// flight are abandoned (which kills what they started).
    closed: AtomicBool,
    closing: tokio::sync::watch::Sender<bool>,
    /// Signalled whenever a load ends, so shutdown can wait for loads in flight.
    load_finished: tokio::sync::Notify,
}

/// What a name resolves to: a plugin process or an in-process provider.
#[derive(Clone)]
pub enum Provider {
    Plugin(Arc<Plugin>),
    Builtin(Builtin),
}

impl Provider {
    pub fn name(&self) -> &str {
        match self {
            Provider::Plugin(plugin) => &plugin.name,
            Provider::Builtin(builtin) => &builtin.name,
        }
    }
}

/// Outcome of loading one configured plugin (for a chain: the member that serves it).
pub struct LoadReport {
    pub name: String,
    pub kind: PluginKind,
    pub result: Result<Provider>,
}

impl Manager {
    pub fn new(config: crate::config::Config, sink: Arc<dyn LogSink>) -> Self {
        Manager {
            plugins: Mutex::new(Vec::new()),
            loading: Mutex::new(HashSet::new()),
            configured: config.plugins,
            fallbacks: config.fallbacks,
            declared_builtins: config.builtins,
            builtins: Mutex::new(Vec::new()),
            sink,
            closed: AtomicBool::new(false),
            closing: tokio::sync::watch::Sender::new(false),
            load_finished: tokio::sync::Notify::new(),
        }
    }

    /// Launches a plugin under its name. A name whose plugin crashed or was stopped is taken
    /// over: the old process is cleaned up and replaced (its restart count starts again at 0).
    pub async fn load(&self, spec: PluginSpec) -> Result<Arc<Plugin>> {
        self.start_named(spec, 0, Takeover::FinishedOnly).await
    }

    /// Stops the plugin `name` (gracefully, if it still runs) and starts it again with the spec
    /// and config it was loaded with; a configured plugin that never loaded is started from its
    /// configuration. On failure the old entry stays, stopped, and the error says why.
    pub async fn restart(&self, name: &str) -> Result<Arc<Plugin>> {
        let (spec, restarts) = {
            let plugins = self.plugins.lock().unwrap();
            match plugins.iter().find(|p| p.name == name) {
                Some(plugin) => (plugin.spec().clone(), plugin.restarts() + 1),
                None => match self.configured.iter().find(|spec| spec.name == name) {
                    Some(spec) => (spec.clone(), 0),
                    None => {
                        let known = plugins.iter().map(|p| p.name.clone()).collect();
                        return Err(Error::NotFound { name: name.into(), kind: "plugin".into(), known });
                    }
                },
            }
        };
        self.start_named(spec, restarts, Takeover::Any).await
    }

    async fn start_named(&self, spec: PluginSpec, restarts: u32, takeover: Takeover) -> Result<Arc<Plugin>> {
        let name = spec.name.clone();
        crate::names::check_name(&name)
            .map_err(|e| Error::config(format!("plugin at {}: {e}", spec.path.display())))?;
        let shut_down =
            || Error::Closed { plugin: name.clone(), state: "not loaded: the manager was shut down".into() };
        let previous = {
            let loaded = self.plugins.lock().unwrap();
            let mut loading = self.loading.lock().unwrap();
            if self.closed.load(Ordering::SeqCst) {
                return Err(shut_down());
            }
            if self.builtins.lock().unwrap().iter().any(|b| b.name == name)
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
        if let Some(previous) = &previous {
            // A crashed one only needs its leftovers swept; a running one is asked to stop.
            previous.shutdown(previous.shutdown_grace()).await;
        }
        let grace = spec.shutdown_grace;
        let mut closing = self.closing.subscribe();
        let plugin = tokio::select! {
            started = Plugin::start(spec, self.sink.clone()) => started?,
            // Dropping the start future kills whatever it launched.
            () = async { let _ = closing.wait_for(|closing| *closing).await; } => return Err(shut_down()),
        };
        plugin.set_restarts(restarts);
        let mut plugins = self.plugins.lock().unwrap();
        if self.closed.load(Ordering::SeqCst) {
            drop(plugins);
            plugin.shutdown(grace).await;
            return Err(Error::Closed {
                plugin: name,
                state: "stopped: the manager was shut down while it loaded".into(),
            });
        }
        if let Some(previous) = &previous {
            plugins.retain(|p| !Arc::ptr_eq(p, previous));
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
                // A crashed or stopped plugin is started again.
                .filter(|spec| !loaded.iter().any(|p| p.name == spec.name && !p.is_finished()))
                .cloned()
                .collect()
        };
        let loads = pending.into_iter().map(|spec| async move {
            let (name, kind) = (spec.name.clone(), spec.kind);
            LoadReport { name, kind, result: self.load(spec).await.map(Provider::Plugin) }
        });
        let mut reports = futures_util::future::join_all(loads).await;
        // Declared in-process providers are "loaded" when the orchestrator registered them.
        for declared in &self.declared_builtins {
            if only.is_none_or(|names| names.contains(&declared.name)) {
                reports.push(LoadReport {
                    name: declared.name.clone(),
                    kind: declared.kind,
                    result: self.registered_builtin(declared),
                });
            }
        }
        // Each chain reports the member that serves it (the members' own reports say why the
        // ones before it do not).
        for chain in &self.fallbacks {
            if only.is_none_or(|names| names.contains(&chain.name)) {
                reports.push(LoadReport {
                    name: chain.name.clone(),
                    kind: chain.kind,
                    result: self.first_ready(chain),
                });
            }
        }
        reports
    }

    /// Registers an in-process provider under `name`. A name the configuration declares
    /// `type: builtin` must be registered with the declared type; any other name must be free.
    pub fn register_builtin(&self, name: &str, kind: PluginKind) -> Result<()> {
        crate::names::check_name(name).map_err(|e| Error::config(format!("cannot register this provider: {e}")))?;
        let plugins = self.plugins.lock().unwrap();
        let loading = self.loading.lock().unwrap();
        let mut builtins = self.builtins.lock().unwrap();
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed {
                plugin: name.into(),
                state: "not registered: the manager was shut down".into(),
            });
        }
        let taken_by = if builtins.iter().any(|b| b.name == name) {
            Some("an in-process provider already registered")
        } else if plugins.iter().any(|p| p.name == name)
            || loading.contains(name)
            || self.configured.iter().any(|s| s.name == name)
        {
            Some("a plugin")
        } else if self.is_fallback(name) {
            Some("a fallback chain")
        } else {
            None
        };
        if let Some(what) = taken_by {
            return Err(Error::config(format!("cannot register {name:?}: the name is {what}")));
        }
        if let Some(declared) = self.declared_builtins.iter().find(|b| b.name == name) {
            if declared.kind != kind {
                return Err(Error::config(format!(
                    "cannot register {name:?} as {}: the configuration declares it {}",
                    kind.with_article(),
                    declared.kind.with_article()
                )));
            }
        }
        builtins.push(Builtin { name: name.into(), kind });
        Ok(())
    }

    /// Removes an in-process provider; fallback chains skip it from the next call on.
    pub fn unregister_builtin(&self, name: &str) -> bool {
        let mut builtins = self.builtins.lock().unwrap();
        let before = builtins.len();
        builtins.retain(|b| b.name != name);
        builtins.len() != before
    }

    fn registered_builtin(&self, declared: &Builtin) -> Result<Provider> {
        match self.builtins.lock().unwrap().iter().find(|b| b.name == declared.name) {
            Some(builtin) => Ok(Provider::Builtin(builtin.clone())),
            None => Err(Error::config(format!(
                "{:?} is declared `type: builtin` but no in-process provider was registered under that name",
                declared.name
            ))),
        }
    }

    /// Whether `name` is a fallback chain (resolved again on every call by typed clients).
    pub fn is_fallback(&self, name: &str) -> bool {
        self.fallbacks.iter().any(|f| f.name == name)
    }

    /// True once `shutdown` has begun: nothing can be loaded, registered or called any more.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// What `name` means now, checked to be of `kind` when one is given: a loaded plugin, an
    /// in-process provider, or, for a fallback chain, its first member that is ready.
    pub fn resolve(&self, name: &str, kind: Option<PluginKind>) -> Result<Provider> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed { plugin: name.into(), state: "closed: its manager was shut down".into() });
        }
        if let Some(chain) = self.fallbacks.iter().find(|f| f.name == name && kind.is_none_or(|k| k == f.kind)) {
            return self.first_ready(chain);
        }
        let plugins = self.plugins.lock().unwrap();
        let builtins = self.builtins.lock().unwrap();
        let wanted = |k: PluginKind| kind.is_none_or(|wanted| wanted == k);
        if let Some(plugin) = plugins.iter().find(|p| p.name == name && wanted(p.kind)) {
            return Ok(Provider::Plugin(plugin.clone()));
        }
        if let Some(builtin) = builtins.iter().find(|b| b.name == name && wanted(b.kind)) {
            return Ok(Provider::Builtin(builtin.clone()));
        }
        let kind_name = kind.map(|k| k.as_str().to_string()).unwrap_or_else(|| "plugin".into());
        let known = plugins
            .iter()
            .filter(|p| wanted(p.kind))
            .map(|p| p.name.clone())
            .chain(builtins.iter().filter(|b| wanted(b.kind)).map(|b| b.name.clone()))
            .collect();
        Err(Error::NotFound { name: name.into(), kind: kind_name, known })
    }

    /// The plugin process called `name` (or serving the chain `name`); an in-process provider
    /// is refused, since the caller needs a process to talk to.
    pub fn get(&self, name: &str, kind: Option<PluginKind>) -> Result<Arc<Plugin>> {
        match self.resolve(name, kind)? {
            Provider::Plugin(plugin) => Ok(plugin),
            Provider::Builtin(builtin) => Err(Error::config(format!(
                "{:?} is served by the in-process provider {:?}, not by a plugin process",
                name, builtin.name
            ))),
        }
    }

    /// The process that now serves the name of `plugin`, if `plugin` crashed or stopped and was
    /// replaced since (a restart, or a load that took the name over). Clients holding `plugin`
    /// move on to it, so a restart is transparent to them.
    pub fn successor(&self, plugin: &Arc<Plugin>) -> Option<Arc<Plugin>> {
        if !plugin.is_finished() {
            return None;
        }
        let plugins = self.plugins.lock().unwrap();
        plugins.iter().find(|p| p.name == plugin.name && !Arc::ptr_eq(p, plugin)).cloned()
    }

    fn first_ready(&self, chain: &crate::config::Fallback) -> Result<Provider> {
        let plugins = self.plugins.lock().unwrap();
        let builtins = self.builtins.lock().unwrap();
        let mut why = Vec::new();
        for member in &chain.members {
            if let Some(builtin) = builtins.iter().find(|b| b.name == *member) {
                // In-process providers cannot crash away from us: registered means ready.
                return Ok(Provider::Builtin(builtin.clone()));
            }
            match plugins.iter().find(|p| p.name == *member) {
                Some(plugin) if plugin.is_serving() => return Ok(Provider::Plugin(plugin.clone())),
                Some(plugin) => why.push(format!("{member} is {}", plugin.state().as_str())),
                None if self.declared_builtins.iter().any(|b| b.name == *member) => {
                    why.push(format!("{member} (in-process) is not registered"))
                }
                None => why.push(format!("{member} is not loaded")),
            }
        }
        Err(Error::Closed {
            plugin: chain.name.clone(),
            state: format!("a fallback chain with no ready member ({})", why.join(", ")),
        })
    }

    pub fn statuses(&self) -> Vec<PluginStatus> {
        self.plugins.lock().unwrap().iter().map(|p| p.status()).collect()
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

    /// Stops every plugin concurrently (each: graceful, then killed after `grace`, or after
    /// its own configured grace period). Loads still in flight are waited for and stopped.
    pub async fn shutdown(&self, grace: Option<Duration>) {
        {
            let _loading = self.loading.lock().unwrap();
            self.closed.store(true, Ordering::SeqCst);
        }
        self.closing.send_replace(true);
        self.builtins.lock().unwrap().clear();
        loop {
            let finished = self.load_finished.notified();
            if self.loading.lock().unwrap().is_empty() {
                break;
            }
            finished.await;
        }
        let plugins: Vec<Arc<Plugin>> = self.plugins.lock().unwrap().clone();
        futures_util::future::join_all(plugins.iter().map(|p| p.shutdown(grace.unwrap_or_else(|| p.shutdown_grace()))))
            .await;
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

impl Drop for Manager {
    /// A manager dropped without `shutdown()` stops its plugins the same graceful way, in the
    /// background (the host's exit path waits for them).
    fn drop(&mut self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::LogRecord;

    struct Discard;
    impl LogSink for Discard {
        fn log(&self, _record: LogRecord) {}
    }

    /// A chain `resilient` of a configured (never loaded) plugin `remote` then a declared
    /// in-process provider `local`.
    fn manager() -> Manager {
        let config = serde_json::json!({"plugins": {"llm_providers": {
            "remote": {"path": "/nonexistent/remote"},
            "local": {"type": "builtin"},
            "resilient": {"fallbacks": ["remote", "local"]},
        }}});
        let config =
            crate::config::from_value(&config, "test", std::path::Path::new("/"), &mut crate::config::no_entry_points)
                .unwrap();
        Manager::new(config, Arc::new(Discard))
    }

    #[test]
    fn a_chain_is_served_by_its_registered_in_process_member() {
        let manager = manager();
        let unserved = manager.resolve("resilient", Some(PluginKind::Llm)).err().unwrap().to_string();
        assert!(
            unserved.contains("remote is not loaded") && unserved.contains("local (in-process) is not registered"),
            "{unserved}"
        );
        manager.register_builtin("local", PluginKind::Llm).unwrap();
        assert!(
            matches!(manager.resolve("resilient", Some(PluginKind::Llm)), Ok(Provider::Builtin(b)) if b.name == "local")
        );
        assert!(matches!(manager.resolve("local", None), Ok(Provider::Builtin(_))));
        // A process is needed for raw calls.
        assert!(manager.get("local", None).is_err());
        assert!(manager.unregister_builtin("local"));
        assert!(manager.resolve("resilient", Some(PluginKind::Llm)).is_err());
    }

    #[test]
    fn registration_refuses_taken_names_and_the_wrong_kind() {
        let manager = manager();
        for taken in ["remote", "resilient"] {
            assert!(manager.register_builtin(taken, PluginKind::Llm).is_err(), "{taken}");
        }
        let wrong_kind = manager.register_builtin("local", PluginKind::Embedder).err().unwrap().to_string();
        assert!(wrong_kind.contains("declares it an llm_provider"), "{wrong_kind}");
        manager.register_builtin("extra", PluginKind::Llm).unwrap();
        assert!(manager.register_builtin("extra", PluginKind::Llm).is_err());
    }

    #[tokio::test]
    async fn nothing_resolves_or_registers_after_shutdown() {
        let manager = manager();
        manager.register_builtin("local", PluginKind::Llm).unwrap();
        manager.shutdown(None).await;
        assert!(matches!(manager.resolve("local", None), Err(Error::Closed { .. })));
        assert!(matches!(manager.register_builtin("other", PluginKind::Llm), Err(Error::Closed { .. })));
    }
}
