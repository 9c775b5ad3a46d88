//! `ToolClient`: Python face of [`hector_plugins_host::clients::tools::ToolClient`].

use crate::callee::{no_args, CallSite, PyTarget};
use crate::types::{arguments_json, HealthStatus, ToolDefinition, ToolProgress, ToolResult};
use hector_plugins_host::clients::tools::ToolClient;
use hector_plugins_host::proto::hector::ToolRequest;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// The in-process arguments of a tool call: `tool, arguments (a dict), call_id`.
fn tool_call_args<'py>(py: Python<'py>, request: ToolRequest) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let arguments = py.import("json")?.getattr("loads")?.call1((request.arguments_json,))?;
    Ok(vec![request.name.into_pyobject(py)?.into_any(), arguments, request.call_id.into_pyobject(py)?.into_any()])
}

fn tool_request(name: String, arguments: &Bound<'_, PyAny>, call_id: String) -> PyResult<ToolRequest> {
    Ok(ToolRequest { name, arguments_json: arguments_json(arguments)?, call_id })
}

#[pyclass(module = "hector_plugins", frozen, name = "ToolClient")]
pub struct PyToolClient {
    pub target: PyTarget,
}

#[pymethods]
impl PyToolClient {
    /// The plugin's name.
    #[getter]
    fn name(&self) -> String {
        self.target.name().to_string()
    }

    /// The provider's tools, as `ToolDefinition`s (ready to hand to an LLM).
    #[pyo3(signature = (*, timeout=None))]
    fn list_tools<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "list_tools",
            (),
            no_args,
            |plugin, (), timeout| async move { ToolClient::new(plugin).list_tools(timeout).await },
            |py, response| {
                let tools = response.tools.into_iter().map(|t| Py::new(py, ToolDefinition::from(t)));
                Ok(PyList::new(py, tools.collect::<PyResult<Vec<_>>>()?)?.into_any().unbind())
            },
        )
    }

    /// Runs tool `tool` with `arguments` (a dict, or a JSON object as text) and returns its
    /// `ToolResult`; a tool that failed gives `success=False`, not an exception.
    #[pyo3(signature = (tool, arguments=None, *, call_id="".to_string(), timeout=None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        tool: String,
        arguments: Option<&Bound<'py, PyAny>>,
        call_id: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = request_of(py, tool, arguments, call_id)?;
        CallSite::new(py, &self.target, timeout)?.unary(
            "call_tool",
            request,
            tool_call_args,
            |plugin, request, timeout| async move { ToolClient::new(plugin).execute(request, timeout).await },
            |py, result| Ok(Py::new(py, ToolResult::from(result))?.into_any()),
        )
    }

    /// Runs tool `tool`, yielding `ToolProgress` items; the last has `done=True` and the result.
    /// A provider without streaming yields that one item. `timeout` bounds each wait.
    #[pyo3(signature = (tool, arguments=None, *, call_id="".to_string(), timeout=None))]
    fn call_stream<'py>(
        &self,
        py: Python<'py>,
        tool: String,
        arguments: Option<&Bound<'py, PyAny>>,
        call_id: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = request_of(py, tool, arguments, call_id)?;
        CallSite::new(py, &self.target, timeout)?.stream(
            "call_tool_stream",
            request,
            tool_call_args,
            |plugin, request, timeout| async move { ToolClient::new(plugin).execute_stream(request, timeout).await },
            |py, progress| Ok(Py::new(py, ToolProgress::from(progress))?.into_any()),
        )
    }

    #[pyo3(signature = (*, timeout=None))]
    fn health<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        CallSite::new(py, &self.target, timeout)?.unary(
            "health",
            (),
            no_args,
            |plugin, (), timeout| async move { ToolClient::new(plugin).health(timeout).await },
            |py, health| Ok(Py::new(py, HealthStatus::from(health))?.into_any()),
        )
    }

    fn __repr__(&self) -> String {
        format!("ToolClient(name={:?})", self.target.name())
    }
}

/// No arguments is an empty object.
fn request_of(
    py: Python<'_>,
    tool: String,
    arguments: Option<&Bound<'_, PyAny>>,
    call_id: String,
) -> PyResult<ToolRequest> {
    match arguments {
        Some(arguments) if !arguments.is_none() => tool_request(tool, arguments, call_id),
        _ => tool_request(tool, pyo3::types::PyDict::new(py).as_any(), call_id),
    }
}
