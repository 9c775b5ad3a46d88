//! `hector.plugin.EmbedderProvider` client (docs/protocol.md §7.5).
//!
//! `embed_batch` sends one `EmbedBatch`; a plugin that answers UNIMPLEMENTED (one written before
//! the RPC existed) gets one `Embed` per text instead, a bounded number in flight, with the same
//! result. Every answer is checked against the dimension it announces: a plugin answering
//! garbage is an error that names it, never a misshapen block of floats.

use super::{call, call_if_served, in_band, malformed, within};
use crate::error::{Error, Result};
use crate::plugin::Plugin;
use crate::proto::hector::embedder_provider_client::EmbedderProviderClient;
use crate::proto::hector::{EmbedBatchRequest, EmbedBatchResponse, EmbedRequest, EmbedderInfo, Empty, HealthResponse};
use crate::transport::{origin, PluginChannel};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// How many `Embed` calls the fallback keeps in flight on the plugin's one connection.
pub const FALLBACK_IN_FLIGHT: usize = 16;

/// The vectors of one batch: `rows` vectors of `dimension` floats, laid end to end in the order
/// of the texts (the layout of `EmbedBatchResponse.vectors`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embeddings {
    pub data: Vec<f32>,
    pub rows: usize,
    pub dimension: usize,
}

#[derive(Clone)]
pub struct EmbedderClient {
    plugin: Arc<Plugin>,
    grpc: EmbedderProviderClient<PluginChannel>,
}

impl EmbedderClient {
    pub fn new(plugin: Arc<Plugin>) -> Self {
        let channel = plugin.channel();
        let limit = channel.max_message_bytes();
        let grpc = EmbedderProviderClient::with_origin(channel, origin())
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
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
            let mut grpc = self.grpc.clone();
            // The texts stay here for the fallback, in case the plugin does not serve the RPC.
            let request = EmbedBatchRequest { texts: texts.clone() };
            let answer = call_if_served(&self.plugin, "EmbedBatch", timeout, async move {
                grpc.embed_batch(request).await.map(|r| r.into_inner())
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
    fn checked_batch(&self, response: EmbedBatchResponse, rows: usize) -> Result<Embeddings> {
        in_band(&self.plugin, "EmbedBatch", true, &response.error)?;
        let dimension = match usize::try_from(response.dimension) {
            Ok(dimension) if dimension > 0 => dimension,
            _ => {
                let what = format!("dimension {} for {rows} texts (a dimension must be positive)", response.dimension);
                return Err(malformed(&self.plugin, "EmbedBatch", what));
            }
        };
        if response.vectors.len() != rows * dimension {
            let what = format!(
                "{} floats for {rows} texts of dimension {dimension} (expected {})",
                response.vectors.len(),
                rows * dimension
            );
            return Err(malformed(&self.plugin, "EmbedBatch", what));
        }
        Ok(Embeddings { data: response.vectors, rows, dimension })
    }

    /// One `Embed` per text, [`FALLBACK_IN_FLIGHT`] at a time, gathered in the texts' order; every
    /// vector must have the first one's dimension. The first failure ends the batch (the calls
    /// still in flight are cancelled).
    async fn embed_each(&self, texts: Vec<String>, timeout: Option<Duration>) -> Result<Embeddings> {
        let rows = texts.len();
        let mut vectors = futures_util::stream::iter(texts.into_iter().map(|text| self.embed(text, timeout)))
            .buffered(FALLBACK_IN_FLIGHT);
        let mut embeddings = Embeddings { data: Vec::new(), rows, dimension: 0 };
        let mut index = 0;
        while let Some(vector) = vectors.next().await {
            let vector = vector.map_err(|error| about_text(error, index))?;
            if index == 0 {
                embeddings.dimension = vector.len();
                embeddings.data.reserve_exact(rows * vector.len());
            } else if vector.len() != embeddings.dimension {
                let what = format!(
                    "a vector of {} floats for texts[{index}], after {} for texts[0]",
                    vector.len(),
                    embeddings.dimension
                );
                return Err(malformed(&self.plugin, "Embed", what));
            }
            embeddings.data.extend_from_slice(&vector);
            index += 1;
        }
        Ok(embeddings)
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
