//! Typed clients, one per service. Each holds its plugin, checks it is callable, and maps
//! failures to [`crate::Error`] (a crash becomes `Crashed`, never a hang). Every call has a
//! deadline: the caller's `timeout`, else the plugin's `call_timeout` (docs/protocol.md §4).

pub mod database;
pub mod embedder;
pub mod llm;
pub mod packed;
pub mod raw;
pub mod reasoning;
pub mod requests;
pub mod tools;

use crate::error::{Error, Result};
use crate::plugin::Plugin;
use crate::proto::hector::HealthResponse;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A generated gRPC client (`$client`, e.g. `LlmProviderClient`) on the plugin's connection,
/// sending and accepting messages up to the connection's limit (docs/protocol.md §3.2).
macro_rules! generated_client {
    ($client:ident, $plugin:expr) => {{
        let channel = $plugin.channel();
        let limit = channel.max_message_bytes();
        $client::with_origin(channel, $crate::transport::origin())
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit)
    }};
}
pub(crate) use generated_client;

/// A call's limit and where it came from, so a timeout error says which setting to change.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    limit: Duration,
    from_call: bool,
}

impl Deadline {
    /// The caller's `timeout`, else the plugin's `call_timeout` (which may be disabled).
    fn of(plugin: &Plugin, timeout: Option<Duration>) -> Option<Deadline> {
        match timeout {
            Some(limit) => Some(Deadline { limit, from_call: true }),
            None => plugin.call_timeout().map(|limit| Deadline { limit, from_call: false }),
        }
    }

    fn exceeded(&self, plugin: &Plugin, method: &str, what: &str) -> Error {
        let source = if self.from_call {
            "its timeout"
        } else {
            "the plugin's call_timeout; pass timeout= to the call, or set call_timeout in the plugin's \
             hector.yaml entry or pm.load(..., call_timeout=...)"
        };
        Error::Call {
            plugin: plugin.name.clone(),
            method: method.into(),
            code: tonic::Code::DeadlineExceeded,
            message: format!("{what} within {:.3}s ({source})", self.limit.as_secs_f64()),
        }
    }
}

/// Opens a stream of responses (a server or bidirectional stream) and maps it as
/// [`map_stream_errors`] does; the deadline's first wait covers opening the call too.
pub(crate) async fn stream_call<T, S, F>(
    plugin: &Arc<Plugin>,
    method: &str,
    timeout: Option<Duration>,
    open: F,
) -> Result<BoxStream<'static, Result<T>>>
where
    T: Send + 'static,
    S: Stream<Item = Result<T, tonic::Status>> + Send + Unpin + 'static,
    F: Future<Output = Result<S, tonic::Status>>,
{
    let opened_at = Instant::now();
    let stream = open_stream(plugin, method, timeout, open).await?;
    Ok(map_stream_errors(plugin, method, stream, Deadline::of(plugin, timeout), opened_at))
}

/// A stream of responses whose failures are mapped through the plugin (a crash becomes `Crashed`)
/// and whose items must each come within the deadline: the first counted from `opened_at`
/// (so opening the call and the first item share it), later ones from the item before.
fn map_stream_errors<T, S>(
    plugin: &Arc<Plugin>,
    method: &str,
    stream: S,
    deadline: Option<Deadline>,
    opened_at: Instant,
) -> BoxStream<'static, Result<T>>
where
    T: Send + 'static,
    S: Stream<Item = Result<T, tonic::Status>> + Send + Unpin + 'static,
{
    struct Pull<S> {
        plugin: Arc<Plugin>,
        method: String,
        stream: S,
        deadline: Option<Deadline>,
        since: Instant,
        first: bool,
        done: bool,
    }
    let state = Pull {
        plugin: plugin.clone(),
        method: method.into(),
        stream,
        deadline,
        since: opened_at,
        first: true,
        done: false,
    };
    futures_util::stream::unfold(state, |mut pull| async move {
        if pull.done {
            return None;
        }
        let next = match pull.deadline {
            Some(deadline) => match tokio::time::timeout_at(pull.since + deadline.limit, pull.stream.next()).await {
                Ok(next) => next,
                Err(_) => {
                    pull.done = true;
                    let what = if pull.first { "no first item" } else { "no item after the previous one" };
                    let error = deadline.exceeded(&pull.plugin, &pull.method, what);
                    pull.plugin.stats().record_failure(&error);
                    return Some((Err(error), pull));
                }
            },
            None => pull.stream.next().await,
        };
        pull.first = false;
        pull.since = Instant::now();
        match next? {
            Ok(item) => Some((Ok(item), pull)),
            Err(status) => {
                pull.done = true;
                let error = pull.plugin.call_error(&pull.method, status).await;
                pull.plugin.stats().record_failure(&error);
                Some((Err(error), pull))
            }
        }
    })
    .boxed()
}

/// A plugin's answer that reports its own failure in-band (`success = false`, or a non-empty
/// `error` field: docs/protocol.md §7.4) becomes the same error a gRPC status gives, so a caller
/// sees one kind of failure either way.
pub(crate) fn in_band(plugin: &Plugin, method: &str, success: bool, error: &str) -> Result<()> {
    if success && error.is_empty() {
        return Ok(());
    }
    let message = if error.is_empty() { "the plugin reported a failure without a message" } else { error };
    Err(Error::Call {
        plugin: plugin.name.clone(),
        method: method.into(),
        code: tonic::Code::Unknown,
        message: message.into(),
    })
}

/// A call's error with `context` before its message (which entry of a batch it was for); other
/// errors (a crash, a closed plugin) say enough as they are.
pub(crate) fn in_context(error: Error, context: &str) -> Error {
    match error {
        Error::Call { plugin, method, code, message } => {
            Error::Call { plugin, method, code, message: format!("{context}: {message}") }
        }
        other => other,
    }
}

/// An answer that breaks its service's contract (say, vectors of the wrong length): the error
/// gRPC gives a message it cannot decode (`INTERNAL`), naming the plugin, the RPC and what is
/// wrong, so a plugin answering garbage is never taken at its word.
pub(crate) fn malformed(plugin: &Plugin, method: &str, what: impl Into<String>) -> Error {
    Error::Call {
        plugin: plugin.name.clone(),
        method: method.into(),
        code: tonic::Code::Internal,
        message: format!("malformed answer: {}", what.into()),
    }
}

/// A call of an RPC that older plugins may not serve (docs/protocol.md §9): `Ok(None)` when the
/// plugin answers UNIMPLEMENTED, and from then on without asking it again (the plugin process
/// remembers), so the caller falls back to the RPCs it does serve.
pub(crate) async fn call_if_served<T, F>(
    plugin: &Plugin,
    method: &'static str,
    timeout: Option<Duration>,
    rpc: F,
) -> Result<Option<T>>
where
    F: Future<Output = Result<T, tonic::Status>>,
{
    if !plugin.may_serve(method) {
        return Ok(None);
    }
    match call(plugin, method, timeout, rpc).await {
        Ok(value) => Ok(Some(value)),
        Err(Error::Call { code: tonic::Code::Unimplemented, .. }) => {
            plugin.note_unimplemented(method);
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Work made of several calls (each with its own deadline) bounded as a whole by one deadline
/// (see [`Deadline::of`]); `what` says what did not happen in time.
pub(crate) async fn within<T, F>(
    plugin: &Plugin,
    method: &str,
    timeout: Option<Duration>,
    what: &str,
    work: F,
) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    match Deadline::of(plugin, timeout) {
        Some(deadline) => match tokio::time::timeout(deadline.limit, work).await {
            Ok(outcome) => outcome,
            Err(_) => Err(deadline.exceeded(plugin, method, what)),
        },
        None => work.await,
    }
}

/// `Health` of any `hector.plugin` plugin, through the service of its type; an MCP server's is
/// its answer to `ping` (docs/protocol.md §10.3).
pub async fn health(plugin: &Plugin, timeout: Option<Duration>) -> Result<HealthResponse> {
    if let Some(session) = plugin.mcp_session() {
        let session = session.clone();
        return call(plugin, "ping", timeout, async move {
            session.ping().await.map_err(crate::mcp::status_of)?;
            Ok(HealthResponse { healthy: true, message: "answered MCP ping".into() })
        })
        .await;
    }
    let Some(service) = plugin.kind.service() else {
        return Err(Error::config(format!(
            "plugin {:?} is a generic go-plugin plugin: it has no hector.plugin Health RPC",
            plugin.name
        )));
    };
    let channel = plugin.channel();
    call(plugin, "Health", timeout, async move { crate::lifecycle::health(&channel, service).await }).await
}

/// Runs one call within its deadline (see [`Deadline::of`]), mapping its status through the plugin.
pub(crate) async fn call<T, F>(plugin: &Plugin, method: &str, timeout: Option<Duration>, call: F) -> Result<T>
where
    F: Future<Output = Result<T, tonic::Status>>,
{
    call_within(plugin, method, timeout, "no answer", call).await
}

/// Opens a stream: its response headers are the first thing the deadline waits for.
async fn open_stream<T, F>(plugin: &Plugin, method: &str, timeout: Option<Duration>, open: F) -> Result<T>
where
    F: Future<Output = Result<T, tonic::Status>>,
{
    call_within(plugin, method, timeout, "no first item", open).await
}

async fn call_within<T, F>(plugin: &Plugin, method: &str, timeout: Option<Duration>, what: &str, call: F) -> Result<T>
where
    F: Future<Output = Result<T, tonic::Status>>,
{
    let result = call_counted(plugin, method, timeout, what, call).await;
    plugin.stats().record(&result);
    result
}

async fn call_counted<T, F>(plugin: &Plugin, method: &str, timeout: Option<Duration>, what: &str, call: F) -> Result<T>
where
    F: Future<Output = Result<T, tonic::Status>>,
{
    plugin.ensure_callable(method).await?;
    let outcome = match Deadline::of(plugin, timeout) {
        Some(deadline) => match tokio::time::timeout(deadline.limit, call).await {
            Ok(outcome) => outcome,
            Err(_) => return Err(deadline.exceeded(plugin, method, what)),
        },
        None => call.await,
    };
    match outcome {
        Ok(value) => Ok(value),
        Err(status) => Err(plugin.call_error(method, status).await),
    }
}
