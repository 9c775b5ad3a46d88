//! `hector.plugin.EmbedderProvider` client (docs/protocol.md §7.5).
//!
//! `embed_batch` sends one `EmbedBatch`; a plugin that answers UNIMPLEMENTED (one written before
//! the RPC existed) gets one `Embed` per text instead, a bounded number in flight, with the same
//! result. Every answer is checked against the dimension it announces: a plugin answering
//! garbage is an error that names it, never a misshapen block of floats.

use super::packed::PackedEmbedBatchResponse;
use super::{call, call_if_served, in_band, malformed, within};
use crate::error::{Error, Result};
use crate::plugin::Plugin;
use crate::proto::hector::embedder_provider_client::EmbedderProviderClient;
use crate::proto::hector::{EmbedBatchRequest, EmbedRequest, EmbedderInfo, Empty, HealthResponse};
use crate::transport::PluginChannel;
use bytes::Bytes;
use futures_util::StreamExt;
use http::uri::PathAndQuery;
use std::sync::Arc;
use std::time::Duration;

/// How many `Embed` calls the fallback keeps in flight on the plugin's one connection.
pub const FALLBACK_IN_FLIGHT: usize = 16;

const EMBED_BATCH: &str = "/hector.plugin.EmbedderProvider/EmbedBatch";

/// The vectors of one batch: `rows` vectors of `dimension` float32s, laid end to end in the order
/// of the texts, as little-endian bytes: the layout of `EmbedBatchResponse.vectors` on the wire,
/// kept without decoding it float by float (`packed.rs`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embeddings {
    pub little_endian: Bytes,
    pub rows: usize,
    pub dimension: usize,
}

impl Embeddings {
    /// The floats, row after row.
    pub fn to_floats(&self) -> Vec<f32> {
        self.little_endian.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    }
}

#[derive(Clone)]
pub struct EmbedderClient {
    plugin: Arc<Plugin>,
    grpc: EmbedderProviderClient<PluginChannel>,
}

impl EmbedderClient {
    pub fn new(plugin: Arc<Plugin>) -> Self {
        let grpc = super::generated_client!(EmbedderProviderClient, plugin);
        EmbedderClient { plugin, grpc }
    }

    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// The vector of one text.
    pub async fn embed(&self, text: String, timeout: Option<Duration>) -> Result<Vec<f32>> {
        let mut grpc = self.grpc.clone();
        let response = call(&self.plugin, "Embed", timeout, async move {
            grpc.embed(EmbedRequest { text }).await.map(|r| r.into_inner())
        })
        .await?;
        in_band(&self.plugin, "Embed", true, &response.error)?;
        if response.vector.is_empty() {
            return Err(malformed(&self.plugin, "Embed", "an empty vector and no error"));
        }
        Ok(response.vector)
    }

    /// The vectors of `texts`, in their order. `timeout` bounds the `EmbedBatch` call, or the
    /// fallback's per-text calls as a whole. No texts: no call, no rows.
    pub async fn embed_batch(&self, texts: Vec<String>, timeout: Option<Duration>) -> Result<Embeddings> {
        if texts.is_empty() {
            return Ok(Embeddings::default());
        }
        if self.plugin.may_serve("EmbedBatch") {
            let channel = self.plugin.channel();
            // The texts stay here for the fallback, in case the plugin does not serve the RPC.
            let request = EmbedBatchRequest { texts: texts.clone() };
            let codec = tonic_prost::ProstCodec::<EmbedBatchRequest, PackedEmbedBatchResponse>::default();
            let answer = call_if_served(&self.plugin, "EmbedBatch", timeout, async move {
                crate::rpc::unary(&channel, PathAndQuery::from_static(EMBED_BATCH), codec, request).await
            })
            .await?;
            if let Some(response) = answer {
                return self.checked_batch(response, texts.len());
            }
        }
        let what =
            format!("not all {} texts embedded by per-text Embed calls (the plugin has no EmbedBatch)", texts.len());
        within(&self.plugin, "EmbedBatch", timeout, &what, self.embed_each(texts, timeout)).await
    }

    pub async fn embedder_info(&self, timeout: Option<Duration>) -> Result<EmbedderInfo> {
        let mut grpc = self.grpc.clone();
        call(&self.plugin, "GetEmbedderInfo", timeout, async move {
            grpc.get_embedder_info(Empty {}).await.map(|r| r.into_inner())
        })
        .await
    }

    pub async fn health(&self, timeout: Option<Duration>) -> Result<HealthResponse> {
        super::health(&self.plugin, timeout).await
    }

    /// An `EmbedBatch` answer, checked: its own error, then one vector of the announced
    /// dimension per text.
    fn checked_batch(&self, response: PackedEmbedBatchResponse, rows: usize) -> Result<Embeddings> {
        in_band(&self.plugin, "EmbedBatch", true, &response.error)?;
        let dimension = match usize::try_from(response.dimension) {
            Ok(dimension) if dimension > 0 => dimension,
            _ => {
                let what = format!("dimension {} for {rows} texts (a dimension must be positive)", response.dimension);
                return Err(malformed(&self.plugin, "EmbedBatch", what));
            }
        };
        let bytes = response.vectors.as_bytes().len();
        if bytes != rows * dimension * 4 {
            let floats =
                if bytes.is_multiple_of(4) { format!("{}", bytes / 4) } else { format!("{bytes} bytes, not whole") };
            let what =
                format!("{floats} floats for {rows} texts of dimension {dimension} (expected {})", rows * dimension);
            return Err(malformed(&self.plugin, "EmbedBatch", what));
        }
        Ok(Embeddings { little_endian: response.vectors.into_bytes(), rows, dimension })
    }

    /// One `Embed` per text, [`FALLBACK_IN_FLIGHT`] at a time, gathered in the texts' order; every
    /// vector must have the first one's dimension. The first failure ends the batch (the calls
    /// still in flight are cancelled).
    async fn embed_each(&self, texts: Vec<String>, timeout: Option<Duration>) -> Result<Embeddings> {
        let rows = texts.len();
        let mut vectors = futures_util::stream::iter(texts.into_iter().map(|text| self.embed(text, timeout)))
            .buffered(FALLBACK_IN_FLIGHT);
        let (mut data, mut dimension) = (Vec::new(), 0);
        let mut index = 0;
        while let Some(vector) = vectors.next().await {
            let vector = vector.map_err(|error| about_text(error, index))?;
            if index == 0 {
                dimension = vector.len();
                data.reserve_exact(rows * dimension * 4);
            } else if vector.len() != dimension {
                let what =
                    format!("a vector of {} floats for texts[{index}], after {dimension} for texts[0]", vector.len());
                return Err(malformed(&self.plugin, "Embed", what));
            }
            data.extend(vector.iter().flat_map(|x| x.to_le_bytes()));
            index += 1;
        }
        Ok(Embeddings { little_endian: data.into(), rows, dimension })
    }
}

/// A failed `Embed` of the fallback, saying which text it was for.
fn about_text(error: Error, index: usize) -> Error {
    match error {
        Error::Call { plugin, method, code, message } => {
            Error::Call { plugin, method, code, message: format!("texts[{index}]: {message}") }
        }
        other => other,
    }
}
