//! The keeper process and the plugin's side of its fork (docs/protocol.md §1.1, §1.4).
//!
//! The keeper is cloned with `CLONE_VM`: it shares the host's memory (so it costs no copy of
//! it) and runs on its own small stack. It may therefore touch only its stack and the
//! read-only `KeeperArgs`, and call nothing but the raw system calls of `sys`: no allocation,
//! no lock, no libc state, no panic. Every signal is blocked in it and every disposition is the
//! default (it resets the ones copied from the host); SIGCHLD and SIGTERM are read from a
//! signalfd.

use super::sys::{self, Fd};
use super::{Message, Stage};
use libc::c_char;

/// Everything the keeper needs, prepared (and kept alive) by the host before the clone.
#[repr(C)]
pub struct KeeperArgs {
    pub host_pid: i32,
    pub path: *const c_char,
    pub argv: *const *const c_char,
    pub envp: *const *const c_char,
    /// Null when the plugin keeps the host's working directory.
    pub cwd: *const c_char,
    pub socket_dir: *const c_char,
    /// In the keeper these become 0, 1, 2 (the plugin's stdio) and 3 (the host's end is the
    /// control socket: messages out, a kill request or EOF in).
    pub stdin: Fd,
    pub stdout: Fd,
    pub stderr: Fd,
    pub control: Fd,
}

const CONTROL: Fd = 3;
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
    if !take_fds(a) {
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

    let mut exec_error = [-1 as Fd; 2];
    let r = sys::pipe2(&mut exec_error, libc::O_CLOEXEC);
    if r < 0 {
        report(Message::Failed(Stage::Keeper, -r as i32));
        sys::exit(1);
    }
    // The plugin's side runs on this (we are suspended until its exec or exit), vfork style:
    // a fork would copy the page tables of the whole host, which we share.
    // Uninitialised: only the pages the child touches cost memory (the host's, shared).
    let mut child_stack = ChildStack(core::mem::MaybeUninit::uninit());
    let mut child_args = ChildArgs { keeper: a, keeper_pid: me, exec_error: exec_error[1] };
    let top = child_stack.0.as_mut_ptr().cast::<u8>().add(CHILD_STACK_BYTES);
    let pid = sys::spawn_vfork(plugin_entry, &mut child_args as *mut ChildArgs as *mut libc::c_void, top);
    sys::close(exec_error[1]);
    if pid < 0 {
        report(Message::Failed(Stage::Keeper, -pid as i32));
        sys::exit(1);
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
        report(Message::Failed(stage, errno));
        sweep(me, signals);
        sys::exit(0);
    }
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

/// Moves the four descriptors we need to 0..=3 and closes every other one.
unsafe fn take_fds(a: &KeeperArgs) -> bool {
    let wanted = [a.stdin, a.stdout, a.stderr, a.control];
    // First above every one of them, so the moves below cannot overwrite one another.
    let mut high = [-1 as Fd; 4];
    for (slot, fd) in high.iter_mut().zip(wanted) {
        *slot = sys::fcntl(fd, libc::F_DUPFD_CLOEXEC, 16) as Fd;
        if *slot < 0 {
            return false;
        }
    }
    for (target, fd) in (0..).zip(high) {
        let flags = if target == CONTROL { libc::O_CLOEXEC } else { 0 };
        if sys::dup3(fd, target, flags) < 0 {
            return false;
        }
    }
    close_from(CONTROL + 1, -1);
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

/// Empties the signalfd; true if SIGTERM was among the signals.
unsafe fn drain_signals(fd: Fd) -> bool {
    let mut term = false;
    let mut info: libc::signalfd_siginfo = core::mem::zeroed();
    let size = core::mem::size_of::<libc::signalfd_siginfo>();
    while sys::read(fd, &mut info as *mut _ as *mut u8, size) == size as isize {
        term |= info.ssi_signo == libc::SIGTERM as u32;
    }
    term
}

unsafe fn host_has_exited(a: &KeeperArgs, host: Fd) -> bool {
    if host < 0 {
        return sys::getppid() != a.host_pid;
    }
    let mut fds = [libc::pollfd { fd: host, events: libc::POLLIN, revents: 0 }];
    let now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    sys::ppoll(fds.as_mut_ptr(), 1, &now) > 0
}

/// How long a sweep may take: a child we cannot kill (another user's, stuck in the kernel,
/// hidden from /proc) must not keep us from reporting the exit or removing the socket dir.
const SWEEP_NS: i64 = 2_000_000_000;
/// The longest wait for a SIGCHLD before we look again anyway.
const SWEEP_TICK_NS: i64 = 100_000_000;

/// Kills every child of ours, reaps, and repeats until none is left: a killed process's own
/// children are reparented to us (child subreaper) before it can be reaped, so each round
/// finds the next generation. Never blocks in a wait, and gives up after `SWEEP_NS`.
unsafe fn sweep(me: i32, signals: Fd) {
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
unsafe fn remove_dir(path: *const c_char) {
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

/// Calls `each` with every name in the directory (from getdents64, on a stack buffer).
unsafe fn for_each_entry(dir: Fd, mut each: impl FnMut(&[u8])) {
    let mut buffer = [0u8; 2048];
    loop {
        let n = sys::getdents64(dir, buffer.as_mut_ptr(), buffer.len());
        if n <= 0 {
            return;
        }
        let mut offset = 0usize;
        while offset + 19 < n as usize {
            // struct linux_dirent64: u64 inode, i64 offset, u16 record length, u8 type, name.
            let record = buffer.as_ptr().add(offset);
            let length = u16::from_ne_bytes([*record.add(16), *record.add(17)]) as usize;
            if length == 0 {
                return;
            }
            let name = core::ffi::CStr::from_ptr(record.add(19) as *const c_char);
            each(name.to_bytes());
            offset += length;
        }
    }
}

const CHILD_STACK_BYTES: usize = 16 * 1024;

/// The stack the plugin's side runs on until its exec, inside the keeper's frame.
#[repr(C, align(16))]
struct ChildStack(core::mem::MaybeUninit<[u8; CHILD_STACK_BYTES]>);

/// What the plugin's side reads, on the keeper's stack.
struct ChildArgs<'a> {
    keeper: &'a KeeperArgs,
    keeper_pid: i32,
    exec_error: Fd,
}

/// Started by `spawn_vfork` on the child stack; shares the keeper's (the host's) memory until
/// the exec, so it is bound by the same rules as the keeper, and must not return.
unsafe extern "C" fn plugin_entry(args: *mut libc::c_void) -> ! {
    let args = &*(args as *const ChildArgs);
    plugin_child(args.keeper, args.keeper_pid, args.exec_error)
}

/// The plugin's side of the spawn: its own group, a death signal tied to the keeper, only
/// fds 0-2, an empty signal mask (dispositions are the defaults already), then exec. Reports a
/// failure on `exec_error`.
unsafe fn plugin_child(a: &KeeperArgs, keeper: i32, exec_error: Fd) -> ! {
    sys::setpgid(0, 0);
    sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as usize);
    // The keeper may have died before prctl: then nobody would kill us.
    if sys::getppid() != keeper {
        sys::exit(1);
    }
    close_from(3, exec_error);
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
    let r = sys::execve(a.path, a.argv, a.envp);
    fail(exec_error, Stage::Exec, -r as i32);
}

unsafe fn fail(exec_error: Fd, stage: Stage, errno: i32) -> ! {
    let message = encode_failure(stage, errno);
    sys::write(exec_error, message.as_ptr(), message.len());
    sys::exit(127);
}

/// Closes every descriptor from `first` on, except `keep` (-1: none).
unsafe fn close_from(first: Fd, keep: Fd) {
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

unsafe fn report(message: Message) {
    let bytes = message.encode();
    sys::send(CONTROL, bytes.as_ptr(), bytes.len());
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

const fn signal_bit(signal: i32) -> u64 {
    1 << (signal - 1)
}

/// A positive decimal number (a /proc entry or an fd), without allocating or panicking.
pub(crate) fn parse_pid(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 9 {
        return None;
    }
    let mut value: i32 = 0;
    for &byte in name {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + (byte - b'0') as i32;
    }
    Some(value)
}

/// The parent pid in a /proc/<pid>/stat line: `pid (comm) state ppid ...`; comm may contain
/// spaces and parentheses, so we start after the last `)`.
pub(crate) fn parse_ppid(stat: &[u8]) -> Option<i32> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let mut fields = stat.get(close + 1..)?.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let _state = fields.next()?;
    parse_pid(fields.next()?)
}

/// `<pid>/stat` with a NUL, into `out`.
fn join_stat_path(pid: &[u8], out: &mut [u8; 32]) -> bool {
    const SUFFIX: &[u8] = b"/stat\0";
    let Some(target) = out.get_mut(..pid.len() + SUFFIX.len()) else { return false };
    let (head, tail) = target.split_at_mut(pid.len());
    head.copy_from_slice(pid);
    tail.copy_from_slice(SUFFIX);
    true
}

fn nul_terminated(name: &[u8], out: &mut [u8; 256]) -> Option<*const c_char> {
    let target = out.get_mut(..name.len() + 1)?;
    let (head, tail) = target.split_at_mut(name.len());
    head.copy_from_slice(name);
    tail.copy_from_slice(&[0]);
    Some(out.as_ptr() as *const c_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppid_is_read_after_the_last_parenthesis() {
        assert_eq!(parse_ppid(b"1234 (sleep) S 77 1234 1234 0 -1"), Some(77));
        assert_eq!(parse_ppid(b"1234 (a) b) (c) S 5 1 1"), Some(5));
        assert_eq!(parse_ppid(b"1234 (x y) Z 0 1"), Some(0));
        assert_eq!(parse_ppid(b"garbage"), None);
    }

    #[test]
    fn only_decimal_names_are_pids() {
        assert_eq!(parse_pid(b"4242"), Some(4242));
        assert_eq!(parse_pid(b"self"), None);
        assert_eq!(parse_pid(b""), None);
        assert_eq!(parse_pid(b"12345678901"), None);
    }

    #[test]
    fn paths_are_built_on_the_stack() {
        let mut out = [0u8; 32];
        assert!(join_stat_path(b"4242", &mut out));
        assert_eq!(&out[..11], b"4242/stat\0\0");
        assert!(!join_stat_path(&[b'1'; 30], &mut out));
        let mut name = [0u8; 256];
        let pointer = nul_terminated(b"py.sock", &mut name).unwrap();
        assert_eq!(unsafe { core::ffi::CStr::from_ptr(pointer) }.to_bytes(), b"py.sock");
    }

    #[test]
    fn failures_round_trip() {
        assert_eq!(decode_failure(&encode_failure(Stage::WorkingDir, libc::ENOENT)), (Stage::WorkingDir, libc::ENOENT));
    }
}
