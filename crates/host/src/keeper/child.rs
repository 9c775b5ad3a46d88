//! The keeper process: its set-up, its event loop and what it reports (docs/protocol.md §1.4).
//!
//! The keeper is cloned with `CLONE_VM`: it shares the host's memory (so it costs no copy of
//! it) and runs on its own small stack. It may therefore touch only its stack and the
//! read-only `KeeperArgs`, and call nothing but the raw system calls of `sys`: no allocation,
//! no lock, no libc state, no panic. Every signal is blocked in it and every disposition is the
//! default (it resets the ones copied from the host); SIGCHLD and SIGTERM are read from a
//! signalfd.

use super::args::KeeperArgs;
use super::spawn::{close_from, spawn_plugin, Spawn};
use super::sweep::{drain_signals, remove_dir, sweep};
use super::sys::{self, Fd};
use super::{Message, Stage};
use crate::security::confine::ChildConfinement;

const CONTROL: Fd = 3;
/// Where the keeper keeps the checked executable's descriptor, if it was given one.
pub(super) const EXEC_FD: Fd = 4;
const KEEPER_NAME: &[u8] = b"hplug-keeper\0";

/// The keeper's entry point, called by `clone` on the keeper's own stack.
pub extern "C" fn keeper_main(args: *mut libc::c_void) -> libc::c_int {
    // SAFETY: the host keeps `args` alive until it has reaped this process.
    unsafe { keeper(&*(args as *const KeeperArgs)) }
}

unsafe fn keeper(a: &KeeperArgs) -> ! {
    // The spawning thread's mask leaves out the two signals glibc reserves (32, 33): block them
    // too. No handler of the host may ever run here: it would write to the host's memory.
    let all: u64 = !0;
    sys::sigprocmask(libc::SIG_SETMASK, &all, core::ptr::null_mut());
    // We were cloned without CLONE_SIGHAND, so with copies of the host's dispositions. An
    // ignored SIGCHLD (or SA_NOCLDWAIT) would have the plugin reaped behind our back and never
    // wake the signalfd; other ignored signals would pass on to the plugin through exec. Every
    // one back to its default (SIGKILL and SIGSTOP refuse, harmlessly).
    for signal in 1..=64 {
        sys::reset_signal(signal);
    }
    let me = sys::getpid();
    // Its own group: a signal to the host's group (Ctrl-C, `kill -- -pgid`) must not stop the
    // keeper before it has swept.
    sys::setpgid(0, 0);
    sys::prctl(libc::PR_SET_NAME, KEEPER_NAME.as_ptr() as usize);
    // Orphaned descendants of the plugin (a `setsid` daemon) become our children, not init's.
    sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
    // Our copy, with its descriptors renumbered by take_fds.
    let mut confinement = a.confinement;
    if !take_fds(a, &mut confinement) {
        sys::exit(1);
    }
    let host = sys::pidfd_open(a.host_pid) as Fd;
    // The host may have died before pidfd_open: then we were reparented already.
    if sys::getppid() != a.host_pid {
        remove_dir(a.socket_dir);
        sys::exit(0);
    }
    let mask: u64 = signal_bit(libc::SIGCHLD) | signal_bit(libc::SIGTERM);
    let signals = sys::signalfd(&mask, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
    if signals < 0 {
        // Without it we would not notice the plugin's exit.
        report(Message::Failed(Stage::Keeper, -signals as i32));
        sys::exit(1);
    }
    let signals = signals as Fd;

    let pid = match spawn_plugin(a, &confinement, me) {
        Spawn::Running(pid) => pid,
        Spawn::KeeperFailed(errno) => {
            report(Message::Failed(Stage::Keeper, errno));
            sys::exit(1);
        }
        Spawn::ExecFailed(stage, errno) => {
            report(Message::Failed(stage, errno));
            sweep(me, signals);
            sys::exit(0);
        }
    };
    report(Message::Started(pid));

    let host_gone = supervise(a, pid, host, signals);
    // The group first, while the unreaped plugin still holds its id, then the plugin.
    sys::kill(-pid, libc::SIGKILL);
    let mut status = 0;
    sys::wait4(pid, &mut status, 0);
    sweep(me, signals);
    if host_gone || host_has_exited(a, host) {
        remove_dir(a.socket_dir);
    } else {
        report(Message::Exited(status));
    }
    sys::exit(0);
}

/// Moves the descriptors we need to 0..=3 (the executable's to `EXEC_FD`), those of
/// `confinement` right after them, and closes every other one.
unsafe fn take_fds(a: &KeeperArgs, confinement: &mut ChildConfinement) -> bool {
    let wanted = [a.stdin, a.stdout, a.stderr, a.control, a.exec_fd];
    let count = if a.exec_fd >= 0 { 5 } else { 4 };
    // First every one above where any of them goes, so the moves below cannot overwrite one
    // another.
    let mut high = [-1 as Fd; 5];
    for (slot, fd) in high.iter_mut().zip(wanted).take(count) {
        *slot = sys::fcntl(fd, libc::F_DUPFD_CLOEXEC, 16) as Fd;
        if *slot < 0 {
            return false;
        }
    }
    for fd in confinement.cgroup_procs.iter_mut().chain([&mut confinement.landlock]).filter(|fd| **fd >= 0) {
        *fd = sys::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 16) as Fd;
        if *fd < 0 {
            return false;
        }
    }
    for (target, fd) in (0..).zip(high).take(count) {
        // The plugin's side decides whether the executable's descriptor survives its exec.
        let flags = if target >= CONTROL { libc::O_CLOEXEC } else { 0 };
        if sys::dup3(fd, target, flags) < 0 {
            return false;
        }
    }
    let mut next = count as Fd;
    for fd in confinement.cgroup_procs.iter_mut().chain([&mut confinement.landlock]).filter(|fd| **fd >= 0) {
        if sys::dup3(*fd, next, libc::O_CLOEXEC) < 0 {
            return false;
        }
        *fd = next;
        next += 1;
    }
    close_from(next, -1);
    true
}

/// Waits until the plugin exits, killing it when asked to (a message or EOF on the control
/// socket, SIGTERM) or when the host dies. Returns whether the host died.
unsafe fn supervise(a: &KeeperArgs, pid: i32, host: Fd, signals: Fd) -> bool {
    let mut control_open = true;
    let mut host_gone = false;
    // Without pidfd (Linux < 5.3) we look at our parent a few times a second instead.
    let tick = libc::timespec { tv_sec: 0, tv_nsec: 200_000_000 };
    loop {
        if has_exited(pid) {
            return host_gone;
        }
        let mut fds = [
            libc::pollfd { fd: signals, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: if control_open { CONTROL } else { -1 }, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: if host_gone { -1 } else { host }, events: libc::POLLIN, revents: 0 },
        ];
        let timeout = if host < 0 && !host_gone { &tick as *const libc::timespec } else { core::ptr::null() };
        sys::ppoll(fds.as_mut_ptr(), fds.len(), timeout);
        let [signal_fd, control_fd, host_fd] = fds;
        if signal_fd.revents != 0 && drain_signals(signals) {
            kill_plugin(pid);
        }
        if control_fd.revents != 0 {
            let mut byte = 0u8;
            let n = sys::read(CONTROL, &mut byte, 1);
            if n != -(libc::EAGAIN as isize) && n != -(libc::EINTR as isize) {
                // A request, EOF (the host dropped its end) or an error: all mean stop.
                if n <= 0 {
                    control_open = false;
                }
                kill_plugin(pid);
            }
        }
        if !host_gone && (host_fd.revents != 0 || (host < 0 && sys::getppid() != a.host_pid)) {
            host_gone = true;
            kill_plugin(pid);
        }
        reap_others(pid);
    }
}

unsafe fn kill_plugin(pid: i32) {
    sys::kill(-pid, libc::SIGKILL);
    sys::kill(pid, libc::SIGKILL);
}

/// True once the plugin can be reaped (it is left unreaped: its pid stays reserved).
unsafe fn has_exited(pid: i32) -> bool {
    let mut info: libc::siginfo_t = core::mem::zeroed();
    let r = sys::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT);
    r < 0 || info.si_pid() != 0
}

/// Reaps orphans adopted while the plugin runs (never the plugin itself).
unsafe fn reap_others(plugin: i32) {
    loop {
        let mut info: libc::siginfo_t = core::mem::zeroed();
        let r = sys::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT);
        let pid = info.si_pid();
        if r < 0 || pid == 0 || pid == plugin {
            return;
        }
        sys::wait4(pid, core::ptr::null_mut(), 0);
    }
}

unsafe fn host_has_exited(a: &KeeperArgs, host: Fd) -> bool {
    if host < 0 {
        return sys::getppid() != a.host_pid;
    }
    let mut fds = [libc::pollfd { fd: host, events: libc::POLLIN, revents: 0 }];
    let now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    sys::ppoll(fds.as_mut_ptr(), 1, &now) > 0
}

unsafe fn report(message: Message) {
    let bytes = message.encode();
    sys::send(CONTROL, bytes.as_ptr(), bytes.len());
}

const fn signal_bit(signal: i32) -> u64 {
    1 << (signal - 1)
}
