//! Who is on the other end of the address a plugin printed (docs/protocol.md §3.1). A plugin may
//! name any socket on the machine; the host must not send another process this plugin's config,
//! calls or `Shutdown`. Checked before a single byte is sent.

use std::net::{IpAddr, SocketAddr};

/// Which addresses the host accepts from a plugin's handshake line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerPolicy {
    /// The socket must be served by the plugin process or its process group (`pgid` = its pid);
    /// a TCP address must be a loopback one unless `allow_non_loopback`.
    PluginGroup { plugin_pid: u32, allow_non_loopback: bool },
    /// No check: the caller started the server itself (benchmarks, tests of the transport).
    Unchecked,
}

/// The plugin itself, or a process it started in its own process group (whose id is the
/// plugin's pid: it was launched as a group leader).
pub fn is_plugin_or_its_group(peer_pid: u32, plugin_pid: u32) -> bool {
    if peer_pid == plugin_pid {
        return true;
    }
    // SAFETY: plain syscall on a pid; -1 (no such process) is handled.
    let group = unsafe { libc::getpgid(peer_pid as libc::pid_t) };
    group > 0 && group as u32 == plugin_pid
}

/// The process that listens on a connected unix socket must be the plugin or in its group.
pub fn check_unix_peer(stream: &tokio::net::UnixStream, shown: &str, plugin_pid: u32) -> Result<(), String> {
    let peer = unix_peer_pid(stream).map_err(|e| format!("cannot tell who serves {shown} ({PEER_PID_SOURCE}: {e})"))?;
    match peer {
        Some(pid) if is_plugin_or_its_group(pid as u32, plugin_pid) => Ok(()),
        Some(pid) => Err(format!(
            "{shown} is served by process {pid}{}, not by the plugin (pid {plugin_pid}) or its process group; \
             refusing to send it anything. The handshake line must name the plugin's own socket",
            describe_process(pid as u32)
        )),
        None => Err(format!("cannot tell which process serves {shown}; refusing to send it anything")),
    }
}

/// The pid the kernel gives for the other end of a connected unix socket: the process serving it.
#[cfg(not(target_vendor = "apple"))]
fn unix_peer_pid(stream: &tokio::net::UnixStream) -> std::io::Result<Option<libc::pid_t>> {
    Ok(stream.peer_cred()?.pid())
}

#[cfg(not(target_vendor = "apple"))]
const PEER_PID_SOURCE: &str = "SO_PEERCRED";

/// macOS has no SO_PEERCRED: `LOCAL_PEERPID` gives the peer's pid. (tokio's `peer_cred` reads
/// `LOCAL_PEEREPID`, the pid a socket may be delegated to, which is not the listener's.)
#[cfg(target_vendor = "apple")]
fn unix_peer_pid(stream: &tokio::net::UnixStream) -> std::io::Result<Option<libc::pid_t>> {
    use std::os::fd::AsRawFd;
    let mut pid: libc::pid_t = 0;
    let mut size = std::mem::size_of::<libc::pid_t>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `size` bytes into `pid`.
    let r = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_LOCAL,
            libc::LOCAL_PEERPID,
            (&mut pid as *mut libc::pid_t).cast(),
            &mut size,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((pid > 0).then_some(pid))
}

#[cfg(target_vendor = "apple")]
const PEER_PID_SOURCE: &str = "LOCAL_PEERPID";

/// A TCP address must be on this machine's loopback interface: remote plugins are not supported
/// yet, and a non-loopback address may reach any server on the network.
pub fn check_tcp_target(target: &SocketAddr, shown: &str, allow_non_loopback: bool) -> Result<(), String> {
    if allow_non_loopback || is_loopback(target.ip()) {
        return Ok(());
    }
    Err(format!(
        "{shown} is not a loopback address; the host only connects to plugins on 127.0.0.1 or ::1 \
         (remote plugins are not supported yet). If this plugin really listens there, set \
         allow_non_loopback: true in its configuration"
    ))
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// The listening socket behind a connected TCP stream must belong to the plugin's process
/// group (found through /proc: the listener's inode among the group's open files). When the
/// listener cannot be found (no /proc), the loopback rule alone applies.
#[cfg(target_os = "linux")]
pub fn check_tcp_peer(stream: &tokio::net::TcpStream, shown: &str, plugin_pid: u32) -> Result<(), String> {
    let Ok(peer) = stream.peer_addr() else { return Ok(()) };
    let listeners = proc_net::listening_inodes(&peer);
    if listeners.is_empty() {
        return Ok(());
    }
    let owners = proc_net::owners_of(&listeners);
    if owners.iter().any(|pid| is_plugin_or_its_group(*pid, plugin_pid)) {
        return Ok(());
    }
    let owner = match owners.first() {
        Some(pid) => format!("process {pid}{}", describe_process(*pid)),
        None => "a process outside the plugin's process group".into(),
    };
    Err(format!(
        "{shown} is served by {owner}, not by the plugin (pid {plugin_pid}) or its process group; \
         refusing to send it anything. The handshake line must name the plugin's own listener"
    ))
}

/// Without /proc the listener's owner cannot be found: only the loopback rule
/// (`check_tcp_target`) applies (docs/protocol.md §3.1).
#[cfg(not(target_os = "linux"))]
pub fn check_tcp_peer(_stream: &tokio::net::TcpStream, _shown: &str, _plugin_pid: u32) -> Result<(), String> {
    Ok(())
}

/// ` (name)`, when it can be read.
fn describe_process(pid: u32) -> String {
    process_name(pid).map(|name| format!(" ({name})")).unwrap_or_default()
}

#[cfg(not(target_vendor = "apple"))]
fn process_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|name| name.trim().to_owned())
}

#[cfg(target_vendor = "apple")]
fn process_name(pid: u32) -> Option<String> {
    let mut name = [0u8; 256];
    // SAFETY: proc_name writes at most `name.len()` bytes, NUL-terminated.
    let r = unsafe { libc::proc_name(pid as libc::c_int, name.as_mut_ptr().cast(), name.len() as u32) };
    if r <= 0 {
        return None;
    }
    let name = std::ffi::CStr::from_bytes_until_nul(&name).ok()?;
    Some(name.to_string_lossy().into_owned())
}

/// Reading the kernel's socket tables (`/proc/net/tcp{,6}`) and open files (`/proc/<pid>/fd`).
#[cfg(target_os = "linux")]
mod proc_net {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    const LISTEN: &str = "0A";

    /// Inodes of the sockets listening where `peer` points (its address, or any address).
    pub fn listening_inodes(peer: &SocketAddr) -> Vec<u64> {
        let mut inodes = Vec::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else { continue };
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() < 10 || fields[3] != LISTEN {
                    continue;
                }
                let Some((ip, port)) = parse_endpoint(fields[1]) else { continue };
                if port == peer.port() && serves(ip, peer.ip()) {
                    if let Ok(inode) = fields[9].parse() {
                        inodes.push(inode);
                    }
                }
            }
        }
        inodes
    }

    /// A listener on `listening` accepts connections to `target`.
    fn serves(listening: IpAddr, target: IpAddr) -> bool {
        let canonical = |ip: IpAddr| match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        listening.is_unspecified() || canonical(listening) == canonical(target)
    }

    /// `0100007F:1F90` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host byte order.
    fn parse_endpoint(text: &str) -> Option<(IpAddr, u16)> {
        let (address, port) = text.split_once(':')?;
        let port = u16::from_str_radix(port, 16).ok()?;
        let words: Option<Vec<[u8; 4]>> = (0..address.len() / 8)
            .map(|i| u32::from_str_radix(address.get(i * 8..i * 8 + 8)?, 16).ok().map(u32::to_ne_bytes))
            .collect();
        let bytes: Vec<u8> = words?.concat();
        let ip = match bytes.len() {
            4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
            16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
            _ => return None,
        };
        Some((ip, port))
    }

    /// Pids holding one of `inodes` open (only processes this user may inspect).
    pub fn owners_of(inodes: &[u64]) -> Vec<u32> {
        let wanted: Vec<String> = inodes.iter().map(|inode| format!("socket:[{inode}]")).collect();
        let Ok(processes) = std::fs::read_dir("/proc") else { return Vec::new() };
        let mut owners = Vec::new();
        for entry in processes.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
            let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
            let holds = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path())
                    .is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
            });
            if holds {
                owners.push(pid);
            }
        }
        owners
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_kernel_endpoints() {
            let local = u32::from_ne_bytes([127, 0, 0, 1]);
            let text = format!("{local:08X}:1F90");
            assert_eq!(parse_endpoint(&text), Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 8080)));
            let any6 = "00000000000000000000000000000000:0050";
            assert_eq!(parse_endpoint(any6), Some((IpAddr::V6(Ipv6Addr::UNSPECIFIED), 80)));
        }

        #[test]
        fn a_wildcard_listener_serves_loopback() {
            let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
            assert!(serves(IpAddr::V4(Ipv4Addr::UNSPECIFIED), loopback));
            assert!(serves(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), loopback));
            assert!(!serves(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), loopback));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_and_its_group_are_accepted() {
        let me = std::process::id();
        assert!(is_plugin_or_its_group(me, me));
        // SAFETY: plain syscall.
        let my_group = unsafe { libc::getpgid(0) } as u32;
        assert!(is_plugin_or_its_group(me, my_group));
        assert!(!is_plugin_or_its_group(1, me));
    }

    #[test]
    fn only_loopback_tcp_unless_allowed() {
        let shown = "tcp:x";
        assert!(check_tcp_target(&"127.0.0.1:1".parse().unwrap(), shown, false).is_ok());
        assert!(check_tcp_target(&"[::1]:1".parse().unwrap(), shown, false).is_ok());
        let refusal = check_tcp_target(&"0.0.0.0:1".parse().unwrap(), shown, false).unwrap_err();
        assert!(refusal.contains("not a loopback address") && refusal.contains("allow_non_loopback"), "{refusal}");
        assert!(check_tcp_target(&"10.1.2.3:1".parse().unwrap(), shown, false).is_err());
        assert!(check_tcp_target(&"10.1.2.3:1".parse().unwrap(), shown, true).is_ok());
    }
}
