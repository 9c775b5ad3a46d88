//! Everything about a start that can be checked without launching: options, path, working
//! directory, executable bit, and the manifest, whose defaults complete the configuration
//! (docs/protocol.md §7.6). `pm.validate()` runs only this.

use super::spec::PluginSpec;
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest};
use std::path::Path;

/// Returns the completed spec and the plugin's manifest, if it has one.
pub fn prepare(mut spec: PluginSpec) -> Result<(PluginSpec, Option<Manifest>)> {
    let name = spec.name.clone();
    spec.launch.validate().map_err(|e| Error::config(format!("plugin {name:?}: {e}")))?;
    // Relative to the host's working directory, never looked up on PATH.
    spec.path = std::path::absolute(&spec.path)
        .map_err(|e| Error::start(&name, format!("bad path {}: {e}", spec.path.display()), vec![]))?;
    if let Some(dir) = &spec.launch.working_dir {
        if !dir.is_dir() {
            return Err(Error::start(&name, format!("working directory {} does not exist", dir.display()), vec![]));
        }
    }
    check_executable(&name, &spec.path)?;
    // A discovered plugin's manifest was read when it was found: it is not read again.
    let manifest = match spec.manifest.take() {
        Some(found) => Some(found),
        None => manifest::read_for(&spec.path)?,
    };
    if let Some(manifest) = &manifest {
        manifest.apply(&manifest::path_for(&spec.path), spec.kind, &mut spec.config)?;
    }
    Ok((spec, manifest))
}

fn check_executable(name: &str, path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path)
        .map_err(|e| Error::start(name, format!("executable {} not found: {e}", path.display()), vec![]))?;
    if !metadata.is_file() {
        return Err(Error::start(name, format!("{} is not a file", path.display()), vec![]));
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        return Err(Error::start(name, format!("{} is not executable (chmod +x it)", path.display()), vec![]));
    }
    Ok(())
}
