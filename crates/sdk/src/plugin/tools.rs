//! Tool providers: `hector.plugin.ToolProvider` (docs/protocol.md §7.7).

use super::adapter::{answer, grpc_stream, served_service, GrpcStream, Served};
use super::{Lifecycle, PluginError, PluginStream};
use crate::proto::hector as pb;
use crate::proto::hector::tool_provider_server::{ToolProvider, ToolProviderServer};
use crate::{MessageLimits as _, SdkError, ServeOptions};
use futures_util::StreamExt as _;
use tonic::{Request, Response, Status};

/// A tool provider. A tool's own failure (bad input, nothing found) is a [`pb::ToolResult`] with
/// `success: false` and an `error` the model reads; a [`PluginError`] is a failed call.
///
/// ```no_run
/// use hector_plugins_sdk::plugin::{serve_tools, Lifecycle, PluginError, ToolPlugin};
/// use hector_plugins_sdk::proto::hector::{ToolDefinition, ToolRequest, ToolResult};
///
/// struct Adder;
///
/// impl Lifecycle for Adder {}
///
/// #[tonic::async_trait]
/// impl ToolPlugin for Adder {
///     async fn list_tools(&self) -> Result<Vec<ToolDefinition>, PluginError> {
///         Ok(vec![ToolDefinition {
///             name: "add".into(),
///             description: "Adds a list of numbers".into(),
///             parameters_json: r#"{"type":"object","properties":{"numbers":{"type":"array","items":{"type":"number"}}},"required":["numbers"]}"#.into(),
///         }])
///     }
///
///     async fn execute_tool(&self, request: ToolRequest) -> Result<ToolResult, PluginError> {
///         if request.name != "add" {
///             return Ok(ToolResult { success: false, error: format!("no tool {:?}", request.name), ..Default::default() });
///         }
///         let arguments: serde_json::Value = serde_json::from_str(&request.arguments_json)
///             .map_err(|e| PluginError::invalid_argument(format!("arguments are not JSON: {e}")))?;
///         let sum: f64 = arguments["numbers"].as_array().into_iter().flatten().filter_map(|n| n.as_f64()).sum();
///         Ok(ToolResult { success: true, content: sum.to_string(), ..Default::default() })
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), hector_plugins_sdk::SdkError> {
///     serve_tools(Adder).await
/// }
/// ```
#[tonic::async_trait]
pub trait ToolPlugin: Lifecycle {
    /// The tools offered: names, descriptions, JSON Schemas of their arguments.
    async fn list_tools(&self) -> Result<Vec<pb::ToolDefinition>, PluginError>;

    /// Runs one tool. The request's `call_id` is copied into a result that leaves it empty.
    async fn execute_tool(&self, request: pb::ToolRequest) -> Result<pb::ToolResult, PluginError>;

    /// Runs one tool, reporting progress; the last item has `done: true` and the result. The
    /// default sends [`execute_tool`](Self::execute_tool)'s result as that one item.
    async fn execute_tool_stream(
        &self,
        request: pb::ToolRequest,
    ) -> Result<PluginStream<pb::ToolProgress>, PluginError> {
        let result = self.execute_tool(request).await?;
        let last = pb::ToolProgress { done: true, result: Some(result), ..Default::default() };
        Ok(Box::pin(futures_util::stream::iter([Ok(last)])))
    }
}

/// Serves `plugin` with Hector's default options until the host stops it (see [`crate::serve`]).
pub async fn serve_tools(plugin: impl ToolPlugin) -> Result<(), SdkError> {
    let service = ToolProviderServer::new(Served::new(plugin)).with_large_messages();
    crate::serve(ServeOptions::default(), tonic::transport::Server::builder().add_service(service)).await
}

fn with_call_id(mut result: pb::ToolResult, call_id: &str) -> pb::ToolResult {
    if result.call_id.is_empty() {
        result.call_id = call_id.to_owned();
    }
    result
}

served_service!(ToolProvider for ToolPlugin, "tool_provider", {

    async fn list_tools(&self, _request: Request<pb::Empty>) -> Result<Response<pb::ListToolsResponse>, Status> {
        answer(self.plugin.list_tools().await.map(|tools| pb::ListToolsResponse { tools }))
    }

    async fn execute_tool(&self, request: Request<pb::ToolRequest>) -> Result<Response<pb::ToolResult>, Status> {
        let request = request.into_inner();
        let call_id = request.call_id.clone();
        answer(self.plugin.execute_tool(request).await.map(|result| with_call_id(result, &call_id)))
    }

    type ExecuteToolStreamingStream = GrpcStream<pb::ToolProgress>;

    async fn execute_tool_streaming(
        &self,
        request: Request<pb::ToolRequest>,
    ) -> Result<Response<Self::ExecuteToolStreamingStream>, Status> {
        let request = request.into_inner();
        let call_id = request.call_id.clone();
        let stream = self.plugin.execute_tool_stream(request).await?.map(move |item| {
            item.map(|mut progress| {
                progress.result = progress.result.map(|result| with_call_id(result, &call_id));
                progress
            })
        });
        Ok(Response::new(grpc_stream(Box::pin(stream))))
    }
});
