//! Raising the message size limits of tonic's generated servers to go-plugin's (docs/protocol.md
//! §3.2).

use crate::proto::goplugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use crate::proto::goplugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::proto::goplugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::proto::health::health_server::{Health, HealthServer};
use crate::proto::hector::database_provider_server::{DatabaseProvider, DatabaseProviderServer};
use crate::proto::hector::embedder_provider_server::{EmbedderProvider, EmbedderProviderServer};
use crate::proto::hector::llm_provider_server::{LlmProvider, LlmProviderServer};
use crate::proto::hector::reasoning_strategy_server::{ReasoningStrategy, ReasoningStrategyServer};
use crate::proto::hector::tool_provider_server::{ToolProvider, ToolProviderServer};
use crate::MAX_MESSAGE_SIZE;

/// Raises a generated tonic server's message size limits (tonic's default decode limit is
/// 4 MiB). Implemented for every service in `crate::proto`.
pub trait MessageLimits: Sized {
    /// Sets both the decoding (request) and encoding (response) limit to `bytes`.
    fn with_max_message_size(self, bytes: usize) -> Self;

    /// Sets both limits to [`MAX_MESSAGE_SIZE`].
    fn with_large_messages(self) -> Self {
        self.with_max_message_size(MAX_MESSAGE_SIZE)
    }
}

macro_rules! impl_message_limits {
    ($($server:ident: $service:ident),* $(,)?) => {$(
        impl<T: $service> MessageLimits for $server<T> {
            fn with_max_message_size(self, bytes: usize) -> Self {
                self.max_decoding_message_size(bytes).max_encoding_message_size(bytes)
            }
        }
    )*};
}

impl_message_limits!(
    LlmProviderServer: LlmProvider,
    DatabaseProviderServer: DatabaseProvider,
    EmbedderProviderServer: EmbedderProvider,
    ToolProviderServer: ToolProvider,
    ReasoningStrategyServer: ReasoningStrategy,
    HealthServer: Health,
    GrpcControllerServer: GrpcController,
    GrpcStdioServer: GrpcStdio,
    GrpcBrokerServer: GrpcBroker,
);
