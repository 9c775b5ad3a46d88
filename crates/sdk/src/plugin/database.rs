//! Vector databases: `hector.plugin.DatabaseProvider` (docs/protocol.md §7.4).

use super::adapter::{answer, served_service, Served};
use super::{Lifecycle, PluginError};
use crate::proto::hector as pb;
use crate::proto::hector::database_provider_server::{DatabaseProvider, DatabaseProviderServer};
use crate::{MessageLimits as _, SdkError, ServeOptions};
use tonic::{Request, Response, Status};

/// A vector database. Writes answer `()`; an error is the call's failure (the host reports it
/// as it would an in-band `success: false`).
///
/// ```no_run
/// use hector_plugins_sdk::plugin::{serve_database, DatabasePlugin, Lifecycle, PluginError};
/// use hector_plugins_sdk::proto::hector as pb;
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// /// Collections in memory; search by dot product.
/// #[derive(Default)]
/// struct Memory(Mutex<HashMap<String, HashMap<String, Vec<f32>>>>);
///
/// impl Lifecycle for Memory {}
///
/// #[tonic::async_trait]
/// impl DatabasePlugin for Memory {
///     async fn create_collection(&self, request: pb::CreateCollectionRequest) -> Result<(), PluginError> {
///         self.0.lock().unwrap().entry(request.collection).or_default();
///         Ok(())
///     }
///
///     async fn delete_collection(&self, request: pb::DeleteCollectionRequest) -> Result<(), PluginError> {
///         self.0.lock().unwrap().remove(&request.collection);
///         Ok(())
///     }
///
///     async fn upsert(&self, request: pb::UpsertRequest) -> Result<(), PluginError> {
///         let mut collections = self.0.lock().unwrap();
///         let collection = collections
///             .get_mut(&request.collection)
///             .ok_or_else(|| PluginError::not_found(format!("no collection {:?}", request.collection)))?;
///         collection.insert(request.id, request.vector);
///         Ok(())
///     }
///
///     async fn search(&self, request: pb::SearchRequest) -> Result<Vec<pb::SearchResult>, PluginError> {
///         let collections = self.0.lock().unwrap();
///         let collection = collections
///             .get(&request.collection)
///             .ok_or_else(|| PluginError::not_found(format!("no collection {:?}", request.collection)))?;
///         let mut hits: Vec<pb::SearchResult> = collection
///             .iter()
///             .map(|(id, v)| pb::SearchResult {
///                 id: id.clone(),
///                 score: v.iter().zip(&request.vector).map(|(a, b)| a * b).sum(),
///                 ..Default::default()
///             })
///             .collect();
///         hits.sort_by(|a, b| b.score.total_cmp(&a.score));
///         hits.truncate(request.top_k.max(0) as usize);
///         Ok(hits)
///     }
///
///     async fn delete(&self, request: pb::DeleteRequest) -> Result<(), PluginError> {
///         if let Some(collection) = self.0.lock().unwrap().get_mut(&request.collection) {
///             collection.remove(&request.id);
///         }
///         Ok(())
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), hector_plugins_sdk::SdkError> {
///     serve_database(Memory::default()).await
/// }
/// ```
#[tonic::async_trait]
pub trait DatabasePlugin: Lifecycle {
    /// Stores (or replaces) one entry.
    async fn upsert(&self, request: pb::UpsertRequest) -> Result<(), PluginError>;
    /// The `top_k` best matches, best first, among entries whose metadata holds every `filter` pair.
    async fn search(&self, request: pb::SearchRequest) -> Result<Vec<pb::SearchResult>, PluginError>;
    /// Removes one entry.
    async fn delete(&self, request: pb::DeleteRequest) -> Result<(), PluginError>;
    /// Creates a collection of vectors of `vector_size` floats.
    async fn create_collection(&self, request: pb::CreateCollectionRequest) -> Result<(), PluginError>;
    /// Removes a collection and its entries.
    async fn delete_collection(&self, request: pb::DeleteCollectionRequest) -> Result<(), PluginError>;
}

/// Serves `plugin` with Hector's default options until the host stops it (see [`crate::serve`]).
pub async fn serve_database(plugin: impl DatabasePlugin) -> Result<(), SdkError> {
    let service = DatabaseProviderServer::new(Served::new(plugin)).with_large_messages();
    crate::serve(ServeOptions::default(), tonic::transport::Server::builder().add_service(service)).await
}

/// Every write answers the same way: `success: true`, or the error as a status.
macro_rules! written {
    ($result:expr, $response:ident) => {
        answer($result.map(|()| pb::$response { success: true, error: String::new() }))
    };
}

served_service!(DatabaseProvider for DatabasePlugin, "database_provider", {

    async fn upsert(&self, request: Request<pb::UpsertRequest>) -> Result<Response<pb::UpsertResponse>, Status> {
        written!(self.plugin.upsert(request.into_inner()).await, UpsertResponse)
    }

    async fn search(&self, request: Request<pb::SearchRequest>) -> Result<Response<pb::SearchResponse>, Status> {
        let results = self.plugin.search(request.into_inner()).await;
        answer(results.map(|results| pb::SearchResponse { results, error: String::new() }))
    }

    async fn delete(&self, request: Request<pb::DeleteRequest>) -> Result<Response<pb::DeleteResponse>, Status> {
        written!(self.plugin.delete(request.into_inner()).await, DeleteResponse)
    }

    async fn create_collection(
        &self,
        request: Request<pb::CreateCollectionRequest>,
    ) -> Result<Response<pb::CreateCollectionResponse>, Status> {
        written!(self.plugin.create_collection(request.into_inner()).await, CreateCollectionResponse)
    }

    async fn delete_collection(
        &self,
        request: Request<pb::DeleteCollectionRequest>,
    ) -> Result<Response<pb::DeleteCollectionResponse>, Status> {
        written!(self.plugin.delete_collection(request.into_inner()).await, DeleteCollectionResponse)
    }
});
