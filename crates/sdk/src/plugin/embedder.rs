//! Embedders: `hector.plugin.EmbedderProvider` (docs/protocol.md §7.5).

use super::adapter::{answer, served_service, Served};
use super::{Lifecycle, PluginError};
use crate::proto::hector as pb;
use crate::proto::hector::embedder_provider_server::{EmbedderProvider, EmbedderProviderServer};
use crate::{MessageLimits as _, SdkError, ServeOptions};
use tonic::{Request, Response, Status};

/// An embedder: texts in, vectors of [`info`](Self::info)'s `dimension` floats out.
///
/// ```no_run
/// use hector_plugins_sdk::plugin::{serve_embedder, EmbedderPlugin, Lifecycle, PluginError};
/// use hector_plugins_sdk::proto::hector::EmbedderInfo;
///
/// /// Counts bytes into 8 buckets: a toy, but deterministic.
/// struct Buckets;
///
/// impl Lifecycle for Buckets {}
///
/// #[tonic::async_trait]
/// impl EmbedderPlugin for Buckets {
///     async fn embed(&self, text: String) -> Result<Vec<f32>, PluginError> {
///         let mut vector = vec![0.0f32; 8];
///         for byte in text.bytes() {
///             vector[usize::from(byte) % 8] += 1.0;
///         }
///         Ok(vector)
///     }
///
///     async fn info(&self) -> Result<EmbedderInfo, PluginError> {
///         Ok(EmbedderInfo { model_name: "buckets".into(), dimension: 8 })
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), hector_plugins_sdk::SdkError> {
///     serve_embedder(Buckets).await
/// }
/// ```
#[tonic::async_trait]
pub trait EmbedderPlugin: Lifecycle {
    /// The vector of one text.
    async fn embed(&self, text: String) -> Result<Vec<f32>, PluginError>;

    /// One vector per text, in order, all of the same length. The default calls
    /// [`embed`](Self::embed) for each text in turn; batch when the model can.
    async fn embed_batch(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for text in texts {
            vectors.push(self.embed(text).await?);
        }
        Ok(vectors)
    }

    /// The model's name and the length of its vectors.
    async fn info(&self) -> Result<pb::EmbedderInfo, PluginError>;
}

/// Serves `plugin` with Hector's default options until the host stops it (see [`crate::serve`]).
pub async fn serve_embedder(plugin: impl EmbedderPlugin) -> Result<(), SdkError> {
    let service = EmbedderProviderServer::new(Served::new(plugin)).with_large_messages();
    crate::serve(ServeOptions::default(), tonic::transport::Server::builder().add_service(service)).await
}

/// `EmbedBatchResponse` carries one flat buffer: the vectors must all have the same length.
fn flatten(vectors: Vec<Vec<f32>>) -> Result<pb::EmbedBatchResponse, PluginError> {
    let dimension = vectors.first().map_or(0, Vec::len);
    if let Some((index, odd)) = vectors.iter().enumerate().find(|(_, v)| v.len() != dimension) {
        return Err(PluginError::new(format!(
            "embed_batch returned vectors of different lengths: text 0 has {dimension} floats, text {index} has {}",
            odd.len()
        )));
    }
    let dimension = i32::try_from(dimension).map_err(|_| PluginError::new("vectors longer than 2^31 floats"))?;
    Ok(pb::EmbedBatchResponse { vectors: vectors.concat(), dimension, error: String::new() })
}

served_service!(EmbedderProvider for EmbedderPlugin, "embedder_provider", {

    async fn embed(&self, request: Request<pb::EmbedRequest>) -> Result<Response<pb::EmbedResponse>, Status> {
        let vector = self.plugin.embed(request.into_inner().text).await;
        answer(vector.map(|vector| pb::EmbedResponse { vector, error: String::new() }))
    }

    async fn get_embedder_info(&self, _request: Request<pb::Empty>) -> Result<Response<pb::EmbedderInfo>, Status> {
        answer(self.plugin.info().await)
    }

    async fn embed_batch(
        &self,
        request: Request<pb::EmbedBatchRequest>,
    ) -> Result<Response<pb::EmbedBatchResponse>, Status> {
        let texts = request.into_inner().texts;
        let count = texts.len();
        let vectors = self.plugin.embed_batch(texts).await?;
        if vectors.len() != count {
            return Err(Status::unknown(format!("embed_batch returned {} vectors for {count} texts", vectors.len())));
        }
        answer(flatten(vectors))
    }
});
