//! `LLMClient`: Python face of [`hector_plugins::clients::llm::LlmClient`].

use super::bridge::{self, AsyncStream};
use super::types::{generate_request, GenerateResponse, HealthStatus, ModelInfo, StreamChunk};
use hector_plugins::clients::llm::LlmClient;
use pyo3::prelude::*;
use std::time::Duration;

#[pyclass(module = "hector_plugins", frozen, name = "LLMClient")]
pub struct PyLlmClient {
    pub client: LlmClient,
}

pub fn timeout_arg(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    match timeout {
        None => Ok(None),
        Some(s) => match Duration::try_from_secs_f64(s) {
            Ok(limit) if s > 0.0 => Ok(Some(limit)),
            _ => Err(pyo3::exceptions::PyValueError::new_err(format!("timeout must be a positive, finite number of seconds, not {s}"))),
        },
    }
}

#[pymethods]
impl PyLlmClient {
    /// The plugin's name.
    #[getter]
    fn name(&self) -> String {
        self.client.plugin().name.clone()
    }

    #[pyo3(signature = (messages, tools=None, *, timeout=None))]
    fn generate<'py>(&self, py: Python<'py>, messages: &Bound<'py, PyAny>, tools: Option<&Bound<'py, PyAny>>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let request = generate_request(messages, tools)?;
        let timeout = timeout_arg(timeout)?;
        let client = self.client.clone();
        bridge::spawn(py, async move { client.generate(request, timeout).await }, |py, response| {
            Ok(Py::new(py, GenerateResponse::from(response))?.into_any())
        })
    }

    #[pyo3(signature = (messages, tools=None))]
    fn generate_stream(&self, messages: &Bound<'_, PyAny>, tools: Option<&Bound<'_, PyAny>>) -> PyResult<AsyncStream> {
        bridge::ensure_runtime_usable()?;
        let request = generate_request(messages, tools)?;
        let client = self.client.clone();
        let opener = async move { client.generate_stream(request).await };
        Ok(AsyncStream::start(&self.client.plugin().name, opener, |py, chunk| Ok(Py::new(py, StreamChunk::from(chunk))?.into_any())))
    }

    #[pyo3(signature = (*, timeout=None))]
    fn model_info<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let timeout = timeout_arg(timeout)?;
        let client = self.client.clone();
        bridge::spawn(py, async move { client.model_info(timeout).await }, |py, info| Ok(Py::new(py, ModelInfo::from(info))?.into_any()))
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let timeout = timeout_arg(timeout)?;
        let client = self.client.clone();
        bridge::spawn(py, async move { client.health(timeout).await }, |py, h| Ok(Py::new(py, HealthStatus::from(h))?.into_any()))
    }

    fn __repr__(&self) -> String {
        format!("LLMClient(name={:?})", self.client.plugin().name)
    }
}
