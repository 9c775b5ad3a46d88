//! Ending a plugin's groups: kill what is left inside, remove the directories (a cgroup can be
//! removed only once its processes have exited), and the per-host parent once it is empty; at
//! the first use, the parents that hosts which have died left behind.

use super::discover::Layout;
use super::files;
use super::limits::{Controller, Version};
use super::placement::{PARENTS, PARENT_PREFIX};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

/// SIGKILLs every process in the group: `cgroup.kill` on v2 (Linux 5.14+), else each pid
/// listed, a few rounds since a process may fork meanwhile.
pub(super) fn kill_all(version: Version, dir: &Path) {
    if version == Version::V2 && files::write(dir, "cgroup.kill", "1").is_ok() {
        return;
    }
    for _ in 0..8 {
        let pids = files::pids(dir);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            // SAFETY: a signal to a pid the kernel lists in the group right now.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// How long `remove` waits before leaving the rest to a thread, and how long that thread tries.
const INLINE_WAIT: Duration = Duration::from_millis(20);
const BACKGROUND_WAIT: Duration = Duration::from_secs(5);

/// Removes the groups (killed already) and then their parents if empty. Killed processes take
/// a moment to exit: a short wait here, then a thread keeps trying, so a drop never blocks long.
pub(super) fn remove(groups: Vec<(Version, PathBuf)>) {
    let left = remove_until(groups, Instant::now() + INLINE_WAIT);
    if left.is_empty() {
        return;
    }
    let _ = std::thread::Builder::new().name("hplug-cgroup-rm".into()).spawn(move || {
        remove_until(left, Instant::now() + BACKGROUND_WAIT);
    });
}

/// Tries until `deadline`; returns the groups it could not remove.
fn remove_until(mut groups: Vec<(Version, PathBuf)>, deadline: Instant) -> Vec<(Version, PathBuf)> {
    let mut pause = Duration::from_millis(1);
    loop {
        groups.retain(|(version, dir)| {
            if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                remove_parent(dir);
                return false;
            }
            kill_all(*version, dir);
            true
        });
        if groups.is_empty() || Instant::now() >= deadline {
            return groups;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Removes the per-host parent of `group` if no other plugin's group is in it.
fn remove_parent(group: &Path) {
    if let Some(parent) = group.parent() {
        let _guard = PARENTS.lock().unwrap_or_else(|e| e.into_inner());
        let _ = std::fs::remove_dir(parent);
    }
}

/// Once per host: removes `hector-plugins-<pid>` parents whose host has died (and one with our
/// own pid: nothing of ours exists yet, so a host before us with the same pid left it).
pub(super) fn sweep_stale_once(layout: &Layout) {
    static SWEPT: Once = Once::new();
    SWEPT.call_once(|| {
        if let Ok(v2) = &layout.v2 {
            sweep_dir(Version::V2, &v2.host_dir);
        }
        for controller in [Controller::Memory, Controller::Cpu, Controller::Pids] {
            if let Some(v1) = layout.v1_for(controller.name()) {
                sweep_dir(Version::V1, &v1.host_dir);
            }
        }
    });
}

fn sweep_dir(version: Version, host_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(host_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PARENT_PREFIX)).and_then(|p| p.parse().ok()) else {
            continue;
        };
        if pid != std::process::id() && is_alive(pid) {
            continue;
        }
        let parent = entry.path();
        let groups: Vec<_> = std::fs::read_dir(&parent)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| (version, e.path()))
            .collect();
        for (version, dir) in &groups {
            kill_all(*version, dir);
        }
        remove_until(groups, Instant::now() + INLINE_WAIT);
        let _ = std::fs::remove_dir(&parent);
    }
}

/// A pid we cannot signal but that exists (EPERM) is alive too.
fn is_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
}
