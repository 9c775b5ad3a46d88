//! A plugin process as every launcher hands it to the host (docs/protocol.md §1.4): what to run,
//! the started process with its pipes and its exit, and the handle that kills it. The keeper
//! (Linux) and the portable launcher (other unix systems) both produce these; `launch::spawn`
//! picks one.

use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;
use tokio::net::unix::pipe;
use tokio::sync::oneshot;

/// What to run.
pub struct Command {
    pub program: PathBuf,
    /// Arguments after the program's name (go-plugin plugins get none; MCP servers their `args`).
    pub args: Vec<OsString>,
    /// A pipe for the plugin's stdin (an MCP server's requests), else `/dev/null`.
    pub pipe_stdin: bool,
    /// The plugin's whole environment.
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
    /// Removed by the keeper if the host dies (the portable launcher leaves it to the host).
    pub socket_dir: PathBuf,
    /// Applied between fork and exec (docs/security.md); the portable launcher applies the
    /// resource limits only.
    pub confinement: crate::security::confine::ChildConfinement,
    /// The checked executable (docs/protocol.md §1.5): the keeper execs this descriptor, not
    /// `program`; the portable launcher execs `program`. `None`: `program` by path.
    pub executable: Option<Executable>,
}

/// An executable open for exec by descriptor.
pub struct Executable {
    pub file: OwnedFd,
    /// A `#!` script: the descriptor stays open across the exec, for the interpreter to read.
    pub is_script: bool,
}

/// A started plugin, as the host sees it.
pub struct PluginProcess {
    /// The plugin's own pid (not its keeper's).
    pub pid: u32,
    /// The host's end of the plugin's stdin, when it was asked for ([`Command::pipe_stdin`]).
    pub stdin: Option<pipe::Sender>,
    pub stdout: Option<pipe::Receiver>,
    pub stderr: Option<pipe::Receiver>,
    pub kill_handle: KillHandle,
    exited: Option<oneshot::Receiver<Option<ExitStatus>>>,
}

impl PluginProcess {
    pub(crate) fn new(
        pid: u32,
        stdin: Option<pipe::Sender>,
        stdout: pipe::Receiver,
        stderr: pipe::Receiver,
        kill_handle: KillHandle,
        exited: oneshot::Receiver<Option<ExitStatus>>,
    ) -> PluginProcess {
        PluginProcess { pid, stdin, stdout: Some(stdout), stderr: Some(stderr), kill_handle, exited: Some(exited) }
    }

    /// The plugin's wait status, once it and what its launcher kills with it are gone. `None`
    /// if the launcher could not learn it (a killed keeper, a plugin reaped by someone else).
    pub async fn wait(&mut self) -> Option<ExitStatus> {
        let exited = self.exited.take()?;
        exited.await.ok().flatten()
    }
}

/// A working directory the plugin could not change to, said the same way by every launcher.
pub(crate) fn working_dir_error(cwd: &str, cause: io::Error) -> io::Error {
    io::Error::new(cause.kind(), format!("cannot change to its working directory {cwd}: {cause}"))
}

/// How a launcher kills its plugin: asynchronously (`PluginProcess::wait` reports the end),
/// harmless once the plugin is gone.
pub(crate) trait Kill: Send + Sync {
    fn kill(&self);
}

/// Kills the plugin's process group (and, under the keeper, every descendant). Cloned freely;
/// when the last clone is dropped the plugin is killed too, so an abandoned start leaves nothing
/// running.
#[derive(Clone)]
pub struct KillHandle(Arc<Owned>);

impl KillHandle {
    pub(crate) fn new(kill: Arc<dyn Kill>) -> KillHandle {
        KillHandle(Arc::new(Owned { kill, owner: std::process::id() }))
    }

    pub fn kill(&self) {
        self.0.kill();
    }

    /// Kills like `kill` while some clone lives, without keeping the plugin alive itself (a
    /// watcher's copy).
    pub fn weak(&self) -> impl Fn() + Send + Sync + 'static {
        let weak = Arc::downgrade(&self.0);
        move || {
            if let Some(owned) = weak.upgrade() {
                owned.kill();
            }
        }
    }
}

struct Owned {
    kill: Arc<dyn Kill>,
    /// A forked child of the host inherits this, but the plugin is not its to stop.
    owner: u32,
}

impl Owned {
    fn kill(&self) {
        if std::process::id() == self.owner {
            self.kill.kill();
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.kill();
    }
}
