//! The lifecycle every service shares, checked on the LLM service, and LLM streams.

use super::*;

fn user(content: &str) -> pb::GenerateRequest {
    pb::GenerateRequest {
        messages: vec![pb::Message { role: "user".into(), content: content.into(), ..Default::default() }],
        tools: vec![],
    }
}

fn text(content: &str) -> pb::StreamChunk {
    pb::StreamChunk { r#type: ChunkType::Text as i32, text: content.into(), ..Default::default() }
}

/// Collects a stream's chunks as `(type, text or error)`, up to its end.
async fn drain(mut stream: tonic::Streaming<pb::StreamChunk>) -> Vec<(ChunkType, String)> {
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.message().await.unwrap() {
        let kind = ChunkType::try_from(chunk.r#type).unwrap();
        chunks.push((kind, if kind == ChunkType::Error { chunk.error } else { chunk.text }));
    }
    chunks
}

// ---- LLM: the lifecycle, and streams ---------------------------------------------------------

/// An LLM whose answers depend on the last message: `call` adds a tool call, `fail` fails;
/// `stream_*` messages pick a hand-written stream.
struct Llm;

#[tonic::async_trait]
impl Lifecycle for Llm {
    async fn initialize(&self, config: Config) -> Result<(), PluginError> {
        match config.get("model").map(String::as_str) {
            Some("missing") => Err(PluginError::invalid_argument("model \"missing\" is not served here")),
            _ => Ok(()),
        }
    }

    async fn health(&self) -> Result<String, PluginError> {
        Ok("warm".into())
    }
}

#[tonic::async_trait]
impl LlmPlugin for Llm {
    async fn generate(&self, request: pb::GenerateRequest) -> Result<pb::GenerateResponse, PluginError> {
        let last = request.messages.last().map(|m| m.content.clone()).unwrap_or_default();
        if last == "fail" {
            return Err(PluginError::with_code(Code::ResourceExhausted, "quota used up"));
        }
        let tool_calls = if last == "call" {
            vec![pb::ToolCall { id: "c1".into(), name: "add".into(), arguments_json: "{}".into() }]
        } else {
            vec![]
        };
        Ok(pb::GenerateResponse { text: format!("Echo: {last}"), tool_calls, tokens_used: 7 })
    }

    async fn generate_stream(
        &self,
        request: pb::GenerateRequest,
    ) -> Result<PluginStream<pb::StreamChunk>, PluginError> {
        let last = request.messages.last().map(|m| m.content.clone()).unwrap_or_default();
        let items: Vec<Result<pb::StreamChunk, PluginError>> = match last.as_str() {
            "stream_without_done" => vec![Ok(text("a ")), Ok(text("b"))],
            "stream_failing" => vec![Ok(text("a ")), Err(PluginError::new("model crashed")), Ok(text("never sent"))],
            "stream_after_done" => vec![
                Ok(text("a")),
                Ok(pb::StreamChunk { r#type: ChunkType::Done as i32, tokens_used: 1, ..Default::default() }),
                Ok(text("after the end")),
            ],
            "stream_refused" => return Err(PluginError::invalid_argument("no streaming for this request")),
            other => vec![Ok(text(other))],
        };
        Ok(Box::pin(futures_util::stream::iter(items)))
    }

    async fn model_info(&self) -> Result<pb::ModelInfo, PluginError> {
        Err(PluginError::not_found("no model loaded"))
    }
}

/// The same, keeping the trait's default `generate_stream`.
struct PlainLlm;

impl Lifecycle for PlainLlm {}

#[tonic::async_trait]
impl LlmPlugin for PlainLlm {
    async fn generate(&self, request: pb::GenerateRequest) -> Result<pb::GenerateResponse, PluginError> {
        Llm.generate(request).await
    }

    async fn model_info(&self) -> Result<pb::ModelInfo, PluginError> {
        Ok(pb::ModelInfo { model_name: "plain".into(), ..Default::default() })
    }
}

async fn llm_client(plugin: impl LlmPlugin) -> (tempfile::TempDir, LlmProviderClient<Channel>) {
    let (dir, channel) = start(Server::builder().add_service(LlmProviderServer::new(Served::new(plugin)))).await;
    (dir, LlmProviderClient::new(channel))
}

async fn status(client: &mut LlmProviderClient<Channel>) -> String {
    client.get_status(pb::StatusRequest {}).await.unwrap().into_inner().status
}

#[tokio::test]
async fn initialize_and_status_follow_the_lifecycle() {
    let (_dir, mut client) = llm_client(Llm).await;
    assert_eq!(status(&mut client).await, "loading");

    let config = HashMap::from([("model".to_string(), "missing".to_string())]);
    let refused = client.initialize(pb::InitializeRequest { config }).await.unwrap().into_inner();
    assert!(!refused.success);
    assert_eq!(refused.error, "model \"missing\" is not served here");
    assert_eq!(status(&mut client).await, "error");

    let accepted = client.initialize(pb::InitializeRequest::default()).await.unwrap().into_inner();
    assert!(accepted.success && accepted.error.is_empty());
    assert_eq!(status(&mut client).await, "ready");

    let health = client.health(pb::HealthRequest {}).await.unwrap().into_inner();
    assert!(health.healthy);
    assert_eq!(health.message, "warm");

    assert!(client.shutdown(pb::ShutdownRequest {}).await.unwrap().into_inner().success);
    assert_eq!(status(&mut client).await, "shutdown");
}

#[tokio::test]
async fn an_empty_manifest_gets_the_type_and_protocol() {
    let (_dir, mut client) = llm_client(Llm).await;
    let manifest = client.get_manifest(pb::ManifestRequest {}).await.unwrap().into_inner();
    assert_eq!((manifest.r#type.as_str(), manifest.protocol.as_str()), ("llm_provider", "grpc"));
    assert!(manifest.name.is_empty());
}

#[tokio::test]
async fn plugin_errors_keep_their_grpc_code() {
    let (_dir, mut client) = llm_client(Llm).await;
    let failed = client.generate(user("fail")).await.unwrap_err();
    assert_eq!((failed.code(), failed.message()), (Code::ResourceExhausted, "quota used up"));
    let missing = client.get_model_info(pb::Empty {}).await.unwrap_err();
    assert_eq!((missing.code(), missing.message()), (Code::NotFound, "no model loaded"));
    // An error before the stream starts is the call's status, not a chunk.
    let refused = client.generate_streaming(user("stream_refused")).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn the_default_stream_sends_generates_answer_then_done() {
    let (_dir, mut client) = llm_client(PlainLlm).await;
    let mut stream = client.generate_streaming(user("call")).await.unwrap().into_inner();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.message().await.unwrap() {
        chunks.push(chunk);
    }
    let kinds: Vec<ChunkType> = chunks.iter().map(|c| ChunkType::try_from(c.r#type).unwrap()).collect();
    assert_eq!(kinds, [ChunkType::Text, ChunkType::ToolCall, ChunkType::Done]);
    assert_eq!(chunks[0].text, "Echo: call");
    assert_eq!(chunks[1].tool_call.as_ref().unwrap().id, "c1");
    assert_eq!(chunks[1].tokens_used, 7, "the token count rides on the last chunk of the answer");

    // A plugin's error from generate stops the default stream before it starts.
    let failed = client.generate_streaming(user("fail")).await.unwrap_err();
    assert_eq!(failed.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn a_stream_ends_with_exactly_one_done_or_error_chunk() {
    let (_dir, client) = llm_client(Llm).await;
    let stream = |content: &str| {
        let mut client = client.clone();
        let request = user(content);
        async move { drain(client.generate_streaming(request).await.unwrap().into_inner()).await }
    };

    let without_done = stream("stream_without_done").await;
    assert_eq!(
        without_done,
        [(ChunkType::Text, "a ".into()), (ChunkType::Text, "b".into()), (ChunkType::Done, String::new())]
    );

    let failing = stream("stream_failing").await;
    assert_eq!(failing, [(ChunkType::Text, "a ".into()), (ChunkType::Error, "model crashed".into())]);

    let after_done = stream("stream_after_done").await;
    assert_eq!(after_done, [(ChunkType::Text, "a".into()), (ChunkType::Done, String::new())]);
}

// ---- Embedders ---------------------------------------------------------------------------

// ---- State across restarts (docs/protocol.md §7.2) -------------------------------------------

/// Keeps a counter as its state; refuses a state that is not UTF-8 digits.
struct Stateful(std::sync::atomic::AtomicU64);

#[tonic::async_trait]
impl Lifecycle for Stateful {
    async fn get_state(&self) -> Result<Option<Vec<u8>>, PluginError> {
        Ok(Some(self.0.load(std::sync::atomic::Ordering::SeqCst).to_string().into_bytes()))
    }

    async fn restore_state(&self, state: Vec<u8>) -> Result<(), PluginError> {
        let count = String::from_utf8(state).ok().and_then(|s| s.parse().ok());
        let count = count.ok_or_else(|| PluginError::invalid_argument("the state is not a count"))?;
        self.0.store(count, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[tonic::async_trait]
impl LlmPlugin for Stateful {
    async fn generate(&self, _request: pb::GenerateRequest) -> Result<pb::GenerateResponse, PluginError> {
        let seen = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        Ok(pb::GenerateResponse { text: seen.to_string(), ..Default::default() })
    }

    async fn model_info(&self) -> Result<pb::ModelInfo, PluginError> {
        Ok(pb::ModelInfo::default())
    }
}

#[tokio::test]
async fn state_goes_out_with_get_state_and_back_with_restore_state() {
    let served = |start| LlmProviderServer::new(Served::new(Stateful(std::sync::atomic::AtomicU64::new(start))));
    let (_dir, first) = start(Server::builder().add_service(served(0))).await;
    let mut first = LlmProviderClient::new(first);
    first.generate(user("a")).await.unwrap();
    first.generate(user("b")).await.unwrap();
    let state = first.get_state(pb::GetStateRequest {}).await.unwrap().into_inner();
    assert!(state.has_state);
    assert_eq!(state.state, b"2");

    let (_dir2, second) = start(Server::builder().add_service(served(0))).await;
    let mut second = LlmProviderClient::new(second);
    let restored = second.restore_state(pb::RestoreStateRequest { state: state.state }).await.unwrap();
    assert!(restored.into_inner().success);
    assert_eq!(second.generate(user("c")).await.unwrap().into_inner().text, "3");
    let refused = second.restore_state(pb::RestoreStateRequest { state: b"x".to_vec() }).await.unwrap();
    assert_eq!(refused.into_inner().error, "the state is not a count");
}

#[tokio::test]
async fn a_plugin_without_state_says_it_has_none() {
    let (_dir, channel) = start(Server::builder().add_service(LlmProviderServer::new(Served::new(Llm)))).await;
    let answer = LlmProviderClient::new(channel).get_state(pb::GetStateRequest {}).await.unwrap().into_inner();
    assert!(!answer.has_state && answer.state.is_empty());
}
