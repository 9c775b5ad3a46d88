//! gRPC connections to a plugin over a unix socket or TCP (docs/protocol.md §3).
//!
//! One HTTP/2 connection per plugin, used directly through hyper's `SendRequest` rather than
//! tonic's `Channel`: a `Channel` routes every call through a buffer task (two extra task
//! wake-ups per call) and silently reconnects, while a plugin that closed its socket is gone
//! for good and calls should fail at once.

use crate::handshake::Address;
use crate::peer::{self, PeerPolicy};
use crate::security::mtls::{MtlsMode, PinnedTls};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// The largest message accepted either way unless a plugin is configured otherwise: far above
/// any LLM answer, low enough that a runaway plugin cannot make the host allocate gigabytes.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 << 20;

/// HTTP/2 pings notice a peer that stopped answering (frozen, or a dead TCP path). gRPC servers
/// (grpc-go, grpc C-core) by default answer pings sent more often than every 5 minutes with
/// GOAWAY `too_many_pings`, so we stay just above that; calls have their own deadline.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5 * 60 + 10);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A call without a `timeout=` waits at most this long (and a stream this long for each item).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Per-plugin settings of the connection and the calls on it (hector.yaml entry keys
/// `call_timeout`, `max_message_size`, `allow_non_loopback`, `mtls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// The deadline of a call given no `timeout=`; `None` waits for as long as it takes.
    pub call_timeout: Option<Duration>,
    pub max_message_bytes: usize,
    /// Accept a non-loopback TCP address in the handshake line.
    pub allow_non_loopback: bool,
    /// Automatic mTLS (docs/protocol.md §3.5).
    pub mtls: MtlsMode,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            call_timeout: Some(DEFAULT_CALL_TIMEOUT),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            allow_non_loopback: false,
            mtls: MtlsMode::default(),
        }
    }
}

/// How to connect to a plugin's address.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub peer: PeerPolicy,
    /// TLS over the checked stream, when the plugin does automatic mTLS.
    pub tls: Option<PinnedTls>,
    pub max_message_bytes: usize,
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
}

impl ConnectOptions {
    pub fn new(peer: PeerPolicy) -> Self {
        ConnectOptions {
            peer,
            tls: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            keepalive_interval: KEEPALIVE_INTERVAL,
            keepalive_timeout: KEEPALIVE_TIMEOUT,
        }
    }
}

/// What tonic clients are built on: a cheap-to-clone handle to the plugin's HTTP/2 connection.
#[derive(Clone, Debug)]
pub struct PluginChannel {
    sender: http2::SendRequest<tonic::body::Body>,
    max_message_bytes: usize,
    greeting: watch::Receiver<Option<Vec<u8>>>,
}

impl PluginChannel {
    /// A generic gRPC client on this connection, with the plugin's message limits.
    pub fn grpc(&self) -> tonic::client::Grpc<PluginChannel> {
        tonic::client::Grpc::with_origin(self.clone(), origin())
            .max_decoding_message_size(self.max_message_bytes)
            .max_encoding_message_size(self.max_message_bytes)
    }

    /// The largest message this connection accepts either way.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// True once the HTTP/2 connection is gone: no call can succeed any more.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Waits for the first bytes the server sends, then says whether they are not HTTP/2 (an
    /// HTTP/1 server, or something else entirely): `Some(what it answered)`.
    pub async fn wrong_protocol(&self) -> Option<String> {
        let mut greeting = self.greeting.clone();
        // An error means the connection ended before the server said anything.
        let first = match greeting.wait_for(Option::is_some).await {
            Ok(first) => first.clone().unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        describe_non_http2(&first)
    }
}

/// An HTTP/2 server's first frame is SETTINGS (type 4) on stream 0; anything else is quoted.
fn describe_non_http2(first: &[u8]) -> Option<String> {
    const SETTINGS: u8 = 4;
    if first.len() >= 9 && first[3] == SETTINGS && first[5..9] == [0, 0, 0, 0] {
        return None;
    }
    if first.is_empty() {
        return Some("it closed the connection without an HTTP/2 greeting".into());
    }
    let text = String::from_utf8_lossy(first);
    let first_line = text.lines().next().unwrap_or_default();
    // An HTTP/1 server answers the HTTP/2 preface with a status line, or (taking it for
    // HTTP/0.9) with a bare error page.
    let text_only = first.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    let hint = if first.starts_with(b"HTTP/") {
        " (an HTTP/1 server)"
    } else if text_only {
        " (text: an HTTP/1 server, or another text protocol)"
    } else {
        ""
    };
    Some(format!("it answered {first_line:?}{hint}"))
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

/// Resolves when the connection ends (the plugin closed it, or exited).
pub type ConnectionClosed = tokio::sync::oneshot::Receiver<()>;

/// Opens the HTTP/2 connection to the address a plugin printed, after checking who serves it
/// (see [`peer`]), over TLS when `options.tls` says so.
pub async fn connect(
    address: &Address,
    options: &ConnectOptions,
    timeout: Duration,
) -> Result<(PluginChannel, ConnectionClosed), String> {
    let shown = crate::handshake::shorten(&address.to_string());
    let connecting = async {
        match address {
            Address::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| e.to_string())?;
                if let PeerPolicy::PluginGroup { plugin_pid, .. } = options.peer {
                    peer::check_unix_peer(&stream, &shown, plugin_pid).map_err(ConnectError::Refused)?;
                }
                secure_then_handshake(stream, options, &shown).await
            }
            Address::Tcp(addr) => {
                let targets: Vec<_> =
                    tokio::net::lookup_host(addr.as_str()).await.map_err(|e| e.to_string())?.collect();
                if let PeerPolicy::PluginGroup { allow_non_loopback, .. } = options.peer {
                    for target in &targets {
                        peer::check_tcp_target(target, &shown, allow_non_loopback).map_err(ConnectError::Refused)?;
                    }
                }
                let stream = tokio::net::TcpStream::connect(&targets[..]).await.map_err(|e| e.to_string())?;
                if let PeerPolicy::PluginGroup { plugin_pid, .. } = options.peer {
                    peer::check_tcp_peer(&stream, &shown, plugin_pid).map_err(ConnectError::Refused)?;
                }
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                secure_then_handshake(stream, options, &shown).await
            }
        }
    };
    match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(connected)) => Ok(connected),
        Ok(Err(ConnectError::Refused(refusal))) => Err(refusal),
        Ok(Err(ConnectError::Failed(e))) => Err(format!("cannot connect to {shown}: {e}")),
        Err(_) => Err(format!("cannot connect to {shown}: timed out after {:.1}s", timeout.as_secs_f64())),
    }
}

/// A refusal is already a full sentence; a failure gets "cannot connect to".
enum ConnectError {
    Refused(String),
    Failed(String),
}

impl From<String> for ConnectError {
    fn from(message: String) -> Self {
        ConnectError::Failed(message)
    }
}

/// The TLS handshake first when the plugin does automatic mTLS (docs/protocol.md §3.5): a
/// failure there is a refusal (the plugin is not the one that printed the certificate).
async fn secure_then_handshake<S>(
    stream: S,
    options: &ConnectOptions,
    shown: &str,
) -> Result<(PluginChannel, ConnectionClosed), ConnectError>
where
    S: AsyncRead + AsyncWrite + std::os::fd::AsRawFd + Unpin + Send + 'static,
{
    match &options.tls {
        None => handshake(stream, options).await,
        Some(tls) => handshake(tls.wrap(stream, shown).await.map_err(ConnectError::Refused)?, options).await,
    }
}

async fn handshake<S>(stream: S, options: &ConnectOptions) -> Result<(PluginChannel, ConnectionClosed), ConnectError>
where
    S: AsyncRead + AsyncWrite + std::os::fd::AsRawFd + Unpin + Send + 'static,
{
    let (greeting_tx, greeting) = watch::channel(None);
    let io = TokioIo::new(Greeting { inner: stream, seen: Vec::new(), tell: Some(greeting_tx) });
    // The connection window is many stream windows: a stream nobody reads holds its window's
    // worth of the connection's, and must not freeze every other call to the plugin.
    let (sender, connection) = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(options.keepalive_interval)
        .keep_alive_timeout(options.keepalive_timeout)
        .initial_stream_window_size(2 << 20)
        .initial_connection_window_size(128 << 20)
        .max_frame_size(1 << 20)
        // gRPC carries error messages in headers; hyper's 16 KiB default would turn a long
        // plugin error (a traceback) into a connection error. grpc-go allows 16 MiB.
        .max_header_list_size(16 << 20)
        .handshake(io)
        .await
        .map_err(|e| ConnectError::Failed(describe(&e)))?;
    // Drives the connection until the plugin closes it; the plugin is told so.
    let (closed_tx, closed) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = connection.await;
        let _ = closed_tx.send(());
    });
    Ok((PluginChannel { sender, max_message_bytes: options.max_message_bytes, greeting }, closed))
}

/// Passes bytes through, keeping the server's first few so a non-HTTP/2 server (an HTTP/1
/// one, typically) can be named instead of reported as a broken connection.
struct Greeting<S: std::os::fd::AsRawFd> {
    inner: S,
    seen: Vec<u8>,
    tell: Option<watch::Sender<Option<Vec<u8>>>>,
}

/// Enough for an HTTP/2 frame header, and for a readable first line of anything else.
const GREETING_BYTES: usize = 64;

impl<S: AsyncRead + std::os::fd::AsRawFd + Unpin> AsyncRead for Greeting<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let outcome = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.tell.is_some() {
            if let Poll::Ready(result) = &outcome {
                let new = &buf.filled()[before..];
                let ended = new.is_empty() || result.is_err();
                let wanted = GREETING_BYTES.saturating_sub(self.seen.len()).min(new.len());
                let new = new[..wanted].to_vec();
                self.seen.extend_from_slice(&new);
                if ended || self.seen.len() >= 9 {
                    let seen = std::mem::take(&mut self.seen);
                    if let Some(tell) = self.tell.take() {
                        tell.send_replace(Some(seen));
                    }
                }
            }
        }
        outcome
    }
}

impl<S: std::os::fd::AsRawFd> Drop for Greeting<S> {
    /// A connection that failed before a read completed (a write the server refused after it
    /// answered and hung up) still reports what the server sent: whatever waits in the socket
    /// is read once, without waiting (straight from the socket: the reactor may not have seen
    /// it arrive yet).
    fn drop(&mut self) {
        let Some(tell) = self.tell.take() else { return };
        let mut buffer = [0u8; GREETING_BYTES];
        let wanted = GREETING_BYTES.saturating_sub(self.seen.len());
        // SAFETY: a non-blocking recv into our own buffer, on a socket we still own.
        let read =
            unsafe { libc::recv(self.inner.as_raw_fd(), buffer.as_mut_ptr().cast(), wanted, libc::MSG_DONTWAIT) };
        if read > 0 {
            self.seen.extend_from_slice(&buffer[..read as usize]);
        }
        tell.send_replace(Some(std::mem::take(&mut self.seen)));
    }
}

impl<S: AsyncWrite + std::os::fd::AsRawFd + Unpin> AsyncWrite for Greeting<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http2_settings_pass_and_anything_else_is_quoted() {
        let settings = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100];
        assert_eq!(describe_non_http2(&settings), None);
        let http1 = describe_non_http2(b"HTTP/1.0 505 HTTP Version Not Supported\r\nServer: x\r\n").unwrap();
        assert!(http1.contains("\"HTTP/1.0 505 HTTP Version Not Supported\" (an HTTP/1 server)"), "{http1}");
        assert!(describe_non_http2(b"").unwrap().contains("without an HTTP/2 greeting"));
        assert!(describe_non_http2(b"<!DOCTYPE HTML>\n<html>").unwrap().contains("an HTTP/1 server, or"));
        assert!(!describe_non_http2(&[0xff, 0, 1, 2]).unwrap().contains("HTTP/1"));
    }

    #[tokio::test]
    async fn a_greeting_dropped_unread_still_reports_what_the_server_sent() {
        // The server answered (HTTP/1) and hung up before the connection read anything.
        let (ours, theirs) = tokio::net::UnixStream::pair().unwrap();
        theirs.try_write(b"HTTP/1.0 505 HTTP Version Not Supported\r\n").unwrap();
        drop(theirs);
        let (tell, greeting) = watch::channel(None);
        drop(Greeting { inner: ours, seen: Vec::new(), tell: Some(tell) });
        let seen = greeting.borrow().clone().unwrap();
        assert!(describe_non_http2(&seen).unwrap().contains("an HTTP/1 server"), "{seen:?}");
    }

    /// A peer that accepts the connection and then never answers (as a SIGSTOPped plugin does):
    /// the keepalive ping times out and the connection is closed.
    #[tokio::test]
    async fn keepalive_notices_a_silent_peer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("silent.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let silent = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(stream);
        });
        let options = ConnectOptions {
            keepalive_interval: Duration::from_millis(100),
            keepalive_timeout: Duration::from_millis(200),
            ..ConnectOptions::new(PeerPolicy::Unchecked)
        };
        let (channel, closed) = connect(&Address::Unix(path), &options, Duration::from_secs(5)).await.unwrap();
        // Keepalive pings only while a stream is open, as during a call to a frozen plugin.
        let mut grpc = channel.grpc();
        let call = tokio::spawn(async move {
            grpc.ready().await.ok();
            let path = http::uri::PathAndQuery::from_static("/x.Y/Z");
            let codec = tonic_prost::ProstCodec::<(), ()>::default();
            grpc.unary(tonic::Request::new(()), path, codec).await
        });
        let outcome = tokio::time::timeout(Duration::from_secs(10), closed).await;
        assert!(outcome.is_ok(), "the connection to a silent peer was not closed by keepalive");
        call.abort();
        silent.abort();
    }
}
