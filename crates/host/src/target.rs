//! What a client holds: the name it was made for, resolved again on each call, so that a
//! restarted plugin, a fallback chain's next member, or a re-registered in-process provider
//! answers without the caller making a new client.

use crate::error::{Error, Result};
use crate::kind::PluginKind;
use crate::manager::Manager;
use crate::plugin::Plugin;
use crate::provider::Provider;
use std::sync::Arc;

pub struct Target<P: Send + Sync + 'static> {
    manager: Arc<Manager<P>>,
    name: String,
    kind: Option<PluginKind>,
    /// A plugin process named directly: its successor (after a restart) takes over. Otherwise
    /// (a fallback chain, an in-process provider) the name is looked up on every call.
    pinned: Option<Arc<Plugin>>,
}

impl<P: Send + Sync + 'static> Target<P> {
    /// The provider `name` of `kind` (any kind for `None`); fails now if nothing serves it.
    pub fn new(manager: &Arc<Manager<P>>, name: &str, kind: Option<PluginKind>) -> Result<Self> {
        let pinned = match manager.resolve(name, kind)? {
            Provider::Plugin(plugin) if !manager.is_fallback(name) => Some(plugin),
            _ => None,
        };
        Ok(Target { manager: manager.clone(), name: name.into(), kind, pinned })
    }

    /// A plugin process only (raw calls need a process to talk to): the one serving `name` now,
    /// followed across its restarts.
    pub fn process(manager: &Arc<Manager<P>>, name: &str) -> Result<Self> {
        let plugin = manager.get(name, None)?;
        if plugin.mcp_session().is_some() {
            return Err(Error::config(format!(
                "plugin {name:?} is an MCP server: it has no gRPC methods to call with raw bytes; call its tools with pm.tools({name:?})"
            )));
        }
        Ok(Target { manager: manager.clone(), name: plugin.name.clone(), kind: None, pinned: Some(plugin) })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Who answers a call made now.
    pub fn provider(&self) -> Result<Provider<P>> {
        match &self.pinned {
            Some(plugin) => Ok(Provider::Plugin(self.manager.successor(plugin).unwrap_or_else(|| plugin.clone()))),
            None => self.manager.resolve(&self.name, self.kind),
        }
    }

    /// The manager, whose `serving` waits for a plugin that is starting or restarting.
    pub fn manager(&self) -> &Arc<Manager<P>> {
        &self.manager
    }

    /// The plugin process that answers a call made now; an in-process provider is refused.
    pub fn plugin(&self) -> Result<Arc<Plugin>> {
        match self.provider()? {
            Provider::Plugin(plugin) => Ok(plugin),
            Provider::NotStarted(name) => self.manager.get(&name, self.kind),
            Provider::InProcess(provider) => Err(Error::config(format!(
                "{:?} is served by the in-process provider {:?}, not by a plugin process",
                self.name, provider.name
            ))),
        }
    }
}
