//! What the host hands the keeper across the clone: pointers into memory the host keeps alive
//! (and unchanged) until it has reaped the keeper, and the descriptors the keeper takes over.

use super::sys::Fd;
use crate::security::confine::ChildConfinement;
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
    /// Limits, cgroups, sandbox: applied by the plugin's side before its exec. Its descriptors
    /// are the host's; the keeper moves them next to the four above.
    pub confinement: ChildConfinement,
    /// The checked executable, exec'd by descriptor (docs/protocol.md §1.5); -1: `path` is.
    pub exec_fd: Fd,
    /// Non-zero: `exec_fd` stays open across the exec (a script's interpreter reads it).
    pub exec_fd_inherited: i32,
}
