//! Serving plugins from Rust.
//!
//! A plugin is an executable that the host launches; it checks the environment the host gave it,
//! listens on a unix socket, prints one handshake line on stdout and serves gRPC until the host
//! asks it to stop (docs/protocol.md §1–§3, §6, §8). This module does all of that, so a plugin author writes
//! only the service:
//!
//! ```no_run
//! use hector_plugins_sdk::{serve_llm, Lifecycle, LlmPlugin, PluginError};
//! use hector_plugins_sdk::proto::hector::{GenerateRequest, GenerateResponse, ModelInfo};
//!
//! struct MyLlm;
//!
//! impl Lifecycle for MyLlm {} // initialize, shutdown, health, manifest: all have defaults
//!
//! #[tonic::async_trait]
//! impl LlmPlugin for MyLlm {
//!     async fn generate(&self, request: GenerateRequest) -> Result<GenerateResponse, PluginError> {
//!         Ok(GenerateResponse { text: "hello".into(), ..Default::default() })
//!     }
//!
//!     async fn model_info(&self) -> Result<ModelInfo, PluginError> {
//!         Ok(ModelInfo { model_name: "my-llm".into(), ..Default::default() })
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), hector_plugins_sdk::SdkError> {
//!     serve_llm(MyLlm).await
//! }
//! ```
//!
//! One trait per plugin type, each with a complete example: [`LlmPlugin`], [`EmbedderPlugin`],
//! [`DatabasePlugin`], [`ToolPlugin`], [`ReasoningPlugin`]; [`Lifecycle`] is what they share
//! (module [`plugin`]). The `serve_*` functions answer the lifecycle RPCs, end streams with
//! their final chunk, echo tool call ids and turn a [`PluginError`] into the gRPC status the
//! host reports.
//!
//! For other services, several services, other cookies or tonic settings, build a
//! [`tonic::transport::server::Router`] yourself and hand it to [`serve`]:
//!
//! ```no_run
//! # use hector_plugins_sdk::proto::hector::embedder_provider_server::EmbedderProviderServer;
//! use hector_plugins_sdk::{self as sdk, EmbedderPlugin, MessageLimits as _, Served, ServeOptions};
//! # async fn run<E: EmbedderPlugin>(my_embedder: E) -> Result<(), sdk::SdkError> {
//! let router = tonic::transport::Server::builder()
//!     .add_service(EmbedderProviderServer::new(Served::new(my_embedder)).with_large_messages());
//! sdk::serve(ServeOptions::default(), router).await
//! # }
//! ```
//!
//! What [`serve`] does, in order:
//!
//! 1. Checks the magic cookie (`HECTOR_PLUGIN=hector_plugin_v1` by default). Missing or wrong,
//!    it prints go-plugin's "This binary is a plugin..." message on stderr and **exits with
//!    status 1**. Then negotiates the app protocol version with `PLUGIN_PROTOCOL_VERSIONS`
//!    (highest common version); no common version also prints the reason and exits 1.
//! 2. Binds a unix socket named `plugin<digits>` inside `PLUGIN_UNIX_SOCKET_DIR` (else the temp
//!    dir), chowned to `PLUGIN_UNIX_SOCKET_GROUP` with mode 0660 when that is set.
//! 3. Prints the handshake line `1|<version>|unix|<path>|grpc|` on stdout and flushes it.
//!    **Nothing may be written to stdout before this** (it breaks the handshake). Afterwards
//!    stdout goes to the host over `GRPCStdio`; log to stderr with [`log`].
//! 4. Serves your services plus `grpc.health.v1.Health` (`"plugin"` and `""` are SERVING),
//!    `plugin.GRPCController/Shutdown` and `plugin.GRPCStdio`: from the handshake on, stdout is
//!    captured and streamed to the host, as go-plugin plugins do ([`stdio`]).
//! 5. Stops gracefully on `GRPCController/Shutdown` (the reply is sent first), on SIGTERM or
//!    SIGINT, or on [`ShutdownHandle::shutdown`]: new connections are refused, in-flight calls may
//!    finish for [`ServeOptions::shutdown_grace`], then remaining connections are dropped. The
//!    socket file is removed and `serve` returns `Ok(())`, so `main` returns and the process
//!    exits 0.
//!
//! **Automatic mTLS** (docs/protocol.md §3.5): when the host sets `PLUGIN_CLIENT_CERT` (a PEM
//! certificate), the plugin makes its own certificate, prints it in field 6 of the handshake
//! line and serves TLS that accepts exactly the host's certificate, as go-plugin plugins do.
//!
//! Not provided: TCP listeners and `plugin.GRPCBroker` (hosts treat it as optional).
//!
//! **Message sizes.** tonic refuses requests above 4 MiB by default. Call
//! [`MessageLimits::with_large_messages`] on every generated server you add (the `serve_*`
//! helpers and the built-in services already do) to accept up to [`MAX_MESSAGE_SIZE`], as
//! go-plugin hosts do.
//!
//! **`:authority`.** The HTTP/2 layer (h2) rejects a request whose `:authority` pseudo-header is
//! not a valid URI authority before any service code runs, so a grpcio (C-core) client dialling
//! `unix:/path` must set the channel option `grpc.default_authority` (e.g. `localhost`). Rust
//! (tonic) and Go hosts send a valid authority on their own.

pub mod env;
pub mod log;
pub mod plugin;
pub mod services;
pub mod stdio;

mod error;
mod limits;
mod listener;
mod mtls;
mod options;
mod serve;
mod server;

pub use error::SdkError;
pub use limits::MessageLimits;
pub use listener::{random_socket_name, socket_dir};
pub use log::{Level, Logger};
pub use options::ServeOptions;
pub use plugin::{
    serve_database, serve_embedder, serve_llm, serve_reasoning, serve_tools, Config, DatabasePlugin, EmbedderPlugin,
    Lifecycle, LlmPlugin, PluginError, PluginStream, ReasoningPlugin, Served, ToolPlugin,
};
pub use serde_json::{json, Value};
pub use serve::{check_environment, serve, serve_checked};
pub use server::{ResponseBody, RouterService};
pub use services::{PluginController, PluginHealth, ShutdownHandle};
/// The attribute the plugin traits are implemented with (`#[hector_plugins_sdk::async_trait]`),
/// re-exported so a plugin needs no `tonic` dependency of its own for it.
pub use tonic::async_trait;

/// The largest message accepted or sent by services configured with
/// [`MessageLimits::with_large_messages`]: 2^31-1 bytes, the limit go-plugin hosts use.
pub const MAX_MESSAGE_SIZE: usize = hector_plugins_protocol::MAX_MESSAGE_SIZE_LIMIT;

pub use hector_plugins_protocol::env::{HECTOR_COOKIE_KEY, HECTOR_COOKIE_VALUE, HECTOR_PROTOCOL_VERSION};
/// The generated gRPC code of every service (`proto::hector`, `proto::goplugin`, `proto::health`).
pub use hector_plugins_protocol::proto;
