//! Typed clients, one per service. Each holds its plugin, checks it is callable, and maps
//! failures to [`crate::Error`] (a crash becomes `Crashed`, never a hang). Every call has a
//! deadline: the caller's `timeout`, else the plugin's `call_timeout` (docs/protocol.md §4).

pub mod llm;
pub mod raw;
pub mod requests;

use crate::error::{Error, Result};
use crate::plugin::Plugin;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

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
                Some((Err(error), pull))
            }
        }
    })
    .boxed()
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
    plugin.ensure_callable(method)?;
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
