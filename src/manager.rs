//! Names → running plugins. Loads concurrently, refuses duplicates, shuts everything down.

use crate::error::{Error, Result};
use crate::kind::PluginKind;
use crate::logs::LogSink;
use crate::plugin::{Plugin, PluginSpec, PluginStatus};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Manager {
    plugins: Mutex<Vec<Arc<Plugin>>>,
    /// Names being loaded right now, so two concurrent loads cannot take the same name.
    loading: Mutex<HashSet<String>>,
    /// Plugins from the configuration, started by `load_all`.
    configured: Vec<PluginSpec>,
    sink: Arc<dyn LogSink>,
}

/// Outcome of loading one configured plugin.
pub struct LoadReport {
    pub name: String,
    pub kind: PluginKind,
    pub result: Result<Arc<Plugin>>,
}

impl Manager {
    pub fn new(configured: Vec<PluginSpec>, sink: Arc<dyn LogSink>) -> Self {
        Manager { plugins: Mutex::new(Vec::new()), loading: Mutex::new(HashSet::new()), configured, sink }
    }

    pub async fn load(&self, spec: PluginSpec) -> Result<Arc<Plugin>> {
        let name = spec.name.clone();
        if name.is_empty() {
            return Err(Error::config(format!("plugin at {} needs a non-empty name", spec.path.display())));
        }
        {
            let loaded = self.plugins.lock().unwrap();
            let mut loading = self.loading.lock().unwrap();
            if loaded.iter().any(|p| p.name == name) || !loading.insert(name.clone()) {
                return Err(Error::config(format!("a plugin named {name:?} is already loaded")));
            }
        }
        let _reservation = Reservation { loading: &self.loading, name: name.clone() };
        let plugin = Plugin::start(spec, self.sink.clone()).await?;
        self.plugins.lock().unwrap().push(plugin.clone());
        Ok(plugin)
    }

    /// Starts every configured plugin not yet loaded, all at once; one failure stops no other.
    pub async fn load_all(&self) -> Vec<LoadReport> {
        let pending: Vec<PluginSpec> = {
            let loaded = self.plugins.lock().unwrap();
            self.configured.iter().filter(|spec| !loaded.iter().any(|p| p.name == spec.name)).cloned().collect()
        };
        let loads = pending.into_iter().map(|spec| async move {
            let (name, kind) = (spec.name.clone(), spec.kind);
            LoadReport { name, kind, result: self.load(spec).await }
        });
        futures_util::future::join_all(loads).await
    }

    /// The plugin called `name`, checked to be of `kind` when one is given.
    pub fn get(&self, name: &str, kind: Option<PluginKind>) -> Result<Arc<Plugin>> {
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

    pub fn statuses(&self) -> Vec<PluginStatus> {
        self.plugins.lock().unwrap().iter().map(|p| p.status()).collect()
    }

    pub fn configured(&self) -> &[PluginSpec] {
        &self.configured
    }

    /// Stops every plugin concurrently (each: graceful, then killed after `grace`).
    pub async fn shutdown(&self, grace: Duration) {
        let plugins: Vec<Arc<Plugin>> = self.plugins.lock().unwrap().clone();
        futures_util::future::join_all(plugins.iter().map(|p| p.shutdown(grace))).await;
    }
}

struct Reservation<'a> {
    loading: &'a Mutex<HashSet<String>>,
    name: String,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.loading.lock().unwrap().remove(&self.name);
    }
}
