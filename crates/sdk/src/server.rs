//! The server loop around the plugin's services: the built-in services added, served on the
//! socket until a stop is asked for (`GRPCController/Shutdown`, a signal, the plugin's own
//! code), then stopped within the grace period and the socket file removed (docs/protocol.md §6,
//! §8.1).

use crate::listener::SocketGuard;
use crate::mtls::ServerTls;
use crate::{json, services, Logger, SdkError, ServeOptions};
use futures_util::future::Either;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::service::Routes;
use tonic::transport::server::Router;

/// The request type of a gRPC service.
type GrpcRequest = http::Request<tonic::body::Body>;

/// What [`serve`](crate::serve) needs of the service your router's layer makes (tonic's own
/// requirements): implemented for every service that meets them.
pub trait RouterService<ResBody>:
    tower::Service<GrpcRequest, Response = http::Response<ResBody>, Future: Send, Error: Into<tower::BoxError> + Send>
    + Clone
    + Send
    + 'static
{
}

impl<S, ResBody> RouterService<ResBody> for S
where
    S: tower::Service<GrpcRequest, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<tower::BoxError> + Send,
{
}

/// What [`serve`](crate::serve) needs of that service's response body: implemented for every
/// body that meets it.
pub trait ResponseBody:
    tonic::codegen::Body<Data = bytes::Bytes, Error: Into<tower::BoxError>> + Send + 'static
{
}

impl<B> ResponseBody for B
where
    B: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<tower::BoxError>,
{
}

/// Where the plugin serves: its bound socket and, when the host asked for automatic mTLS
/// (docs/protocol.md §3.5), the TLS every connection must go through.
pub(crate) struct Endpoint {
    pub listener: tokio::net::UnixListener,
    pub socket: SocketGuard,
    pub tls: Option<ServerTls>,
}

/// Serves `router` plus the built-in services on `listener` until `opts.shutdown` is triggered
/// (by `GRPCController/Shutdown` among others) or `external_stop` completes (it names the
/// reason), then stops gracefully within `opts.shutdown_grace` and removes the socket file.
pub(crate) async fn run_server<L, ResBody>(
    router: Router<L>,
    Endpoint { listener, socket, tls }: Endpoint,
    opts: &ServeOptions,
    external_stop: impl std::future::Future<Output = &'static str>,
    stdout: Option<std::sync::Arc<crate::stdio::StdoutCapture>>,
    log: &Logger,
) -> Result<(), SdkError>
where
    L: tower::Layer<Routes>,
    L::Service: RouterService<ResBody>,
    ResBody: ResponseBody,
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

    let router = router.add_service(services::health_server()).add_service(services::controller_server(stop.clone()));
    let router = match &stdout {
        Some(capture) => router.add_service(crate::stdio::stdio_server(capture.clone(), stop.clone())),
        None => router,
    };
    // Either keeps the server future's auto traits (Send), which a boxed future would hide.
    let server = match tls {
        None => Either::Left(router.serve_with_incoming_shutdown(UnixListenerStream::new(listener), stop_signal)),
        Some(tls) => {
            Either::Right(router.serve_with_incoming_shutdown(tls.incoming(listener, log.clone()), stop_signal))
        }
    };
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
                "calls or streams still open after the shutdown grace period; closing their connections",
                &[("grace_ms", json!(opts.shutdown_grace.as_millis() as u64))],
            );
            Ok(())
        }
    };
    drop(socket); // removes the socket file
    if let Some(capture) = stdout {
        capture.restore();
        if capture.dropped_bytes() > 0 {
            log.warn(
                "stdout output dropped: the host was not reading GRPCStdio",
                &[("dropped_bytes", json!(capture.dropped_bytes()))],
            );
        }
    }
    result
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::listener;
    use crate::proto::goplugin::grpc_controller_client::GrpcControllerClient;
    use crate::proto::goplugin::grpc_stdio_client::GrpcStdioClient;
    use crate::proto::goplugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
    use crate::proto::goplugin::StdioData;
    use crate::proto::health::health_client::HealthClient;
    use crate::proto::health::HealthCheckRequest;
    use crate::MessageLimits as _;
    use std::path::{Path, PathBuf};
    use std::time::Duration;
    use std::time::Instant;
    use tonic::transport::{Channel, Server};

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

    /// A channel to the server on `path` (the plugin module's tests use it too).
    pub(crate) async fn connect(path: &Path) -> Channel {
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
            let endpoint = Endpoint { listener, socket, tls: None };
            run_server(router, endpoint, &opts, external_stop, None, &Logger::named("test")).await
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
}
