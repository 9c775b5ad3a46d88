//! The `plugins:` sections: each enabled entry becomes a plugin spec, an in-process provider, an
//! alias (another plugin's spec under a new name) or a fallback chain over plugins of its
//! section. A name is unique across all sections.

use super::deserialize::deserialize_at;
use super::entry::EntryDefaults;
use super::entry::{builtin_entry, mcp_spec, refuse_mcp_fields, to_spec, Entry};
use super::invalid::Invalid;
use super::types::{Builtin, Fallback, BUILTIN};
use crate::kind::PluginKind;
use crate::plugin::PluginSpec;
use std::path::Path;

pub(super) const SECTIONS: [(&str, PluginKind); 5] = [
    ("llm_providers", PluginKind::Llm),
    ("database_providers", PluginKind::Database),
    ("embedder_providers", PluginKind::Embedder),
    ("tool_providers", PluginKind::Tool),
    ("reasoning_strategies", PluginKind::Reasoning),
];

/// `type: mcp`: an MCP server as a tool provider (docs/protocol.md §10).
const MCP: &str = "mcp";

/// The key under `plugins:` that is not a section (Hector accepted discovery settings there).
pub(super) const DISCOVERY_UNDER_PLUGINS: &str = "plugin_discovery";

/// What the sections declare.
pub(super) struct Declared {
    pub specs: Vec<PluginSpec>,
    pub fallbacks: Vec<Fallback>,
    pub builtins: Vec<Builtin>,
    /// Every name an entry claims, disabled entries included.
    pub names: Vec<String>,
}

/// An entry that names another plugin (`alias:`), resolved once every entry has been read.
struct Alias {
    name: String,
    kind: PluginKind,
    target: String,
    entry: Entry,
    at: String,
}

/// Reads the sections of `plugins:`; relative paths are relative to `base`.
pub(super) fn read_sections(
    plugins: &serde_json::Map<String, serde_json::Value>,
    base: &Path,
    defaults: &EntryDefaults,
) -> Result<Declared, Invalid> {
    let is_known = |key: &str| key == DISCOVERY_UNDER_PLUGINS || SECTIONS.iter().any(|(s, _)| *s == key);
    if let Some(unknown) = plugins.keys().find(|k| !is_known(k)) {
        let known: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).chain([DISCOVERY_UNDER_PLUGINS]).collect();
        return Err(Invalid::at(
            format!("plugins.{unknown}"),
            format!("unknown section (expected one of: {})", known.join(", ")),
        ));
    }
    let mut specs = Vec::new();
    let mut aliases: Vec<Alias> = Vec::new();
    let mut fallbacks: Vec<(Fallback, String)> = Vec::new();
    let mut builtins: Vec<Builtin> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (section, kind) in SECTIONS {
        let entries = match plugins.get(section) {
            None | Some(serde_json::Value::Null) => continue,
            Some(serde_json::Value::Object(map)) => map,
            Some(_) => {
                let key = format!("plugins.{section}");
                return Err(Invalid::about(&key, format!("`{key}` must map plugin names to entries")));
            }
        };
        for (name, entry) in entries {
            let at = format!("plugins.{section}.{name}");
            crate::names::check_name(name).map_err(|e| Invalid::at(&at, e))?;
            let entry: Entry = deserialize_at(entry, &at)?;
            if !["grpc", BUILTIN, MCP].contains(&entry.protocol.as_str()) {
                return Err(Invalid::at(
                    format!("{at}.type"),
                    format!(
                        "must be \"grpc\" (a plugin process), \"builtin\" (registered in-process) or \"mcp\" \
                         (an MCP server, under tool_providers), not {:?}",
                        entry.protocol
                    ),
                ));
            }
            if entry.protocol == MCP && kind != PluginKind::Tool {
                return Err(Invalid::at(
                    format!("{at}.type"),
                    format!("an MCP server serves tools: configure it under plugins.tool_providers, not {section}"),
                ));
            }
            if names.contains(name) {
                return Err(Invalid::at(&at, format!("the name {name:?} is used twice")));
            }
            // A disabled entry still claims its name: discovery must not load it either.
            names.push(name.clone());
            if !entry.enabled {
                continue;
            }
            if entry.protocol == BUILTIN {
                builtins.push(builtin_entry(name, kind, &entry, &at)?);
                continue;
            }
            if entry.protocol == MCP {
                specs.push(mcp_spec(name, entry, base, defaults, &at)?);
                continue;
            }
            refuse_mcp_fields(&entry, &at)?;
            if let (Some(key), false) = (entry.supervision_key(), entry.path.is_some()) {
                let what = if entry.alias.is_some() {
                    "an alias runs as the plugin it names, supervised and confined as it is"
                } else {
                    "a fallback chain has no process of its own: set this on its members"
                };
                return Err(Invalid::at(format!("{at}.{key}"), format!("not for this entry: {what}")));
            }
            match (entry.path.is_some(), entry.alias.clone(), entry.fallbacks.clone()) {
                (true, None, None) => specs.push(to_spec(name, kind, entry, base, defaults, &at)?),
                (false, Some(target), None) => aliases.push(Alias { name: name.clone(), kind, target, entry, at }),
                (false, None, Some(members)) => {
                    if members.is_empty() {
                        return Err(Invalid::at(format!("{at}.fallbacks"), "the chain is empty"));
                    }
                    fallbacks.push((Fallback { name: name.clone(), kind, members }, at));
                }
                _ => return Err(Invalid::at(&at, "give exactly one of `path`, `alias` and `fallbacks`")),
            }
        }
    }
    for alias in &aliases {
        let spec = resolve_alias(alias, &specs, &aliases)?;
        specs.push(spec);
    }
    check_fallbacks(&fallbacks, &specs, &builtins)?;
    let fallbacks = fallbacks.into_iter().map(|(chain, _)| chain).collect();
    Ok(Declared { specs, fallbacks, builtins, names })
}

/// An alias is its target's spec under a new name, with config overrides merged in. Aliases of
/// aliases are followed; a cycle is an error that shows it.
fn resolve_alias(alias: &Alias, specs: &[PluginSpec], aliases: &[Alias]) -> Result<PluginSpec, Invalid> {
    let Alias { name, kind, at, .. } = alias;
    let key = format!("{at}.alias");
    let mut trail = vec![name.clone()];
    let mut overrides = vec![&alias.entry.config];
    let mut current = alias.target.clone();
    loop {
        if trail.contains(&current) {
            trail.push(current);
            return Err(Invalid::at(key, format!("alias cycle {}", trail.join(" -> "))));
        }
        if let Some(spec) = specs.iter().find(|s| s.name == current) {
            if spec.kind != *kind {
                return Err(Invalid::at(
                    key,
                    format!("plugin {current:?} is {}, not {}", spec.kind.with_article(), kind.with_article()),
                ));
            }
            let mut aliased = spec.clone();
            aliased.name = name.clone();
            // The nearest alias wins: apply the farthest overrides first.
            for config in overrides.iter().rev() {
                aliased.config.extend(config.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            return Ok(aliased);
        }
        match aliases.iter().find(|other| other.name == current) {
            Some(next) => {
                trail.push(current);
                overrides.push(&next.entry.config);
                current = next.target.clone();
            }
            None => return Err(Invalid::at(key, format!("no {kind} plugin named {current:?} is configured"))),
        }
    }
}

/// Every member of a chain is a plugin or in-process provider of the chain's type, not a chain.
fn check_fallbacks(
    fallbacks: &[(Fallback, String)],
    specs: &[PluginSpec],
    builtins: &[Builtin],
) -> Result<(), Invalid> {
    for (chain, at) in fallbacks {
        for (i, member) in chain.members.iter().enumerate() {
            let key = format!("{at}.fallbacks[{i}]");
            if fallbacks.iter().any(|(other, _)| other.name == *member) {
                return Err(Invalid::at(key, format!("{member:?} is itself a fallback chain; chains cannot nest")));
            }
            let found = specs
                .iter()
                .map(|s| (&s.name, s.kind))
                .chain(builtins.iter().map(|b| (&b.name, b.kind)))
                .find(|(name, _)| *name == member);
            match found {
                Some((_, kind)) if kind == chain.kind => {}
                Some((_, kind)) => {
                    return Err(Invalid::at(
                        key,
                        format!("plugin {member:?} is {}, not {}", kind.with_article(), chain.kind.with_article()),
                    ))
                }
                None => {
                    return Err(Invalid::at(key, format!("no {} plugin named {member:?} is configured", chain.kind)))
                }
            }
        }
    }
    Ok(())
}
