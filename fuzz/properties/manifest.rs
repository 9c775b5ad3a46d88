//! The property the `manifest` fuzz target checks, and the replay test in
//! crates/host/tests/fuzz_regressions.rs re-checks: see docs/fuzzing.md.

use hector_plugins_host::manifest::parse;
use std::collections::BTreeMap;
use std::path::Path;

/// The input is the text of an `<executable>.plugin.yaml` (docs/protocol.md §7.6); a file that
/// is not UTF-8 is refused before parsing, so such inputs are skipped. Parsing never panics
/// (the YAML budgets stop alias bombs: crates/host/src/yaml.rs); a refusal names the file; and
/// a manifest that parses can be applied as its own type without panicking (the checks that
/// `kind()` and `apply` rely on were made by `parse`).
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz.plugin.yaml");
    let manifest = match parse(path, text) {
        Ok(manifest) => manifest,
        Err(error) => {
            let message = error.to_string();
            assert!(message.contains("fuzz.plugin.yaml"), "the error does not name the file: {message}");
            return;
        }
    };
    let mut config = BTreeMap::new();
    // Refusals (another version wanted, required keys missing) are fine; panics are not.
    let _ = manifest.apply(path, manifest.kind(), &mut config);
    for key in &manifest.config_schema.required {
        config.insert(key.clone(), serde_json::Value::Bool(true));
    }
    let _ = manifest.apply(path, manifest.kind(), &mut config);
    for name in manifest.capabilities.keys() {
        assert!(manifest.capability(name).is_some(), "capability {name:?} listed but not found");
    }
}
