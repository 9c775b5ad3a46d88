//! MCP servers as tool providers (docs/protocol.md §10), through the official Rust SDK (`rmcp`,
//! client side). `session` is the connection: the initialize handshake, the tool list kept
//! fresh by the server's `list_changed` notifications, calls and the close. `convert` maps MCP's
//! tools, results and errors onto the `hector.plugin` tool types, so that `pm.tools(name)`
//! behaves the same for an MCP server and a gRPC tool provider. The process (launch, logs,
//! crash, stop) is the plugin's, as for any other plugin (`crate::plugin`).

mod convert;
mod session;

pub use convert::{status_of, tool_definition, tool_result};
pub use session::{McpSession, Transport};
