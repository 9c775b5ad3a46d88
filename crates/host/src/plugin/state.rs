//! Where a plugin stands (`State`), how its process ended (`ExitInfo`), and the snapshot of both
//! that `pm.plugins` shows (`PluginStatus`).

use super::stats::HealthRecord;
use super::PluginSpec;
use crate::kind::PluginKind;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

/// A process goes Ready → Crashed, or Ready → Stopping → Stopped. The other states are a
/// name's, shown by `pm.plugins` while it has no serving process (docs/supervision.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ready,
    Crashed,
    Stopping,
    Stopped,
    /// A lazy plugin before its first call.
    NotStarted,
    /// A lazy plugin's first start is under way.
    Starting,
    /// Crashed or unhealthy; a new process is on its way.
    Restarting,
    /// Restarted too often: the circuit is open until `pm.restart(name)`.
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::Crashed => "crashed",
            State::Stopping => "stopping",
            State::Stopped => "stopped",
            State::NotStarted => "not_started",
            State::Starting => "starting",
            State::Restarting => "restarting",
            State::Failed => "failed",
        }
    }

    /// Why a plugin that is being (or was) shut down refuses a call.
    pub(crate) fn closed(self) -> crate::error::Closed {
        if self == State::Stopped {
            crate::error::Closed::Stopped
        } else {
            crate::error::Closed::Stopping
        }
    }
}

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// The limit it was stopped for, if one was (docs/security.md "Limits").
    pub limit: Option<crate::security::limits::LimitHit>,
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exit status {code}"),
            (None, Some(signal)) => write!(f, "killed by signal {signal}"),
            _ => write!(f, "exited"),
        }?;
        match self.limit {
            Some(limit) => write!(f, ": {limit}"),
            None => Ok(()),
        }
    }
}

impl From<std::process::ExitStatus> for ExitInfo {
    fn from(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        ExitInfo { code: status.code(), signal: status.signal(), limit: None }
    }
}

/// A snapshot for `pm.plugins`.
#[derive(Debug, Clone)]
pub struct PluginStatus {
    pub name: String,
    pub kind: PluginKind,
    pub path: PathBuf,
    pub pid: u32,
    pub state: State,
    /// "grpc" (go-plugin) or "mcp".
    pub protocol: &'static str,
    pub protocol_version: u32,
    pub address: String,
    pub exit: Option<ExitInfo>,
    /// How many times the name was restarted (`Manager::restart`).
    pub restarts: u32,
    /// True when shutdown had to kill the plugin (it did not exit within the grace period).
    pub killed: bool,
    /// From the manifest, when there is one; an MCP server's from its initialize answer.
    pub version: Option<String>,
    pub capabilities: BTreeMap<String, serde_json::Value>,
    /// Calls made to the name (every process it had, and those refused before reaching one),
    /// and how many failed.
    pub calls: u64,
    pub failures: u64,
    /// The latest failed call's error, and when.
    pub last_error: Option<(SystemTime, String)>,
    /// The latest health check.
    pub last_health: Option<HealthRecord>,
    /// Why the name is restarting or failed (`state` says which), and since when.
    pub reason: Option<(SystemTime, String)>,
    /// Lines of its output this process dropped over its log budget (docs/protocol.md §5.2).
    pub dropped_log_lines: u64,
}

impl PluginStatus {
    /// A configured plugin that has no process yet (lazy, before its first call).
    pub fn not_started(spec: &PluginSpec) -> PluginStatus {
        PluginStatus {
            name: spec.name.clone(),
            kind: spec.kind,
            path: spec.path.clone(),
            pid: 0,
            state: State::NotStarted,
            protocol: if spec.protocol.is_mcp() { "mcp" } else { "grpc" },
            protocol_version: 0,
            address: String::new(),
            exit: None,
            restarts: 0,
            killed: false,
            version: None,
            capabilities: BTreeMap::new(),
            calls: 0,
            failures: 0,
            last_error: None,
            last_health: None,
            reason: None,
            dropped_log_lines: 0,
        }
    }
}
