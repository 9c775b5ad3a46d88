//! `LLMClient`: Python face of [`hector_plugins_host::clients::llm::LlmClient`].

use crate::bridge::{self, AsyncStream};
use crate::callee::{builtin_module, callee, Callee, PyTarget};
use crate::durations::timeout_arg;
use crate::types::{generate_request, request_to_py, GenerateResponse, HealthStatus, ModelInfo, StreamChunk};
use hector_plugins_host::clients::llm::LlmClient;
use pyo3::prelude::*;

#[pyclass(module = "hector_plugins", frozen, name = "LLMClient")]
pub struct PyLlmClient {
    pub target: PyTarget,
}

impl PyLlmClient {
    fn target_name(&self) -> &str {
        self.target.name()
    }
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
        match callee(py, &self.target)? {
            Callee::Plugin(plugin) => bridge::spawn(
                py,
                async move { LlmClient::new(plugin).generate(request, timeout).await },
                |py, response| Ok(Py::new(py, GenerateResponse::from(response))?.into_any()),
            ),
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
        match callee(py, &self.target)? {
            Callee::Plugin(plugin) => {
                bridge::ensure_runtime_usable()?;
                let opener = async move { LlmClient::new(plugin).generate_stream(request, timeout).await };
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
        match callee(py, &self.target)? {
            Callee::Plugin(plugin) => {
                bridge::spawn(py, async move { LlmClient::new(plugin).model_info(timeout).await }, |py, info| {
                    Ok(Py::new(py, ModelInfo::from(info))?.into_any())
                })
            }
            Callee::InProcess { name, provider } => {
                builtin_module(py)?.getattr("model_info")?.call1((name, provider, seconds))
            }
        }
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let seconds = timeout;
        let timeout = timeout_arg(timeout)?;
        match callee(py, &self.target)? {
            Callee::Plugin(plugin) => {
                bridge::spawn(py, async move { LlmClient::new(plugin).health(timeout).await }, |py, h| {
                    Ok(Py::new(py, HealthStatus::from(h))?.into_any())
                })
            }
            Callee::InProcess { name, provider } => {
                builtin_module(py)?.getattr("health")?.call1((name, provider, seconds))
            }
        }
    }

    fn __repr__(&self) -> String {
        format!("LLMClient(name={:?})", self.target_name())
    }
}
