//! `agents` and `hooks`: every plugin an agent names must be configured (or discovered) with the
//! right type, an agent it delegates to must exist (without cycles), and the settings the Python
//! `Agent` reads must have the right shape (docs/agents.md). Other keys of an agent belong to the
//! orchestrator and are not checked here.

use super::invalid::Invalid;
use crate::kind::PluginKind;

/// The keys of an agent that `hector_plugins.agents` reads (docs/agents.md); only these are
/// expanded from the environment.
pub(super) const AGENT_SETTINGS: [&str; 15] = [
    "llm",
    "database",
    "embedder",
    "reasoning_strategy",
    "tools",
    "memory",
    "hooks",
    "system_prompt",
    "description",
    "max_iterations",
    "max_tokens",
    "timeout",
    "tool_timeout",
    "max_concurrent_tools",
    "streaming",
];

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
        validate_settings(agent, body)?;
        for (role, kind) in AGENT_ROLES {
            if let Some(name) = body.get(role).filter(|v| !v.is_null()) {
                check(format!("agents.{agent}.{role}"), name, kind)?;
            }
        }
        if let Some(tools) = body.get("tools").filter(|v| !v.is_null()) {
            let tools =
                tools.as_array().ok_or_else(|| Invalid::at(format!("agents.{agent}.tools"), "must be a list"))?;
            for (i, tool) in tools.iter().enumerate() {
                let at = format!("agents.{agent}.tools[{i}]");
                validate_toolset_options(tool, &at)?;
                // A tool without a type is a plugin's (as hector_plugins.agents reads it); other
                // tool types belong to the orchestrator.
                let kind = tool.get("type").map_or(Some("plugin"), |t| t.as_str());
                if kind == Some("plugin") {
                    let provider = tool.get("provider").ok_or_else(|| {
                        Invalid::at(format!("agents.{agent}.tools[{i}]"), "a plugin tool needs a provider")
                    })?;
                    check(format!("agents.{agent}.tools[{i}].provider"), provider, PluginKind::Tool)?;
                }
                if kind == Some("agent") {
                    let at = format!("agents.{agent}.tools[{i}].agent");
                    let target = tool.get("agent").and_then(|a| a.as_str()).ok_or_else(|| {
                        Invalid::at(format!("agents.{agent}.tools[{i}]"), "an agent tool needs `agent: <agent name>`")
                    })?;
                    if !agents.contains_key(target) {
                        let names: Vec<&str> = agents.keys().map(String::as_str).collect();
                        return Err(Invalid::at(
                            at,
                            format!("no agent named {target:?} (agents: {})", names.join(", ")),
                        ));
                    }
                }
            }
        }
    }
    refuse_delegation_cycles(agents)
}

/// The settings of one agent that `hector_plugins.agents` reads, checked for their shape.
fn validate_settings(agent: &str, body: &serde_json::Map<String, serde_json::Value>) -> Result<(), Invalid> {
    let at = |key: &str| format!("agents.{agent}.{key}");
    for key in ["max_iterations", "max_tokens", "max_concurrent_tools"] {
        if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
            if !is_count(value) {
                return Err(Invalid::at(at(key), format!("must be a whole number, at least 1, not {value}")));
            }
        }
    }
    for key in ["timeout", "tool_timeout"] {
        if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
            let seconds =
                value.as_f64().ok_or_else(|| Invalid::at(at(key), format!("must be seconds, not {value}")))?;
            super::settings::checked_seconds(&at(key), seconds)?;
        }
    }
    if let Some(streaming) = body.get("streaming").filter(|v| !v.is_null()) {
        if !streaming.is_boolean() {
            return Err(Invalid::at(at("streaming"), format!("must be true or false, not {streaming}")));
        }
    }
    for key in ["system_prompt", "description"] {
        if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
            if !value.is_string() {
                return Err(Invalid::at(at(key), format!("must be text, not {value}")));
            }
        }
    }
    if let Some(memory) = body.get("memory").filter(|v| !v.is_null()) {
        let memory = memory.as_object().ok_or_else(|| Invalid::at(at("memory"), "must be a mapping"))?;
        for role in ["database", "embedder"] {
            if body.get(role).is_none_or(|v| v.is_null()) {
                return Err(Invalid::at(
                    at("memory"),
                    format!("needs the agent's `{role}` (memory is a search of it)"),
                ));
            }
        }
        if let Some(collection) = memory.get("collection") {
            if collection.as_str().is_none_or(str::is_empty) {
                return Err(Invalid::at(at("memory.collection"), "must be a collection name"));
            }
        }
        if let Some(top_k) = memory.get("top_k") {
            if !is_count(top_k) {
                return Err(Invalid::at(
                    at("memory.top_k"),
                    format!("must be a whole number, at least 1, not {top_k}"),
                ));
            }
        }
    }
    if let Some(hooks) = body.get("hooks") {
        validate_hooks(hooks, &at("hooks"))?;
    }
    Ok(())
}

/// `prefix` (text) and `only` (a list of tool names) of one entry of an agent's `tools`.
fn validate_toolset_options(tool: &serde_json::Value, at: &str) -> Result<(), Invalid> {
    if let Some(prefix) = tool.get("prefix").filter(|v| !v.is_null()) {
        if !prefix.is_string() {
            return Err(Invalid::at(format!("{at}.prefix"), format!("must be text, not {prefix}")));
        }
    }
    if let Some(only) = tool.get("only").filter(|v| !v.is_null()) {
        let names = only.as_array().filter(|names| names.iter().all(serde_json::Value::is_string));
        if names.is_none() {
            return Err(Invalid::at(format!("{at}.only"), format!("must be a list of tool names, not {only}")));
        }
    }
    Ok(())
}

/// A whole number, at least 1.
fn is_count(value: &serde_json::Value) -> bool {
    value.as_u64().is_some_and(|n| n >= 1)
}

/// `hooks` (top level, or of one agent): hook point names to lists of dotted paths
/// (`package.module:function`). The point names are checked by the Python side, which owns them.
pub(super) fn validate_hooks(value: &serde_json::Value, at: &str) -> Result<(), Invalid> {
    let points = match value {
        serde_json::Value::Null => return Ok(()),
        serde_json::Value::Object(points) => points,
        _ => return Err(Invalid::at(at, "must map hook points (e.g. before_tool_call) to lists of dotted paths")),
    };
    for (point, paths) in points {
        let paths = match paths {
            serde_json::Value::String(_) => std::slice::from_ref(paths),
            serde_json::Value::Array(paths) => paths.as_slice(),
            _ => return Err(Invalid::at(format!("{at}.{point}"), "must be a dotted path or a list of them")),
        };
        for (i, path) in paths.iter().enumerate() {
            let ok = path.as_str().is_some_and(|p| !p.is_empty() && !p.contains(char::is_whitespace));
            if !ok {
                return Err(Invalid::at(
                    format!("{at}.{point}[{i}]"),
                    format!("must be a dotted path such as `package.module:function`, not {path}"),
                ));
            }
        }
    }
    Ok(())
}

/// An agent that reaches itself through `type: agent` tools would build forever.
fn refuse_delegation_cycles(agents: &serde_json::Map<String, serde_json::Value>) -> Result<(), Invalid> {
    let delegates = |agent: &str| -> Vec<String> {
        let tools = agents.get(agent).and_then(|a| a.get("tools")).and_then(|t| t.as_array());
        tools
            .into_iter()
            .flatten()
            .filter(|t| t.get("type").and_then(|t| t.as_str()) == Some("agent"))
            .filter_map(|t| t.get("agent").and_then(|a| a.as_str()).map(String::from))
            .collect()
    };
    for start in agents.keys() {
        // Depth-first from `start`, keeping the path so the message can show the cycle.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((agent, path)) = stack.pop() {
            for next in delegates(&agent) {
                if next == *start {
                    let cycle = [path.as_slice(), &[next]].concat().join(" -> ");
                    return Err(Invalid::at(
                        format!("agents.{start}.tools"),
                        format!("agents delegate in a cycle: {cycle}"),
                    ));
                }
                if !path.contains(&next) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next, longer));
                }
            }
        }
    }
    Ok(())
}
