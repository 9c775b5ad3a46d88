//! Plugin manifests: `<executable>.plugin.yaml` next to the executable (docs/protocol.md §7.6).
//!
//! Hector read these and enforced nothing. Here a manifest is checked before launch: its type
//! must match, `hector_version` is a semver requirement on this library's version, required
//! config keys must be present, and defaults fill in what the configuration leaves out.

use crate::error::{Error, Result};
use crate::kind::PluginKind;
use crate::security::permissions::DeclaredPermissions;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Manifests are small; anything bigger is refused before parsing.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Deserialize)]
struct ManifestFile {
    plugin: Manifest,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub protocol: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
    /// A semver requirement on this library's version, e.g. `">=0.1.0"`.
    #[serde(default)]
    pub hector_version: Option<String>,
    #[serde(default)]
    pub config_schema: ConfigSchema,
    #[serde(default)]
    pub capabilities: BTreeMap<String, serde_json::Value>,
    /// What the plugin needs: paths, TCP ports, host variables (docs/security.md
    /// "Permissions"); relative paths are relative to the manifest's directory.
    #[serde(default)]
    pub permissions: Option<DeclaredPermissions>,
    /// The executable's expected SHA-256, `sha256:<hex>` (docs/protocol.md §1.5); a
    /// configuration entry's wins over it.
    #[serde(default)]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigSchema {
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub optional: Vec<String>,
    #[serde(default)]
    pub defaults: BTreeMap<String, serde_json::Value>,
}

/// Where the manifest of `executable` lives.
pub fn path_for(executable: &Path) -> PathBuf {
    let mut name = executable.as_os_str().to_owned();
    name.push(".plugin.yaml");
    PathBuf::from(name)
}

/// Reads the manifest next to `executable`, if there is one.
pub fn read_for(executable: &Path) -> Result<Option<Manifest>> {
    let path = path_for(executable);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(manifest_error(&path, format!("cannot read it: {e}"))),
        Ok(meta) if !meta.is_file() => Err(manifest_error(&path, "it is not a regular file".into())),
        Ok(meta) if meta.len() > MAX_MANIFEST_BYTES => Err(manifest_error(
            &path,
            format!("it is {} bytes; a manifest may be at most {MAX_MANIFEST_BYTES}", meta.len()),
        )),
        Ok(_) => parse(
            &path,
            &std::fs::read_to_string(&path).map_err(|e| manifest_error(&path, format!("cannot read it: {e}")))?,
        )
        .map(Some),
    }
}

/// Parses manifest text; `path` only names it in errors.
pub fn parse(path: &Path, text: &str) -> Result<Manifest> {
    let file: ManifestFile = crate::yaml::from_str(text).map_err(|e| {
        let position =
            e.line.zip(e.column).map(|(line, column)| format!("line {line}, column {column}: ")).unwrap_or_default();
        manifest_error(path, format!("{position}{}", e.message))
    })?;
    let manifest = file.plugin;
    crate::names::check_name(&manifest.name).map_err(|e| manifest_error(path, format!("plugin.name: {e}")))?;
    if manifest.protocol != "grpc" {
        return Err(manifest_error(
            path,
            format!("plugin.protocol is {:?}; only \"grpc\" plugins can be loaded", manifest.protocol),
        ));
    }
    manifest.kind.parse::<PluginKind>().map_err(|e| manifest_error(path, format!("plugin.type: {e}")))?;
    if let Some(requirement) = &manifest.hector_version {
        semver::VersionReq::parse(requirement).map_err(|e| {
            manifest_error(path, format!("plugin.hector_version {requirement:?} is not a semver requirement: {e}"))
        })?;
    }
    if let Some(digest) = &manifest.sha256 {
        crate::security::trust::parse_sha256(digest)
            .map_err(|e| manifest_error(path, format!("plugin.sha256: {e}")))?;
    }
    Ok(manifest)
}

impl Manifest {
    pub fn kind(&self) -> PluginKind {
        self.kind.parse().expect("checked when parsed")
    }

    /// The executable's expected SHA-256, if the manifest gives one.
    pub fn sha256(&self) -> Option<[u8; 32]> {
        self.sha256.as_deref().map(|digest| crate::security::trust::parse_sha256(digest).expect("checked when parsed"))
    }

    /// Checks the manifest against how the plugin is being loaded, and completes `config`
    /// with the manifest's defaults. `path` is the manifest's, for messages.
    pub fn apply(&self, path: &Path, kind: PluginKind, config: &mut BTreeMap<String, serde_json::Value>) -> Result<()> {
        if self.kind() != kind {
            return Err(manifest_error(
                path,
                format!(
                    "the plugin is {}, but it is being loaded as {}",
                    self.kind().with_article(),
                    kind.with_article()
                ),
            ));
        }
        if let Some(requirement) = &self.hector_version {
            let ours = semver::Version::parse(env!("CARGO_PKG_VERSION")).expect("our version is semver");
            let wanted = semver::VersionReq::parse(requirement).expect("checked when parsed");
            if !wanted.matches(&ours) {
                return Err(manifest_error(
                    path,
                    format!("the plugin needs hector_version {requirement:?}, but this is hector-plugins {ours}"),
                ));
            }
        }
        for (key, value) in &self.config_schema.defaults {
            config.entry(key.clone()).or_insert_with(|| value.clone());
        }
        let missing: Vec<&str> = self
            .config_schema
            .required
            .iter()
            .filter(|key| config.get(*key).is_none_or(serde_json::Value::is_null))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(manifest_error(path, format!("required config key(s) missing: {}", missing.join(", "))));
        }
        Ok(())
    }

    /// A capability flag: `true`, `"true"`, `1` and `"yes"` all count as set.
    pub fn capability(&self, name: &str) -> Option<bool> {
        self.capabilities.get(name).map(|value| match value {
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
            serde_json::Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "1"),
            _ => false,
        })
    }
}

fn manifest_error(path: &Path, message: String) -> Error {
    Error::Config {
        message: format!("manifest {}: {message}", path.display()),
        file: Some(path.display().to_string()),
        line: None,
        column: None,
        key: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "plugin:\n  name: echo\n  version: 1.0.0\n  type: llm_provider\n  protocol: grpc\n  hector_version: \">=0.1.0\"\n  config_schema: {required: [api_key], defaults: {model: small, retries: 3}}\n  capabilities: {streaming: false, tools: \"true\"}\n";

    fn manifest(text: &str) -> Result<Manifest> {
        parse(Path::new("x.plugin.yaml"), text)
    }

    #[test]
    fn defaults_fill_in_and_required_keys_are_enforced() {
        let m = manifest(GOOD).unwrap();
        let mut config = BTreeMap::from([
            ("api_key".to_string(), serde_json::json!("k")),
            ("retries".to_string(), serde_json::json!(5)),
        ]);
        m.apply(Path::new("x"), PluginKind::Llm, &mut config).unwrap();
        assert_eq!(config["model"], "small");
        assert_eq!(config["retries"], 5, "explicit config wins over defaults");
        let error = m.apply(Path::new("x"), PluginKind::Llm, &mut BTreeMap::new()).unwrap_err();
        assert!(error.to_string().contains("required config key(s) missing: api_key"), "{error}");
        assert_eq!(m.capability("streaming"), Some(false));
        assert_eq!(m.capability("tools"), Some(true));
        assert_eq!(m.capability("vision"), None);
        assert_eq!(m.sha256(), None);
        let pinned = manifest(
            &GOOD.replace("  protocol: grpc\n", &format!("  protocol: grpc\n  sha256: sha256:{}\n", "0f".repeat(32))),
        );
        assert_eq!(pinned.unwrap().sha256(), Some([0x0f; 32]));
    }

    #[test]
    fn refusals_name_the_problem() {
        let cases = [
            (GOOD.replace("llm_provider", "llm_thing"), "unknown plugin type"),
            (GOOD.replace("protocol: grpc", "protocol: netrpc"), "only \"grpc\""),
            (GOOD.replace(">=0.1.0", "not a version"), "not a semver requirement"),
            (GOOD.replace("  name: echo\n", ""), "name"),
            (GOOD.replace("name: echo", "name: ../echo"), "plugin.name: the plugin name \"../echo\" contains"),
            ("plugin: [1, 2]".to_string(), "plugin"),
            ("plugin:\n  name: [unclosed".to_string(), "x.plugin.yaml"),
            (
                GOOD.replace("  protocol: grpc\n", "  protocol: grpc\n  sha256: abc\n"),
                "plugin.sha256: \"abc\" is not a SHA-256",
            ),
        ];
        for (text, expected) in cases {
            let error = manifest(&text).unwrap_err().to_string();
            assert!(error.contains(expected) && error.contains("x.plugin.yaml"), "{expected:?} not in {error}");
        }
        let m = manifest(&GOOD.replace(">=0.1.0", ">=99.0.0")).unwrap();
        let mut config = BTreeMap::from([("api_key".to_string(), serde_json::json!("k"))]);
        let error = m.apply(Path::new("x"), PluginKind::Llm, &mut config).unwrap_err().to_string();
        assert!(error.contains("needs hector_version \">=99.0.0\""), "{error}");
        let error =
            manifest(GOOD).unwrap().apply(Path::new("x"), PluginKind::Database, &mut config).unwrap_err().to_string();
        assert!(error.contains("is an llm_provider, but it is being loaded as a database_provider"), "{error}");
    }
}
