//! `hector.plugin.DatabaseProvider` client (docs/protocol.md §7.4). Each call's in-band failure
//! (`success=false`, a non-empty `error`) becomes the same error a gRPC status gives.

use super::{call, in_band, in_context};
use crate::error::{Error, Result};
use crate::plugin::Plugin;
use crate::proto::hector::database_provider_client::DatabaseProviderClient;
use crate::proto::hector::{
    CreateCollectionRequest, DeleteCollectionRequest, DeleteRequest, HealthResponse, ManifestRequest, ManifestResponse,
    SearchRequest, SearchResult, UpsertRequest,
};
use crate::transport::{origin, PluginChannel};
use futures_util::{StreamExt, TryStreamExt};
use std::sync::Arc;
use std::time::Duration;

/// How many `Upsert` calls [`DatabaseClient::upsert_many`] keeps in flight on the plugin's one
/// connection.
pub const UPSERT_IN_FLIGHT: usize = 16;

/// The manifest capability a plugin declares when it applies `SearchRequest.filter`.
pub const FILTER_CAPABILITY: &str = "filter";

#[derive(Clone)]
pub struct DatabaseClient {
    plugin: Arc<Plugin>,
    grpc: DatabaseProviderClient<PluginChannel>,
}

impl DatabaseClient {
    pub fn new(plugin: Arc<Plugin>) -> Self {
        let channel = plugin.channel();
        let limit = channel.max_message_bytes();
        let grpc = DatabaseProviderClient::with_origin(channel, origin())
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        DatabaseClient { plugin, grpc }
    }

    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    pub async fn upsert(&self, request: UpsertRequest, timeout: Option<Duration>) -> Result<()> {
        let mut grpc = self.grpc.clone();
        let answer = call(&self.plugin, "Upsert", timeout, async move { grpc.upsert(request).await }).await?;
        let answer = answer.into_inner();
        in_band(&self.plugin, "Upsert", answer.success, &answer.error)
    }

    /// One `Upsert` per request, [`UPSERT_IN_FLIGHT`] at a time; each call has its own deadline.
    /// The first failure ends the batch (the calls still in flight are cancelled) and names the
    /// entry it was for: the entries before it may or may not be stored.
    pub async fn upsert_many(&self, requests: Vec<UpsertRequest>, timeout: Option<Duration>) -> Result<()> {
        let calls = requests.into_iter().enumerate().map(|(index, request)| async move {
            let id = request.id.clone();
            self.upsert(request, timeout)
                .await
                .map_err(|error| in_context(error, &format!("entry {index} (id {id:?})")))
        });
        futures_util::stream::iter(calls).buffer_unordered(UPSERT_IN_FLIGHT).try_collect().await
    }

    /// The best `top_k` matches, best first. A filter is sent only to a plugin whose manifest
    /// declares that it applies one (docs/protocol.md §7.4): an older plugin would ignore it.
    pub async fn search(&self, request: SearchRequest, timeout: Option<Duration>) -> Result<Vec<SearchResult>> {
        if !request.filter.is_empty() && self.plugin.capability(FILTER_CAPABILITY) != Some(true) {
            return Err(Error::config(format!(
                "plugin {:?} does not declare `capabilities: {{{FILTER_CAPABILITY}: true}}` in its manifest, so it \
                 may ignore a search filter and return unfiltered results; search without filter=, or use a \
                 plugin that applies SearchRequest.filter (docs/protocol.md §7.4)",
                self.plugin.name
            )));
        }
        let mut grpc = self.grpc.clone();
        let answer = call(&self.plugin, "Search", timeout, async move { grpc.search(request).await }).await?;
        let answer = answer.into_inner();
        in_band(&self.plugin, "Search", true, &answer.error)?;
        Ok(answer.results)
    }

    pub async fn delete(&self, request: DeleteRequest, timeout: Option<Duration>) -> Result<()> {
        let mut grpc = self.grpc.clone();
        let answer = call(&self.plugin, "Delete", timeout, async move { grpc.delete(request).await }).await?;
        let answer = answer.into_inner();
        in_band(&self.plugin, "Delete", answer.success, &answer.error)
    }

    pub async fn create_collection(&self, request: CreateCollectionRequest, timeout: Option<Duration>) -> Result<()> {
        let mut grpc = self.grpc.clone();
        let answer =
            call(&self.plugin, "CreateCollection", timeout, async move { grpc.create_collection(request).await })
                .await?;
        let answer = answer.into_inner();
        in_band(&self.plugin, "CreateCollection", answer.success, &answer.error)
    }

    pub async fn delete_collection(&self, request: DeleteCollectionRequest, timeout: Option<Duration>) -> Result<()> {
        let mut grpc = self.grpc.clone();
        let answer =
            call(&self.plugin, "DeleteCollection", timeout, async move { grpc.delete_collection(request).await })
                .await?;
        let answer = answer.into_inner();
        in_band(&self.plugin, "DeleteCollection", answer.success, &answer.error)
    }

    /// What the plugin says about itself (`GetManifest`, docs/protocol.md §7.2).
    pub async fn manifest(&self, timeout: Option<Duration>) -> Result<ManifestResponse> {
        let mut grpc = self.grpc.clone();
        call(&self.plugin, "GetManifest", timeout, async move {
            grpc.get_manifest(ManifestRequest {}).await.map(|r| r.into_inner())
        })
        .await
    }

    pub async fn health(&self, timeout: Option<Duration>) -> Result<HealthResponse> {
        super::health(&self.plugin, timeout).await
    }
}
