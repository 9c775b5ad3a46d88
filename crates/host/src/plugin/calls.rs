//! What a call to the plugin can fail with (docs/protocol.md §4, §6.2): a plugin that is gone is
//! refused before any round trip, a failure caused by its death is a crash, not a gRPC error,
//! and a message over the size limit names the setting to raise.

use super::link::Link;
use super::state::State;
use super::Plugin;
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The calls under way on one process.
#[derive(Default)]
pub(super) struct InFlight {
    count: AtomicUsize,
    idle: tokio::sync::Notify,
}

/// One call under way (see [`Plugin::begin_call`]).
pub struct CallUnderWay(Arc<Plugin>);

impl Drop for CallUnderWay {
    fn drop(&mut self) {
        if self.0.in_flight.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.in_flight.idle.notify_waiters();
        }
    }
}

/// How long a call whose connection broke waits for the plugin's exit report: the keeper's
/// bounded sweep of the plugin's descendants (2 s) and some slack for a loaded machine. It ends
/// as soon as the exit is known, which is usually at once.
const EXIT_REPORT_WAIT: Duration = Duration::from_secs(3);
/// The same for a bare UNAVAILABLE or CANCELLED status on a connection that is still open.
const BRIEF_EXIT_WAIT: Duration = Duration::from_millis(250);

impl Plugin {
    /// Refuses calls to a plugin that is gone, before any network round trip. A crash says how
    /// the process ended, once its launcher has reported it (bounded wait).
    pub async fn ensure_callable(&self, method: &str) -> Result<()> {
        if self.state() == State::Ready && (self.has_exited() || self.link.is_closed()) {
            // Gone, but the watcher tasks have not said so yet.
            self.mark_crashed();
        }
        match self.state() {
            State::Ready => Ok(()),
            State::Crashed => {
                let _ = tokio::time::timeout(EXIT_REPORT_WAIT, self.exited()).await;
                Err(self.crashed(method))
            }
            state => Err(Error::Closed { plugin: self.name.clone(), state: state.closed() }),
        }
    }

    /// Turns a failed call into the right error: a crash if the process died under it.
    pub async fn call_error(&self, method: &str, status: tonic::Status) -> Error {
        // A transport failure (no gRPC status from the plugin: the status wraps an I/O error)
        // may be a crash whose exit is not reaped yet. A plugin's own error codes are not.
        let connection_broke = std::error::Error::source(&status).is_some() || self.link.is_closed();
        let transport_failure =
            connection_broke || matches!(status.code(), tonic::Code::Unavailable | tonic::Code::Cancelled);
        if self.has_exited() || transport_failure {
            // The connection breaks a moment before the exit is known, and the keeper reports the
            // exit only once it has swept what the plugin left (docs/protocol.md §1.4, bounded):
            // a broken connection waits for that report, so the error can say how the plugin
            // died. A bare UNAVAILABLE, which a live plugin may send itself, waits only briefly.
            let wait = if connection_broke { EXIT_REPORT_WAIT } else { BRIEF_EXIT_WAIT };
            let _ = tokio::time::timeout(wait, self.exited()).await;
            if self.has_exited() || self.state() == State::Crashed || self.link.is_closed() {
                if self.is_stopping() {
                    return Error::Closed { plugin: self.name.clone(), state: self.state().closed() };
                }
                self.mark_crashed();
                return self.crashed(method);
            }
        }
        Error::Call {
            plugin: self.name.clone(),
            method: method.into(),
            code: status.code(),
            message: self.explain_size_limit(status.message()),
        }
    }

    /// Whether `method` may be tried: not once this process answered it UNIMPLEMENTED.
    pub fn may_serve(&self, method: &str) -> bool {
        !self.unimplemented.lock().unwrap_or_else(|e| e.into_inner()).contains(&method)
    }

    /// Remembers that this process does not serve `method` (see [`Plugin::may_serve`]).
    pub(crate) fn note_unimplemented(&self, method: &'static str) {
        let mut methods = self.unimplemented.lock().unwrap_or_else(|e| e.into_inner());
        if !methods.contains(&method) {
            methods.push(method);
        }
    }

    /// How the process ended, for a crash report: its exit once the keeper has reported it
    /// (waited for, bounded, as in [`Plugin::call_error`]), else how its connection ended.
    pub async fn exit_description(&self) -> String {
        let _ = tokio::time::timeout(EXIT_REPORT_WAIT, self.exited()).await;
        self.exit_text()
    }

    /// A plugin that failed its health checks: marked crashed (calls in flight fail with the
    /// crash, new ones wait for its restart) and killed with its process group.
    pub fn kill_as_unhealthy(&self) {
        self.mark_crashed();
        self.kill_process();
    }

    /// Counts a call under way until the returned guard is dropped.
    pub fn begin_call(self: &Arc<Self>) -> CallUnderWay {
        self.in_flight.count.fetch_add(1, Ordering::SeqCst);
        CallUnderWay(self.clone())
    }

    /// Returns once no call is under way (a reload drains the old process with it).
    pub async fn calls_finished(&self) {
        loop {
            let idle = self.in_flight.idle.notified();
            if self.in_flight.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    fn crashed(&self, method: &str) -> Error {
        Error::Crashed {
            plugin: self.name.clone(),
            method: method.into(),
            exit: self.exit_text(),
            stderr: self.stderr_tail(),
        }
    }

    fn exit_text(&self) -> String {
        match (self.process.as_ref().and_then(|p| p.exit()), &self.link) {
            (Some(exit), _) => exit.to_string(),
            (None, Link::Grpc(_)) => "it closed its gRPC connection".into(),
            (None, Link::Mcp(_)) if self.process.is_some() => "it closed its MCP connection".into(),
            (None, Link::Mcp(_)) => "its MCP session over HTTP ended".into(),
        }
    }

    /// tonic's "message length too large" names no setting; say which one to raise.
    fn explain_size_limit(&self, message: &str) -> String {
        let direction = if message.contains("decoded message length too large") {
            "response"
        } else if message.contains("encoded message length too large") {
            "request"
        } else {
            return message.into();
        };
        let Link::Grpc(channel) = &self.link else { return message.into() };
        let limit = channel.max_message_bytes();
        format!(
            "the {direction} is larger than plugin {:?}'s max_message_size of {limit} bytes ({message}); \
             raise max_message_size in its hector.yaml entry or pm.load(..., max_message_size=...)",
            self.name
        )
    }
}
