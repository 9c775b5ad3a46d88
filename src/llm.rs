//! `LLMClient`: Python face of [`hector_plugins_host::clients::llm::LlmClient`].

use crate::callee::{self, no_args, CallSite, PyTarget};
use crate::types::{generate_request, request_to_py, GenerateResponse, ModelInfo, StreamChunk};
use hector_plugins_host::clients::llm::LlmClient;
use hector_plugins_host::proto::hector::GenerateRequest;
use pyo3::prelude::*;

/// The in-process arguments of a generate call: `messages, tools`.
fn messages_and_tools<'py>(py: Python<'py>, request: GenerateRequest) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let (messages, tools) = request_to_py(request);
    Ok(vec![messages.into_pyobject(py)?.into_any(), tools.into_pyobject(py)?.into_any()])
}

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
        CallSite::new(py, &self.target, timeout)?.unary(
            "generate",
            request,
            messages_and_tools,
            |plugin, request, timeout| async move { LlmClient::new(plugin).generate(request, timeout).await },
            |py, response| Ok(Py::new(py, GenerateResponse::from(response))?.into_any()),
        )
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
        CallSite::new(py, &self.target, timeout)?.stream(
            "generate_stream",
            request,
            messages_and_tools,
            |plugin, request, timeout| async move { LlmClient::new(plugin).generate_stream(request, timeout).await },
            |py, chunk| Ok(Py::new(py, StreamChunk::from(chunk))?.into_any()),
        )
    }

    #[pyo3(signature = (*, timeout=None))]
    fn model_info<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "model_info",
            (),
            no_args,
            |plugin, (), timeout| async move { LlmClient::new(plugin).model_info(timeout).await },
            |py, info| Ok(Py::new(py, ModelInfo::from(info))?.into_any()),
        )
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        callee::health(py, &self.target, timeout)
    }

    fn __repr__(&self) -> String {
        format!("LLMClient(name={:?})", self.target_name())
    }
}
