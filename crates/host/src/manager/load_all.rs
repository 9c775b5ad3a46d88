//! Loading every configured entry at once (`load_all`) and its report.

use super::{Manager, Provider};
use crate::error::{Error, Result};
use crate::kind::PluginKind;
use crate::plugin::PluginSpec;

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
    /// [`Manager::check_selection`]), all at once; one failure stops no other.
    pub async fn load_all(&self, only: Option<&[String]>) -> Result<Vec<LoadReport<P>>> {
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
        Ok(reports)
    }
}
