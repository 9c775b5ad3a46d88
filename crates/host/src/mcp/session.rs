//! One connection to an MCP server (docs/protocol.md §10.2): the initialize handshake, the tool
//! list (cached, dropped on `notifications/tools/list_changed` and fetched again on the next
//! read), tool calls, ping, and the close. Errors stay rmcp's until `convert::status_of`: only
//! the plugin knows whether a broken transport means a crash.

use super::convert::{tool_definition, tool_result};
use crate::proto::hector::{ToolDefinition, ToolResult};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest, Implementation, PingRequest,
    ProtocolVersion,
};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, Peer, ServiceError, ServiceExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::unix::pipe;

/// How the session reaches the server.
pub enum Transport {
    /// The pipes of a server the host launched: its stdout (responses) and stdin (requests).
    Stdio { stdout: pipe::Receiver, stdin: pipe::Sender },
    /// Streamable HTTP at a URL.
    Http { url: String },
}

/// What the host says of itself at initialize, and what it hears between calls.
#[derive(Clone)]
struct Handler {
    info: ClientConfig,
    tools: Arc<ToolCache>,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tools.invalidate();
    }
}

/// The server's tools as last listed. A `list_changed` notification drops them; a list fetched
/// while one arrived is not kept (the generation moved on).
#[derive(Default)]
struct ToolCache {
    generation: AtomicU64,
    tools: Mutex<Option<Arc<Vec<ToolDefinition>>>>,
}

impl ToolCache {
    fn invalidate(&self) {
        let mut tools = self.tools.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        *tools = None;
    }

    fn get(&self) -> Option<Arc<Vec<ToolDefinition>>> {
        self.tools.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn store_if_current(&self, generation: u64, tools: Arc<Vec<ToolDefinition>>) {
        let mut cached = self.tools.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation {
            *cached = Some(tools);
        }
    }
}

pub struct McpSession {
    peer: Peer<RoleClient>,
    /// Taken by `close`.
    running: tokio::sync::Mutex<Option<RunningService<RoleClient, Handler>>>,
    tools: Arc<ToolCache>,
    /// The server's name and version, from its initialize answer (empty if it gave none).
    pub server_name: String,
    pub server_version: String,
    /// The MCP protocol version the server chose, e.g. "2025-11-25".
    pub protocol_version: String,
}

impl McpSession {
    /// Connects and completes the initialize handshake; the caller bounds the wait (its start
    /// timeout). The error is a sentence for a start failure.
    pub async fn connect(transport: Transport) -> Result<McpSession, String> {
        let tools = Arc::new(ToolCache::default());
        // Pinned to the newest version that still has the initialize handshake (rmcp's default
        // is a later one without it, which older servers may not answer).
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("hector-plugins", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE);
        let handler = Handler { info, tools: tools.clone() };
        let running = match transport {
            Transport::Stdio { stdout, stdin } => handler.serve((stdout, stdin)).await,
            Transport::Http { url } => handler.serve(StreamableHttpClientTransport::from_uri(url)).await,
        }
        .map_err(|e| format!("the MCP initialize handshake failed: {e}"))?;
        let peer = running.peer().clone();
        let info = peer.peer_info();
        let server = info.as_ref().and_then(|info| info.server_info.as_ref());
        Ok(McpSession {
            server_name: server.map(|s| s.name.clone()).unwrap_or_default(),
            server_version: server.map(|s| s.version.clone()).unwrap_or_default(),
            protocol_version: info.map(|info| info.protocol_version.to_string()).unwrap_or_default(),
            peer,
            running: tokio::sync::Mutex::new(Some(running)),
            tools,
        })
    }

    /// The server's tools, from the cache when no change was announced since they were listed.
    pub async fn list_tools(&self) -> Result<Arc<Vec<ToolDefinition>>, ServiceError> {
        if let Some(tools) = self.tools.get() {
            return Ok(tools);
        }
        let generation = self.tools.generation.load(Ordering::SeqCst);
        let listed = self.peer.list_all_tools().await?;
        let tools = Arc::new(listed.iter().map(tool_definition).collect::<Vec<_>>());
        self.tools.store_if_current(generation, tools.clone());
        Ok(tools)
    }

    /// Calls tool `name` with `arguments` (a JSON object); a tool error is an in-band failure
    /// of the result, a JSON-RPC error an `Err`. Dropping the future cancels the request
    /// (rmcp sends `notifications/cancelled`).
    pub async fn call_tool(
        &self,
        name: String,
        arguments: serde_json::Map<String, serde_json::Value>,
        call_id: String,
    ) -> Result<ToolResult, ServiceError> {
        let started = Instant::now();
        let result = self.peer.call_tool(CallToolRequestParams::new(name).with_arguments(arguments)).await?;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        Ok(tool_result(result, call_id, duration_ms))
    }

    /// MCP's `ping`: the server answers while its message loop runs.
    pub async fn ping(&self) -> Result<(), ServiceError> {
        self.peer.send_request(ClientRequest::PingRequest(PingRequest::default())).await.map(|_| ())
    }

    /// True once the transport is gone: the server closed it, died, or `close` ran.
    pub fn is_closed(&self) -> bool {
        self.peer.is_transport_closed()
    }

    /// Ends the session: over stdio the server's stdin is closed (its cue to exit); over HTTP
    /// the session is deleted. Idempotent.
    pub async fn close(&self) {
        let running = self.running.lock().await.take();
        if let Some(running) = running {
            let _ = running.cancel().await;
        }
    }
}
