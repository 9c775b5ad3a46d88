//! Reading the configuration structure (parsed from a file, or a Python dict) into a
//! [`Config`]: the top level, then each part in the order it depends on the others.

use super::agents::{validate_agents, validate_hooks};
use super::discovered::{discovered_plugins, EntryPoints};
use super::entry::EntryDefaults;
use super::expand::expand_plugin_sections;
use super::invalid::Invalid;
use super::sections::{read_sections, DISCOVERY_UNDER_PLUGINS, SECTIONS};
use super::security::read_security;
use super::supervision::{check_dependencies, read_defaults};
use super::types::{Config, ConfigWarning};
use super::typos::near_misses;
use crate::error::Result;
use crate::kind::PluginKind;
use std::path::Path;

/// Reads the configuration structure (already parsed, e.g. from a Python dict). `origin` names
/// it in messages; relative plugin paths are relative to `base`.
pub fn from_value(
    value: &serde_json::Value,
    origin: &str,
    base: &Path,
    entry_points: EntryPoints<'_>,
) -> Result<Config> {
    let err = |invalid: Invalid| invalid.in_origin(origin);
    let root = match value {
        serde_json::Value::Null => return Ok(Config::default()),
        serde_json::Value::Object(map) => map,
        _ => return Err(err(Invalid::whole("the top level must be a mapping"))),
    };
    let root = expand_plugin_sections(root).map_err(err)?;
    let empty = serde_json::Map::new();
    let plugins = match root.get("plugins") {
        None | Some(serde_json::Value::Null) => &empty,
        Some(serde_json::Value::Object(map)) => map,
        Some(_) => return Err(err(Invalid::about("plugins", "`plugins` must be a mapping"))),
    };
    let defaults = EntryDefaults {
        supervision: read_defaults(root.get("supervision")).map_err(err)?,
        security: read_security(root.get("plugin_security"), base).map_err(err)?,
    };
    let mut declared = read_sections(plugins, base, &defaults).map_err(err)?;
    // Hector accepted the discovery settings at the top level or under `plugins:`.
    let discovery = match (root.get("plugin_discovery"), plugins.get(DISCOVERY_UNDER_PLUGINS)) {
        (Some(_), Some(_)) => {
            return Err(err(Invalid::whole("plugin_discovery is given both at the top level and under plugins")))
        }
        (Some(d), None) => Some(("plugin_discovery", d)),
        (None, Some(d)) => Some(("plugins.plugin_discovery", d)),
        (None, None) => None,
    };
    if let Some((at, settings)) = discovery {
        let found = discovered_plugins(settings, at, base, &declared.names, entry_points, origin)?;
        declared.specs.extend(found.into_iter().map(|mut spec| {
            spec.supervision = defaults.supervision.clone();
            spec.protections = defaults.security.protections.clone();
            spec.trust = defaults.security.trust.clone();
            spec.launch.env_policy = defaults.security.env.clone();
            spec.connection.mtls = defaults.security.mtls;
            spec
        }));
    }
    let other_names: Vec<&str> = declared
        .builtins
        .iter()
        .map(|b| b.name.as_str())
        .chain(declared.fallbacks.iter().map(|f| f.name.as_str()))
        .collect();
    check_dependencies(&declared.specs, &other_names).map_err(err)?;
    let warning = |(key, message): (String, String), unenforced: bool| ConfigWarning {
        origin: origin.into(),
        key,
        message,
        unenforced,
    };
    let mut warnings: Vec<ConfigWarning> = near_misses(&root).into_iter().map(|w| warning(w, false)).collect();
    warnings.extend(unenforced_here(&declared.specs).into_iter().map(|w| warning(w, true)));
    if let Some(agents) = root.get("agents") {
        let mut known: Vec<(&str, PluginKind)> = declared.specs.iter().map(|s| (s.name.as_str(), s.kind)).collect();
        known.extend(declared.fallbacks.iter().map(|f| (f.name.as_str(), f.kind)));
        known.extend(declared.builtins.iter().map(|b| (b.name.as_str(), b.kind)));
        // Agents may also name the orchestrator's own providers (Hector's `llms:`, ...).
        for (role, section) in
            [(PluginKind::Llm, "llms"), (PluginKind::Database, "databases"), (PluginKind::Embedder, "embedders")]
        {
            if let Some(serde_json::Value::Object(own)) = root.get(section) {
                known.extend(own.keys().map(|name| (name.as_str(), role)));
            }
        }
        validate_agents(agents, &known).map_err(err)?;
    }
    let hooks = root.get("hooks").cloned().unwrap_or_default();
    validate_hooks(&hooks, "hooks").map_err(err)?;
    let section = |value: Option<&serde_json::Value>| match value {
        Some(serde_json::Value::Object(map)) => map.clone(),
        _ => serde_json::Map::new(),
    };
    Ok(Config {
        plugins: declared.specs,
        fallbacks: declared.fallbacks,
        builtins: declared.builtins,
        warnings,
        agents: section(root.get("agents")),
        hooks: section(Some(&hooks)),
        security: defaults.security,
    })
}

/// What this system cannot enforce of each plugin's protections (docs/security.md): (the key
/// path of the setting, the reason).
fn unenforced_here(specs: &[crate::plugin::PluginSpec]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for spec in specs {
        let section = SECTIONS.iter().find(|(_, kind)| *kind == spec.kind).map_or("plugins", |(section, _)| section);
        for gap in crate::security::confine::Confinement::gaps(&spec.name, &spec.protections) {
            let setting = gap.split([' ', ':']).next().unwrap_or_default().to_string();
            found.push((format!("plugins.{section}.{}.security.{setting}", spec.name), gap));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::discovered::no_entry_points;
    use super::*;
    use crate::error::Error;
    use crate::plugin::PluginSpec;
    use std::path::PathBuf;

    fn read(json: &str) -> Result<Config> {
        from_value(&serde_json::from_str(json).unwrap(), "test", Path::new("/base"), &mut no_entry_points)
    }

    fn parse(json: &str) -> Result<Vec<PluginSpec>> {
        read(json).map(|c| c.plugins)
    }

    /// The key of a configuration error, after checking that the message names it too.
    fn key_of(json: &str) -> Option<String> {
        match read(json) {
            Err(Error::Config { key, message, file, .. }) => {
                assert_eq!(file.as_deref(), Some("test"));
                if let Some(key) = &key {
                    assert!(message.contains(key.as_str()), "{message} does not name {key}");
                }
                key
            }
            Err(other) => panic!("not a configuration error: {other}"),
            Ok(config) => panic!("accepted: {config:?}"),
        }
    }

    #[test]
    fn reads_entries_of_every_section() {
        let specs = parse(
            r#"{"plugins": {"llm_providers": {"a": {"type": "grpc", "path": "bin/a", "config": {"k": 1}}},
                              "embedder_providers": {"e": {"path": "/abs/e", "enabled": true}},
                              "database_providers": {"off": {"path": "x", "enabled": false}}}}"#,
        )
        .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].path, PathBuf::from("/base/bin/a"));
        assert_eq!(specs[0].kind, PluginKind::Llm);
        assert_eq!(specs[1].path, PathBuf::from("/abs/e"));
    }

    #[test]
    fn connection_settings_have_defaults_and_can_be_set() {
        let specs = parse(
            r#"{"plugins": {"llm_providers": {"a": {"path": "a"},
                 "b": {"path": "b", "call_timeout": 0, "max_message_size": 1048576, "allow_non_loopback": true}}}}"#,
        )
        .unwrap();
        assert_eq!(specs[0].connection, crate::transport::ConnectionSettings::default());
        assert_eq!(specs[1].connection.call_timeout, None);
        assert_eq!(specs[1].connection.max_message_bytes, 1 << 20);
        assert!(specs[1].connection.allow_non_loopback);
    }

    #[test]
    fn errors_name_the_entry_and_field() {
        let e = parse(r#"{"plugins": {"llm_providers": {"a": {"path": "x", "bogus": 1}}}}"#).unwrap_err();
        assert!(e.to_string().contains("plugins.llm_providers.a") && e.to_string().contains("bogus"), "{e}");
        let e = parse(r#"{"plugins": {"llm_providers": {"a": {"type": "netrpc", "path": "x"}}}}"#).unwrap_err();
        assert!(e.to_string().contains("plugins.llm_providers.a.type"), "{e}");
        let e = parse(r#"{"plugins": {"llm_providers": {"a": {"path": "x", "start_timeout": -1}}}}"#).unwrap_err();
        assert!(e.to_string().contains("start_timeout"), "{e}");
        let e = parse(r#"{"plugins": {"llm_providers": {"a": {"path": "x", "call_timeout": -1}}}}"#).unwrap_err();
        assert!(
            e.to_string().contains("plugins.llm_providers.a.call_timeout") && e.to_string().contains("or 0"),
            "{e}"
        );
        let e = parse(r#"{"plugins": {"llm_providers": {"a": {"path": "x", "max_message_size": 10}}}}"#).unwrap_err();
        assert!(e.to_string().contains("plugins.llm_providers.a.max_message_size"), "{e}");
        let e = parse(r#"{"plugins": {"llm_providers": {"a": {}}}}"#).unwrap_err();
        assert!(e.to_string().contains("path"), "{e}");
    }

    #[test]
    fn errors_carry_the_key_path_they_concern() {
        let entry = |fields: &str| format!(r#"{{"plugins": {{"llm_providers": {{"gpt": {{{fields}}}}}}}}}"#);
        let cases = [
            (entry(r#""path": "x", "call_timeout": -1"#), "plugins.llm_providers.gpt.call_timeout"),
            (entry(r#""path": "x", "max_message_size": 10"#), "plugins.llm_providers.gpt.max_message_size"),
            (entry(r#""path": "x", "start_timeout": 1e-300"#), "plugins.llm_providers.gpt.start_timeout"),
            (entry(r#""path": "x", "enabled": "maybe""#), "plugins.llm_providers.gpt.enabled"),
            (entry(r#""type": "netrpc", "path": "x""#), "plugins.llm_providers.gpt.type"),
            (entry(r#""path": "x", "alias": "y""#), "plugins.llm_providers.gpt"),
            (entry(r#""alias": "ghost""#), "plugins.llm_providers.gpt.alias"),
            (entry(r#""fallbacks": []"#), "plugins.llm_providers.gpt.fallbacks"),
            (entry(r#""fallbacks": ["ghost"]"#), "plugins.llm_providers.gpt.fallbacks[0]"),
            (entry(r#""path": "${HECTOR_TEST_UNSET_IN_RUST}""#), "plugins.llm_providers.gpt.path"),
            (r#"{"plugins": {"llm_provider": {}}}"#.into(), "plugins.llm_provider"),
            (r#"{"plugins": []}"#.into(), "plugins"),
            (r#"{"plugin_security": {"max_memory_mb": 0}}"#.into(), "plugin_security.max_memory_mb"),
            (r#"{"plugin_security": {"max_cpu_percent": -5}}"#.into(), "plugin_security.max_cpu_percent"),
            (r#"{"plugin_security": {"verify_signatures": "yes"}}"#.into(), "plugin_security.verify_signatures"),
            (r#"{"agents": {"main": {"llm": "ghost"}}}"#.into(), "agents.main.llm"),
            (r#"{"agents": {"main": {"max_iterations": 0}}}"#.into(), "agents.main.max_iterations"),
            (r#"{"agents": {"main": {"max_tokens": "lots"}}}"#.into(), "agents.main.max_tokens"),
            (r#"{"agents": {"main": {"timeout": 0}}}"#.into(), "agents.main.timeout"),
            (r#"{"agents": {"main": {"tool_timeout": "1s"}}}"#.into(), "agents.main.tool_timeout"),
            (r#"{"agents": {"main": {"system_prompt": 3}}}"#.into(), "agents.main.system_prompt"),
            (r#"{"agents": {"main": {"memory": {"collection": "c"}}}}"#.into(), "agents.main.memory"),
            (
                r#"{"agents": {"main": {"hooks": {"before_generate": [3]}}}}"#.into(),
                "agents.main.hooks.before_generate[0]",
            ),
            (r#"{"agents": {"main": {"hooks": ["m:f"]}}}"#.into(), "agents.main.hooks"),
            (r#"{"agents": {"main": {"tools": [{"type": "agent"}]}}}"#.into(), "agents.main.tools[0]"),
            (
                r#"{"agents": {"main": {"tools": [{"type": "agent", "agent": "ghost"}]}}}"#.into(),
                "agents.main.tools[0].agent",
            ),
            (r#"{"hooks": {"on_error": "not a path"}}"#.into(), "hooks.on_error[0]"),
            (r#"{"agents": {"main": {"streaming": "yes"}}}"#.into(), "agents.main.streaming"),
            (r#"{"agents": {"main": {"tools": [{"provider": "ghost"}]}}}"#.into(), "agents.main.tools[0].provider"),
            (r#"{"agents": {"main": {"tools": [{"type": "x", "only": "add"}]}}}"#.into(), "agents.main.tools[0].only"),
            (r#"{"agents": {"main": {"tools": [{"type": "x", "prefix": 1}]}}}"#.into(), "agents.main.tools[0].prefix"),
            (r#"{"hooks": ["m:f"]}"#.into(), "hooks"),
        ];
        for (json, expected) in cases {
            assert_eq!(key_of(&json).as_deref(), Some(expected), "{json}");
        }
    }

    #[test]
    fn a_fallback_member_of_the_wrong_type_is_keyed_by_its_position() {
        let json = r#"{"plugins": {"embedder_providers": {"e": {"path": "e"}},
                                   "llm_providers": {"a": {"path": "a"}, "chain": {"fallbacks": ["a", "e"]}}}}"#;
        assert_eq!(key_of(json).as_deref(), Some("plugins.llm_providers.chain.fallbacks[1]"));
    }

    #[test]
    fn agents_and_hooks_are_kept_expanded_for_the_python_side() {
        std::env::set_var("HECTOR_TEST_AGENT_PROMPT", "be brief");
        let config = read(
            r#"{"agents": {"a": {"system_prompt": "${HECTOR_TEST_AGENT_PROMPT}", "tools": [{"type": "agent", "agent": "b"}]},
                            "b": {"hooks": {"before_generate": "m:f"}}},
                "hooks": {"on_error": ["pkg.mod:report"]}}"#,
        )
        .unwrap();
        assert_eq!(config.agents["a"]["system_prompt"], "be brief");
        assert_eq!(config.agents["b"]["hooks"]["before_generate"], "m:f");
        assert_eq!(config.hooks["on_error"][0], "pkg.mod:report");
    }

    #[test]
    fn agents_that_delegate_in_a_cycle_are_refused_with_the_cycle() {
        let json = r#"{"agents": {"a": {"tools": [{"type": "agent", "agent": "b"}]},
                                  "b": {"tools": [{"type": "agent", "agent": "c"}]},
                                  "c": {"tools": [{"type": "agent", "agent": "a"}]}}}"#;
        let Err(error) = read(json) else { panic!("a cycle was accepted") };
        assert!(error.to_string().contains("a -> b -> c -> a"), "{error}");
        let itself = r#"{"agents": {"a": {"tools": [{"type": "agent", "agent": "a"}]}}}"#;
        assert!(read(itself).unwrap_err().to_string().contains("a -> a"));
    }

    #[test]
    fn errors_about_no_single_key_have_none() {
        assert_eq!(key_of("[1]"), None);
        assert_eq!(key_of(r#"{"plugin_discovery": {}, "plugins": {"plugin_discovery": {}}}"#), None);
    }
}
