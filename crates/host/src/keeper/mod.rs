//! The keeper: one small process per plugin that makes sure nothing of the plugin outlives the
//! host, whatever killed the host, unless the kernel kills the keeper with it: it shares the
//! host's memory, so the OOM killer (and a core dump before Linux 5.16) takes it too
//! (docs/protocol.md §1.4, §6). Linux only: other systems use `crate::portable_launcher`.
//!
//! ```text
//! host ──clone(CLONE_VM)──▶ keeper ──fork, exec──▶ plugin ──▶ its children, daemons...
//! ```
//!
//! The keeper is a child subreaper that watches the host through a pidfd. When the plugin exits,
//! when the host asks (a byte on the control socket, or the socket closing) or when the host
//! dies, it kills the plugin's process group, then every descendant that was reparented to it
//! (a `setsid` daemon), reaps them all, and reports the plugin's wait status; after the host's
//! death it removes the socket directory instead. The host only ever signals through the
//! socket, never by pid, so a reused pid is never hit.
//!
//! Here is the host's side. The code that runs in the keeper (raw system calls only, those of
//! `sys.rs`): `child.rs` (its set-up and event loop), `spawn.rs` (starting the plugin),
//! `sweep.rs` (killing and reaping what the plugin left), `dirs.rs` (directory listings on the
//! stack); `args.rs` is what the host hands it.

mod args;
mod child;
mod dirs;
mod spawn;
mod sweep;
mod sys;

use args::KeeperArgs;

use crate::supervised::{working_dir_error, Command, Kill, KillHandle, PluginProcess};
use std::ffi::CString;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::sync::oneshot;

/// Asks the keeper to kill the plugin: a byte on the control socket, never a signal by pid.
struct Control {
    socket: OwnedFd,
}

impl Kill for Control {
    fn kill(&self) {
        // SAFETY: a send on a socket we own; EPIPE (keeper gone) is fine.
        unsafe {
            libc::send(self.socket.as_raw_fd(), b"K".as_ptr().cast(), 1, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT);
        }
    }
}

/// Why the plugin could not be started, as the keeper reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Stage {
    Keeper = 1,
    WorkingDir = 2,
    Exec = 3,
    /// Joining the plugin's cgroups.
    Cgroup = 4,
    /// Its own network namespace.
    Network = 5,
    /// Its resource limits.
    Limits = 6,
    /// Its Landlock rules.
    Landlock = 7,
}

impl Stage {
    fn from_u32(value: u32) -> Stage {
        match value {
            2 => Stage::WorkingDir,
            3 => Stage::Exec,
            4 => Stage::Cgroup,
            5 => Stage::Network,
            6 => Stage::Limits,
            7 => Stage::Landlock,
            _ => Stage::Keeper,
        }
    }

    fn error(self, errno: i32, command: &CommandText) -> io::Error {
        let cause = io::Error::from_raw_os_error(errno);
        match self {
            // Kept raw, so callers see the usual "No such file or directory" etc.
            Stage::Exec => cause,
            Stage::WorkingDir => working_dir_error(&command.cwd, cause),
            Stage::Keeper => io::Error::new(cause.kind(), format!("the plugin's keeper process failed: {cause}")),
            Stage::Cgroup => io::Error::new(cause.kind(), format!("it could not join its cgroup: {cause}")),
            Stage::Network => {
                io::Error::new(cause.kind(), format!("it could not get a network namespace of its own: {cause}"))
            }
            Stage::Limits => io::Error::new(cause.kind(), format!("its resource limits could not be set: {cause}")),
            Stage::Landlock => {
                io::Error::new(cause.kind(), format!("its Landlock rules could not be applied: {cause}"))
            }
        }
    }
}

/// Keeper → host, 8 bytes each: a tag and a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    Started(i32),
    Failed(Stage, i32),
    /// A `wait` status.
    Exited(i32),
}

impl Message {
    fn encode(self) -> [u8; 8] {
        let (tag, value) = match self {
            Message::Started(pid) => (1u32, pid),
            Message::Failed(stage, errno) => (0x100 | stage as u32, errno),
            Message::Exited(status) => (2, status),
        };
        let mut bytes = [0u8; 8];
        let (left, right) = bytes.split_at_mut(4);
        left.copy_from_slice(&tag.to_ne_bytes());
        right.copy_from_slice(&value.to_ne_bytes());
        bytes
    }

    fn decode(bytes: [u8; 8]) -> Option<Message> {
        let [a, b, c, d, e, f, g, h] = bytes;
        let (tag, value) = (u32::from_ne_bytes([a, b, c, d]), i32::from_ne_bytes([e, f, g, h]));
        match tag {
            1 => Some(Message::Started(value)),
            2 => Some(Message::Exited(value)),
            tag if tag & 0x100 != 0 => Some(Message::Failed(Stage::from_u32(tag & 0xff), value)),
            _ => None,
        }
    }
}

/// For error messages only.
struct CommandText {
    cwd: String,
}

/// Starts the keeper, which starts the plugin; returns once the plugin was exec'ed.
pub async fn spawn(command: Command) -> io::Result<PluginProcess> {
    let Launched { keeper, stdin, stdout, stderr, started, exited } = launch_keeper(&command)?;
    // Dropping `keeper` on error or cancellation here asks the keeper to kill the plugin.
    let pid = started.await.unwrap_or_else(|_| Err(io::Error::other("the plugin's keeper task was dropped")))?;
    let stdin = stdin.map(pipe::Sender::from_owned_fd).transpose()?;
    let stdout = pipe::Receiver::from_owned_fd(stdout)?;
    let stderr = pipe::Receiver::from_owned_fd(stderr)?;
    Ok(PluginProcess::new(pid, stdin, stdout, stderr, keeper, exited))
}

struct Launched {
    keeper: KillHandle,
    /// The host's end of the plugin's stdin, if piped.
    stdin: Option<OwnedFd>,
    stdout: OwnedFd,
    stderr: OwnedFd,
    started: oneshot::Receiver<io::Result<u32>>,
    exited: oneshot::Receiver<Option<ExitStatus>>,
}

fn launch_keeper(command: &Command) -> io::Result<Launched> {
    let text = CommandText { cwd: command.cwd.as_deref().map(|p| p.display().to_string()).unwrap_or_default() };
    let prepared = Prepared::new(command)?;
    let socket_dir = c_path(&command.socket_dir)?;
    // The plugin's end of stdin, and the host's end when it is a pipe.
    let (stdin, stdin_write): (OwnedFd, Option<OwnedFd>) = if command.pipe_stdin {
        let (read, write) = pipe_pair()?;
        (read, Some(write))
    } else {
        (std::fs::File::open("/dev/null")?.into(), None)
    };
    let (stdout_read, stdout_write) = pipe_pair()?;
    let (stderr_read, stderr_write) = pipe_pair()?;
    let (host_end, keeper_end) = std::os::unix::net::UnixStream::pair()?;
    let stack = Stack::new()?;
    let args = Box::new(KeeperArgs {
        host_pid: std::process::id() as i32,
        path: prepared.program.as_ptr(),
        argv: prepared.argv.as_ptr(),
        envp: prepared.envp.as_ptr(),
        cwd: prepared.cwd.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
        socket_dir: socket_dir.as_ptr(),
        stdin: stdin.as_raw_fd(),
        stdout: stdout_write.as_raw_fd(),
        stderr: stderr_write.as_raw_fd(),
        control: keeper_end.as_raw_fd(),
        confinement: command.confinement,
        exec_fd: command.executable.as_ref().map_or(-1, |e| e.file.as_raw_fd()),
        exec_fd_inherited: command.executable.as_ref().is_some_and(|e| e.is_script).into(),
    });
    let keeper_pid = clone_keeper(&stack, &args)?;
    // The keeper runs on `stack` and reads the rest: from here on they are freed only by
    // `reap`, once the keeper is known to be gone, and leaked on every other path (a dropped
    // watcher task, a thread that could not start).
    let resources =
        ManuallyDrop::new(Resources { _stack: stack, _args: args, _socket_dir: socket_dir, exec: Some(prepared) });
    // The keeper has its own copies now.
    drop((stdin, stdout_write, stderr_write, keeper_end));
    // From here on the keeper must be reaped whatever fails: the watcher task does it.
    let socket = host_end.try_clone();
    let messages = host_end.set_nonblocking(true).and_then(|()| tokio::net::UnixStream::from_std(host_end));
    let (started_tx, started) = oneshot::channel();
    let (exited_tx, exited) = oneshot::channel();
    let (messages, socket) = match (messages, socket) {
        (Ok(messages), Ok(socket)) => (messages, socket),
        (Err(e), _) | (_, Err(e)) => {
            // Without our end the keeper sees EOF, kills the plugin and exits. If no thread can
            // be started, the keeper stays a zombie and `resources` leak (the closure drops a
            // ManuallyDrop).
            let _ = std::thread::Builder::new().name("hplug-reap".into()).spawn(move || reap(keeper_pid, resources));
            return Err(e);
        }
    };
    tokio::spawn(watch_keeper(messages, keeper_pid, resources, text, started_tx, exited_tx));
    let keeper = KillHandle::new(Arc::new(Control { socket: socket.into() }));
    Ok(Launched { keeper, stdin: stdin_write, stdout: stdout_read, stderr: stderr_read, started, exited })
}

/// Reads the keeper's messages; once it has gone, reaps it and frees its stack.
async fn watch_keeper(
    mut messages: tokio::net::UnixStream,
    keeper_pid: i32,
    // Freed only after the keeper is reaped: it runs on that stack and reads those strings.
    mut resources: ManuallyDrop<Resources>,
    text: CommandText,
    started: oneshot::Sender<io::Result<u32>>,
    exited: oneshot::Sender<Option<ExitStatus>>,
) {
    let mut started = Some(started);
    let mut status = None;
    let mut bytes = [0u8; 8];
    while messages.read_exact(&mut bytes).await.is_ok() {
        match Message::decode(bytes) {
            Some(Message::Started(pid)) => {
                // Past the exec: the keeper will not read them again.
                resources.exec = None;
                if let Some(tx) = started.take() {
                    let _ = tx.send(Ok(pid as u32));
                }
            }
            Some(Message::Failed(stage, errno)) => {
                resources.exec = None;
                if let Some(tx) = started.take() {
                    let _ = tx.send(Err(stage.error(errno, &text)));
                }
                break;
            }
            Some(Message::Exited(raw)) => {
                status = Some(ExitStatus::from_raw(raw));
                break;
            }
            None => {}
        }
    }
    // The keeper exits right after its last message (or was killed): this wait is short. Not
    // the socket's EOF: a process forked from the host while the keeper's end was open may
    // hold a copy of it for as long as it lives.
    let _ = tokio::task::spawn_blocking(move || reap(keeper_pid, resources)).await;
    if let Some(tx) = started.take() {
        let _ = tx.send(Err(io::Error::other("the plugin's keeper process exited before starting the plugin")));
    }
    let _ = exited.send(status);
}

/// Waits for the keeper to exit, then frees what it ran on (leaked if this never returns, or
/// if the keeper's end is unknown: it may still be running on it).
fn reap(keeper_pid: i32, resources: ManuallyDrop<Resources>) {
    loop {
        // SAFETY: the keeper is our child and nobody else reaps it by pid.
        let r = unsafe { libc::waitpid(keeper_pid, std::ptr::null_mut(), 0) };
        if r == keeper_pid {
            break;
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => continue,
            // No longer our child, so it has exited: reaped by someone else (a `waitpid(-1)`
            // elsewhere in the host) or by the kernel (the host ignores SIGCHLD).
            Some(libc::ECHILD) => break,
            _ => return,
        }
    }
    drop(ManuallyDrop::into_inner(resources));
}

/// Clones the keeper with every signal blocked that glibc lets us block (all but 32 and 33,
/// which the keeper blocks first thing): it must never run one of the host's handlers (they
/// would write to the host's memory, which it shares).
fn clone_keeper(stack: &Stack, args: &KeeperArgs) -> io::Result<i32> {
    // SAFETY: the keeper runs `keeper_main` on its own stack with `args`, both alive until it is
    // reaped (see watch_keeper); the mask is restored in this thread right after.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            child::keeper_main,
            stack.top(),
            libc::CLONE_VM | libc::SIGCHLD,
            args as *const KeeperArgs as *mut libc::c_void,
        );
        let error = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            return Err(io::Error::new(error.kind(), format!("cannot start the plugin's keeper process: {error}")));
        }
        Ok(pid)
    }
}

fn pipe_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: pipe2 fills both fds, which we then own.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// The C strings and pointer arrays the plugin's exec reads.
struct Prepared {
    program: CString,
    cwd: Option<CString>,
    _args: Vec<CString>,
    _env: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

impl Prepared {
    fn new(command: &Command) -> io::Result<Prepared> {
        let program = c_path(&command.program)?;
        let env = command
            .env
            .iter()
            .map(|(key, value)| {
                let mut entry = key.as_bytes().to_vec();
                entry.push(b'=');
                entry.extend_from_slice(value.as_bytes());
                CString::new(entry).map_err(|_| invalid(format!("environment variable {key:?} contains a NUL byte")))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let envp = env.iter().map(|e| e.as_ptr()).chain([std::ptr::null()]).collect();
        let args = command
            .args
            .iter()
            .map(|arg| {
                CString::new(arg.as_bytes()).map_err(|_| invalid(format!("argument {arg:?} contains a NUL byte")))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let argv =
            [program.as_ptr()].into_iter().chain(args.iter().map(|a| a.as_ptr())).chain([std::ptr::null()]).collect();
        Ok(Prepared {
            cwd: command.cwd.as_deref().map(c_path).transpose()?,
            program,
            _args: args,
            _env: env,
            argv,
            envp,
        })
    }
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| invalid(format!("path {} contains a NUL byte", path.display())))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// The keeper's stack: 64 KiB (it uses a few), with a guard page below.
struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

const STACK_BYTES: usize = 64 * 1024;
const GUARD_BYTES: usize = 4096;

impl Stack {
    fn new() -> io::Result<Stack> {
        let len = STACK_BYTES + GUARD_BYTES;
        // SAFETY: a fresh private anonymous mapping, unmapped in Drop.
        unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            );
            if base == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let stack = Stack { base, len };
            libc::mprotect(base, GUARD_BYTES, libc::PROT_NONE);
            Ok(stack)
        }
    }

    /// Stacks grow down: the keeper starts at the (16-byte aligned) end.
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of our mapping, which is page aligned.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used (the keeper has been reaped).
        unsafe {
            libc::munmap(self.base, self.len);
        }
    }
}

/// Everything the keeper reads from the host's memory while it runs.
struct Resources {
    _stack: Stack,
    _args: Box<KeeperArgs>,
    _socket_dir: CString,
    /// Freed as soon as the keeper reports the exec's outcome.
    exec: Option<Prepared>,
}

// SAFETY: raw pointers into data owned by the same struct; moved between threads only to be
// freed after the keeper is reaped.
unsafe impl Send for Resources {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        for message in [
            Message::Started(4242),
            Message::Exited(0x0900),
            Message::Failed(Stage::Exec, libc::ENOENT),
            Message::Failed(Stage::WorkingDir, libc::EACCES),
            Message::Failed(Stage::Keeper, libc::EAGAIN),
        ] {
            assert_eq!(Message::decode(message.encode()), Some(message));
        }
        assert_eq!(Message::decode([9, 0, 0, 0, 0, 0, 0, 0]), None);
    }
}
