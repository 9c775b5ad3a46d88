//! `${VAR}`, `${VAR:-default}` and `$VAR` in what this library reads (`plugins`,
//! `plugin_discovery`, `hooks`, and the agent settings of `agents`), expanded from the
//! environment before anything else is read.

use super::agents::AGENT_SETTINGS;
use super::invalid::Invalid;
use crate::envexpand::{expand_value, Unexpandable};

/// A copy of the top level with the plugin sections expanded, skipping disabled entries: other
/// sections belong to the orchestrator, and a variable that only a disabled plugin uses need
/// not be set.
pub(super) fn expand_plugin_sections(
    root: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Map<String, serde_json::Value>, Invalid> {
    let lookup = |name: &str| std::env::var(name).ok();
    let unexpandable = |e: Unexpandable| Invalid::at(e.key, e.reason);
    let mut root = root.clone();
    for section in ["plugin_discovery", "hooks"] {
        if let Some(value) = root.get_mut(section) {
            expand_value(value, section, &lookup).map_err(unexpandable)?;
        }
    }
    // An agent's other keys belong to the orchestrator, which may use `$` as it likes.
    if let Some(serde_json::Value::Object(agents)) = root.get_mut("agents") {
        for (name, agent) in agents.iter_mut() {
            let Some(agent) = agent.as_object_mut() else { continue };
            for (key, value) in agent.iter_mut().filter(|(key, _)| AGENT_SETTINGS.contains(&key.as_str())) {
                expand_value(value, &format!("agents.{name}.{key}"), &lookup).map_err(unexpandable)?;
            }
        }
    }
    let Some(serde_json::Value::Object(plugins)) = root.get_mut("plugins") else { return Ok(root) };
    for (section, value) in plugins.iter_mut() {
        let at = format!("plugins.{section}");
        match value {
            serde_json::Value::Object(entries) if section != "plugin_discovery" => {
                for (name, entry) in entries.iter_mut() {
                    let disabled = entry.get("enabled") == Some(&serde_json::Value::Bool(false));
                    if !disabled {
                        expand_value(entry, &format!("{at}.{name}"), &lookup).map_err(unexpandable)?;
                    }
                }
            }
            other => expand_value(other, &at, &lookup).map_err(unexpandable)?,
        }
    }
    Ok(root)
}
