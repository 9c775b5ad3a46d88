//! `hector.plugin.LLMProvider` client (docs/protocol.md §7.3).

use super::{call, stream_call};
use crate::error::Result;
use crate::plugin::Plugin;
use crate::proto::hector::llm_provider_client::LlmProviderClient;
use crate::proto::hector::stream_chunk::ChunkType;
use crate::proto::hector::{Empty, GenerateRequest, GenerateResponse, HealthResponse, ModelInfo, StreamChunk};
use crate::transport::PluginChannel;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct LlmClient {
    plugin: Arc<Plugin>,
    grpc: LlmProviderClient<PluginChannel>,
}

impl LlmClient {
    pub fn new(plugin: Arc<Plugin>) -> Self {
        let grpc = super::generated_client!(LlmProviderClient, plugin);
        LlmClient { plugin, grpc }
    }

    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    pub async fn generate(&self, request: GenerateRequest, timeout: Option<Duration>) -> Result<GenerateResponse> {
        let mut grpc = self.grpc.clone();
        call(&self.plugin, "Generate", timeout, async move { grpc.generate(request).await.map(|r| r.into_inner()) })
            .await
    }

    /// Opens `GenerateStreaming`; the stream ends after the plugin's last chunk. `timeout`
    /// bounds the wait for the first chunk and between chunks (default: the plugin's
    /// `call_timeout`). A plugin whose manifest says `streaming: false` gets it emulated from
    /// one `Generate`.
    pub async fn generate_stream(
        &self,
        request: GenerateRequest,
        timeout: Option<Duration>,
    ) -> Result<BoxStream<'static, Result<StreamChunk>>> {
        if self.plugin.capability("streaming") == Some(false) {
            let response = self.generate(request, timeout).await?;
            return Ok(futures_util::stream::iter(emulated_chunks(response).into_iter().map(Ok)).boxed());
        }
        let mut grpc = self.grpc.clone();
        stream_call(&self.plugin, "GenerateStreaming", timeout, async move {
            grpc.generate_streaming(request).await.map(|r| r.into_inner())
        })
        .await
    }

    pub async fn model_info(&self, timeout: Option<Duration>) -> Result<ModelInfo> {
        let mut grpc = self.grpc.clone();
        call(&self.plugin, "GetModelInfo", timeout, async move {
            grpc.get_model_info(Empty {}).await.map(|r| r.into_inner())
        })
        .await
    }

    pub async fn health(&self, timeout: Option<Duration>) -> Result<HealthResponse> {
        super::health(&self.plugin, timeout).await
    }
}

/// The chunks a streaming plugin would have sent for `response`: its text, its tool calls, done.
/// The stream that carries `response`: its text, each tool call, then done. What a provider
/// that cannot stream yields (docs/protocol.md §7.3); in-process providers get the same rule
/// through `GenerateResponse.chunks()`.
pub fn emulated_chunks(response: GenerateResponse) -> Vec<StreamChunk> {
    let mut chunks = Vec::new();
    if !response.text.is_empty() {
        chunks.push(StreamChunk { r#type: ChunkType::Text as i32, text: response.text, ..Default::default() });
    }
    for call in response.tool_calls {
        chunks.push(StreamChunk { r#type: ChunkType::ToolCall as i32, tool_call: Some(call), ..Default::default() });
    }
    chunks.push(StreamChunk {
        r#type: ChunkType::Done as i32,
        tokens_used: response.tokens_used,
        ..Default::default()
    });
    chunks
}
