//! What a configuration declares, as the rest of the core sees it: plugin specs, in-process
//! providers, fallback chains, and the warnings reading it produced.

use super::security::SecurityDefaults;
use crate::kind::PluginKind;
use crate::plugin::PluginSpec;

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
    /// The `agents` section, checked and expanded: agent names to their settings, which the
    /// Python `Agent` reads (docs/agents.md).
    pub agents: serde_json::Map<String, serde_json::Value>,
    /// The top-level `hooks` section, checked and expanded: hook points to dotted paths, for
    /// every agent.
    pub hooks: serde_json::Map<String, serde_json::Value>,
    /// The `plugin_security` section: what a plugin loaded later in code (`pm.load`) gets too.
    pub security: SecurityDefaults,
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
