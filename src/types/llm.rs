//! `hector.plugin.LLMProvider` values (docs/protocol.md §7.3): messages, tool calls and
//! definitions, responses, stream chunks, model info.

use super::{json_function, optional_str, required_str, to_json_text, type_name};
use hector_plugins_host::clients::llm::emulated_chunks;
use hector_plugins_host::proto::hector as pb;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

#[pyclass(module = "hector_plugins", eq, get_all, set_all, from_py_object)]
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments_json: String,
}

#[pymethods]
impl ToolCall {
    #[new]
    #[pyo3(signature = (id, name, arguments=None, *, arguments_json=None))]
    fn py_new(
        id: String,
        name: String,
        arguments: Option<&Bound<'_, PyAny>>,
        arguments_json: Option<String>,
    ) -> PyResult<Self> {
        let arguments_json = match (arguments, arguments_json) {
            (Some(_), Some(_)) => return Err(crate::errors::type_error("give arguments or arguments_json, not both")),
            (Some(arguments), None) => to_json_text(arguments)?,
            (None, Some(text)) => text,
            (None, None) => "{}".into(),
        };
        Ok(ToolCall { id, name, arguments_json })
    }

    /// The arguments parsed from JSON.
    #[getter]
    fn arguments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = if self.arguments_json.trim().is_empty() { "{}" } else { &self.arguments_json };
        json_function(py, "loads")?.call1((text,))
    }

    fn __repr__(&self) -> String {
        format!("ToolCall(id={:?}, name={:?}, arguments_json={:?})", self.id, self.name, self.arguments_json)
    }
}

impl ToolCall {
    pub(super) fn from_py(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(call) = value.extract::<ToolCall>() {
            return Ok(call);
        }
        let dict = value.cast::<PyDict>().map_err(|_| {
            crate::errors::type_error(format!("a tool call must be a ToolCall or a dict, not {}", type_name(value)))
        })?;
        let arguments = dict.get_item("arguments")?;
        let arguments_json = dict.get_item("arguments_json")?.map(|v| v.extract()).transpose()?;
        ToolCall::py_new(
            required_str(dict, "id", "tool call")?,
            required_str(dict, "name", "tool call")?,
            arguments.as_ref(),
            arguments_json,
        )
    }

    pub fn to_proto(&self) -> pb::ToolCall {
        pb::ToolCall { id: self.id.clone(), name: self.name.clone(), arguments_json: self.arguments_json.clone() }
    }

    pub fn from_proto(call: pb::ToolCall) -> Self {
        ToolCall { id: call.id, name: call.name, arguments_json: call.arguments_json }
    }
}

#[pyclass(module = "hector_plugins", eq, get_all, set_all, from_py_object)]
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Message {
    pub role: String,
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub tool_call_id: String,
}

#[pymethods]
impl Message {
    #[new]
    #[pyo3(signature = (role, content="".to_string(), tool_calls=None, tool_call_id="".to_string()))]
    fn py_new(
        role: String,
        content: String,
        tool_calls: Option<Vec<Bound<'_, PyAny>>>,
        tool_call_id: String,
    ) -> PyResult<Self> {
        let tool_calls = tool_calls.unwrap_or_default().iter().map(ToolCall::from_py).collect::<PyResult<_>>()?;
        Ok(Message { role, content, tool_calls, tool_call_id })
    }

    #[staticmethod]
    fn system(content: String) -> Self {
        Message { role: "system".into(), content, ..Default::default() }
    }

    #[staticmethod]
    fn user(content: String) -> Self {
        Message { role: "user".into(), content, ..Default::default() }
    }

    #[staticmethod]
    #[pyo3(signature = (content="".to_string(), tool_calls=None))]
    fn assistant(content: String, tool_calls: Option<Vec<Bound<'_, PyAny>>>) -> PyResult<Self> {
        Message::py_new("assistant".into(), content, tool_calls, String::new())
    }

    /// The result of a tool call, answering `tool_call_id`.
    #[staticmethod]
    fn tool(content: String, tool_call_id: String) -> Self {
        Message { role: "tool".into(), content, tool_call_id, ..Default::default() }
    }

    fn __repr__(&self) -> String {
        let mut text = format!("Message(role={:?}, content={:?}", self.role, self.content);
        if !self.tool_calls.is_empty() {
            text.push_str(&format!(
                ", tool_calls={:?}",
                self.tool_calls.iter().map(ToolCall::__repr__).collect::<Vec<_>>()
            ));
        }
        if !self.tool_call_id.is_empty() {
            text.push_str(&format!(", tool_call_id={:?}", self.tool_call_id));
        }
        text + ")"
    }
}

impl Message {
    pub(crate) fn to_proto(&self) -> pb::Message {
        pb::Message {
            role: self.role.clone(),
            content: self.content.clone(),
            tool_calls: self.tool_calls.iter().map(ToolCall::to_proto).collect(),
            tool_call_id: self.tool_call_id.clone(),
        }
    }

    pub(super) fn proto_from_py(value: &Bound<'_, PyAny>, index: usize) -> PyResult<pb::Message> {
        if let Ok(message) = value.cast::<Message>() {
            return Ok(message.borrow().to_proto());
        }
        let dict = value.cast::<PyDict>().map_err(|_| {
            crate::errors::type_error(format!(
                "messages[{index}] must be a Message or a dict, not {}",
                type_name(value)
            ))
        })?;
        let what = format!("messages[{index}]");
        let tool_calls = match dict.get_item("tool_calls")? {
            Some(calls) if !calls.is_none() => {
                calls.try_iter()?.map(|c| ToolCall::from_py(&c?).map(|c| c.to_proto())).collect::<PyResult<_>>()?
            }
            _ => Vec::new(),
        };
        Ok(pb::Message {
            role: required_str(dict, "role", &what)?,
            content: optional_str(dict, "content", &what)?,
            tool_calls,
            tool_call_id: optional_str(dict, "tool_call_id", &what)?,
        })
    }
}

impl From<pb::Message> for Message {
    fn from(m: pb::Message) -> Self {
        Message {
            role: m.role,
            content: m.content,
            tool_calls: m.tool_calls.into_iter().map(ToolCall::from_proto).collect(),
            tool_call_id: m.tool_call_id,
        }
    }
}

#[pyclass(module = "hector_plugins", eq, get_all, set_all, from_py_object)]
#[derive(Clone, Debug, PartialEq)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments, as JSON text.
    pub parameters_json: String,
}

#[pymethods]
impl ToolDefinition {
    #[new]
    #[pyo3(signature = (name, description="".to_string(), parameters=None))]
    fn py_new(name: String, description: String, parameters: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let parameters_json = match parameters {
            Some(p) if !p.is_none() => to_json_text(p)?,
            _ => r#"{"type":"object","properties":{}}"#.into(),
        };
        Ok(ToolDefinition { name, description, parameters_json })
    }

    #[getter]
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_function(py, "loads")?.call1((&self.parameters_json,))
    }

    fn __repr__(&self) -> String {
        format!(
            "ToolDefinition(name={:?}, description={:?}, parameters_json={:?})",
            self.name, self.description, self.parameters_json
        )
    }
}

impl ToolDefinition {
    fn proto_from_py(value: &Bound<'_, PyAny>, index: usize) -> PyResult<pb::ToolDefinition> {
        let definition = if let Ok(definition) = value.extract::<ToolDefinition>() {
            definition
        } else {
            let dict = value.cast::<PyDict>().map_err(|_| {
                crate::errors::type_error(format!(
                    "tools[{index}] must be a ToolDefinition or a dict, not {}",
                    type_name(value)
                ))
            })?;
            let what = format!("tools[{index}]");
            let parameters = match dict.get_item("parameters")? {
                Some(p) => Some(p),
                None => dict.get_item("parameters_json")?,
            };
            ToolDefinition::py_new(
                required_str(dict, "name", &what)?,
                optional_str(dict, "description", &what)?,
                parameters.as_ref(),
            )?
        };
        Ok(pb::ToolDefinition {
            name: definition.name,
            description: definition.description,
            parameters_json: definition.parameters_json,
        })
    }
}

impl From<ToolDefinition> for pb::ToolDefinition {
    fn from(d: ToolDefinition) -> Self {
        pb::ToolDefinition { name: d.name, description: d.description, parameters_json: d.parameters_json }
    }
}

/// A `GenerateRequest` → the (messages, tools) lists an in-process provider receives.
pub fn request_to_py(request: pb::GenerateRequest) -> (Vec<Message>, Vec<ToolDefinition>) {
    let messages = request.messages.into_iter().map(Message::from).collect();
    let tools = request
        .tools
        .into_iter()
        .map(|t| ToolDefinition { name: t.name, description: t.description, parameters_json: t.parameters_json })
        .collect();
    (messages, tools)
}

/// Messages and tools from Python → a `GenerateRequest`.
pub fn generate_request(
    messages: &Bound<'_, PyAny>,
    tools: Option<&Bound<'_, PyAny>>,
) -> PyResult<pb::GenerateRequest> {
    if messages.is_instance_of::<PyString>() {
        return Err(crate::errors::type_error(
            "messages must be a list of Message or dict, not a str (use [Message.user(text)])",
        ));
    }
    let messages =
        messages.try_iter()?.enumerate().map(|(i, m)| Message::proto_from_py(&m?, i)).collect::<PyResult<_>>()?;
    let tools = match tools {
        Some(tools) if !tools.is_none() => tools
            .try_iter()?
            .enumerate()
            .map(|(i, t)| ToolDefinition::proto_from_py(&t?, i))
            .collect::<PyResult<_>>()?,
        _ => Vec::new(),
    };
    Ok(pb::GenerateRequest { messages, tools })
}

#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct GenerateResponse {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub tokens_used: i32,
}

#[pymethods]
impl GenerateResponse {
    /// For in-process providers and tests; plugins' answers are built by the host.
    #[new]
    #[pyo3(signature = (text="".to_string(), tool_calls=None, tokens_used=0))]
    fn py_new(text: String, tool_calls: Option<Vec<Bound<'_, PyAny>>>, tokens_used: i32) -> PyResult<Self> {
        let tool_calls = tool_calls.unwrap_or_default().iter().map(ToolCall::from_py).collect::<PyResult<_>>()?;
        Ok(GenerateResponse { text, tool_calls, tokens_used })
    }

    /// The stream that carries this response: its text, each tool call, then done (what
    /// `generate_stream` yields for a provider that cannot stream).
    fn chunks(&self) -> Vec<StreamChunk> {
        let response = pb::GenerateResponse {
            text: self.text.clone(),
            tool_calls: self.tool_calls.iter().map(ToolCall::to_proto).collect(),
            tokens_used: self.tokens_used,
        };
        emulated_chunks(response).into_iter().map(StreamChunk::from).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "GenerateResponse(text={:?}, tool_calls={}, tokens_used={})",
            self.text,
            self.tool_calls.len(),
            self.tokens_used
        )
    }
}

impl From<&GenerateResponse> for pb::GenerateResponse {
    fn from(r: &GenerateResponse) -> Self {
        pb::GenerateResponse {
            text: r.text.clone(),
            tool_calls: r.tool_calls.iter().map(ToolCall::to_proto).collect(),
            tokens_used: r.tokens_used,
        }
    }
}

impl From<pb::GenerateResponse> for GenerateResponse {
    fn from(r: pb::GenerateResponse) -> Self {
        GenerateResponse {
            text: r.text,
            tool_calls: r.tool_calls.into_iter().map(ToolCall::from_proto).collect(),
            tokens_used: r.tokens_used,
        }
    }
}

#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct StreamChunk {
    /// "text", "tool_call", "done" or "error".
    #[pyo3(name = "type")]
    pub kind: &'static str,
    pub text: String,
    pub tool_call: Option<ToolCall>,
    pub error: String,
    pub tokens_used: i32,
}

const CHUNK_TYPES: [&str; 4] = ["text", "tool_call", "done", "error"];

#[pymethods]
impl StreamChunk {
    #[new]
    #[pyo3(signature = (r#type, text="".to_string(), tool_call=None, error="".to_string(), tokens_used=0))]
    fn py_new(
        r#type: &str,
        text: String,
        tool_call: Option<&Bound<'_, PyAny>>,
        error: String,
        tokens_used: i32,
    ) -> PyResult<Self> {
        let kind = CHUNK_TYPES.into_iter().find(|k| *k == r#type).ok_or_else(|| {
            crate::errors::config_error(format!(
                "a chunk's type is one of {}, not {:?}",
                CHUNK_TYPES.join(", "),
                r#type
            ))
        })?;
        let tool_call = tool_call.filter(|c| !c.is_none()).map(ToolCall::from_py).transpose()?;
        Ok(StreamChunk { kind, text, tool_call, error, tokens_used })
    }

    fn __repr__(&self) -> String {
        match self.kind {
            "text" => format!("StreamChunk(type='text', text={:?})", self.text),
            "tool_call" => format!(
                "StreamChunk(type='tool_call', tool_call={})",
                self.tool_call.as_ref().map(ToolCall::__repr__).unwrap_or_default()
            ),
            "done" => format!("StreamChunk(type='done', tokens_used={})", self.tokens_used),
            _ => format!("StreamChunk(type={:?}, error={:?})", self.kind, self.error),
        }
    }
}

impl From<&StreamChunk> for pb::StreamChunk {
    fn from(c: &StreamChunk) -> Self {
        use pb::stream_chunk::ChunkType;
        let kind = match c.kind {
            "tool_call" => ChunkType::ToolCall,
            "done" => ChunkType::Done,
            "error" => ChunkType::Error,
            _ => ChunkType::Text,
        };
        pb::StreamChunk {
            r#type: kind as i32,
            text: c.text.clone(),
            tool_call: c.tool_call.as_ref().map(ToolCall::to_proto),
            error: c.error.clone(),
            tokens_used: c.tokens_used,
        }
    }
}

impl From<pb::StreamChunk> for StreamChunk {
    fn from(c: pb::StreamChunk) -> Self {
        use pb::stream_chunk::ChunkType;
        let kind = match ChunkType::try_from(c.r#type) {
            Ok(ChunkType::Text) => "text",
            Ok(ChunkType::ToolCall) => "tool_call",
            Ok(ChunkType::Done) => "done",
            Ok(ChunkType::Error) => "error",
            Err(_) => "unknown",
        };
        StreamChunk {
            kind,
            text: c.text,
            tool_call: c.tool_call.map(ToolCall::from_proto),
            error: c.error,
            tokens_used: c.tokens_used,
        }
    }
}

#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct ModelInfo {
    pub model_name: String,
    pub max_tokens: i32,
    pub temperature: f64,
}

#[pymethods]
impl ModelInfo {
    #[new]
    #[pyo3(signature = (model_name="".to_string(), max_tokens=0, temperature=0.0))]
    fn py_new(model_name: String, max_tokens: i32, temperature: f64) -> Self {
        ModelInfo { model_name, max_tokens, temperature }
    }

    fn __repr__(&self) -> String {
        format!(
            "ModelInfo(model_name={:?}, max_tokens={}, temperature={})",
            self.model_name, self.max_tokens, self.temperature
        )
    }
}

impl From<&ModelInfo> for pb::ModelInfo {
    fn from(m: &ModelInfo) -> Self {
        pb::ModelInfo { model_name: m.model_name.clone(), max_tokens: m.max_tokens, temperature: m.temperature }
    }
}

impl From<pb::ModelInfo> for ModelInfo {
    fn from(m: pb::ModelInfo) -> Self {
        ModelInfo { model_name: m.model_name, max_tokens: m.max_tokens, temperature: m.temperature }
    }
}
