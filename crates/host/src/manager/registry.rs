//! What a name means: in-process providers registered in code, and resolving a name (a plugin,
//! an in-process provider, a fallback chain's first ready member).

use super::{InProcess, Manager, Provider};
use crate::config::Builtin;
use crate::error::{Closed, Error, Result, ShutDownDuring};
use crate::kind::PluginKind;
use crate::plugin::Plugin;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl<P: Send + Sync + 'static> Manager<P> {
    /// Registers an in-process provider under `name`. A name the configuration declares
    /// `type: builtin` must be registered with the declared type; any other name must be free.
    /// On error the payload is dropped after every lock is released.
    pub fn register(&self, name: &str, kind: PluginKind, payload: P) -> Result<()> {
        crate::names::check_name(name).map_err(|e| Error::config(format!("cannot register this provider: {e}")))?;
        let plugins = self.plugins.lock().unwrap();
        let loading = self.loading.lock().unwrap();
        let mut builtins = self.in_process.lock().unwrap();
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed { plugin: name.into(), state: Closed::ShutDown(ShutDownDuring::Register) });
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
        builtins.push(Arc::new(InProcess { name: name.into(), kind, payload }));
        Ok(())
    }

    /// Removes an in-process provider and hands it back (for the caller to drop outside any
    /// lock of ours); fallback chains skip it from the next call on.
    pub fn unregister(&self, name: &str) -> Option<Arc<InProcess<P>>> {
        let mut providers = self.in_process.lock().unwrap();
        let index = providers.iter().position(|b| b.name == name)?;
        Some(providers.remove(index))
    }

    /// Removes every in-process provider and hands them back (see [`Manager::unregister`]).
    pub fn take_in_process(&self) -> Vec<Arc<InProcess<P>>> {
        std::mem::take(&mut *self.in_process.lock().unwrap())
    }

    /// Shows each in-process payload to `visit` (a garbage collector's traversal). Skipped when
    /// the list is locked right now: an unreported reference only keeps an object alive longer.
    pub fn visit_in_process<E>(&self, mut visit: impl FnMut(&P) -> Result<(), E>) -> Result<(), E> {
        if let Ok(providers) = self.in_process.try_lock() {
            for provider in providers.iter() {
                visit(&provider.payload)?;
            }
        }
        Ok(())
    }

    pub(super) fn registered_builtin(&self, declared: &Builtin) -> Result<Provider<P>> {
        match self.in_process.lock().unwrap().iter().find(|b| b.name == declared.name) {
            Some(provider) => Ok(Provider::InProcess(provider.clone())),
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

    /// Becomes true when `shutdown` begins.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// True once `shutdown` has begun: nothing can be loaded, registered or called any more.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// What `name` means now, checked to be of `kind` when one is given: a loaded plugin, an
    /// in-process provider, or, for a fallback chain, its first member that is ready.
    pub fn resolve(&self, name: &str, kind: Option<PluginKind>) -> Result<Provider<P>> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed { plugin: name.into(), state: Closed::ShutDown(ShutDownDuring::Call) });
        }
        if let Some(chain) = self.fallbacks.iter().find(|f| f.name == name && kind.is_none_or(|k| k == f.kind)) {
            return self.first_ready(chain);
        }
        let plugins = self.plugins.lock().unwrap();
        let builtins = self.in_process.lock().unwrap();
        let wanted = |k: PluginKind| kind.is_none_or(|wanted| wanted == k);
        if let Some(plugin) = plugins.iter().find(|p| p.name == name && wanted(p.kind)) {
            return Ok(Provider::Plugin(plugin.clone()));
        }
        if let Some(provider) = builtins.iter().find(|b| b.name == name && wanted(b.kind)) {
            return Ok(Provider::InProcess(provider.clone()));
        }
        if self.configured.iter().any(|s| s.name == name && wanted(s.kind) && s.supervision.lazy)
            && self.existing_record(name).is_some()
        {
            return Ok(Provider::NotStarted(name.into()));
        }
        let kind_name = kind.map(|k| k.as_str().to_string()).unwrap_or_else(|| "plugin".into());
        let known = plugins
            .iter()
            .filter(|p| wanted(p.kind))
            .map(|p| p.name.clone())
            .chain(builtins.iter().filter(|b| wanted(b.kind)).map(|b| b.name.clone()))
            .collect();
        let elsewhere = plugins
            .iter()
            .map(|p| (&p.name, p.kind))
            .chain(builtins.iter().map(|b| (&b.name, b.kind)))
            .chain(self.fallbacks.iter().map(|f| (&f.name, f.kind)))
            .find(|(other, _)| *other == name)
            .map(|(_, kind)| kind.as_str().to_string());
        Err(Error::NotFound { name: name.into(), kind: kind_name, known, elsewhere })
    }

    /// The plugin process called `name` (or serving the chain `name`); an in-process provider
    /// is refused, since the caller needs a process to talk to.
    pub fn get(&self, name: &str, kind: Option<PluginKind>) -> Result<Arc<Plugin>> {
        match self.resolve(name, kind)? {
            Provider::Plugin(plugin) => Ok(plugin),
            Provider::NotStarted(name) => Err(Error::config(format!(
                "plugin {name:?} is lazy and not started yet: its first typed call starts it, or pm.restart({name:?})"
            ))),
            Provider::InProcess(builtin) => Err(Error::config(format!(
                "{:?} is served by the in-process provider {:?}, not by a plugin process",
                name, builtin.name
            ))),
        }
    }

    /// The process that now serves the name of `plugin`, if `plugin` was replaced since (a
    /// restart, a reload, or a load that took the name over). Clients holding `plugin` move on
    /// to it, so a restart or reload is transparent to them.
    pub fn successor(&self, plugin: &Arc<Plugin>) -> Option<Arc<Plugin>> {
        let plugins = self.plugins.lock().unwrap();
        plugins.iter().find(|p| p.name == plugin.name && !Arc::ptr_eq(p, plugin)).cloned()
    }

    pub(super) fn first_ready(&self, chain: &crate::config::Fallback) -> Result<Provider<P>> {
        let plugins = self.plugins.lock().unwrap();
        let builtins = self.in_process.lock().unwrap();
        let mut why = Vec::new();
        for member in &chain.members {
            if let Some(builtin) = builtins.iter().find(|b| b.name == *member) {
                // In-process providers cannot crash away from us: registered means ready.
                return Ok(Provider::InProcess(builtin.clone()));
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
        Err(Error::Closed { plugin: chain.name.clone(), state: Closed::NoReadyMember(why) })
    }
}
