//! Per-plugin cgroups (issue 15): a plugin's memory (resident, not address space), its CPU
//! share and its number of processes, enforced by the kernel for the plugin and everything it
//! starts.
//!
//! Each plugin start gets `<host's cgroup>/hector-plugins-<host pid>/<plugin>-<n>` in cgroup v2,
//! with the controllers the host can delegate there; a limit whose controller v2 lacks (a
//! hybrid system binds it to a v1 hierarchy) falls back to the same layout in that v1
//! hierarchy. A limit enforced nowhere comes back as a message naming it and why. The plugin's
//! side joins by writing "0" to each `cgroup.procs` descriptor of [`PluginCgroup::procs_files`]
//! between its clone and its exec (raw system calls only, see `crate::keeper`).
//!
//! Dropping a [`PluginCgroup`] kills what is left inside and removes the directories.

mod cleanup;
mod discover;
mod files;
mod limits;
mod placement;

use discover::Layout;
use limits::{Controller, Version};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The limits of one plugin; `None` is unlimited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupLimits {
    /// Resident memory (swap off for the group where the kernel allows).
    pub memory_bytes: Option<u64>,
    /// A share of ONE CPU: 100 is one core, 250 two and a half.
    pub cpu_percent: Option<f64>,
    /// Processes and threads together (`pids.max`).
    pub processes: Option<u64>,
}

impl CgroupLimits {
    fn validate(&self) -> io::Result<()> {
        if let Some(cpu) = self.cpu_percent {
            if !(cpu > 0.0 && cpu.is_finite()) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("max_cpu_percent must be a positive percentage, not {cpu}"),
                ));
            }
        }
        Ok(())
    }
}

/// What the kernel enforced since the group was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitHits {
    /// Processes the OOM killer killed for the memory limit.
    pub oom_kills: u64,
    /// Times usage reached the memory limit (reclaim may have coped without a kill).
    pub memory_limit_reached: u64,
    /// Forks (or new threads) refused for the process limit.
    pub forks_refused: u64,
    /// Scheduler periods in which the CPU share held the plugin back.
    pub cpu_throttled_periods: u64,
}

impl LimitHits {
    /// The limit that stops a plugin, for "stopped: memory limit 64 MiB": an OOM kill, else a
    /// refused fork.
    pub fn stopping_limit(&self, limits: &CgroupLimits) -> Option<String> {
        match (limits.memory_bytes, limits.processes) {
            (Some(bytes), _) if self.oom_kills > 0 => Some(format!("memory limit {}", mebibytes(bytes))),
            (_, Some(count)) if self.forks_refused > 0 => Some(format!("process limit {count}")),
            _ => None,
        }
    }
}

fn mebibytes(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// One plugin start's cgroups: at most one per hierarchy.
#[derive(Debug)]
pub struct PluginCgroup {
    groups: Vec<Group>,
    /// Parallel to `groups`.
    procs: Vec<OwnedFd>,
}

#[derive(Debug)]
struct Group {
    version: Version,
    dir: PathBuf,
    /// The controllers whose limits were written here.
    controllers: Vec<Controller>,
}

static STARTS: AtomicU64 = AtomicU64::new(1);

impl PluginCgroup {
    /// Creates the plugin's cgroup(s) with these limits. Returns them and, for each limit that
    /// cannot be enforced here, a message naming the setting and why. `Err` only for limits
    /// that make no sense.
    pub fn create(plugin: &str, limits: &CgroupLimits) -> io::Result<(PluginCgroup, Vec<String>)> {
        limits.validate()?;
        let layout = Layout::read();
        cleanup::sweep_stale_once(&layout);
        let name = placement::child_name(plugin, STARTS.fetch_add(1, Ordering::Relaxed));
        let wanted = Controller::wanted(limits);
        // Dropped on every path below: removes whatever was created.
        let mut cgroup = PluginCgroup { groups: Vec::new(), procs: Vec::new() };
        let mut messages = Vec::new();
        let _parents = placement::PARENTS.lock().unwrap_or_else(|e| e.into_inner());

        // v2 even without a controller: it tracks the plugin's processes (cgroup.kill, cpu.stat).
        let v2 = layout.v2.clone().and_then(|h| placement::create_v2(&h, &wanted, &name));
        let mut v2_refused = Vec::new();
        match &v2 {
            Ok(group) => {
                v2_refused.clone_from(&group.refused);
                cgroup.groups.push(Group { version: Version::V2, dir: group.dir.clone(), controllers: Vec::new() });
            }
            Err(reason) => v2_refused.extend(wanted.iter().map(|&c| (c, reason.clone()))),
        }
        for controller in wanted {
            let enabled_in_v2 = v2.as_ref().is_ok_and(|g| g.enabled.contains(&controller));
            let outcome = if enabled_in_v2 {
                cgroup.apply(Version::V2, None, controller, limits)
            } else {
                let v2_reason = v2_refused.iter().find(|(c, _)| *c == controller).map_or("", |(_, r)| r.as_str());
                match layout.v1_for(controller.name()) {
                    Some(hierarchy) => cgroup
                        .apply(Version::V1, Some((hierarchy, &name)), controller, limits)
                        .map_err(|e| format!("{v2_reason}; and in its v1 hierarchy: {e}")),
                    None => Err(format!("{v2_reason}, and there is no v1 {} hierarchy", controller.name())),
                }
            };
            if let Err(reason) = outcome {
                messages.push(format!("{}: {reason}", controller.setting()));
            }
        }
        drop(_parents);
        for group in &cgroup.groups {
            cgroup.procs.push(open_procs(&group.dir)?);
        }
        Ok((cgroup, messages))
    }

    /// Writes `controller`'s limit in the v2 group, or in the v1 group of `hierarchy` (created
    /// on first use).
    fn apply(
        &mut self,
        version: Version,
        v1: Option<(&discover::Hierarchy, &str)>,
        controller: Controller,
        limits: &CgroupLimits,
    ) -> Result<(), String> {
        let index = match v1 {
            None => self.groups.iter().position(|g| g.version == Version::V2),
            Some((hierarchy, name)) => {
                let dir = hierarchy.host_dir.join(placement::parent_name()).join(name);
                match self.groups.iter().position(|g| g.dir == dir) {
                    Some(index) => Some(index),
                    None => {
                        let dir = placement::create_v1(hierarchy, name).map_err(|e| e.to_string())?;
                        self.groups.push(Group { version, dir, controllers: Vec::new() });
                        Some(self.groups.len() - 1)
                    }
                }
            }
        };
        let group = &mut self.groups[index.ok_or("no cgroup v2 group")?];
        limits::apply(controller, limits, group.version, &group.dir).map_err(|e| e.to_string())?;
        group.controllers.push(controller);
        Ok(())
    }

    /// Write descriptors of the `cgroup.procs` files the plugin's process must join, one per
    /// hierarchy: its side writes "0" to each before its exec.
    pub fn procs_files(&self) -> &[OwnedFd] {
        &self.procs
    }

    /// The group directories (v2 first), for logs and diagnostics.
    pub fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.groups.iter().map(|g| g.dir.as_path())
    }

    /// Which limits the kernel enforced since creation.
    pub fn limit_hits(&self) -> LimitHits {
        let mut hits = LimitHits::default();
        if let Some(g) = self.holding(Controller::Memory) {
            hits.oom_kills = limits::oom_kills(g.version, &g.dir);
            hits.memory_limit_reached = limits::memory_limit_reached(g.version, &g.dir);
        }
        if let Some(g) = self.holding(Controller::Pids) {
            hits.forks_refused = limits::forks_refused(&g.dir);
        }
        if let Some(g) = self.holding(Controller::Cpu) {
            hits.cpu_throttled_periods = limits::cpu_throttled(&g.dir);
        }
        hits
    }

    /// Resident memory charged to the plugin, if its memory is limited.
    pub fn memory_current(&self) -> Option<u64> {
        self.holding(Controller::Memory).and_then(|g| limits::memory_current(g.version, &g.dir))
    }

    /// CPU time the plugin's processes used: from cgroup v2, else from a v1 group whose
    /// hierarchy has cpuacct.
    pub fn cpu_usage(&self) -> Option<Duration> {
        self.groups.iter().find_map(|g| limits::cpu_usage(g.version, &g.dir))
    }

    fn holding(&self, controller: Controller) -> Option<&Group> {
        self.groups.iter().find(|g| g.controllers.contains(&controller))
    }
}

impl Drop for PluginCgroup {
    fn drop(&mut self) {
        for group in &self.groups {
            cleanup::kill_all(group.version, &group.dir);
        }
        self.procs.clear();
        cleanup::remove(self.groups.drain(..).map(|g| (g.version, g.dir)).collect());
    }
}

fn open_procs(dir: &Path) -> io::Result<OwnedFd> {
    let path = dir.join("cgroup.procs");
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&path)
        .map(OwnedFd::from)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display())))
}
