//! What a plugin is started from: its name, executable, type, configuration and the settings of
//! its launch, start, shutdown and connection.

use crate::kind::PluginKind;
use crate::launch::LaunchOptions;
use crate::log_budget::LogBudget;
use crate::manifest::Manifest;
use crate::policy::Supervision;
use crate::security::confine::Protections;
use crate::security::trust::Trust;
use crate::transport::ConnectionSettings;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// go-plugin's grace period between asking a plugin to exit and killing it.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);

/// How the host speaks with a plugin (docs/protocol.md §1 and §10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// A go-plugin gRPC plugin: handshake line, then gRPC over the address it printed.
    Grpc,
    /// An MCP server the host launches: `path` with `launch.args`, JSON-RPC on its stdin and stdout.
    McpStdio,
    /// An MCP server that already runs, reached over streamable HTTP at `url`; no process.
    McpHttp { url: String },
}

impl Protocol {
    pub fn is_mcp(&self) -> bool {
        !matches!(self, Protocol::Grpc)
    }
}

/// Everything needed to start one plugin.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    pub name: String,
    pub path: PathBuf,
    pub kind: PluginKind,
    /// gRPC (go-plugin) or MCP; MCP servers are tool providers.
    pub protocol: Protocol,
    /// Sent with `Initialize`: scalars stringified, nested values as JSON text.
    pub config: BTreeMap<String, serde_json::Value>,
    pub launch: LaunchOptions,
    pub start_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Call deadline, message size limit, which addresses are accepted.
    pub connection: ConnectionSettings,
    /// How much of its output may become log records (docs/protocol.md §5.2); `None`: all of it.
    pub log_budget: Option<LogBudget>,
    /// The manifest the plugin was found by (discovery, entry points), which gave its name and
    /// type: the start checks that one rather than reading the file again. `None`: the start
    /// reads `<executable>.plugin.yaml`, if there is one (docs/protocol.md §7.6).
    pub manifest: Option<Manifest>,
    /// Health checks, restarts, laziness, hot reload and dependencies (docs/supervision.md).
    pub supervision: Supervision,
    /// Resource limits and sandbox (docs/security.md).
    pub protections: Protections,
    /// What the executable must satisfy before it runs (docs/protocol.md §1.5); with no
    /// `sha256` here the manifest's is used. Default: only the always-on rules.
    pub trust: Trust,
}

impl PluginSpec {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, kind: PluginKind) -> Self {
        PluginSpec {
            name: name.into(),
            path: path.into(),
            kind,
            protocol: Protocol::Grpc,
            config: BTreeMap::new(),
            launch: LaunchOptions::default(),
            start_timeout: DEFAULT_START_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            connection: ConnectionSettings::default(),
            log_budget: Some(LogBudget::DEFAULT),
            manifest: None,
            supervision: Supervision::default(),
            protections: Protections::default(),
            trust: Trust::default(),
        }
    }

    /// The MCP server `command` (a path, or a name looked up on PATH), run with `args`.
    pub fn mcp_stdio(name: impl Into<String>, command: impl Into<PathBuf>, args: Vec<String>) -> Self {
        let mut spec = PluginSpec::new(name, command, PluginKind::Tool);
        spec.protocol = Protocol::McpStdio;
        spec.launch.args = args;
        spec
    }

    /// The MCP server at `url` (streamable HTTP).
    pub fn mcp_http(name: impl Into<String>, url: impl Into<String>) -> Self {
        let url = url.into();
        let mut spec = PluginSpec::new(name, &url, PluginKind::Tool);
        spec.protocol = Protocol::McpHttp { url };
        spec
    }

    /// The plugin `manifest` describes, at `executable`: named and typed as the manifest says.
    pub fn found_by(manifest: Manifest, executable: impl Into<PathBuf>) -> Self {
        let mut spec = PluginSpec::new(manifest.name.clone(), executable, manifest.kind());
        spec.manifest = Some(manifest);
        spec
    }
}
