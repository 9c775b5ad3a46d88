//! The keeper's clean-up after the plugin (docs/protocol.md §1.4): every descendant the plugin
//! left behind, reparented to the keeper (a child subreaper), is killed and reaped; after the
//! host's death the socket directory is removed. Raw system calls only (see `child.rs`).

use super::dirs::{for_each_entry, join_stat_path, nul_terminated, parse_pid, parse_ppid};
use super::sys::{self, Fd};
use libc::c_char;

/// Empties the signalfd; true if SIGTERM was among the signals.
pub(super) unsafe fn drain_signals(fd: Fd) -> bool {
    let mut term = false;
    let mut info: libc::signalfd_siginfo = core::mem::zeroed();
    let size = core::mem::size_of::<libc::signalfd_siginfo>();
    while sys::read(fd, &mut info as *mut _ as *mut u8, size) == size as isize {
        term |= info.ssi_signo == libc::SIGTERM as u32;
    }
    term
}

/// How long a sweep may take: a child we cannot kill (another user's, stuck in the kernel,
/// hidden from /proc) must not keep us from reporting the exit or removing the socket dir.
const SWEEP_NS: i64 = 2_000_000_000;
/// The longest wait for a SIGCHLD before we look again anyway.
const SWEEP_TICK_NS: i64 = 100_000_000;

/// Kills every child of ours, reaps, and repeats until none is left: a killed process's own
/// children are reparented to us (child subreaper) before it can be reaped, so each round
/// finds the next generation. Never blocks in a wait, and gives up after `SWEEP_NS`.
pub(super) unsafe fn sweep(me: i32, signals: Fd) {
    let deadline = sys::clock_monotonic_ns() + SWEEP_NS;
    loop {
        // Emptied first: a child that exits from now on makes it readable again.
        drain_signals(signals);
        let found = kill_children(me);
        loop {
            let r = sys::wait4(-1, core::ptr::null_mut(), libc::WNOHANG | libc::__WALL);
            if r == -(libc::ECHILD as isize) {
                return; // nothing left
            }
            if r <= 0 {
                break; // some left, none exited yet
            }
        }
        // No /proc: we cannot find them; what has exited is reaped, the rest is left to init.
        let left = deadline - sys::clock_monotonic_ns();
        if !found || left <= 0 {
            return;
        }
        let wait = left.min(SWEEP_TICK_NS);
        let timeout = libc::timespec { tv_sec: 0, tv_nsec: wait as _ };
        let mut fds = [libc::pollfd { fd: signals, events: libc::POLLIN, revents: 0 }];
        sys::ppoll(fds.as_mut_ptr(), 1, &timeout);
    }
}

/// SIGKILLs every process whose parent is `me`, found in /proc. False if /proc is unreadable.
unsafe fn kill_children(me: i32) -> bool {
    let proc_dir = sys::openat(libc::AT_FDCWD, c"/proc".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC);
    if proc_dir < 0 {
        return false;
    }
    let proc_dir = proc_dir as Fd;
    for_each_entry(proc_dir, |name| {
        let Some(pid) = parse_pid(name) else { return };
        let mut path = [0u8; 32];
        if !join_stat_path(name, &mut path) {
            return;
        }
        let fd = sys::openat(proc_dir, path.as_ptr() as *const c_char, libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return;
        }
        let mut stat = [0u8; 512];
        let n = sys::read(fd as Fd, stat.as_mut_ptr(), stat.len());
        sys::close(fd as Fd);
        // Our child cannot be reaped by anyone else, so its pid is still its own: safe to kill.
        if n > 0 && parse_ppid(stat.get(..n as usize).unwrap_or(&[])) == Some(me) {
            sys::kill(pid, libc::SIGKILL);
        }
    });
    sys::close(proc_dir);
    true
}

/// Unlinks what the plugin left in its socket directory, then the directory.
pub(super) unsafe fn remove_dir(path: *const c_char) {
    // Entries removed while reading may make one pass skip some: repeat until one removes nothing.
    for _ in 0..8 {
        let dir =
            sys::openat(libc::AT_FDCWD, path, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC | libc::O_NOFOLLOW);
        if dir < 0 {
            break;
        }
        let dir = dir as Fd;
        let mut removed = false;
        for_each_entry(dir, |name| {
            let mut buffer = [0u8; 256];
            if name == b"." || name == b".." {
                return;
            }
            if let Some(c_name) = nul_terminated(name, &mut buffer) {
                removed |= sys::unlinkat(dir, c_name, 0) == 0 || sys::unlinkat(dir, c_name, libc::AT_REMOVEDIR) == 0;
            }
        });
        sys::close(dir);
        if !removed {
            break;
        }
    }
    sys::unlinkat(libc::AT_FDCWD, path, libc::AT_REMOVEDIR);
}
