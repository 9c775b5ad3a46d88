//! `hector_plugins.sdk`: a Python object served as a plugin by the Rust SDK
//! (`hector-plugins-sdk`). The SDK does the protocol (handshake, health, controller, graceful
//! stop); this module only starts it with Python-backed services (`services.rs`) whose calls
//! run on the caller's event loop (`calls.rs`).

mod calls;
mod services;

use crate::bridge;
use crate::types::PluginManifest;
use calls::PyPlugin;
use hector_plugins_sdk::proto::hector::database_provider_server::DatabaseProviderServer;
use hector_plugins_sdk::proto::hector::embedder_provider_server::EmbedderProviderServer;
use hector_plugins_sdk::proto::hector::llm_provider_server::LlmProviderServer;
use hector_plugins_sdk::proto::hector::reasoning_strategy_server::ReasoningStrategyServer;
use hector_plugins_sdk::proto::hector::tool_provider_server::ToolProviderServer;
use hector_plugins_sdk::proto::hector::ManifestResponse;
use hector_plugins_sdk::{MessageLimits as _, ServeOptions, Served, ShutdownHandle};
use pyo3::prelude::*;
use std::sync::Arc;
use tonic::transport::Server;

/// The environment check of the plugin side: the app protocol version to announce, or the
/// message to print before exiting with status 1 (go-plugin's behaviour).
#[pyfunction]
pub fn _sdk_check_environment() -> PyResult<u32> {
    hector_plugins_sdk::check_environment(&ServeOptions::default())
        .map_err(|error| crate::errors::plugin_error(error.to_string()))
}

/// One plugin server: `await server.serve(...)` runs it, `server.shutdown()` stops it.
#[pyclass(module = "hector_plugins._core", name = "PluginServer", frozen)]
pub struct PyPluginServer {
    kind: String,
    name: String,
    object: Arc<Py<PyAny>>,
    manifest: ManifestResponse,
    stop: ShutdownHandle,
}

const KINDS: [&str; 5] =
    ["llm_provider", "embedder_provider", "database_provider", "tool_provider", "reasoning_strategy"];

#[pymethods]
impl PyPluginServer {
    #[new]
    #[pyo3(signature = (kind, plugin, name, manifest=None))]
    fn new(
        kind: String,
        plugin: Py<PyAny>,
        name: String,
        manifest: Option<PyRef<'_, PluginManifest>>,
    ) -> PyResult<Self> {
        if !KINDS.contains(&kind.as_str()) {
            return Err(crate::errors::config_error(format!(
                "plugin type {kind:?} is not one of {}",
                KINDS.join(", ")
            )));
        }
        let manifest = manifest.map(|m| ManifestResponse::from(&*m)).unwrap_or_default();
        Ok(PyPluginServer { kind, name, object: Arc::new(plugin), manifest, stop: ShutdownHandle::new() })
    }

    /// Listens, prints the handshake line and serves on the running event loop until the host
    /// or `shutdown()` stops the server; in-flight calls get `shutdown_grace` seconds.
    fn serve<'py>(&self, py: Python<'py>, version: u32, shutdown_grace: f64) -> PyResult<Bound<'py, PyAny>> {
        let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
        let (inbox, fd) = bridge::inbox::open(py, &event_loop)?;
        let plugin = PyPlugin {
            name: self.name.clone(),
            object: self.object.clone(),
            event_loop: Arc::new(event_loop.clone().unbind()),
            inbox,
            manifest: self.manifest.clone(),
        };
        let mut builder = Server::builder();
        let router = match self.kind.as_str() {
            "llm_provider" => builder.add_service(LlmProviderServer::new(Served::new(plugin)).with_large_messages()),
            "embedder_provider" => {
                builder.add_service(EmbedderProviderServer::new(Served::new(plugin)).with_large_messages())
            }
            "database_provider" => {
                builder.add_service(DatabaseProviderServer::new(Served::new(plugin)).with_large_messages())
            }
            "tool_provider" => builder.add_service(ToolProviderServer::new(Served::new(plugin)).with_large_messages()),
            _ => builder.add_service(ReasoningStrategyServer::new(Served::new(plugin)).with_large_messages()),
        };
        let grace = crate::durations::seconds(shutdown_grace, "shutdown_grace")?;
        let options = ServeOptions { shutdown_grace: grace, shutdown: self.stop.clone(), ..Default::default() };
        let served = async move {
            let outcome = hector_plugins_sdk::serve_checked(options, version, router, std::future::pending()).await;
            Ok(outcome.map_err(|error| error.to_string()))
        };
        let event_loop = event_loop.unbind();
        bridge::spawn(py, served, move |py, outcome| {
            event_loop.bind(py).call_method1("remove_reader", (fd,))?;
            outcome.map(|()| py.None()).map_err(crate::errors::plugin_error)
        })
    }

    /// Asks the server to stop gracefully (what SIGTERM does); harmless more than once.
    fn shutdown(&self) {
        self.stop.shutdown();
    }
}
