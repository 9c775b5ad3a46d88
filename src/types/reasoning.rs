//! `hector.plugin.ReasoningStrategy` values (docs/protocol.md §7.8): the state the host sends on
//! every hook (the strategy keeps none) and what each hook answers.

use super::{json_function, to_json_text, Message, ToolCall, ToolResult};
use hector_plugins_host::proto::hector as pb;
use pyo3::prelude::*;

/// Everything a strategy may need about the agent loop; built by the caller for each hook.
#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug, Default)]
pub struct ReasoningState {
    pub iteration: i32,
    pub total_tokens: i64,
    pub query: String,
    pub conversation: Vec<Message>,
    pub assistant_text: String,
    pub tool_calls: Vec<ToolCall>,
    pub tool_results: Vec<ToolResult>,
    pub custom_state_json: String,
}

#[pymethods]
impl ReasoningState {
    /// `conversation`: `Message`s or dicts; `tool_calls`: `ToolCall`s or dicts; `tool_results`:
    /// `ToolResult`s (what `ToolClient.call` returns). `custom_state`: what the strategy last
    /// handed back, as JSON text or any JSON-able value (None: the first call).
    #[new]
    #[pyo3(signature = (iteration=1, query="".to_string(), conversation=None, *, assistant_text="".to_string(), tool_calls=None, tool_results=None, custom_state=None, total_tokens=0))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        iteration: i32,
        query: String,
        conversation: Option<Vec<Bound<'_, PyAny>>>,
        assistant_text: String,
        tool_calls: Option<Vec<Bound<'_, PyAny>>>,
        tool_results: Option<Vec<ToolResult>>,
        custom_state: Option<&Bound<'_, PyAny>>,
        total_tokens: i64,
    ) -> PyResult<Self> {
        let conversation = conversation
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, m)| Message::proto_from_py(m, i).map(Message::from))
            .collect::<PyResult<_>>()?;
        let tool_calls = tool_calls.unwrap_or_default().iter().map(ToolCall::from_py).collect::<PyResult<_>>()?;
        let custom_state_json = match custom_state {
            Some(state) if !state.is_none() => to_json_text(state)?,
            _ => String::new(),
        };
        Ok(ReasoningState {
            iteration,
            total_tokens,
            query,
            conversation,
            assistant_text,
            tool_calls,
            tool_results: tool_results.unwrap_or_default(),
            custom_state_json,
        })
    }

    /// The custom state parsed from JSON; None before the strategy set one.
    #[getter]
    fn custom_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        loads_or_none(py, &self.custom_state_json)
    }

    fn __repr__(&self) -> String {
        format!(
            "ReasoningState(iteration={}, query={:?}, conversation={} messages, tool_calls={})",
            self.iteration,
            self.query,
            self.conversation.len(),
            self.tool_calls.len()
        )
    }
}

fn loads_or_none<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    if text.trim().is_empty() {
        return Ok(py.None().into_bound(py));
    }
    json_function(py, "loads")?.call1((text,))
}

impl ReasoningState {
    pub fn to_proto(&self) -> pb::ReasoningState {
        pb::ReasoningState {
            iteration: self.iteration,
            total_tokens: self.total_tokens,
            query: self.query.clone(),
            conversation: self.conversation.iter().map(Message::to_proto).collect(),
            assistant_text: self.assistant_text.clone(),
            tool_calls: self.tool_calls.iter().map(ToolCall::to_proto).collect(),
            tool_results: self.tool_results.iter().map(ToolResult::to_proto).collect(),
            custom_state_json: self.custom_state_json.clone(),
        }
    }
}

impl From<pb::ReasoningState> for ReasoningState {
    fn from(s: pb::ReasoningState) -> Self {
        ReasoningState {
            iteration: s.iteration,
            total_tokens: s.total_tokens,
            query: s.query,
            conversation: s.conversation.into_iter().map(Message::from).collect(),
            assistant_text: s.assistant_text,
            tool_calls: s.tool_calls.into_iter().map(ToolCall::from_proto).collect(),
            tool_results: s.tool_results.into_iter().map(ToolResult::from).collect(),
            custom_state_json: s.custom_state_json,
        }
    }
}

#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct StrategyInfo {
    pub name: String,
    pub description: String,
    pub required_tools: Vec<String>,
}

#[pymethods]
impl StrategyInfo {
    #[new]
    #[pyo3(signature = (name="".to_string(), description="".to_string(), required_tools=None))]
    fn py_new(name: String, description: String, required_tools: Option<Vec<String>>) -> Self {
        StrategyInfo { name, description, required_tools: required_tools.unwrap_or_default() }
    }

    fn __repr__(&self) -> String {
        format!("StrategyInfo(name={:?}, required_tools={:?})", self.name, self.required_tools)
    }
}

impl From<&StrategyInfo> for pb::StrategyInfo {
    fn from(i: &StrategyInfo) -> Self {
        pb::StrategyInfo {
            name: i.name.clone(),
            description: i.description.clone(),
            required_tools: i.required_tools.clone(),
        }
    }
}

impl From<pb::StrategyInfo> for StrategyInfo {
    fn from(i: pb::StrategyInfo) -> Self {
        StrategyInfo { name: i.name, description: i.description, required_tools: i.required_tools }
    }
}

/// `prepare_iteration`'s answer: messages to add before the model is called, and the new state.
#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct IterationPlan {
    pub inject_messages: Vec<Message>,
    pub custom_state_json: String,
}

#[pymethods]
impl IterationPlan {
    #[new]
    #[pyo3(signature = (inject_messages=None, custom_state=None))]
    fn py_new(
        inject_messages: Option<Vec<Bound<'_, PyAny>>>,
        custom_state: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let inject_messages = inject_messages
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, m)| Message::proto_from_py(m, i).map(Message::from))
            .collect::<PyResult<_>>()?;
        Ok(IterationPlan { inject_messages, custom_state_json: custom_json(custom_state)? })
    }

    #[getter]
    fn custom_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        loads_or_none(py, &self.custom_state_json)
    }

    fn __repr__(&self) -> String {
        format!(
            "IterationPlan(inject_messages={} messages, custom_state_json={:?})",
            self.inject_messages.len(),
            self.custom_state_json
        )
    }
}

fn custom_json(state: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    match state {
        Some(state) if !state.is_none() => to_json_text(state),
        _ => Ok(String::new()),
    }
}

impl From<&IterationPlan> for pb::IterationPlan {
    fn from(p: &IterationPlan) -> Self {
        pb::IterationPlan {
            inject_messages: p.inject_messages.iter().map(Message::to_proto).collect(),
            custom_state_json: p.custom_state_json.clone(),
            error: String::new(),
        }
    }
}

impl From<pb::IterationPlan> for IterationPlan {
    fn from(p: pb::IterationPlan) -> Self {
        IterationPlan {
            inject_messages: p.inject_messages.into_iter().map(Message::from).collect(),
            custom_state_json: p.custom_state_json,
        }
    }
}

/// `should_stop`'s answer; true when the agent loop ends here (`reason` says why).
#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct StopDecision {
    pub stop: bool,
    pub reason: String,
    pub custom_state_json: String,
}

#[pymethods]
impl StopDecision {
    #[new]
    #[pyo3(signature = (stop, reason="".to_string(), custom_state=None))]
    fn py_new(stop: bool, reason: String, custom_state: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(StopDecision { stop, reason, custom_state_json: custom_json(custom_state)? })
    }

    #[getter]
    fn custom_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        loads_or_none(py, &self.custom_state_json)
    }

    fn __bool__(&self) -> bool {
        self.stop
    }

    fn __repr__(&self) -> String {
        format!("StopDecision(stop={}, reason={:?})", if self.stop { "True" } else { "False" }, self.reason)
    }
}

impl From<&StopDecision> for pb::StopDecision {
    fn from(d: &StopDecision) -> Self {
        pb::StopDecision {
            stop: d.stop,
            reason: d.reason.clone(),
            custom_state_json: d.custom_state_json.clone(),
            error: String::new(),
        }
    }
}

impl From<pb::StopDecision> for StopDecision {
    fn from(d: pb::StopDecision) -> Self {
        StopDecision { stop: d.stop, reason: d.reason, custom_state_json: d.custom_state_json }
    }
}

/// The parts of the system prompt a strategy wants; an empty field means the host's default.
#[pyclass(module = "hector_plugins", frozen, get_all)]
#[derive(Debug)]
pub struct PromptSlots {
    pub system_role: String,
    pub reasoning_instructions: String,
    pub tool_usage: String,
    pub output_format: String,
    pub communication_style: String,
    pub additional: String,
}

#[pymethods]
impl PromptSlots {
    #[new]
    #[pyo3(signature = (system_role="".to_string(), reasoning_instructions="".to_string(), tool_usage="".to_string(), output_format="".to_string(), communication_style="".to_string(), additional="".to_string()))]
    fn py_new(
        system_role: String,
        reasoning_instructions: String,
        tool_usage: String,
        output_format: String,
        communication_style: String,
        additional: String,
    ) -> Self {
        PromptSlots { system_role, reasoning_instructions, tool_usage, output_format, communication_style, additional }
    }

    fn __repr__(&self) -> String {
        format!(
            "PromptSlots(system_role={:?}, reasoning_instructions={:?})",
            self.system_role, self.reasoning_instructions
        )
    }
}

impl From<&PromptSlots> for pb::PromptSlots {
    fn from(s: &PromptSlots) -> Self {
        pb::PromptSlots {
            system_role: s.system_role.clone(),
            reasoning_instructions: s.reasoning_instructions.clone(),
            tool_usage: s.tool_usage.clone(),
            output_format: s.output_format.clone(),
            communication_style: s.communication_style.clone(),
            additional: s.additional.clone(),
        }
    }
}

impl From<pb::PromptSlots> for PromptSlots {
    fn from(s: pb::PromptSlots) -> Self {
        PromptSlots {
            system_role: s.system_role,
            reasoning_instructions: s.reasoning_instructions,
            tool_usage: s.tool_usage,
            output_format: s.output_format,
            communication_style: s.communication_style,
            additional: s.additional,
        }
    }
}
