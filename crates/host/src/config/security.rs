//! The security settings (docs/security.md): defaults for every plugin in the top-level
//! `plugin_security:` section, and per entry `sha256`, `security:` (limits, environment and
//! sandbox over the defaults) and `grants:` (what its manifest may ask for).

use super::deserialize::deserialize_at;
use super::invalid::Invalid;
use crate::security::confine::Protections;
use crate::security::env::{check_pattern, EnvPolicy};
use crate::security::limits::Limits;
use crate::security::mtls::MtlsMode;
use crate::security::permissions::DeclaredPermissions;
use crate::security::sandbox::Sandbox;
use crate::security::trust::{parse_public_key, Trust, TrustedKey};
use serde::Deserialize;
use std::path::Path;

/// The top-level `plugin_security:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    verify_signatures: bool,
    /// minisign public keys: the key text, or the path of a `.pub` file.
    #[serde(default)]
    trusted_keys: Vec<String>,
    #[serde(default)]
    trusted_directories: Vec<String>,
    max_memory_mb: Option<u64>,
    max_cpu_seconds: Option<u64>,
    max_cpu_percent: Option<f64>,
    max_open_files: Option<u64>,
    max_processes: Option<u64>,
    env_allowlist: Option<Vec<String>>,
    sandbox: Option<SandboxEntry>,
    /// `auto`, `on` or `off` (docs/protocol.md §3.5): every gRPC plugin's unless its entry says.
    mtls: Option<String>,
}

/// An entry's `security:`: the per-plugin keys of `plugin_security`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProtectionsEntry {
    max_memory_mb: Option<u64>,
    max_cpu_seconds: Option<u64>,
    max_cpu_percent: Option<f64>,
    max_open_files: Option<u64>,
    max_processes: Option<u64>,
    env_allowlist: Option<Vec<String>>,
    sandbox: Option<SandboxEntry>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxEntry {
    read_only: Option<Vec<String>>,
    read_write: Option<Vec<String>>,
    tcp_connect: Option<Vec<u16>>,
    network: Option<bool>,
    require: Option<bool>,
}

/// `plugin_security`, read: what every plugin gets unless its entry says otherwise.
#[derive(Debug, Clone, Default)]
pub struct SecurityDefaults {
    /// Which executables may run (no `sha256`: that is each plugin's own).
    pub trust: Trust,
    pub protections: Protections,
    pub env: EnvPolicy,
    pub mtls: MtlsMode,
}

/// Reads the `plugin_security:` section; relative paths are relative to `base`.
pub(super) fn read_security(value: Option<&serde_json::Value>, base: &Path) -> Result<SecurityDefaults, Invalid> {
    let at = "plugin_security";
    let section: Section = match value {
        None | Some(serde_json::Value::Null) => Section::default(),
        Some(value) => deserialize_at(value, at)?,
    };
    if section.verify_signatures && section.trusted_keys.is_empty() {
        return Err(Invalid::at(
            format!("{at}.verify_signatures"),
            "is true, but no trusted_keys are given: list the minisign public keys (or .pub files) signatures are checked against",
        ));
    }
    let entry = ProtectionsEntry {
        max_memory_mb: section.max_memory_mb,
        max_cpu_seconds: section.max_cpu_seconds,
        max_cpu_percent: section.max_cpu_percent,
        max_open_files: section.max_open_files,
        max_processes: section.max_processes,
        env_allowlist: section.env_allowlist,
        sandbox: section.sandbox,
    };
    let mut defaults = SecurityDefaults {
        trust: Trust {
            sha256: None,
            verify_signatures: section.verify_signatures,
            public_keys: trusted_keys(&section.trusted_keys, base, at)?,
            trusted_directories: section.trusted_directories.iter().map(|d| base.join(d)).collect(),
        },
        ..Default::default()
    };
    let (protections, env) = entry.over(&defaults, base, at)?;
    defaults.protections = protections;
    defaults.env = env;
    if let Some(mode) = &section.mtls {
        defaults.mtls = super::settings::checked_mtls(&format!("{at}.mtls"), mode)?;
    }
    Ok(defaults)
}

impl ProtectionsEntry {
    /// The entry's settings over `defaults`: each key it gives replaces the default's; `at`
    /// is the key path of the settings, for messages.
    pub(super) fn over(
        self,
        defaults: &SecurityDefaults,
        base: &Path,
        at: &str,
    ) -> Result<(Protections, EnvPolicy), Invalid> {
        let limits = Limits {
            max_memory_mb: self.max_memory_mb,
            max_cpu_seconds: self.max_cpu_seconds,
            max_cpu_percent: self.max_cpu_percent,
            max_open_files: self.max_open_files,
            max_processes: self.max_processes,
        };
        check_limits(&limits, at)?;
        let env = match self.env_allowlist {
            None => defaults.env.clone(),
            Some(list) => {
                for (i, pattern) in list.iter().enumerate() {
                    check_pattern(pattern).map_err(|e| Invalid::at(format!("{at}.env_allowlist[{i}]"), e))?;
                }
                EnvPolicy { allowlist: list }
            }
        };
        let sandbox = match (self.sandbox, &defaults.protections.sandbox) {
            (None, inherited) => inherited.clone(),
            (Some(entry), inherited) => Some(entry.over(inherited.clone().unwrap_or_else(Sandbox::open), base)),
        };
        let protections = Protections {
            limits: defaults.protections.limits.overridden_by(limits),
            sandbox,
            grants: defaults.protections.grants.clone(),
        };
        Ok((protections, env))
    }
}

impl SandboxEntry {
    fn over(self, mut sandbox: Sandbox, base: &Path) -> Sandbox {
        let paths = |list: Vec<String>| list.iter().map(|p| base.join(p)).collect();
        sandbox.filesystem |= self.read_only.is_some() || self.read_write.is_some();
        if let Some(list) = self.read_only {
            sandbox.read_only = paths(list);
        }
        if let Some(list) = self.read_write {
            sandbox.read_write = paths(list);
        }
        if let Some(ports) = self.tcp_connect {
            sandbox.tcp_connect = Some(ports);
        }
        sandbox.network = self.network.unwrap_or(sandbox.network);
        sandbox.require = self.require.unwrap_or(sandbox.require);
        sandbox
    }
}

/// The minisign keys: key text, or `.pub` files relative to `base`.
fn trusted_keys(given: &[String], base: &Path, at: &str) -> Result<Vec<TrustedKey>, Invalid> {
    let mut keys = Vec::new();
    for (i, text) in given.iter().enumerate() {
        let key = parse_public_key(text).or_else(|first| match Path::new(text.trim()) {
            relative if relative.is_relative() && !text.contains('\n') => {
                parse_public_key(&base.join(relative).to_string_lossy()).map_err(|_| first)
            }
            _ => Err(first),
        });
        keys.push(key.map_err(|e| Invalid::at(format!("{at}.trusted_keys[{i}]"), e))?);
    }
    Ok(keys)
}

fn check_limits(limits: &Limits, at: &str) -> Result<(), Invalid> {
    let at_least_one = [
        ("max_memory_mb", limits.max_memory_mb),
        ("max_cpu_seconds", limits.max_cpu_seconds),
        ("max_open_files", limits.max_open_files),
        ("max_processes", limits.max_processes),
    ];
    if let Some((key, _)) = at_least_one.iter().find(|(_, value)| *value == Some(0)) {
        return Err(Invalid::at(format!("{at}.{key}"), "must be at least 1"));
    }
    if let Some(cpu) = limits.max_cpu_percent {
        if !(cpu > 0.0 && cpu.is_finite()) {
            return Err(Invalid::at(
                format!("{at}.max_cpu_percent"),
                format!("must be a positive percentage, not {cpu}"),
            ));
        }
    }
    Ok(())
}

/// `pm.load(..., security=..., grants=..., sha256=...)`: the same keys as an entry's, over the
/// configuration's `plugin_security`.
pub fn security_option(
    spec: &mut crate::plugin::PluginSpec,
    security: Option<&serde_json::Value>,
    grants: Option<&serde_json::Value>,
    sha256: Option<&str>,
    defaults: &SecurityDefaults,
) -> crate::Result<()> {
    let base = std::env::current_dir().unwrap_or_default();
    let (protections, env) =
        entry_protections(security, grants, defaults, &base, "load").map_err(Invalid::into_error)?;
    spec.protections = protections;
    spec.launch.env_policy = env;
    super::entry::set_trust(spec, sha256, defaults, "load").map_err(Invalid::into_error)
}

/// Reads an entry's `security:` and `grants:` over the defaults, for the spec at `at`.
pub(super) fn entry_protections(
    security: Option<&serde_json::Value>,
    grants: Option<&serde_json::Value>,
    defaults: &SecurityDefaults,
    base: &Path,
    at: &str,
) -> Result<(Protections, EnvPolicy), Invalid> {
    let entry: ProtectionsEntry = match security {
        None | Some(serde_json::Value::Null) => ProtectionsEntry::default(),
        Some(value) => deserialize_at(value, &format!("{at}.security"))?,
    };
    let (mut protections, env) = entry.over(defaults, base, &format!("{at}.security"))?;
    if let Some(grants) = grants.filter(|g| !g.is_null()) {
        let grants: DeclaredPermissions = deserialize_at(grants, &format!("{at}.grants"))?;
        for (i, name) in grants.env.iter().enumerate() {
            if name.ends_with('*') || check_pattern(name).is_err() {
                return Err(Invalid::at(format!("{at}.grants.env[{i}]"), format!("{name:?} is not a variable name")));
            }
        }
        protections.grants = grants.resolve(base);
    }
    Ok((protections, env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn read(value: serde_json::Value) -> Result<SecurityDefaults, Invalid> {
        read_security(Some(&value), Path::new("/base"))
    }

    #[test]
    fn defaults_are_read_and_an_entry_overrides_them_key_by_key() {
        let defaults = read(json!({
            "max_memory_mb": 512, "max_open_files": 256,
            "env_allowlist": ["PATH", "LC_*"],
            "sandbox": {"read_only": ["data"], "tcp_connect": [443]}
        }))
        .unwrap();
        assert_eq!(defaults.protections.limits.max_memory_mb, Some(512));
        assert_eq!(defaults.protections.sandbox.as_ref().unwrap().read_only, [PathBuf::from("/base/data")]);
        let entry = json!({"max_memory_mb": 64, "sandbox": {"network": false}});
        let (protections, env) =
            entry_protections(Some(&entry), Some(&json!({"env": ["API_KEY"]})), &defaults, Path::new("/base"), "p")
                .unwrap();
        assert_eq!(protections.limits.max_memory_mb, Some(64));
        assert_eq!(protections.limits.max_open_files, Some(256));
        let sandbox = protections.sandbox.unwrap();
        assert!(!sandbox.network);
        assert_eq!(sandbox.tcp_connect, Some(vec![443]));
        assert_eq!(env.allowlist, ["PATH", "LC_*"]);
        assert_eq!(protections.grants.env, ["API_KEY"]);
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (json!({"max_memory_mb": 0}), "plugin_security.max_memory_mb"),
            (json!({"max_cpu_percent": -5}), "plugin_security.max_cpu_percent"),
            (json!({"verify_signatures": "yes"}), "plugin_security.verify_signatures"),
            (json!({"verify_signatures": true}), "plugin_security.verify_signatures"),
            (json!({"env_allowlist": ["A=B"]}), "plugin_security.env_allowlist[0]"),
            // serde names the unknown field (and the ones it expected), not the mapping it sits in.
            (json!({"sandbox": {"read_only": ["/x"], "write": []}}), "plugin_security"),
            (json!({"sandbox": {"tcp_connect": [70000]}}), "plugin_security.sandbox"),
        ];
        for (value, key) in cases {
            let error = read(value.clone()).unwrap_err();
            assert_eq!(error.key.as_deref(), Some(key), "{value}: {}", error.message);
        }
        let defaults = SecurityDefaults::default();
        let error = entry_protections(None, Some(&json!({"env": ["A*"]})), &defaults, Path::new("/"), "plugins.x.p")
            .unwrap_err();
        assert_eq!(error.key.as_deref(), Some("plugins.x.p.grants.env[0]"));
        let error = entry_protections(Some(&json!({"verify_signatures": true})), None, &defaults, Path::new("/"), "p")
            .unwrap_err();
        assert!(error.message.contains("verify_signatures"), "{}", error.message);
    }
}
