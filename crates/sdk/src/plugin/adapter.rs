//! [`Served`]: a plugin wrapped as its type's generated gRPC service. The seven lifecycle RPCs
//! are the same for every type; [`served_service!`] writes them into each service's impl.

use super::{Lifecycle, PluginError, PluginStream};
use crate::proto::hector as pb;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use tonic::{Response, Status};

/// A plugin served as a `hector.plugin` service; made by the `serve_*` functions, public for a
/// plugin that builds its own router (`LlmProviderServer::new(Served::new(my_llm))`).
pub struct Served<P> {
    pub(super) plugin: Arc<P>,
    status: Arc<AtomicU8>,
}

impl<P> Clone for Served<P> {
    fn clone(&self) -> Self {
        Served { plugin: self.plugin.clone(), status: self.status.clone() }
    }
}

// `GetStatus` values (docs/protocol.md §7.2), in the order a plugin passes through them.
const STATUSES: [&str; 4] = ["loading", "ready", "error", "shutdown"];
const READY: u8 = 1;
const ERROR: u8 = 2;
const SHUTDOWN: u8 = 3;

impl<P: Lifecycle> Served<P> {
    pub fn new(plugin: P) -> Self {
        Served { plugin: Arc::new(plugin), status: Arc::new(AtomicU8::new(0)) }
    }

    pub(super) async fn initialize(&self, request: pb::InitializeRequest) -> Response<pb::InitializeResponse> {
        let answer = match self.plugin.initialize(request.config).await {
            Ok(()) => {
                self.status.store(READY, Ordering::Relaxed);
                pb::InitializeResponse { success: true, error: String::new() }
            }
            Err(error) => {
                self.status.store(ERROR, Ordering::Relaxed);
                pb::InitializeResponse { success: false, error: error.to_string() }
            }
        };
        Response::new(answer)
    }

    pub(super) async fn shutdown(&self) -> Response<pb::ShutdownResponse> {
        self.status.store(SHUTDOWN, Ordering::Relaxed);
        let answer = match self.plugin.shutdown().await {
            Ok(()) => pb::ShutdownResponse { success: true, error: String::new() },
            Err(error) => pb::ShutdownResponse { success: false, error: error.to_string() },
        };
        Response::new(answer)
    }

    pub(super) async fn health(&self) -> Response<pb::HealthResponse> {
        let answer = match self.plugin.health().await {
            Ok(message) => pb::HealthResponse { healthy: true, message },
            Err(error) => pb::HealthResponse { healthy: false, message: error.to_string() },
        };
        Response::new(answer)
    }

    pub(super) async fn get_state(&self) -> Result<Response<pb::GetStateResponse>, Status> {
        let answer = match self.plugin.get_state().await.map_err(Status::from)? {
            Some(state) => pb::GetStateResponse { state, has_state: true },
            None => pb::GetStateResponse::default(),
        };
        Ok(Response::new(answer))
    }

    pub(super) async fn restore_state(&self, request: pb::RestoreStateRequest) -> Response<pb::RestoreStateResponse> {
        let answer = match self.plugin.restore_state(request.state).await {
            Ok(()) => pb::RestoreStateResponse { success: true, error: String::new() },
            Err(error) => pb::RestoreStateResponse { success: false, error: error.to_string() },
        };
        Response::new(answer)
    }

    pub(super) fn manifest(&self, kind: &str) -> Response<pb::ManifestResponse> {
        let mut manifest = self.plugin.manifest();
        if manifest.r#type.is_empty() {
            manifest.r#type = kind.into();
        }
        if manifest.protocol.is_empty() {
            manifest.protocol = "grpc".into();
        }
        Response::new(manifest)
    }

    pub(super) fn status(&self) -> Response<pb::StatusResponse> {
        let status = STATUSES[usize::from(self.status.load(Ordering::Relaxed)).min(STATUSES.len() - 1)];
        Response::new(pb::StatusResponse { status: status.into() })
    }
}

/// A plugin's stream as a gRPC response stream: errors become statuses.
pub(super) type GrpcStream<T> = tonic::codegen::BoxStream<T>;

pub(super) fn grpc_stream<T: Send + 'static>(stream: PluginStream<T>) -> GrpcStream<T> {
    use futures_util::StreamExt as _;
    Box::pin(stream.map(|item| item.map_err(Status::from)))
}

/// Unary answers: a plugin's error becomes the status the host reports.
pub(super) fn answer<T>(result: Result<T, PluginError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

/// `impl $service for Served<P: $plugin>`: the seven lifecycle RPCs, delegated to [`Served`],
/// plus the type's own methods given in the braces. `$kind` is the manifest type reported by a
/// plugin that leaves its own empty. (One macro for the whole impl: `async_trait` must see
/// every method.)
macro_rules! served_service {
    ($service:ident for $plugin:ident, $kind:literal, { $($methods:tt)* }) => {
        #[tonic::async_trait]
        impl<P: $plugin> $service for Served<P> {
            async fn initialize(
                &self,
                request: tonic::Request<pb::InitializeRequest>,
            ) -> Result<tonic::Response<pb::InitializeResponse>, tonic::Status> {
                Ok(Served::initialize(self, request.into_inner()).await)
            }

            async fn shutdown(
                &self,
                _request: tonic::Request<pb::ShutdownRequest>,
            ) -> Result<tonic::Response<pb::ShutdownResponse>, tonic::Status> {
                Ok(Served::shutdown(self).await)
            }

            async fn health(
                &self,
                _request: tonic::Request<pb::HealthRequest>,
            ) -> Result<tonic::Response<pb::HealthResponse>, tonic::Status> {
                Ok(Served::health(self).await)
            }

            async fn get_manifest(
                &self,
                _request: tonic::Request<pb::ManifestRequest>,
            ) -> Result<tonic::Response<pb::ManifestResponse>, tonic::Status> {
                Ok(Served::manifest(self, $kind))
            }

            async fn get_status(
                &self,
                _request: tonic::Request<pb::StatusRequest>,
            ) -> Result<tonic::Response<pb::StatusResponse>, tonic::Status> {
                Ok(Served::status(self))
            }

            async fn get_state(
                &self,
                _request: tonic::Request<pb::GetStateRequest>,
            ) -> Result<tonic::Response<pb::GetStateResponse>, tonic::Status> {
                Served::get_state(self).await
            }

            async fn restore_state(
                &self,
                request: tonic::Request<pb::RestoreStateRequest>,
            ) -> Result<tonic::Response<pb::RestoreStateResponse>, tonic::Status> {
                Ok(Served::restore_state(self, request.into_inner()).await)
            }

            $($methods)*
        }
    };
}
pub(super) use served_service;
