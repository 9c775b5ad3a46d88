//! `plugin_security`: parsed and checked, but not enforced yet (a later release enforces it).
//! Until then every setting that is given is reported as unenforced, never silently ignored.

use super::deserialize::deserialize_at;
use super::invalid::Invalid;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Security {
    #[serde(default)]
    verify_signatures: bool,
    #[serde(default)]
    trusted_directories: Vec<String>,
    max_memory_mb: Option<u64>,
    max_cpu_percent: Option<f64>,
}

/// Checks `plugin_security`; returns (key, message) for each setting that is given but not
/// enforced.
pub(super) fn validate_security(value: &serde_json::Value) -> Result<Vec<(String, String)>, Invalid> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let security: Security = deserialize_at(value, "plugin_security")?;
    if security.max_memory_mb == Some(0) {
        return Err(Invalid::at("plugin_security.max_memory_mb", "must be at least 1"));
    }
    if let Some(cpu) = security.max_cpu_percent {
        if !(cpu > 0.0 && cpu.is_finite()) {
            return Err(Invalid::at(
                "plugin_security.max_cpu_percent",
                format!("must be a positive percentage, not {cpu}"),
            ));
        }
    }
    let not_yet = "hector-plugins does not enforce plugin_security yet";
    let mut unenforced = Vec::new();
    if security.verify_signatures {
        unenforced
            .push(("verify_signatures", format!("is true, but {not_yet}: plugins load without any signature check")));
    }
    if !security.trusted_directories.is_empty() {
        unenforced.push((
            "trusted_directories",
            format!("is set, but {not_yet}: plugins outside these directories load too"),
        ));
    }
    if let Some(mb) = security.max_memory_mb {
        unenforced.push(("max_memory_mb", format!("is {mb}, but {not_yet}: a plugin's memory is not limited")));
    }
    if let Some(cpu) = security.max_cpu_percent {
        unenforced.push(("max_cpu_percent", format!("is {cpu}, but {not_yet}: a plugin's CPU use is not limited")));
    }
    Ok(unenforced.into_iter().map(|(key, message)| (format!("plugin_security.{key}"), message)).collect())
}
