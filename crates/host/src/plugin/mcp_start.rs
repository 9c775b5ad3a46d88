//! The start of an MCP server (docs/protocol.md §10.1): launched like any plugin (its own process
//! group under its keeper, stderr into the logs) but with its stdin and stdout kept for JSON-RPC,
//! or reached over HTTP; ready once the initialize handshake is done, within the start timeout.
//! On any failure nothing is left running.

use super::link::Link;
use super::prepare::prepare;
use super::process::{Output, Process};
use super::spec::{PluginSpec, Protocol};
use super::Plugin;
use crate::error::{Error, Result};
use crate::launch::Stdio;
use crate::logs::LogSink;
use crate::mcp::{McpSession, Transport};
use std::sync::Arc;

impl Plugin {
    pub(super) async fn start_mcp(spec: PluginSpec, sink: Arc<dyn LogSink>) -> Result<Arc<Plugin>> {
        let original = spec.clone();
        let (spec, _) = prepare(spec)?;
        let (process, transport, address) = match &spec.protocol {
            Protocol::McpHttp { url } => (None, Transport::Http { url: url.clone() }, url.clone()),
            _ => {
                let (process, output) = Process::launch(&spec, &sink, Stdio::Mcp).await?;
                let Output::Mcp { stdout, stdin } = output else { unreachable!("an MCP launch keeps its pipes") };
                (Some(process), Transport::Stdio { stdout, stdin }, "stdio".to_string())
            }
        };
        let guard = process.as_ref().map(Process::kill_on_drop);
        let connected = tokio::time::timeout(spec.start_timeout, McpSession::connect(transport)).await;
        let session = match (connected, &process) {
            (Ok(Ok(session)), _) => session,
            (Ok(Err(message)), Some(process)) => return Err(process.start_failed(&spec.name, message, false).await),
            (Ok(Err(message)), None) => return Err(Error::start(&spec.name, format!("{address}: {message}"), vec![])),
            (Err(_), Some(process)) => {
                return Err(process.start_timed_out(&spec.name, spec.start_timeout, "answer MCP initialize").await)
            }
            (Err(_), None) => {
                return Err(Error::StartTimeout {
                    plugin: spec.name.clone(),
                    after: spec.start_timeout,
                    stage: "answer MCP initialize",
                    stderr: vec![],
                })
            }
        };
        if let Some(guard) = guard {
            guard.disarm();
        }
        let mut plugin = Plugin::ready(&spec, original, Link::Mcp(Arc::new(session)), process, sink);
        plugin.address = address;
        let plugin = Arc::new(plugin);
        plugin.supervise(None);
        Ok(plugin)
    }
}
