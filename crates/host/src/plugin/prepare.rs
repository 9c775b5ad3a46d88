//! Everything about a start that can be checked without launching: options, path, working
//! directory, executable bit, and the manifest, whose defaults complete the configuration
//! (docs/protocol.md §7.6). `pm.validate()` runs only this.

use super::spec::{PluginSpec, Protocol};
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest};
use std::path::{Path, PathBuf};

/// Returns the completed spec and the plugin's manifest, if it has one.
pub fn prepare(mut spec: PluginSpec) -> Result<(PluginSpec, Option<Manifest>)> {
    let name = spec.name.clone();
    spec.launch.validate().map_err(|e| Error::config(format!("plugin {name:?}: {e}")))?;
    match &spec.protocol {
        Protocol::McpHttp { url } => {
            check_url(&name, url)?;
            return Ok((spec, None));
        }
        // An MCP server's command is what a shell would run: `npx`, `python`, `uvx` are looked
        // up on PATH (docs/protocol.md §10.1).
        Protocol::McpStdio => spec.path = on_path(&name, &spec.path)?,
        // A go-plugin executable is relative to the host's working directory, never looked up
        // on PATH.
        Protocol::Grpc => {}
    }
    spec.path = std::path::absolute(&spec.path)
        .map_err(|e| Error::start(&name, format!("bad path {}: {e}", spec.path.display()), vec![]))?;
    if let Some(dir) = &spec.launch.working_dir {
        if !dir.is_dir() {
            return Err(Error::start(&name, format!("working directory {} does not exist", dir.display()), vec![]));
        }
    }
    check_executable(&name, &spec.path)?;
    if spec.protocol.is_mcp() {
        return Ok((spec, None)); // MCP servers describe themselves at initialize, not in a manifest
    }
    // A discovered plugin's manifest was read when it was found: it is not read again.
    let manifest = match spec.manifest.take() {
        Some(found) => Some(found),
        None => manifest::read_for(&spec.path)?,
    };
    if let Some(manifest) = &manifest {
        manifest.apply(&manifest::path_for(&spec.path), spec.kind, &mut spec.config)?;
        // The configuration entry's checksum wins over the manifest's (docs/protocol.md §1.5).
        spec.trust.sha256 = spec.trust.sha256.or(manifest.sha256());
        check_permissions(&spec, manifest)?;
    }
    spec.launch.granted_env = spec.protections.grants.env.clone();
    Ok((spec, manifest))
}

/// What the manifest asks for must be granted by the configuration (docs/security.md
/// "Permissions"): refused at load with the difference, before anything runs.
fn check_permissions(spec: &PluginSpec, manifest: &Manifest) -> Result<()> {
    let Some(asked) = &manifest.permissions else { return Ok(()) };
    let manifest_path = manifest::path_for(&spec.path);
    let asked = asked.resolve(manifest_path.parent().unwrap_or(Path::new("/")));
    let missing = spec.protections.grants.missing(&asked);
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::config(format!(
        "plugin {:?}: its manifest {} asks for permissions its configuration does not grant: {}. \
         Grant them in its entry's `grants:` (or pm.load(..., grants=...)), or remove them from the manifest",
        spec.name,
        manifest_path.display(),
        missing.join(", ")
    )))
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

/// `command` itself when it names a path (it has a `/`), else the first executable of that name
/// in the directories of PATH.
fn on_path(name: &str, command: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if command.as_os_str().is_empty() {
        return Err(Error::config(format!("plugin {name:?}: the MCP server's command is empty")));
    }
    if command.components().count() > 1 || command.is_absolute() {
        return Ok(command.to_owned());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).map(|dir| dir.join(command)).find(|candidate| {
        std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    });
    found.ok_or_else(|| {
        Error::start(
            name,
            format!("command {:?} not found on PATH (give its full path, or add its directory to PATH)", command),
            vec![],
        )
    })
}

/// Streamable HTTP needs an http(s) URL with a host.
fn check_url(name: &str, url: &str) -> Result<()> {
    let parsed: std::result::Result<http::Uri, _> = url.parse();
    match parsed {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => Ok(()),
        _ => Err(Error::config(format!(
            "plugin {name:?}: url {url:?} is not an http:// or https:// URL of an MCP server (e.g. http://127.0.0.1:8000/mcp)"
        ))),
    }
}
