//! gRPC connections to a plugin over a unix socket or TCP (PROTOCOL.md §3).
//!
//! One HTTP/2 connection per plugin, used directly through hyper's `SendRequest` rather than
//! tonic's `Channel`: a `Channel` routes every call through a buffer task (two extra task
//! wake-ups per call) and silently reconnects, while a plugin that closed its socket is gone
//! for good and calls should fail at once.

use crate::handshake::Address;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Like the Go host: accept messages up to 2^31-1 bytes both ways (tonic's default is 4 MiB).
pub const MAX_MESSAGE_BYTES: usize = i32::MAX as usize;

/// What tonic clients are built on: a cheap-to-clone handle to the plugin's HTTP/2 connection.
#[derive(Clone, Debug)]
pub struct PluginChannel {
    sender: http2::SendRequest<tonic::body::Body>,
}

impl PluginChannel {
    /// A generic gRPC client on this connection, with the message limits raised.
    pub fn grpc(&self) -> tonic::client::Grpc<PluginChannel> {
        tonic::client::Grpc::with_origin(self.clone(), origin())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// True once the HTTP/2 connection is gone: no call can succeed any more.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

/// The `:scheme`/`:authority` every request carries (plugins listen on local sockets).
pub fn origin() -> http::Uri {
    http::Uri::from_static("http://localhost")
}

impl tower::Service<http::Request<tonic::body::Body>> for PluginChannel {
    type Response = http::Response<hyper::body::Incoming>;
    type Error = hyper::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.sender.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(self.sender.send_request(request))
    }
}

/// Opens the HTTP/2 connection to the address a plugin printed. Plaintext: automatic mTLS is
/// not requested by this host yet.
/// Resolves when the connection ends (the plugin closed it, or exited).
pub type ConnectionClosed = tokio::sync::oneshot::Receiver<()>;

pub async fn connect(address: &Address, timeout: Duration) -> Result<(PluginChannel, ConnectionClosed), String> {
    let connecting = async {
        match address {
            Address::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| e.to_string())?;
                handshake(TokioIo::new(stream)).await
            }
            Address::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                handshake(TokioIo::new(stream)).await
            }
        }
    };
    match tokio::time::timeout(timeout, connecting).await {
        Ok(result) => result.map_err(|e| format!("cannot connect to {address}: {e}")),
        Err(_) => Err(format!("cannot connect to {address}: timed out after {:.1}s", timeout.as_secs_f64())),
    }
}

async fn handshake<IO>(io: IO) -> Result<(PluginChannel, ConnectionClosed), String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // The connection window is many stream windows: a stream nobody reads holds its window's
    // worth of the connection's, and must not freeze every other call to the plugin.
    let (sender, connection) = http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(2 << 20)
        .initial_connection_window_size(128 << 20)
        .max_frame_size(1 << 20)
        // gRPC carries error messages in headers; hyper's 16 KiB default would turn a long
        // plugin error (a traceback) into a connection error. grpc-go allows 16 MiB.
        .max_header_list_size(16 << 20)
        .handshake(io)
        .await
        .map_err(|e| describe(&e))?;
    // Drives the connection until the plugin closes it; the plugin is told so.
    let (closed_tx, closed) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = connection.await;
        let _ = closed_tx.send(());
    });
    Ok((PluginChannel { sender }, closed))
}

/// Errors hide their cause behind a generic text; show the chain.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
