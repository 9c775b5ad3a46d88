//! The property the `config` fuzz target checks, and the replay test in
//! crates/host/tests/fuzz_regressions.rs re-checks: see docs/fuzzing.md.

use hector_plugins_host::config::{load_str, no_entry_points};
use hector_plugins_host::names::check_name;
use hector_plugins_host::Error;
use std::path::Path;

const ORIGIN: &str = "fuzz/hector.yaml";

/// Relative plugin and discovery paths resolve under this directory, which does not exist, so
/// `plugin_discovery` finds nothing instead of walking the machine's disk.
const BASE: &str = "/nonexistent-hector-fuzz-base";

/// The input is the text of a hector.yaml; a file that is not UTF-8 is refused before parsing,
/// so such inputs are skipped. Reading it never panics (the YAML budgets stop alias bombs:
/// crates/host/src/yaml.rs); a refusal is a configuration error that starts with the file's
/// name; and every name an accepted configuration declares passes the plugin-name rule.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if discovery_leaves_base(text) {
        return;
    }
    match load_str(text, ORIGIN, Path::new(BASE), &mut no_entry_points) {
        Err(Error::Config { message, file, .. }) => {
            assert_eq!(file.as_deref(), Some(ORIGIN));
            assert!(message.starts_with(ORIGIN), "the error does not start with the file's name: {message}");
        }
        Err(other) => panic!("not a configuration error: {other}"),
        Ok(config) => {
            let plugins = config.plugins.iter().map(|p| &p.name);
            let fallbacks = config.fallbacks.iter().map(|f| &f.name);
            let builtins = config.builtins.iter().map(|b| &b.name);
            for name in plugins.chain(fallbacks).chain(builtins) {
                assert!(check_name(name).is_ok(), "accepted the name {name:?}");
            }
        }
    }
}

/// Whether a discovery path could point outside [`BASE`] (absolute, `~`, or from the
/// environment): such inputs would scan real directories, which is not parsing.
fn discovery_leaves_base(text: &str) -> bool {
    // A `plugin_discovery` key is spelt out, or built with a double-quoted escape: text with
    // neither needs no second parse (a parse can take the whole YAML budget).
    if !text.contains("discovery") && !text.contains('\\') {
        return false;
    }
    let Ok(serde_json::Value::Object(root)) = hector_plugins_host::yaml::from_str::<serde_json::Value>(text) else {
        return false;
    };
    let under_plugins = root.get("plugins").and_then(|plugins| plugins.get("plugin_discovery"));
    for settings in [root.get("plugin_discovery"), under_plugins].into_iter().flatten() {
        let Some(serde_json::Value::Array(paths)) = settings.get("paths") else { continue };
        if paths.iter().filter_map(serde_json::Value::as_str).any(|p| p.starts_with(['/', '~']) || p.contains('$')) {
            return true;
        }
    }
    false
}
