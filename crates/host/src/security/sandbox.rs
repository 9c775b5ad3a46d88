//! Filesystem and network confinement of one plugin (docs/security.md "Sandbox"): Landlock
//! rules built by the host and applied by the plugin's side just before its exec, and an
//! optional network namespace of its own (no network at all; its unix socket still works, it
//! is a file).
//!
//! On a kernel without a feature, what is not enforced is named in a warning, or the start is
//! refused when the configuration says `require: true`.

use std::path::{Path, PathBuf};

/// The `sandbox:` settings of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sandbox {
    /// Whether paths are confined at all (`read_only` or `read_write` given, or paths granted).
    pub filesystem: bool,
    /// Read (and execute) beneath these, on top of the system's directories.
    pub read_only: Vec<PathBuf>,
    /// Read, write, create and remove beneath these.
    pub read_write: Vec<PathBuf>,
    /// TCP ports it may connect to; `None`: any.
    pub tcp_connect: Option<Vec<u16>>,
    /// `false`: a network namespace of its own, with no interface but a loopback that is down.
    pub network: bool,
    /// Refuse to start the plugin rather than warn when the kernel cannot enforce something.
    pub require: bool,
}

/// Directories every sandboxed plugin may read: programs, libraries, configuration, and the
/// kernel's views of the process. `/dev` is writable (`/dev/null`, a terminal).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const SYSTEM_READ_ONLY: &[&str] =
    &["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt", "/proc", "/sys"];
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const SYSTEM_READ_WRITE: &[&str] = &["/dev"];

/// What the plugin's side applies before its exec, and what could not be enforced here.
#[derive(Debug, Default)]
pub struct Prepared {
    /// A Landlock ruleset to restrict the plugin with.
    pub ruleset: Option<std::os::fd::OwnedFd>,
    pub new_network_namespace: bool,
    /// Each names exactly what is not enforced, and why.
    pub unenforced: Vec<String>,
}

/// Where one plugin process runs from: its own paths are allowed on top of the settings.
pub struct PluginPaths<'a> {
    pub executable: &'a Path,
    /// Where `executable` resolves to, symlinks followed.
    pub resolved_executable: &'a Path,
    pub socket_dir: &'a Path,
    pub working_dir: Option<&'a Path>,
}

impl Sandbox {
    /// Nothing beyond the system's directories and its own; any TCP port; the network.
    pub fn open() -> Sandbox {
        Sandbox { network: true, ..Default::default() }
    }

    /// With the paths and ports granted to the plugin added.
    pub fn with_grants(&self, grants: &super::permissions::Permissions) -> Sandbox {
        let mut sandbox = self.clone();
        sandbox.read_only.extend(grants.read.iter().cloned());
        sandbox.read_write.extend(grants.write.iter().cloned());
        sandbox.filesystem |= !grants.read.is_empty() || !grants.write.is_empty();
        if let Some(ports) = &mut sandbox.tcp_connect {
            ports.extend(&grants.tcp_connect);
        }
        sandbox
    }

    /// Builds what `plugin`'s side applies; fails (naming the rule) when something cannot be
    /// enforced and `require` is set.
    pub fn prepare(&self, plugin: &str, paths: &PluginPaths<'_>) -> Result<Prepared, String> {
        let mut prepared = Prepared::default();
        let refuse_or_warn = |prepared: &mut Prepared, what: String| {
            if self.require {
                Err(format!("plugin {plugin:?}: sandbox.require is true, but {what}"))
            } else {
                prepared.unenforced.push(what);
                Ok(())
            }
        };
        if self.filesystem || self.tcp_connect.is_some() {
            match landlock_ruleset(self, paths) {
                Ok((fd, gaps)) => {
                    prepared.ruleset = fd;
                    for gap in gaps {
                        refuse_or_warn(&mut prepared, gap)?;
                    }
                }
                Err(why) => refuse_or_warn(&mut prepared, why)?,
            }
        }
        if !self.network {
            if may_create_network_namespace() {
                prepared.new_network_namespace = true;
            } else {
                refuse_or_warn(
                    &mut prepared,
                    "sandbox.network: false is not enforced: creating a network namespace needs CAP_SYS_ADMIN, \
                     which the host does not have"
                        .into(),
                )?;
            }
        }
        Ok(prepared)
    }
}

/// The Landlock ABI of the running kernel (0: none).
pub fn landlock_abi() -> i64 {
    #[cfg(target_os = "linux")]
    {
        const LANDLOCK_CREATE_RULESET_VERSION: libc::c_ulong = 1;
        // SAFETY: asks the version only; no memory is passed.
        let abi = unsafe {
            libc::syscall(libc::SYS_landlock_create_ruleset, std::ptr::null::<u8>(), 0, LANDLOCK_CREATE_RULESET_VERSION)
        };
        abi.max(0)
    }
    #[cfg(not(target_os = "linux"))]
    0
}

#[cfg(target_os = "linux")]
fn landlock_ruleset(
    sandbox: &Sandbox,
    paths: &PluginPaths<'_>,
) -> Result<(Option<std::os::fd::OwnedFd>, Vec<String>), String> {
    use landlock::{
        path_beneath_rules, Access, AccessFs, AccessNet, NetPort, Ruleset, RulesetAttr, RulesetCreatedAttr, Scope, ABI,
    };
    let kernel = landlock_abi();
    if kernel < 1 {
        return Err("sandbox paths are not enforced: this kernel has no Landlock (Linux 5.13 or later, with \
                    landlock among the LSMs)"
            .into());
    }
    let abi = ABI::from(kernel as i32);
    let mut gaps = Vec::new();
    let fail = |e: landlock::RulesetError| format!("cannot build the Landlock rules: {e}");
    let mut ruleset = Ruleset::default();
    if sandbox.filesystem {
        ruleset = ruleset.handle_access(AccessFs::from_all(abi)).map_err(fail)?;
    }
    if sandbox.tcp_connect.is_some() {
        if kernel >= 4 {
            ruleset = ruleset.handle_access(AccessNet::ConnectTcp).map_err(fail)?;
        } else {
            gaps.push(format!(
                "sandbox.tcp_connect is not enforced: Landlock ABI {kernel} cannot restrict TCP (4 can)"
            ));
        }
    }
    if kernel >= 6 {
        // Signals to processes outside (the host among them) and abstract sockets made outside.
        ruleset = ruleset.scope(Scope::from_all(abi)).map_err(fail)?;
    }
    let own_dirs = [paths.executable.parent(), paths.resolved_executable.parent(), paths.working_dir];
    let read_only = SYSTEM_READ_ONLY
        .iter()
        .map(PathBuf::from)
        .chain(own_dirs.into_iter().flatten().map(Path::to_path_buf))
        .chain(sandbox.read_only.iter().cloned());
    let read_write = SYSTEM_READ_WRITE
        .iter()
        .map(PathBuf::from)
        .chain([paths.socket_dir.to_path_buf()])
        .chain(sandbox.read_write.iter().cloned());
    let mut created = ruleset.create().map_err(fail)?;
    if sandbox.filesystem {
        created = created
            .add_rules(path_beneath_rules(read_only, AccessFs::from_read(abi)))
            .map_err(fail)?
            .add_rules(path_beneath_rules(read_write, AccessFs::from_all(abi)))
            .map_err(fail)?;
    }
    for port in sandbox.tcp_connect.iter().flatten().filter(|_| kernel >= 4) {
        created = created.add_rule(NetPort::new(*port, AccessNet::ConnectTcp)).map_err(fail)?;
    }
    let fd: Option<std::os::fd::OwnedFd> = created.into();
    Ok((fd, gaps))
}

#[cfg(not(target_os = "linux"))]
fn landlock_ruleset(
    _sandbox: &Sandbox,
    _paths: &PluginPaths<'_>,
) -> Result<(Option<std::os::fd::OwnedFd>, Vec<String>), String> {
    Err("sandbox paths and ports are not enforced: Landlock is Linux's".into())
}

/// Creating a network namespace needs CAP_SYS_ADMIN (unprivileged user namespaces would make
/// the plugin's files look owned by nobody).
fn may_create_network_namespace() -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return false };
        let effective = status.lines().find_map(|line| line.strip_prefix("CapEff:")).map(str::trim);
        const CAP_SYS_ADMIN: u32 = 21;
        effective.and_then(|hex| u64::from_str_radix(hex, 16).ok()).is_some_and(|caps| caps & (1 << CAP_SYS_ADMIN) != 0)
    }
    #[cfg(not(target_os = "linux"))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths<'a>(dir: &'a Path) -> PluginPaths<'a> {
        PluginPaths {
            executable: Path::new("/usr/bin/true"),
            resolved_executable: Path::new("/usr/bin/true"),
            socket_dir: dir,
            working_dir: None,
        }
    }

    #[test]
    fn a_ruleset_is_built_where_the_kernel_has_landlock() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox { filesystem: true, tcp_connect: Some(vec![443]), network: true, ..Default::default() };
        match sandbox.prepare("p", &paths(dir.path())) {
            Ok(prepared) if landlock_abi() >= 4 => {
                assert!(prepared.ruleset.is_some());
                assert!(prepared.unenforced.is_empty(), "{:?}", prepared.unenforced);
            }
            Ok(prepared) => assert!(!prepared.unenforced.is_empty()),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn require_turns_a_gap_into_a_refusal_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox { filesystem: true, require: true, network: true, ..Default::default() };
        let outcome = sandbox.prepare("p", &paths(dir.path()));
        if landlock_abi() >= 1 {
            assert!(outcome.is_ok());
        } else {
            assert!(outcome.unwrap_err().contains("sandbox.require"));
        }
    }
}
