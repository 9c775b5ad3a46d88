//! The plugin's unix socket: where it goes, who may use it, and that it disappears on exit.

use std::ffi::CString;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::net::UnixListener;

use super::SdkError;

/// How many random names to try before giving up on `AddrInUse`.
const BIND_ATTEMPTS: usize = 16;

/// The directory the socket goes into: `PLUGIN_UNIX_SOCKET_DIR` when set and non-empty,
/// otherwise the system temp dir (`$TMPDIR` or `/tmp`).
pub fn socket_dir(env_dir: Option<&str>) -> PathBuf {
    match env_dir {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::temp_dir(),
    }
}

/// A fresh `plugin<digits>` file name, like go-plugin's `os.CreateTemp(dir, "plugin*")`.
pub fn random_socket_name() -> String {
    // `RandomState` is seeded from the OS once per process and advanced per instance; mixing in
    // the clock and pid keeps names distinct even across processes forked from one seed.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("plugin{}", hasher.finish() % 10_000_000_000)
}

/// A bound listener whose socket file is removed when this value is dropped.
#[derive(Debug)]
pub struct SocketGuard {
    path: PathBuf,
}

impl SocketGuard {
    /// The socket's path, as printed in the handshake line.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds a unix socket with a random name inside `dir`, then applies `group` (name or gid) if
/// given: the socket is chowned to that group and made `0660`, as go-plugin does for
/// `PLUGIN_UNIX_SOCKET_GROUP`.
pub fn bind(dir: &Path, group: Option<&str>) -> Result<(UnixListener, SocketGuard), SdkError> {
    let mut last_err = None;
    for _ in 0..BIND_ATTEMPTS {
        let path = dir.join(random_socket_name());
        match UnixListener::bind(&path) {
            Ok(listener) => {
                let guard = SocketGuard { path };
                if let Some(group) = group.filter(|g| !g.is_empty()) {
                    set_group(&guard.path, group)
                        .map_err(|source| SdkError::SocketGroup { group: group.to_string(), source })?;
                }
                return Ok((listener, guard));
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_err = Some((path, e)),
            Err(source) => return Err(SdkError::Listen { path, source }),
        }
    }
    let (path, source) = last_err.expect("at least one attempt was made");
    Err(SdkError::Listen { path, source })
}

fn set_group(path: &Path, group: &str) -> io::Result<()> {
    let gid = resolve_group(group)?;
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "socket path contains NUL"))?;
    // SAFETY: `c_path` is a valid NUL-terminated string; uid -1 leaves the owner unchanged.
    if unsafe { libc::chown(c_path.as_ptr(), libc::uid_t::MAX, gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
}

/// A numeric gid, or a group name looked up in the group database.
fn resolve_group(group: &str) -> io::Result<libc::gid_t> {
    if let Ok(gid) = group.parse::<libc::gid_t>() {
        return Ok(gid);
    }
    let name =
        CString::new(group).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "group name contains NUL"))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    loop {
        // SAFETY: all-zero is a valid `libc::group` (null pointers, zero gid); it is only read
        // after getgrnam_r reports success.
        let mut entry: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer refers to live storage of the advertised size for the call.
        let rc = unsafe { libc::getgrnam_r(name.as_ptr(), &mut entry, buf.as_mut_ptr(), buf.len(), &mut found) };
        if rc == libc::ERANGE && buf.len() < (1 << 24) {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if found.is_null() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("no group named {group:?}")));
        }
        return Ok(entry.gr_gid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_go_plugins() {
        let a = random_socket_name();
        let b = random_socket_name();
        assert!(a.starts_with("plugin") && a.len() > 6, "{a}");
        assert!(a["plugin".len()..].bytes().all(|c| c.is_ascii_digit()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn directory_choice() {
        assert_eq!(socket_dir(Some("/run/x")), PathBuf::from("/run/x"));
        assert_eq!(socket_dir(Some("")), std::env::temp_dir());
        assert_eq!(socket_dir(None), std::env::temp_dir());
    }

    #[tokio::test]
    async fn socket_file_is_removed_with_the_guard() {
        let dir = tempfile::tempdir().unwrap();
        let (listener, guard) = bind(dir.path(), None).unwrap();
        let path = guard.path().to_path_buf();
        assert!(path.starts_with(dir.path()));
        assert!(path.exists());
        drop(listener);
        drop(guard);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn group_by_gid() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: getegid has no preconditions.
        let gid = unsafe { libc::getegid() };
        let (_listener, guard) = bind(dir.path(), Some(&gid.to_string())).unwrap();
        let mode = std::fs::metadata(guard.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o660);
    }

    #[test]
    fn unknown_group_name() {
        assert!(resolve_group("no-such-group-hector-plugins").is_err());
    }
}
