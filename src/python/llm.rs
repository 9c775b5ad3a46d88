//! `LLMClient`: Python face of [`hector_plugins::clients::llm::LlmClient`].

use super::bridge::{self, AsyncStream};
use super::types::{generate_request, GenerateResponse, HealthStatus, ModelInfo, StreamChunk};
use super::errors::IntoPyResult;
use hector_plugins::clients::llm::LlmClient;
use hector_plugins::{Manager, PluginKind};
use std::sync::Arc;
use pyo3::prelude::*;
use std::time::Duration;

#[pyclass(module = "hector_plugins", frozen, name = "LLMClient")]
pub struct PyLlmClient {
    pub target: LlmTarget,
}

/// A plugin, or a fallback chain whose serving member is looked up again on every call.
pub enum LlmTarget {
    Plugin(LlmClient),
    Fallback { manager: Arc<Manager>, name: String },
}

impl PyLlmClient {
    fn client(&self, py: Python<'_>) -> PyResult<LlmClient> {
        match &self.target {
            LlmTarget::Plugin(client) => Ok(client.clone()),
            LlmTarget::Fallback { manager, name } => Ok(LlmClient::new(manager.get(name, Some(PluginKind::Llm)).py_err(py)?)),
        }
    }

    fn target_name(&self) -> &str {
        match &self.target {
            LlmTarget::Plugin(client) => &client.plugin().name,
            LlmTarget::Fallback { name, .. } => name,
        }
    }
}

pub fn timeout_arg(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout.map(|s| super::manager::seconds(s, "timeout")).transpose()
}

#[pymethods]
impl PyLlmClient {
    /// The plugin's name.
    #[getter]
    fn name(&self) -> String {
        self.target_name().to_string()
    }

    #[pyo3(signature = (messages, tools=None, *, timeout=None))]
    fn generate<'py>(&self, py: Python<'py>, messages: &Bound<'py, PyAny>, tools: Option<&Bound<'py, PyAny>>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let request = generate_request(messages, tools)?;
        let timeout = timeout_arg(timeout)?;
        let client = self.client(py)?;
        bridge::spawn(py, async move { client.generate(request, timeout).await }, |py, response| {
            Ok(Py::new(py, GenerateResponse::from(response))?.into_any())
        })
    }

    #[pyo3(signature = (messages, tools=None))]
    fn generate_stream(&self, py: Python<'_>, messages: &Bound<'_, PyAny>, tools: Option<&Bound<'_, PyAny>>) -> PyResult<AsyncStream> {
        bridge::ensure_runtime_usable()?;
        let request = generate_request(messages, tools)?;
        let client = self.client(py)?;
        let opener = async move { client.generate_stream(request).await };
        Ok(AsyncStream::start(self.target_name(), opener, |py, chunk| Ok(Py::new(py, StreamChunk::from(chunk))?.into_any())))
    }

    #[pyo3(signature = (*, timeout=None))]
    fn model_info<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let timeout = timeout_arg(timeout)?;
        let client = self.client(py)?;
        bridge::spawn(py, async move { client.model_info(timeout).await }, |py, info| Ok(Py::new(py, ModelInfo::from(info))?.into_any()))
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let timeout = timeout_arg(timeout)?;
        let client = self.client(py)?;
        bridge::spawn(py, async move { client.health(timeout).await }, |py, h| Ok(Py::new(py, HealthStatus::from(h))?.into_any()))
    }

    fn __repr__(&self) -> String {
        format!("LLMClient(name={:?})", self.target_name())
    }
}
