//! The five plugin types of the Rust SDK implemented by a Python object: each RPC's request is
//! turned into the arguments an in-process provider receives (the host API's own classes),
//! the method runs through `hector_plugins._builtin` (the same checks and conversions as in
//! process), and its answer is turned back into the response.

use super::calls::{dispatch, PyPlugin, Start};
use crate::callee::builtin_module;
use crate::types::{self, vectors, ReasoningState};
use hector_plugins_sdk::plugin::Config;
use hector_plugins_sdk::proto::hector as pb;
use hector_plugins_sdk::{
    DatabasePlugin, EmbedderPlugin, Lifecycle, LlmPlugin, PluginError, PluginStream, ReasoningPlugin, ToolPlugin,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// `_builtin.<function>(name, plugin, *args, None)`: the in-process call, no timeout.
fn builtin(
    name: &str,
    function: &'static str,
    args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> + Send + 'static,
) -> Start {
    let name = name.to_owned();
    Box::new(move |plugin| {
        let py = plugin.py();
        let mut all = vec![name.into_pyobject(py)?.into_any(), plugin.clone()];
        all.extend(args(py)?);
        all.push(py.None().into_bound(py));
        builtin_module(py)?.getattr(function)?.call1(PyTuple::new(py, all)?)
    })
}

fn no_args(_py: Python<'_>) -> PyResult<Vec<Bound<'_, PyAny>>> {
    Ok(Vec::new())
}

/// `_dispatch.<function>(plugin, *args)`: lifecycle methods, which in-process providers lack.
fn lifecycle(
    function: &'static str,
    args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> + Send + 'static,
) -> Start {
    Box::new(move |plugin| {
        let py = plugin.py();
        let mut all = vec![plugin.clone()];
        all.extend(args(py)?);
        dispatch(py)?.getattr(function)?.call1(PyTuple::new(py, all)?)
    })
}

fn nothing(_value: &Bound<'_, PyAny>) -> PyResult<()> {
    Ok(())
}

/// A host value class (what the `_builtin` function returned) as its protobuf message.
fn proto<T, P>(value: &Bound<'_, PyAny>) -> PyResult<P>
where
    T: pyo3::PyClass,
    P: for<'a> From<&'a T>,
{
    Ok(P::from(&*value.cast::<T>()?.borrow()))
}

fn extract<T>(value: &Bound<'_, PyAny>) -> PyResult<T>
where
    for<'a, 'py> T: FromPyObject<'a, 'py>,
{
    value.extract().map_err(Into::into)
}

/// `hector_plugins.PluginCallError(message, code=code)`, the exception a plugin raises to choose
/// the status; `_dispatch.report` reads it back.
fn call_error(py: Python<'_>, code: &str, message: String) -> PyErr {
    let made = py.import("hector_plugins.errors").and_then(|errors| {
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("code", code)?;
        errors.getattr("PluginCallError")?.call((message.clone(),), Some(&kwargs))
    });
    match made {
        Ok(error) => PyErr::from_value(error),
        Err(failure) => failure,
    }
}

#[tonic::async_trait]
impl Lifecycle for PyPlugin {
    async fn initialize(&self, config: Config) -> Result<(), PluginError> {
        let start = lifecycle("initialize", move |py| Ok(vec![config.into_pyobject(py)?.into_any()]));
        self.unary("Initialize", start, nothing).await
    }

    async fn shutdown(&self) -> Result<(), PluginError> {
        self.unary("Shutdown", lifecycle("shutdown", no_args), nothing).await
    }

    async fn health(&self) -> Result<String, PluginError> {
        let status = self.unary("Health", lifecycle("health", no_args), |value| {
            let status = value.cast::<types::HealthStatus>()?.borrow();
            Ok((status.healthy, status.message.clone()))
        });
        match status.await? {
            (true, message) => Ok(message),
            (false, message) => Err(PluginError::new(message)),
        }
    }

    async fn get_state(&self) -> Result<Option<Vec<u8>>, PluginError> {
        self.unary("GetState", lifecycle("get_state", no_args), |value| {
            if value.is_none() {
                return Ok(None);
            }
            Ok(Some(value.extract::<Vec<u8>>()?))
        })
        .await
    }

    async fn restore_state(&self, state: Vec<u8>) -> Result<(), PluginError> {
        let start = lifecycle("restore_state", move |py| Ok(vec![pyo3::types::PyBytes::new(py, &state).into_any()]));
        self.unary("RestoreState", start, nothing).await
    }

    fn manifest(&self) -> pb::ManifestResponse {
        self.manifest.clone()
    }
}

// ---- LLM providers -------------------------------------------------------------------------

fn generate_args(
    request: pb::GenerateRequest,
) -> impl for<'py> FnOnce(Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> + Send {
    move |py| {
        let (messages, tools) = types::request_to_py(request);
        Ok(vec![messages.into_pyobject(py)?.into_any(), tools.into_pyobject(py)?.into_any()])
    }
}

#[tonic::async_trait]
impl LlmPlugin for PyPlugin {
    async fn generate(&self, request: pb::GenerateRequest) -> Result<pb::GenerateResponse, PluginError> {
        let start = builtin(&self.name, "generate", generate_args(request));
        self.unary("Generate", start, proto::<types::GenerateResponse, _>).await
    }

    async fn generate_stream(
        &self,
        request: pb::GenerateRequest,
    ) -> Result<PluginStream<pb::StreamChunk>, PluginError> {
        let start = builtin(&self.name, "generate_stream", generate_args(request));
        self.stream("GenerateStreaming", start, proto::<types::StreamChunk, _>).await
    }

    async fn model_info(&self) -> Result<pb::ModelInfo, PluginError> {
        let start = builtin(&self.name, "model_info", no_args);
        self.unary("GetModelInfo", start, proto::<types::ModelInfo, _>).await
    }
}

// ---- Embedders -----------------------------------------------------------------------------

#[tonic::async_trait]
impl EmbedderPlugin for PyPlugin {
    async fn embed(&self, text: String) -> Result<Vec<f32>, PluginError> {
        let start = builtin(&self.name, "embed", move |py| Ok(vec![text.into_pyobject(py)?.into_any()]));
        self.unary("Embed", start, |value| vectors::vector_from_py(value, "the vector")).await
    }

    async fn embed_batch(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
        let start = builtin(&self.name, "embed_batch", move |py| Ok(vec![texts.into_pyobject(py)?.into_any()]));
        self.unary("EmbedBatch", start, |value| vectors::vectors_from_py(value, "the vectors")).await
    }

    async fn info(&self) -> Result<pb::EmbedderInfo, PluginError> {
        let start = builtin(&self.name, "embedder_info", no_args);
        self.unary("GetEmbedderInfo", start, proto::<types::EmbedderInfo, _>).await
    }
}

// ---- Vector databases ----------------------------------------------------------------------

fn search_results(value: &Bound<'_, PyAny>) -> PyResult<Vec<pb::SearchResult>> {
    value.try_iter()?.map(|item| proto::<types::SearchResult, _>(&item?)).collect()
}

#[tonic::async_trait]
impl DatabasePlugin for PyPlugin {
    async fn upsert(&self, request: pb::UpsertRequest) -> Result<(), PluginError> {
        let start = builtin(&self.name, "upsert", move |py| types::upsert_to_py(py, request));
        self.unary("Upsert", start, nothing).await
    }

    async fn search(&self, request: pb::SearchRequest) -> Result<Vec<pb::SearchResult>, PluginError> {
        let start = builtin(&self.name, "search", move |py| types::search_to_py(py, request));
        self.unary("Search", start, search_results).await
    }

    async fn delete(&self, request: pb::DeleteRequest) -> Result<(), PluginError> {
        let start = builtin(&self.name, "delete", move |py| {
            Ok(vec![request.collection.into_pyobject(py)?.into_any(), request.id.into_pyobject(py)?.into_any()])
        });
        self.unary("Delete", start, nothing).await
    }

    async fn create_collection(&self, request: pb::CreateCollectionRequest) -> Result<(), PluginError> {
        let start = builtin(&self.name, "create_collection", move |py| {
            Ok(vec![
                request.collection.into_pyobject(py)?.into_any(),
                request.vector_size.into_pyobject(py)?.into_any(),
            ])
        });
        self.unary("CreateCollection", start, nothing).await
    }

    async fn delete_collection(&self, request: pb::DeleteCollectionRequest) -> Result<(), PluginError> {
        let start = builtin(&self.name, "delete_collection", move |py| {
            Ok(vec![request.collection.into_pyobject(py)?.into_any()])
        });
        self.unary("DeleteCollection", start, nothing).await
    }
}

// ---- Tool providers ------------------------------------------------------------------------

/// `tool, arguments, call_id` as `call_tool` takes them: the arguments parsed into a dict; not a
/// JSON object, the call is refused with INVALID_ARGUMENT before the plugin sees it.
fn tool_args(request: pb::ToolRequest) -> impl for<'py> FnOnce(Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> + Send {
    move |py| {
        let text = if request.arguments_json.trim().is_empty() { "{}" } else { request.arguments_json.as_str() };
        if !matches!(serde_json::from_str::<serde_json::Value>(text), Ok(serde_json::Value::Object(_))) {
            return Err(call_error(
                py,
                "INVALID_ARGUMENT",
                format!("arguments_json is not a JSON object: {text:.200}"),
            ));
        }
        let arguments = py.import("json")?.call_method1("loads", (text,))?;
        Ok(vec![request.name.into_pyobject(py)?.into_any(), arguments, request.call_id.into_pyobject(py)?.into_any()])
    }
}

fn tool_result(value: &Bound<'_, PyAny>) -> PyResult<pb::ToolResult> {
    Ok(value.cast::<types::ToolResult>()?.borrow().to_proto())
}

#[tonic::async_trait]
impl ToolPlugin for PyPlugin {
    async fn list_tools(&self) -> Result<Vec<pb::ToolDefinition>, PluginError> {
        self.unary("ListTools", builtin(&self.name, "list_tools", no_args), |value| {
            value.try_iter()?.map(|item| Ok(item?.extract::<types::ToolDefinition>()?.into())).collect()
        })
        .await
    }

    async fn execute_tool(&self, request: pb::ToolRequest) -> Result<pb::ToolResult, PluginError> {
        self.unary("ExecuteTool", builtin(&self.name, "call_tool", tool_args(request)), tool_result).await
    }

    async fn execute_tool_stream(
        &self,
        request: pb::ToolRequest,
    ) -> Result<PluginStream<pb::ToolProgress>, PluginError> {
        let start = builtin(&self.name, "call_tool_stream", tool_args(request));
        self.stream("ExecuteToolStreaming", start, proto::<types::ToolProgress, _>).await
    }
}

// ---- Reasoning strategies ------------------------------------------------------------------

fn state_args(
    state: pb::ReasoningState,
) -> impl for<'py> FnOnce(Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> + Send {
    move |py| Ok(vec![Bound::new(py, ReasoningState::from(state))?.into_any()])
}

#[tonic::async_trait]
impl ReasoningPlugin for PyPlugin {
    async fn info(&self) -> Result<pb::StrategyInfo, PluginError> {
        let start = builtin(&self.name, "strategy_info", no_args);
        self.unary("GetStrategyInfo", start, proto::<types::StrategyInfo, _>).await
    }

    async fn prepare_iteration(&self, state: pb::ReasoningState) -> Result<pb::IterationPlan, PluginError> {
        let start = builtin(&self.name, "prepare_iteration", state_args(state));
        self.unary("PrepareIteration", start, proto::<types::IterationPlan, _>).await
    }

    async fn should_stop(&self, state: pb::ReasoningState) -> Result<pb::StopDecision, PluginError> {
        let start = builtin(&self.name, "should_stop", state_args(state));
        self.unary("ShouldStop", start, proto::<types::StopDecision, _>).await
    }

    async fn after_iteration(&self, state: pb::ReasoningState) -> Result<pb::StateUpdate, PluginError> {
        let start = builtin(&self.name, "after_iteration", state_args(state));
        self.unary("AfterIteration", start, |value| {
            Ok(pb::StateUpdate { custom_state_json: extract(value)?, error: String::new() })
        })
        .await
    }

    async fn context_injection(&self, state: pb::ReasoningState) -> Result<pb::ContextInjection, PluginError> {
        let start = builtin(&self.name, "context_injection", state_args(state));
        self.unary("GetContextInjection", start, |value| {
            Ok(pb::ContextInjection { text: extract(value)?, error: String::new() })
        })
        .await
    }

    async fn prompt_slots(&self) -> Result<pb::PromptSlots, PluginError> {
        let start = builtin(&self.name, "prompt_slots", no_args);
        self.unary("GetPromptSlots", start, proto::<types::PromptSlots, _>).await
    }
}
