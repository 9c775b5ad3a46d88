//! Where the cgroup hierarchies are mounted and where the host sits in each, from
//! /proc/self/mountinfo and /proc/self/cgroup.

use std::path::{Path, PathBuf};

/// One cgroup hierarchy the host belongs to, as seen from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hierarchy {
    /// The host's own cgroup directory in it.
    pub host_dir: PathBuf,
    /// v1: the controllers bound to it; v2: empty (read `cgroup.controllers` instead).
    pub controllers: Vec<String>,
}

/// The hierarchies found, with why one is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    pub v2: Result<Hierarchy, String>,
    pub v1: Vec<Hierarchy>,
}

impl Layout {
    pub fn read() -> Layout {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo");
        let membership = std::fs::read_to_string("/proc/self/cgroup");
        match (mountinfo, membership) {
            (Ok(mountinfo), Ok(membership)) => Layout::parse(&mountinfo, &membership),
            (Err(e), _) | (_, Err(e)) => Layout {
                v2: Err(format!("cannot read /proc/self/mountinfo and /proc/self/cgroup: {e}")),
                v1: Vec::new(),
            },
        }
    }

    pub fn parse(mountinfo: &str, membership: &str) -> Layout {
        let mounts: Vec<Mount> = mountinfo.lines().filter_map(Mount::parse).collect();
        let lines: Vec<Membership> = membership.lines().filter_map(Membership::parse).collect();
        let v2 = match lines.iter().find(|m| m.id == "0") {
            None => Err("the host is in no cgroup v2 (no `0::` line in /proc/self/cgroup)".to_string()),
            Some(line) => mounts
                .iter()
                .filter(|m| m.fstype == "cgroup2")
                .find_map(|m| m.dir_of(&line.path))
                .map(|host_dir| Hierarchy { host_dir, controllers: Vec::new() })
                .ok_or_else(|| format!("no cgroup v2 mount holds the host's cgroup {}", line.path)),
        };
        let v1 = lines
            .iter()
            .filter(|line| line.id != "0" && !line.controllers.is_empty())
            .filter_map(|line| {
                let host_dir = mounts
                    .iter()
                    .filter(|m| m.fstype == "cgroup" && line.controllers.iter().all(|c| m.options.contains(c)))
                    .find_map(|m| m.dir_of(&line.path))?;
                Some(Hierarchy { host_dir, controllers: line.controllers.clone() })
            })
            .collect();
        Layout { v2, v1 }
    }

    /// The v1 hierarchy that `controller` is bound to.
    pub fn v1_for(&self, controller: &str) -> Option<&Hierarchy> {
        self.v1.iter().find(|h| h.controllers.iter().any(|c| c == controller))
    }
}

/// A line of /proc/self/mountinfo, the fields we use.
struct Mount {
    /// The directory of the filesystem that is mounted (a cgroup's path for cgroupfs).
    root: String,
    point: PathBuf,
    fstype: String,
    /// Super-block options: a v1 hierarchy's controllers are among them.
    options: Vec<String>,
}

impl Mount {
    fn parse(line: &str) -> Option<Mount> {
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        let (left, right) = line.split_once(" - ")?;
        let left: Vec<&str> = left.split(' ').collect();
        let mut right = right.split(' ');
        let fstype = right.next()?.to_string();
        let options = right.nth(1).unwrap_or("").split(',').map(str::to_string).collect();
        Some(Mount { root: unescape(left.get(3)?), point: PathBuf::from(unescape(left.get(4)?)), fstype, options })
    }

    /// The directory of cgroup `path` under this mount, if the mount shows it.
    fn dir_of(&self, path: &str) -> Option<PathBuf> {
        let relative = if self.root == "/" {
            path
        } else {
            let rest = path.strip_prefix(self.root.as_str())?;
            if !(rest.is_empty() || rest.starts_with('/')) {
                return None;
            }
            rest
        };
        let relative = relative.trim_start_matches('/');
        Some(if relative.is_empty() { self.point.clone() } else { self.point.join(relative) })
    }
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal =
            bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, b| n.wrapping_mul(8).wrapping_add(b - b'0')));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A line of /proc/self/cgroup: `id:controllers:path`.
struct Membership {
    id: String,
    controllers: Vec<String>,
    path: String,
}

impl Membership {
    fn parse(line: &str) -> Option<Membership> {
        let mut parts = line.splitn(3, ':');
        let id = parts.next()?.to_string();
        let controllers = parts.next()?.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect();
        let path = parts.next()?.to_string();
        Some(Membership { id, controllers, path })
    }
}

/// True if `dir` is a cgroup directory we may create children in.
pub(super) fn writable(dir: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else { return false };
    // SAFETY: a NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's kind: hybrid, v2 without controllers, v1 memory in a nested cgroup.
    const HYBRID_MOUNTS: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_CGROUPS: &str = "9:name=systemd:/\n8:pids:/\n4:memory:/api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n";

    #[test]
    fn hybrid_layout() {
        let layout = Layout::parse(HYBRID_MOUNTS, HYBRID_CGROUPS);
        assert_eq!(layout.v2.as_ref().unwrap().host_dir, PathBuf::from("/sys/fs/cgroup/unified"));
        assert_eq!(layout.v1_for("memory").unwrap().host_dir, PathBuf::from("/sys/fs/cgroup/memory/api/abc"));
        assert_eq!(layout.v1_for("pids").unwrap().host_dir, PathBuf::from("/sys/fs/cgroup/pids"));
        assert_eq!(layout.v1_for("cpu").unwrap().host_dir, PathBuf::from("/sys/fs/cgroup/cpu"));
        assert!(layout.v1_for("name=systemd").is_some());
        assert!(layout.v1_for("io").is_none());
    }

    #[test]
    fn unified_layout_with_a_mount_root_and_comounted_cpu() {
        let mounts = "\
30 25 0:26 /kubepods/pod1 /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
31 25 0:27 / /mnt/cpu\\040acct rw - cgroup cgroup rw,cpu,cpuacct
";
        let layout = Layout::parse(mounts, "0::/kubepods/pod1/app\n3:cpu,cpuacct:/x\n");
        assert_eq!(layout.v2.as_ref().unwrap().host_dir, PathBuf::from("/sys/fs/cgroup/app"));
        let cpu = layout.v1_for("cpuacct").unwrap();
        assert_eq!(cpu.host_dir, PathBuf::from("/mnt/cpu acct/x"));
        assert_eq!(cpu.controllers, ["cpu", "cpuacct"]);
    }

    #[test]
    fn missing_v2_says_why() {
        let layout = Layout::parse(HYBRID_MOUNTS, "8:pids:/\n");
        assert!(layout.v2.unwrap_err().contains("no `0::` line"));
        let outside = Layout::parse("30 25 0:26 /other /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/others\n");
        assert!(outside.v2.unwrap_err().contains("no cgroup v2 mount holds"));
    }
}
