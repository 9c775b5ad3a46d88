//! LLM providers: `hector.plugin.LLMProvider` (docs/protocol.md §7.3).

use super::adapter::{answer, grpc_stream, served_service, GrpcStream, Served};
use super::{Lifecycle, PluginError, PluginStream};
use crate::proto::hector as pb;
use crate::proto::hector::llm_provider_server::{LlmProvider, LlmProviderServer};
use crate::proto::hector::stream_chunk::ChunkType;
use crate::{MessageLimits as _, SdkError, ServeOptions};
use tonic::{Request, Response, Status};

/// An LLM provider.
///
/// ```no_run
/// use hector_plugins_sdk::plugin::{serve_llm, Lifecycle, LlmPlugin, PluginError};
/// use hector_plugins_sdk::proto::hector::{GenerateRequest, GenerateResponse, ModelInfo};
///
/// struct Echo;
///
/// impl Lifecycle for Echo {}
///
/// #[tonic::async_trait]
/// impl LlmPlugin for Echo {
///     async fn generate(&self, request: GenerateRequest) -> Result<GenerateResponse, PluginError> {
///         let last = request.messages.last().map(|m| m.content.as_str()).unwrap_or_default();
///         Ok(GenerateResponse { text: format!("Echo: {last}"), ..Default::default() })
///     }
///
///     async fn model_info(&self) -> Result<ModelInfo, PluginError> {
///         Ok(ModelInfo { model_name: "echo".into(), max_tokens: 4096, temperature: 0.0 })
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), hector_plugins_sdk::SdkError> {
///     serve_llm(Echo).await
/// }
/// ```
#[tonic::async_trait]
pub trait LlmPlugin: Lifecycle {
    /// One answer: text, tool calls, tokens used.
    async fn generate(&self, request: pb::GenerateRequest) -> Result<pb::GenerateResponse, PluginError>;

    /// The answer in chunks. The default streams [`generate`](Self::generate)'s answer as one
    /// text chunk and its tool calls. A `DONE` chunk is added when the stream ends without one
    /// (with `tokens_used` 0: send your own `DONE` to report tokens); an error ends the stream
    /// with an `ERROR` chunk carrying its message.
    async fn generate_stream(
        &self,
        request: pb::GenerateRequest,
    ) -> Result<PluginStream<pb::StreamChunk>, PluginError> {
        let response = self.generate(request).await?;
        Ok(Box::pin(futures_util::stream::iter(chunks_of(response).into_iter().map(Ok))))
    }

    /// The model's name and limits.
    async fn model_info(&self) -> Result<pb::ModelInfo, PluginError>;
}

/// Serves `plugin` with Hector's default options until the host stops it (see [`crate::serve`]).
pub async fn serve_llm(plugin: impl LlmPlugin) -> Result<(), SdkError> {
    let service = LlmProviderServer::new(Served::new(plugin)).with_large_messages();
    crate::serve(ServeOptions::default(), tonic::transport::Server::builder().add_service(service)).await
}

/// A whole answer as the chunks a stream of it sends, without the final `DONE`.
fn chunks_of(response: pb::GenerateResponse) -> Vec<pb::StreamChunk> {
    let mut chunks = Vec::new();
    if !response.text.is_empty() {
        chunks.push(pb::StreamChunk { r#type: ChunkType::Text as i32, text: response.text, ..Default::default() });
    }
    chunks.extend(response.tool_calls.into_iter().map(|call| pb::StreamChunk {
        r#type: ChunkType::ToolCall as i32,
        tool_call: Some(call),
        ..Default::default()
    }));
    if let Some(last) = chunks.last_mut() {
        last.tokens_used = response.tokens_used;
    }
    chunks
}

/// The plugin's stream as the host expects it: ending with exactly one `DONE` or `ERROR` chunk.
/// An error becomes an `ERROR` chunk; nothing after a `DONE` or `ERROR` chunk is sent; a stream
/// that just stops gets a `DONE`.
struct Terminated {
    inner: PluginStream<pb::StreamChunk>,
    ended: bool,
}

fn terminated(stream: PluginStream<pb::StreamChunk>) -> PluginStream<pb::StreamChunk> {
    Box::pin(Terminated { inner: stream, ended: false })
}

fn is_end(chunk: &pb::StreamChunk) -> bool {
    chunk.r#type == ChunkType::Done as i32 || chunk.r#type == ChunkType::Error as i32
}

impl futures_core::Stream for Terminated {
    type Item = Result<pb::StreamChunk, PluginError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.ended {
            return Poll::Ready(None);
        }
        let chunk = match std::task::ready!(self.inner.as_mut().poll_next(cx)) {
            Some(Ok(chunk)) => chunk,
            Some(Err(error)) => {
                pb::StreamChunk { r#type: ChunkType::Error as i32, error: error.to_string(), ..Default::default() }
            }
            None => pb::StreamChunk { r#type: ChunkType::Done as i32, ..Default::default() },
        };
        self.ended = is_end(&chunk);
        Poll::Ready(Some(Ok(chunk)))
    }
}

served_service!(LlmProvider for LlmPlugin, "llm_provider", {

    async fn generate(&self, request: Request<pb::GenerateRequest>) -> Result<Response<pb::GenerateResponse>, Status> {
        answer(self.plugin.generate(request.into_inner()).await)
    }

    type GenerateStreamingStream = GrpcStream<pb::StreamChunk>;

    async fn generate_streaming(
        &self,
        request: Request<pb::GenerateRequest>,
    ) -> Result<Response<Self::GenerateStreamingStream>, Status> {
        let stream = self.plugin.generate_stream(request.into_inner()).await?;
        Ok(Response::new(grpc_stream(terminated(stream))))
    }

    async fn get_model_info(&self, _request: Request<pb::Empty>) -> Result<Response<pb::ModelInfo>, Status> {
        answer(self.plugin.model_info().await)
    }
});
