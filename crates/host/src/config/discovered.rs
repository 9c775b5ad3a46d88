//! `plugin_discovery`: the plugins found by their manifests in configured directories and
//! advertised by installed packages, added to the configured ones. Explicit entries win over
//! discovered plugins of the same name.

use super::deserialize::deserialize_at;
use super::invalid::Invalid;
use crate::error::Result;
use crate::plugin::PluginSpec;
use std::path::{Path, PathBuf};

/// Lists plugins that installed packages advertise (Python entry points, group
/// `hector_plugins`), as (label for messages, executable path). Supplied by the embedding
/// layer, since the core knows nothing of Python packaging.
pub type EntryPoints<'a> = &'a mut dyn FnMut() -> std::result::Result<Vec<(String, PathBuf)>, String>;

/// For embedders without entry points.
pub fn no_entry_points() -> std::result::Result<Vec<(String, PathBuf)>, String> {
    Ok(Vec::new())
}

/// The plugins the discovery settings at key path `at` find, except those named in `taken`.
/// Errors of the settings themselves are placed in `origin`; a broken manifest is an error of
/// the manifest's own file.
pub(super) fn discovered_plugins(
    settings: &serde_json::Value,
    at: &str,
    base: &Path,
    taken: &[String],
    entry_points: EntryPoints<'_>,
    origin: &str,
) -> Result<Vec<PluginSpec>> {
    let err = |invalid: Invalid| invalid.in_origin(origin);
    let settings: crate::discovery::Discovery = deserialize_at(settings, at).map_err(err)?;
    if !settings.enabled {
        return Ok(Vec::new());
    }
    let mut discovered = crate::discovery::discover(&settings, base)?;
    if settings.entry_points {
        let listed = entry_points().map_err(|e| err(Invalid::at(at, format!("entry points: {e}"))))?;
        for (label, executable) in listed {
            let manifest = crate::manifest::read_for(&executable)?.ok_or_else(|| {
                err(Invalid::at(
                    at,
                    format!(
                        "entry point {label} names {}, which has no manifest {}",
                        executable.display(),
                        crate::manifest::path_for(&executable).display()
                    ),
                ))
            })?;
            discovered.push(PluginSpec::found_by(manifest, executable));
        }
    }
    // The same file reached by a path and an entry point is one plugin. (Two names that link to
    // one binary are two plugins: each has its own manifest.)
    let mut seen = std::collections::HashSet::new();
    discovered.retain(|spec| seen.insert(crate::discovery::file_identity(&spec.path)));
    let mut found: Vec<PluginSpec> = Vec::new();
    for spec in discovered {
        if taken.contains(&spec.name) {
            continue;
        }
        if let Some(other) = found.iter().find(|s| s.name == spec.name) {
            return Err(err(Invalid::at(
                at,
                format!(
                    "two discovered plugins are named {:?}: {} and {}",
                    spec.name,
                    other.path.display(),
                    spec.path.display()
                ),
            )));
        }
        found.push(spec);
    }
    Ok(found)
}
