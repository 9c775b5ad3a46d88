//! Raw Linux system calls for code that runs in the keeper (see `child.rs`): it shares the
//! host's memory, so it must not touch libc state. glibc's wrappers write `errno`, which lives in
//! the spawning thread's TLS; these return `-errno` instead and touch nothing but registers.

#![allow(clippy::missing_safety_doc)]

pub type Fd = i32;

#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn syscall6(n: i64, a: [usize; 6]) -> isize {
    let ret: isize;
    core::arch::asm!(
        "syscall",
        inlateout("rax") n as isize => ret,
        in("rdi") a[0], in("rsi") a[1], in("rdx") a[2], in("r10") a[3], in("r8") a[4], in("r9") a[5],
        lateout("rcx") _, lateout("r11") _,
        options(nostack)
    );
    ret
}

#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn syscall6(n: i64, a: [usize; 6]) -> isize {
    let ret: isize;
    core::arch::asm!(
        "svc 0",
        in("x8") n,
        inlateout("x0") a[0] as isize => ret,
        in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
        options(nostack)
    );
    ret
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("the plugin keeper's raw system calls exist for x86_64 and aarch64 Linux only");

/// `sys!(SYS_name, args...)`: up to six arguments, passed as machine words.
macro_rules! sys {
    ($n:ident $(,)?) => { syscall6(libc::$n, [0; 6]) };
    ($n:ident, $a:expr) => { syscall6(libc::$n, [$a as usize, 0, 0, 0, 0, 0]) };
    ($n:ident, $a:expr, $b:expr) => { syscall6(libc::$n, [$a as usize, $b as usize, 0, 0, 0, 0]) };
    ($n:ident, $a:expr, $b:expr, $c:expr) => { syscall6(libc::$n, [$a as usize, $b as usize, $c as usize, 0, 0, 0]) };
    ($n:ident, $a:expr, $b:expr, $c:expr, $d:expr) => {
        syscall6(libc::$n, [$a as usize, $b as usize, $c as usize, $d as usize, 0, 0])
    };
    ($n:ident, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr) => {
        syscall6(libc::$n, [$a as usize, $b as usize, $c as usize, $d as usize, $e as usize, 0])
    };
    ($n:ident, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr) => {
        syscall6(libc::$n, [$a as usize, $b as usize, $c as usize, $d as usize, $e as usize, $f as usize])
    };
}

pub unsafe fn close(fd: Fd) -> isize {
    sys!(SYS_close, fd)
}
pub unsafe fn dup3(old: Fd, new: Fd, flags: i32) -> isize {
    sys!(SYS_dup3, old, new, flags)
}
pub unsafe fn fcntl(fd: Fd, cmd: i32, arg: i32) -> isize {
    sys!(SYS_fcntl, fd, cmd, arg)
}
pub unsafe fn close_range(first: u32, last: u32, flags: u32) -> isize {
    sys!(SYS_close_range, first, last, flags)
}
pub unsafe fn pipe2(fds: *mut [i32; 2], flags: i32) -> isize {
    sys!(SYS_pipe2, fds, flags)
}
pub unsafe fn read(fd: Fd, buf: *mut u8, len: usize) -> isize {
    sys!(SYS_read, fd, buf, len)
}
pub unsafe fn write(fd: Fd, buf: *const u8, len: usize) -> isize {
    sys!(SYS_write, fd, buf, len)
}
/// Never raises SIGPIPE, whatever the signal dispositions.
pub unsafe fn send(fd: Fd, buf: *const u8, len: usize) -> isize {
    sys!(SYS_sendto, fd, buf, len, libc::MSG_NOSIGNAL, 0, 0)
}
pub unsafe fn openat(dir: Fd, path: *const libc::c_char, flags: i32) -> isize {
    sys!(SYS_openat, dir, path, flags, 0)
}
pub unsafe fn unlinkat(dir: Fd, path: *const libc::c_char, flags: i32) -> isize {
    sys!(SYS_unlinkat, dir, path, flags)
}
pub unsafe fn getdents64(fd: Fd, buf: *mut u8, len: usize) -> isize {
    sys!(SYS_getdents64, fd, buf, len)
}
pub unsafe fn chdir(path: *const libc::c_char) -> isize {
    sys!(SYS_chdir, path)
}
pub unsafe fn execve(
    path: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) -> isize {
    sys!(SYS_execve, path, argv, envp)
}
pub unsafe fn unshare(flags: i32) -> isize {
    sys!(SYS_unshare, flags)
}
/// Sets both limits of `resource` for this process.
pub unsafe fn set_rlimit(resource: i32, soft: u64, hard: u64) -> isize {
    let limit = [soft, hard];
    sys!(SYS_prlimit64, 0, resource, limit.as_ptr(), 0)
}
pub unsafe fn landlock_restrict_self(ruleset: Fd) -> isize {
    sys!(SYS_landlock_restrict_self, ruleset, 0)
}
/// Runs the file open at `fd` (with an empty `path` and `AT_EMPTY_PATH`).
pub unsafe fn execveat(
    fd: Fd,
    path: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    flags: i32,
) -> isize {
    sys!(SYS_execveat, fd, path, argv, envp, flags)
}
pub unsafe fn getpid() -> i32 {
    sys!(SYS_getpid) as i32
}
pub unsafe fn getppid() -> i32 {
    sys!(SYS_getppid) as i32
}
pub unsafe fn setpgid(pid: i32, pgid: i32) -> isize {
    sys!(SYS_setpgid, pid, pgid)
}
pub unsafe fn kill(pid: i32, signal: i32) -> isize {
    sys!(SYS_kill, pid, signal)
}
pub unsafe fn prctl(option: i32, arg: usize) -> isize {
    sys!(SYS_prctl, option, arg, 0, 0, 0)
}
pub unsafe fn pidfd_open(pid: i32) -> isize {
    sys!(SYS_pidfd_open, pid, 0)
}
pub unsafe fn signalfd(mask: *const u64, flags: i32) -> isize {
    sys!(SYS_signalfd4, -1i32, mask, 8, flags)
}
pub unsafe fn sigprocmask(how: i32, set: *const u64, old: *mut u64) -> isize {
    sys!(SYS_rt_sigprocmask, how, set, old, 8)
}
/// Resets one signal to its default action (no handler, no flags, empty mask).
pub unsafe fn reset_signal(signal: i32) -> isize {
    // The kernel's own `struct sigaction` layout: handler, flags, restorer, mask (8 bytes).
    let action: [usize; 4] = [libc::SIG_DFL, 0, 0, 0];
    sys!(SYS_rt_sigaction, signal, action.as_ptr(), 0, 8)
}
pub unsafe fn ppoll(fds: *mut libc::pollfd, count: usize, timeout: *const libc::timespec) -> isize {
    sys!(SYS_ppoll, fds, count, timeout, 0, 8)
}
/// `wait4`; `status` may be null.
pub unsafe fn wait4(pid: i32, status: *mut i32, options: i32) -> isize {
    sys!(SYS_wait4, pid, status, options, 0)
}
pub unsafe fn waitid(idtype: u32, id: i32, info: *mut libc::siginfo_t, options: i32) -> isize {
    sys!(SYS_waitid, idtype, id, info, options, 0)
}
pub unsafe fn clock_monotonic_ns() -> i64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    sys!(SYS_clock_gettime, libc::CLOCK_MONOTONIC, &mut now as *mut libc::timespec);
    now.tv_sec * 1_000_000_000 + now.tv_nsec
}
/// The soft `RLIMIT_NOFILE`, or `None`.
pub unsafe fn open_files_limit() -> Option<u64> {
    let mut limit = [0u64; 2];
    let r = sys!(SYS_prlimit64, 0, libc::RLIMIT_NOFILE, 0, limit.as_mut_ptr());
    (r == 0).then_some(limit[0])
}

/// The entry point of a child started by [`spawn_vfork`]; it must never return.
pub type ChildEntry = unsafe extern "C" fn(*mut libc::c_void) -> !;

/// `clone(CLONE_VM | CLONE_VFORK | SIGCHLD)`: the child shares our memory and runs `entry(arg)`
/// on `stack_top` (16-byte aligned, the end of memory nobody else uses meanwhile); we are
/// suspended until it execs or exits. Like `posix_spawn`, it copies no page table. Returns the
/// child's pid or `-errno`.
#[cfg(target_arch = "x86_64")]
pub unsafe fn spawn_vfork(entry: ChildEntry, arg: *mut libc::c_void, stack_top: *mut u8) -> isize {
    let ret: isize;
    core::arch::asm!(
        "syscall",
        "test rax, rax",
        "jnz 2f",
        // The child, on its own stack: no frame to return to.
        "xor ebp, ebp",
        "mov rdi, r12",
        "call r9",
        "ud2",
        "2:",
        inlateout("rax") libc::SYS_clone as isize => ret,
        in("rdi") (libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD) as usize,
        in("rsi") stack_top,
        in("rdx") 0usize, in("r10") 0usize, in("r8") 0usize,
        in("r9") entry as usize, in("r12") arg,
        lateout("rcx") _, lateout("r11") _,
        options(nostack)
    );
    ret
}

#[cfg(target_arch = "aarch64")]
pub unsafe fn spawn_vfork(entry: ChildEntry, arg: *mut libc::c_void, stack_top: *mut u8) -> isize {
    let ret: isize;
    core::arch::asm!(
        "svc 0",
        "cbnz x0, 2f",
        // The child, on its own stack: no frame to return to.
        "mov x29, xzr",
        "mov x30, xzr",
        "mov x0, x10",
        "blr x9",
        "brk #0",
        "2:",
        in("x8") libc::SYS_clone,
        inlateout("x0") (libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD) as isize => ret,
        in("x1") stack_top,
        in("x2") 0usize, in("x3") 0usize, in("x4") 0usize,
        in("x9") entry as usize, in("x10") arg,
        options(nostack)
    );
    ret
}
pub unsafe fn exit(code: i32) -> ! {
    loop {
        sys!(SYS_exit_group, code);
    }
}
