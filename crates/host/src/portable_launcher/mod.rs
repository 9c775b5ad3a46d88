//! The portable launcher (docs/protocol.md §1.4): used on unix systems other than Linux (macOS,
//! the BSDs), which lack the keeper's primitives (clone, pidfd, child subreaper). It is plain
//! std and libc, so it is built and tested on Linux too, where the keeper stays in use.
//!
//! The plugin leads a process group of its own, with stdin `/dev/null`, stdout and stderr
//! piped, every signal at its default and no other descriptor of the host (`exec_setup`). A
//! thread waits for its exit; then, or when the host asks, or when the last `KillHandle` is
//! dropped, its group is killed and the plugin reaped (`group`). What it cannot do: nothing
//! kills the plugin when the host itself is killed or exits without stopping it (no keeper
//! outlives the host, and macOS has no parent-death signal), descendants that left the group
//! are not found, and the socket directory is removed by the host's shutdown only. It execs the
//! checked executable by path, not by its descriptor (docs/protocol.md §1.5): macOS has no
//! `fexecve` that runs a script, so a file swapped between the check and the exec would run.

mod exec_setup;
mod group;

use crate::supervised::{working_dir_error, Command, Kill, KillHandle, PluginProcess};
use group::Group;
use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use tokio::net::unix::pipe;
use tokio::sync::oneshot;

/// Starts the plugin; returns once it was exec'ed.
pub async fn spawn(command: Command) -> io::Result<PluginProcess> {
    let mut child = plugin_command(&command).spawn().map_err(|e| explain(e, &command))?;
    let group = Arc::new(Group::new(child.id()));
    // Dropped on any error below, this kills the group.
    let kill_handle = KillHandle::new(group.clone());
    let exited = watch_exit(group)?;
    let stdin = child.stdin.take().map(|s| pipe::Sender::from_owned_fd(s.into())).transpose()?;
    let stdout = receiver(child.stdout.take())?;
    let stderr = receiver(child.stderr.take())?;
    Ok(PluginProcess::new(child.id(), stdin, stdout, stderr, kill_handle, exited))
}

fn plugin_command(command: &Command) -> std::process::Command {
    let mut plugin = std::process::Command::new(exec_path(&command.program));
    plugin
        .env_clear()
        .args(&command.args)
        .envs(command.env.iter().map(|(key, value)| (key, value)))
        .stdin(if command.pipe_stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(cwd) = &command.cwd {
        plugin.current_dir(cwd);
    }
    // SAFETY: `before_exec` makes async-signal-safe calls only.
    unsafe {
        let confinement = command.confinement;
        plugin.pre_exec(move || exec_setup::before_exec(&confinement));
    }
    plugin
}

/// std looks a bare name up on PATH; the keeper execs the path as given (relative to the
/// working directory), and so do we.
fn exec_path(program: &Path) -> PathBuf {
    if program.as_os_str().as_bytes().contains(&b'/') {
        program.to_owned()
    } else {
        Path::new(".").join(program)
    }
}

/// std reports a failed change of directory and a failed exec alike (an errno): say which, as
/// the keeper does.
fn explain(error: io::Error, command: &Command) -> io::Error {
    match &command.cwd {
        Some(cwd) if !can_enter(cwd) => working_dir_error(&cwd.display().to_string(), error),
        _ => error,
    }
}

fn can_enter(dir: &Path) -> bool {
    let Ok(path) = CString::new(dir.as_os_str().as_bytes()) else { return false };
    // SAFETY: access(2) reads the NUL-terminated path only.
    std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) && unsafe { libc::access(path.as_ptr(), libc::X_OK) } == 0
}

/// A thread blocked in the plugin's wait, for as long as the plugin lives: not a tokio blocking
/// task, which a runtime shutting down would wait for.
fn watch_exit(group: Arc<Group>) -> io::Result<oneshot::Receiver<Option<ExitStatus>>> {
    const WAITER_STACK: usize = 64 * 1024;
    let (exited_tx, exited) = oneshot::channel();
    let waiter = group.clone();
    let started = std::thread::Builder::new().name("hplug-wait".into()).stack_size(WAITER_STACK).spawn(move || {
        let _ = exited_tx.send(waiter.wait());
    });
    match started {
        Ok(_) => Ok(exited),
        Err(e) => {
            // Nobody else would reap it. A SIGKILLed process exits at once: this wait is short.
            group.kill();
            group.wait();
            Err(e)
        }
    }
}

fn receiver(pipe: Option<impl Into<OwnedFd>>) -> io::Result<pipe::Receiver> {
    let pipe = pipe.ok_or_else(|| io::Error::other("the plugin's pipe was not created"))?;
    pipe::Receiver::from_owned_fd(pipe.into())
}
