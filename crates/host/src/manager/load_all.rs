//! Loading every configured entry at once (`load_all`) and its report. Plugins start in
//! dependency order (docs/supervision.md, "Dependencies"): each waits for the plugins it
//! depends on, independent ones start concurrently, and a failed required dependency fails its
//! dependents with an error naming it. Lazy plugins are not started: their first call starts
//! them.

use super::{Manager, Provider};
use crate::error::{Error, Result};
use crate::kind::PluginKind;
use crate::plugin::{Plugin, PluginSpec};
use crate::supervisor::Phase;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::sync::Arc;

/// Outcome of loading one configured plugin (for a chain: the member that serves it).
pub struct LoadReport<P> {
    pub name: String,
    pub kind: PluginKind,
    pub result: Result<Provider<P>>,
}

/// `load_all(strict=True)`: one error listing every failed entry, if any failed.
pub fn strict_outcome<P>(reports: &[LoadReport<P>]) -> Result<()> {
    let failures: Vec<String> = reports.iter().filter_map(|r| r.result.as_ref().err().map(|e| e.to_string())).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::LoadFailures { failures, total: reports.len() })
    }
}

/// One plugin's load, awaited by the loads of the plugins that depend on it.
type SharedLoad<'a> = Shared<BoxFuture<'a, Result<Arc<Plugin>>>>;

impl<P: Send + Sync + 'static> Manager<P> {
    /// Refuses an `only` list naming something the configuration does not declare.
    pub fn check_selection(&self, only: &[String]) -> Result<()> {
        let known: Vec<&str> = self
            .configured
            .iter()
            .map(|s| s.name.as_str())
            .chain(self.declared_builtins.iter().map(|b| b.name.as_str()))
            .chain(self.fallbacks.iter().map(|f| f.name.as_str()))
            .collect();
        match only.iter().find(|name| !known.contains(&name.as_str())) {
            Some(unknown) => Err(Error::config(format!(
                "no plugin named {unknown:?} is configured (configured: {})",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// Starts every configured plugin not yet loaded (or only those named in `only`, checked by
    /// [`Manager::check_selection`]), in dependency order; one failure stops no other plugin
    /// but those that require it.
    pub async fn load_all(self: &Arc<Self>, only: Option<&[String]>) -> Result<Vec<LoadReport<P>>> {
        if let Some(names) = only {
            self.check_selection(names)?;
        }
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
        let mut loads: HashMap<String, SharedLoad<'_>> = HashMap::new();
        let mut reports = Vec::new();
        for spec in dependency_order(pending) {
            let (name, kind) = (spec.name.clone(), spec.kind);
            if spec.supervision.lazy {
                self.record(&name, || Phase::NotStarted { last_error: None });
                reports.push((name.clone(), kind, None));
                continue;
            }
            let dependencies: Vec<(String, bool, Option<SharedLoad<'_>>)> = spec
                .supervision
                .dependencies()
                .map(|(dep, required)| (dep.to_string(), required, loads.get(dep).cloned()))
                .collect();
            let load = self.load_after(spec, dependencies).boxed().shared();
            loads.insert(name.clone(), load.clone());
            reports.push((name, kind, Some(load)));
        }
        let outcomes = futures_util::future::join_all(reports.into_iter().map(|(name, kind, load)| async move {
            let result = match load {
                Some(load) => load.await.map(Provider::Plugin),
                None => Ok(Provider::NotStarted(name.clone())),
            };
            LoadReport { name, kind, result }
        }));
        let mut reports = outcomes.await;
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
        Ok(reports)
    }

    /// Loads `spec` once its dependencies are loaded (those loading in this batch are awaited;
    /// the others must serve already). A required one that failed fails it; an optional one
    /// only delays it.
    async fn load_after(
        self: &Arc<Self>,
        spec: PluginSpec,
        dependencies: Vec<(String, bool, Option<SharedLoad<'_>>)>,
    ) -> Result<Arc<Plugin>> {
        for (dependency, required, load) in dependencies {
            let outcome = match load {
                Some(load) => load.await.map(|_| ()),
                None => self.dependency_ready(&dependency).await,
            };
            if let (Err(error), true) = (outcome, required) {
                return Err(Error::start(
                    &spec.name,
                    format!("its required dependency {dependency:?} is not available: {error}"),
                    Vec::new(),
                ));
            }
        }
        self.load(spec).await
    }

    /// A dependency outside this batch: serving now (a plugin or in-process provider), or not;
    /// a lazy one is started now.
    async fn dependency_ready(self: &Arc<Self>, name: &str) -> Result<()> {
        match self.resolve(name, None)? {
            Provider::Plugin(plugin) if !plugin.is_serving() => {
                Err(Error::config(format!("{name:?} is {}", plugin.state().as_str())))
            }
            Provider::NotStarted(name) => self.start_for_dependent(&name).await,
            _ => Ok(()),
        }
    }
}

/// `specs` ordered so that each comes after the plugins it depends on (the configuration
/// refuses cycles, see docs/supervision.md; were one left, its members keep their order).
pub(crate) fn dependency_order(specs: Vec<PluginSpec>) -> Vec<PluginSpec> {
    dependency_order_of(specs, |spec| spec)
}

/// [`dependency_order`] of anything that has a spec (the same name may come twice: plugins of
/// two managers at exit).
pub(crate) fn dependency_order_of<T>(items: Vec<T>, spec: impl Fn(&T) -> &PluginSpec) -> Vec<T> {
    let mut ordered: Vec<T> = Vec::with_capacity(items.len());
    let mut remaining = items;
    while !remaining.is_empty() {
        let placed = |name: &str, remaining: &[T]| !remaining.iter().any(|item| spec(item).name == name);
        let ready: Vec<usize> = (0..remaining.len())
            .filter(|&i| spec(&remaining[i]).supervision.dependencies().all(|(dep, _)| placed(dep, &remaining)))
            .collect();
        if ready.is_empty() {
            ordered.append(&mut remaining);
            break;
        }
        for i in ready.into_iter().rev() {
            ordered.push(remaining.remove(i));
        }
    }
    ordered
}
