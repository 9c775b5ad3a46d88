//! Calls any gRPC method of any plugin with raw protobuf bytes, so users can drive plugins we
//! have no typed client for (Terraform providers, go-plugin examples) with their own messages.

use super::{call, stream_call};
use crate::error::{Error, Result};
use crate::plugin::Plugin;
use crate::rpc;
use bytes::{Buf, BufMut, Bytes};
use futures_util::stream::BoxStream;
use futures_util::Stream;
use std::sync::Arc;
use std::time::Duration;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

#[derive(Clone)]
pub struct RawClient {
    plugin: Arc<Plugin>,
}

impl RawClient {
    pub fn new(plugin: Arc<Plugin>) -> Self {
        RawClient { plugin }
    }

    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    pub async fn unary(&self, method: &str, request: Bytes, timeout: Option<Duration>) -> Result<Bytes> {
        let path = method_path(&self.plugin, method)?;
        let channel = self.plugin.channel();
        call(&self.plugin, method, timeout, rpc::unary(&channel, path, BytesCodec, request)).await
    }

    /// A server-streaming call; `timeout` bounds the wait for the first item and between items
    /// (default: the plugin's `call_timeout`).
    pub async fn server_stream(
        &self,
        method: &str,
        request: Bytes,
        timeout: Option<Duration>,
    ) -> Result<BoxStream<'static, Result<Bytes>>> {
        let path = method_path(&self.plugin, method)?;
        let channel = self.plugin.channel();
        stream_call(&self.plugin, method, timeout, rpc::server_streaming(&channel, path, BytesCodec, request)).await
    }

    /// A client-streaming call: `requests` are sent as they come, then the one response.
    /// `timeout` bounds the whole call, sending included (default: the plugin's `call_timeout`),
    /// as for a unary call. A call that fails or is dropped before `requests` ended resets
    /// them: the plugin never sees a cut-short request stream end normally.
    pub async fn client_stream<S>(&self, method: &str, requests: S, timeout: Option<Duration>) -> Result<Bytes>
    where
        S: Stream<Item = Bytes> + Send + 'static,
    {
        let path = method_path(&self.plugin, method)?;
        let channel = self.plugin.channel();
        call(&self.plugin, method, timeout, rpc::client_streaming(&channel, path, BytesCodec, requests)).await
    }

    /// A bidirectional call: `requests` go out as they come while responses come back.
    /// `timeout` bounds the wait for the first response and between responses, as for
    /// [`RawClient::server_stream`]; the first wait starts with the call, so a plugin that waits
    /// for requests before answering makes slow requests count. Dropping the stream before
    /// `requests` ended resets them, as for [`RawClient::client_stream`].
    pub async fn bidi_stream<S>(
        &self,
        method: &str,
        requests: S,
        timeout: Option<Duration>,
    ) -> Result<BoxStream<'static, Result<Bytes>>>
    where
        S: Stream<Item = Bytes> + Send + 'static,
    {
        let path = method_path(&self.plugin, method)?;
        let channel = self.plugin.channel();
        stream_call(&self.plugin, method, timeout, rpc::streaming(&channel, path, BytesCodec, requests)).await
    }
}

/// `/package.Service/Method`, checked so a typo gets a clear error instead of a 404.
fn method_path(plugin: &Plugin, method: &str) -> Result<http::uri::PathAndQuery> {
    let valid = method.starts_with('/') && method[1..].split('/').count() == 2 && !method.ends_with('/');
    if !valid {
        return Err(Error::config(format!(
            "plugin {:?}: method {method:?} must be a full gRPC path like \"/package.Service/Method\"",
            plugin.name
        )));
    }
    http::uri::PathAndQuery::try_from(method)
        .map_err(|e| Error::config(format!("plugin {:?}: bad method path {method:?}: {e}", plugin.name)))
}

/// Passes message bytes through untouched.
#[derive(Debug, Clone, Copy, Default)]
struct BytesCodec;

impl Codec for BytesCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesCodec;
    type Decoder = BytesCodec;

    fn encoder(&mut self) -> Self::Encoder {
        BytesCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesCodec
    }
}

impl Encoder for BytesCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for BytesCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
