//! `LLMClient`: Python face of [`hector_plugins_host::clients::llm::LlmClient`].

use crate::bridge::{self, AsyncStream};
use crate::errors::IntoPyResult;
use crate::manager::InProcessProviders;
use crate::types::{generate_request, request_to_py, GenerateResponse, HealthStatus, ModelInfo, StreamChunk};
use hector_plugins_host::clients::llm::LlmClient;
use hector_plugins_host::manager::Provider;
use hector_plugins_host::{Manager, PluginKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::sync::Arc;
use std::time::Duration;

#[pyclass(module = "hector_plugins", frozen, name = "LLMClient")]
pub struct PyLlmClient {
    pub target: LlmTarget,
}

/// A plugin, or a name looked up again on every call: a fallback chain (its serving member
/// changes) or an in-process provider (it can be unregistered or replaced).
pub enum LlmTarget {
    /// The manager is asked for a successor when the plugin crashed or stopped (a restart).
    Plugin(LlmClient, Arc<Manager>),
    Named {
        manager: Arc<Manager>,
        providers: InProcessProviders,
        name: String,
    },
}

/// Who answers one call.
enum Callee {
    Plugin(LlmClient),
    /// Served by `hector_plugins._builtin`, on the caller's event loop.
    InProcess {
        name: String,
        provider: Py<PyAny>,
    },
}

/// `hector_plugins._builtin`, imported once: it calls in-process providers.
pub fn builtin_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || PyResult::Ok(py.import("hector_plugins._builtin")?.unbind())).map(|m| m.bind(py))
}

impl PyLlmClient {
    fn callee(&self, py: Python<'_>) -> PyResult<Callee> {
        match &self.target {
            LlmTarget::Plugin(client, manager) => match manager.successor(client.plugin()) {
                Some(restarted) => Ok(Callee::Plugin(LlmClient::new(restarted))),
                None => Ok(Callee::Plugin(client.clone())),
            },
            LlmTarget::Named { manager, providers, name } => {
                match manager.resolve(name, Some(PluginKind::Llm)).py_err(py)? {
                    Provider::Plugin(plugin) => Ok(Callee::Plugin(LlmClient::new(plugin))),
                    Provider::Builtin(builtin) => {
                        let provider = providers.get(py, &builtin.name)?;
                        Ok(Callee::InProcess { name: builtin.name, provider })
                    }
                }
            }
        }
    }

    fn target_name(&self) -> &str {
        match &self.target {
            LlmTarget::Plugin(client, _) => &client.plugin().name,
            LlmTarget::Named { name, .. } => name,
        }
    }
}

pub fn timeout_arg(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout.map(|s| crate::manager::seconds(s, "timeout")).transpose()
}

#[pymethods]
impl PyLlmClient {
    /// The plugin's name.
    #[getter]
    fn name(&self) -> String {
        self.target_name().to_string()
    }

    #[pyo3(signature = (messages, tools=None, *, timeout=None))]
    fn generate<'py>(
        &self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
        tools: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = generate_request(messages, tools)?;
        let seconds = timeout;
        let timeout = timeout_arg(timeout)?;
        match self.callee(py)? {
            Callee::Plugin(client) => {
                bridge::spawn(py, async move { client.generate(request, timeout).await }, |py, response| {
                    Ok(Py::new(py, GenerateResponse::from(response))?.into_any())
                })
            }
            Callee::InProcess { name, provider } => {
                let (messages, tools) = request_to_py(request);
                builtin_module(py)?.getattr("generate")?.call1((name, provider, messages, tools, seconds))
            }
        }
    }

    /// An `AsyncStream` for a plugin; an async generator with the same chunks for an
    /// in-process provider. `timeout` bounds the wait for the first chunk and between chunks
    /// (an in-process provider's synchronous iterator cannot be interrupted).
    #[pyo3(signature = (messages, tools=None, *, timeout=None))]
    fn generate_stream<'py>(
        &self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
        tools: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = generate_request(messages, tools)?;
        let seconds = timeout;
        let timeout = timeout_arg(timeout)?;
        match self.callee(py)? {
            Callee::Plugin(client) => {
                bridge::ensure_runtime_usable()?;
                let opener = async move { client.generate_stream(request, timeout).await };
                let stream = AsyncStream::start(self.target_name(), opener, |py, chunk| {
                    Ok(Py::new(py, StreamChunk::from(chunk))?.into_any())
                });
                Ok(Bound::new(py, stream)?.into_any())
            }
            Callee::InProcess { name, provider } => {
                let (messages, tools) = request_to_py(request);
                builtin_module(py)?.getattr("generate_stream")?.call1((name, provider, messages, tools, seconds))
            }
        }
    }

    #[pyo3(signature = (*, timeout=None))]
    fn model_info<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let seconds = timeout;
        let timeout = timeout_arg(timeout)?;
        match self.callee(py)? {
            Callee::Plugin(client) => bridge::spawn(py, async move { client.model_info(timeout).await }, |py, info| {
                Ok(Py::new(py, ModelInfo::from(info))?.into_any())
            }),
            Callee::InProcess { name, provider } => {
                builtin_module(py)?.getattr("model_info")?.call1((name, provider, seconds))
            }
        }
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let seconds = timeout;
        let timeout = timeout_arg(timeout)?;
        match self.callee(py)? {
            Callee::Plugin(client) => bridge::spawn(py, async move { client.health(timeout).await }, |py, h| {
                Ok(Py::new(py, HealthStatus::from(h))?.into_any())
            }),
            Callee::InProcess { name, provider } => {
                builtin_module(py)?.getattr("health")?.call1((name, provider, seconds))
            }
        }
    }

    fn __repr__(&self) -> String {
        format!("LLMClient(name={:?})", self.target_name())
    }
}
