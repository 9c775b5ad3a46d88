//! Starting a plugin process (docs/protocol.md §1.1–§1.4): its environment, a private socket
//! directory, and the launcher that starts and guards the process: the keeper on Linux
//! (`crate::keeper`), the portable launcher elsewhere (`crate::portable_launcher`).

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::security::confine::ChildConfinement;
use crate::security::env::EnvPolicy;
use crate::supervised::{Command, Executable, PluginProcess};
use hector_plugins_protocol::env;

/// The one place the launcher is chosen. The portable one cannot stop a plugin that outlives a
/// killed host (docs/protocol.md §1.4), so Linux keeps the keeper.
#[cfg(target_os = "linux")]
use crate::keeper as platform_launcher;
#[cfg(not(target_os = "linux"))]
use crate::portable_launcher as platform_launcher;

/// What the host tells the plugin through its environment.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    pub magic_cookie_key: String,
    pub magic_cookie_value: String,
    /// App protocol versions the host accepts; the plugin picks one.
    pub protocol_versions: Vec<u32>,
    pub min_port: u16,
    pub max_port: u16,
    /// Extra variables for this plugin. They win over inherited ones (documented choice).
    pub env: Vec<(String, String)>,
    /// Arguments after the executable's name: MCP servers' `args` (go-plugin starts plugins
    /// with none).
    pub args: Vec<String>,
    /// Start from an empty environment: nothing of the host's, whatever the allowlist says.
    pub clean_env: bool,
    /// Which of the host's variables the plugin sees (docs/security.md "Environment").
    pub env_policy: EnvPolicy,
    /// Host variables granted to this plugin on top of the allowlist (its manifest's
    /// `permissions.env`, once granted).
    pub granted_env: Vec<String>,
    pub working_dir: Option<PathBuf>,
    /// `PLUGIN_CLIENT_CERT`: the host's certificate (PEM) when it offers automatic mTLS.
    pub client_cert_pem: Option<String>,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            magic_cookie_key: env::HECTOR_COOKIE_KEY.into(),
            magic_cookie_value: env::HECTOR_COOKIE_VALUE.into(),
            protocol_versions: vec![env::HECTOR_PROTOCOL_VERSION],
            min_port: env::DEFAULT_PORT_RANGE.0,
            max_port: env::DEFAULT_PORT_RANGE.1,
            env: Vec::new(),
            args: Vec::new(),
            clean_env: false,
            env_policy: EnvPolicy::default(),
            granted_env: Vec::new(),
            working_dir: None,
            client_cert_pem: None,
        }
    }
}

impl LaunchOptions {
    /// Checks what would otherwise fail confusingly inside the plugin.
    pub fn validate(&self) -> Result<(), String> {
        if self.magic_cookie_key.is_empty() || self.magic_cookie_key.contains('=') {
            return Err(format!("magic cookie key {:?} must be a non-empty name without '='", self.magic_cookie_key));
        }
        if self.protocol_versions.is_empty() {
            return Err("protocol_versions must offer at least one version".into());
        }
        if self.min_port > self.max_port {
            return Err(format!("min_port {} is above max_port {}", self.min_port, self.max_port));
        }
        if let Some((key, _)) = self.env.iter().find(|(k, _)| k.is_empty() || k.contains('=')) {
            return Err(format!("environment variable name {key:?} is invalid"));
        }
        // A NUL cannot be passed in an environment; exec would fail and seem to blame the executable.
        if let Some((key, _)) = self.env.iter().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(format!("env.{key}: the value contains a NUL byte, which an environment variable cannot hold"));
        }
        if let Some(arg) = self.args.iter().find(|a| a.contains('\0')) {
            return Err(format!("argument {arg:?} contains a NUL byte, which a command line cannot hold"));
        }
        if self.magic_cookie_value.contains('\0') {
            return Err("magic_cookie_value contains a NUL byte, which an environment variable cannot hold".into());
        }
        Ok(())
    }

    /// The variables the plugin receives on top of (or instead of) the inherited environment.
    pub fn plugin_env(&self, socket_dir: &Path) -> Vec<(OsString, OsString)> {
        let mut vars: Vec<(OsString, OsString)> = vec![
            (self.magic_cookie_key.clone().into(), self.magic_cookie_value.clone().into()),
            (env::PROTOCOL_VERSIONS.into(), env::format_version_list(&self.protocol_versions).into()),
            (env::MIN_PORT.into(), self.min_port.to_string().into()),
            (env::MAX_PORT.into(), self.max_port.to_string().into()),
            (env::UNIX_SOCKET_DIR.into(), socket_dir.as_os_str().to_owned()),
        ];
        if let Some(pem) = &self.client_cert_pem {
            vars.push((env::CLIENT_CERT.into(), pem.into()));
        }
        vars.extend(self.env.iter().map(|(k, v)| (k.into(), v.into())));
        vars
    }
}

const SOCKET_DIR_PREFIX: &str = "hplug-";

/// A private directory (mode 0700) for one plugin's socket, removed when dropped. The host
/// holds an flock on it while it lives: another host's sweep (see below) never takes it,
/// even from another pid namespace where our pid means nothing.
#[derive(Debug)]
pub struct SocketDir {
    dir: tempfile::TempDir,
    _lock: std::fs::File,
}

impl SocketDir {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Removes the directory and what is in it.
    pub fn close(self) -> std::io::Result<()> {
        self.dir.close()
    }

    /// Leaves the directory in place (it belongs to another process).
    pub fn keep(self) {
        let _ = self.dir.keep();
    }
}

/// Creates a socket directory. Its name carries the host's pid, so directories of hosts that
/// died without cleaning up (SIGKILL, SIGTERM without handler) are swept by the next host.
pub fn make_socket_dir() -> std::io::Result<SocketDir> {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| sweep_stale_socket_dirs(&std::env::temp_dir()));
    // Short name: unix socket paths are limited to ~107 bytes.
    let dir = tempfile::Builder::new()
        .prefix(&format!("{SOCKET_DIR_PREFIX}{}-", std::process::id()))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()?;
    let lock = std::fs::File::open(dir.path())?;
    if !try_lock(&lock) {
        return Err(std::io::Error::other("cannot lock the new socket directory"));
    }
    Ok(SocketDir { dir, _lock: lock })
}

/// A non-blocking exclusive flock; false if someone else holds it.
fn try_lock(file: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: plain syscall on an fd we own.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Directories younger than this are never swept (their host may be locking them right now).
const SWEEP_MIN_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes our socket directories in `parent` whose host process no longer exists.
fn sweep_stale_socket_dirs(parent: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    // SAFETY: plain syscall.
    let uid = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = stale_dir_pid(&name.to_string_lossy()) else { continue };
        let Ok(metadata) = std::fs::symlink_metadata(entry.path()) else { continue };
        if !metadata.is_dir() || metadata.uid() != uid || process_exists(pid) {
            continue;
        }
        let old = metadata.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|age| age >= SWEEP_MIN_AGE);
        let Ok(handle) = std::fs::File::open(entry.path()) else { continue };
        // A live host (in any pid namespace) holds the lock: leave its directory alone.
        if old && try_lock(&handle) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The host pid in a socket directory name `hplug-<pid>-<random>`.
fn stale_dir_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(SOCKET_DIR_PREFIX)?;
    let (pid, random) = rest.split_once('-')?;
    if random.is_empty() {
        return None;
    }
    pid.parse().ok().filter(|pid| *pid > 1)
}

fn process_exists(pid: u32) -> bool {
    // SAFETY: signal 0 only checks; EPERM means it exists but is not ours.
    let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
    alive || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// How the host speaks with the process, which decides its stdin and what its environment says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    /// go-plugin: stdin `/dev/null`; the handshake variables (cookie, versions, ports, socket
    /// directory) tell it how to serve.
    Handshake,
    /// An MCP server over stdio: JSON-RPC on stdin and stdout, no go-plugin variables.
    Mcp,
}

/// Starts `executable` with `options.args` under this platform's launcher: its own process
/// group, stdout and stderr piped, stdin as `stdio` says, no other descriptor of the host, and
/// `confinement` applied before its exec. `verified`: the executable opened and checked
/// (docs/protocol.md §1.5), exec'd by descriptor.
pub async fn spawn(
    executable: &Path,
    verified: Option<Executable>,
    options: &LaunchOptions,
    socket_dir: &Path,
    stdio: Stdio,
    confinement: ChildConfinement,
) -> std::io::Result<PluginProcess> {
    platform_launcher::spawn(Command {
        program: executable.to_owned(),
        args: options.args.iter().map(OsString::from).collect(),
        pipe_stdin: stdio == Stdio::Mcp,
        env: environment(options, socket_dir, stdio),
        cwd: options.working_dir.clone(),
        socket_dir: socket_dir.to_owned(),
        confinement,
        executable: verified,
    })
    .await
}

/// The host's variables the allowlist lets through (none with `clean_env`), with the plugin's
/// own on top.
fn environment(options: &LaunchOptions, socket_dir: &Path, stdio: Stdio) -> Vec<(OsString, OsString)> {
    let mut env = if options.clean_env { Vec::new() } else { options.env_policy.inherited(&options.granted_env) };
    let vars = match stdio {
        Stdio::Handshake => options.plugin_env(socket_dir),
        Stdio::Mcp => options.env.iter().map(|(k, v)| (k.into(), v.into())).collect(),
    };
    for (key, value) in vars {
        env.retain(|(k, _)| *k != key);
        env.push((key, value));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_carries_cookie_versions_ports_and_socket_dir() {
        let options = LaunchOptions {
            protocol_versions: vec![2, 3],
            env: vec![("EXTRA".into(), "1".into())],
            ..Default::default()
        };
        let env = options.plugin_env(Path::new("/tmp/x"));
        let get = |k: &str| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.to_str().unwrap().to_string());
        assert_eq!(get("HECTOR_PLUGIN").as_deref(), Some("hector_plugin_v1"));
        assert_eq!(get("PLUGIN_PROTOCOL_VERSIONS").as_deref(), Some("2,3"));
        assert_eq!(get("PLUGIN_MIN_PORT").as_deref(), Some("10000"));
        assert_eq!(get("PLUGIN_MAX_PORT").as_deref(), Some("25000"));
        assert_eq!(get("PLUGIN_UNIX_SOCKET_DIR").as_deref(), Some("/tmp/x"));
        assert_eq!(get("EXTRA").as_deref(), Some("1"));
    }

    #[test]
    fn plugin_variables_win_over_inherited_ones_and_clean_env_drops_the_rest() {
        std::env::set_var("HECTOR_LAUNCH_TEST_INHERITED", "host");
        let options =
            LaunchOptions { env: vec![("HECTOR_LAUNCH_TEST_INHERITED".into(), "plugin".into())], ..Default::default() };
        let env = environment(&options, Path::new("/tmp/x"), Stdio::Handshake);
        let values: Vec<_> = env.iter().filter(|(k, _)| k == "HECTOR_LAUNCH_TEST_INHERITED").collect();
        assert_eq!(values, [&("HECTOR_LAUNCH_TEST_INHERITED".into(), "plugin".into())]);
        assert!(env.iter().any(|(k, _)| k == "PATH"));
        let clean = environment(
            &LaunchOptions { clean_env: true, ..Default::default() },
            Path::new("/tmp/x"),
            Stdio::Handshake,
        );
        assert!(!clean.iter().any(|(k, _)| k == "PATH"));
        assert!(clean.iter().any(|(k, _)| k == "PLUGIN_UNIX_SOCKET_DIR"));
    }

    #[test]
    fn validation_refuses_empty_cookie_and_versions() {
        let bad = LaunchOptions { magic_cookie_key: String::new(), ..Default::default() };
        assert!(bad.validate().unwrap_err().contains("cookie key"));
        let bad = LaunchOptions { protocol_versions: vec![], ..Default::default() };
        assert!(bad.validate().is_err());
        assert!(LaunchOptions::default().validate().is_ok());
    }

    #[test]
    fn stale_socket_dirs_are_recognised_by_their_pid() {
        assert_eq!(stale_dir_pid("hplug-1234-AbC9"), Some(1234));
        assert_eq!(stale_dir_pid("hplug-1234-"), None);
        assert_eq!(stale_dir_pid("hplug-x-AbC9"), None);
        assert_eq!(stale_dir_pid("other-1234-AbC9"), None);
        assert!(process_exists(std::process::id()));
    }

    #[test]
    fn a_dead_hosts_socket_dir_is_swept() {
        // A directory of its own: the sweep other tests trigger through make_socket_dir must not
        // race this one for the same entries.
        let parent = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - 2 * SWEEP_MIN_AGE;
        let make = |name: &str| {
            let dir = parent.path().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::File::open(&dir).unwrap().set_modified(old).unwrap();
            dir
        };
        // A pid far above pid_max cannot exist.
        let stale = make("hplug-999999999-test");
        sweep_stale_socket_dirs(parent.path());
        assert!(!stale.exists());

        // A directory whose host lives elsewhere (here: a pid that does not exist for us) but
        // holds its lock is kept.
        let locked = make("hplug-999999998-test");
        let holder = std::fs::File::open(&locked).unwrap();
        assert!(try_lock(&holder));
        sweep_stale_socket_dirs(parent.path());
        assert!(locked.exists());
        drop(holder);
        sweep_stale_socket_dirs(parent.path());
        assert!(!locked.exists());

        // A live host's directory is kept however old.
        let live = make(&format!("hplug-{}-test", std::process::id()));
        sweep_stale_socket_dirs(parent.path());
        assert!(live.exists());
    }

    #[test]
    fn socket_dir_is_private() {
        let dir = make_socket_dir().unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
