//! `hector.plugin.ToolProvider` client (docs/protocol.md §7.7).
//!
//! A tool's own failure (`success = false`) is an answer, not an error: the result goes back to
//! the model, which may try again. Only a gRPC status, a crash or a timeout is an error.

use super::{call, stream_call};
use crate::error::Result;
use crate::plugin::Plugin;
use crate::proto::hector::tool_provider_client::ToolProviderClient;
use crate::proto::hector::{Empty, HealthResponse, ListToolsResponse, ToolProgress, ToolRequest, ToolResult};
use crate::transport::{origin, PluginChannel};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct ToolClient {
    plugin: Arc<Plugin>,
    grpc: ToolProviderClient<PluginChannel>,
}

impl ToolClient {
    pub fn new(plugin: Arc<Plugin>) -> Self {
        let channel = plugin.channel();
        let limit = channel.max_message_bytes();
        let grpc = ToolProviderClient::with_origin(channel, origin())
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        ToolClient { plugin, grpc }
    }

    pub async fn list_tools(&self, timeout: Option<Duration>) -> Result<ListToolsResponse> {
        let mut grpc = self.grpc.clone();
        call(&self.plugin, "ListTools", timeout, async move { grpc.list_tools(Empty {}).await.map(|r| r.into_inner()) })
            .await
    }

    pub async fn execute(&self, request: ToolRequest, timeout: Option<Duration>) -> Result<ToolResult> {
        let mut grpc = self.grpc.clone();
        call(
            &self.plugin,
            "ExecuteTool",
            timeout,
            async move { grpc.execute_tool(request).await.map(|r| r.into_inner()) },
        )
        .await
    }

    /// Opens `ExecuteToolStreaming`; the stream ends after the item with `done`. A provider that
    /// answers UNIMPLEMENTED gets one `ExecuteTool` instead, yielded as that final item
    /// (docs/protocol.md §7.7). `timeout` bounds the wait for each item.
    pub async fn execute_stream(
        &self,
        request: ToolRequest,
        timeout: Option<Duration>,
    ) -> Result<BoxStream<'static, Result<ToolProgress>>> {
        let mut grpc = self.grpc.clone();
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

/// The one item a provider without streaming yields: done, with its result.
pub fn final_progress(result: ToolResult) -> ToolProgress {
    ToolProgress { done: true, result: Some(result), ..Default::default() }
}
