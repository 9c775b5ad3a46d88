//! One plugin entry as written under a `plugins:` section, and what it becomes on its own: the
//! spec of a plugin process, or an in-process provider. (Aliases and fallback chains need the
//! other entries; see `sections`.)

use super::invalid::Invalid;
use super::log_budget::checked_log_budget;
use super::security::{entry_protections, SecurityDefaults};
use super::settings::{checked_mtls, checked_seconds, connection_settings};
use super::supervision::{HealthEntry, RestartEntry, SupervisionEntry};
use super::types::Builtin;
use crate::kind::PluginKind;
use crate::launch::LaunchOptions;
use crate::plugin::{PluginSpec, Protocol, DEFAULT_SHUTDOWN_GRACE, DEFAULT_START_TIMEOUT};
use crate::policy::Supervision;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One plugin entry as written in the configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Entry {
    #[serde(rename = "type", default = "grpc")]
    pub protocol: String,
    /// The executable. An entry has exactly one of `path`, `alias` and `fallbacks` (an MCP
    /// server: one of `command` and `url`).
    pub path: Option<String>,
    /// `type: mcp`: the server's command (a path, or a name looked up on PATH) and its arguments.
    pub command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    /// `type: mcp`: the streamable HTTP endpoint of a server that already runs.
    pub url: Option<String>,
    /// Another plugin of the same section, launched again under this name with `config`
    /// merged over its own.
    pub alias: Option<String>,
    /// An ordered chain of plugins of the same section: the first that is ready serves.
    pub fallbacks: Option<Vec<String>>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub config: BTreeMap<String, serde_json::Value>,
    start_timeout: Option<f64>,
    shutdown_grace: Option<f64>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    clean_env: bool,
    magic_cookie_key: Option<String>,
    magic_cookie_value: Option<String>,
    protocol_versions: Option<Vec<u32>>,
    /// Seconds; 0 disables the default deadline of calls.
    call_timeout: Option<f64>,
    /// Bytes, either way.
    max_message_size: Option<u64>,
    #[serde(default)]
    allow_non_loopback: bool,
    /// `auto`, `on` or `off` (docs/protocol.md §3.5).
    mtls: Option<String>,
    // Supervision (docs/supervision.md), over the `supervision:` section's defaults.
    health: Option<HealthEntry>,
    restart: Option<RestartEntry>,
    #[serde(default)]
    idempotent: Vec<String>,
    lazy: Option<bool>,
    hot_reload: Option<bool>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    optional_depends_on: Vec<String>,
    /// `unlimited` or `{lines_per_second, bytes_per_second, burst_seconds}` (docs/protocol.md §5.2).
    log_budget: Option<serde_json::Value>,
    // Security (docs/security.md), over the `plugin_security:` section's defaults.
    /// The executable's SHA-256 (`sha256:<hex>`); wins over its manifest's.
    pub sha256: Option<String>,
    security: Option<serde_json::Value>,
    grants: Option<serde_json::Value>,
}

/// What every entry gets unless it says otherwise: the `supervision:` and `plugin_security:`
/// sections.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntryDefaults {
    pub supervision: Supervision,
    pub security: SecurityDefaults,
}

impl Entry {
    /// The first supervision key the entry gives, if any (for entries that take none).
    pub fn supervision_key(&self) -> Option<&'static str> {
        [
            ("health", self.health.is_some()),
            ("restart", self.restart.is_some()),
            ("idempotent", !self.idempotent.is_empty()),
            ("lazy", self.lazy.is_some()),
            ("hot_reload", self.hot_reload.is_some()),
            ("depends_on", !self.depends_on.is_empty()),
            ("optional_depends_on", !self.optional_depends_on.is_empty()),
            ("sha256", self.sha256.is_some()),
            ("security", self.security.is_some()),
            ("grants", self.grants.is_some()),
        ]
        .into_iter()
        .find(|(_, given)| *given)
        .map(|(key, _)| key)
    }

    /// The entry's supervision keys, taken out of it.
    fn supervision(&mut self) -> SupervisionEntry {
        SupervisionEntry {
            health: self.health.take(),
            restart: self.restart.take(),
            idempotent: std::mem::take(&mut self.idempotent),
            lazy: self.lazy.take(),
            hot_reload: self.hot_reload.take(),
            depends_on: std::mem::take(&mut self.depends_on),
            optional_depends_on: std::mem::take(&mut self.optional_depends_on),
        }
    }
}

fn grpc() -> String {
    "grpc".into()
}

fn yes() -> bool {
    true
}

/// The spec of the plugin process an entry with a `path` describes; `at` is the entry's key path.
pub(super) fn to_spec(
    name: &str,
    kind: PluginKind,
    mut entry: Entry,
    base: &Path,
    entry_defaults: &EntryDefaults,
    at: &str,
) -> Result<PluginSpec, Invalid> {
    let defaults = LaunchOptions::default();
    let supervision = entry.supervision().over(&entry_defaults.supervision, kind, at)?;
    let (protections, env_policy) =
        entry_protections(entry.security.as_ref(), entry.grants.as_ref(), &entry_defaults.security, base, at)?;
    let path = PathBuf::from(entry.path.as_deref().unwrap_or_default());
    let mut spec = PluginSpec::new(name, if path.is_absolute() { path } else { base.join(path) }, kind);
    spec.config = entry.config;
    set_start_and_stop(&mut spec, entry.start_timeout, entry.shutdown_grace, at)?;
    spec.connection = connection_settings(entry.call_timeout, entry.max_message_size, entry.allow_non_loopback, at)?;
    spec.connection.mtls = match &entry.mtls {
        Some(mode) => checked_mtls(&format!("{at}.mtls"), mode)?,
        None => entry_defaults.security.mtls,
    };
    set_log_budget(&mut spec, entry.log_budget.as_ref(), at)?;
    spec.launch = LaunchOptions {
        magic_cookie_key: entry.magic_cookie_key.unwrap_or(defaults.magic_cookie_key),
        magic_cookie_value: entry.magic_cookie_value.unwrap_or(defaults.magic_cookie_value),
        protocol_versions: entry.protocol_versions.unwrap_or(defaults.protocol_versions),
        env: entry.env.into_iter().collect(),
        clean_env: entry.clean_env,
        env_policy,
        ..defaults
    };
    spec.launch.validate().map_err(|e| Invalid::at(at, e))?;
    spec.supervision = supervision;
    spec.protections = protections;
    set_trust(&mut spec, entry.sha256.as_deref(), &entry_defaults.security, at)?;
    Ok(spec)
}

/// `{type: mcp}` (docs/protocol.md §10.1): a server launched from `command` and `args`, or
/// reached at `url`. It has no `Initialize` and no go-plugin handshake, so what configures those
/// is refused with the reason.
pub(super) fn mcp_spec(
    name: &str,
    mut entry: Entry,
    base: &Path,
    entry_defaults: &EntryDefaults,
    at: &str,
) -> Result<PluginSpec, Invalid> {
    let supervision = entry.supervision().over(&entry_defaults.supervision, PluginKind::Tool, at)?;
    let (protections, env_policy) =
        entry_protections(entry.security.as_ref(), entry.grants.as_ref(), &entry_defaults.security, base, at)?;
    let go_plugin_fields = [
        ("path", entry.path.is_some(), "an MCP server is started from `command` (and `args`), or reached at `url`"),
        ("config", !entry.config.is_empty(), "an MCP server has no Initialize: pass settings in `args` or `env`"),
        ("magic_cookie_key", entry.magic_cookie_key.is_some(), "an MCP server has no go-plugin handshake"),
        ("magic_cookie_value", entry.magic_cookie_value.is_some(), "an MCP server has no go-plugin handshake"),
        ("protocol_versions", entry.protocol_versions.is_some(), "an MCP server has no go-plugin handshake"),
        ("max_message_size", entry.max_message_size.is_some(), "it limits gRPC messages; an MCP server has none"),
        ("allow_non_loopback", entry.allow_non_loopback, "it concerns go-plugin's handshake address"),
        ("mtls", entry.mtls.is_some(), "automatic mTLS is negotiated on go-plugin's handshake line"),
    ];
    if let Some((field, _, why)) = go_plugin_fields.iter().find(|(_, given, _)| *given) {
        return Err(Invalid::at(format!("{at}.{field}"), format!("not for `type: mcp`: {why}")));
    }
    let mut spec = match (entry.command, entry.url) {
        (Some(command), None) => {
            // A path is relative to the configuration file; a bare name is looked up on PATH.
            let command = PathBuf::from(command);
            let command = if command.components().count() > 1 && !command.is_absolute() { base.join(command) } else { command };
            PluginSpec::mcp_stdio(name, command, entry.args)
        }
        (None, Some(_)) if entry.log_budget.is_some() => {
            return Err(Invalid::at(
                format!("{at}.log_budget"),
                "a server at a `url` is no process of the host's: it has no output to budget",
            ))
        }
        (None, Some(url)) if entry.args.is_empty() => PluginSpec::mcp_http(name, url),
        (None, Some(_)) => {
            return Err(Invalid::at(format!("{at}.args"), "`args` go with `command`: a server at a `url` is already running"))
        }
        (Some(_), Some(_)) => return Err(Invalid::at(at, "give one of `command` (a server to launch) and `url`, not both")),
        (None, None) => {
            return Err(Invalid::at(
                at,
                "an MCP server needs `command` (and `args`) to launch it over stdio, or the `url` of its streamable HTTP endpoint",
            ))
        }
    };
    set_start_and_stop(&mut spec, entry.start_timeout, entry.shutdown_grace, at)?;
    spec.connection = connection_settings(entry.call_timeout, None, false, at)?;
    set_log_budget(&mut spec, entry.log_budget.as_ref(), at)?;
    spec.launch.env = entry.env.into_iter().collect();
    spec.launch.clean_env = entry.clean_env;
    spec.launch.env_policy = env_policy;
    spec.launch.validate().map_err(|e| Invalid::at(at, e))?;
    spec.supervision = supervision;
    spec.protections = protections;
    if matches!(spec.protocol, Protocol::McpHttp { .. }) {
        let given = [
            ("security", entry.security.is_some()),
            ("grants", entry.grants.is_some()),
            ("sha256", entry.sha256.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(_, given)| *given) {
            return Err(Invalid::at(
                format!("{at}.{field}"),
                "a server at a `url` is no process of the host's: nothing to verify or confine",
            ));
        }
    } else {
        set_trust(&mut spec, entry.sha256.as_deref(), &entry_defaults.security, at)?;
    }
    Ok(spec)
}

/// `command`, `args` and `url` describe MCP servers only.
pub(super) fn refuse_mcp_fields(entry: &Entry, at: &str) -> Result<(), Invalid> {
    let mcp_fields =
        [("command", entry.command.is_some()), ("args", !entry.args.is_empty()), ("url", entry.url.is_some())];
    match mcp_fields.iter().find(|(_, given)| *given) {
        Some((field, _)) => Err(Invalid::at(
            format!("{at}.{field}"),
            format!("`{field}` describes an MCP server: add `type: mcp` (a go-plugin plugin is started from `path`)"),
        )),
        None => Ok(()),
    }
}

/// `start_timeout` and `shutdown_grace`, which every launched entry has (gRPC or MCP).
fn set_start_and_stop(
    spec: &mut PluginSpec,
    start_timeout: Option<f64>,
    shutdown_grace: Option<f64>,
    at: &str,
) -> Result<(), Invalid> {
    let seconds = |value: Option<f64>, field: &str, default: Duration| match value {
        None => Ok(default),
        Some(s) => checked_seconds(&format!("{at}.{field}"), s),
    };
    spec.start_timeout = seconds(start_timeout, "start_timeout", DEFAULT_START_TIMEOUT)?;
    spec.shutdown_grace = seconds(shutdown_grace, "shutdown_grace", DEFAULT_SHUTDOWN_GRACE)?;
    Ok(())
}

/// `log_budget`, when given (the default budget otherwise).
fn set_log_budget(spec: &mut PluginSpec, value: Option<&serde_json::Value>, at: &str) -> Result<(), Invalid> {
    if let Some(value) = value {
        spec.log_budget = checked_log_budget(value, &format!("{at}.log_budget"))?;
    }
    Ok(())
}

/// The executable checks (docs/security.md "Trusted executables"): the entry's `sha256` and
/// the `plugin_security` trust settings.
pub(super) fn set_trust(
    spec: &mut PluginSpec,
    sha256: Option<&str>,
    defaults: &SecurityDefaults,
    at: &str,
) -> Result<(), Invalid> {
    spec.trust = defaults.trust.clone();
    if let Some(text) = sha256 {
        let digest = crate::security::trust::parse_sha256(text).map_err(|e| Invalid::at(format!("{at}.sha256"), e))?;
        spec.trust.sha256 = Some(digest);
    }
    Ok(())
}

/// `{type: builtin}`: only a name and a type; the provider itself is registered in code.
pub(super) fn builtin_entry(name: &str, kind: PluginKind, entry: &Entry, at: &str) -> Result<Builtin, Invalid> {
    let launch_fields = [
        ("path", entry.path.is_some()),
        ("alias", entry.alias.is_some()),
        ("fallbacks", entry.fallbacks.is_some()),
        ("config", !entry.config.is_empty()),
        ("env", !entry.env.is_empty()),
        ("start_timeout", entry.start_timeout.is_some()),
        ("shutdown_grace", entry.shutdown_grace.is_some()),
        ("clean_env", entry.clean_env),
        ("magic_cookie_key", entry.magic_cookie_key.is_some()),
        ("magic_cookie_value", entry.magic_cookie_value.is_some()),
        ("protocol_versions", entry.protocol_versions.is_some()),
        ("call_timeout", entry.call_timeout.is_some()),
        ("max_message_size", entry.max_message_size.is_some()),
        ("allow_non_loopback", entry.allow_non_loopback),
        ("mtls", entry.mtls.is_some()),
        ("log_budget", entry.log_budget.is_some()),
        ("command", entry.command.is_some()),
        ("args", !entry.args.is_empty()),
        ("url", entry.url.is_some()),
        ("health", entry.health.is_some()),
        ("restart", entry.restart.is_some()),
        ("idempotent", !entry.idempotent.is_empty()),
        ("lazy", entry.lazy.is_some()),
        ("hot_reload", entry.hot_reload.is_some()),
        ("depends_on", !entry.depends_on.is_empty()),
        ("optional_depends_on", !entry.optional_depends_on.is_empty()),
        ("sha256", entry.sha256.is_some()),
        ("security", entry.security.is_some()),
        ("grants", entry.grants.is_some()),
    ];
    if let Some((field, _)) = launch_fields.iter().find(|(_, given)| *given) {
        return Err(Invalid::at(
            format!("{at}.{field}"),
            format!("a built-in provider is created and configured in code, so it takes no `{field}`"),
        ));
    }
    Ok(Builtin { name: name.into(), kind })
}
