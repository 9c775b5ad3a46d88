//! The plugin's process group, seen from the host that started it (docs/protocol.md §1.4): its
//! exit waited for, what it left in its group killed, the plugin reaped.
//!
//! The group is signalled by its id (the plugin's pid, as it leads its group) only while the
//! plugin is unreaped: until then no other process can have that id, so a reused pid is never
//! hit. The lock orders a kill against the reaping.

use crate::supervised::Kill;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::{Mutex, MutexGuard, PoisonError};

pub(super) struct Group {
    /// The plugin's pid, which is also its process group's id.
    leader: libc::pid_t,
    /// True once the plugin was reaped (or reaped by someone else): its id may be reused.
    reaped: Mutex<bool>,
}

impl Group {
    pub(super) fn new(leader: u32) -> Group {
        Group { leader: leader as libc::pid_t, reaped: Mutex::new(false) }
    }

    /// Blocks until the plugin exits, kills what is left in its group, reaps the plugin and
    /// returns its wait status. `None` if another part of the host reaped it first (a
    /// `waitpid(-1)`): its status is lost, and its group is left alone (the id may be reused).
    pub(super) fn wait(&self) -> Option<ExitStatus> {
        let exited = wait_without_reaping(self.leader);
        let mut reaped = self.lock();
        let status = if exited {
            self.signal();
            reap(self.leader)
        } else {
            None
        };
        *reaped = true;
        status
    }

    fn signal(&self) {
        // SAFETY: kill(2) touches no memory; the ids are ours while the plugin is unreaped.
        unsafe {
            libc::kill(-self.leader, libc::SIGKILL);
            // The plugin itself too, should it have moved to another group.
            libc::kill(self.leader, libc::SIGKILL);
        }
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        // A panic elsewhere while holding it leaves a valid bool.
        self.reaped.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Kill for Group {
    /// SIGKILLs the plugin and its group, unless the plugin was reaped already.
    fn kill(&self) {
        let reaped = self.lock();
        if !*reaped {
            self.signal();
        }
    }
}

/// Waits until `pid` has exited, leaving it a zombie (its id stays reserved). False if it is
/// no longer our child to wait for.
fn wait_without_reaping(pid: libc::pid_t) -> bool {
    loop {
        // SAFETY: waitid writes only into `info`, which lives on this stack.
        let r = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT)
        };
        if r == 0 {
            return true;
        }
        if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false;
        }
    }
}

fn reap(pid: libc::pid_t) -> Option<ExitStatus> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only into `status`.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Some(ExitStatus::from_raw(status));
        }
        if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None;
        }
    }
}
