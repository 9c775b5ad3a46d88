//! A process seen through /proc: identified by pid and start time, so a pid the kernel reused for
//! another process is never mistaken for the plugin; "gone" means not even a zombie is left.

use std::fmt;

/// One process, as it was when [`Process::of`] looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    /// Field 22 of /proc/<pid>/stat (clock ticks since boot): unique to this process for its pid.
    start_time: u64,
}

/// What /proc says about a pid now.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    Running,
    /// Exited, but nobody reaped it.
    Zombie,
    /// No process of that identity (the pid is free, or another process took it).
    Gone,
}

impl Process {
    /// The live process `pid`; panics if there is none (the caller expects one).
    pub fn of(pid: u32) -> Process {
        match stat(pid) {
            Some((state, start_time)) if state != 'Z' => Process { pid, start_time },
            other => panic!("process {pid} is not running (/proc says {other:?})"),
        }
    }

    pub fn seen(&self) -> Seen {
        match stat(self.pid) {
            Some((state, start_time)) if start_time == self.start_time => {
                if state == 'Z' {
                    Seen::Zombie
                } else {
                    Seen::Running
                }
            }
            _ => Seen::Gone,
        }
    }

    /// Sends `signal` (a test's stand-in for a crash or a freeze).
    pub fn signal(&self, signal: libc::c_int) {
        assert_eq!(self.seen(), Seen::Running, "{self} must still run to be signalled");
        let pid = libc::pid_t::try_from(self.pid).expect("pid fits pid_t");
        // SAFETY: kill(2) has no memory effects; the pid was just seen running as this process.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill({pid}, {signal}): {}", std::io::Error::last_os_error());
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process {}", self.pid)
    }
}

/// State letter and start time from /proc/<pid>/stat, or `None` when there is no such pid.
fn stat(pid: u32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses, so split at the last ')'.
    let after_comm = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    let state = fields.first()?.chars().next()?;
    let start_time = fields.get(19)?.parse().ok()?;
    Some((state, start_time))
}
