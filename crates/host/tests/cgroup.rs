//! Per-plugin cgroups (issue 15) on real cgroups and real processes: a process limit refusing
//! a fork, the OOM killer for a memory limit, a CPU share holding a busy loop back, and a drop
//! killing what is left and removing the directories. Needs root (or delegated cgroups): skipped
//! with the reason otherwise, failed when CI=true.
#![cfg(target_os = "linux")]

use hector_plugins_host::security::cgroup::{CgroupLimits, PluginCgroup};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A hang guard, not a measurement.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

fn create_or_skip(plugin: &str, limits: CgroupLimits) -> Option<PluginCgroup> {
    let (cgroup, unenforced) = PluginCgroup::create(plugin, &limits).expect("valid limits");
    if unenforced.is_empty() {
        return Some(cgroup);
    }
    let reason = unenforced.join("; ");
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "cgroups are required on CI: {reason}");
    eprintln!("skipped: this machine cannot enforce the limit: {reason}");
    None
}

/// Forks a process that joins `cgroup` and runs `body`, exiting with its result, never
/// exec'ing. It is a fork of this multi-threaded test process: `body` may make raw system calls
/// only (no allocation, no lock), like the plugin's side of a real start.
fn spawn_in(cgroup: &PluginCgroup, body: fn() -> i32) -> Child {
    let procs: Vec<RawFd> = cgroup.procs_files().iter().map(|fd| fd.as_raw_fd()).collect();
    assert!(!procs.is_empty());
    let mut command = Command::new("/bin/true");
    // SAFETY: only write, close_range, raw clone, mmap, clock_gettime, sleep and _exit run in the child.
    unsafe {
        command.pre_exec(move || {
            for &fd in &procs {
                if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    libc::_exit(100);
                }
            }
            // Above stdio only the procs files and the spawn's exec-error pipe, whose EOF tells
            // `spawn` to return: neither this process nor its children may keep it open.
            libc::syscall(libc::SYS_close_range, 3, libc::c_uint::MAX, 0);
            libc::_exit(body())
        });
    }
    command.spawn().expect("fork")
}

/// fork(2) without libc's atfork handlers: `-errno` on failure.
fn raw_fork() -> i64 {
    // SAFETY: clone with only SIGCHLD is fork; the child continues on a copy of this stack.
    let r = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0) };
    if r < 0 {
        -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        r
    }
}

fn sleep_then_exit() -> ! {
    // SAFETY: plain system calls.
    unsafe {
        libc::sleep(60);
        libc::_exit(0)
    }
}

/// 0 if a second fork is refused with EAGAIN while the first child lives.
fn fork_twice() -> i32 {
    match raw_fork() {
        0 => sleep_then_exit(),
        r if r < 0 => return 10,
        _ => {}
    }
    match raw_fork() {
        0 => sleep_then_exit(),
        r if r == -i64::from(libc::EAGAIN) => 0,
        r if r < 0 => 11,
        _ => 12,
    }
}

/// Allocates 200 MiB and touches every page: resident memory, not just address space.
fn touch_200_mib() -> i32 {
    let len = 200 << 20;
    // SAFETY: a fresh private anonymous mapping, written within its bounds.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return 20;
        }
        for offset in (0..len).step_by(4096) {
            std::ptr::write_volatile(p.cast::<u8>().add(offset), 1);
        }
    }
    0
}

/// Busy for one second of wall time.
fn spin_one_second() -> i32 {
    let now = || {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: fills `t`.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
        t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128
    };
    let start = now();
    while now() - start < 1_000_000_000 {
        std::hint::spin_loop();
    }
    0
}

/// A process and its child, both sleeping.
fn sleep_with_a_child() -> i32 {
    if raw_fork() == 0 {
        sleep_then_exit();
    }
    sleep_then_exit()
}

/// Waits for the child; returns its status and the CPU time it used.
fn wait_with_usage(child: Child) -> (ExitStatus, Duration) {
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: our own child, waited for once.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (ExitStatus::from_raw(status), time(usage.ru_utime) + time(usage.ru_stime))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT_LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "still waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_process_limit_refuses_the_third_process() {
    let limits = CgroupLimits { processes: Some(2), ..Default::default() };
    let Some(cgroup) = create_or_skip("forker", limits.clone()) else { return };
    let (status, _) = wait_with_usage(spawn_in(&cgroup, fork_twice));
    assert_eq!(status.code(), Some(0), "the second fork was not refused with EAGAIN: {status:?}");
    let hits = cgroup.limit_hits();
    assert!(hits.forks_refused >= 1, "{hits:?}");
    assert_eq!(hits.oom_kills, 0);
    assert_eq!(hits.stopping_limit(&limits).as_deref(), Some("process limit 2"));
}

#[test]
fn a_memory_limit_is_resident_memory_and_the_oom_killer_enforces_it() {
    let limits = CgroupLimits { memory_bytes: Some(32 << 20), ..Default::default() };
    let Some(cgroup) = create_or_skip("allocator", limits.clone()) else { return };
    assert!(cgroup.memory_current().is_some());
    let (status, _) = wait_with_usage(spawn_in(&cgroup, touch_200_mib));
    assert_eq!(status.signal(), Some(libc::SIGKILL), "200 MiB touched under a 32 MiB limit: {status:?}");
    let hits = cgroup.limit_hits();
    assert!(hits.oom_kills >= 1, "{hits:?}");
    assert!(hits.memory_limit_reached >= 1, "{hits:?}");
    assert_eq!(hits.stopping_limit(&limits).as_deref(), Some("memory limit 32 MiB"));
}

#[test]
fn a_cpu_share_holds_a_busy_loop_well_below_one_core() {
    let limits = CgroupLimits { cpu_percent: Some(20.0), ..Default::default() };
    let Some(cgroup) = create_or_skip("spinner", limits) else { return };
    let started = Instant::now();
    let child = spawn_in(&cgroup, spin_one_second);
    let (status, own_usage) = wait_with_usage(child);
    let wall = started.elapsed();
    assert!(status.success(), "{status:?}");
    // The group's own account where the kernel keeps one (cgroup v2 cpu.stat, v1 cpuacct).
    let usage = cgroup.cpu_usage().unwrap_or(own_usage);
    eprintln!("cpu {usage:?} in {wall:?} of wall time ({:.0}%)", 100.0 * usage.as_secs_f64() / wall.as_secs_f64());
    // 20% asked; a full core would be about 100%.
    assert!(usage.as_secs_f64() < 0.6 * wall.as_secs_f64(), "{usage:?} of CPU in {wall:?}");
    assert!(cgroup.limit_hits().cpu_throttled_periods > 0, "{:?}", cgroup.limit_hits());
}

#[test]
fn drop_kills_what_is_left_and_removes_the_directories() {
    let limits = CgroupLimits { processes: Some(10), memory_bytes: Some(64 << 20), cpu_percent: Some(50.0) };
    let Some(cgroup) = create_or_skip("sleeper", limits) else { return };
    let dirs: Vec<_> = cgroup.dirs().map(|d| d.to_path_buf()).collect();
    assert_eq!(dirs.len(), cgroup.procs_files().len());
    eprintln!("groups: {dirs:?}");
    let mut child = spawn_in(&cgroup, sleep_with_a_child);
    let procs = dirs[0].join("cgroup.procs");
    wait_until("the child and its child in the cgroup", || {
        std::fs::read_to_string(&procs).is_ok_and(|text| text.lines().count() == 2)
    });
    drop(cgroup);
    let mut status = None;
    wait_until("the child's end", || {
        status = child.try_wait().expect("try_wait");
        status.is_some()
    });
    assert_eq!(status.and_then(|s| s.signal()), Some(libc::SIGKILL));
    for dir in &dirs {
        wait_until(&format!("{} removed", dir.display()), || !dir.exists());
    }
}

#[test]
fn a_nonsensical_cpu_share_is_refused() {
    for percent in [0.0, -5.0, f64::NAN, f64::INFINITY] {
        let limits = CgroupLimits { cpu_percent: Some(percent), ..Default::default() };
        let error = PluginCgroup::create("bad", &limits).unwrap_err();
        assert!(error.to_string().contains("max_cpu_percent"), "{error}");
    }
}
