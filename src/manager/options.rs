//! `PluginManager`'s option handling that `load` and `load_mcp` share, and what reading a
//! configuration reports.

use crate::durations::seconds;
use crate::errors::{config_error, IntoPyResult};
use crate::types::to_json_value;
use hector_plugins_host::config;
use hector_plugins_host::plugin::{PluginSpec, Protocol};
use hector_plugins_host::security::mtls::MtlsMode;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keyword arguments every launched plugin takes, gRPC or MCP.
pub(super) struct Common<'a, 'py> {
    pub start_timeout: f64,
    pub shutdown_grace: f64,
    pub env: Option<BTreeMap<String, String>>,
    pub clean_env: bool,
    pub cwd: Option<PathBuf>,
    pub supervision: Option<&'a Bound<'py, PyDict>>,
    /// `security=`, `grants=` and `sha256=` (docs/security.md), over `plugin_security`.
    pub security: Option<&'a Bound<'py, PyDict>>,
    pub grants: Option<&'a Bound<'py, PyDict>>,
    pub sha256: Option<String>,
    /// `log_budget=` (docs/protocol.md §5.2): a dict as in hector.yaml, or "unlimited".
    pub log_budget: Option<&'a Bound<'py, PyAny>>,
}

impl Common<'_, '_> {
    /// Checks the options and sets them on `spec`; a bad value is a `ConfigError` naming it.
    pub fn apply(self, py: Python<'_>, spec: &mut PluginSpec, defaults: &config::SecurityDefaults) -> PyResult<()> {
        spec.start_timeout = seconds(self.start_timeout, "start_timeout")?;
        spec.shutdown_grace = seconds(self.shutdown_grace, "shutdown_grace")?;
        spec.launch.env = self.env.unwrap_or_default().into_iter().collect();
        spec.launch.clean_env = self.clean_env;
        spec.launch.working_dir = self.cwd;
        if let Some(supervision) = self.supervision {
            spec.supervision =
                config::supervision_option(&to_json_value(supervision.as_any())?, spec.kind).py_err(py)?;
        }
        let launched = !matches!(spec.protocol, Protocol::McpHttp { .. });
        if !launched && self.log_budget.is_some() {
            return Err(config_error(format!(
                "plugin {:?}: log_budget: a server at a url is no process of the host's: it has no output to budget",
                spec.name
            )));
        }
        spec.log_budget = crate::logging::log_budget_arg(py, self.log_budget, spec.log_budget)?;
        if !launched && (self.security.is_some() || self.grants.is_some() || self.sha256.is_some()) {
            return Err(config_error(format!(
                "plugin {:?}: security, grants and sha256 concern a process the host launches; a server at a url \
                 is not one",
                spec.name
            )));
        }
        let security = self.security.map(|d| to_json_value(d.as_any())).transpose()?;
        let grants = self.grants.map(|d| to_json_value(d.as_any())).transpose()?;
        config::security_option(spec, security.as_ref(), grants.as_ref(), self.sha256.as_deref(), defaults)
            .py_err(py)?;
        Ok(())
    }
}

/// Each warning goes to the `hector_plugins` logger once, when the configuration is read: an
/// application's logging shows it wherever it runs (a `warnings.warn` would be shown once per
/// process at best, and is meant for code, not configuration).
pub(super) fn log_warnings(py: Python<'_>, warnings: &[config::ConfigWarning]) -> PyResult<()> {
    if warnings.is_empty() {
        return Ok(());
    }
    let logger = py.import("logging")?.getattr("getLogger")?.call1(("hector_plugins",))?;
    for warning in warnings {
        logger.call_method1("warning", ("%s", warning.to_string()))?;
    }
    Ok(())
}

/// `mtls=`: `"auto"`, `"on"` or `"off"` (docs/protocol.md §3.5); anything else is a `ConfigError`.
pub(super) fn mtls_option(py: Python<'_>, value: &str) -> PyResult<MtlsMode> {
    config::mtls_setting("mtls", value).py_err(py)
}

/// The plugins installed packages advertise through Python entry points.
pub(super) fn entry_points(py: Python<'_>) -> Result<Vec<(String, PathBuf)>, String> {
    py.import("hector_plugins._entry_points")
        .and_then(|m| m.getattr("discover")?.call0())
        .and_then(|found| found.extract::<Vec<(String, PathBuf)>>())
        .map_err(|e| e.to_string())
}

pub(super) fn default_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().trim_end_matches(".exe").to_string()).unwrap_or_default()
}
