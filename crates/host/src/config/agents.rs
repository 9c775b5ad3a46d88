//! `agents` and `hooks`: every plugin an agent names must be configured (or discovered) with the
//! right type, an agent it delegates to must exist (without cycles), the plugins its `policy`
//! grants must be configured, and the settings the Python `Agent` reads must have the right shape
//! (docs/agents.md). Other keys of an agent belong to the orchestrator and are not checked here.

use super::invalid::Invalid;
use crate::kind::PluginKind;

/// The keys of an agent that `hector_plugins.agents` reads (docs/agents.md); only these are
/// expanded from the environment.
pub(super) const AGENT_SETTINGS: [&str; 16] = [
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
    "policy",
];

/// The keys of an agent's `policy` (docs/agents.md, "Policies"): each a list of strings.
const POLICY_KEYS: [&str; 3] = ["plugins", "tools", "deny_tools"];

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
    let check = |at: String, name: &serde_json::Value, kind: PluginKind| check_plugin(at, name, Some(kind), known);
    for (agent, body) in agents {
        let body = body.as_object().ok_or_else(|| Invalid::at(format!("agents.{agent}"), "must be a mapping"))?;
        validate_settings(agent, body)?;
        for (role, kind) in AGENT_ROLES {
            if let Some(name) = body.get(role).filter(|v| !v.is_null()) {
                check(format!("agents.{agent}.{role}"), name, kind)?;
            }
        }
        // The shape was checked above: a list of strings.
        if let Some(granted) = body.get("policy").and_then(|p| p.get("plugins")).and_then(|p| p.as_array()) {
            for (i, name) in granted.iter().enumerate() {
                check_plugin(format!("agents.{agent}.policy.plugins[{i}]"), name, None, known)?;
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

/// `name` must be a configured plugin (of type `kind`, when given), else the error at `at` lists
/// the plugins that are.
fn check_plugin(
    at: String,
    name: &serde_json::Value,
    kind: Option<PluginKind>,
    known: &[(&str, PluginKind)],
) -> Result<(), Invalid> {
    let name = name.as_str().ok_or_else(|| Invalid::at(&at, "must be a plugin name (a string)"))?;
    match (known.iter().find(|(known, _)| *known == name), kind) {
        (Some((_, found)), Some(kind)) if *found != kind => {
            Err(Invalid::at(at, format!("plugin {name:?} is {}, not {}", found.with_article(), kind.with_article())))
        }
        (Some(_), _) => Ok(()),
        (None, _) => {
            let candidates: Vec<&str> =
                known.iter().filter(|(_, k)| kind.is_none_or(|kind| *k == kind)).map(|(n, _)| *n).collect();
            let listed = if candidates.is_empty() { "none".into() } else { candidates.join(", ") };
            Err(Invalid::at(
                at,
                match kind {
                    Some(kind) => format!("no {kind} plugin named {name:?} is configured (configured: {listed})"),
                    None => format!("no plugin named {name:?} is configured (configured: {listed})"),
                },
            ))
        }
    }
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
    if let Some(policy) = body.get("policy").filter(|v| !v.is_null()) {
        validate_policy(policy, &at("policy"))?;
    }
    Ok(())
}

/// An agent's `policy`: a mapping of `plugins`, `tools` and `deny_tools`, each a list of
/// non-empty strings (plugin names; tool names or glob patterns). Unknown keys are refused: a
/// misspelt `deny_tool` would otherwise deny nothing.
fn validate_policy(policy: &serde_json::Value, at: &str) -> Result<(), Invalid> {
    let policy = policy.as_object().ok_or_else(|| {
        Invalid::at(at, format!("must be a mapping with any of {}, not {policy}", POLICY_KEYS.join(", ")))
    })?;
    for (key, value) in policy {
        let at = format!("{at}.{key}");
        if !POLICY_KEYS.contains(&key.as_str()) {
            return Err(Invalid::at(at, format!("unknown key; a policy has {}", POLICY_KEYS.join(", "))));
        }
        if value.is_null() {
            continue;
        }
        let what = if key == "plugins" { "plugin names" } else { "tool names or glob patterns" };
        let items =
            value.as_array().ok_or_else(|| Invalid::at(&at, format!("must be a list of {what}, not {value}")))?;
        for (i, item) in items.iter().enumerate() {
            if item.as_str().is_none_or(str::is_empty) {
                return Err(Invalid::at(format!("{at}[{i}]"), format!("must be a non-empty string, not {item}")));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The plugins the tests' configurations have: one of each role an agent uses.
    const KNOWN: [(&str, PluginKind); 4] = [
        ("echo", PluginKind::Llm),
        ("tools-go", PluginKind::Tool),
        ("vectordb", PluginKind::Database),
        ("embedder", PluginKind::Embedder),
    ];

    fn agent_with_policy(policy: serde_json::Value) -> serde_json::Value {
        json!({"research": {"llm": "echo", "tools": [{"provider": "tools-go"}], "policy": policy}})
    }

    fn check(policy: serde_json::Value) -> Result<(), Invalid> {
        validate_agents(&agent_with_policy(policy), &KNOWN)
    }

    /// The key path of the error, after checking that the message starts with it.
    fn refused_at(policy: serde_json::Value) -> String {
        let error = check(policy).unwrap_err();
        let key = error.key.clone().expect("the error names a key");
        assert!(error.message.starts_with(&format!("{key}: ")), "{} does not start with {key}", error.message);
        key
    }

    #[test]
    fn a_policy_of_configured_plugins_and_tool_patterns_is_accepted() {
        let policy = json!({
            "plugins": ["echo", "tools-go", "vectordb"],
            "tools": ["search", "fs_*"],
            "deny_tools": ["fs_write"],
        });
        check(policy).unwrap();
        check(json!({"tools": []})).unwrap(); // an empty list allows nothing, and is a valid policy
        check(json!({})).unwrap();
        check(json!(null)).unwrap();
        check(json!({"plugins": null, "deny_tools": ["*"]})).unwrap();
    }

    #[test]
    fn policy_plugins_may_name_a_plugin_of_any_role() {
        check(json!({"plugins": ["embedder", "vectordb", "tools-go", "echo"]})).unwrap();
    }

    #[test]
    fn a_policy_plugin_that_is_not_configured_is_refused_with_the_configured_ones() {
        let error = check(json!({"plugins": ["echo", "ghost"]})).unwrap_err();
        assert_eq!(error.key.as_deref(), Some("agents.research.policy.plugins[1]"));
        assert_eq!(
            error.message,
            "agents.research.policy.plugins[1]: no plugin named \"ghost\" is configured \
             (configured: echo, tools-go, vectordb, embedder)"
        );
    }

    #[test]
    fn a_policy_of_the_wrong_shape_is_refused_at_its_key() {
        assert_eq!(refused_at(json!(["echo"])), "agents.research.policy");
        assert_eq!(refused_at(json!("deny everything")), "agents.research.policy");
        assert_eq!(refused_at(json!({"deny_tool": ["fs_write"]})), "agents.research.policy.deny_tool");
        assert_eq!(refused_at(json!({"tools": "fs_*"})), "agents.research.policy.tools");
        assert_eq!(refused_at(json!({"plugins": {"echo": true}})), "agents.research.policy.plugins");
        assert_eq!(refused_at(json!({"tools": ["search", 3]})), "agents.research.policy.tools[1]");
        assert_eq!(refused_at(json!({"deny_tools": [""]})), "agents.research.policy.deny_tools[0]");
        assert_eq!(refused_at(json!({"plugins": [null]})), "agents.research.policy.plugins[0]");
    }

    #[test]
    fn shape_errors_say_what_to_write() {
        let unknown = check(json!({"deny_tool": ["fs_write"]})).unwrap_err();
        assert_eq!(
            unknown.message,
            "agents.research.policy.deny_tool: unknown key; a policy has plugins, tools, deny_tools"
        );
        let lone = check(json!({"tools": "fs_*"})).unwrap_err();
        assert_eq!(
            lone.message,
            "agents.research.policy.tools: must be a list of tool names or glob patterns, not \"fs_*\""
        );
        let item = check(json!({"plugins": [7]})).unwrap_err();
        assert_eq!(item.message, "agents.research.policy.plugins[0]: must be a non-empty string, not 7");
    }

    #[test]
    fn policy_is_an_agent_setting_so_its_variables_are_expanded() {
        assert!(AGENT_SETTINGS.contains(&"policy"));
        std::env::set_var("HECTOR_TEST_POLICY_TOOL", "search");
        let root = json!({"agents": {"a": {"policy": {"tools": ["${HECTOR_TEST_POLICY_TOOL}", "fs_*"]}}}});
        let expanded = super::super::expand::expand_plugin_sections(root.as_object().unwrap()).unwrap();
        assert_eq!(expanded["agents"]["a"]["policy"]["tools"], json!(["search", "fs_*"]));
    }
}
