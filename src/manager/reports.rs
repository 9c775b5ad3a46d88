//! What `PluginManager`'s methods hand back: the `load_all()` report (`LoadResult`), the
//! `validate()` entries (`ConfiguredPlugin`) and lifecycle events for `pm.on`
//! (`LifecycleEvent`).

use crate::types::PluginInfo;
use hector_plugins_host::supervisor::Event;
use pyo3::prelude::*;

/// What happened to a plugin (`pm.on(event, callback)`, docs/supervision.md).
#[pyclass(module = "hector_plugins", frozen, get_all)]
pub struct LifecycleEvent {
    pub plugin: String,
    /// `loaded`, `unhealthy`, `crashed`, `restarting`, `restarted`, `failed`, `reloaded`,
    /// `reload_failed` or `stopped`.
    pub event: String,
    pub message: String,
    /// Seconds since the epoch.
    pub at: f64,
    pub pid: u32,
}

#[pymethods]
impl LifecycleEvent {
    fn __repr__(&self) -> String {
        format!("LifecycleEvent(plugin={:?}, event={:?}, message={:?})", self.plugin, self.event, self.message)
    }
}

impl From<Event> for LifecycleEvent {
    fn from(event: Event) -> Self {
        LifecycleEvent {
            plugin: event.plugin,
            event: event.kind.as_str().into(),
            message: event.message,
            at: event.at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0),
            pid: event.pid,
        }
    }
}

/// One entry of the `load_all()` report.
#[pyclass(module = "hector_plugins", frozen, get_all)]
pub struct LoadResult {
    pub name: String,
    #[pyo3(name = "type")]
    pub kind: String,
    pub ok: bool,
    pub plugin: Option<Py<PluginInfo>>,
    pub error: Option<Py<PyAny>>,
    /// The plugin or in-process provider that serves this name (for a fallback chain, the
    /// member that answers calls); None when nothing does.
    pub served_by: Option<String>,
    /// True when `served_by` is an in-process provider.
    pub in_process: bool,
}

#[pymethods]
impl LoadResult {
    fn __repr__(&self) -> String {
        format!("LoadResult(name={:?}, type={:?}, ok={})", self.name, self.kind, if self.ok { "True" } else { "False" })
    }
}

/// A configured plugin, checked without launching it (`pm.validate()`).
#[pyclass(module = "hector_plugins", frozen, get_all)]
pub struct ConfiguredPlugin {
    pub name: String,
    #[pyo3(name = "type")]
    pub kind: String,
    pub path: String,
    /// The manifest's version, if it has a manifest.
    pub version: Option<String>,
    pub ok: bool,
    pub error: Option<Py<PyAny>>,
    /// "plugin" (a process to launch), "mcp" (an MCP server: `path` is its command line or URL),
    /// "builtin" (registered in code) or "fallbacks".
    pub entry: &'static str,
    /// A fallback chain's members, in order (empty for other entries).
    pub members: Vec<String>,
}

#[pymethods]
impl ConfiguredPlugin {
    fn __repr__(&self) -> String {
        format!(
            "ConfiguredPlugin(name={:?}, type={:?}, ok={})",
            self.name,
            self.kind,
            if self.ok { "True" } else { "False" }
        )
    }
}
