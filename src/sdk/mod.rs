//! `hector_plugins.sdk`: a Python object served as a plugin by the Rust SDK
//! (`hector-plugins-sdk`). The SDK does the protocol (handshake, health, controller, graceful
//! stop); this module only starts it with Python-backed services (`services.rs`) whose calls
//! run on the caller's event loop (`calls.rs`).

mod calls;
mod services;

use crate::bridge;
use crate::bridge::inbox::OpenInbox;
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

fn close(py: Python<'_>, inbox: &std::sync::Mutex<Option<OpenInbox>>) {
    let open = inbox.lock().unwrap().take();
    if let Some(open) = open {
        open.close(py);
    }
}

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
    /// The inbox of the loop serving, while it serves.
    inbox: Arc<std::sync::Mutex<Option<OpenInbox>>>,
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
        Ok(PyPluginServer {
            kind,
            name,
            object: Arc::new(plugin),
            manifest,
            stop: ShutdownHandle::new(),
            inbox: Arc::default(),
        })
    }

    /// Listens, prints the handshake line and serves on the running event loop until the host
    /// or `shutdown()` stops the server; in-flight calls get `shutdown_grace` seconds.
    /// Call `close()` afterwards, whatever happened (`hector_plugins.sdk.serve` does).
    fn serve<'py>(&self, py: Python<'py>, version: u32, shutdown_grace: f64) -> PyResult<Bound<'py, PyAny>> {
        let grace = crate::durations::seconds(shutdown_grace, "shutdown_grace")?;
        let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
        let mut slot = self.inbox.lock().unwrap();
        if slot.is_some() {
            return Err(crate::errors::usage_error("this PluginServer is already serving"));
        }
        let open = OpenInbox::open(py, &event_loop)?;
        let plugin = PyPlugin {
            name: self.name.clone(),
            object: self.object.clone(),
            event_loop: Arc::new(event_loop.clone().unbind()),
            inbox: open.inbox.clone(),
            manifest: self.manifest.clone(),
        };
        *slot = Some(open);
        drop(slot);
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
        let options = ServeOptions { shutdown_grace: grace, shutdown: self.stop.clone(), ..Default::default() };
        let served = async move {
            let outcome = hector_plugins_sdk::serve_checked(options, version, router, std::future::pending()).await;
            Ok(outcome.map_err(|error| error.to_string()))
        };
        let inbox = self.inbox.clone();
        bridge::spawn(py, served, move |py, outcome| {
            close(py, &inbox);
            outcome.map(|()| py.None()).map_err(crate::errors::plugin_error)
        })
    }

    /// Stops watching the loop for calls (the server stopped, or `serve` was cancelled); calls
    /// still arriving fail at once. Harmless more than once.
    fn close(&self, py: Python<'_>) {
        close(py, &self.inbox);
    }

    /// Asks the server to stop gracefully (what SIGTERM does); harmless more than once.
    fn shutdown(&self) {
        self.stop.shutdown();
    }
}
