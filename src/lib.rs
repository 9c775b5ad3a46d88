//! The PyO3 layer (`hector_plugins._core`): converts between Python and the host core
//! (`hector-plugins-host`), nothing more. docs/architecture.md says what lives where.

mod bridge;
mod buffer;
mod callee;
mod database;
mod durations;
mod embedder;
mod errors;
mod llm;
mod logging;
mod manager;
mod raw;
mod raw_requests;
mod reasoning;
mod sdk;
mod tools;
mod types;

use pyo3::prelude::*;
use std::time::Duration;

/// Interpreter exit: stop every live plugin (graceful, then killed after `grace`, by default its
/// own `shutdown_grace`; dependents first), with the GIL released.
#[pyfunction]
#[pyo3(signature = (grace=None))]
fn _shutdown_all(py: Python<'_>, grace: Option<f64>) {
    let grace = grace.and_then(|g| Duration::try_from_secs_f64(g).ok());
    py.detach(|| {
        if !hector_plugins_host::runtime::usable() {
            return; // a forked child: the plugins belong to the parent
        }
        // No supervisor may start a plugin again from here on.
        hector_plugins_host::runtime::begin_exit();
        let plugins = hector_plugins_host::plugin::live_plugins();
        if !plugins.is_empty() {
            let in_order = hector_plugins_host::manager::stop_order::stop_in_dependency_order(plugins, grace, &|_| {});
            hector_plugins_host::runtime::runtime().block_on(in_order);
        }
    });
    logging::stop_delivery(py);
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<manager::PyPluginManager>()?;
    m.add_class::<manager::LoadResult>()?;
    m.add_class::<manager::ConfiguredPlugin>()?;
    m.add_class::<llm::PyLlmClient>()?;
    m.add_class::<database::PyDatabaseClient>()?;
    m.add_class::<embedder::PyEmbedderClient>()?;
    m.add_class::<raw::PyRawClient>()?;
    m.add_class::<tools::PyToolClient>()?;
    m.add_class::<reasoning::PyReasoningClient>()?;
    m.add_class::<types::ToolResult>()?;
    m.add_class::<types::ToolProgress>()?;
    m.add_class::<types::ReasoningState>()?;
    m.add_class::<types::StrategyInfo>()?;
    m.add_class::<types::IterationPlan>()?;
    m.add_class::<types::StopDecision>()?;
    m.add_class::<types::PromptSlots>()?;
    m.add_class::<raw_requests::RequestSender>()?;
    m.add_class::<types::Message>()?;
    m.add_class::<types::ToolCall>()?;
    m.add_class::<types::ToolDefinition>()?;
    m.add_class::<types::GenerateResponse>()?;
    m.add_class::<types::StreamChunk>()?;
    m.add_class::<types::ModelInfo>()?;
    m.add_class::<types::SearchResult>()?;
    m.add_class::<types::PluginManifest>()?;
    m.add_class::<types::EmbedderInfo>()?;
    m.add_class::<types::HealthStatus>()?;
    m.add_class::<types::PluginInfo>()?;
    m.add_class::<manager::LifecycleEvent>()?;
    m.add_class::<bridge::AsyncStream>()?;
    m.add_class::<bridge::Ready>()?;
    m.add_class::<sdk::PyPluginServer>()?;
    m.add_function(wrap_pyfunction!(sdk::_sdk_check_environment, m)?)?;
    m.add_function(wrap_pyfunction!(_shutdown_all, m)?)?;
    m.add_function(wrap_pyfunction!(logging::_log_levels_changed, m)?)?;
    Ok(())
}
