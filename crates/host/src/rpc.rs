//! Calls by path on a plugin's connection, for the RPCs no generated client serves: the
//! lifecycle RPCs every Hector service shares (docs/protocol.md §7.2) and raw calls with
//! protobuf bytes (`clients::raw`). Failures stay `tonic::Status`: only the caller knows the
//! plugin, and so whether a failure means it crashed (docs/protocol.md §6.2).

use crate::transport::PluginChannel;
use http::uri::PathAndQuery;
use tonic::client::Grpc;
use tonic::codec::{Codec, Streaming};
use tonic::Status;

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

/// A client once the connection can take a call. A connection that is gone makes the call
/// UNAVAILABLE, like any call on it, so callers map it the same way.
async fn ready(channel: &PluginChannel) -> Result<Grpc<PluginChannel>, Status> {
    let mut grpc = channel.grpc();
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    Ok(grpc)
}
