//! How a plugin is supervised (docs/supervision.md), part of its spec: its health checks, its restarts and their
//! backoff, what a call does while it restarts, and which of its RPCs may be retried. Defaults
//! come from hector.yaml's `supervision:` section; each plugin entry may override them.

use std::time::Duration;

/// Everything the supervisor needs to know about one plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Supervision {
    pub health: HealthPolicy,
    pub restart: RestartPolicy,
    pub while_restarting: WhileRestarting,
    /// RPC names (as in docs/protocol.md, e.g. `Embed`) that may be sent again to the restarted
    /// process when the one that had them crashed. Others fail with the crash.
    pub idempotent: Vec<String>,
    /// Started on its first call rather than by `load_all`.
    pub lazy: bool,
    /// Reloaded when its executable or manifest changes on disk.
    pub hot_reload: bool,
    /// Plugins that must be ready before this one starts; their failure fails it.
    pub depends_on: Vec<String>,
    /// Plugins started first when they are configured; their failure does not fail it.
    pub optional_depends_on: Vec<String>,
}

impl Default for Supervision {
    fn default() -> Self {
        Supervision {
            health: HealthPolicy::default(),
            restart: RestartPolicy::default(),
            while_restarting: WhileRestarting::Wait,
            idempotent: Vec::new(),
            lazy: false,
            hot_reload: false,
            depends_on: Vec::new(),
            optional_depends_on: Vec::new(),
        }
    }
}

impl Supervision {
    /// Whether a call of `method` lost to a crash may be sent again to the next process.
    pub fn is_idempotent(&self, method: &str) -> bool {
        self.idempotent.iter().any(|m| m == method)
    }

    /// Every plugin this one names as a dependency, required ones first.
    pub fn dependencies(&self) -> impl Iterator<Item = (&str, bool)> {
        let required = self.depends_on.iter().map(|n| (n.as_str(), true));
        required.chain(self.optional_depends_on.iter().map(|n| (n.as_str(), false)))
    }
}

/// Periodic `grpc.health.v1` checks of service "plugin" (docs/protocol.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthPolicy {
    /// `None`: no periodic checks (crashes are still seen at once).
    pub interval: Option<Duration>,
    /// How long one check may take.
    pub timeout: Duration,
    /// Consecutive failed checks that make the plugin unhealthy (it is then restarted).
    pub failure_threshold: u32,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy { interval: Some(Duration::from_secs(10)), timeout: Duration::from_secs(2), failure_threshold: 3 }
    }
}

/// Restarts of a crashed or unhealthy plugin, and the circuit that stops a crash loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestartPolicy {
    pub enabled: bool,
    /// More restarts than this within `window` open the circuit: the plugin is `failed` until
    /// `pm.restart(name)`.
    pub max_restarts: u32,
    pub window: Duration,
    /// The wait before the first restart; each further attempt doubles it, up to `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            enabled: true,
            max_restarts: 5,
            window: Duration::from_secs(60),
            backoff_initial: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
        }
    }
}

impl RestartPolicy {
    /// The wait before restart attempt `attempt` (1 for the first): exponential, capped, with
    /// "equal jitter" (half fixed, half random) so that plugins crashed together do not all
    /// restart in the same instant.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doubling = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        let full = self.backoff_initial.mul_f64(doubling).min(self.backoff_max);
        full / 2 + full.mul_f64(0.5 * jitter())
    }
}

/// What a call does when it arrives while its plugin restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhileRestarting {
    /// Waits for the restarted process, up to the call's deadline.
    Wait,
    /// Fails at once with an error saying the plugin is restarting.
    FailFast,
}

impl WhileRestarting {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "wait" => Some(WhileRestarting::Wait),
            "fail" => Some(WhileRestarting::FailFast),
            _ => None,
        }
    }
}

/// A number in [0, 1) that differs between calls and processes; backoff needs no better.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_keeps_at_least_half() {
        let policy = RestartPolicy {
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            ..RestartPolicy::default()
        };
        for (attempt, full_ms) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (40, 1000)] {
            let wait = policy.backoff(attempt).as_millis();
            assert!((full_ms / 2..=full_ms).contains(&wait), "attempt {attempt}: {wait} ms, full {full_ms} ms");
        }
    }

    #[test]
    fn jitter_spreads_waits() {
        let policy = RestartPolicy::default();
        let waits: std::collections::HashSet<Duration> = (0..20).map(|_| policy.backoff(3)).collect();
        assert!(waits.len() > 1, "20 waits were all {waits:?}");
    }
}
