//! `agents`: every plugin an agent names must be configured (or discovered) with the right type.
//! The rest of an agent belongs to the orchestrator and is not checked here.

use super::invalid::Invalid;
use crate::kind::PluginKind;

/// The plugins an agent refers to, by role and the plugin type each role needs.
const AGENT_ROLES: [(&str, PluginKind); 4] = [
    ("llm", PluginKind::Llm),
    ("database", PluginKind::Database),
    ("embedder", PluginKind::Embedder),
    ("reasoning_strategy", PluginKind::Reasoning),
];

/// Checks the plugins `agents` names against `known` (name, type) pairs.
pub(super) fn validate_agents(value: &serde_json::Value, known: &[(&str, PluginKind)]) -> Result<(), Invalid> {
    let agents = match value {
        serde_json::Value::Null => return Ok(()),
        serde_json::Value::Object(map) => map,
        _ => return Err(Invalid::about("agents", "`agents` must map agent names to agents")),
    };
    let check = |at: String, name: &serde_json::Value, kind: PluginKind| -> Result<(), Invalid> {
        let name = name.as_str().ok_or_else(|| Invalid::at(&at, "must be a plugin name (a string)"))?;
        match known.iter().find(|(known, _)| *known == name) {
            Some((_, found)) if *found == kind => Ok(()),
            Some((_, found)) => Err(Invalid::at(
                at,
                format!("plugin {name:?} is {}, not {}", found.with_article(), kind.with_article()),
            )),
            None => {
                let same_kind: Vec<&str> = known.iter().filter(|(_, k)| *k == kind).map(|(n, _)| *n).collect();
                Err(Invalid::at(
                    at,
                    format!(
                        "no {kind} plugin named {name:?} is configured (configured: {})",
                        if same_kind.is_empty() { "none".into() } else { same_kind.join(", ") }
                    ),
                ))
            }
        }
    };
    for (agent, body) in agents {
        let body = body.as_object().ok_or_else(|| Invalid::at(format!("agents.{agent}"), "must be a mapping"))?;
        for (role, kind) in AGENT_ROLES {
            if let Some(name) = body.get(role).filter(|v| !v.is_null()) {
                check(format!("agents.{agent}.{role}"), name, kind)?;
            }
        }
        if let Some(tools) = body.get("tools").filter(|v| !v.is_null()) {
            let tools =
                tools.as_array().ok_or_else(|| Invalid::at(format!("agents.{agent}.tools"), "must be a list"))?;
            for (i, tool) in tools.iter().enumerate() {
                // Only plugin tools name a plugin; other tool types belong to the orchestrator.
                if tool.get("type").and_then(|t| t.as_str()) == Some("plugin") {
                    let provider = tool.get("provider").ok_or_else(|| {
                        Invalid::at(format!("agents.{agent}.tools[{i}]"), "a plugin tool needs a provider")
                    })?;
                    check(format!("agents.{agent}.tools[{i}].provider"), provider, PluginKind::Tool)?;
                }
            }
        }
    }
    Ok(())
}
