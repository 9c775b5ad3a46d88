//! Plugin discovery: `<executable>.plugin.yaml` manifests found in configured directories.
//! (Entry points of installed Python packages are listed by the embedding layer; see
//! `config::EntryPoints`.)

use crate::error::Result;
use crate::plugin::PluginSpec;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `plugin_discovery`: where to look for `<executable>.plugin.yaml` manifests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discovery {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub scan_subdirectories: bool,
    /// Also plugins that installed Python packages advertise (entry point group `hector_plugins`).
    #[serde(default = "yes")]
    pub entry_points: bool,
}

fn yes() -> bool {
    true
}

/// How deep `scan_subdirectories` goes; symlinked directories are not followed.
const MAX_SCAN_DEPTH: usize = 8;

/// Finds manifests in the discovery paths; each names its executable (the manifest path minus
/// `.plugin.yaml`). Missing directories are skipped; a broken manifest is an error.
pub fn discover(settings: &Discovery, base: &Path) -> Result<Vec<PluginSpec>> {
    let mut manifests = Vec::new();
    for raw in &settings.paths {
        let dir = expand_home(raw);
        let dir = if dir.is_absolute() { dir } else { base.join(dir) };
        collect_manifests(&dir, if settings.scan_subdirectories { MAX_SCAN_DEPTH } else { 0 }, &mut manifests);
    }
    let mut seen = std::collections::HashSet::new();
    let mut specs = Vec::new();
    for manifest_path in manifests {
        let executable = PathBuf::from(manifest_path.to_string_lossy().trim_end_matches(".plugin.yaml").to_string());
        // The same plugin reached through two paths is loaded once.
        let identity = std::fs::canonicalize(&manifest_path).unwrap_or_else(|_| manifest_path.clone());
        if !seen.insert(identity) {
            continue;
        }
        let Some(manifest) = crate::manifest::read_for(&executable)? else { continue };
        specs.push(PluginSpec::found_by(manifest, executable));
    }
    Ok(specs)
}

/// A path with its directory resolved, but not the file itself (which may be a symlink).
pub fn file_identity(path: &Path) -> PathBuf {
    match (path.parent().and_then(|dir| std::fs::canonicalize(dir).ok()), path.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

fn collect_manifests(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else { continue };
        if file_type.is_dir() {
            if depth > 0 {
                collect_manifests(&path, depth - 1, out);
            }
        } else if path.to_string_lossy().ends_with(".plugin.yaml") {
            out.push(path);
        }
    }
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ if path == "~" => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}
