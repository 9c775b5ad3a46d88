//! `echo-llm-rust`: a Hector LLM plugin written with the hector-plugins SDK.
//!
//! It behaves like its Go twin (`examples/go/echo-llm`), so host tests can run against either:
//!
//! - `Generate`: text `Echo: <content of the last user message>` (role `user` or `ROLE_USER`, any
//!   case), `tokens_used` = number of whitespace-separated words of the text.
//! - Tool calls: when the request carries tools and the last user message is
//!   `call <name> [<json arguments>]`, the reply is one `ToolCall{id "call_1", name, arguments_json
//!   (or "{}")}` and text `""`.
//! - `GenerateStreaming`: the same text cut after every space into TEXT chunks (the chunks
//!   concatenate to the `Generate` text), then a TOOL_CALL chunk when a tool call applies, then
//!   DONE with `tokens_used`. A host that goes away mid-stream is logged as
//!   `stream cancelled by host`.
//!
//! Config keys (all optional):
//!
//! - `stream_delay_ms`: sleep that long before each streamed chunk (unparsable = 0).
//! - `flood_bytes`: before `Initialize` returns, write that many bytes of text lines to stdout and
//!   to stderr, so tests can check that a host keeps draining both pipes after the handshake.
//!
//! Built with `cargo build --release -p echo-llm-rust`; launched by a host, never by hand.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hector_plugins_sdk::proto::hector::stream_chunk::ChunkType;
use hector_plugins_sdk::proto::hector::{
    GenerateRequest, GenerateResponse, ManifestResponse, ModelInfo, StreamChunk, ToolCall,
};
use hector_plugins_sdk::{self as sdk, json, Lifecycle, LlmPlugin, Logger, PluginError, PluginStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

const NAME: &str = "echo-llm-rust";
const VERSION: &str = "1.0.0";

struct EchoLlm {
    log: Logger,
    /// The config of the last `Initialize`.
    config: Mutex<HashMap<String, String>>,
}

impl EchoLlm {
    fn new() -> Self {
        Self { log: Logger::named("echo-llm"), config: Mutex::new(HashMap::new()) }
    }

    fn config_value(&self, key: &str) -> Option<String> {
        self.config.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    /// `stream_delay_ms`, read at call time; missing or unparsable means no delay.
    fn stream_delay(&self) -> Duration {
        let ms = self.config_value("stream_delay_ms").and_then(|v| v.trim().parse::<u64>().ok());
        Duration::from_millis(ms.unwrap_or(0))
    }

    /// `log_level: debug` (or `trace`) in the config turns on per-call log lines.
    fn debug_logging(&self) -> bool {
        matches!(self.config_value("log_level").as_deref(), Some("debug" | "trace"))
    }
}

/// What a request gets back: the reply text, a tool call if one applies, and the token count.
#[derive(Debug, Clone, PartialEq)]
struct Reply {
    text: String,
    tool_call: Option<ToolCall>,
    tokens_used: i32,
}

fn is_user(role: &str) -> bool {
    role.eq_ignore_ascii_case("user") || role.eq_ignore_ascii_case("ROLE_USER")
}

/// The echo rule shared by `Generate` and `GenerateStreaming`.
fn reply_to(request: &GenerateRequest) -> Reply {
    let last_user = request.messages.iter().rev().find(|m| is_user(&m.role)).map(|m| m.content.as_str()).unwrap_or("");

    let tool_call = if request.tools.is_empty() { None } else { parse_tool_call(last_user) };
    let text = if tool_call.is_some() { String::new() } else { format!("Echo: {last_user}") };
    let tokens_used = i32::try_from(text.split_whitespace().count()).unwrap_or(i32::MAX);
    Reply { text, tool_call, tokens_used }
}

/// `call <name> [arguments json]` → a tool call; arguments default to `{}`.
fn parse_tool_call(content: &str) -> Option<ToolCall> {
    let rest = content.strip_prefix("call ")?.trim_start();
    let (name, arguments) = match rest.find(char::is_whitespace) {
        Some(at) => (&rest[..at], rest[at..].trim()),
        None => (rest, ""),
    };
    if name.is_empty() {
        return None;
    }
    Some(ToolCall {
        id: "call_1".into(),
        name: name.into(),
        arguments_json: if arguments.is_empty() { "{}".into() } else { arguments.into() },
    })
}

/// Cuts `text` after every space, so the pieces concatenate back to `text` exactly
/// (`"Echo: hi there"` → `"Echo: "`, `"hi "`, `"there"`), exactly as the Go twin does.
fn stream_pieces(text: &str) -> Vec<&str> {
    text.split_inclusive(' ').collect()
}

/// `flood_bytes`: absent means 0; anything but a non-negative integer is refused.
fn flood_setting(config: &HashMap<String, String>) -> Result<u64, String> {
    match config.get("flood_bytes") {
        None => Ok(0),
        Some(raw) => {
            raw.trim().parse::<u64>().map_err(|_| format!("flood_bytes must be a non-negative integer, got {raw:?}"))
        }
    }
}

/// Floods stdout and stderr at the same time (one blocked pipe must not hold up the other) and
/// waits for both. Plain threads, not tokio's blocking pool: if the host never drains a pipe the
/// writer stays blocked, and it must not keep the process alive at exit.
async fn flood_both(bytes: u64) {
    let (out_done, out_wait) = tokio::sync::oneshot::channel::<()>();
    let (err_done, err_wait) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        flood(std::io::stdout(), "stdout", bytes);
        let _ = out_done.send(());
    });
    std::thread::spawn(move || {
        flood(std::io::stderr(), "stderr", bytes);
        let _ = err_done.send(());
    });
    let _ = out_wait.await;
    let _ = err_wait.await;
}

/// Writes exactly `bytes` bytes of numbered, newline-terminated text lines to `out`, in writes
/// of about 64 KiB; stops quietly if the pipe closes.
fn flood(mut out: impl std::io::Write, stream: &str, bytes: u64) {
    const LINE_LEN: u64 = 100;
    let mut left = bytes;
    let mut line_no = 0u64;
    let mut buf = Vec::with_capacity(64 * 1024 + LINE_LEN as usize);
    while left > 0 {
        let len = LINE_LEN.min(left) as usize;
        let mut line = format!("{stream} flood line {line_no:07} ").into_bytes();
        line.resize(len.max(line.len()), b'x');
        line.truncate(len);
        line[len - 1] = b'\n';
        buf.extend_from_slice(&line);
        left -= len as u64;
        line_no += 1;
        if buf.len() >= 64 * 1024 || left == 0 {
            if out.write_all(&buf).is_err() {
                return;
            }
            buf.clear();
        }
    }
    let _ = out.flush();
}

#[tonic::async_trait]
impl Lifecycle for EchoLlm {
    async fn initialize(&self, config: HashMap<String, String>) -> Result<(), PluginError> {
        let mut keys: Vec<&str> = config.keys().map(String::as_str).collect();
        keys.sort_unstable();
        self.log.info("echo-llm initialized", &[("config_keys", json!(keys))]);

        let flood_bytes = flood_setting(&config);
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = config;
        let flood_bytes = flood_bytes.map_err(PluginError::invalid_argument)?;
        if flood_bytes > 0 {
            let started = Instant::now();
            flood_both(flood_bytes).await;
            self.log.info(
                "flood done",
                &[
                    ("bytes_per_output", json!(flood_bytes)),
                    ("outputs", json!(2)),
                    ("elapsed_ms", json!(started.elapsed().as_millis() as u64)),
                ],
            );
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), PluginError> {
        self.log.info("echo-llm shutdown requested", &[]);
        Ok(())
    }

    async fn health(&self) -> Result<String, PluginError> {
        Ok("ok".into())
    }

    fn manifest(&self) -> ManifestResponse {
        ManifestResponse {
            name: NAME.into(),
            version: VERSION.into(),
            author: "hector-plugins".into(),
            description: "Echo LLM plugin written in Rust with the hector-plugins SDK".into(),
            r#type: "llm_provider".into(),
            protocol: "grpc".into(),
            hector_version: ">=0.1.0".into(),
            capabilities: HashMap::from([("streaming".to_string(), "true".to_string())]),
        }
    }
}

#[tonic::async_trait]
impl LlmPlugin for EchoLlm {
    async fn generate(&self, request: GenerateRequest) -> Result<GenerateResponse, PluginError> {
        let reply = reply_to(&request);
        // Per-call lines only on request: each costs the host a log record per call.
        if self.debug_logging() {
            self.log.debug(
                "generate",
                &[
                    ("messages", json!(request.messages.len())),
                    ("tools", json!(request.tools.len())),
                    ("tool_call", json!(reply.tool_call.is_some())),
                ],
            );
        }
        Ok(GenerateResponse {
            text: reply.text,
            tool_calls: reply.tool_call.into_iter().collect(),
            tokens_used: reply.tokens_used,
        })
    }

    async fn generate_stream(&self, request: GenerateRequest) -> Result<PluginStream<StreamChunk>, PluginError> {
        let reply = reply_to(&request);
        let delay = self.stream_delay();
        let log = self.log.clone();

        let mut chunks: Vec<StreamChunk> = stream_pieces(&reply.text)
            .into_iter()
            .map(|piece| StreamChunk { r#type: ChunkType::Text as i32, text: piece.into(), ..Default::default() })
            .collect();
        if let Some(call) = reply.tool_call {
            chunks.push(StreamChunk {
                r#type: ChunkType::ToolCall as i32,
                tool_call: Some(call),
                ..Default::default()
            });
        }
        // Our own DONE, which carries the token count (the SDK's would not).
        chunks.push(StreamChunk {
            r#type: ChunkType::Done as i32,
            tokens_used: reply.tokens_used,
            ..Default::default()
        });

        // The SDK drops the stream, hence the receiver, when the host cancels or disconnects;
        // the producer notices through a failed send or `closed()`.
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            for (sent, chunk) in chunks.into_iter().enumerate() {
                let cancelled = || log.info("stream cancelled by host", &[("sent_chunks", json!(sent))]);
                if !delay.is_zero() {
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = tx.closed() => return cancelled(),
                    }
                }
                if tx.send(Ok(chunk)).await.is_err() {
                    return cancelled();
                }
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }

    async fn model_info(&self) -> Result<ModelInfo, PluginError> {
        Ok(ModelInfo { model_name: "echo-llm-v1.0".into(), max_tokens: 4096, temperature: 0.7 })
    }
}

#[tokio::main]
async fn main() -> Result<(), sdk::SdkError> {
    sdk::serve_llm(EchoLlm::new()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hector_plugins_sdk::proto::hector::{Message, ToolDefinition};

    fn msg(role: &str, content: &str) -> Message {
        Message { role: role.into(), content: content.into(), ..Default::default() }
    }

    fn tool() -> ToolDefinition {
        ToolDefinition { name: "get_weather".into(), ..Default::default() }
    }

    #[test]
    fn echoes_the_last_user_message() {
        let req = GenerateRequest {
            messages: vec![
                msg("system", "s"),
                msg("user", "first"),
                msg("role_user", "hi there"),
                msg("assistant", "a"),
            ],
            tools: vec![],
        };
        let reply = reply_to(&req);
        assert_eq!(reply.text, "Echo: hi there");
        assert_eq!(reply.tokens_used, 3);
        assert_eq!(reply.tool_call, None);
    }

    #[test]
    fn no_user_message() {
        let reply = reply_to(&GenerateRequest::default());
        assert_eq!(reply.text, "Echo: ");
        assert_eq!(reply.tokens_used, 1);
    }

    #[test]
    fn tool_calls_need_tools() {
        let mut req =
            GenerateRequest { messages: vec![msg("user", r#"call get_weather {"city":"Paris"}"#)], tools: vec![] };
        assert_eq!(reply_to(&req).text, r#"Echo: call get_weather {"city":"Paris"}"#);

        req.tools.push(tool());
        let reply = reply_to(&req);
        assert_eq!(reply.text, "");
        assert_eq!(reply.tokens_used, 0);
        let call = reply.tool_call.unwrap();
        assert_eq!((call.id.as_str(), call.name.as_str()), ("call_1", "get_weather"));
        assert_eq!(call.arguments_json, r#"{"city":"Paris"}"#);

        req.messages[0].content = "call now".into();
        assert_eq!(reply_to(&req).tool_call.unwrap().arguments_json, "{}");
        req.messages[0].content = "call ".into();
        assert_eq!(reply_to(&req).tool_call, None);
    }

    #[test]
    fn pieces_concatenate_to_the_text() {
        assert_eq!(stream_pieces("Echo: hi there"), vec!["Echo: ", "hi ", "there"]);
        assert_eq!(stream_pieces("Echo: "), vec!["Echo: "]);
        assert_eq!(stream_pieces("Echo: a  b"), vec!["Echo: ", "a ", " ", "b"]);
        assert_eq!(stream_pieces(""), Vec::<&str>::new());
        for text in ["Echo: a  b\n c ", "Echo: é ü", "Echo: x"] {
            assert_eq!(stream_pieces(text).concat(), text);
        }
    }

    #[test]
    fn flood_writes_exactly_the_requested_bytes() {
        for bytes in [0u64, 1, 10, 1000, 4096] {
            let mut out = Vec::new();
            flood(&mut out, "stdout", bytes);
            assert_eq!(out.len() as u64, bytes);
            if bytes > 0 {
                assert_eq!(out.last(), Some(&b'\n'));
            }
            assert!(out.split_inclusive(|b| *b == b'\n').all(|line| line.len() <= 100));
        }
    }

    #[test]
    fn flood_setting_values() {
        let config = |v: &str| HashMap::from([("flood_bytes".to_string(), v.to_string())]);
        assert_eq!(flood_setting(&HashMap::new()), Ok(0));
        assert_eq!(flood_setting(&config(" 25 ")), Ok(25));
        assert_eq!(flood_setting(&config("x")), Err("flood_bytes must be a non-negative integer, got \"x\"".into()));
        assert!(flood_setting(&config("-1")).is_err());
    }

    #[test]
    fn stream_delay_is_lenient() {
        let llm = EchoLlm::new();
        assert_eq!(llm.stream_delay(), Duration::ZERO);
        llm.config.lock().unwrap().insert("stream_delay_ms".into(), "fast".into());
        assert_eq!(llm.stream_delay(), Duration::ZERO);
        llm.config.lock().unwrap().insert("stream_delay_ms".into(), "15".into());
        assert_eq!(llm.stream_delay(), Duration::from_millis(15));
    }
}
