//! Directory listings and the names in them (/proc entries, fds, socket files), read and built on
//! the stack: this code runs in the keeper, which may not allocate (see `child.rs`).

use super::sys::{self, Fd};
use libc::c_char;

/// Calls `each` with every name in the directory (from getdents64, on a stack buffer).
pub(super) unsafe fn for_each_entry(dir: Fd, mut each: impl FnMut(&[u8])) {
    let mut buffer = [0u8; 2048];
    loop {
        let n = sys::getdents64(dir, buffer.as_mut_ptr(), buffer.len());
        if n <= 0 {
            return;
        }
        let mut offset = 0usize;
        while offset + 19 < n as usize {
            // struct linux_dirent64: u64 inode, i64 offset, u16 record length, u8 type, name.
            let record = buffer.as_ptr().add(offset);
            let length = u16::from_ne_bytes([*record.add(16), *record.add(17)]) as usize;
            if length == 0 {
                return;
            }
            let name = core::ffi::CStr::from_ptr(record.add(19) as *const c_char);
            each(name.to_bytes());
            offset += length;
        }
    }
}

/// A positive decimal number (a /proc entry or an fd), without allocating or panicking.
pub(super) fn parse_pid(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 9 {
        return None;
    }
    let mut value: i32 = 0;
    for &byte in name {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + (byte - b'0') as i32;
    }
    Some(value)
}

/// The parent pid in a /proc/<pid>/stat line: `pid (comm) state ppid ...`; comm may contain
/// spaces and parentheses, so we start after the last `)`.
pub(super) fn parse_ppid(stat: &[u8]) -> Option<i32> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let mut fields = stat.get(close + 1..)?.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let _state = fields.next()?;
    parse_pid(fields.next()?)
}

/// `<pid>/stat` with a NUL, into `out`.
pub(super) fn join_stat_path(pid: &[u8], out: &mut [u8; 32]) -> bool {
    const SUFFIX: &[u8] = b"/stat\0";
    let Some(target) = out.get_mut(..pid.len() + SUFFIX.len()) else { return false };
    let (head, tail) = target.split_at_mut(pid.len());
    head.copy_from_slice(pid);
    tail.copy_from_slice(SUFFIX);
    true
}

pub(super) fn nul_terminated(name: &[u8], out: &mut [u8; 256]) -> Option<*const c_char> {
    let target = out.get_mut(..name.len() + 1)?;
    let (head, tail) = target.split_at_mut(name.len());
    head.copy_from_slice(name);
    tail.copy_from_slice(&[0]);
    Some(out.as_ptr() as *const c_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppid_is_read_after_the_last_parenthesis() {
        assert_eq!(parse_ppid(b"1234 (sleep) S 77 1234 1234 0 -1"), Some(77));
        assert_eq!(parse_ppid(b"1234 (a) b) (c) S 5 1 1"), Some(5));
        assert_eq!(parse_ppid(b"1234 (x y) Z 0 1"), Some(0));
        assert_eq!(parse_ppid(b"garbage"), None);
    }

    #[test]
    fn only_decimal_names_are_pids() {
        assert_eq!(parse_pid(b"4242"), Some(4242));
        assert_eq!(parse_pid(b"self"), None);
        assert_eq!(parse_pid(b""), None);
        assert_eq!(parse_pid(b"12345678901"), None);
    }

    #[test]
    fn paths_are_built_on_the_stack() {
        let mut out = [0u8; 32];
        assert!(join_stat_path(b"4242", &mut out));
        assert_eq!(&out[..11], b"4242/stat\0\0");
        assert!(!join_stat_path(&[b'1'; 30], &mut out));
        let mut name = [0u8; 256];
        let pointer = nul_terminated(b"py.sock", &mut name).unwrap();
        assert_eq!(unsafe { core::ffi::CStr::from_ptr(pointer) }.to_bytes(), b"py.sock");
    }
}
