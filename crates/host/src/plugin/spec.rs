//! What a plugin is started from: its name, executable, type, configuration and the settings of
//! its launch, start, shutdown and connection.

use crate::kind::PluginKind;
use crate::launch::LaunchOptions;
use crate::manifest::Manifest;
use crate::transport::ConnectionSettings;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// go-plugin's grace period between asking a plugin to exit and killing it.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything needed to start one plugin.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    pub name: String,
    pub path: PathBuf,
    pub kind: PluginKind,
    /// Sent with `Initialize`: scalars stringified, nested values as JSON text.
    pub config: BTreeMap<String, serde_json::Value>,
    pub launch: LaunchOptions,
    pub start_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Call deadline, message size limit, which addresses are accepted.
    pub connection: ConnectionSettings,
    /// The manifest the plugin was found by (discovery, entry points), which gave its name and
    /// type: the start checks that one rather than reading the file again. `None`: the start
    /// reads `<executable>.plugin.yaml`, if there is one (docs/protocol.md §7.6).
    pub manifest: Option<Manifest>,
}

impl PluginSpec {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, kind: PluginKind) -> Self {
        PluginSpec {
            name: name.into(),
            path: path.into(),
            kind,
            config: BTreeMap::new(),
            launch: LaunchOptions::default(),
            start_timeout: DEFAULT_START_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            connection: ConnectionSettings::default(),
            manifest: None,
        }
    }

    /// The plugin `manifest` describes, at `executable`: named and typed as the manifest says.
    pub fn found_by(manifest: Manifest, executable: impl Into<PathBuf>) -> Self {
        let mut spec = PluginSpec::new(manifest.name.clone(), executable, manifest.kind());
        spec.manifest = Some(manifest);
        spec
    }
}
