//! Reading and writing cgroup interface files, with the path in every error.

use std::io::{self, Write};
use std::path::Path;

/// Writes `value` to an existing interface file (no create, no truncate: cgroupfs takes each
/// write whole).
pub(super) fn write(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    let path = dir.join(file);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {value:?} to {}: {e}", path.display())))
}

pub(super) fn read(dir: &Path, file: &str) -> io::Result<String> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display())))
}

/// The value of `key` in a flat keyed file (`key value` lines: memory.events, cpu.stat...).
pub(super) fn keyed(dir: &Path, file: &str, key: &str) -> Option<u64> {
    let text = read(dir, file).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// A file holding one number.
pub(super) fn number(dir: &Path, file: &str) -> Option<u64> {
    read(dir, file).ok()?.trim().parse().ok()
}

/// The pids listed in a `cgroup.procs` file.
pub(super) fn pids(dir: &Path) -> Vec<i32> {
    read(dir, "cgroup.procs")
        .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// The whitespace-separated words of a file (`cgroup.controllers`, `cgroup.subtree_control`).
pub(super) fn words(dir: &Path, file: &str) -> io::Result<Vec<String>> {
    Ok(read(dir, file)?.split_whitespace().map(str::to_string).collect())
}
