//! The supervision settings (docs/supervision.md): defaults in the top-level `supervision:`
//! section, overridden per plugin entry (`health`, `restart`, `idempotent`, `lazy`,
//! `hot_reload`, `depends_on`, `optional_depends_on`); and the dependency checks that need every
//! entry (unknown names, cycles).

use super::deserialize::deserialize_at;
use super::invalid::Invalid;
use super::settings::checked_seconds as any_seconds;
use crate::kind::PluginKind;
use crate::plugin::PluginSpec;
use crate::policy::{Supervision, WhileRestarting};
use serde::Deserialize;
use std::time::Duration;

/// `health:` (seconds; `interval: 0` turns periodic checks off).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HealthEntry {
    interval: Option<f64>,
    timeout: Option<f64>,
    failure_threshold: Option<u32>,
}

/// `restart:` (seconds).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RestartEntry {
    enabled: Option<bool>,
    max_restarts: Option<u32>,
    window: Option<f64>,
    backoff_initial: Option<f64>,
    backoff_max: Option<f64>,
    while_restarting: Option<String>,
}

/// The per-plugin keys, as an entry gives them (all optional).
#[derive(Debug, Default)]
pub(super) struct SupervisionEntry {
    pub health: Option<HealthEntry>,
    pub restart: Option<RestartEntry>,
    pub idempotent: Vec<String>,
    pub lazy: Option<bool>,
    pub hot_reload: Option<bool>,
    pub depends_on: Vec<String>,
    pub optional_depends_on: Vec<String>,
}

/// The top-level `supervision:` section: defaults for every plugin.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    health: Option<HealthEntry>,
    restart: Option<RestartEntry>,
    hot_reload: Option<bool>,
    lazy: Option<bool>,
}

/// The defaults of the `supervision:` section (the built-in ones without it).
pub(super) fn read_defaults(section: Option<&serde_json::Value>) -> Result<Supervision, Invalid> {
    let Some(section) = section.filter(|s| !s.is_null()) else { return Ok(Supervision::default()) };
    let defaults: Defaults = deserialize_at(section, "supervision")?;
    let mut supervision = Supervision::default();
    apply_health(&mut supervision, defaults.health.as_ref(), "supervision")?;
    apply_restart(&mut supervision, defaults.restart.as_ref(), "supervision")?;
    supervision.hot_reload = defaults.hot_reload.unwrap_or(false);
    supervision.lazy = defaults.lazy.unwrap_or(false);
    Ok(supervision)
}

/// The supervision settings of `pm.load(..., supervision={...})`: the keys of a plugin entry
/// that make sense for one plugin loaded in code (`health`, `restart`, `idempotent`,
/// `hot_reload`), over the built-in defaults. Errors name the key.
pub fn supervision_option(value: &serde_json::Value, kind: PluginKind) -> crate::Result<Supervision> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct LoadSupervision {
        health: Option<HealthEntry>,
        restart: Option<RestartEntry>,
        #[serde(default)]
        idempotent: Vec<String>,
        hot_reload: Option<bool>,
    }
    let given: LoadSupervision = deserialize_at(value, "supervision").map_err(Invalid::into_error)?;
    let entry = SupervisionEntry {
        health: given.health,
        restart: given.restart,
        idempotent: given.idempotent,
        hot_reload: given.hot_reload,
        ..SupervisionEntry::default()
    };
    entry.over(&Supervision::default(), kind, "supervision").map_err(Invalid::into_error)
}

impl SupervisionEntry {
    /// These settings over `defaults`, for a plugin of `kind`; `at` is the entry's key path.
    pub fn over(self, defaults: &Supervision, kind: PluginKind, at: &str) -> Result<Supervision, Invalid> {
        check_idempotent(&self.idempotent, kind, at)?;
        let mut supervision = defaults.clone();
        apply_health(&mut supervision, self.health.as_ref(), at)?;
        apply_restart(&mut supervision, self.restart.as_ref(), at)?;
        supervision.idempotent = self.idempotent;
        supervision.lazy = self.lazy.unwrap_or(defaults.lazy);
        supervision.hot_reload = self.hot_reload.unwrap_or(defaults.hot_reload);
        supervision.depends_on = self.depends_on;
        supervision.optional_depends_on = self.optional_depends_on;
        Ok(supervision)
    }
}

/// Each `idempotent` name must be an RPC of the plugin's service: a misspelt one would never
/// match, and the call it meant would silently not be sent again after a crash.
fn check_idempotent(names: &[String], kind: PluginKind, at: &str) -> Result<(), Invalid> {
    let Some(rpcs) = kind.rpcs() else { return Ok(()) }; // a grpc plugin's services are its own
    for (i, name) in names.iter().enumerate() {
        if !rpcs.contains(&name.as_str()) {
            return Err(Invalid::at(
                format!("{at}.idempotent[{i}]"),
                format!(
                    "{name:?} is not an RPC of {} ({}); its RPCs are: {}",
                    kind.with_article(),
                    kind.service().unwrap_or_default(),
                    rpcs.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The longest supervision duration accepted: longer ones are mistakes (and overflow timers).
const MAX_SUPERVISION_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// A duration setting of this section: as any duration, and at most a week.
fn checked_seconds(key: &str, seconds: f64) -> Result<Duration, Invalid> {
    if seconds > MAX_SUPERVISION_SECONDS {
        return Err(Invalid::at(
            key,
            format!("must be at most {MAX_SUPERVISION_SECONDS:.0} seconds (a week), not {seconds:?}"),
        ));
    }
    any_seconds(key, seconds)
}

fn apply_health(supervision: &mut Supervision, health: Option<&HealthEntry>, at: &str) -> Result<(), Invalid> {
    let Some(health) = health else { return Ok(()) };
    let at = format!("{at}.health");
    if let Some(interval) = health.interval {
        supervision.health.interval =
            if interval == 0.0 { None } else { Some(checked_seconds(&format!("{at}.interval"), interval)?) };
    }
    if let Some(timeout) = health.timeout {
        supervision.health.timeout = checked_seconds(&format!("{at}.timeout"), timeout)?;
    }
    if let Some(threshold) = health.failure_threshold {
        if threshold == 0 {
            return Err(Invalid::at(format!("{at}.failure_threshold"), "must be at least 1"));
        }
        supervision.health.failure_threshold = threshold;
    }
    Ok(())
}

fn apply_restart(supervision: &mut Supervision, restart: Option<&RestartEntry>, at: &str) -> Result<(), Invalid> {
    let Some(restart) = restart else { return Ok(()) };
    let at = format!("{at}.restart");
    let policy = &mut supervision.restart;
    if let Some(enabled) = restart.enabled {
        policy.enabled = enabled;
    }
    if let Some(max) = restart.max_restarts {
        policy.max_restarts = max;
    }
    let seconds = |value: Option<f64>, field: &str, current: Duration| match value {
        Some(s) => checked_seconds(&format!("{at}.{field}"), s),
        None => Ok(current),
    };
    policy.window = seconds(restart.window, "window", policy.window)?;
    policy.backoff_initial = seconds(restart.backoff_initial, "backoff_initial", policy.backoff_initial)?;
    policy.backoff_max = seconds(restart.backoff_max, "backoff_max", policy.backoff_max)?;
    if policy.backoff_max < policy.backoff_initial {
        let key = if restart.backoff_max.is_some() { "backoff_max" } else { "backoff_initial" };
        return Err(Invalid::at(
            format!("{at}.{key}"),
            format!(
                "backoff_max ({:?}s) must be at least backoff_initial ({:?}s)",
                policy.backoff_max.as_secs_f64(),
                policy.backoff_initial.as_secs_f64()
            ),
        ));
    }
    if let Some(text) = &restart.while_restarting {
        supervision.while_restarting = WhileRestarting::parse(text).ok_or_else(|| {
            Invalid::at(format!("{at}.while_restarting"), format!("must be \"wait\" or \"fail\", not {text:?}"))
        })?;
    }
    Ok(())
}

/// Every `depends_on` / `optional_depends_on` names a configured plugin (or in-process
/// provider, or chain), none names its own entry, and there is no cycle.
pub(super) fn check_dependencies(specs: &[PluginSpec], other_names: &[&str]) -> Result<(), Invalid> {
    let at = |spec: &PluginSpec, required: bool| {
        let key = if required { "depends_on" } else { "optional_depends_on" };
        let section =
            super::sections::SECTIONS.iter().find(|(_, kind)| *kind == spec.kind).map_or("plugins", |(s, _)| s);
        format!("plugins.{section}.{}.{key}", spec.name)
    };
    for spec in specs {
        for (dependency, required) in spec.supervision.dependencies() {
            if dependency == spec.name {
                return Err(Invalid::at(at(spec, required), "a plugin cannot depend on itself"));
            }
            if !specs.iter().any(|s| s.name == dependency) && !other_names.contains(&dependency) {
                let known: Vec<&str> =
                    specs.iter().map(|s| s.name.as_str()).chain(other_names.iter().copied()).collect();
                return Err(Invalid::at(
                    at(spec, required),
                    format!("no plugin named {dependency:?} is configured (configured: {})", known.join(", ")),
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(specs) {
        return Err(Invalid::whole(format!("plugin dependencies form a cycle: {}", cycle.join(" -> "))));
    }
    Ok(())
}

/// A dependency cycle, as the names along it (the first repeated at the end), if there is one.
fn find_cycle(specs: &[PluginSpec]) -> Option<Vec<String>> {
    fn visit<'a>(
        name: &'a str,
        specs: &'a [PluginSpec],
        path: &mut Vec<&'a str>,
        done: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| *n == name) {
            let mut cycle: Vec<String> = path[start..].iter().map(|n| n.to_string()).collect();
            cycle.push(name.into());
            return Some(cycle);
        }
        if done.contains(&name) {
            return None;
        }
        path.push(name);
        if let Some(spec) = specs.iter().find(|s| s.name == name) {
            for (dependency, _) in spec.supervision.dependencies() {
                if let Some(cycle) = visit(dependency, specs, path, done) {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        done.push(name);
        None
    }
    let mut done = Vec::new();
    specs.iter().find_map(|spec| visit(&spec.name, specs, &mut Vec::new(), &mut done))
}
