//! Starting the plugin from the keeper (docs/protocol.md §1.1): the plugin's side runs vfork style
//! on a stack inside the keeper's frame, sharing the keeper's (the host's) memory until its
//! exec, so it is bound by the same rules (see `child.rs`). A failure before or at the exec comes
//! back to the keeper through a pipe.

use super::args::KeeperArgs;
use super::child::EXEC_FD;
use super::dirs::{for_each_entry, parse_pid};
use super::sys::{self, Fd};
use super::Stage;
use crate::security::confine::ChildConfinement;

/// How starting the plugin went.
pub(super) enum Spawn {
    /// It runs (its exec succeeded), with this pid.
    Running(i32),
    /// The keeper could not start the plugin's side: this errno.
    KeeperFailed(i32),
    /// The plugin's side failed at this stage, before or at its exec; it has been reaped.
    ExecFailed(Stage, i32),
}

/// Starts the plugin's side and waits until it has exec'd or failed.
pub(super) unsafe fn spawn_plugin(a: &KeeperArgs, confinement: &ChildConfinement, keeper_pid: i32) -> Spawn {
    let mut exec_error = [-1 as Fd; 2];
    let r = sys::pipe2(&mut exec_error, libc::O_CLOEXEC);
    if r < 0 {
        return Spawn::KeeperFailed(-r as i32);
    }
    // The plugin's side runs on this (we are suspended until its exec or exit), vfork style:
    // a fork would copy the page tables of the whole host, which we share.
    // Uninitialised: only the pages the child touches cost memory (the host's, shared).
    let mut child_stack = ChildStack(core::mem::MaybeUninit::uninit());
    let mut child_args = ChildArgs { keeper: a, confinement, keeper_pid, exec_error: exec_error[1] };
    let top = child_stack.0.as_mut_ptr().cast::<u8>().add(CHILD_STACK_BYTES);
    let pid = sys::spawn_vfork(plugin_entry, &mut child_args as *mut ChildArgs as *mut libc::c_void, top);
    sys::close(exec_error[1]);
    if pid < 0 {
        return Spawn::KeeperFailed(-pid as i32);
    }
    let pid = pid as i32;
    // The plugin's side made its own group before its exec (we were suspended until then).
    // The pipes to the host are the plugin's now: its EOF must not wait for us.
    sys::close(1);
    sys::close(2);
    let mut failure = [0u8; 8];
    let got = read_full(exec_error[0], &mut failure);
    sys::close(exec_error[0]);
    if got == failure.len() {
        let mut status = 0;
        sys::wait4(pid, &mut status, 0);
        let (stage, errno) = decode_failure(&failure);
        return Spawn::ExecFailed(stage, errno);
    }
    Spawn::Running(pid)
}

const CHILD_STACK_BYTES: usize = 16 * 1024;

/// The stack the plugin's side runs on until its exec, inside the keeper's frame.
#[repr(C, align(16))]
struct ChildStack(core::mem::MaybeUninit<[u8; CHILD_STACK_BYTES]>);

/// What the plugin's side reads, on the keeper's stack.
struct ChildArgs<'a> {
    keeper: &'a KeeperArgs,
    confinement: &'a ChildConfinement,
    keeper_pid: i32,
    exec_error: Fd,
}

/// Started by `spawn_vfork` on the child stack; shares the keeper's (the host's) memory until
/// the exec, so it is bound by the same rules as the keeper, and must not return.
unsafe extern "C" fn plugin_entry(args: *mut libc::c_void) -> ! {
    let args = &*(args as *const ChildArgs);
    plugin_child(args.keeper, args.confinement, args.keeper_pid, args.exec_error)
}

/// The plugin's side of the spawn: its own group, a death signal tied to the keeper, its
/// confinement, only fds 0-2, an empty signal mask (dispositions are the defaults already), then
/// exec. Reports a failure on `exec_error`.
unsafe fn plugin_child(a: &KeeperArgs, confinement: &ChildConfinement, keeper: i32, exec_error: Fd) -> ! {
    sys::setpgid(0, 0);
    sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as usize);
    // The keeper may have died before prctl: then nobody would kill us.
    if sys::getppid() != keeper {
        sys::exit(1);
    }
    if let Err((stage, errno)) = isolate(confinement) {
        fail(exec_error, stage, errno);
    }
    // The checked executable becomes fd 3, the only one above stdio: a script's interpreter
    // reads it as /dev/fd/3 (docs/protocol.md §1.5).
    let by_descriptor = a.exec_fd >= 0;
    if by_descriptor {
        let flags = if a.exec_fd_inherited != 0 { 0 } else { libc::O_CLOEXEC };
        let r = sys::dup3(EXEC_FD, PLUGIN_EXEC_FD, flags);
        if r < 0 {
            fail(exec_error, Stage::Exec, -r as i32);
        }
    }
    // After the moves above: a low open-files limit must not refuse them.
    if let Err((stage, errno)) = restrict(confinement) {
        fail(exec_error, stage, errno);
    }
    close_from(if by_descriptor { PLUGIN_EXEC_FD + 1 } else { 3 }, exec_error);
    // The keeper reset every disposition already (ignored signals would survive exec); its
    // mask, which blocks all, would survive too.
    let empty: u64 = 0;
    sys::sigprocmask(libc::SIG_SETMASK, &empty, core::ptr::null_mut());
    if !a.cwd.is_null() {
        let r = sys::chdir(a.cwd);
        if r < 0 {
            fail(exec_error, Stage::WorkingDir, -r as i32);
        }
    }
    let r = if by_descriptor {
        sys::execveat(PLUGIN_EXEC_FD, c"".as_ptr(), a.argv, a.envp, libc::AT_EMPTY_PATH)
    } else {
        sys::execve(a.path, a.argv, a.envp)
    };
    fail(exec_error, Stage::Exec, -r as i32);
}

fn check(r: isize, stage: Stage) -> Result<(), (Stage, i32)> {
    if r < 0 {
        Err((stage, -r as i32))
    } else {
        Ok(())
    }
}

/// The first half of the confinement (docs/security.md): its cgroups, before anything else could
/// be forked, and its own network namespace.
unsafe fn isolate(c: &ChildConfinement) -> Result<(), (Stage, i32)> {
    for &procs in c.cgroup_procs.iter().filter(|fd| **fd >= 0) {
        check(sys::write(procs, b"0".as_ptr(), 1), Stage::Cgroup)?;
    }
    if c.new_network_namespace {
        check(sys::unshare(libc::CLONE_NEWNET), Stage::Network)?;
    }
    Ok(())
}

/// The second half, once the descriptors are in place: its resource limits, then Landlock,
/// last, since it may forbid what the steps before need.
unsafe fn restrict(c: &ChildConfinement) -> Result<(), (Stage, i32)> {
    for limit in c.rlimits() {
        check(sys::set_rlimit(limit.resource, limit.soft, limit.hard), Stage::Limits)?;
    }
    if c.landlock >= 0 {
        check(sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1), Stage::Landlock)?;
        check(sys::landlock_restrict_self(c.landlock), Stage::Landlock)?;
    }
    Ok(())
}

/// The checked executable's descriptor in the plugin's side.
const PLUGIN_EXEC_FD: Fd = 3;

unsafe fn fail(exec_error: Fd, stage: Stage, errno: i32) -> ! {
    let message = encode_failure(stage, errno);
    sys::write(exec_error, message.as_ptr(), message.len());
    sys::exit(127);
}

/// Closes every descriptor from `first` on, except `keep` (-1: none).
pub(super) unsafe fn close_from(first: Fd, keep: Fd) {
    let ranges = if keep >= first { [(first, keep - 1), (keep + 1, Fd::MAX)] } else { [(first, Fd::MAX), (1, 0)] };
    for (low, high) in ranges {
        if low > high {
            continue;
        }
        if sys::close_range(low as u32, high as u32, 0) == -(libc::ENOSYS as isize) {
            close_listed(low, high);
        }
    }
}

/// close_range's fallback (Linux < 5.9): the open descriptors, listed by /proc/self/fd, or
/// without /proc every number below the descriptor limit.
unsafe fn close_listed(low: Fd, high: Fd) {
    for _ in 0..4 {
        let dir = sys::openat(libc::AT_FDCWD, c"/proc/self/fd".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        if dir < 0 {
            // Below the soft limit, where every fd is unless the limit was lowered since
            // (capped: it may be huge).
            let limit = sys::open_files_limit().unwrap_or(1 << 16).min(1 << 20) as Fd;
            let mut fd = low;
            while fd <= high && fd < limit {
                sys::close(fd);
                fd += 1;
            }
            return;
        }
        let dir = dir as Fd;
        let mut closed = false;
        for_each_entry(dir, |name| {
            if let Some(fd) = parse_pid(name) {
                if fd >= low && fd <= high && fd != dir {
                    closed |= sys::close(fd) == 0;
                }
            }
        });
        sys::close(dir);
        if !closed {
            return;
        }
    }
}

unsafe fn read_full(fd: Fd, buffer: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buffer.len() {
        let n = sys::read(fd, buffer.as_mut_ptr().add(got), buffer.len() - got);
        if n == -(libc::EINTR as isize) {
            continue;
        }
        if n <= 0 {
            break;
        }
        got += n as usize;
    }
    got
}

fn encode_failure(stage: Stage, errno: i32) -> [u8; 8] {
    let mut bytes = [0u8; 8];
    let (left, right) = bytes.split_at_mut(4);
    left.copy_from_slice(&(stage as u32).to_ne_bytes());
    right.copy_from_slice(&errno.to_ne_bytes());
    bytes
}

fn decode_failure(bytes: &[u8; 8]) -> (Stage, i32) {
    let [a, b, c, d, e, f, g, h] = *bytes;
    (Stage::from_u32(u32::from_ne_bytes([a, b, c, d])), i32::from_ne_bytes([e, f, g, h]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_round_trip() {
        assert_eq!(decode_failure(&encode_failure(Stage::WorkingDir, libc::ENOENT)), (Stage::WorkingDir, libc::ENOENT));
    }
}
