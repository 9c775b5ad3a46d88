//! Creating a plugin's directories: `<host's cgroup>/hector-plugins-<host pid>/<plugin>-<n>` in
//! cgroup v2 with the controllers it can delegate there, and in each v1 hierarchy a limit falls
//! back to.

use super::discover::{writable, Hierarchy};
use super::files;
use super::limits::Controller;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub(super) const PARENT_PREFIX: &str = "hector-plugins-";

/// Held while a per-host parent directory is created or removed, so one start never loses
/// the parent that another plugin's end is removing.
pub(super) static PARENTS: Mutex<()> = Mutex::new(());

pub(super) fn parent_name() -> String {
    format!("{PARENT_PREFIX}{}", std::process::id())
}

/// The plugin's group in cgroup v2, and why a wanted controller is not delegated to it.
pub(super) struct V2Group {
    pub dir: PathBuf,
    pub enabled: Vec<Controller>,
    pub refused: Vec<(Controller, String)>,
}

/// Creates the v2 group; `Err` says why there is none.
pub(super) fn create_v2(hierarchy: &Hierarchy, wanted: &[Controller], name: &str) -> Result<V2Group, String> {
    let host = &hierarchy.host_dir;
    if !writable(host) {
        return Err(format!("the host may not create cgroups under {} (cgroup v2)", host.display()));
    }
    let available = files::words(host, "cgroup.controllers").map_err(|e| e.to_string())?;
    let mut enabled = Vec::new();
    let mut refused = Vec::new();
    for &controller in wanted {
        match delegate(host, &available, controller) {
            Ok(()) => enabled.push(controller),
            Err(reason) => refused.push((controller, reason)),
        }
    }
    let parent = host.join(parent_name());
    make_dir(&parent).map_err(|e| e.to_string())?;
    // The parent holds no process, so it may hand every controller on (the "no internal
    // processes" rule bites only in the host's own cgroup).
    enabled.retain(|&controller| match enable(&parent, controller) {
        Ok(()) => true,
        Err(e) => {
            refused.push((controller, e.to_string()));
            false
        }
    });
    let dir = parent.join(name);
    make_dir(&dir).map_err(|e| e.to_string())?;
    Ok(V2Group { dir, enabled, refused })
}

/// Makes `controller` available to the host's children: it must be in the host cgroup's
/// `cgroup.controllers` and enabled in its `cgroup.subtree_control`.
fn delegate(host: &Path, available: &[String], controller: Controller) -> Result<(), String> {
    let name = controller.name();
    if !available.iter().any(|c| c == name) {
        return Err(format!(
            "the {name} controller is not enabled for cgroup v2 at {} (it is bound to a v1 hierarchy, or not delegated)",
            host.display()
        ));
    }
    enable(host, controller).map_err(|e| {
        if e.raw_os_error() == Some(libc::EBUSY) || e.to_string().contains("busy") {
            format!(
                "the {name} controller cannot be enabled below {}: the host process sits in that cgroup, and \
                 cgroup v2 lets a non-root cgroup with processes hand no controller to its children (the \"no \
                 internal processes\" rule)",
                host.display()
            )
        } else {
            format!("the {name} controller cannot be enabled below {}: {e}", host.display())
        }
    })
}

fn enable(dir: &Path, controller: Controller) -> io::Result<()> {
    let name = controller.name();
    if files::words(dir, "cgroup.subtree_control")?.iter().any(|c| c == name) {
        return Ok(());
    }
    files::write(dir, "cgroup.subtree_control", &format!("+{name}"))
}

/// Creates the plugin's group in a v1 hierarchy.
pub(super) fn create_v1(hierarchy: &Hierarchy, name: &str) -> io::Result<PathBuf> {
    let parent = hierarchy.host_dir.join(parent_name());
    make_dir(&parent)?;
    let dir = parent.join(name);
    make_dir(&dir)?;
    Ok(dir)
}

/// `mkdir`, an existing per-host parent being fine (a plugin's own name is new each start).
fn make_dir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && is_parent(dir) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))),
    }
}

fn is_parent(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with(PARENT_PREFIX))
}

/// A directory name for one start of `plugin`: its name (letters, digits, `-`, `_`; at most 48)
/// and a counter.
pub(super) fn child_name(plugin: &str, counter: u64) -> String {
    let base: String = plugin
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(48)
        .collect();
    let base = if base.is_empty() { "plugin" } else { &base };
    format!("{base}-{counter}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_names_are_plain_and_unique_per_counter() {
        assert_eq!(child_name("weather", 1), "weather-1");
        assert_eq!(child_name("../memory.max x", 2), "___memory_max_x-2");
        assert_eq!(child_name("", 3), "plugin-3");
        assert_eq!(child_name(&"a".repeat(100), 4).len(), 48 + 2);
    }
}
