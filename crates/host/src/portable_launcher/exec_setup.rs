//! What the plugin's side does between fork and exec (docs/protocol.md §1.1): every signal back
//! to its default action and no descriptor of the host beyond stdin, stdout and stderr. It runs
//! in the forked copy of a multithreaded host, so only async-signal-safe calls are allowed: no
//! allocation, no lock.

use crate::security::confine::ChildConfinement;
use std::io;

/// Run by `std::process::Command::pre_exec`, after std has set up fds 0-2, the working
/// directory, the process group and an empty signal mask.
pub(super) fn before_exec(confinement: &ChildConfinement) -> io::Result<()> {
    reset_signal_dispositions();
    close_on_exec_from(3);
    set_limits(confinement)
}

/// The resource limits (docs/security.md "Limits"); cgroups, Landlock and namespaces are Linux's,
/// where the keeper starts plugins instead.
fn set_limits(confinement: &ChildConfinement) -> io::Result<()> {
    for limit in confinement.rlimits() {
        let value = libc::rlimit { rlim_cur: limit.soft as libc::rlim_t, rlim_max: limit.hard as libc::rlim_t };
        // SAFETY: setrlimit is async-signal-safe and reads only `value`.
        #[allow(clippy::useless_conversion)]
        if unsafe { libc::setrlimit(limit.resource as _, &value) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Handlers reset themselves at exec, but an ignored signal (SIGPIPE in Python, SIGHUP under
/// nohup) would stay ignored in the plugin: back to the defaults.
fn reset_signal_dispositions() {
    // 64 covers Linux's real-time signals; macOS has 31 and refuses the rest, like SIGKILL and
    // SIGSTOP everywhere (harmlessly).
    for signal in 1..=64 {
        // SAFETY: sigaction is async-signal-safe; the action is a zeroed SIG_DFL on this stack.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Marks every descriptor from `first` on close-on-exec: one the host opened without the flag
/// (std sets it, C code may not) must not reach the plugin. Marked, not closed: std's own
/// exec-error pipe is among them and must stay open until the exec.
fn close_on_exec_from(first: libc::c_int) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: close_range only changes our descriptor flags (Linux ≥ 5.11; else ENOSYS/EINVAL).
        let r = unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, libc::CLOSE_RANGE_CLOEXEC) };
        if r == 0 {
            return;
        }
    }
    mark_close_on_exec(first..open_files_limit());
}

fn mark_close_on_exec(fds: std::ops::Range<libc::c_int>) {
    for fd in fds {
        // SAFETY: fcntl on a number that may not be open: EBADF, harmless.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
}

/// Every descriptor is below the soft `RLIMIT_NOFILE` (unless it was lowered since), capped:
/// the limit may be huge.
fn open_files_limit() -> libc::c_int {
    const CAP: libc::rlim_t = 1 << 20;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes only into `limit`.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    let soft = if known && limit.rlim_cur != libc::RLIM_INFINITY { limit.rlim_cur } else { CAP };
    soft.min(CAP) as libc::c_int
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop is what macOS runs (no close_range there); here it is checked on one fd.
    #[test]
    fn a_descriptor_without_the_flag_is_marked() {
        let null = std::fs::File::open("/dev/null").unwrap();
        // SAFETY: F_DUPFD makes a copy without FD_CLOEXEC, closed below.
        let fd = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&null), libc::F_DUPFD, 100) };
        assert!(fd >= 100, "{}", io::Error::last_os_error());
        // SAFETY: F_GETFD and close on the fd made above.
        let flags = || unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert_eq!(flags() & libc::FD_CLOEXEC, 0);
        mark_close_on_exec(fd..fd + 1);
        assert_eq!(flags() & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        unsafe { libc::close(fd) };
    }

    #[test]
    fn the_limit_is_positive_and_capped() {
        let limit = open_files_limit();
        assert!(limit > 3 && limit <= 1 << 20, "{limit}");
    }
}
