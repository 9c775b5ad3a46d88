//! One running plugin: launch → handshake → connect → initialize → ready, then crash detection
//! and graceful shutdown (docs/protocol.md §1–§6). No orphan, zombie or socket is left behind: the
//! plugin's keeper (`crate::keeper`) kills and reaps everything it started.

use crate::error::{Closed, Error, Result};
use crate::handshake::{self, Address};
use crate::kind::PluginKind;
use crate::launch::{self, LaunchOptions};
use crate::logs::{LineClassifier, LineSplitter, LogRecord, LogSink, Source, StderrTail, MAX_LINE_BYTES};
use crate::proto::goplugin::grpc_controller_client::GrpcControllerClient;
use crate::stdio;
use crate::transport::{origin, ConnectOptions, ConnectionSettings, PluginChannel};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{oneshot, watch};

/// How long a plugin may take for its own `Shutdown` RPCs before we stop asking.
const SHUTDOWN_RPC_TIMEOUT: Duration = Duration::from_secs(2);
/// go-plugin's grace period between asking a plugin to exit and killing it.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything needed to start one plugin.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    pub name: String,
    pub path: PathBuf,
    pub kind: PluginKind,
    /// Sent with `Initialize`: scalars stringified, nested values as JSON text.
    pub config: BTreeMap<String, serde_json::Value>,
    pub launch: LaunchOptions,
    pub start_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Call deadline, message size limit, which addresses are accepted.
    pub connection: ConnectionSettings,
}

impl PluginSpec {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, kind: PluginKind) -> Self {
        PluginSpec {
            name: name.into(),
            path: path.into(),
            kind,
            config: BTreeMap::new(),
            launch: LaunchOptions::default(),
            start_timeout: DEFAULT_START_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            connection: ConnectionSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ready,
    Crashed,
    Stopping,
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::Crashed => "crashed",
            State::Stopping => "stopping",
            State::Stopped => "stopped",
        }
    }

    /// Why a plugin that is being (or was) shut down refuses a call.
    fn closed(self) -> Closed {
        if self == State::Stopped {
            Closed::Stopped
        } else {
            Closed::Stopping
        }
    }
}

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exit status {code}"),
            (None, Some(signal)) => write!(f, "killed by signal {signal}"),
            _ => write!(f, "exited"),
        }
    }
}

impl From<std::process::ExitStatus> for ExitInfo {
    fn from(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        ExitInfo { code: status.code(), signal: status.signal() }
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
    pub protocol_version: u32,
    pub address: String,
    pub exit: Option<ExitInfo>,
    /// How many times the name was restarted (`Manager::restart`).
    pub restarts: u32,
    /// True when shutdown had to kill the plugin (it did not exit within the grace period).
    pub killed: bool,
    /// From the manifest, when there is one.
    pub version: Option<String>,
    pub capabilities: BTreeMap<String, serde_json::Value>,
}

pub struct Plugin {
    pub name: String,
    pub kind: PluginKind,
    pub path: PathBuf,
    pub pid: u32,
    /// Kills the plugin and everything it started, through its keeper (never by pid).
    keeper: crate::keeper::Keeper,
    /// The process that launched the plugin. A forked child of the host inherits this object
    /// but must never signal or stop the plugin: it is not its parent.
    host_pid: u32,
    pub protocol_version: u32,
    pub address: Address,
    /// The `<executable>.plugin.yaml` it was loaded with, if any.
    pub manifest: Option<crate::manifest::Manifest>,
    /// What it was started from (before manifest defaults), so a restart starts the same thing.
    spec: PluginSpec,
    /// How many times this name was restarted before this process (see `Manager::restart`).
    restarts: std::sync::atomic::AtomicU32,
    channel: PluginChannel,
    /// A watch, so shutdown callers can wait for `Stopped` without polling.
    state: watch::Sender<State>,
    stopping: AtomicBool,
    killed: AtomicBool,
    exit: watch::Receiver<Option<ExitInfo>>,
    stderr_tail: StderrTail,
    /// Removed (with the socket in it) at shutdown or drop.
    socket_dir: Mutex<Option<launch::SocketDir>>,
    sink: Arc<dyn LogSink>,
}

/// Every plugin alive in this process, so the host's exit path can tear them all down.
static LIVE: Mutex<Vec<Weak<Plugin>>> = Mutex::new(Vec::new());

fn register_live(plugin: &Arc<Plugin>) {
    let mut live = LIVE.lock().unwrap();
    live.retain(|weak| weak.strong_count() > 0);
    live.push(Arc::downgrade(plugin));
}

/// Every plugin not yet stopped, across all managers.
pub fn live_plugins() -> Vec<Arc<Plugin>> {
    LIVE.lock()
        .unwrap()
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|p| p.state() != State::Stopped && p.owned_by_this_process())
        .collect()
}

impl Plugin {
    /// Launches the plugin and brings it to `Ready`, or fails leaving nothing running.
    pub async fn start(spec: PluginSpec, sink: Arc<dyn LogSink>) -> Result<Arc<Plugin>> {
        let original = spec.clone();
        let (spec, manifest) = prepare(spec)?;
        let name = spec.name.clone();
        let socket_dir = launch::make_socket_dir()
            .map_err(|e| Error::start(&name, format!("cannot create its socket directory: {e}"), vec![]))?;

        let mut child = launch::spawn(&spec.path, &spec.launch, socket_dir.path())
            .await
            .map_err(|e| Error::start(&name, format!("cannot execute {}: {e}", spec.path.display()), vec![]))?;
        let pid = child.pid;
        let keeper = child.keeper.clone();
        let (exit_tx, exit) = watch::channel(None);
        let mut guard = KillOnDrop { keeper: keeper.clone(), exit: exit.clone(), armed: true };

        let stderr_tail = StderrTail::default();
        let (stderr_done_tx, stderr_done) = watch::channel(false);
        let stderr = child.stderr.take().expect("stderr is piped");
        tokio::spawn(forward_stderr(stderr, name.clone(), sink.clone(), stderr_tail.clone(), stderr_done_tx));

        let (first_line_tx, first_line) = oneshot::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        tokio::spawn(read_stdout(stdout, name.clone(), sink.clone(), first_line_tx));

        tokio::spawn(async move {
            // Reported once the keeper has killed and reaped what the plugin left behind.
            let status = child.wait().await.map(ExitInfo::from);
            let _ = exit_tx.send(Some(status.unwrap_or(ExitInfo { code: None, signal: None })));
        });

        let started = Instant::now();
        // Kills the plugin, then quotes every last stderr line it wrote.
        let failure = |message: String, handshake: bool| {
            kill_unless_exited(&keeper, &exit);
            let (stderr_done, tail, plugin) = (stderr_done.clone(), stderr_tail.clone(), name.clone());
            async move {
                drain_stderr(stderr_done).await;
                Error::Start { plugin, message, stderr: tail.lines(), handshake }
            }
        };

        let line = match wait_for_line(first_line, exit.clone(), spec.start_timeout).await {
            LineOutcome::Line(line) => line,
            LineOutcome::Closed(exit_info) => {
                let exit_text = exit_info.map(|e| format!(" ({e})")).unwrap_or_default();
                let message = format!(
                    "it exited{exit_text} without printing a handshake line on stdout. Likely causes: \
                     wrong magic cookie ({}={}), the binary is for another architecture, a library is \
                     missing, or it crashed at startup",
                    spec.launch.magic_cookie_key, spec.launch.magic_cookie_value
                );
                return Err(failure(message, true).await);
            }
            LineOutcome::TimedOut => {
                kill_unless_exited(&keeper, &exit);
                drain_stderr(stderr_done.clone()).await;
                return Err(Error::StartTimeout {
                    plugin: name.clone(),
                    after: spec.start_timeout,
                    stage: "complete its handshake",
                    stderr: stderr_tail.lines(),
                });
            }
        };

        let handshake = match handshake::parse(&line, &spec.launch.protocol_versions) {
            Ok(handshake) => handshake,
            Err(e) => return Err(failure(e.to_string(), true).await),
        };
        if handshake.server_cert.is_some() {
            let message = format!(
                "it requires TLS (it printed a server certificate), but this host did not request automatic mTLS; line: {}",
                handshake::quote(&line)
            );
            return Err(failure(message, true).await);
        }

        let remaining = spec.start_timeout.saturating_sub(started.elapsed()).max(Duration::from_millis(100));
        let options = ConnectOptions {
            max_message_bytes: spec.connection.max_message_bytes,
            ..ConnectOptions::new(crate::peer::PeerPolicy::PluginGroup {
                plugin_pid: pid,
                allow_non_loopback: spec.connection.allow_non_loopback,
            })
        };
        let (channel, connection_closed) =
            match crate::transport::connect(&handshake.address, &options, remaining).await {
                Ok(connected) => connected,
                Err(e) => return Err(failure(e, false).await),
            };

        guard.armed = false;
        let plugin = Arc::new(Plugin {
            name: name.clone(),
            kind: spec.kind,
            path: spec.path.clone(),
            pid,
            keeper: keeper.clone(),
            host_pid: std::process::id(),
            protocol_version: handshake.app_version,
            address: handshake.address.clone(),
            manifest,
            spec: original,
            restarts: Default::default(),
            channel,
            state: watch::Sender::new(State::Ready),
            stopping: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            exit,
            stderr_tail: stderr_tail.clone(),
            socket_dir: Mutex::new(Some(socket_dir)),
            sink: sink.clone(),
        });
        register_live(&plugin);
        tokio::spawn(watch_for_crash(Arc::downgrade(&plugin)));
        tokio::spawn(watch_connection(Arc::downgrade(&plugin), connection_closed));
        tokio::spawn(stdio::forward(plugin.channel.clone(), name.clone(), sink));

        // Initialize shares the start timeout: a plugin that accepts connections but never
        // answers must not hang the load.
        let remaining = spec.start_timeout.saturating_sub(started.elapsed()).max(Duration::from_millis(500));
        let stage = if plugin.kind.service().is_some() { "answer Initialize" } else { "greet over HTTP/2" };
        let initialized = match tokio::time::timeout(remaining, greet_and_initialize(&plugin, &spec.config)).await {
            Ok(result) => result,
            Err(_) => {
                plugin.kill_now().await;
                return Err(Error::StartTimeout {
                    plugin: name.clone(),
                    after: spec.start_timeout,
                    stage,
                    stderr: plugin.stderr_tail.lines(),
                });
            }
        };
        if let Err(e) = initialized {
            plugin.kill_now().await;
            let stderr = plugin.stderr_tail.lines();
            return Err(match e {
                Error::Call { message, method, code: tonic::Code::Unimplemented, .. } => {
                    let service = plugin.kind.service().unwrap_or_default();
                    let message = format!(
                        "it does not serve the Hector {service} service ({method} failed (UNIMPLEMENTED): {message}). \
                         If it is a generic go-plugin plugin, load it with type=\"grpc\" (and its own \
                         magic_cookie_key, magic_cookie_value and protocol_versions) and call it through pm.raw()"
                    );
                    Error::start(&name, message, stderr)
                }
                Error::Call { message, method, code, .. } => Error::start(
                    &name,
                    format!("{method} failed ({}): {message}", crate::error::code_name(code)),
                    stderr,
                ),
                Error::Crashed { exit, .. } => {
                    Error::start(&name, format!("it crashed during Initialize ({exit})"), stderr)
                }
                other => other,
            });
        }
        Ok(plugin)
    }

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

    /// Crashed or stopped: this process will never answer again (a restart replaces it).
    pub fn is_finished(&self) -> bool {
        matches!(self.state(), State::Crashed | State::Stopped)
    }

    pub fn channel(&self) -> PluginChannel {
        self.channel.clone()
    }

    /// The deadline of a call given none (`None`: no deadline).
    pub fn call_timeout(&self) -> Option<Duration> {
        self.spec.connection.call_timeout
    }

    pub fn state(&self) -> State {
        *self.state.borrow()
    }

    pub fn status(&self) -> PluginStatus {
        PluginStatus {
            name: self.name.clone(),
            kind: self.kind,
            path: self.path.clone(),
            pid: self.pid,
            state: self.state(),
            protocol_version: self.protocol_version,
            address: self.address.to_string(),
            exit: *self.exit.borrow(),
            restarts: self.restarts(),
            killed: self.killed.load(Ordering::SeqCst),
            version: self.manifest.as_ref().map(|m| m.version.clone()),
            capabilities: self.manifest.as_ref().map(|m| m.capabilities.clone()).unwrap_or_default(),
        }
    }

    /// A capability flag from the manifest (`None` when not declared).
    pub fn capability(&self, name: &str) -> Option<bool> {
        self.manifest.as_ref().and_then(|m| m.capability(name))
    }

    pub fn stderr_tail(&self) -> Vec<String> {
        self.stderr_tail.lines()
    }

    /// Refuses calls to a plugin that is gone, before any network round trip.
    pub fn ensure_callable(&self, method: &str) -> Result<()> {
        if self.state() == State::Ready && (self.has_exited() || self.channel.is_closed()) {
            // Gone, but the watcher tasks have not said so yet.
            self.mark_crashed();
        }
        match self.state() {
            State::Ready => Ok(()),
            State::Crashed => Err(self.crashed(method)),
            state => Err(Error::Closed { plugin: self.name.clone(), state: state.closed() }),
        }
    }

    /// Ready → Crashed, unless a shutdown is under way. True if this call made the change.
    fn mark_crashed(&self) -> bool {
        self.state.send_if_modified(|state| {
            let unexpected = *state == State::Ready && !self.stopping.load(Ordering::SeqCst);
            if unexpected {
                *state = State::Crashed;
            }
            unexpected
        })
    }

    /// Ready and, as far as this host can tell, still able to answer.
    pub fn is_serving(&self) -> bool {
        self.state() == State::Ready && !self.has_exited() && !self.channel.is_closed()
    }

    fn crashed(&self, method: &str) -> Error {
        let exit = self.exit.borrow().map(|e| e.to_string()).unwrap_or_else(|| "it closed its gRPC connection".into());
        Error::Crashed { plugin: self.name.clone(), method: method.into(), exit, stderr: self.stderr_tail.lines() }
    }

    /// Turns a failed call into the right error: a crash if the process died under it.
    pub async fn call_error(&self, method: &str, status: tonic::Status) -> Error {
        // A transport failure (no gRPC status from the plugin: the status wraps an I/O error)
        // may be a crash whose exit is not reaped yet. A plugin's own error codes are not.
        let transport_failure = std::error::Error::source(&status).is_some()
            || self.channel.is_closed()
            || matches!(status.code(), tonic::Code::Unavailable | tonic::Code::Cancelled);
        if self.has_exited() || transport_failure {
            // The connection usually breaks a moment before the exit is reaped.
            let mut exit = self.exit.clone();
            let _ = tokio::time::timeout(Duration::from_millis(250), exit.wait_for(Option::is_some)).await;
            if self.exit.borrow().is_some() || self.state() == State::Crashed || self.channel.is_closed() {
                if self.stopping.load(Ordering::SeqCst) {
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

    /// tonic's "message length too large" names no setting; say which one to raise.
    fn explain_size_limit(&self, message: &str) -> String {
        let direction = if message.contains("decoded message length too large") {
            "response"
        } else if message.contains("encoded message length too large") {
            "request"
        } else {
            return message.into();
        };
        let limit = self.channel.max_message_bytes();
        format!(
            "the {direction} is larger than plugin {:?}'s max_message_size of {limit} bytes ({message}); \
             raise max_message_size in its hector.yaml entry or pm.load(..., max_message_size=...)",
            self.name
        )
    }

    pub fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// The grace period this plugin was configured with.
    pub fn shutdown_grace(&self) -> Duration {
        self.spec.shutdown_grace
    }

    /// Graceful shutdown: the service's own `Shutdown`, go-plugin's controller `Shutdown`, a
    /// grace period, then the whole process group is killed and reaped. Idempotent. The work
    /// runs in its own task, so a caller that gives up (a cancelled `await`) cannot leave the
    /// plugin half stopped: every caller just waits for the same outcome.
    pub async fn shutdown(self: &Arc<Self>, grace: Duration) {
        if !self.stopping.swap(true, Ordering::SeqCst) {
            let plugin = self.clone();
            tokio::spawn(async move { plugin.stop_gracefully(grace).await });
        }
        let mut state = self.state.subscribe();
        let _ = state.wait_for(|s| *s == State::Stopped).await;
    }

    /// Everything before the kill fits in `grace`: the plugin's own RPCs share it with the wait
    /// for its exit, so a frozen plugin costs its caller `grace`, not fixed RPC timeouts on top.
    async fn stop_gracefully(&self, grace: Duration) {
        self.state.send_replace(State::Stopping);
        let deadline = tokio::time::Instant::now() + grace;
        if !self.has_exited() {
            let ask_to_exit = async {
                let _ = tokio::time::timeout(SHUTDOWN_RPC_TIMEOUT, crate::lifecycle::shutdown(self)).await;
                let mut controller = GrpcControllerClient::with_origin(self.channel.clone(), origin());
                // Go plugins stop their server inside this call: the status is often UNAVAILABLE.
                let _ =
                    tokio::time::timeout(SHUTDOWN_RPC_TIMEOUT, controller.shutdown(crate::proto::goplugin::Empty {}))
                        .await;
            };
            let _ = tokio::time::timeout_at(deadline, ask_to_exit).await;
        }
        let mut exit = self.exit.clone();
        if tokio::time::timeout_at(deadline, exit.wait_for(Option::is_some)).await.is_err() {
            self.killed.store(true, Ordering::SeqCst);
        }
        self.finish().await;
    }

    /// Kills without asking (failed start).
    pub async fn kill_now(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        if !self.has_exited() {
            self.killed.store(true, Ordering::SeqCst);
        }
        self.finish().await;
    }

    /// Kills the group (children the plugin left behind too), reaps, removes sockets.
    async fn finish(&self) {
        self.kill_group_if_running();
        let mut exit = self.exit.clone();
        let _ = tokio::time::timeout(Duration::from_secs(5), exit.wait_for(Option::is_some)).await;
        self.remove_sockets();
        self.state.send_replace(State::Stopped);
    }

    /// Through the keeper, which alone may signal the plugin's pid (it has not reaped it).
    fn kill_group_if_running(&self) {
        if self.owned_by_this_process() {
            kill_unless_exited(&self.keeper, &self.exit);
        }
    }

    fn owned_by_this_process(&self) -> bool {
        std::process::id() == self.host_pid
    }

    fn remove_sockets(&self) {
        if !self.owned_by_this_process() {
            return;
        }
        // Only the directory the host created goes, with the plugin's socket in it. A socket the
        // plugin put elsewhere may belong to another process (the handshake line names any
        // path it likes): it is left alone.
        if let Some(dir) = self.socket_dir.lock().unwrap().take() {
            let _ = dir.close();
        }
    }

    fn log(&self, level: crate::logs::Level, message: String) {
        self.sink.log(LogRecord {
            plugin: self.name.clone(),
            level,
            message,
            fields: Default::default(),
            timestamp: None,
            source: Source::Stderr,
        });
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        if !self.owned_by_this_process() {
            // A forked child dropping its copy: the directory is the parent's, keep it.
            if let Some(dir) = self.socket_dir.lock().unwrap().take() {
                dir.keep();
            }
            return;
        }
        // Last reference gone without a shutdown: never leave the process behind.
        if self.state() != State::Stopped {
            self.kill_group_if_running();
            self.remove_sockets();
        }
    }
}

/// Has the keeper kill the plugin's process group and descendants, unless it already reported
/// the plugin's exit (it swept them then).
fn kill_unless_exited(keeper: &crate::keeper::Keeper, exit: &watch::Receiver<Option<ExitInfo>>) {
    if exit.borrow().is_none() {
        keeper.kill();
    }
}

/// The server must speak HTTP/2 (an HTTP/1 server would otherwise look like a plugin that crashed
/// during Initialize), then the service's `Initialize`.
async fn greet_and_initialize(plugin: &Plugin, config: &BTreeMap<String, serde_json::Value>) -> Result<()> {
    if let Some(answer) = plugin.channel.wrong_protocol().await {
        return Err(Error::start(
            &plugin.name,
            format!(
                "{} does not speak HTTP/2 gRPC: {answer}. The handshake line must name the plugin's gRPC server",
                crate::handshake::shorten(&plugin.address.to_string())
            ),
            plugin.stderr_tail.lines(),
        ));
    }
    crate::lifecycle::initialize(plugin, config).await
}

/// Waits (briefly) until a killed plugin's stderr is read to the end, so errors quote it all.
async fn drain_stderr(mut done: watch::Receiver<bool>) {
    let _ = tokio::time::timeout(Duration::from_millis(500), done.wait_for(|done| *done)).await;
}

/// Kills a half-started plugin if start() returns early or is cancelled.
struct KillOnDrop {
    keeper: crate::keeper::Keeper,
    exit: watch::Receiver<Option<ExitInfo>>,
    armed: bool,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.armed {
            kill_unless_exited(&self.keeper, &self.exit);
        }
    }
}

/// Everything that can be checked without launching: options, path, working directory,
/// executable bit, manifest (whose defaults complete the config). Returns the completed spec.
pub fn prepare(mut spec: PluginSpec) -> Result<(PluginSpec, Option<crate::manifest::Manifest>)> {
    let name = spec.name.clone();
    spec.launch.validate().map_err(|e| Error::config(format!("plugin {name:?}: {e}")))?;
    // Relative to the host's working directory, never looked up on PATH.
    spec.path = std::path::absolute(&spec.path)
        .map_err(|e| Error::start(&name, format!("bad path {}: {e}", spec.path.display()), vec![]))?;
    if let Some(dir) = &spec.launch.working_dir {
        if !dir.is_dir() {
            return Err(Error::start(&name, format!("working directory {} does not exist", dir.display()), vec![]));
        }
    }
    check_executable(&name, &spec.path)?;
    let manifest = crate::manifest::read_for(&spec.path)?;
    if let Some(manifest) = &manifest {
        manifest.apply(&crate::manifest::path_for(&spec.path), spec.kind, &mut spec.config)?;
    }
    Ok((spec, manifest))
}

fn check_executable(name: &str, path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path)
        .map_err(|e| Error::start(name, format!("executable {} not found: {e}", path.display()), vec![]))?;
    if !metadata.is_file() {
        return Err(Error::start(name, format!("{} is not a file", path.display()), vec![]));
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        return Err(Error::start(name, format!("{} is not executable (chmod +x it)", path.display()), vec![]));
    }
    Ok(())
}

enum LineOutcome {
    Line(String),
    Closed(Option<ExitInfo>),
    TimedOut,
}

async fn wait_for_line(
    first_line: oneshot::Receiver<Option<String>>,
    mut exit: watch::Receiver<Option<ExitInfo>>,
    timeout: Duration,
) -> LineOutcome {
    let waiting = async {
        let mut first_line = first_line;
        let mut exited = exit.clone();
        tokio::select! {
            line = &mut first_line => match line {
                Ok(Some(line)) => return LineOutcome::Line(line),
                // stdout closed: report how the process ended, if it does so promptly.
                _ => {
                    let _ = tokio::time::timeout(Duration::from_millis(500), exit.wait_for(Option::is_some)).await;
                }
            },
            // The process may exit while a child it started still holds stdout open.
            () = async { let _ = exited.wait_for(Option::is_some).await; } => {
                if let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_millis(500), first_line).await {
                    return LineOutcome::Line(line);
                }
            }
        }
        let info = *exit.borrow();
        LineOutcome::Closed(info)
    };
    tokio::time::timeout(timeout, waiting).await.unwrap_or(LineOutcome::TimedOut)
}

/// Reads the handshake line, then drains stdout for the life of the process (a full pipe would
/// block the plugin), logging what it prints.
async fn read_stdout(
    stdout: impl AsyncRead + Unpin,
    plugin: String,
    sink: Arc<dyn LogSink>,
    first_line: oneshot::Sender<Option<String>>,
) {
    let mut first_line = Some(first_line);
    let mut on_line = |line: String| {
        if let Some(sender) = first_line.take() {
            let _ = sender.send(Some(line));
        } else {
            sink.log(LogRecord {
                plugin: plugin.clone(),
                level: crate::logs::Level::Debug,
                message: line,
                fields: Default::default(),
                timestamp: None,
                source: Source::Stdout,
            });
        }
    };
    // The handshake line may be long (a certificate), so it gets a generous limit.
    read_lines(stdout, MAX_LINE_BYTES, &mut on_line).await;
    if let Some(sender) = first_line {
        let _ = sender.send(None);
    }
}

async fn forward_stderr(
    stderr: impl AsyncRead + Unpin,
    plugin: String,
    sink: Arc<dyn LogSink>,
    tail: StderrTail,
    done: watch::Sender<bool>,
) {
    let mut classifier = LineClassifier::default();
    let mut on_line = |line: String| {
        tail.push(&line);
        let (level, message, fields, timestamp) = classifier.classify(&line);
        sink.log(LogRecord { plugin: plugin.clone(), level, message, fields, timestamp, source: Source::Stderr });
    };
    read_lines(stderr, MAX_LINE_BYTES, &mut on_line).await;
    let _ = done.send(true);
}

async fn read_lines(mut reader: impl AsyncRead + Unpin, max: usize, on_line: &mut impl FnMut(String)) {
    let mut splitter = LineSplitter::new(max);
    let mut buffer = vec![0u8; 16 * 1024];
    let mut lines = Vec::new();
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                splitter.push(&buffer[..n], &mut lines);
                lines.drain(..).for_each(&mut *on_line);
            }
        }
    }
    splitter.finish(&mut lines);
    lines.drain(..).for_each(on_line);
}

/// A plugin that closes its gRPC connection while it should be serving can never answer
/// again: it is marked crashed and its process group is killed.
async fn watch_connection(plugin: Weak<Plugin>, closed: crate::transport::ConnectionClosed) {
    let _ = closed.await;
    // An exit explains it better: let the exit watcher report that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let Some(plugin) = plugin.upgrade() else { return };
    if !plugin.has_exited() && plugin.mark_crashed() {
        plugin.log(crate::logs::Level::Error, "plugin closed its gRPC connection while running; it was killed".into());
        plugin.kill_group_if_running();
    }
}

/// Marks the plugin crashed when its process exits while nobody asked it to.
async fn watch_for_crash(plugin: Weak<Plugin>) {
    let mut exit = match plugin.upgrade() {
        Some(plugin) => plugin.exit.clone(),
        None => return,
    };
    let _ = exit.wait_for(Option::is_some).await;
    let Some(plugin) = plugin.upgrade() else { return };
    plugin.mark_crashed();
    if plugin.stopping.load(Ordering::SeqCst) || plugin.state() != State::Crashed {
        return;
    }
    let exit = exit.borrow().map(|e| e.to_string()).unwrap_or_default();
    plugin.log(crate::logs::Level::Error, format!("plugin exited unexpectedly ({exit})"));
    plugin.remove_sockets();
}
