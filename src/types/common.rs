//! Values every plugin has: its health and manifest (docs/protocol.md §7.2) and what the host
//! knows of it.

use super::json_function;
use hector_plugins_host::proto::hector as pb;
use pyo3::prelude::*;

#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct HealthStatus {
    pub healthy: bool,
    pub message: String,
}

#[pymethods]
impl HealthStatus {
    #[new]
    #[pyo3(signature = (healthy=true, message="".to_string()))]
    fn py_new(healthy: bool, message: String) -> Self {
        HealthStatus { healthy, message }
    }

    fn __bool__(&self) -> bool {
        self.healthy
    }

    fn __repr__(&self) -> String {
        format!("HealthStatus(healthy={}, message={:?})", if self.healthy { "True" } else { "False" }, self.message)
    }
}

impl From<pb::HealthResponse> for HealthStatus {
    fn from(h: pb::HealthResponse) -> Self {
        HealthStatus { healthy: h.healthy, message: h.message }
    }
}

/// What a plugin says about itself (`GetManifest`, docs/protocol.md §7.1).
#[pyclass(module = "hector_plugins", frozen)]
#[derive(Debug)]
pub struct PluginManifest {
    #[pyo3(get)]
    pub name: String,
    #[pyo3(get)]
    pub version: String,
    #[pyo3(get)]
    pub author: String,
    #[pyo3(get)]
    pub description: String,
    #[pyo3(get, name = "type")]
    pub kind: String,
    #[pyo3(get)]
    pub protocol: String,
    #[pyo3(get)]
    pub hector_version: String,
    capabilities: std::collections::HashMap<String, String>,
}

#[pymethods]
impl PluginManifest {
    /// For in-process providers and tests.
    #[new]
    #[pyo3(signature = (name, version="".to_string(), author="".to_string(), description="".to_string(),
                        r#type="".to_string(), protocol="".to_string(), hector_version="".to_string(),
                        capabilities=None))]
    #[allow(clippy::too_many_arguments)] // one per field of the message
    fn py_new(
        name: String,
        version: String,
        author: String,
        description: String,
        r#type: String,
        protocol: String,
        hector_version: String,
        capabilities: Option<std::collections::HashMap<String, String>>,
    ) -> Self {
        let capabilities = capabilities.unwrap_or_default();
        PluginManifest { name, version, author, description, kind: r#type, protocol, hector_version, capabilities }
    }

    /// The capabilities the plugin reports, as strings (a new dict per access).
    #[getter]
    fn capabilities(&self) -> std::collections::HashMap<String, String> {
        self.capabilities.clone()
    }

    fn __repr__(&self) -> String {
        format!("PluginManifest(name={:?}, version={:?}, type={:?})", self.name, self.version, self.kind)
    }
}

impl From<&PluginManifest> for pb::ManifestResponse {
    fn from(m: &PluginManifest) -> Self {
        pb::ManifestResponse {
            name: m.name.clone(),
            version: m.version.clone(),
            author: m.author.clone(),
            description: m.description.clone(),
            r#type: m.kind.clone(),
            protocol: m.protocol.clone(),
            hector_version: m.hector_version.clone(),
            capabilities: m.capabilities.clone(),
        }
    }
}

impl From<pb::ManifestResponse> for PluginManifest {
    fn from(m: pb::ManifestResponse) -> Self {
        PluginManifest {
            name: m.name,
            version: m.version,
            author: m.author,
            description: m.description,
            kind: m.r#type,
            protocol: m.protocol,
            hector_version: m.hector_version,
            capabilities: m.capabilities,
        }
    }
}

/// What `pm.plugins` shows for one plugin.
#[pyclass(module = "hector_plugins", frozen)]
#[derive(Debug)]
pub struct PluginInfo {
    #[pyo3(get)]
    pub name: String,
    #[pyo3(get, name = "type")]
    pub kind: String,
    #[pyo3(get)]
    pub path: String,
    #[pyo3(get)]
    pub pid: u32,
    /// "ready", "crashed", "stopping" or "stopped".
    #[pyo3(get)]
    pub state: String,
    /// "grpc" (a go-plugin plugin) or "mcp" (an MCP server).
    #[pyo3(get)]
    pub protocol: String,
    #[pyo3(get)]
    pub protocol_version: u32,
    #[pyo3(get)]
    pub address: String,
    #[pyo3(get)]
    pub restarts: u32,
    #[pyo3(get)]
    pub exit_code: Option<i32>,
    #[pyo3(get)]
    pub exit_signal: Option<i32>,
    /// True when shutdown had to kill the plugin.
    #[pyo3(get)]
    pub killed: bool,
    /// The manifest's version, when the plugin has a manifest.
    #[pyo3(get)]
    pub version: Option<String>,
    capabilities_json: String,
    /// Calls made to this name, over all its processes and those refused before reaching one,
    /// and how many failed.
    #[pyo3(get)]
    pub calls: u64,
    #[pyo3(get)]
    pub failures: u64,
    /// The latest failed call's error and its time (seconds since the epoch).
    #[pyo3(get)]
    pub last_error: Option<String>,
    #[pyo3(get)]
    pub last_error_at: Option<f64>,
    /// The latest periodic health check: passed or not, what it said, and when.
    #[pyo3(get)]
    pub healthy: Option<bool>,
    #[pyo3(get)]
    pub last_health: Option<String>,
    #[pyo3(get)]
    pub last_health_at: Option<f64>,
    /// Why it is restarting or failed (or why its lazy start failed), and since when.
    #[pyo3(get)]
    pub reason: Option<String>,
    #[pyo3(get)]
    pub since: Option<f64>,
    /// Output lines of this process dropped over its log budget (docs/protocol.md §5.2).
    #[pyo3(get)]
    pub dropped_log_lines: u64,
}

/// Seconds since the epoch, as `time.time()` gives them.
fn epoch_seconds(at: std::time::SystemTime) -> f64 {
    at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

#[pymethods]
impl PluginInfo {
    /// The manifest's capabilities (e.g. `{"streaming": True}`), empty without a manifest.
    #[getter]
    fn capabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_function(py, "loads")?.call1((&self.capabilities_json,))
    }

    fn __repr__(&self) -> String {
        format!("PluginInfo(name={:?}, type={:?}, pid={}, state={:?})", self.name, self.kind, self.pid, self.state)
    }
}

impl From<hector_plugins_host::plugin::PluginStatus> for PluginInfo {
    fn from(s: hector_plugins_host::plugin::PluginStatus) -> Self {
        PluginInfo {
            name: s.name,
            kind: s.kind.as_str().into(),
            path: s.path.display().to_string(),
            pid: s.pid,
            state: s.state.as_str().into(),
            protocol: s.protocol.into(),
            protocol_version: s.protocol_version,
            address: s.address,
            restarts: s.restarts,
            exit_code: s.exit.and_then(|e| e.code),
            exit_signal: s.exit.and_then(|e| e.signal),
            killed: s.killed,
            version: s.version,
            capabilities_json: serde_json::Value::Object(s.capabilities.into_iter().collect()).to_string(),
            calls: s.calls,
            failures: s.failures,
            last_error_at: s.last_error.as_ref().map(|(at, _)| epoch_seconds(*at)),
            last_error: s.last_error.map(|(_, error)| error),
            healthy: s.last_health.as_ref().map(|h| h.healthy),
            last_health_at: s.last_health.as_ref().map(|h| epoch_seconds(h.at)),
            last_health: s.last_health.map(|h| h.message),
            since: s.reason.as_ref().map(|(at, _)| epoch_seconds(*at)),
            reason: s.reason.map(|(_, reason)| reason),
            dropped_log_lines: s.dropped_log_lines,
        }
    }
}
