//! How the host talks to a running plugin: a gRPC connection (go-plugin plugins, the Hector
//! services) or an MCP session (docs/protocol.md §10).

use crate::mcp::McpSession;
use crate::transport::PluginChannel;
use std::sync::Arc;

pub(super) enum Link {
    Grpc(PluginChannel),
    Mcp(Arc<McpSession>),
}

impl Link {
    /// The other side is gone: the connection or the session's transport closed.
    pub(super) fn is_closed(&self) -> bool {
        match self {
            Link::Grpc(channel) => channel.is_closed(),
            Link::Mcp(session) => session.is_closed(),
        }
    }
}
