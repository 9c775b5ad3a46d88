//! Resident memory watched by the host, where no memory cgroup can hold the plugin: every
//! `PERIOD` its resident set is read from /proc, and above the limit it is killed (the limit is
//! then what its exit reports). Only the plugin's own process is counted: its children are not,
//! which the warning at its start says.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PERIOD: Duration = Duration::from_millis(100);

/// Watches `pid` until it is gone; calls `kill` once if its resident memory passes `limit_bytes`.
/// Returns the flag that says whether it did.
pub fn watch(pid: u32, limit_bytes: u64, kill: impl Fn() + Send + 'static) -> Arc<AtomicBool> {
    let exceeded = Arc::new(AtomicBool::new(false));
    let flag = exceeded.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match resident_bytes(pid) {
                None => return,
                Some(bytes) if bytes > limit_bytes => {
                    flag.store(true, Ordering::SeqCst);
                    kill();
                    return;
                }
                Some(_) => {}
            }
        }
    });
    exceeded
}

/// The resident set of `pid`, from /proc (`None`: gone, or not Linux).
pub fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    Some(pages * page)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn our_own_resident_set_is_read() {
        let bytes = resident_bytes(std::process::id()).unwrap();
        assert!(bytes > 1 << 20, "{bytes}");
        assert_eq!(resident_bytes(999_999_999), None);
    }
}
