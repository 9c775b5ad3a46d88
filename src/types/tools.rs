//! `hector.plugin.ToolProvider` values (docs/protocol.md §7.7): a tool's result and the progress
//! of a streamed run. Tool definitions are the LLM's `ToolDefinition`.

use super::{json_function, to_json_text, ToolDefinition};
use hector_plugins_host::proto::hector as pb;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::collections::HashMap;

/// The JSON text a call sends: a dict (or any mapping `json.dumps` takes) is serialized here, a
/// str is checked; either way it must be a JSON object, refused before any call.
pub fn arguments_json(arguments: &Bound<'_, PyAny>) -> PyResult<String> {
    let text = if arguments.is_instance_of::<PyString>() {
        arguments.extract::<String>()?
    } else if arguments.is_instance_of::<PyDict>() {
        json_function(arguments.py(), "dumps")?
            .call1((arguments,))
            .map_err(|error| crate::errors::type_error(format!("tool arguments are not JSON-serializable: {error}")))?
            .extract()?
    } else {
        return Err(crate::errors::type_error(format!(
            "tool arguments must be a dict or a JSON object as str, not {}",
            super::type_name(arguments)
        )));
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(text),
        Ok(other) => {
            Err(crate::errors::config_error(format!("tool arguments must be a JSON object, not {}", json_kind(&other))))
        }
        Err(error) => Err(crate::errors::config_error(format!("tool arguments are not valid JSON: {error}"))),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl From<pb::ToolDefinition> for ToolDefinition {
    fn from(t: pb::ToolDefinition) -> Self {
        ToolDefinition { name: t.name, description: t.description, parameters_json: t.parameters_json }
    }
}

/// A tool's answer. `success=False` is the tool's own failure, for the model to see; it is not
/// raised (a gRPC status or a crash is).
#[pyclass(module = "hector_plugins", frozen, get_all, from_py_object)]
#[derive(Clone, Debug, Default)]
pub struct ToolResult {
    pub success: bool,
    pub content: String,
    pub output_json: String,
    pub error: String,
    pub metadata: HashMap<String, String>,
    pub duration_ms: i64,
    pub call_id: String,
}

#[pymethods]
impl ToolResult {
    /// For in-process providers, tests and reasoning states; plugins' answers are built by the host.
    #[new]
    #[pyo3(signature = (success=true, content="".to_string(), *, output=None, error="".to_string(), metadata=None, duration_ms=0, call_id="".to_string()))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        success: bool,
        content: String,
        output: Option<&Bound<'_, PyAny>>,
        error: String,
        metadata: Option<HashMap<String, String>>,
        duration_ms: i64,
        call_id: String,
    ) -> PyResult<Self> {
        let output_json = match output {
            Some(output) if !output.is_none() => to_json_text(output)?,
            _ => String::new(),
        };
        Ok(ToolResult {
            success,
            content,
            output_json,
            error,
            metadata: metadata.unwrap_or_default(),
            duration_ms,
            call_id,
        })
    }

    /// The structured output parsed from JSON; None when the tool gave none.
    #[getter]
    fn output<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.output_json.trim().is_empty() {
            return Ok(py.None().into_bound(py));
        }
        json_function(py, "loads")?.call1((&self.output_json,))
    }

    fn __bool__(&self) -> bool {
        self.success
    }

    fn __repr__(&self) -> String {
        if self.success {
            format!("ToolResult(success=True, content={:?}, call_id={:?})", self.content, self.call_id)
        } else {
            format!("ToolResult(success=False, error={:?}, call_id={:?})", self.error, self.call_id)
        }
    }
}

impl ToolResult {
    pub fn to_proto(&self) -> pb::ToolResult {
        pb::ToolResult {
            success: self.success,
            content: self.content.clone(),
            output_json: self.output_json.clone(),
            error: self.error.clone(),
            metadata: self.metadata.clone(),
            duration_ms: self.duration_ms,
            call_id: self.call_id.clone(),
        }
    }
}

impl From<pb::ToolResult> for ToolResult {
    fn from(r: pb::ToolResult) -> Self {
        ToolResult {
            success: r.success,
            content: r.content,
            output_json: r.output_json,
            error: r.error,
            metadata: r.metadata,
            duration_ms: r.duration_ms,
            call_id: r.call_id,
        }
    }
}

/// One item of `ToolClient.call_stream`: progress for people, output so far, and on the last
/// item (`done`) the result.
#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct ToolProgress {
    pub message: String,
    pub partial_content: String,
    pub fraction: Option<f64>,
    pub done: bool,
    pub result: Option<ToolResult>,
}

#[pymethods]
impl ToolProgress {
    #[new]
    #[pyo3(signature = (message="".to_string(), partial_content="".to_string(), fraction=None, done=false, result=None))]
    fn py_new(
        message: String,
        partial_content: String,
        fraction: Option<f64>,
        done: bool,
        result: Option<ToolResult>,
    ) -> Self {
        ToolProgress { message, partial_content, fraction, done, result }
    }

    fn __repr__(&self) -> String {
        match &self.result {
            Some(result) if self.done => format!("ToolProgress(done=True, result={})", result.__repr__()),
            _ => format!("ToolProgress(message={:?}, fraction={:?})", self.message, self.fraction),
        }
    }
}

impl From<&ToolProgress> for pb::ToolProgress {
    fn from(p: &ToolProgress) -> Self {
        pb::ToolProgress {
            message: p.message.clone(),
            partial_content: p.partial_content.clone(),
            fraction: p.fraction,
            done: p.done,
            result: p.result.as_ref().map(ToolResult::to_proto),
        }
    }
}

impl From<pb::ToolProgress> for ToolProgress {
    fn from(p: pb::ToolProgress) -> Self {
        ToolProgress {
            message: p.message,
            partial_content: p.partial_content,
            fraction: p.fraction,
            done: p.done,
            result: p.result.map(ToolResult::from),
        }
    }
}
