//! Calls by path on a plugin's connection, for the RPCs no generated client serves: the
//! lifecycle RPCs every Hector service shares (docs/protocol.md §7.2) and raw calls with
//! protobuf bytes (`clients::raw`), in all four shapes: unary, server, client and
//! bidirectional streaming. Failures stay `tonic::Status`: only the caller knows the
//! plugin, and so whether a failure means it crashed (docs/protocol.md §6.2).

use crate::transport::PluginChannel;
use futures_util::Stream;
use http::uri::PathAndQuery;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::client::Grpc;
use tonic::codec::{Codec, Streaming};
use tonic::{CancellationHandle, Status};

/// A codec whose messages can cross tasks, as tonic's calls require.
pub trait MessageCodec: Codec<Encode: Send + Sync + 'static, Decode: Send + Sync + 'static> {}

impl<C> MessageCodec for C
where
    C: Codec,
    C::Encode: Send + Sync + 'static,
    C::Decode: Send + Sync + 'static,
{
}

/// One request, one response.
pub async fn unary<C: MessageCodec>(
    channel: &PluginChannel,
    path: PathAndQuery,
    codec: C,
    request: C::Encode,
) -> Result<C::Decode, Status> {
    let mut grpc = ready(channel).await?;
    grpc.unary(tonic::Request::new(request), path, codec).await.map(tonic::Response::into_inner)
}

/// One request, a stream of responses (opened: its response headers have arrived).
pub async fn server_streaming<C: MessageCodec>(
    channel: &PluginChannel,
    path: PathAndQuery,
    codec: C,
    request: C::Encode,
) -> Result<Streaming<C::Decode>, Status> {
    let mut grpc = ready(channel).await?;
    grpc.server_streaming(tonic::Request::new(request), path, codec).await.map(tonic::Response::into_inner)
}

/// A stream of requests, one response. However the call ends (an answer, an error, or the
/// future dropped by a deadline or a cancel), a request stream still open is reset, never
/// ended: the plugin must not take a cut-short stream for a complete one (docs/protocol.md §4.2).
pub async fn client_streaming<C, S>(
    channel: &PluginChannel,
    path: PathAndQuery,
    codec: C,
    requests: S,
) -> Result<C::Decode, Status>
where
    C: MessageCodec,
    S: Stream<Item = C::Encode> + Send + 'static,
{
    let mut grpc = ready(channel).await?;
    let (request, _reset) = resettable(requests);
    grpc.client_streaming(request, path, codec).await.map(tonic::Response::into_inner)
}

/// A stream of requests, a stream of responses (opened: its response headers have arrived).
/// Dropping the responses resets a request stream still open, as for [`client_streaming`].
pub async fn streaming<C, S>(
    channel: &PluginChannel,
    path: PathAndQuery,
    codec: C,
    requests: S,
) -> Result<Responses<C::Decode>, Status>
where
    C: MessageCodec,
    S: Stream<Item = C::Encode> + Send + 'static,
{
    let mut grpc = ready(channel).await?;
    let (request, reset) = resettable(requests);
    let inner = grpc.streaming(request, path, codec).await?.into_inner();
    Ok(Responses { inner, _reset: reset })
}

/// The responses of a call whose requests are a stream; see [`streaming`].
pub struct Responses<T> {
    inner: Streaming<T>,
    _reset: ResetOnDrop,
}

impl<T> Stream for Responses<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// A request whose stream of messages is reset (`RST_STREAM`) when the guard is dropped, unless
/// it has ended by then. Without it the request stream would outlive the call: the HTTP/2
/// connection keeps sending it after the response is gone, and the plugin keeps waiting for it.
fn resettable<S>(requests: S) -> (tonic::Request<S>, ResetOnDrop) {
    let mut request = tonic::Request::new(requests);
    let reset = ResetOnDrop(Some(request.cancellation_handle()));
    (request, reset)
}

struct ResetOnDrop(Option<CancellationHandle>);

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.cancel();
        }
    }
}

/// A client once the connection can take a call. A connection that is gone makes the call
/// UNAVAILABLE, like any call on it, so callers map it the same way.
async fn ready(channel: &PluginChannel) -> Result<Grpc<PluginChannel>, Status> {
    let mut grpc = channel.grpc();
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    Ok(grpc)
}
