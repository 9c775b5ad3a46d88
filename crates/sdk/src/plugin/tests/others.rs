//! Embedders, databases, tool providers and reasoning strategies.

use super::*;

/// Each text's vector is `[its length, 1]`; only `embed` is written.
struct Lengths;

impl Lifecycle for Lengths {
    fn manifest(&self) -> pb::ManifestResponse {
        pb::ManifestResponse { name: "lengths".into(), protocol: "netrpc".into(), ..Default::default() }
    }
}

#[tonic::async_trait]
impl EmbedderPlugin for Lengths {
    async fn embed(&self, text: String) -> Result<Vec<f32>, PluginError> {
        if text.is_empty() {
            return Err(PluginError::invalid_argument("empty text"));
        }
        Ok(vec![text.len() as f32, 1.0])
    }

    async fn info(&self) -> Result<pb::EmbedderInfo, PluginError> {
        Ok(pb::EmbedderInfo { model_name: "lengths".into(), dimension: 2 })
    }
}

/// A batch embedder that gets its answers wrong: `short` loses a vector, `ragged` varies the length.
struct Sloppy;

impl Lifecycle for Sloppy {}

#[tonic::async_trait]
impl EmbedderPlugin for Sloppy {
    async fn embed(&self, _text: String) -> Result<Vec<f32>, PluginError> {
        Ok(vec![0.0])
    }

    async fn embed_batch(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, PluginError> {
        Ok(match texts[0].as_str() {
            "short" => vec![vec![1.0]; texts.len() - 1],
            _ => texts.iter().map(|t| vec![1.0; t.len()]).collect(),
        })
    }

    async fn info(&self) -> Result<pb::EmbedderInfo, PluginError> {
        Ok(pb::EmbedderInfo::default())
    }
}

async fn embedder_client(plugin: impl EmbedderPlugin) -> (tempfile::TempDir, EmbedderProviderClient<Channel>) {
    let (dir, channel) = start(Server::builder().add_service(EmbedderProviderServer::new(Served::new(plugin)))).await;
    (dir, EmbedderProviderClient::new(channel))
}

fn batch(texts: &[&str]) -> pb::EmbedBatchRequest {
    pb::EmbedBatchRequest { texts: texts.iter().map(|t| t.to_string()).collect() }
}

#[tokio::test]
async fn the_default_batch_embeds_each_text_in_order() {
    let (_dir, mut client) = embedder_client(Lengths).await;
    let answer = client.embed_batch(batch(&["a", "abc", "ab"])).await.unwrap().into_inner();
    assert_eq!(answer.dimension, 2);
    assert_eq!(answer.vectors, [1.0, 1.0, 3.0, 1.0, 2.0, 1.0]);
    let refused = client.embed_batch(batch(&["a", ""])).await.unwrap_err();
    assert_eq!((refused.code(), refused.message()), (Code::InvalidArgument, "empty text"));

    let single = client.embed(pb::EmbedRequest { text: "abcd".into() }).await.unwrap().into_inner();
    assert_eq!(single.vector, [4.0, 1.0]);

    // A plugin's own manifest fields are kept; only empty ones are filled.
    let manifest = client.get_manifest(pb::ManifestRequest {}).await.unwrap().into_inner();
    assert_eq!(
        (manifest.name.as_str(), manifest.r#type.as_str(), manifest.protocol.as_str()),
        ("lengths", "embedder_provider", "netrpc")
    );
}

#[tokio::test]
async fn a_batch_of_the_wrong_shape_is_refused() {
    let (_dir, mut client) = embedder_client(Sloppy).await;
    let short = client.embed_batch(batch(&["short", "b", "c"])).await.unwrap_err();
    assert_eq!(short.code(), Code::Unknown);
    assert_eq!(short.message(), "embed_batch returned 2 vectors for 3 texts");

    let ragged = client.embed_batch(batch(&["ab", "ab", "abc"])).await.unwrap_err();
    assert_eq!(ragged.code(), Code::Unknown);
    assert!(ragged.message().contains("text 0 has 2 floats, text 2 has 3"), "{}", ragged.message());
}

// ---- Vector databases ----------------------------------------------------------------------

/// Knows one collection, `docs`, and stores nothing.
struct OneCollection;

impl Lifecycle for OneCollection {}

impl OneCollection {
    fn check(collection: &str) -> Result<(), PluginError> {
        match collection {
            "docs" => Ok(()),
            other => Err(PluginError::not_found(format!("no collection {other:?}"))),
        }
    }
}

#[tonic::async_trait]
impl DatabasePlugin for OneCollection {
    async fn upsert(&self, request: pb::UpsertRequest) -> Result<(), PluginError> {
        Self::check(&request.collection)
    }

    async fn search(&self, request: pb::SearchRequest) -> Result<Vec<pb::SearchResult>, PluginError> {
        Self::check(&request.collection)?;
        Ok(vec![pb::SearchResult { id: "a".into(), score: 0.5, ..Default::default() }])
    }

    async fn delete(&self, request: pb::DeleteRequest) -> Result<(), PluginError> {
        Self::check(&request.collection)
    }

    async fn create_collection(&self, _request: pb::CreateCollectionRequest) -> Result<(), PluginError> {
        Err(PluginError::with_code(Code::PermissionDenied, "read-only"))
    }

    async fn delete_collection(&self, request: pb::DeleteCollectionRequest) -> Result<(), PluginError> {
        Self::check(&request.collection)
    }
}

#[tokio::test]
async fn database_writes_answer_success_and_errors_become_statuses() {
    let (_dir, channel) =
        start(Server::builder().add_service(DatabaseProviderServer::new(Served::new(OneCollection)))).await;
    let mut client = DatabaseProviderClient::new(channel);

    let upsert = pb::UpsertRequest { collection: "docs".into(), id: "a".into(), ..Default::default() };
    let written = client.upsert(upsert).await.unwrap().into_inner();
    assert!(written.success && written.error.is_empty());
    let found = client.search(pb::SearchRequest { collection: "docs".into(), ..Default::default() }).await.unwrap();
    assert_eq!(found.into_inner().results[0].id, "a");

    let missing = client.search(pb::SearchRequest { collection: "nope".into(), ..Default::default() }).await;
    let missing = missing.unwrap_err();
    assert_eq!((missing.code(), missing.message()), (Code::NotFound, "no collection \"nope\""));
    let refused = client.create_collection(pb::CreateCollectionRequest::default()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    let manifest = client.get_manifest(pb::ManifestRequest {}).await.unwrap().into_inner();
    assert_eq!(manifest.r#type, "database_provider");
}

// ---- Tool providers ------------------------------------------------------------------------

/// `echo` answers its arguments, without a call id; `own_id` sets one; `progress` streams.
struct Tools;

impl Lifecycle for Tools {}

#[tonic::async_trait]
impl ToolPlugin for Tools {
    async fn list_tools(&self) -> Result<Vec<pb::ToolDefinition>, PluginError> {
        Ok(vec![pb::ToolDefinition { name: "echo".into(), ..Default::default() }])
    }

    async fn execute_tool(&self, request: pb::ToolRequest) -> Result<pb::ToolResult, PluginError> {
        match request.name.as_str() {
            "echo" => Ok(pb::ToolResult { success: true, content: request.arguments_json, ..Default::default() }),
            "own_id" => Ok(pb::ToolResult { success: true, call_id: "mine".into(), ..Default::default() }),
            other => Err(PluginError::not_found(format!("no tool {other:?}"))),
        }
    }

    async fn execute_tool_stream(
        &self,
        request: pb::ToolRequest,
    ) -> Result<PluginStream<pb::ToolProgress>, PluginError> {
        if request.name != "progress" {
            let result = self.execute_tool(request).await?;
            let last = pb::ToolProgress { done: true, result: Some(result), ..Default::default() };
            return Ok(Box::pin(futures_util::stream::iter([Ok(last)])));
        }
        let items = [
            Ok(pb::ToolProgress { message: "half way".into(), fraction: Some(0.5), ..Default::default() }),
            Ok(pb::ToolProgress {
                done: true,
                result: Some(pb::ToolResult { success: true, ..Default::default() }),
                ..Default::default()
            }),
        ];
        Ok(Box::pin(futures_util::stream::iter(items)))
    }
}

/// The same tools with the trait's default stream.
struct PlainTools;

impl Lifecycle for PlainTools {}

#[tonic::async_trait]
impl ToolPlugin for PlainTools {
    async fn list_tools(&self) -> Result<Vec<pb::ToolDefinition>, PluginError> {
        Tools.list_tools().await
    }

    async fn execute_tool(&self, request: pb::ToolRequest) -> Result<pb::ToolResult, PluginError> {
        Tools.execute_tool(request).await
    }
}

async fn tools_client(plugin: impl ToolPlugin) -> (tempfile::TempDir, ToolProviderClient<Channel>) {
    let (dir, channel) = start(Server::builder().add_service(ToolProviderServer::new(Served::new(plugin)))).await;
    (dir, ToolProviderClient::new(channel))
}

fn tool(name: &str, call_id: &str) -> pb::ToolRequest {
    pb::ToolRequest { name: name.into(), arguments_json: "{\"x\":1}".into(), call_id: call_id.into() }
}

async fn progress(client: &mut ToolProviderClient<Channel>, request: pb::ToolRequest) -> Vec<pb::ToolProgress> {
    let mut stream = client.execute_tool_streaming(request).await.unwrap().into_inner();
    let mut items = Vec::new();
    while let Some(item) = stream.message().await.unwrap() {
        items.push(item);
    }
    items
}

#[tokio::test]
async fn the_call_id_is_echoed_unary_and_streaming() {
    let (_dir, mut client) = tools_client(Tools).await;
    let result = client.execute_tool(tool("echo", "call-7")).await.unwrap().into_inner();
    assert_eq!((result.call_id.as_str(), result.content.as_str()), ("call-7", "{\"x\":1}"));
    let own = client.execute_tool(tool("own_id", "call-8")).await.unwrap().into_inner();
    assert_eq!(own.call_id, "mine", "a result's own call id is kept");

    let items = progress(&mut client, tool("progress", "call-9")).await;
    assert_eq!(items.len(), 2);
    assert_eq!((items[0].message.as_str(), items[0].result.is_none()), ("half way", true));
    assert!(items[1].done);
    assert_eq!(items[1].result.as_ref().unwrap().call_id, "call-9");

    let missing = client.execute_tool(tool("nope", "call-10")).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(client.get_manifest(pb::ManifestRequest {}).await.unwrap().into_inner().r#type, "tool_provider");
}

#[tokio::test]
async fn the_default_tool_stream_is_one_done_item_with_the_call_id() {
    let (_dir, mut client) = tools_client(PlainTools).await;
    let items = progress(&mut client, tool("echo", "call-1")).await;
    assert_eq!(items.len(), 1);
    assert!(items[0].done);
    let result = items[0].result.as_ref().unwrap();
    assert_eq!((result.call_id.as_str(), result.content.as_str()), ("call-1", "{\"x\":1}"));

    let missing = client.execute_tool_streaming(tool("nope", "call-2")).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

// ---- Reasoning strategies ------------------------------------------------------------------

/// Only the required hooks.
struct Stopper;

impl Lifecycle for Stopper {}

#[tonic::async_trait]
impl ReasoningPlugin for Stopper {
    async fn info(&self) -> Result<pb::StrategyInfo, PluginError> {
        Ok(pb::StrategyInfo { name: "stopper".into(), ..Default::default() })
    }

    async fn should_stop(&self, state: pb::ReasoningState) -> Result<pb::StopDecision, PluginError> {
        if state.iteration < 1 {
            return Err(PluginError::invalid_argument("iteration must be 1 or more"));
        }
        Ok(pb::StopDecision { stop: state.tool_calls.is_empty(), ..Default::default() })
    }
}

#[tokio::test]
async fn reasoning_defaults_keep_the_custom_state() {
    let (_dir, channel) =
        start(Server::builder().add_service(ReasoningStrategyServer::new(Served::new(Stopper)))).await;
    let mut client = ReasoningStrategyClient::new(channel);
    let state = pb::ReasoningState { iteration: 1, custom_state_json: "{\"n\":2}".into(), ..Default::default() };

    let plan = client.prepare_iteration(state.clone()).await.unwrap().into_inner();
    assert_eq!(plan.custom_state_json, "{\"n\":2}");
    assert!(plan.inject_messages.is_empty());
    let update = client.after_iteration(state.clone()).await.unwrap().into_inner();
    assert_eq!(update.custom_state_json, "{\"n\":2}");
    let injection = client.get_context_injection(state.clone()).await.unwrap().into_inner();
    assert_eq!(injection, pb::ContextInjection::default());
    assert_eq!(client.get_prompt_slots(pb::Empty {}).await.unwrap().into_inner(), pb::PromptSlots::default());

    assert!(client.should_stop(state).await.unwrap().into_inner().stop);
    let bad = client.should_stop(pb::ReasoningState::default()).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(client.get_strategy_info(pb::Empty {}).await.unwrap().into_inner().name, "stopper");
    let manifest = client.get_manifest(pb::ManifestRequest {}).await.unwrap().into_inner();
    assert_eq!((manifest.r#type.as_str(), manifest.protocol.as_str()), ("reasoning_strategy", "grpc"));
}
