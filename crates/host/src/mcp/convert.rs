//! MCP's tools, results and errors as the `hector.plugin` tool types (docs/protocol.md §10.3).

use crate::proto::hector::{ToolDefinition, ToolResult};
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents, Tool};
use rmcp::ServiceError;
use std::collections::HashMap;

/// The metadata key that carries every content part as the server sent it (a JSON array), when
/// the parts are more than text: images, audio, resources and links are not lost.
pub const CONTENT_KEY: &str = "mcp.content";

/// An MCP tool as the definition an LLM receives: its input schema is the parameters' schema.
pub fn tool_definition(tool: &Tool) -> ToolDefinition {
    ToolDefinition {
        name: tool.name.to_string(),
        description: tool.description.as_deref().unwrap_or_default().to_string(),
        parameters_json: serde_json::Value::Object((*tool.input_schema).clone()).to_string(),
    }
}

/// A finished call as a `ToolResult`: text parts (and text resources) joined as the content, the
/// structured content as `output_json`; a tool error (`isError`) is an in-band failure whose
/// `error` is the tool's own text.
pub fn tool_result(result: CallToolResult, call_id: String, duration_ms: i64) -> ToolResult {
    let failed = result.is_error.unwrap_or(false);
    let content = result.content.iter().map(part_text).collect::<Vec<_>>().join("\n");
    let mut metadata = HashMap::new();
    if result.content.iter().any(|part| !matches!(part, ContentBlock::Text(_))) {
        metadata.insert(CONTENT_KEY.to_string(), serde_json::to_string(&result.content).unwrap_or_default());
    }
    let output_json = result.structured_content.map(|value| value.to_string()).unwrap_or_default();
    ToolResult {
        success: !failed,
        error: if failed { non_empty(&content, "the tool reported an error without a message") } else { String::new() },
        content,
        output_json,
        metadata,
        duration_ms,
        call_id,
    }
}

/// What a model reads of one content part: its text, or a short note of what it is.
fn part_text(part: &ContentBlock) -> String {
    match part {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => format!("[image {}]", image.mime_type),
        ContentBlock::Audio(audio) => format!("[audio {}]", audio.mime_type),
        ContentBlock::Resource(embedded) => match &embedded.resource {
            ResourceContents::TextResourceContents { text, .. } => text.clone(),
            ResourceContents::BlobResourceContents { uri, .. } => format!("[resource {uri}]"),
            #[allow(unreachable_patterns)] // the enum may grow
            _ => "[resource]".into(),
        },
        ContentBlock::ResourceLink(link) => format!("[resource link {}]", link.uri),
        #[allow(unreachable_patterns)] // the enum is non-exhaustive
        _ => "[content]".into(),
    }
}

fn non_empty(text: &str, otherwise: &str) -> String {
    if text.trim().is_empty() {
        otherwise.into()
    } else {
        text.into()
    }
}

/// An rmcp failure as the gRPC status the shared call path maps (docs/protocol.md §10.4): a
/// JSON-RPC error keeps its code's meaning; a closed or broken transport is a status with a
/// source, which the plugin reads as a connection that broke (a crash, once the exit is known).
pub fn status_of(error: ServiceError) -> tonic::Status {
    match error {
        ServiceError::McpError(data) => {
            let code = match data.code.0 {
                -32601 => tonic::Code::Unimplemented,
                -32602 | -32600 => tonic::Code::InvalidArgument,
                -32002 => tonic::Code::NotFound,
                -32603 | -32700 => tonic::Code::Internal,
                _ => tonic::Code::Unknown,
            };
            tonic::Status::new(code, format!("{} (MCP error {})", data.message, data.code.0))
        }
        ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
            let message = error.to_string();
            let mut status = tonic::Status::unavailable(message.clone());
            status.set_source(std::sync::Arc::new(std::io::Error::new(std::io::ErrorKind::BrokenPipe, message)));
            status
        }
        ServiceError::Cancelled { .. } => tonic::Status::cancelled(error.to_string()),
        ServiceError::Timeout { .. } => tonic::Status::deadline_exceeded(error.to_string()),
        ServiceError::UnexpectedResponse => {
            tonic::Status::internal("the MCP server answered with a result of the wrong type")
        }
        other => tonic::Status::unknown(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ErrorCode;

    #[test]
    fn a_tool_error_is_an_in_band_failure_with_the_tools_text() {
        let result = CallToolResult::error(vec![ContentBlock::text("disk full")]);
        let converted = tool_result(result, "c1".into(), 3);
        assert!(!converted.success);
        assert_eq!(converted.error, "disk full");
        assert_eq!(converted.call_id, "c1");
        assert!(converted.metadata.is_empty());
    }

    #[test]
    fn parts_other_than_text_are_kept_whole_in_metadata() {
        let image = ContentBlock::image("aGk=", "image/png");
        let result = CallToolResult::success(vec![ContentBlock::text("a chart"), image]);
        let converted = tool_result(result, String::new(), 0);
        assert!(converted.success);
        assert_eq!(converted.content, "a chart\n[image image/png]");
        let parts: serde_json::Value = serde_json::from_str(&converted.metadata[CONTENT_KEY]).unwrap();
        assert_eq!(parts[1]["type"], "image");
        assert_eq!(parts[1]["data"], "aGk=");
    }

    #[test]
    fn json_rpc_errors_keep_their_meaning() {
        let invalid = ServiceError::McpError(rmcp::ErrorData::new(ErrorCode(-32602), "bad a", None));
        let status = status_of(invalid);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "bad a (MCP error -32602)");
        let closed = status_of(ServiceError::TransportClosed);
        assert!(std::error::Error::source(&closed).is_some(), "a closed transport must read as a broken connection");
    }
}
