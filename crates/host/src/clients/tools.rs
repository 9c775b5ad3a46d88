//! `hector.plugin.ToolProvider` client (docs/protocol.md §7.7).
//!
//! A tool's own failure (`success = false`) is an answer, not an error: the result goes back to
//! the model, which may try again. Only a gRPC status, a crash or a timeout is an error.

use super::{call, generated_client, stream_call};
use crate::error::{Error, Result};
use crate::mcp::{status_of, McpSession};
use crate::plugin::Plugin;
use crate::proto::hector::tool_provider_client::ToolProviderClient;
use crate::proto::hector::{Empty, HealthResponse, ListToolsResponse, ToolProgress, ToolRequest, ToolResult};
use crate::transport::PluginChannel;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// Who serves the tools: the `ToolProvider` gRPC service, or an MCP server (docs/protocol.md
/// §10.3), mapped onto the same requests and results.
#[derive(Clone)]
enum Backend {
    Grpc(ToolProviderClient<PluginChannel>),
    Mcp(Arc<McpSession>),
}

#[derive(Clone)]
pub struct ToolClient {
    plugin: Arc<Plugin>,
    backend: Backend,
}

impl ToolClient {
    pub fn new(plugin: Arc<Plugin>) -> Self {
        let backend = match plugin.mcp_session() {
            Some(session) => Backend::Mcp(session.clone()),
            None => Backend::Grpc(generated_client!(ToolProviderClient, plugin)),
        };
        ToolClient { plugin, backend }
    }

    pub async fn list_tools(&self, timeout: Option<Duration>) -> Result<ListToolsResponse> {
        match &self.backend {
            Backend::Grpc(grpc) => {
                let mut grpc = grpc.clone();
                call(&self.plugin, "ListTools", timeout, async move {
                    grpc.list_tools(Empty {}).await.map(|r| r.into_inner())
                })
                .await
            }
            Backend::Mcp(session) => {
                call(&self.plugin, "tools/list", timeout, async move {
                    let tools = session.list_tools().await.map_err(status_of)?;
                    Ok(ListToolsResponse { tools: tools.as_ref().clone() })
                })
                .await
            }
        }
    }

    pub async fn execute(&self, request: ToolRequest, timeout: Option<Duration>) -> Result<ToolResult> {
        match &self.backend {
            Backend::Grpc(grpc) => {
                let mut grpc = grpc.clone();
                call(&self.plugin, "ExecuteTool", timeout, async move {
                    grpc.execute_tool(request).await.map(|r| r.into_inner())
                })
                .await
            }
            Backend::Mcp(session) => {
                let arguments = mcp_arguments(&self.plugin.name, &request)?;
                call(&self.plugin, "tools/call", timeout, async move {
                    session.call_tool(request.name, arguments, request.call_id).await.map_err(status_of)
                })
                .await
            }
        }
    }

    /// Opens `ExecuteToolStreaming`; the stream ends after the item with `done`. A provider that
    /// answers UNIMPLEMENTED, and an MCP server, get one call instead, yielded as that final
    /// item (docs/protocol.md §7.7). `timeout` bounds the wait for each item.
    pub async fn execute_stream(
        &self,
        request: ToolRequest,
        timeout: Option<Duration>,
    ) -> Result<BoxStream<'static, Result<ToolProgress>>> {
        let Backend::Grpc(grpc) = &self.backend else {
            let result = self.execute(request, timeout).await?;
            return Ok(futures_util::stream::iter([Ok(final_progress(result))]).boxed());
        };
        let mut grpc = grpc.clone();
        let sent = request.clone();
        let opened = stream_call(&self.plugin, "ExecuteToolStreaming", timeout, async move {
            grpc.execute_tool_streaming(sent).await.map(|r| r.into_inner())
        })
        .await;
        match opened {
            Err(error) if error.is_unimplemented() => {
                let result = self.execute(request, timeout).await?;
                Ok(futures_util::stream::iter([Ok(final_progress(result))]).boxed())
            }
            other => other,
        }
    }

    pub async fn health(&self, timeout: Option<Duration>) -> Result<HealthResponse> {
        super::health(&self.plugin, timeout).await
    }
}

/// MCP takes the arguments as a JSON object (an empty text is none); anything else is refused
/// before the call, as the server would refuse it.
fn mcp_arguments(plugin: &str, request: &ToolRequest) -> Result<serde_json::Map<String, serde_json::Value>> {
    if request.arguments_json.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_str(&request.arguments_json) {
        Ok(serde_json::Value::Object(arguments)) => Ok(arguments),
        outcome => Err(Error::Call {
            plugin: plugin.into(),
            method: "tools/call".into(),
            code: tonic::Code::InvalidArgument,
            message: match outcome {
                Ok(other) => format!("the arguments of tool {:?} must be a JSON object, not {other}", request.name),
                Err(e) => format!("the arguments of tool {:?} are not JSON: {e}", request.name),
            },
        }),
    }
}

/// The one item a provider without streaming yields: done, with its result.
pub fn final_progress(result: ToolResult) -> ToolProgress {
    ToolProgress { done: true, result: Some(result), ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(arguments_json: &str) -> ToolRequest {
        ToolRequest { name: "add".into(), arguments_json: arguments_json.into(), call_id: String::new() }
    }

    #[test]
    fn mcp_arguments_are_a_json_object_or_nothing() {
        assert_eq!(mcp_arguments("fs", &request(r#"{"a": 1}"#)).unwrap()["a"], 1);
        assert!(mcp_arguments("fs", &request("  ")).unwrap().is_empty());
        for bad in ["[1, 2]", "{not json", "3"] {
            match mcp_arguments("fs", &request(bad)) {
                Err(Error::Call { code: tonic::Code::InvalidArgument, method, .. }) => assert_eq!(method, "tools/call"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
