//! Calls any gRPC method of any plugin with raw protobuf bytes, so users can drive plugins we
//! have no typed client for (Terraform providers, go-plugin examples) with their own messages.

use super::{call, open_stream, Deadline};
use crate::error::{Error, Result};
use crate::plugin::Plugin;
use crate::rpc;
use bytes::{Buf, BufMut, Bytes};
use futures_util::stream::BoxStream;
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
        let opened_at = tokio::time::Instant::now();
        let channel = self.plugin.channel();
        let open = rpc::server_streaming(&channel, path, BytesCodec, request);
        let stream = open_stream(&self.plugin, method, timeout, open).await?;
        let deadline = Deadline::of(&self.plugin, timeout);
        Ok(super::map_stream_errors(&self.plugin, method, stream, deadline, opened_at))
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
