//! The services every go-plugin plugin registers next to its own: `grpc.health.v1.Health` and
//! `plugin.GRPCController`. [`serve`](super::serve) adds both; they are public so a plugin that
//! drives tonic itself can reuse them (docs/protocol.md §8.1, §8.4).

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::proto::goplugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::proto::goplugin::Empty as ControllerEmpty;
use crate::proto::health::health_check_response::ServingStatus;
use crate::proto::health::health_server::{Health, HealthServer};
use crate::proto::health::{HealthCheckRequest, HealthCheckResponse};

use super::{MessageLimits as _, MAX_MESSAGE_SIZE};

pub use hector_plugins_protocol::PLUGIN_HEALTH_SERVICE;

/// `grpc.health.v1.Health`: `Check` answers SERVING for `"plugin"` and `""` (the whole server),
/// `NOT_FOUND` for any other name, like grpc-go's health server. `Watch` is UNIMPLEMENTED.
#[derive(Debug, Clone, Default)]
pub struct PluginHealth;

/// Response stream type of [`PluginHealth::watch`] (never produced).
pub type WatchStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<HealthCheckResponse, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl Health for PluginHealth {
    async fn check(&self, request: Request<HealthCheckRequest>) -> Result<Response<HealthCheckResponse>, Status> {
        let service = request.into_inner().service;
        if service.is_empty() || service == PLUGIN_HEALTH_SERVICE {
            Ok(Response::new(HealthCheckResponse { status: ServingStatus::Serving as i32 }))
        } else {
            Err(Status::not_found(format!("unknown service {service:?}")))
        }
    }

    type WatchStream = WatchStream;

    async fn watch(&self, _request: Request<HealthCheckRequest>) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("Watch is not supported by this plugin; use Check"))
    }
}

/// A handle that asks the server started by [`serve`](super::serve) to stop gracefully.
///
/// Cloneable; asking more than once is harmless. The request is sticky: every waiter, including
/// one that starts waiting later, sees it.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    requested: Arc<watch::Sender<bool>>,
}

impl Default for ShutdownHandle {
    fn default() -> Self {
        Self { requested: Arc::new(watch::Sender::new(false)) }
    }
}

impl ShutdownHandle {
    /// A new, untriggered handle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for a graceful stop.
    pub fn shutdown(&self) {
        self.requested.send_replace(true);
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// Completes once [`shutdown`](Self::shutdown) was called.
    pub async fn requested(&self) {
        let mut rx = self.requested.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|requested| *requested).await;
    }
}

/// `plugin.GRPCController`: `Shutdown` replies, then the server drains and stops.
///
/// go-plugin's own controller stops its server inside the call, so Go hosts see UNAVAILABLE as
/// often as OK; here the reply always goes out first because the server stops gracefully and a
/// graceful stop finishes in-flight calls.
#[derive(Debug, Clone)]
pub struct PluginController {
    handle: ShutdownHandle,
}

impl PluginController {
    /// A controller that triggers `handle`.
    pub fn new(handle: ShutdownHandle) -> Self {
        Self { handle }
    }
}

#[tonic::async_trait]
impl GrpcController for PluginController {
    async fn shutdown(&self, _request: Request<ControllerEmpty>) -> Result<Response<ControllerEmpty>, Status> {
        self.handle.shutdown();
        Ok(Response::new(ControllerEmpty {}))
    }
}

/// The health service, message limits raised.
pub fn health_server() -> HealthServer<PluginHealth> {
    HealthServer::new(PluginHealth).with_max_message_size(MAX_MESSAGE_SIZE)
}

/// The controller service bound to `handle`, message limits raised.
pub fn controller_server(handle: ShutdownHandle) -> GrpcControllerServer<PluginController> {
    GrpcControllerServer::new(PluginController::new(handle)).with_max_message_size(MAX_MESSAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn health_answers_for_plugin_and_server() {
        for name in ["plugin", ""] {
            let reply = PluginHealth.check(Request::new(HealthCheckRequest { service: name.into() })).await.unwrap();
            assert_eq!(reply.into_inner().status, ServingStatus::Serving as i32);
        }
        let err = PluginHealth.check(Request::new(HealthCheckRequest { service: "other".into() })).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
    }

    #[tokio::test]
    async fn controller_triggers_the_handle() {
        let handle = ShutdownHandle::new();
        let controller = PluginController::new(handle.clone());
        controller.shutdown(Request::new(ControllerEmpty {})).await.unwrap();
        // The request is sticky: waiting now returns at once.
        assert!(handle.is_requested());
        tokio::time::timeout(std::time::Duration::from_secs(1), handle.requested())
            .await
            .expect("shutdown was requested");
    }
}
