//! The three controllers: writing a limit, and reading back what the kernel enforced, in the
//! files of cgroup v2 or of a v1 hierarchy.

use super::files;
use super::CgroupLimits;
use std::io;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V1,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Controller {
    Memory,
    Cpu,
    Pids,
}

impl Controller {
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Cpu => "cpu",
            Controller::Pids => "pids",
        }
    }

    /// The `plugin_security` setting it enforces, for messages.
    pub fn setting(self) -> &'static str {
        match self {
            Controller::Memory => "max_memory_mb",
            Controller::Cpu => "max_cpu_percent",
            Controller::Pids => "max_processes",
        }
    }

    /// The controllers `limits` needs, in a fixed order.
    pub fn wanted(limits: &CgroupLimits) -> Vec<Controller> {
        let mut wanted = Vec::new();
        if limits.memory_bytes.is_some() {
            wanted.push(Controller::Memory);
        }
        if limits.cpu_percent.is_some() {
            wanted.push(Controller::Cpu);
        }
        if limits.processes.is_some() {
            wanted.push(Controller::Pids);
        }
        wanted
    }
}

/// Writes this controller's limit into the group's directory.
pub(super) fn apply(controller: Controller, limits: &CgroupLimits, version: Version, dir: &Path) -> io::Result<()> {
    match (controller, version) {
        (Controller::Memory, _) => {
            let bytes = limits.memory_bytes.unwrap_or(u64::MAX).to_string();
            if version == Version::V2 {
                files::write(dir, "memory.max", &bytes)?;
                // Resident memory, not memory plus swap; absent without swap accounting.
                let _ = files::write(dir, "memory.swap.max", "0");
                // An OOM kill stops the plugin as a whole, not one of its processes at random.
                let _ = files::write(dir, "memory.oom.group", "1");
            } else {
                files::write(dir, "memory.limit_in_bytes", &bytes)?;
                // v1 has no per-group swap switch; swappiness 0 keeps the group's pages resident.
                let _ = files::write(dir, "memory.swappiness", "0");
            }
        }
        (Controller::Cpu, _) => {
            let (quota, period) = cpu_quota(limits.cpu_percent.unwrap_or(100.0));
            if version == Version::V2 {
                files::write(dir, "cpu.max", &format!("{quota} {period}"))?;
            } else {
                files::write(dir, "cpu.cfs_period_us", &period.to_string())?;
                files::write(dir, "cpu.cfs_quota_us", &quota.to_string())?;
            }
        }
        (Controller::Pids, _) => {
            files::write(dir, "pids.max", &limits.processes.unwrap_or(u64::MAX).to_string())?;
        }
    }
    Ok(())
}

/// The CFS bandwidth for `percent` of one CPU: (quota, period) in microseconds. The kernel
/// takes quotas of 1 ms and more, so a tiny share gets the longest period (1 s) instead.
pub(super) fn cpu_quota(percent: f64) -> (u64, u64) {
    let quota = |period: u64| (period as f64 * percent / 100.0).round() as u64;
    let period = if quota(100_000) < 1_000 { 1_000_000 } else { 100_000 };
    (quota(period).max(1_000), period)
}

/// Processes the OOM killer killed in the group.
pub(super) fn oom_kills(version: Version, dir: &Path) -> u64 {
    match version {
        Version::V2 => files::keyed(dir, "memory.events", "oom_kill"),
        Version::V1 => files::keyed(dir, "memory.oom_control", "oom_kill"),
    }
    .unwrap_or(0)
}

/// How often the group's usage hit its memory limit (reclaim may have coped).
pub(super) fn memory_limit_reached(version: Version, dir: &Path) -> u64 {
    match version {
        Version::V2 => files::keyed(dir, "memory.events", "max"),
        Version::V1 => files::number(dir, "memory.failcnt"),
    }
    .unwrap_or(0)
}

pub(super) fn forks_refused(dir: &Path) -> u64 {
    files::keyed(dir, "pids.events", "max").unwrap_or(0)
}

/// CFS periods in which the group was throttled.
pub(super) fn cpu_throttled(dir: &Path) -> u64 {
    files::keyed(dir, "cpu.stat", "nr_throttled").unwrap_or(0)
}

pub(super) fn memory_current(version: Version, dir: &Path) -> Option<u64> {
    match version {
        Version::V2 => files::number(dir, "memory.current"),
        Version::V1 => files::number(dir, "memory.usage_in_bytes"),
    }
}

/// CPU time used by the group: v2 `cpu.stat` (there without the cpu controller), v1
/// `cpuacct.usage` where cpuacct shares the hierarchy.
pub(super) fn cpu_usage(version: Version, dir: &Path) -> Option<Duration> {
    match version {
        Version::V2 => files::keyed(dir, "cpu.stat", "usage_usec").map(Duration::from_micros),
        Version::V1 => files::number(dir, "cpuacct.usage").map(Duration::from_nanos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quota_is_a_share_of_one_cpu() {
        assert_eq!(cpu_quota(20.0), (20_000, 100_000));
        assert_eq!(cpu_quota(100.0), (100_000, 100_000));
        assert_eq!(cpu_quota(250.0), (250_000, 100_000));
        assert_eq!(cpu_quota(0.5), (5_000, 1_000_000));
        assert_eq!(cpu_quota(0.01), (1_000, 1_000_000));
    }

    #[test]
    fn wanted_follows_the_limits_given() {
        let limits = CgroupLimits { memory_bytes: None, cpu_percent: Some(5.0), processes: Some(3) };
        assert_eq!(Controller::wanted(&limits), [Controller::Cpu, Controller::Pids]);
        assert!(Controller::wanted(&CgroupLimits::default()).is_empty());
    }
}
