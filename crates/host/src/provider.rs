//! What a name can stand for: a plugin process, or a provider living in the embedding process.
//!
//! The core tracks in-process providers (names, types, fallback chains, shutdown) but never calls
//! them: each carries a `payload` that the embedding layer knows how to call (for the Python
//! layer, the registered object). That keeps one home for registration while the core stays free
//! of any language runtime.

use crate::kind::PluginKind;
use crate::plugin::Plugin;
use std::sync::Arc;

/// A provider registered in code under `name` (docs/python-api.md, "In-process providers").
pub struct InProcess<P> {
    pub name: String,
    pub kind: PluginKind,
    /// What the embedding layer calls.
    pub payload: P,
}

/// Who serves a name right now.
pub enum Provider<P> {
    Plugin(Arc<Plugin>),
    InProcess(Arc<InProcess<P>>),
    /// A configured plugin with no process yet (`lazy: true`): the first call starts it
    /// (`Manager::serving`).
    NotStarted(String),
}

impl<P> Provider<P> {
    pub fn name(&self) -> &str {
        match self {
            Provider::Plugin(plugin) => &plugin.name,
            Provider::InProcess(provider) => &provider.name,
            Provider::NotStarted(name) => name,
        }
    }

    pub fn is_in_process(&self) -> bool {
        matches!(self, Provider::InProcess(_))
    }
}

// Not derived: a derive would require `P: Clone`, and only the `Arc` is cloned.
impl<P> Clone for Provider<P> {
    fn clone(&self) -> Self {
        match self {
            Provider::Plugin(plugin) => Provider::Plugin(plugin.clone()),
            Provider::InProcess(provider) => Provider::InProcess(provider.clone()),
            Provider::NotStarted(name) => Provider::NotStarted(name.clone()),
        }
    }
}
