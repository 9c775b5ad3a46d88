//! Resource limits of one plugin (docs/security.md "Limits"): what the configuration asks for,
//! how each is enforced, and how a limit the plugin hit is reported.
//!
//! CPU time and open files are `setrlimit` limits, set between fork and exec, which every unix
//! enforces. Resident memory, CPU share and processes need a cgroup (Linux); without one,
//! resident memory is watched by the host instead (`memory_watch`), the others are reported as
//! not enforced.

use std::fmt;

/// The limits configured for a plugin (`plugin_security`, overridden per entry).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// Resident memory, in MiB (not address space: a Go or Python runtime reserves far more
    /// than it uses).
    pub max_memory_mb: Option<u64>,
    /// CPU time over the process's life, in seconds.
    pub max_cpu_seconds: Option<u64>,
    /// A share of one core, in percent (200: two cores).
    pub max_cpu_percent: Option<f64>,
    pub max_open_files: Option<u64>,
    /// Processes and threads of the plugin at once, itself included.
    pub max_processes: Option<u64>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// Each limit given in `over` replaces this one's.
    pub fn overridden_by(self, over: Limits) -> Limits {
        Limits {
            max_memory_mb: over.max_memory_mb.or(self.max_memory_mb),
            max_cpu_seconds: over.max_cpu_seconds.or(self.max_cpu_seconds),
            max_cpu_percent: over.max_cpu_percent.or(self.max_cpu_percent),
            max_open_files: over.max_open_files.or(self.max_open_files),
            max_processes: over.max_processes.or(self.max_processes),
        }
    }

    /// The `setrlimit` limits the plugin's side sets before its exec.
    // The resources are u32 in glibc, i32 elsewhere.
    #[allow(clippy::unnecessary_cast)]
    pub fn rlimits(&self) -> Vec<RawLimit> {
        let mut limits = Vec::new();
        if let Some(seconds) = self.max_cpu_seconds {
            // The soft limit sends SIGXCPU (reported as this limit); the hard one, a second
            // later, SIGKILL for a plugin that ignores it.
            limits.push(RawLimit { resource: libc::RLIMIT_CPU as i32, soft: seconds, hard: seconds + 1 });
        }
        if let Some(files) = self.max_open_files {
            limits.push(RawLimit { resource: libc::RLIMIT_NOFILE as i32, soft: files, hard: files });
        }
        limits
    }
}

/// One `setrlimit`, in the plain numbers the plugin's side can use without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct RawLimit {
    pub resource: i32,
    pub soft: u64,
    pub hard: u64,
}

/// The limit that stopped (or refused something to) a plugin, as its exit is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    Memory { limit_mb: u64 },
    CpuTime { limit_seconds: u64 },
    Processes { limit: u64 },
}

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitHit::Memory { limit_mb } => {
                write!(f, "it exceeded its memory limit (max_memory_mb: {limit_mb} MiB resident)")
            }
            LimitHit::CpuTime { limit_seconds } => {
                write!(f, "it used up its CPU time limit (max_cpu_seconds: {limit_seconds} s)")
            }
            LimitHit::Processes { limit } => write!(f, "it reached its process limit (max_processes: {limit})"),
        }
    }
}

/// The CPU time limit, if the exit signal says the kernel enforced it. Only SIGXCPU: a SIGKILL
/// has too many other senders (the host itself, the OOM killer) to be blamed on this limit.
pub fn cpu_time_hit(limits: &Limits, signal: Option<i32>) -> Option<LimitHit> {
    let limit_seconds = limits.max_cpu_seconds?;
    (signal == Some(libc::SIGXCPU)).then_some(LimitHit::CpuTime { limit_seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_overrides_each_limit_it_gives() {
        let defaults = Limits { max_memory_mb: Some(512), max_open_files: Some(1024), ..Default::default() };
        let entry = Limits { max_memory_mb: Some(64), ..Default::default() };
        let both = defaults.overridden_by(entry);
        assert_eq!(both.max_memory_mb, Some(64));
        assert_eq!(both.max_open_files, Some(1024));
    }

    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn cpu_time_and_open_files_become_rlimits() {
        let limits = Limits { max_cpu_seconds: Some(2), max_open_files: Some(64), ..Default::default() };
        let raw = limits.rlimits();
        assert_eq!(raw[0], RawLimit { resource: libc::RLIMIT_CPU as i32, soft: 2, hard: 3 });
        assert_eq!(raw[1], RawLimit { resource: libc::RLIMIT_NOFILE as i32, soft: 64, hard: 64 });
        assert!(Limits::default().rlimits().is_empty());
    }

    #[test]
    fn hits_name_the_setting() {
        assert!(LimitHit::Memory { limit_mb: 64 }.to_string().contains("max_memory_mb: 64"));
        assert_eq!(
            cpu_time_hit(&Limits { max_cpu_seconds: Some(1), ..Default::default() }, Some(libc::SIGXCPU)),
            Some(LimitHit::CpuTime { limit_seconds: 1 })
        );
        assert_eq!(cpu_time_hit(&Limits::default(), Some(libc::SIGXCPU)), None);
    }
}
