//! The plugin's process as the host holds it (docs/protocol.md §1): launched under its keeper
//! (or, off Linux, the portable launcher) with a socket directory of its own, its pipes read for
//! its whole life, its exit reported once the launcher has reaped it and what it kills with it.
//!
//! Only the launcher may signal the plugin (through its `KillHandle`), and only the process that
//! launched it may ask: a forked child of the host inherits this object but is not the plugin's
//! parent.

use super::pipes;
use super::spec::PluginSpec;
use super::state::ExitInfo;
use crate::error::{Error, Result};
use crate::launch::{self, SocketDir, Stdio};
use crate::log_budget::LogGate;
use crate::logs::{Level, LogRecord, LogSink, Source, StderrTail};
use crate::security::confine::Confinement;
use crate::security::sandbox::PluginPaths;
use crate::security::trust::{self, Trust, VerifiedExecutable};
use crate::supervised::Executable;
use crate::supervised::KillHandle;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::unix::pipe;
use tokio::sync::{oneshot, watch};

pub(super) struct Process {
    pub(super) pid: u32,
    /// Kills the plugin and what its launcher kills with it.
    kill_handle: KillHandle,
    /// The process that launched the plugin.
    host_pid: u32,
    exit: watch::Receiver<Option<ExitInfo>>,
    stderr_tail: StderrTail,
    /// The log budget its outputs pass (docs/protocol.md §5.2), and what it dropped.
    log_gate: Arc<LogGate>,
    /// True once stderr was read to its end.
    stderr_done: watch::Receiver<bool>,
    /// Removed (with the socket in it) at shutdown or drop.
    socket_dir: Mutex<Option<SocketDir>>,
}

/// The plugin's first stdout line, once it comes (`None`: stdout closed without one).
pub(super) type FirstLine = oneshot::Receiver<Option<String>>;

/// What the start reads next from a launched process.
pub(super) enum Output {
    /// go-plugin: the handshake line (the rest of stdout is logged).
    FirstLine(FirstLine),
    /// An MCP server: stdout and stdin carry JSON-RPC.
    Mcp { stdout: pipe::Receiver, stdin: pipe::Sender },
}

/// What the launcher execs: the checked descriptor, except for a script none of whose bytes
/// were checked, which runs by path as before so that it keeps only fds 0-2 (docs/protocol.md §1.5).
fn exec_by_descriptor(verified: VerifiedExecutable, trust: &Trust) -> Option<Executable> {
    let contents_checked = trust.sha256.is_some() || trust.verify_signatures;
    (contents_checked || !verified.is_script)
        .then(|| Executable { file: verified.file.into(), is_script: verified.is_script })
}

impl Process {
    /// Starts the plugin under its launcher, with its stderr read and its exit watched; its
    /// stdout is read for the handshake line, or handed over (`stdio`).
    pub(super) async fn launch(spec: &PluginSpec, sink: &Arc<dyn LogSink>, stdio: Stdio) -> Result<(Process, Output)> {
        let name = &spec.name;
        // Opened once and checked here; that descriptor is what runs (docs/protocol.md §1.5).
        let verified = trust::verify(&spec.path, &spec.trust)
            .map_err(|refusal| Error::start(name, refusal.to_string(), vec![]))?;
        let socket_dir = launch::make_socket_dir()
            .map_err(|e| Error::start(name, format!("cannot create its socket directory: {e}"), vec![]))?;
        let paths = PluginPaths {
            executable: &spec.path,
            resolved_executable: &verified.path,
            socket_dir: socket_dir.path(),
            working_dir: spec.launch.working_dir.as_deref(),
        };
        let mut confinement =
            Confinement::prepare(name, &spec.protections, &paths).map_err(|e| Error::start(name, e, vec![]))?;
        for gap in &confinement.unenforced {
            sink.log(LogRecord::plain(name.clone(), Level::Warn, format!("not enforced: {gap}"), Source::Host));
        }
        let mut child = launch::spawn(
            &spec.path,
            exec_by_descriptor(verified, &spec.trust),
            &spec.launch,
            socket_dir.path(),
            stdio,
            confinement.child,
        )
        .await
        .map_err(|e| Error::start(name, format!("cannot execute {}: {e}", spec.path.display()), vec![]))?;
        let (warn_sink, plugin) = (sink.clone(), name.clone());
        let warn = move |text: String| warn_sink.log(LogRecord::plain(plugin.clone(), Level::Warn, text, Source::Host));
        confinement.started(child.pid, child.kill_handle.weak(), warn);

        let stderr_tail = StderrTail::default();
        let log_gate = Arc::new(LogGate::new(name.clone(), sink.clone(), spec.log_budget));
        let (stderr_done_tx, stderr_done) = watch::channel(false);
        let stderr = child.stderr.take().expect("stderr is piped");
        tokio::spawn(pipes::read_stderr(stderr, log_gate.clone(), stderr_tail.clone(), stderr_done_tx));

        let stdout = child.stdout.take().expect("stdout is piped");
        let output = match child.stdin.take() {
            Some(stdin) => Output::Mcp { stdout, stdin },
            None => {
                let (first_line_tx, first_line) = oneshot::channel();
                tokio::spawn(pipes::read_stdout(stdout, log_gate.clone(), first_line_tx));
                Output::FirstLine(first_line)
            }
        };

        let (exit_tx, exit) = watch::channel(None);
        let process = Process {
            pid: child.pid,
            kill_handle: child.kill_handle.clone(),
            host_pid: std::process::id(),
            exit,
            stderr_tail,
            log_gate,
            stderr_done,
            socket_dir: Mutex::new(Some(socket_dir)),
        };
        tokio::spawn(async move {
            // Reported once the launcher has killed and reaped what the plugin left behind.
            let status = child.wait().await.map(ExitInfo::from);
            let mut exit = status.unwrap_or(ExitInfo { code: None, signal: None, limit: None });
            exit.limit = confinement.limit_hit(exit.signal);
            // Removes its cgroup, now empty.
            drop(confinement);
            let _ = exit_tx.send(Some(exit));
        });
        Ok((process, output))
    }

    pub(super) fn exit(&self) -> Option<ExitInfo> {
        *self.exit.borrow()
    }

    pub(super) fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Follows the exit, for a watcher that must not keep the process's owner alive.
    pub(super) fn exit_watch(&self) -> watch::Receiver<Option<ExitInfo>> {
        self.exit.clone()
    }

    /// Returns once the exit is reported (at once if it was).
    pub(super) async fn exited(&self) {
        let mut exit = self.exit.clone();
        let _ = exit.wait_for(Option::is_some).await;
    }

    pub(super) fn log_gate(&self) -> &Arc<LogGate> {
        &self.log_gate
    }

    pub(super) fn stderr_lines(&self) -> Vec<String> {
        self.stderr_tail.lines()
    }

    /// Waits (briefly) until a killed plugin's stderr is read to the end, so errors quote it all.
    pub(super) async fn drain_stderr(&self) {
        let mut done = self.stderr_done.clone();
        let _ = tokio::time::timeout(Duration::from_millis(500), done.wait_for(|done| *done)).await;
    }

    pub(super) fn owned_by_this_process(&self) -> bool {
        std::process::id() == self.host_pid
    }

    /// Has the launcher kill the plugin's process group (the keeper: and its descendants),
    /// unless it already reported the exit (it swept them then) or the plugin is not this
    /// process's to stop.
    pub(super) fn kill(&self) {
        if self.owned_by_this_process() {
            kill_unless_exited(&self.kill_handle, &self.exit);
        }
    }

    /// Kills the plugin if dropped before `disarm`: a start that fails or is cancelled.
    pub(super) fn kill_on_drop(&self) -> KillOnDrop {
        KillOnDrop { kill_handle: self.kill_handle.clone(), exit: self.exit.clone(), armed: true }
    }

    /// A start that failed: the plugin is killed, then every last stderr line it wrote is quoted.
    pub(super) async fn start_failed(&self, plugin: &str, message: String, handshake: bool) -> Error {
        self.kill();
        self.drain_stderr().await;
        Error::Start { plugin: plugin.into(), message, stderr: self.stderr_lines(), handshake }
    }

    /// A start that missed its timeout at `stage`: likewise killed, its stderr quoted.
    pub(super) async fn start_timed_out(&self, plugin: &str, after: Duration, stage: &'static str) -> Error {
        self.kill();
        self.drain_stderr().await;
        Error::StartTimeout { plugin: plugin.into(), after, stage, stderr: self.stderr_lines() }
    }

    pub(super) fn remove_socket_dir(&self) {
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
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.owned_by_this_process() {
            // A forked child dropping its copy: the directory is the parent's, keep it.
            if let Some(dir) = self.socket_dir.lock().unwrap().take() {
                dir.keep();
            }
        }
    }
}

pub(super) struct KillOnDrop {
    kill_handle: KillHandle,
    exit: watch::Receiver<Option<ExitInfo>>,
    armed: bool,
}

impl KillOnDrop {
    pub(super) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.armed {
            kill_unless_exited(&self.kill_handle, &self.exit);
        }
    }
}

fn kill_unless_exited(kill_handle: &KillHandle, exit: &watch::Receiver<Option<ExitInfo>>) {
    if exit.borrow().is_none() {
        kill_handle.kill();
    }
}
