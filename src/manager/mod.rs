//! `PluginManager`: Python face of [`hector_plugins_host::Manager`]. The value classes its
//! methods return are in `reports.rs`.

mod events;
mod options;
mod reports;
use events::EventFeed;
use options::{default_name, log_warnings, mtls_option, Common};
pub use reports::{ConfiguredPlugin, LifecycleEvent, LoadResult};

use crate::bridge::{self, Ready};
use crate::callee::{builtin_module, PyManager, PyTarget};
use crate::database::PyDatabaseClient;
use crate::durations::seconds;
use crate::embedder::PyEmbedderClient;
use crate::errors::{config_error, load_failures, manager_closed, to_exception, IntoPyResult};
use crate::llm::PyLlmClient;
use crate::raw::PyRawClient;
use crate::reasoning::PyReasoningClient;
use crate::tools::PyToolClient;
use crate::types::{to_json_value, PluginInfo};
use hector_plugins_host::manager::{strict_outcome, Provider};
use hector_plugins_host::plugin::{PluginSpec, Protocol, State};
use hector_plugins_host::transport::ConnectionSettings;
use hector_plugins_host::{config, PluginKind};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pyo3::{PyTraverseError, PyVisit};
use std::path::PathBuf;
use std::sync::Arc;

// `subclass`: `hector_plugins.PluginManager` adds the Python-side parts (agents, hooks).
#[pyclass(module = "hector_plugins", frozen, subclass, name = "PluginManager")]
pub struct PyPluginManager {
    inner: Arc<PyManager>,
    /// Lifecycle events for `pm.on` (docs/supervision.md).
    events: EventFeed,
    /// What the configuration says that is valid but deserves a word (see `config_warnings`).
    warnings: Vec<config::ConfigWarning>,
    /// `plugin_security`: plugins loaded in code get it too.
    security: config::SecurityDefaults,
    /// The `agents` and `hooks` sections and where they came from, as JSON text for
    /// `hector_plugins.agents` (`_agent_settings`).
    agent_settings: String,
}

/// Like an unclosed file: a manager collected with plugins still running says so. The core
/// stops them gracefully in the background when the last reference to it goes.
impl Drop for PyPluginManager {
    fn drop(&mut self) {
        if self.inner.is_closed() || Arc::strong_count(&self.inner) > 1 {
            return; // shut down, or clients still use it (they keep the plugins)
        }
        let running = self.inner.statuses().iter().filter(|s| s.state != State::Stopped).count();
        if running == 0 {
            return;
        }
        Python::attach(|py| {
            let message = format!(
                "PluginManager was garbage-collected without shutdown(): its {running} running plugin(s) are \
                 being stopped gracefully in the background; use `async with PluginManager(...)` or \
                 `await pm.shutdown()`"
            );
            let Ok(message) = std::ffi::CString::new(message) else { return };
            let category = py.get_type::<pyo3::exceptions::PyResourceWarning>();
            if let Err(error) = PyErr::warn(py, category.as_any(), &message, 1) {
                error.write_unraisable(py, None);
            }
        });
    }
}

#[pymethods]
impl PyPluginManager {
    /// `config`: a path to hector.yaml, a dict of the same structure, or None.
    #[new]
    #[pyo3(signature = (config=None))]
    fn py_new(py: Python<'_>, config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut entry_points = || options::entry_points(py);
        let (mut specs, origin) = match config {
            None => (config::Config::default(), String::new()),
            Some(value) if value.is_instance_of::<PyDict>() => {
                let value = to_json_value(value)?;
                let cwd = std::env::current_dir().unwrap_or_default();
                (config::from_value(&value, "config dict", &cwd, &mut entry_points).py_err(py)?, "config dict".into())
            }
            Some(value) => {
                let path: PathBuf = py.import("os")?.getattr("fspath")?.call1((value,))?.extract()?;
                (config::load_file(&path, &mut entry_points).py_err(py)?, path.display().to_string())
            }
        };
        let warnings = std::mem::take(&mut specs.warnings);
        let security = std::mem::take(&mut specs.security);
        log_warnings(py, &warnings)?;
        let agent_settings = serde_json::json!({
            "origin": origin,
            "agents": std::mem::take(&mut specs.agents),
            "hooks": std::mem::take(&mut specs.hooks),
        })
        .to_string();
        Ok(PyPluginManager {
            inner: Arc::new(PyManager::new(specs, crate::logging::sink())),
            events: Default::default(),
            warnings,
            agent_settings,
            security,
        })
    }

    /// Launches one plugin and waits until it is ready.
    #[pyo3(signature = (
        path, name=None, r#type="llm_provider", config=None, *, start_timeout=60.0, env=None,
        clean_env=false, magic_cookie_key=None, magic_cookie_value=None, protocol_versions=None,
        shutdown_grace=2.0, cwd=None, call_timeout=Some(60.0), max_message_size=67108864,
        allow_non_loopback=false, mtls=None, log_budget=None, supervision=None, security=None, grants=None,
        sha256=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn load<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        name: Option<String>,
        r#type: &str,
        config: Option<&Bound<'py, PyDict>>,
        start_timeout: f64,
        env: Option<std::collections::BTreeMap<String, String>>,
        clean_env: bool,
        magic_cookie_key: Option<String>,
        magic_cookie_value: Option<String>,
        protocol_versions: Option<Vec<u32>>,
        shutdown_grace: f64,
        cwd: Option<PathBuf>,
        call_timeout: Option<f64>,
        max_message_size: usize,
        allow_non_loopback: bool,
        mtls: Option<&str>,
        log_budget: Option<&Bound<'py, PyAny>>,
        supervision: Option<&Bound<'py, PyDict>>,
        security: Option<&Bound<'py, PyDict>>,
        grants: Option<&Bound<'py, PyDict>>,
        sha256: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kind: PluginKind = r#type.parse().map_err(config_error)?;
        let mut spec = PluginSpec::new(name.unwrap_or_else(|| default_name(&path)), path, kind);
        if let Some(config) = config {
            let value = to_json_value(config.as_any())?;
            spec.config = serde_json::from_value(value)
                .map_err(|e| config_error(format!("config must be a dict with str keys: {e}")))?;
        }
        let common = Common {
            start_timeout,
            shutdown_grace,
            env,
            clean_env,
            cwd,
            supervision,
            security,
            grants,
            sha256,
            log_budget,
        };
        common.apply(py, &mut spec, &self.security)?;
        // `call_timeout=None` (or 0) disables the default deadline.
        spec.connection = ConnectionSettings::from_options(
            Some(call_timeout.unwrap_or(0.0)),
            Some(max_message_size as u64),
            allow_non_loopback,
            "",
        )
        .py_err(py)?;
        // Unset: the configuration's `plugin_security.mtls` (auto by default).
        spec.connection.mtls = match mtls {
            Some(mode) => mtls_option(py, mode)?,
            None => self.security.mtls,
        };
        if let Some(key) = magic_cookie_key {
            spec.launch.magic_cookie_key = key;
        }
        if let Some(value) = magic_cookie_value {
            spec.launch.magic_cookie_value = value;
        }
        if let Some(versions) = protocol_versions {
            spec.launch.protocol_versions = versions;
        }
        let manager = self.inner.clone();
        bridge::spawn(py, async move { manager.load(spec).await }, |py, plugin| {
            Ok(Py::new(py, PluginInfo::from(plugin.status()))?.into_any())
        })
    }

    /// Starts an MCP server as the tool provider `name` (docs/protocol.md §10): `command` with
    /// `args` over stdio (a bare command is looked up on PATH), or the running server at `url`
    /// (streamable HTTP). Ready once it answered MCP's initialize.
    #[pyo3(signature = (
        name, command=None, args=None, *, url=None, env=None, clean_env=false, cwd=None,
        start_timeout=60.0, shutdown_grace=2.0, call_timeout=Some(60.0), log_budget=None, supervision=None,
        security=None, grants=None, sha256=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn load_mcp<'py>(
        &self,
        py: Python<'py>,
        name: String,
        command: Option<PathBuf>,
        args: Option<Vec<String>>,
        url: Option<String>,
        env: Option<std::collections::BTreeMap<String, String>>,
        clean_env: bool,
        cwd: Option<PathBuf>,
        start_timeout: f64,
        shutdown_grace: f64,
        call_timeout: Option<f64>,
        log_budget: Option<&Bound<'py, PyAny>>,
        supervision: Option<&Bound<'py, PyDict>>,
        security: Option<&Bound<'py, PyDict>>,
        grants: Option<&Bound<'py, PyDict>>,
        sha256: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut spec = match (command, url) {
            (Some(command), None) => PluginSpec::mcp_stdio(&name, command, args.unwrap_or_default()),
            (None, Some(url)) if args.is_none() => PluginSpec::mcp_http(&name, url),
            (None, Some(_)) => {
                return Err(config_error(format!(
                    "plugin {name:?}: args go with command; a server at a url is already running"
                )))
            }
            _ => {
                return Err(config_error(format!(
                    "plugin {name:?}: give exactly one of command (an MCP server to launch over stdio) and url \
                     (its streamable HTTP endpoint)"
                )))
            }
        };
        let common = Common {
            start_timeout,
            shutdown_grace,
            env,
            clean_env,
            cwd,
            supervision,
            security,
            grants,
            sha256,
            log_budget,
        };
        common.apply(py, &mut spec, &self.security)?;
        spec.connection =
            ConnectionSettings::from_options(Some(call_timeout.unwrap_or(0.0)), None, false, "").py_err(py)?;
        let manager = self.inner.clone();
        bridge::spawn(py, async move { manager.load(spec).await }, |py, plugin| {
            Ok(Py::new(py, PluginInfo::from(plugin.status()))?.into_any())
        })
    }

    /// Stops the plugin `name` (gracefully, if it still runs) and starts it again with the same
    /// spec and config; works on a crashed or stopped plugin too. Returns its new `PluginInfo`
    /// (`restarts` counts the restarts). Clients obtained before call the new process.
    fn restart<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        let manager = self.inner.clone();
        bridge::spawn(py, async move { manager.restart(&name).await }, |py, plugin| {
            Ok(Py::new(py, PluginInfo::from(plugin.status()))?.into_any())
        })
    }

    /// Starts a new process of `name` beside the running one; once it is ready, new calls go to
    /// it, calls in flight finish on the old one (bounded), then the old one stops. A new
    /// version that fails to start leaves the old one serving, and the error says why.
    fn reload<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        let manager = self.inner.clone();
        bridge::spawn(py, async move { manager.reload(&name).await }, |py, plugin| {
            Ok(Py::new(py, PluginInfo::from(plugin.status()))?.into_any())
        })
    }

    /// The next lifecycle event (`LifecycleEvent`), or None once the manager is shut down.
    /// `pm.on` reads them; events from before the first call are not kept.
    fn _next_event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.events.next(py, &self.inner)
    }

    /// Starts every configured plugin (or those named in `only`) concurrently. Returns one
    /// `LoadResult` per plugin; with `strict=True`, raises one `PluginStartError` listing every
    /// failure instead.
    #[pyo3(signature = (*, strict=false, only=None))]
    fn load_all<'py>(&self, py: Python<'py>, strict: bool, only: Option<Vec<String>>) -> PyResult<Bound<'py, PyAny>> {
        let manager = self.inner.clone();
        bridge::spawn(py, async move { manager.load_all(only.as_deref()).await }, move |py, reports| {
            let outcome = if strict { strict_outcome(&reports) } else { Ok(()) };
            let list = PyList::empty(py);
            for report in reports {
                let (plugin, error) = match &report.result {
                    Ok(Provider::Plugin(plugin)) => (Some(Py::new(py, PluginInfo::from(plugin.status()))?), None),
                    Ok(Provider::InProcess(_) | Provider::NotStarted(_)) => (None, None),
                    Err(e) => (None, Some(to_exception(py, e)?.unbind())),
                };
                let result = LoadResult {
                    name: report.name,
                    kind: report.kind.as_str().into(),
                    ok: error.is_none(),
                    plugin,
                    error,
                    served_by: report.result.as_ref().ok().map(|p| p.name().to_string()),
                    in_process: report.result.as_ref().is_ok_and(Provider::is_in_process),
                };
                list.append(Py::new(py, result)?)?;
            }
            match outcome {
                Ok(()) => Ok(list.into_any().unbind()),
                Err(error) => Err(load_failures(py, &error, &list)),
            }
        })
    }

    /// Every configured (and discovered) plugin, checked as far as possible without launching
    /// it: executable, working directory, manifest, required config keys.
    fn validate(&self, py: Python<'_>) -> PyResult<Vec<ConfiguredPlugin>> {
        let mut entries = self
            .inner
            .validate()
            .into_iter()
            .map(|(spec, outcome)| {
                let (version, error) = match outcome {
                    Ok(manifest) => (manifest.map(|m| m.version), None),
                    Err(e) => (None, Some(to_exception(py, &e)?.unbind())),
                };
                let (path, entry) = match &spec.protocol {
                    Protocol::Grpc => (spec.path.display().to_string(), "plugin"),
                    Protocol::McpStdio => {
                        let words = std::iter::once(spec.path.display().to_string()).chain(spec.launch.args.clone());
                        (words.collect::<Vec<_>>().join(" "), "mcp")
                    }
                    Protocol::McpHttp { url } => (url.clone(), "mcp"),
                };
                Ok(ConfiguredPlugin {
                    name: spec.name,
                    kind: spec.kind.as_str().into(),
                    path,
                    version,
                    ok: error.is_none(),
                    error,
                    entry,
                    members: Vec::new(),
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        // Nothing to check without launching: the configuration already validated their names.
        let named = |name: &str, kind: PluginKind, entry: &'static str, members: Vec<String>| ConfiguredPlugin {
            name: name.into(),
            kind: kind.as_str().into(),
            path: String::new(),
            version: None,
            ok: true,
            error: None,
            entry,
            members,
        };
        entries.extend(self.inner.declared_builtins().iter().map(|b| named(&b.name, b.kind, "builtin", Vec::new())));
        entries.extend(
            self.inner.fallback_chains().iter().map(|f| named(&f.name, f.kind, "fallbacks", f.members.clone())),
        );
        Ok(entries)
    }

    /// The `agents` and `hooks` sections, checked and expanded, with the configuration's origin:
    /// JSON text read by `hector_plugins.agents`.
    fn _agent_settings(&self) -> &str {
        &self.agent_settings
    }

    /// Everything valid but worth a word in the configuration, one message each (file, key path,
    /// what is wrong): settings that are read but not enforced yet, keys that look like typos.
    #[getter]
    fn config_warnings(&self) -> Vec<String> {
        self.warnings.iter().map(ToString::to_string).collect()
    }

    /// The key paths of configured settings that are not enforced yet (e.g.
    /// `plugin_security.verify_signatures`).
    #[getter]
    fn unenforced_settings(&self) -> Vec<String> {
        self.warnings.iter().filter(|w| w.unenforced).map(|w| w.key.clone()).collect()
    }

    /// Registers `provider`, an object living in this process, under `name`: `pm.llm(name)`
    /// calls it, and fallback chains may name it (the configuration declares such names with
    /// `type: builtin`). See `hector_plugins._builtin` for what the object must provide.
    #[pyo3(signature = (name, provider, *, r#type="llm_provider"))]
    fn register(&self, py: Python<'_>, name: String, provider: Bound<'_, PyAny>, r#type: &str) -> PyResult<()> {
        let kind: PluginKind = r#type.parse().map_err(config_error)?;
        builtin_module(py)?.getattr("check_provider")?.call1((&name, kind.as_str(), &provider))?;
        self.inner.register(&name, kind, provider.unbind()).py_err(py)
    }

    /// Removes an in-process provider; returns whether there was one. Fallback chains skip it
    /// from the next call on.
    fn unregister(&self, name: &str) -> bool {
        // Dropped here, outside the core's lock: dropping the object may run Python code.
        self.inner.unregister(name).is_some()
    }

    /// The LLM plugin (or in-process provider, or fallback chain) called `name`.
    fn llm(&self, py: Python<'_>, name: &str) -> PyResult<PyLlmClient> {
        Ok(PyLlmClient { target: PyTarget::new(&self.inner, name, Some(PluginKind::Llm)).py_err(py)? })
    }

    /// The vector database plugin (or in-process provider, or fallback chain) called `name`.
    fn database(&self, py: Python<'_>, name: &str) -> PyResult<PyDatabaseClient> {
        Ok(PyDatabaseClient { target: PyTarget::new(&self.inner, name, Some(PluginKind::Database)).py_err(py)? })
    }

    /// The tool provider (plugin or in-process provider, or fallback chain) called `name`.
    fn tools(&self, py: Python<'_>, name: &str) -> PyResult<PyToolClient> {
        Ok(PyToolClient { target: PyTarget::new(&self.inner, name, Some(PluginKind::Tool)).py_err(py)? })
    }

    /// The reasoning strategy (plugin or in-process provider, or fallback chain) called `name`.
    fn reasoning(&self, py: Python<'_>, name: &str) -> PyResult<PyReasoningClient> {
        Ok(PyReasoningClient { target: PyTarget::new(&self.inner, name, Some(PluginKind::Reasoning)).py_err(py)? })
    }

    /// The embedder plugin (or in-process provider, or fallback chain) called `name`.
    fn embedder(&self, py: Python<'_>, name: &str) -> PyResult<PyEmbedderClient> {
        Ok(PyEmbedderClient { target: PyTarget::new(&self.inner, name, Some(PluginKind::Embedder)).py_err(py)? })
    }

    /// A raw-bytes client for any plugin (generic go-plugin plugins, or any Hector service).
    fn raw(&self, py: Python<'_>, name: &str) -> PyResult<PyRawClient> {
        Ok(PyRawClient { target: PyTarget::process(&self.inner, name).py_err(py)? })
    }

    #[getter]
    fn plugins(&self) -> Vec<PluginInfo> {
        self.inner.statuses().into_iter().map(PluginInfo::from).collect()
    }

    /// Stops every plugin: graceful first, killed after `grace` seconds (default: each plugin's);
    /// dependents first; everything still running after `timeout` seconds is killed at once.
    #[pyo3(signature = (grace=None, timeout=None))]
    fn shutdown<'py>(&self, py: Python<'py>, grace: Option<f64>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let grace = grace.map(|g| seconds(g, "grace")).transpose()?;
        let total = timeout.map(|t| seconds(t, "timeout")).transpose()?;
        // In-process providers are released now, while this thread holds the interpreter.
        drop(self.inner.close());
        let manager = self.inner.clone();
        bridge::spawn(
            py,
            async move {
                manager.shutdown(grace, total).await;
                Ok(())
            },
            |py, ()| Ok(py.None()),
        )
    }

    /// A manager that was shut down cannot be used again: entering it raises at once instead of
    /// failing on the first load.
    fn __aenter__(slf: Bound<'_, Self>) -> PyResult<Ready> {
        if slf.get().inner.is_closed() {
            return Err(manager_closed(slf.py()));
        }
        Ok(Ready::new(Ok(slf.into_any().unbind())))
    }

    #[pyo3(signature = (*_exc_info))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc_info: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.shutdown(py, None, None)
    }

    // Only the manager reports the providers: clients reach them through the same core manager,
    // and a reference must be reported once. A provider that keeps its manager alive is then
    // collectable.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.inner.visit_in_process(|provider| visit.call(provider))
    }

    fn __clear__(&self) {
        drop(self.inner.take_in_process());
    }

    fn __repr__(&self) -> String {
        let names: Vec<String> = self.inner.statuses().into_iter().map(|s| s.name).collect();
        format!("PluginManager(plugins={names:?})")
    }
}
