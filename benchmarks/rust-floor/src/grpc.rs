//! The two native gRPC clients and the workloads run on them.

use crate::stats::Sequential;
use hector_plugins_host::handshake::Address;
use hector_plugins_host::peer::PeerPolicy;
use hector_plugins_host::proto::hector::llm_provider_client::LlmProviderClient;
use hector_plugins_host::proto::hector::stream_chunk::ChunkType;
use hector_plugins_host::proto::hector::{GenerateRequest, Message, StreamChunk};
use hector_plugins_host::transport::{self, ConnectOptions, PluginChannel};
use hyper_util::rt::TokioIo;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Status, Streaming};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The generated `LLMProvider` client over either transport. An enum rather than a generic:
/// the match costs nothing next to an RPC, and spares tonic's long `GrpcService` bounds.
#[derive(Clone)]
pub enum Client {
    /// tonic's own `Channel` (buffer task, reconnects), default settings.
    Tonic(LlmProviderClient<Channel>),
    /// Our `PluginChannel` (hyper's HTTP/2 `SendRequest`), set up as `LlmClient` sets it up.
    Core(LlmProviderClient<PluginChannel>),
}

impl Client {
    /// A plain tonic client, as any Rust program would write it for a unix socket.
    pub async fn tonic(socket: &Path) -> Result<Client, String> {
        let shown = socket.display().to_string();
        let socket = socket.to_path_buf();
        let connector = tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(socket).await?)) }
        });
        let channel = Endpoint::from_static("http://localhost")
            .connect_timeout(CONNECT_TIMEOUT)
            .connect_with_connector(connector)
            .await
            .map_err(|e| format!("tonic: cannot connect to {shown}: {}", chain(&e)))?;
        Ok(Client::Tonic(LlmProviderClient::new(channel)))
    }

    /// What `hector_plugins_host::clients::llm::LlmClient` calls through (the same connection code,
    /// origin and message limits), minus its per-call plugin-state check and error mapping,
    /// which need a `Plugin` this process does not own.
    pub async fn hector_core(socket: &Path) -> Result<Client, String> {
        let address = Address::Unix(socket.to_path_buf());
        // Dropping the "connection closed" receiver is fine: a lost plugin fails the next call.
        // The benchmark started the plugin itself: no peer check.
        let options = ConnectOptions::new(PeerPolicy::Unchecked);
        let (channel, _closed) = transport::connect(&address, &options, CONNECT_TIMEOUT).await?;
        let limit = channel.max_message_bytes();
        let client = LlmProviderClient::with_origin(channel, transport::origin())
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        Ok(Client::Core(client))
    }

    async fn generate(&mut self, request: GenerateRequest) -> Result<(), Status> {
        match self {
            Client::Tonic(client) => client.generate(request).await.map(drop),
            Client::Core(client) => client.generate(request).await.map(drop),
        }
    }

    async fn generate_streaming(&mut self, request: GenerateRequest) -> Result<Streaming<StreamChunk>, Status> {
        let response = match self {
            Client::Tonic(client) => client.generate_streaming(request).await?,
            Client::Core(client) => client.generate_streaming(request).await?,
        };
        Ok(response.into_inner())
    }
}

/// `unix:/path` (as the host prints addresses) or a bare path. Only unix sockets: the raw and
/// tonic floors are built on them, and plugins launched by this host always use one.
pub fn socket_path(address: &str) -> Result<PathBuf, String> {
    if let Some(path) = address.strip_prefix("unix:") {
        return Ok(PathBuf::from(path));
    }
    if address.starts_with("tcp:") {
        return Err(format!("only unix socket addresses are supported, got {address:?}"));
    }
    Ok(PathBuf::from(address))
}

/// The benchmark's unary request: one user message "hi".
fn request(content: &str) -> GenerateRequest {
    let message = Message { role: "user".into(), content: content.into(), ..Default::default() };
    GenerateRequest { messages: vec![message], ..Default::default() }
}

/// tonic's transport error says only "transport error"; the cause is in its sources (a wrapper
/// and the io error it wraps often print the same text: shown once).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

fn failed(what: &str, status: Status) -> String {
    format!("{what} failed: {}: {}", status.code(), status.message())
}

/// `n` awaited `Generate` calls one after another, each timed on its own.
pub async fn sequential(client: &Client, n: usize) -> Result<Sequential, String> {
    let mut client = client.clone();
    let hi = request("hi");
    let mut latencies_ns = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        // Built outside the timed span: the floor is the call, not a clone.
        let request = hi.clone();
        let t0 = Instant::now();
        client.generate(request).await.map_err(|s| failed("Generate", s))?;
        latencies_ns.push(t0.elapsed().as_nanos() as u64);
    }
    let calls_per_s = n as f64 / start.elapsed().as_secs_f64();
    Ok(Sequential { latencies_ns, calls_per_s })
}

/// `n` calls spread over `tasks` tokio tasks, each calling sequentially: total calls/s.
pub async fn concurrent(client: &Client, n: usize, tasks: usize) -> Result<f64, String> {
    let hi = request("hi");
    let start = Instant::now();
    let mut set = JoinSet::new();
    for count in split(n, tasks) {
        let (mut client, hi) = (client.clone(), hi.clone());
        set.spawn(async move {
            for _ in 0..count {
                client.generate(hi.clone()).await?;
            }
            Ok::<(), Status>(())
        });
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(|e| format!("task failed: {e}"))?.map_err(|s| failed("Generate", s))?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// `n` split as evenly as possible over `parts` (the first ones get the remainder).
fn split(n: usize, parts: usize) -> impl Iterator<Item = usize> {
    (0..parts).map(move |i| n / parts + usize::from(i < n % parts))
}

/// What the Python benchmark does before each measurement: sequential, then 16-way calls.
pub async fn warm_up(client: &Client, n: usize) -> Result<(), String> {
    sequential(client, n).await?;
    concurrent(client, n, 16).await.map(drop)
}

/// One `GenerateStreaming` whose reply is exactly `chunks` TEXT chunks then DONE, timed from
/// the call to the end of the stream: TEXT chunks/s. A wrong count is an error.
pub async fn stream(client: &Client, chunks: usize) -> Result<f64, String> {
    // The echo plugin cuts "Echo: <content>" after every space: "Echo: " plus one chunk per word.
    let content = vec!["w"; chunks - 1].join(" ");
    let mut client = client.clone();
    let start = Instant::now();
    let mut stream = client.generate_streaming(request(&content)).await.map_err(|s| failed("GenerateStreaming", s))?;
    let (text, done) = drain(&mut stream).await?;
    let elapsed = start.elapsed();
    if text != chunks || !done {
        return Err(format!(
            "GenerateStreaming sent {text} TEXT chunks (DONE seen: {done}), expected {chunks} then DONE"
        ));
    }
    Ok(text as f64 / elapsed.as_secs_f64())
}

/// Reads a stream to its end: (TEXT chunks seen, whether DONE came last).
async fn drain(stream: &mut Streaming<StreamChunk>) -> Result<(usize, bool), String> {
    let (mut text, mut done) = (0, false);
    while let Some(chunk) = stream.message().await.map_err(|s| failed("GenerateStreaming", s))? {
        if done {
            return Err("GenerateStreaming sent a chunk after DONE".into());
        }
        match ChunkType::try_from(chunk.r#type) {
            Ok(ChunkType::Text) => text += 1,
            Ok(ChunkType::Done) => done = true,
            other => return Err(format!("GenerateStreaming sent an unexpected chunk: {other:?} {:?}", chunk.error)),
        }
    }
    Ok((text, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_spreads_the_remainder() {
        assert_eq!(split(10, 4).collect::<Vec<_>>(), [3, 3, 2, 2]);
        assert_eq!(split(2, 4).sum::<usize>(), 2);
    }

    #[test]
    fn addresses() {
        assert_eq!(socket_path("unix:/tmp/a.sock").unwrap(), PathBuf::from("/tmp/a.sock"));
        assert_eq!(socket_path("/tmp/a.sock").unwrap(), PathBuf::from("/tmp/a.sock"));
        assert!(socket_path("tcp:127.0.0.1:1234").is_err());
    }
}
