//! Confining one plugin process (docs/security.md): the host prepares everything that needs
//! memory, files or decisions (limits, cgroup, Landlock ruleset); the plugin's side, between
//! its fork and its exec, applies it with plain system calls (`ChildConfinement`). What this
//! system cannot enforce is named in `unenforced`, and the start logs it as a warning.

use super::limits::{cpu_time_hit, LimitHit, Limits, RawLimit};
use super::permissions::Permissions;
use super::sandbox::{PluginPaths, Sandbox};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub const MAX_RLIMITS: usize = 4;
pub const MAX_CGROUPS: usize = 4;

/// What the plugin's side applies before its exec, in plain numbers (it may not allocate).
/// Descriptors are the host's; the launcher keeps them open up to the exec.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ChildConfinement {
    pub rlimits: [RawLimit; MAX_RLIMITS],
    pub rlimit_count: usize,
    /// `cgroup.procs` files open for writing: the plugin's side joins each by writing "0".
    pub cgroup_procs: [i32; MAX_CGROUPS],
    /// A Landlock ruleset to restrict itself with (-1: none).
    pub landlock: i32,
    pub new_network_namespace: bool,
}

impl Default for ChildConfinement {
    fn default() -> Self {
        ChildConfinement {
            rlimits: [RawLimit::default(); MAX_RLIMITS],
            rlimit_count: 0,
            cgroup_procs: [-1; MAX_CGROUPS],
            landlock: -1,
            new_network_namespace: false,
        }
    }
}

impl ChildConfinement {
    pub fn rlimits(&self) -> &[RawLimit] {
        &self.rlimits[..self.rlimit_count.min(MAX_RLIMITS)]
    }

    /// Every descriptor the plugin's side needs up to its exec.
    pub fn fds(&self) -> impl Iterator<Item = i32> + '_ {
        self.cgroup_procs.iter().copied().chain([self.landlock]).filter(|fd| *fd >= 0)
    }
}

/// The limits and sandbox of one plugin, as configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Protections {
    pub limits: Limits,
    /// `None`: no filesystem or network confinement.
    pub sandbox: Option<Sandbox>,
    /// What its manifest may ask for; granted paths and ports widen its sandbox.
    pub grants: Permissions,
}

/// The host's side of one confined process: it lives as long as the process.
pub struct Confinement {
    pub child: ChildConfinement,
    /// What could not be enforced here, each naming the setting and why.
    pub unenforced: Vec<String>,
    limits: Limits,
    /// Kept open until the exec (the child's numbers point at them).
    _fds: Vec<OwnedFd>,
    #[cfg(target_os = "linux")]
    cgroup: Option<Arc<super::cgroup::PluginCgroup>>,
    /// Set by the host's memory watch when it killed the plugin.
    memory_exceeded: Option<Arc<AtomicBool>>,
    /// Resident memory is watched by the host (no memory cgroup).
    watch_memory: bool,
}

impl Confinement {
    /// Prepares `plugin`'s confinement; an error names the rule that refused the start.
    pub fn prepare(plugin: &str, protections: &Protections, paths: &PluginPaths<'_>) -> Result<Confinement, String> {
        let limits = protections.limits;
        let mut child = ChildConfinement::default();
        let mut unenforced = Vec::new();
        let mut fds = Vec::new();
        for (slot, limit) in child.rlimits.iter_mut().zip(limits.rlimits()) {
            *slot = limit;
            child.rlimit_count += 1;
        }
        if let Some(sandbox) = &protections.sandbox {
            let prepared = sandbox.with_grants(&protections.grants).prepare(plugin, paths)?;
            if let Some(ruleset) = prepared.ruleset {
                child.landlock = ruleset.as_raw_fd();
                fds.push(ruleset);
            }
            child.new_network_namespace = prepared.new_network_namespace;
            unenforced.extend(prepared.unenforced);
        }
        let mut confinement = Confinement {
            child,
            unenforced,
            limits,
            _fds: fds,
            #[cfg(target_os = "linux")]
            cgroup: None,
            memory_exceeded: None,
            watch_memory: false,
        };
        confinement.add_cgroup(plugin)?;
        // `require` covers every protection this system cannot give, limits too.
        if let (Some(gap), true) =
            (confinement.unenforced.first(), protections.sandbox.as_ref().is_some_and(|s| s.require))
        {
            return Err(format!("plugin {plugin:?}: sandbox.require is true, but {gap}"));
        }
        Ok(confinement)
    }

    #[cfg(target_os = "linux")]
    fn add_cgroup(&mut self, plugin: &str) -> Result<(), String> {
        use super::cgroup::{CgroupLimits, PluginCgroup};
        let wanted = CgroupLimits {
            memory_bytes: self.limits.max_memory_mb.map(|mb| mb << 20),
            cpu_percent: self.limits.max_cpu_percent,
            processes: self.limits.max_processes,
        };
        if wanted.memory_bytes.is_none() && wanted.cpu_percent.is_none() && wanted.processes.is_none() {
            return Ok(());
        }
        match PluginCgroup::create(plugin, &wanted) {
            Ok((cgroup, gaps)) => {
                for (slot, file) in self.child.cgroup_procs.iter_mut().zip(cgroup.procs_files()) {
                    *slot = file.as_raw_fd();
                }
                let memory_gap = |gap: &String| gap.starts_with("max_memory_mb");
                self.watch_memory = wanted.memory_bytes.is_some() && gaps.iter().any(memory_gap);
                // The host's watch stands in for the memory cgroup: said below.
                self.unenforced.extend(gaps.into_iter().filter(|gap| !memory_gap(gap)));
                self.cgroup = Some(Arc::new(cgroup));
            }
            Err(e) => {
                self.watch_memory = wanted.memory_bytes.is_some();
                for (setting, given) in
                    [("max_cpu_percent", wanted.cpu_percent.is_some()), ("max_processes", wanted.processes.is_some())]
                {
                    if given {
                        self.unenforced
                            .push(format!("{setting} is not enforced: the host cannot create a cgroup ({e})"));
                    }
                }
            }
        }
        if self.watch_memory {
            self.unenforced.push(
                "max_memory_mb is watched by the host instead of a memory cgroup: it counts the plugin's own \
                 process, not its children"
                    .into(),
            );
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    fn add_cgroup(&mut self, _plugin: &str) -> Result<(), String> {
        self.watch_memory = self.limits.max_memory_mb.is_some();
        for (setting, given) in [
            ("max_cpu_percent", self.limits.max_cpu_percent.is_some()),
            ("max_processes", self.limits.max_processes.is_some()),
        ] {
            if given {
                self.unenforced.push(format!("{setting} is not enforced: it needs a Linux cgroup"));
            }
        }
        Ok(())
    }

    /// What of `protections` this system cannot enforce, each naming the setting, as a start
    /// would find it (a cgroup is created and removed to find out).
    pub fn gaps(plugin: &str, protections: &Protections) -> Vec<String> {
        if protections.limits.is_empty() && protections.sandbox.is_none() {
            return Vec::new();
        }
        let dir = std::env::temp_dir();
        let paths = PluginPaths { executable: &dir, resolved_executable: &dir, socket_dir: &dir, working_dir: None };
        match Confinement::prepare(plugin, protections, &paths) {
            Ok(confinement) => confinement.unenforced,
            Err(refusal) => vec![refusal],
        }
    }

    /// Once the plugin runs: starts the host's memory watch if it needs one, and the report of
    /// forks its process limit refused (`warn` says it; the plugin goes on). The descriptors
    /// for the exec are closed here.
    pub fn started(&mut self, pid: u32, kill: impl Fn() + Send + 'static, warn: impl Fn(String) + Send + 'static) {
        self._fds.clear();
        if let (true, Some(mb)) = (self.watch_memory, self.limits.max_memory_mb) {
            self.memory_exceeded = Some(super::memory_watch::watch(pid, mb << 20, kill));
        }
        #[cfg(target_os = "linux")]
        if let (Some(cgroup), Some(limit)) = (&self.cgroup, self.limits.max_processes) {
            report_refused_forks(Arc::downgrade(cgroup), limit, warn);
        }
        #[cfg(not(target_os = "linux"))]
        drop(warn);
    }

    /// The limit that explains an exit by `signal`, if one does.
    pub fn limit_hit(&self, signal: Option<i32>) -> Option<LimitHit> {
        let memory = LimitHit::Memory { limit_mb: self.limits.max_memory_mb.unwrap_or(0) };
        if self.memory_exceeded.as_ref().is_some_and(|flag| flag.load(Ordering::SeqCst)) {
            return Some(memory);
        }
        #[cfg(target_os = "linux")]
        if let Some(cgroup) = &self.cgroup {
            // The OOM killer kills with SIGKILL; on cgroup v1 it may have taken only a child.
            if signal == Some(libc::SIGKILL) && cgroup.limit_hits().oom_kills > 0 {
                return Some(memory);
            }
        }
        cpu_time_hit(&self.limits, signal)
    }
}

/// Every second while the plugin's cgroup lives: a warning when the process limit refused
/// forks since the last one.
#[cfg(target_os = "linux")]
fn report_refused_forks(
    cgroup: std::sync::Weak<super::cgroup::PluginCgroup>,
    limit: u64,
    warn: impl Fn(String) + Send + 'static,
) {
    tokio::spawn(async move {
        let mut reported = 0;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let Some(cgroup) = cgroup.upgrade() else { return };
            let refused = cgroup.limit_hits().forks_refused;
            if refused > reported {
                warn(format!("{}; the kernel refused {} fork(s) so far", LimitHit::Processes { limit }, refused));
                reported = refused;
            }
        }
    });
}
