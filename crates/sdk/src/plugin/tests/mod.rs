//! What the adapters promise, checked as a host sees it: each trait served through [`Served`] on
//! a real unix socket and called with the generated clients.

use super::*;
use crate::proto::hector as pb;
use crate::proto::hector::database_provider_client::DatabaseProviderClient;
use crate::proto::hector::database_provider_server::DatabaseProviderServer;
use crate::proto::hector::embedder_provider_client::EmbedderProviderClient;
use crate::proto::hector::embedder_provider_server::EmbedderProviderServer;
use crate::proto::hector::llm_provider_client::LlmProviderClient;
use crate::proto::hector::llm_provider_server::LlmProviderServer;
use crate::proto::hector::reasoning_strategy_client::ReasoningStrategyClient;
use crate::proto::hector::reasoning_strategy_server::ReasoningStrategyServer;
use crate::proto::hector::stream_chunk::ChunkType;
use crate::proto::hector::tool_provider_client::ToolProviderClient;
use crate::proto::hector::tool_provider_server::ToolProviderServer;
use std::collections::HashMap;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::server::Router;
use tonic::transport::{Channel, Server};
use tonic::Code;

/// Serves `router` on a socket in a fresh directory (kept alive by the returned guard) and
/// connects to it.
async fn start(router: Router) -> (tempfile::TempDir, Channel) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(router.serve_with_incoming(UnixListenerStream::new(listener)));
    (dir, crate::server::tests::connect(&path).await)
}

mod llm;
mod others;
