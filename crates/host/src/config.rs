//! hector.yaml (or the same structure as a dict): the explicitly configured plugins.
//!
//! Sections `plugins.{llm_providers, database_providers, embedder_providers, tool_providers,
//! reasoning_strategies}` map names to entries `{type: grpc, path, enabled, config, ...}`, or to
//! `{type: builtin}`: a provider the orchestrator registers in-process, usable in fallback chains.
//! `${VAR}`, `${VAR:-default}` and `$VAR` in any string are expanded from the environment.

use crate::error::{Error, Result};
use crate::kind::PluginKind;
use crate::launch::LaunchOptions;
use crate::plugin::{PluginSpec, DEFAULT_SHUTDOWN_GRACE, DEFAULT_START_TIMEOUT};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SECTIONS: [(&str, PluginKind); 5] = [
    ("llm_providers", PluginKind::Llm),
    ("database_providers", PluginKind::Database),
    ("embedder_providers", PluginKind::Embedder),
    ("tool_providers", PluginKind::Tool),
    ("reasoning_strategies", PluginKind::Reasoning),
];

/// One plugin entry as written in the configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(rename = "type", default = "grpc")]
    protocol: String,
    /// The executable. An entry has exactly one of `path`, `alias` and `fallbacks`.
    path: Option<String>,
    /// Another plugin of the same section, launched again under this name with `config`
    /// merged over its own.
    alias: Option<String>,
    /// An ordered chain of plugins of the same section: the first that is ready serves.
    fallbacks: Option<Vec<String>>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    config: BTreeMap<String, serde_json::Value>,
    start_timeout: Option<f64>,
    shutdown_grace: Option<f64>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    clean_env: bool,
    magic_cookie_key: Option<String>,
    magic_cookie_value: Option<String>,
    protocol_versions: Option<Vec<u32>>,
    /// Seconds; 0 disables the default deadline of calls.
    call_timeout: Option<f64>,
    /// Bytes, either way.
    max_message_size: Option<u64>,
    #[serde(default)]
    allow_non_loopback: bool,
}

fn grpc() -> String {
    "grpc".into()
}

pub(crate) fn yes() -> bool {
    true
}

/// A configuration file larger than this is refused without being read.
const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// What a configuration declares: plugins to launch, in-process providers, and fallback chains
/// over both.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub plugins: Vec<PluginSpec>,
    pub fallbacks: Vec<Fallback>,
    /// Names declared `type: builtin`: their providers must be registered before `load_all`.
    pub builtins: Vec<Builtin>,
    /// Settings read but not acted on, and keys that look like typos: reported, never fatal.
    pub warnings: Vec<ConfigWarning>,
}

/// Something in the configuration that a person should hear about although it is valid: a
/// setting this library reads but does not enforce yet, or a key that looks like a typo of one
/// it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigWarning {
    /// Where the configuration came from (a file path, or "config dict").
    pub origin: String,
    /// The key path it is about, e.g. `plugin_security.verify_signatures`.
    pub key: String,
    pub message: String,
    /// True for a setting that is read but not enforced yet (`validate --strict` fails on it).
    pub unenforced: bool,
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.key, self.message)
    }
}

/// The `type` of an entry that names an in-process provider instead of a plugin process.
pub const BUILTIN: &str = "builtin";

/// A provider that lives in the orchestrator's process (registered in code, not launched).
#[derive(Debug, Clone, PartialEq)]
pub struct Builtin {
    pub name: String,
    pub kind: PluginKind,
}

/// A name that means "the first ready plugin of `members`".
#[derive(Debug, Clone)]
pub struct Fallback {
    pub name: String,
    pub kind: PluginKind,
    pub members: Vec<String>,
}

/// Reads a hector.yaml file. Relative plugin paths are relative to the file's directory. The
/// YAML parser runs with budgets (nodes, aliases, depth), so an alias bomb fails fast.
pub fn load_file(path: &Path, entry_points: EntryPoints<'_>) -> Result<Config> {
    let origin = path.display().to_string();
    let config_error = |message: String, line: Option<usize>, column: Option<usize>| Error::Config {
        message,
        file: Some(origin.clone()),
        line,
        column,
    };
    let metadata =
        std::fs::metadata(path).map_err(|e| config_error(format!("cannot read {origin}: {e}"), None, None))?;
    if !metadata.is_file() {
        return Err(config_error(format!("{origin}: not a regular file"), None, None));
    }
    let size = metadata.len();
    if size > MAX_CONFIG_BYTES {
        return Err(config_error(
            format!("{origin}: the file is {size} bytes; a configuration may be at most {MAX_CONFIG_BYTES}"),
            None,
            None,
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| config_error(format!("cannot read {origin}: {e}"), None, None))?;
    let value: serde_json::Value = if text.trim().is_empty() {
        serde_json::Value::Null
    } else {
        crate::yaml::from_str(&text).map_err(|e| {
            let position = match (e.line, e.column) {
                (Some(line), Some(column)) => format!(":{line}:{column}"),
                _ => String::new(),
            };
            config_error(format!("{origin}{position}: invalid YAML: {}", e.message), e.line, e.column)
        })?
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    from_value(&value, &origin, &base, entry_points).map_err(|error| locate_in(error, &text))
}

/// Gives a configuration error the line and column of the key it names, when the message
/// starts with a key path (`plugins.llm_providers.x.config: ...`).
fn locate_in(error: Error, text: &str) -> Error {
    let Error::Config { message, file, line: None, column: None } = error else { return error };
    let origin = file.clone().unwrap_or_default();
    let rest = message.strip_prefix(&format!("{origin}: ")).unwrap_or(&message);
    let key_path = rest.split(": ").next().unwrap_or_default();
    let looks_like_path = !key_path.is_empty() && !key_path.contains(' ');
    match looks_like_path.then(|| locate_key(text, key_path)).flatten() {
        Some((line, column)) => {
            let message = format!("{origin}:{line}:{column}: {rest}");
            Error::Config { message, file, line: Some(line), column: Some(column) }
        }
        None => Error::Config { message, file, line: None, column: None },
    }
}

/// Best-effort position (1-based line and column) of the last key of `key_path` in YAML text,
/// found by looking for each key in turn after the previous one. Works for block and flow style.
pub fn locate_key(text: &str, key_path: &str) -> Option<(usize, usize)> {
    let keys = key_path.split('.').map(|part| part.split('[').next().unwrap_or(part)).filter(|k| !k.is_empty());
    let mut offset = 0;
    let mut found = None;
    for key in keys {
        let at = find_key(text, key, offset)?;
        found = Some(at);
        offset = at + key.len();
    }
    let at = found?;
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |newline| newline + 1) + 1;
    Some((line, column))
}

/// The byte offset of `key` used as a mapping key (`key:`), at or after `from`.
fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let mut search = from;
    while let Some(relative) = text.get(search..)?.find(key) {
        let at = search + relative;
        let before = text[..at].chars().next_back();
        let after = text[at + key.len()..].trim_start_matches([' ', '"', '\'']);
        let starts_key = matches!(before, None | Some(' ' | '\n' | '{' | ',' | '"' | '\'' | '\t'));
        if starts_key && after.starts_with(':') {
            return Some(at);
        }
        search = at + key.len();
    }
    None
}

/// Lists plugins that installed packages advertise (Python entry points, group
/// `hector_plugins`), as (label for messages, executable path). Supplied by the embedding
/// layer, since the core knows nothing of Python packaging.
pub type EntryPoints<'a> = &'a mut dyn FnMut() -> std::result::Result<Vec<(String, PathBuf)>, String>;

/// For embedders without entry points.
pub fn no_entry_points() -> std::result::Result<Vec<(String, PathBuf)>, String> {
    Ok(Vec::new())
}

/// Reads the configuration structure (already parsed, e.g. from a Python dict).
pub fn from_value(
    value: &serde_json::Value,
    origin: &str,
    base: &Path,
    entry_points: EntryPoints<'_>,
) -> Result<Config> {
    let err = |message: String| Error::Config {
        message: format!("{origin}: {message}"),
        file: Some(origin.into()),
        line: None,
        column: None,
    };
    let root = match value {
        serde_json::Value::Null => return Ok(Config::default()),
        serde_json::Value::Object(map) => map,
        _ => return Err(err("the top level must be a mapping".into())),
    };
    let root = expand_plugin_sections(root).map_err(err)?;
    let empty = serde_json::Map::new();
    let plugins = match root.get("plugins") {
        None | Some(serde_json::Value::Null) => &empty,
        Some(serde_json::Value::Object(map)) => map,
        Some(_) => return Err(err("`plugins` must be a mapping".into())),
    };
    if let Some(unknown) = plugins.keys().find(|k| *k != "plugin_discovery" && !SECTIONS.iter().any(|(s, _)| s == k)) {
        let known: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).chain(["plugin_discovery"]).collect();
        return Err(err(format!("plugins.{unknown}: unknown section (expected one of: {})", known.join(", "))));
    }
    let mut specs = Vec::new();
    let mut aliases: Vec<(String, PluginKind, String, Entry, String)> = Vec::new();
    let mut fallbacks: Vec<(Fallback, String)> = Vec::new();
    let mut builtins: Vec<Builtin> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (section, kind) in SECTIONS {
        let Some(entries) = plugins.get(section) else { continue };
        let entries = match entries {
            serde_json::Value::Null => continue,
            serde_json::Value::Object(map) => map,
            _ => return Err(err(format!("`plugins.{section}` must map plugin names to entries"))),
        };
        for (name, entry) in entries {
            let at = format!("plugins.{section}.{name}");
            crate::names::check_name(name).map_err(|e| err(format!("{at}: {e}")))?;
            let entry: Entry = deserialize_at(entry, &at).map_err(err)?;
            if entry.protocol != "grpc" && entry.protocol != BUILTIN {
                return Err(err(format!(
                    "{at}.type: must be \"grpc\" (a plugin process) or \"builtin\" (registered in-process), not {:?}",
                    entry.protocol
                )));
            }
            if names.contains(name) {
                return Err(err(format!("{at}: the name {name:?} is used twice")));
            }
            // A disabled entry still claims its name: discovery must not load it either.
            names.push(name.clone());
            if !entry.enabled {
                continue;
            }
            if entry.protocol == BUILTIN {
                builtins.push(builtin_entry(name, kind, &entry, &at).map_err(err)?);
                continue;
            }
            match (entry.path.is_some(), entry.alias.clone(), entry.fallbacks.clone()) {
                (true, None, None) => specs.push(to_spec(name, kind, entry, base, &at).map_err(err)?),
                (false, Some(target), None) => aliases.push((name.clone(), kind, target, entry, at)),
                (false, None, Some(members)) => {
                    if members.is_empty() {
                        return Err(err(format!("{at}.fallbacks: the chain is empty")));
                    }
                    fallbacks.push((Fallback { name: name.clone(), kind, members }, at));
                }
                _ => return Err(err(format!("{at}: give exactly one of `path`, `alias` and `fallbacks`"))),
            }
        }
    }
    for (name, kind, target, entry, at) in &aliases {
        let spec = resolve_alias(name, *kind, target, entry, &specs, &aliases, at).map_err(err)?;
        specs.push(spec);
    }
    for (chain, at) in &fallbacks {
        for (i, member) in chain.members.iter().enumerate() {
            let at = format!("{at}.fallbacks[{i}]");
            if fallbacks.iter().any(|(other, _)| other.name == *member) {
                return Err(err(format!("{at}: {member:?} is itself a fallback chain; chains cannot nest")));
            }
            let found = specs
                .iter()
                .map(|s| (&s.name, s.kind))
                .chain(builtins.iter().map(|b| (&b.name, b.kind)))
                .find(|(name, _)| *name == member);
            match found {
                Some((_, kind)) if kind == chain.kind => {}
                Some((_, kind)) => {
                    return Err(err(format!(
                        "{at}: plugin {member:?} is {}, not {}",
                        kind.with_article(),
                        chain.kind.with_article()
                    )))
                }
                None => return Err(err(format!("{at}: no {} plugin named {member:?} is configured", chain.kind))),
            }
        }
    }
    let fallbacks: Vec<Fallback> = fallbacks.into_iter().map(|(chain, _)| chain).collect();
    // Hector accepted the discovery settings at the top level or under `plugins:`.
    let discovery = match (root.get("plugin_discovery"), plugins.get("plugin_discovery")) {
        (Some(_), Some(_)) => {
            return Err(err("plugin_discovery is given both at the top level and under plugins".into()))
        }
        (Some(d), None) => Some(("plugin_discovery", d)),
        (None, Some(d)) => Some(("plugins.plugin_discovery", d)),
        (None, None) => None,
    };
    if let Some((at, settings)) = discovery {
        let settings: crate::discovery::Discovery = deserialize_at(settings, at).map_err(err)?;
        if settings.enabled {
            let mut found: Vec<PluginSpec> = Vec::new();
            let mut discovered = crate::discovery::discover(&settings, base)?;
            if settings.entry_points {
                for (label, executable) in entry_points().map_err(|e| err(format!("{at}: entry points: {e}")))? {
                    let manifest = crate::manifest::read_for(&executable)?.ok_or_else(|| {
                        err(format!(
                            "{at}: entry point {label} names {}, which has no manifest {}",
                            executable.display(),
                            crate::manifest::path_for(&executable).display()
                        ))
                    })?;
                    discovered.push(PluginSpec::found_by(manifest, executable));
                }
            }
            // The same file reached by a path and an entry point is one plugin. (Two names that
            // link to one binary are two plugins: each has its own manifest.)
            let mut seen = std::collections::HashSet::new();
            discovered.retain(|spec| seen.insert(crate::discovery::file_identity(&spec.path)));
            for spec in discovered {
                // Explicit entries win over discovered plugins of the same name.
                if names.contains(&spec.name) {
                    continue;
                }
                if let Some(other) = found.iter().find(|s| s.name == spec.name) {
                    return Err(err(format!(
                        "{at}: two discovered plugins are named {:?}: {} and {}",
                        spec.name,
                        other.path.display(),
                        spec.path.display()
                    )));
                }
                found.push(spec);
            }
            specs.extend(found);
        }
    }
    let mut warnings: Vec<ConfigWarning> = near_misses(&root)
        .into_iter()
        .map(|(key, message)| ConfigWarning { origin: origin.into(), key, message, unenforced: false })
        .collect();
    if let Some(security) = root.get("plugin_security") {
        let unenforced = validate_security(security).map_err(err)?;
        warnings.extend(unenforced.into_iter().map(|(key, message)| ConfigWarning {
            origin: origin.into(),
            key,
            message,
            unenforced: true,
        }));
    }
    if let Some(agents) = root.get("agents") {
        let mut known: Vec<(&str, PluginKind)> = specs.iter().map(|s| (s.name.as_str(), s.kind)).collect();
        known.extend(fallbacks.iter().map(|f| (f.name.as_str(), f.kind)));
        known.extend(builtins.iter().map(|b| (b.name.as_str(), b.kind)));
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
    Ok(Config { plugins: specs, fallbacks, builtins, warnings })
}

/// Deserializes `value`, the part of the configuration at key path `at`. serde names the wrong
/// value but not the field it sits in, so on failure each field is tried alone to find it.
pub(crate) fn deserialize_at<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    at: &str,
) -> std::result::Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|error| {
        let message = error.to_string();
        // Unknown and missing fields are about the mapping itself.
        if let (serde_json::Value::Object(map), false) = (value, message.starts_with("unknown field")) {
            for (key, field) in map {
                let alone = serde_json::Value::Object([(key.clone(), field.clone())].into_iter().collect());
                if let Err(e) = serde_json::from_value::<T>(alone) {
                    let text = e.to_string();
                    if !text.starts_with("missing field") && !text.starts_with("unknown field") {
                        return format!("{at}.{key}: {}", plain_serde_error(&text));
                    }
                }
            }
        }
        format!("{at}: {}", plain_serde_error(&message))
    })
}

/// `invalid type: string "maybe", expected a boolean` → `must be true or false, not the string
/// "maybe"`: what to write instead comes first, in the configuration's words, not Rust's.
fn plain_serde_error(message: &str) -> String {
    let parsed = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    let Some((got, expected)) = parsed else { return message.to_string() };
    let expected = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        "a map" => "a mapping",
        other => other,
    };
    let got = got.replace('`', "");
    let got = match got.as_str() {
        "sequence" => "a list".to_string(),
        "map" => "a mapping".to_string(),
        "null" => "empty".to_string(),
        _ => format!("the {got}"),
    };
    format!("must be {expected}, not {got}")
}

/// The top-level keys this library reads. Others belong to the orchestrator and are left alone,
/// unless they look like a typo of one of these.
const OWN_TOP_LEVEL_KEYS: [&str; 3] = ["plugins", "plugin_discovery", "plugin_security"];

/// Top-level keys that are probably a misspelt `plugins:` (or another key this library reads),
/// as (key, message): such a file would otherwise configure nothing without a word.
fn near_misses(root: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    root.keys()
        .filter(|key| !OWN_TOP_LEVEL_KEYS.contains(&key.as_str()))
        .filter_map(|key| {
            let lower = key.to_lowercase().replace('-', "_");
            let meant = OWN_TOP_LEVEL_KEYS.iter().find(|own| lower == **own || edit_distance(&lower, own) <= 2)?;
            Some((
                key.clone(),
                format!("hector-plugins does not read `{key}:`; did you mean `{meant}:`? (as written, it is ignored)"),
            ))
        })
        .collect()
}

/// Levenshtein distance, for spotting typos in short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// `{type: builtin}`: only a name and a type; the provider itself is registered in code.
fn builtin_entry(name: &str, kind: PluginKind, entry: &Entry, at: &str) -> std::result::Result<Builtin, String> {
    // Only LLM providers have a typed client that can call an in-process object today.
    if kind != PluginKind::Llm {
        return Err(format!(
            "{at}.type: only llm_providers can be \"builtin\" today (this entry is {})",
            kind.with_article()
        ));
    }
    let launch_fields = [
        ("path", entry.path.is_some()),
        ("alias", entry.alias.is_some()),
        ("fallbacks", entry.fallbacks.is_some()),
        ("config", !entry.config.is_empty()),
        ("env", !entry.env.is_empty()),
        ("start_timeout", entry.start_timeout.is_some()),
        ("shutdown_grace", entry.shutdown_grace.is_some()),
        ("clean_env", entry.clean_env),
        ("magic_cookie_key", entry.magic_cookie_key.is_some()),
        ("magic_cookie_value", entry.magic_cookie_value.is_some()),
        ("protocol_versions", entry.protocol_versions.is_some()),
        ("call_timeout", entry.call_timeout.is_some()),
        ("max_message_size", entry.max_message_size.is_some()),
        ("allow_non_loopback", entry.allow_non_loopback),
    ];
    if let Some((field, _)) = launch_fields.iter().find(|(_, given)| *given) {
        return Err(format!(
            "{at}.{field}: a built-in provider is created and configured in code, so it takes no `{field}`"
        ));
    }
    Ok(Builtin { name: name.into(), kind })
}

/// Expands `${VAR}` in the sections this library reads (`plugins`, `plugin_discovery`),
/// skipping disabled entries: other sections belong to the orchestrator, and a variable that
/// only a disabled plugin uses need not be set.
fn expand_plugin_sections(
    root: &serde_json::Map<String, serde_json::Value>,
) -> std::result::Result<serde_json::Map<String, serde_json::Value>, String> {
    let lookup = |name: &str| std::env::var(name).ok();
    let mut root = root.clone();
    if let Some(discovery) = root.get_mut("plugin_discovery") {
        crate::envexpand::expand_value(discovery, "plugin_discovery", &lookup)?;
    }
    let Some(serde_json::Value::Object(plugins)) = root.get_mut("plugins") else { return Ok(root) };
    for (section, value) in plugins.iter_mut() {
        let at = format!("plugins.{section}");
        match value {
            serde_json::Value::Object(entries) if section != "plugin_discovery" => {
                for (name, entry) in entries.iter_mut() {
                    let disabled = entry.get("enabled") == Some(&serde_json::Value::Bool(false));
                    if !disabled {
                        crate::envexpand::expand_value(entry, &format!("{at}.{name}"), &lookup)?;
                    }
                }
            }
            other => crate::envexpand::expand_value(other, &at, &lookup)?,
        }
    }
    Ok(root)
}

/// An alias is its target's spec under a new name, with config overrides merged in. Aliases of
/// aliases are followed; a cycle is an error that shows it.
fn resolve_alias(
    name: &str,
    kind: PluginKind,
    target: &str,
    entry: &Entry,
    specs: &[PluginSpec],
    aliases: &[(String, PluginKind, String, Entry, String)],
    at: &str,
) -> std::result::Result<PluginSpec, String> {
    let mut trail = vec![name.to_string()];
    let mut overrides = vec![&entry.config];
    let mut current = target.to_string();
    loop {
        if trail.contains(&current) {
            trail.push(current);
            return Err(format!("{at}.alias: alias cycle {}", trail.join(" -> ")));
        }
        if let Some(spec) = specs.iter().find(|s| s.name == current) {
            if spec.kind != kind {
                return Err(format!(
                    "{at}.alias: plugin {current:?} is {}, not {}",
                    spec.kind.with_article(),
                    kind.with_article()
                ));
            }
            let mut aliased = spec.clone();
            aliased.name = name.to_string();
            // The nearest alias wins: apply the farthest overrides first.
            for config in overrides.iter().rev() {
                aliased.config.extend(config.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            return Ok(aliased);
        }
        match aliases.iter().find(|(alias, ..)| *alias == current) {
            Some((_, _, next, next_entry, _)) => {
                trail.push(current);
                overrides.push(&next_entry.config);
                current = next.clone();
            }
            None => return Err(format!("{at}.alias: no {kind} plugin named {current:?} is configured")),
        }
    }
}

/// `plugin_security`: parsed and checked, but not enforced yet (a later release enforces it).
/// Until then every setting that is given is reported as unenforced, never silently ignored.
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
fn validate_security(value: &serde_json::Value) -> std::result::Result<Vec<(String, String)>, String> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let security: Security = deserialize_at(value, "plugin_security")?;
    if security.max_memory_mb == Some(0) {
        return Err("plugin_security.max_memory_mb: must be at least 1".into());
    }
    if let Some(cpu) = security.max_cpu_percent {
        if !(cpu > 0.0 && cpu.is_finite()) {
            return Err(format!("plugin_security.max_cpu_percent: must be a positive percentage, not {cpu}"));
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

/// The plugins an agent refers to, by role and the plugin type each role needs.
const AGENT_ROLES: [(&str, PluginKind); 4] = [
    ("llm", PluginKind::Llm),
    ("database", PluginKind::Database),
    ("embedder", PluginKind::Embedder),
    ("reasoning_strategy", PluginKind::Reasoning),
];

/// Every plugin an agent names must be configured (or discovered) with the right type.
fn validate_agents(value: &serde_json::Value, specs: &[(&str, PluginKind)]) -> std::result::Result<(), String> {
    let agents = match value {
        serde_json::Value::Null => return Ok(()),
        serde_json::Value::Object(map) => map,
        _ => return Err("`agents` must map agent names to agents".into()),
    };
    let check = |at: String, name: &serde_json::Value, kind: PluginKind| -> std::result::Result<(), String> {
        let name = name.as_str().ok_or_else(|| format!("{at}: must be a plugin name (a string)"))?;
        match specs.iter().find(|(known, _)| *known == name) {
            Some((_, found)) if *found == kind => Ok(()),
            Some((_, found)) => {
                Err(format!("{at}: plugin {name:?} is {}, not {}", found.with_article(), kind.with_article()))
            }
            None => {
                let known: Vec<&str> = specs.iter().filter(|(_, k)| *k == kind).map(|(n, _)| *n).collect();
                Err(format!(
                    "{at}: no {kind} plugin named {name:?} is configured (configured: {})",
                    if known.is_empty() { "none".into() } else { known.join(", ") }
                ))
            }
        }
    };
    for (agent, body) in agents {
        let body = body.as_object().ok_or_else(|| format!("agents.{agent}: must be a mapping"))?;
        for (role, kind) in AGENT_ROLES {
            if let Some(name) = body.get(role).filter(|v| !v.is_null()) {
                check(format!("agents.{agent}.{role}"), name, kind)?;
            }
        }
        if let Some(tools) = body.get("tools").filter(|v| !v.is_null()) {
            let tools = tools.as_array().ok_or_else(|| format!("agents.{agent}.tools: must be a list"))?;
            for (i, tool) in tools.iter().enumerate() {
                // Only plugin tools name a plugin; other tool types belong to the orchestrator.
                if tool.get("type").and_then(|t| t.as_str()) == Some("plugin") {
                    let provider = tool
                        .get("provider")
                        .ok_or_else(|| format!("agents.{agent}.tools[{i}]: a plugin tool needs a provider"))?;
                    check(format!("agents.{agent}.tools[{i}].provider"), provider, PluginKind::Tool)?;
                }
            }
        }
    }
    Ok(())
}

/// `call_timeout` in seconds: 0 means no default deadline, otherwise like any duration.
pub fn call_timeout(seconds: f64) -> std::result::Result<Option<Duration>, String> {
    if seconds == 0.0 {
        return Ok(None);
    }
    positive_seconds(seconds).map(Some).ok_or_else(|| {
        format!("must be a finite number of seconds, at least 0.001 (1 ms), or 0 for no deadline, not {seconds:?}")
    })
}

/// `max_message_size` in bytes: at least 1 KiB, at most what gRPC framing allows (2^31-1).
pub fn message_size(bytes: u64) -> std::result::Result<usize, String> {
    const MIN: u64 = 1024;
    const MAX: u64 = hector_plugins_protocol::MAX_MESSAGE_SIZE_LIMIT as u64;
    if (MIN..=MAX).contains(&bytes) {
        Ok(bytes as usize)
    } else {
        Err(format!("must be between {MIN} and {MAX} bytes, not {bytes}"))
    }
}

/// The shortest duration any option accepts. Anything shorter is a mistake (a unit confusion, a
/// typo'd exponent) that would otherwise fail later as "within 0s".
pub const MIN_DURATION: Duration = Duration::from_millis(1);

/// A duration given in seconds: finite, at least [`MIN_DURATION`], and small enough for a
/// `Duration`.
pub fn positive_seconds(seconds: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(seconds).ok().filter(|d| *d >= MIN_DURATION)
}

/// The message for a duration option that [`positive_seconds`] refuses.
pub fn bad_seconds(field: &str, seconds: f64) -> String {
    // `{:?}` prints 1e-300 as such, not as 300 zeros.
    format!("{field}: must be a finite number of seconds, at least 0.001 (1 ms), not {seconds:?}")
}

fn to_spec(
    name: &str,
    kind: PluginKind,
    entry: Entry,
    base: &Path,
    at: &str,
) -> std::result::Result<PluginSpec, String> {
    let seconds = |value: Option<f64>, field: &str, default: Duration| match value {
        None => Ok(default),
        Some(s) => positive_seconds(s).ok_or_else(|| bad_seconds(&format!("{at}.{field}"), s)),
    };
    let defaults = LaunchOptions::default();
    let path = PathBuf::from(entry.path.as_deref().unwrap_or_default());
    let mut spec = PluginSpec::new(name, if path.is_absolute() { path } else { base.join(path) }, kind);
    spec.config = entry.config;
    spec.start_timeout = seconds(entry.start_timeout, "start_timeout", DEFAULT_START_TIMEOUT)?;
    spec.shutdown_grace = seconds(entry.shutdown_grace, "shutdown_grace", DEFAULT_SHUTDOWN_GRACE)?;
    if let Some(limit) = entry.call_timeout {
        spec.connection.call_timeout = call_timeout(limit).map_err(|e| format!("{at}.call_timeout: {e}"))?;
    }
    if let Some(bytes) = entry.max_message_size {
        spec.connection.max_message_bytes = message_size(bytes).map_err(|e| format!("{at}.max_message_size: {e}"))?;
    }
    spec.connection.allow_non_loopback = entry.allow_non_loopback;
    spec.launch = LaunchOptions {
        magic_cookie_key: entry.magic_cookie_key.unwrap_or(defaults.magic_cookie_key),
        magic_cookie_value: entry.magic_cookie_value.unwrap_or(defaults.magic_cookie_value),
        protocol_versions: entry.protocol_versions.unwrap_or(defaults.protocol_versions),
        env: entry.env.into_iter().collect(),
        clean_env: entry.clean_env,
        ..defaults
    };
    spec.launch.validate().map_err(|e| format!("{at}: {e}"))?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Vec<PluginSpec>> {
        from_value(&serde_json::from_str(json).unwrap(), "test", Path::new("/base"), &mut no_entry_points)
            .map(|c| c.plugins)
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
    fn keys_are_located_in_block_and_flow_yaml() {
        let text =
            "plugins:\n  llm_providers:\n    a: {path: ./a}\n    x:\n      path: ./x\n      config: {api_key: k}\n";
        assert_eq!(locate_key(text, "plugins.llm_providers.x"), Some((4, 5)));
        assert_eq!(locate_key(text, "plugins.llm_providers.x.config.api_key"), Some((6, 16)));
        assert_eq!(locate_key(text, "plugins.llm_providers.a.path"), Some((3, 9)));
        assert_eq!(locate_key(text, "plugins.nothing"), None);
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
}
