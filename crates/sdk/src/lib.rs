//! Serving plugins from Rust.
//!
//! A plugin is an executable that the host launches; it checks the environment the host gave it,
//! listens on a unix socket, prints one handshake line on stdout and serves gRPC until the host
//! asks it to stop (docs/protocol.md §1–§3, §6, §8). This module does all of that, so a plugin author writes
//! only the service:
//!
//! ```no_run
//! use hector_plugins_sdk::proto::hector::{llm_provider_server::LlmProvider, *};
//! use tonic::{Request, Response, Status};
//!
//! struct MyLlm;
//!
//! #[tonic::async_trait]
//! impl LlmProvider for MyLlm {
//!     // ... initialize, shutdown, health, get_manifest, get_status, generate,
//!     // generate_streaming, get_model_info ...
//! #   async fn initialize(&self, _: Request<InitializeRequest>) -> Result<Response<InitializeResponse>, Status> { todo!() }
//! #   async fn shutdown(&self, _: Request<ShutdownRequest>) -> Result<Response<ShutdownResponse>, Status> { todo!() }
//! #   async fn health(&self, _: Request<HealthRequest>) -> Result<Response<HealthResponse>, Status> { todo!() }
//! #   async fn get_manifest(&self, _: Request<ManifestRequest>) -> Result<Response<ManifestResponse>, Status> { todo!() }
//! #   async fn get_status(&self, _: Request<StatusRequest>) -> Result<Response<StatusResponse>, Status> { todo!() }
//! #   async fn generate(&self, _: Request<GenerateRequest>) -> Result<Response<GenerateResponse>, Status> { todo!() }
//! #   type GenerateStreamingStream = tonic::codegen::BoxStream<StreamChunk>;
//! #   async fn generate_streaming(&self, _: Request<GenerateRequest>) -> Result<Response<Self::GenerateStreamingStream>, Status> { todo!() }
//! #   async fn get_model_info(&self, _: Request<Empty>) -> Result<Response<ModelInfo>, Status> { todo!() }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), hector_plugins_sdk::SdkError> {
//!     hector_plugins_sdk::serve_llm(MyLlm).await
//! }
//! ```
//!
//! For other services, several services, other cookies or tonic settings, build a
//! [`tonic::transport::server::Router`] yourself and hand it to [`serve`]:
//!
//! ```no_run
//! # use hector_plugins_sdk::proto::hector::embedder_provider_server::{EmbedderProvider, EmbedderProviderServer};
//! use hector_plugins_sdk::{self as sdk, MessageLimits as _, ServeOptions};
//! # async fn run<E: EmbedderProvider>(my_embedder: E) -> Result<(), sdk::SdkError> {
//! let router = tonic::transport::Server::builder()
//!     .add_service(EmbedderProviderServer::new(my_embedder).with_large_messages());
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
//!    stdout is free, though the host treats it only as noise; log to stderr with [`log`].
//! 4. Serves your services plus `grpc.health.v1.Health` (`"plugin"` and `""` are SERVING) and
//!    `plugin.GRPCController/Shutdown`.
//! 5. Stops gracefully on `GRPCController/Shutdown` (the reply is sent first), on SIGTERM or
//!    SIGINT, or on [`ShutdownHandle::shutdown`]: new connections are refused, in-flight calls may
//!    finish for [`ServeOptions::shutdown_grace`], then remaining connections are dropped. The
//!    socket file is removed and `serve` returns `Ok(())`, so `main` returns and the process
//!    exits 0.
//!
//! Not provided: TCP listeners, automatic mTLS (`PLUGIN_CLIENT_CERT` is ignored with a warning
//! on stderr; the socket lives in a private directory), `plugin.GRPCStdio` and
//! `plugin.GRPCBroker` (hosts treat them as optional).
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
pub mod services;

mod listener;

use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::service::Routes;
use tonic::transport::server::Router;
use tonic::transport::Server;

use crate::proto::goplugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use crate::proto::goplugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::proto::goplugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::proto::health::health_server::{Health, HealthServer};
use crate::proto::hector::database_provider_server::{DatabaseProvider, DatabaseProviderServer};
use crate::proto::hector::embedder_provider_server::{EmbedderProvider, EmbedderProviderServer};
use crate::proto::hector::llm_provider_server::{LlmProvider, LlmProviderServer};

pub use listener::{random_socket_name, socket_dir};
pub use log::{Level, Logger};
pub use serde_json::{json, Value};
pub use services::{PluginController, PluginHealth, ShutdownHandle};

/// The largest message accepted or sent by services configured with
/// [`MessageLimits::with_large_messages`]: 2^31-1 bytes, the limit go-plugin hosts use.
pub const MAX_MESSAGE_SIZE: usize = hector_plugins_protocol::MAX_MESSAGE_SIZE_LIMIT;

pub use hector_plugins_protocol::env::{HECTOR_COOKIE_KEY, HECTOR_COOKIE_VALUE, HECTOR_PROTOCOL_VERSION};
/// The generated gRPC code of every service (`proto::hector`, `proto::goplugin`, `proto::health`).
pub use hector_plugins_protocol::proto;

/// How a plugin identifies itself to its host. [`Default`] gives Hector's values.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Environment variable holding the magic cookie (Hector: `HECTOR_PLUGIN`).
    pub magic_cookie_key: String,
    /// Expected cookie value (Hector: `hector_plugin_v1`).
    pub magic_cookie_value: String,
    /// App protocol versions this plugin speaks (Hector: `[1]`). The highest one the host also
    /// offers is announced; go-plugin's `VersionedPlugins` work the same way.
    pub protocol_versions: Vec<u32>,
    /// How long in-flight calls may run after a stop was requested before their connections are
    /// dropped. Default 1 s: go-plugin hosts kill a plugin 2 s after asking it to stop.
    pub shutdown_grace: Duration,
    /// Stops the server when triggered; clone it before passing the options to [`serve`] to stop
    /// the plugin from your own code. `GRPCController/Shutdown` and signals trigger it too.
    pub shutdown: ShutdownHandle,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self::new(HECTOR_COOKIE_KEY, HECTOR_COOKIE_VALUE, HECTOR_PROTOCOL_VERSION)
    }
}

impl ServeOptions {
    /// Options for another plugin family (go-plugin's `HandshakeConfig`).
    pub fn new(
        magic_cookie_key: impl Into<String>,
        magic_cookie_value: impl Into<String>,
        protocol_version: u32,
    ) -> Self {
        Self {
            magic_cookie_key: magic_cookie_key.into(),
            magic_cookie_value: magic_cookie_value.into(),
            protocol_versions: vec![protocol_version],
            shutdown_grace: Duration::from_secs(1),
            shutdown: ShutdownHandle::new(),
        }
    }

    fn validate(&self) -> Result<(), SdkError> {
        if self.magic_cookie_key.is_empty() || self.magic_cookie_value.is_empty() {
            return Err(SdkError::InvalidOptions("the magic cookie key and value must both be non-empty".into()));
        }
        if self.magic_cookie_key.contains('=') || self.magic_cookie_key.contains('\0') {
            return Err(SdkError::InvalidOptions(format!(
                "magic cookie key {:?} is not a valid environment variable name",
                self.magic_cookie_key
            )));
        }
        if self.protocol_versions.is_empty() {
            return Err(SdkError::InvalidOptions("protocol_versions is empty".into()));
        }
        Ok(())
    }
}

/// Everything that can stop [`serve`].
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The options themselves are unusable (a bug in the plugin).
    #[error("invalid plugin serve options: {0}")]
    InvalidOptions(String),
    /// The cookie variable is missing or wrong: the binary was run by hand.
    #[error("{msg}\n(the host sets {cookie_key}; it is missing or has the wrong value)", msg = env::NOT_A_PROGRAM_MESSAGE)]
    NotLaunchedByHost {
        /// The cookie's environment variable.
        cookie_key: String,
    },
    /// None of our app protocol versions is in the host's `PLUGIN_PROTOCOL_VERSIONS`.
    #[error("plugin protocol version mismatch: the host accepts PLUGIN_PROTOCOL_VERSIONS={host:?}, this plugin speaks {ours:?}; upgrade whichever side is older")]
    NoCommonVersion {
        /// The host's list, as given.
        host: String,
        /// Our versions.
        ours: Vec<u32>,
    },
    /// The unix socket could not be created.
    #[error("cannot listen on unix socket {}: {source}", path.display())]
    Listen {
        /// The socket path tried last.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `PLUGIN_UNIX_SOCKET_GROUP` could not be applied.
    #[error("cannot give the plugin socket to group {group:?}: {source}")]
    SocketGroup {
        /// The group as given.
        group: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The handshake line could not be written to stdout.
    #[error("cannot write the handshake line to stdout: {0}")]
    Handshake(#[source] std::io::Error),
    /// A signal handler could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signal(#[source] std::io::Error),
    /// The gRPC server failed.
    #[error("plugin gRPC server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// Raises a generated tonic server's message size limits (tonic's default decode limit is
/// 4 MiB). Implemented for every service in [`proto`].
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
    HealthServer: Health,
    GrpcControllerServer: GrpcController,
    GrpcStdioServer: GrpcStdio,
    GrpcBrokerServer: GrpcBroker,
);

/// Reads the cookie and `PLUGIN_PROTOCOL_VERSIONS` from the process environment and returns the
/// app protocol version to announce. [`serve`] calls this and exits on error; call it yourself
/// to handle the error differently.
pub fn check_environment(opts: &ServeOptions) -> Result<u32, SdkError> {
    opts.validate()?;
    let cookie = std::env::var_os(&opts.magic_cookie_key);
    env::check_cookie(opts, cookie.as_deref().and_then(|v| v.to_str()))?;
    let versions = std::env::var(env::ENV_PROTOCOL_VERSIONS).ok();
    env::negotiate_version(versions.as_deref(), &opts.protocol_versions)
}

/// Serves an `LLMProvider` with Hector's default options. See the [module docs](self).
pub async fn serve_llm<T: LlmProvider>(service: T) -> Result<(), SdkError> {
    let router = Server::builder().add_service(LlmProviderServer::new(service).with_large_messages());
    serve(ServeOptions::default(), router).await
}

/// Serves a `DatabaseProvider` with Hector's default options. See the [module docs](self).
pub async fn serve_database<T: DatabaseProvider>(service: T) -> Result<(), SdkError> {
    let router = Server::builder().add_service(DatabaseProviderServer::new(service).with_large_messages());
    serve(ServeOptions::default(), router).await
}

/// Serves an `EmbedderProvider` with Hector's default options. See the [module docs](self).
pub async fn serve_embedder<T: EmbedderProvider>(service: T) -> Result<(), SdkError> {
    let router = Server::builder().add_service(EmbedderProviderServer::new(service).with_large_messages());
    serve(ServeOptions::default(), router).await
}

/// Runs the plugin side of the go-plugin protocol around `router` (your services) until the host
/// or a signal stops it. See the [module docs](self) for the steps.
///
/// Do not add `grpc.health.v1.Health` or `plugin.GRPCController` to `router` yourself: they are
/// added here, and tonic panics on a duplicate service.
///
/// Exits the process with status 1 (after a message on stderr) when the cookie is wrong or no
/// protocol version is common, like go-plugin. Other failures are returned.
pub async fn serve<L, ResBody>(opts: ServeOptions, router: Router<L>) -> Result<(), SdkError>
where
    L: tower::Layer<Routes>,
    L::Service:
        tower::Service<http::Request<tonic::body::Body>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Future: Send,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Error: Into<tower::BoxError> + Send,
    ResBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<tower::BoxError>,
{
    let version = match check_environment(&opts) {
        Ok(version) => version,
        Err(err @ (SdkError::NotLaunchedByHost { .. } | SdkError::NoCommonVersion { .. })) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
        Err(err) => return Err(err),
    };

    let log = Logger::named("plugin-sdk");
    if std::env::var_os(env::ENV_CLIENT_CERT).is_some_and(|v| !v.is_empty()) {
        log.warn(
            "the host asked for automatic mTLS, which this plugin SDK does not support; serving plaintext on a private unix socket",
            &[],
        );
    }

    // Install the handlers before the handshake: from then on the host may signal us.
    let mut sigterm = signal(SignalKind::terminate()).map_err(SdkError::Signal)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(SdkError::Signal)?;
    let signals = async move {
        tokio::select! {
            _ = sigterm.recv() => "SIGTERM",
            _ = sigint.recv() => "SIGINT",
        }
    };

    let dir = socket_dir(std::env::var(env::ENV_UNIX_SOCKET_DIR).ok().as_deref());
    let group = std::env::var(env::ENV_UNIX_SOCKET_GROUP).ok();
    let (listener, socket) = listener::bind(&dir, group.as_deref())?;
    let socket_path = socket.path().to_string_lossy().into_owned();

    let host_asked_mux = std::env::var_os(env::ENV_MULTIPLEX_GRPC).is_some_and(|v| !v.is_empty());
    write_handshake(&env::handshake_line(version, &socket_path, host_asked_mux))?;
    log.debug(
        "plugin server listening",
        &[("address", json!(socket_path)), ("network", json!("unix")), ("version", json!(version))],
    );

    run_server(router, listener, socket, &opts, signals, &log).await
}

/// Serves `router` plus the built-in services on `listener` until `opts.shutdown` is triggered
/// (by `GRPCController/Shutdown` among others) or `external_stop` completes (it names the
/// reason), then stops gracefully within `opts.shutdown_grace` and removes the socket file.
async fn run_server<L, ResBody>(
    router: Router<L>,
    listener: tokio::net::UnixListener,
    socket: listener::SocketGuard,
    opts: &ServeOptions,
    external_stop: impl std::future::Future<Output = &'static str>,
    log: &Logger,
) -> Result<(), SdkError>
where
    L: tower::Layer<Routes>,
    L::Service:
        tower::Service<http::Request<tonic::body::Body>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Future: Send,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Error: Into<tower::BoxError> + Send,
    ResBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<tower::BoxError>,
{
    let stop = opts.shutdown.clone();
    let stop_signal = {
        let stop = stop.clone();
        async move {
            let reason = tokio::select! {
                () = stop.requested() => "shutdown requested",
                reason = external_stop => reason,
            };
            // Mark the stop for the grace timer below, whatever triggered it.
            stop.shutdown();
            log.debug("plugin server stopping", &[("reason", json!(reason))]);
        }
    };

    let server = router
        .add_service(services::health_server())
        .add_service(services::controller_server(stop.clone()))
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), stop_signal);
    let grace_over = async {
        stop.requested().await;
        tokio::time::sleep(opts.shutdown_grace).await;
    };

    // tonic's graceful stop waits for every connection to close, which a host holding a stream
    // open would delay forever: bound it by the grace period.
    let result = tokio::select! {
        result = server => result.map_err(SdkError::from),
        () = grace_over => {
            log.warn(
                "calls still running after the shutdown grace period; closing their connections",
                &[("grace_ms", json!(opts.shutdown_grace.as_millis() as u64))],
            );
            Ok(())
        }
    };
    drop(socket); // removes the socket file
    result
}

/// Writes the handshake line in one go and flushes it, so the host sees it at once whatever
/// buffering stdout has.
fn write_handshake(line: &str) -> Result<(), SdkError> {
    use std::io::Write as _;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(line.as_bytes()).and_then(|()| out.flush()).map_err(SdkError::Handshake)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::goplugin::grpc_controller_client::GrpcControllerClient;
    use crate::proto::goplugin::grpc_stdio_client::GrpcStdioClient;
    use crate::proto::goplugin::StdioData;
    use crate::proto::health::health_client::HealthClient;
    use crate::proto::health::HealthCheckRequest;
    use std::path::Path;
    use std::time::Instant;
    use tonic::transport::Channel;

    /// A service whose only stream never ends: stands in for a host holding a stream open.
    struct EndlessStdio;

    #[tonic::async_trait]
    impl GrpcStdio for EndlessStdio {
        type StreamStdioStream = tonic::codegen::BoxStream<StdioData>;

        async fn stream_stdio(
            &self,
            _request: tonic::Request<()>,
        ) -> Result<tonic::Response<Self::StreamStdioStream>, tonic::Status> {
            let first = StdioData { channel: 1, data: b"hello".to_vec() };
            let stream = tokio_stream::StreamExt::chain(tokio_stream::once(Ok(first)), tokio_stream::pending());
            Ok(tonic::Response::new(Box::pin(stream)))
        }
    }

    async fn connect(path: &Path) -> Channel {
        let path = path.to_path_buf();
        tonic::transport::Endpoint::from_static("http://localhost")
            .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                let path = path.clone();
                async move {
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tokio::net::UnixStream::connect(path).await?))
                }
            }))
            .await
            .expect("connect to the plugin socket")
    }

    /// Starts the server core on a fresh socket; returns its path and the running task.
    fn start(
        opts: &ServeOptions,
        external_stop: impl std::future::Future<Output = &'static str> + Send + 'static,
    ) -> (tempfile::TempDir, PathBuf, tokio::task::JoinHandle<Result<(), SdkError>>) {
        let dir = tempfile::tempdir().unwrap();
        let (listener, socket) = listener::bind(dir.path(), None).unwrap();
        let path = socket.path().to_path_buf();
        let router = Server::builder().add_service(GrpcStdioServer::new(EndlessStdio).with_large_messages());
        let opts = opts.clone();
        let task = tokio::spawn(async move {
            run_server(router, listener, socket, &opts, external_stop, &Logger::named("test")).await
        });
        (dir, path, task)
    }

    #[tokio::test]
    async fn controller_shutdown_replies_then_stops_and_removes_the_socket() {
        let opts = ServeOptions::default();
        let (_dir, path, task) = start(&opts, std::future::pending());
        let channel = connect(&path).await;

        let status = HealthClient::new(channel.clone())
            .check(HealthCheckRequest { service: "plugin".into() })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, 1, "SERVING");

        // The reply arrives (no UNAVAILABLE), and the server stops although `channel` stays open.
        GrpcControllerClient::new(channel.clone()).shutdown(crate::proto::goplugin::Empty {}).await.unwrap();
        let started = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap().unwrap();
        assert!(started.elapsed() < opts.shutdown_grace, "stopped gracefully, not by the grace timer");
        assert!(opts.shutdown.is_requested());
        assert!(!path.exists(), "socket file removed");
        drop(channel);
    }

    #[tokio::test]
    async fn an_open_stream_delays_the_stop_by_the_grace_period_only() {
        let opts = ServeOptions { shutdown_grace: Duration::from_millis(200), ..Default::default() };
        let (_dir, path, task) = start(&opts, std::future::pending());
        let channel = connect(&path).await;
        let mut stream = GrpcStdioClient::new(channel.clone()).stream_stdio(()).await.unwrap().into_inner();
        assert_eq!(stream.message().await.unwrap().unwrap().data, b"hello");

        let started = Instant::now();
        opts.shutdown.shutdown(); // from the plugin's own code this time
        tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap().unwrap();
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(2), "{took:?}");
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn an_external_stop_signal_stops_the_server() {
        let opts = ServeOptions::default();
        let (_dir, path, task) = start(&opts, async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            "SIGTERM"
        });
        tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap().unwrap();
        assert!(opts.shutdown.is_requested());
        assert!(!path.exists());
    }

    #[test]
    fn options() {
        let opts = ServeOptions::default();
        assert_eq!(
            (opts.magic_cookie_key.as_str(), opts.magic_cookie_value.as_str(), opts.protocol_versions.as_slice()),
            ("HECTOR_PLUGIN", "hector_plugin_v1", &[1][..])
        );
        assert!(opts.validate().is_ok());
        assert!(ServeOptions::new("", "v", 1).validate().is_err());
        assert!(ServeOptions::new("K=V", "v", 1).validate().is_err());
        let mut no_versions = ServeOptions::new("K", "v", 1);
        no_versions.protocol_versions.clear();
        assert!(no_versions.validate().is_err());
    }
}
