//! One running plugin: launch → handshake → connect → initialize → ready, then crash detection
//! and graceful shutdown (docs/protocol.md §1–§6). On Linux no orphan, zombie or socket is left
//! behind: the plugin's keeper (`crate::keeper`) kills and reaps everything it started; elsewhere
//! the portable launcher kills its process group (`crate::portable_launcher`, and §1.4 for what
//! that leaves out).
//!
//! The parts: `spec` (what a plugin is started from), `prepare` (the checks that need no
//! launch), `process` and `pipes` (the launched process, its launcher and output), `first_line`
//! and `start` (the start sequence), `state` (states and status), `calls` (what a failed call
//! means), `crash` (crash detection), `shutdown`, and `registry` (every live plugin).

mod calls;
mod crash;
mod first_line;
mod link;
mod mcp_start;
mod pipes;
mod prepare;
mod process;
mod registry;
mod shutdown;
mod spec;
mod start;
mod state;
mod state_handover;
mod stats;

pub use prepare::prepare;
pub use registry::live_plugins;
pub use spec::{PluginSpec, Protocol, DEFAULT_SHUTDOWN_GRACE, DEFAULT_START_TIMEOUT};
pub use state::{ExitInfo, PluginStatus, State};
pub use stats::{CallStats, HealthRecord};

use crate::kind::PluginKind;
use crate::logs::LogSink;
use crate::manifest::Manifest;
use crate::mcp::McpSession;
use crate::transport::PluginChannel;
use link::Link;
use process::Process;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

pub struct Plugin {
    pub name: String,
    pub kind: PluginKind,
    /// The executable (an MCP server over HTTP: its URL).
    pub path: PathBuf,
    /// 0 for an MCP server over HTTP, which is no process of the host's.
    pub pid: u32,
    /// The go-plugin app protocol version it chose (0 for an MCP server: see `mcp_session`).
    pub protocol_version: u32,
    /// Where it is reached: the address of its handshake line, `stdio` (an MCP server the host
    /// launched), or the URL of an MCP server over HTTP.
    pub address: String,
    /// The `<executable>.plugin.yaml` it was loaded with, if any.
    pub manifest: Option<Manifest>,
    /// What it was started from (before manifest defaults), so a restart starts the same thing.
    spec: PluginSpec,
    /// How many times this name was restarted before this process (see `Manager::restart`).
    restarts: AtomicU32,
    link: Link,
    /// A watch, so shutdown callers can wait for `Stopped` without polling.
    state: watch::Sender<State>,
    stopping: AtomicBool,
    killed: AtomicBool,
    /// Replaced by a newer process of its name (a reload): it only finishes its calls now.
    retired: AtomicBool,
    /// None for an MCP server over HTTP: the host did not start it and does not stop it.
    process: Option<Process>,
    sink: Arc<dyn LogSink>,
    /// Optional RPCs this process answered UNIMPLEMENTED: later calls go straight to their
    /// fallback (docs/protocol.md §9). A restarted process starts with none.
    unimplemented: Mutex<Vec<&'static str>>,
    /// Calls made to this process (the name's record adds those of earlier processes and the
    /// refused ones).
    stats: Arc<CallStats>,
    /// Calls under way, so a reload can let them finish before it stops this process.
    in_flight: calls::InFlight,
}

impl Plugin {
    /// The spec it was started from, to start the same plugin again.
    pub fn spec(&self) -> &PluginSpec {
        &self.spec
    }

    pub fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Set by the manager on the process that replaces a restarted one.
    pub(crate) fn set_restarts(&self, restarts: u32) {
        self.restarts.store(restarts, Ordering::Relaxed);
    }

    pub fn state(&self) -> State {
        *self.state.borrow()
    }

    /// Every change of [`Plugin::state`].
    pub fn subscribe_state(&self) -> watch::Receiver<State> {
        self.state.subscribe()
    }

    pub fn stats(&self) -> &Arc<CallStats> {
        &self.stats
    }

    /// Asked to stop (a shutdown, a restart, a reload): its end is no crash.
    pub fn is_stopped_on_purpose(&self) -> bool {
        self.is_stopping()
    }

    /// Marks it replaced by a newer process of its name: its supervisor stops checking and
    /// restarting it, and new calls go to the newer one.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
    }

    pub fn is_retired(&self) -> bool {
        self.retired.load(Ordering::SeqCst)
    }

    /// Crashed or stopped: this process will never answer again (a restart replaces it).
    pub fn is_finished(&self) -> bool {
        matches!(self.state(), State::Crashed | State::Stopped)
    }

    /// Ready and, as far as this host can tell, still able to answer.
    pub fn is_serving(&self) -> bool {
        self.state() == State::Ready && !self.has_exited() && !self.link.is_closed()
    }

    pub fn has_exited(&self) -> bool {
        self.process.as_ref().is_some_and(Process::has_exited)
    }

    /// Returns once the process's exit is reported (at once when there is no process).
    async fn exited(&self) {
        if let Some(process) = &self.process {
            process.exited().await;
        }
    }

    /// Has the launcher kill the process group (nothing to kill without a process).
    fn kill_process(&self) {
        if let Some(process) = &self.process {
            process.kill();
        }
    }

    fn remove_socket_dir(&self) {
        if let Some(process) = &self.process {
            process.remove_socket_dir();
        }
    }

    /// Whether this process of the host started it (a forked child did not; an HTTP server
    /// was not started at all, and only its session is this host's).
    pub(super) fn owned_by_this_process(&self) -> bool {
        self.process.as_ref().is_none_or(Process::owned_by_this_process)
    }

    /// A shutdown (or a kill) was asked for: an exit from now on is no crash.
    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The gRPC connection. An MCP server has none: only the tool client and `health` reach
    /// one, and they take [`Plugin::mcp_session`] first; `pm.raw()` refuses it
    /// (`Target::process`). Reaching this for an MCP server is a bug of the host.
    pub fn channel(&self) -> PluginChannel {
        match &self.link {
            Link::Grpc(channel) => channel.clone(),
            Link::Mcp(_) => panic!("plugin {:?} is an MCP server: it has no gRPC connection", self.name),
        }
    }

    /// The MCP session of an MCP server (docs/protocol.md §10); None for a gRPC plugin.
    pub fn mcp_session(&self) -> Option<&Arc<McpSession>> {
        match &self.link {
            Link::Mcp(session) => Some(session),
            Link::Grpc(_) => None,
        }
    }

    /// The deadline of a call given none (`None`: no deadline).
    pub fn call_timeout(&self) -> Option<Duration> {
        self.spec.connection.call_timeout
    }

    /// The grace period this plugin was configured with.
    pub fn shutdown_grace(&self) -> Duration {
        self.spec.shutdown_grace
    }

    /// A capability flag from the manifest (`None` when not declared).
    pub fn capability(&self, name: &str) -> Option<bool> {
        self.manifest.as_ref().and_then(|m| m.capability(name))
    }

    /// The log budget its outputs pass (None for an MCP server over HTTP: no process).
    pub(crate) fn log_gate(&self) -> Option<&Arc<crate::log_budget::LogGate>> {
        self.process.as_ref().map(Process::log_gate)
    }

    pub fn stderr_tail(&self) -> Vec<String> {
        self.process.as_ref().map(Process::stderr_lines).unwrap_or_default()
    }

    pub fn status(&self) -> PluginStatus {
        PluginStatus {
            name: self.name.clone(),
            kind: self.kind,
            path: self.path.clone(),
            pid: self.pid,
            state: self.state(),
            protocol: if self.mcp_session().is_some() { "mcp" } else { "grpc" },
            protocol_version: self.protocol_version,
            address: self.address.clone(),
            exit: self.process.as_ref().and_then(Process::exit),
            restarts: self.restarts(),
            killed: self.killed.load(Ordering::SeqCst),
            version: match self.mcp_session() {
                Some(session) => Some(session.server_version.clone()).filter(|v| !v.is_empty()),
                None => self.manifest.as_ref().map(|m| m.version.clone()),
            },
            capabilities: self.manifest.as_ref().map(|m| m.capabilities.clone()).unwrap_or_default(),
            calls: self.stats.calls(),
            failures: self.stats.failures(),
            last_error: self.stats.last_error(),
            last_health: None,
            reason: None,
            dropped_log_lines: self.process.as_ref().map_or(0, |p| p.log_gate().dropped_lines()),
        }
    }
}

impl Drop for Plugin {
    /// Last reference gone without a shutdown: never leave the process behind. (A forked
    /// child's copy kills nothing and keeps the parent's socket directory: see `Process`.)
    fn drop(&mut self) {
        if self.owned_by_this_process() && self.state() != State::Stopped {
            self.kill_process();
            self.remove_socket_dir();
        }
    }
}
