//! What a plugin asks for (its manifest's `permissions:`) against what the configuration grants
//! it (its entry's `grants:`): a plugin that asks for more is refused at load, with the
//! difference listed (docs/security.md "Permissions"). What is granted is what its sandbox
//! allows and which host variables it sees.

use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// Paths, TCP ports and host variables, as asked for or as granted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
    pub tcp_connect: Vec<u16>,
    pub env: Vec<String>,
}

impl Permissions {
    pub fn is_empty(&self) -> bool {
        *self == Permissions::default()
    }

    /// What `asked` wants beyond these grants, one line per item (empty: all granted). A path
    /// is granted by itself or a directory above it; reading is granted by write grants too.
    pub fn missing(&self, asked: &Permissions) -> Vec<String> {
        // Compared without `.` and `..`: `/data/../etc` is not under a grant of `/data`.
        let covered = |path: &Path, grants: &[&PathBuf]| {
            let path = lexically_normal(path);
            grants.iter().any(|granted| path.starts_with(lexically_normal(granted)))
        };
        let readable: Vec<&PathBuf> = self.read.iter().chain(&self.write).collect();
        let writable: Vec<&PathBuf> = self.write.iter().collect();
        let mut missing = Vec::new();
        missing.extend(asked.read.iter().filter(|p| !covered(p, &readable)).map(|p| format!("read {}", p.display())));
        missing.extend(asked.write.iter().filter(|p| !covered(p, &writable)).map(|p| format!("write {}", p.display())));
        missing.extend(
            asked
                .tcp_connect
                .iter()
                .filter(|port| !self.tcp_connect.contains(port))
                .map(|port| format!("tcp_connect {port}")),
        );
        missing.extend(asked.env.iter().filter(|name| !self.env.contains(name)).map(|name| format!("env {name}")));
        missing
    }
}

/// `path` with `.` dropped and each `..` taking away the name before it (never above the
/// root), without asking the file system: what the path names if no symlink is involved.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match normal.components().next_back() {
                Some(Component::Normal(_)) => {
                    normal.pop();
                }
                Some(Component::RootDir) => {}
                _ => normal.push(".."),
            },
            other => normal.push(other),
        }
    }
    normal
}

/// `grants:` of an entry, and `permissions:` of a manifest: the same shape.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredPermissions {
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub write: Vec<String>,
    #[serde(default)]
    pub tcp_connect: Vec<u16>,
    #[serde(default)]
    pub env: Vec<String>,
}

impl DeclaredPermissions {
    /// Relative paths are relative to `base`.
    pub fn resolve(&self, base: &Path) -> Permissions {
        Permissions {
            read: self.read.iter().map(|p| base.join(p)).collect(),
            write: self.write.iter().map(|p| base.join(p)).collect(),
            tcp_connect: self.tcp_connect.clone(),
            env: self.env.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_is_listed_item_by_item() {
        let grants = Permissions {
            read: vec!["/data".into()],
            write: vec!["/var/cache/p".into()],
            tcp_connect: vec![443],
            env: vec!["OPENAI_API_KEY".into()],
        };
        let asked = Permissions {
            read: vec!["/data/models".into(), "/var/cache/p/x".into(), "/home".into()],
            write: vec!["/data/out".into()],
            tcp_connect: vec![443, 5432],
            env: vec!["OPENAI_API_KEY".into(), "AWS_SECRET_ACCESS_KEY".into()],
        };
        assert_eq!(
            grants.missing(&asked),
            ["read /home", "write /data/out", "tcp_connect 5432", "env AWS_SECRET_ACCESS_KEY"]
        );
        assert!(grants.missing(&Permissions::default()).is_empty());
        assert!(grants.missing(&grants).is_empty());
    }

    #[test]
    fn dot_dot_cannot_climb_out_of_a_grant() {
        let grants = Permissions { read: vec!["/data".into()], ..Default::default() };
        let asked = |path: &str| Permissions { read: vec![path.into()], ..Default::default() };
        assert_eq!(grants.missing(&asked("/data/../etc/shadow")), ["read /data/../etc/shadow"]);
        assert_eq!(grants.missing(&asked("/data/x/../../etc")), ["read /data/x/../../etc"]);
        assert!(grants.missing(&asked("/data/./models/../weights")).is_empty());
        assert!(grants.missing(&asked("/../data/x")).is_empty(), "`..` above the root stays at the root");
        let dotted = Permissions { read: vec!["/srv/./data/".into()], ..Default::default() };
        assert!(dotted.missing(&asked("/srv/data/models")).is_empty());
        assert_eq!(lexically_normal(Path::new("a/../../b")), Path::new("../b"));
    }
}
