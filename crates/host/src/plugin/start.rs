//! The start sequence (docs/protocol.md §1–§3, §7.2): prepare → launch → handshake line →
//! connect → `Initialize` → ready. Each step either hands the next one what it needs or fails
//! the start with a message that says why, leaving nothing running.

use super::first_line::handshake_line;
use super::link::Link;
use super::prepare::prepare;
use super::process::{Output, Process};
use super::spec::PluginSpec;
use super::state::State;
use super::Plugin;
use crate::error::{Error, Result};
use crate::handshake::{self, Handshake};
use crate::launch::Stdio;
use crate::lifecycle::{self, InitializeError};
use crate::logs::LogSink;
use crate::peer::PeerPolicy;
use crate::security::mtls::{self, PinnedTls};
use crate::transport::{self, ConnectOptions, ConnectionClosed, PluginChannel};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

impl Plugin {
    /// Launches the plugin and brings it to `Ready`, or fails leaving nothing running.
    pub async fn start(spec: PluginSpec, sink: Arc<dyn LogSink>) -> Result<Arc<Plugin>> {
        if spec.protocol.is_mcp() {
            return Plugin::start_mcp(spec, sink).await;
        }
        let original = spec.clone();
        let (mut spec, manifest) = prepare(spec)?;
        spec.launch.client_cert_pem =
            mtls::offered_certificate(spec.connection.mtls).map_err(|e| Error::start(&spec.name, e, Vec::new()))?;
        let (process, output) = Process::launch(&spec, &sink, Stdio::Handshake).await?;
        let Output::FirstLine(first_line) = output else { unreachable!("a handshake launch reads its first line") };
        let guard = process.kill_on_drop();
        let started = Instant::now();
        let line = handshake_line(&spec, &process, first_line).await?;
        let (handshake, tls) = accept(&spec, &process, &line).await?;
        let (channel, closed) = connect(&spec, &process, &handshake, tls, started).await?;
        guard.disarm();
        let mut plugin = Plugin::ready(&spec, original, Link::Grpc(channel.clone()), Some(process), sink);
        plugin.protocol_version = handshake.app_version;
        plugin.address = handshake.address.to_string();
        plugin.manifest = manifest;
        let plugin = Arc::new(plugin);
        plugin.supervise(Some(closed));
        if let Some(gate) = plugin.log_gate() {
            tokio::spawn(crate::stdio::forward(channel, gate.clone()));
        }
        plugin.initialize_in_time(&spec, started).await?;
        Ok(plugin)
    }

    /// A plugin that has just become ready (the start fills in what it learnt on the way).
    pub(super) fn ready(
        spec: &PluginSpec,
        original: PluginSpec,
        link: Link,
        process: Option<Process>,
        sink: Arc<dyn LogSink>,
    ) -> Plugin {
        Plugin {
            name: spec.name.clone(),
            kind: spec.kind,
            path: spec.path.clone(),
            pid: process.as_ref().map_or(0, |p| p.pid),
            protocol_version: 0,
            address: String::new(),
            manifest: None,
            spec: original,
            restarts: Default::default(),
            link,
            state: watch::Sender::new(State::Ready),
            stopping: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            retired: AtomicBool::new(false),
            process,
            sink,
            unimplemented: Default::default(),
            stats: Default::default(),
            in_flight: Default::default(),
        }
    }

    /// Registers the plugin as live and watches for its crash.
    pub(super) fn supervise(self: &Arc<Self>, closed: Option<ConnectionClosed>) {
        super::registry::register(self);
        self.watch_for_crashes(closed);
    }

    /// `Initialize` shares the start timeout: a plugin that accepts connections but never
    /// answers must not hang the load. On failure the plugin is killed.
    async fn initialize_in_time(&self, spec: &PluginSpec, started: Instant) -> Result<()> {
        let remaining = spec.start_timeout.saturating_sub(started.elapsed()).max(Duration::from_millis(500));
        let stage = if self.kind.service().is_some() { "answer Initialize" } else { "greet over HTTP/2" };
        let outcome = match tokio::time::timeout(remaining, self.greet_and_initialize(&spec.config)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                self.kill_now().await;
                return Err(Error::StartTimeout {
                    plugin: self.name.clone(),
                    after: spec.start_timeout,
                    stage,
                    stderr: self.stderr_tail(),
                });
            }
        };
        if let Err(e) = outcome {
            self.kill_now().await;
            return Err(self.initialize_failure(e));
        }
        Ok(())
    }

    /// The server must speak HTTP/2 (an HTTP/1 server would otherwise look like a plugin that
    /// crashed during Initialize), then the service's `Initialize`, if it has a service.
    async fn greet_and_initialize(&self, config: &BTreeMap<String, serde_json::Value>) -> Result<()> {
        if let Some(answer) = self.channel().wrong_protocol().await {
            return Err(Error::start(
                &self.name,
                format!(
                    "{} does not speak HTTP/2 gRPC: {answer}. The handshake line must name the plugin's gRPC server",
                    handshake::shorten(&self.address.to_string())
                ),
                self.stderr_tail(),
            ));
        }
        let Some(service) = self.kind.service() else { return Ok(()) };
        match lifecycle::initialize(&self.channel(), service, config).await {
            Ok(()) => Ok(()),
            Err(InitializeError::Call(status)) => Err(self.call_error("Initialize", status).await),
            Err(InitializeError::Refused(reason)) => Err(Error::Call {
                plugin: self.name.clone(),
                method: "Initialize".into(),
                code: tonic::Code::FailedPrecondition,
                message: format!("the plugin refused its configuration: {reason}"),
            }),
        }
    }

    /// What a failed `Initialize` means for the start.
    fn initialize_failure(&self, error: Error) -> Error {
        let stderr = self.stderr_tail();
        match error {
            Error::Call { message, method, code: tonic::Code::Unimplemented, .. } => {
                let service = self.kind.service().unwrap_or_default();
                let message = format!(
                    "it does not serve the Hector {service} service ({method} failed (UNIMPLEMENTED): {message}). \
                     If it is a generic go-plugin plugin, load it with type=\"grpc\" (and its own \
                     magic_cookie_key, magic_cookie_value and protocol_versions) and call it through pm.raw()"
                );
                Error::start(&self.name, message, stderr)
            }
            Error::Call { message, method, code, .. } => Error::start(
                &self.name,
                format!("{method} failed ({}): {message}", crate::error::code_name(code)),
                stderr,
            ),
            Error::Crashed { exit, .. } => {
                Error::start(&self.name, format!("it crashed during Initialize ({exit})"), stderr)
            }
            other => other,
        }
    }
}

/// The handshake line, parsed and acceptable to this host (docs/protocol.md §2), and the TLS
/// its certificate (or lack of one) calls for under the plugin's `mtls` setting (§3.5).
async fn accept(spec: &PluginSpec, process: &Process, line: &str) -> Result<(Handshake, Option<PinnedTls>)> {
    let handshake = match handshake::parse(line, &spec.launch.protocol_versions) {
        Ok(handshake) => handshake,
        Err(e) => return Err(process.start_failed(&spec.name, e.to_string(), true).await),
    };
    match mtls::plan(spec.connection.mtls, &handshake) {
        Ok(tls) => Ok((handshake, tls)),
        Err(refusal) => {
            let message = format!("{refusal}; line: {}", handshake::quote(line));
            Err(process.start_failed(&spec.name, message, true).await)
        }
    }
}

/// The connection to the address the plugin printed, once it is checked to be the plugin's
/// (docs/protocol.md §3.1), within what is left of the start timeout.
async fn connect(
    spec: &PluginSpec,
    process: &Process,
    handshake: &Handshake,
    tls: Option<PinnedTls>,
    started: Instant,
) -> Result<(PluginChannel, ConnectionClosed)> {
    let remaining = spec.start_timeout.saturating_sub(started.elapsed()).max(Duration::from_millis(100));
    let options = ConnectOptions {
        tls,
        max_message_bytes: spec.connection.max_message_bytes,
        ..ConnectOptions::new(PeerPolicy::PluginGroup {
            plugin_pid: process.pid,
            allow_non_loopback: spec.connection.allow_non_loopback,
        })
    };
    match transport::connect(&handshake.address, &options, remaining).await {
        Ok(connected) => Ok(connected),
        Err(e) => Err(process.start_failed(&spec.name, e, false).await),
    }
}
