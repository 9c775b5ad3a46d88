//! What a host tells a plugin through its environment (docs/protocol.md §1.2), named once for the
//! host that sets it and the SDK that reads it.

/// Hector's magic cookie key.
pub const HECTOR_COOKIE_KEY: &str = "HECTOR_PLUGIN";
/// Hector's magic cookie value.
pub const HECTOR_COOKIE_VALUE: &str = "hector_plugin_v1";
/// Hector's app protocol version.
pub const HECTOR_PROTOCOL_VERSION: u32 = 1;

/// The app protocol versions the host accepts (`1` or `1,2,5`).
pub const PROTOCOL_VERSIONS: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// The lowest TCP port a plugin may listen on.
pub const MIN_PORT: &str = "PLUGIN_MIN_PORT";
/// The highest TCP port a plugin may listen on.
pub const MAX_PORT: &str = "PLUGIN_MAX_PORT";
/// Default port range (go-plugin's).
pub const DEFAULT_PORT_RANGE: (u16, u16) = (10000, 25000);
/// The directory the host created for this plugin's unix socket (§1.3).
pub const UNIX_SOCKET_DIR: &str = "PLUGIN_UNIX_SOCKET_DIR";
/// The group (name or numeric gid) that should own the socket.
pub const UNIX_SOCKET_GROUP: &str = "PLUGIN_UNIX_SOCKET_GROUP";
/// Set (to `true`) when the host asks for gRPC broker multiplexing.
pub const MULTIPLEX_GRPC: &str = "PLUGIN_MULTIPLEX_GRPC";
/// The host's certificate, when it asks for automatic mTLS.
pub const CLIENT_CERT: &str = "PLUGIN_CLIENT_CERT";

/// A `PLUGIN_PROTOCOL_VERSIONS` value: `[1, 2]` → `1,2`.
pub fn format_version_list(versions: &[u32]) -> String {
    versions.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Parses a `PLUGIN_PROTOCOL_VERSIONS` value: comma-separated integers. Spaces around entries
/// and empty entries are tolerated; entries that are not integers are skipped (go-plugin does
/// the same), so `"1, x,3"` gives `[1, 3]`.
pub fn parse_version_list(list: &str) -> Vec<u32> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).filter_map(|s| s.parse::<u32>().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_lists() {
        assert_eq!(parse_version_list("1"), vec![1]);
        assert_eq!(parse_version_list("1,2,5"), vec![1, 2, 5]);
        assert_eq!(parse_version_list(" 3 , 4 "), vec![3, 4]);
        assert_eq!(parse_version_list("1,,x,-2,7"), vec![1, 7]);
        assert_eq!(parse_version_list(""), Vec::<u32>::new());
        assert_eq!(parse_version_list("99999999999"), Vec::<u32>::new());
        assert_eq!(parse_version_list(&format_version_list(&[2, 3])), vec![2, 3]);
    }
}
