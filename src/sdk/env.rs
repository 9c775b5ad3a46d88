//! What the host tells a plugin through its environment (docs/protocol.md §1.2), read and checked.
//!
//! Everything here is a pure function of the values passed in, so the rules are unit-tested
//! without touching the process environment.

use super::{SdkError, ServeOptions};

/// Environment variable carrying the app protocol versions the host accepts (`1` or `1,2,5`).
pub const ENV_PROTOCOL_VERSIONS: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// Directory the host created for this plugin's unix socket.
pub const ENV_UNIX_SOCKET_DIR: &str = "PLUGIN_UNIX_SOCKET_DIR";
/// Group (name or numeric gid) that should own the socket.
pub const ENV_UNIX_SOCKET_GROUP: &str = "PLUGIN_UNIX_SOCKET_GROUP";
/// Set (to `true`) when the host asks for gRPC broker multiplexing.
pub const ENV_MULTIPLEX_GRPC: &str = "PLUGIN_MULTIPLEX_GRPC";
/// The host's certificate, when it asks for automatic mTLS.
pub const ENV_CLIENT_CERT: &str = "PLUGIN_CLIENT_CERT";

/// The message go-plugin prints when its binary is run by hand (cookie missing or wrong).
pub const NOT_A_PROGRAM_MESSAGE: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically";

/// Checks the magic cookie: `value` is what the environment holds for the cookie key.
pub fn check_cookie(opts: &ServeOptions, value: Option<&str>) -> Result<(), SdkError> {
    if value == Some(opts.magic_cookie_value.as_str()) {
        Ok(())
    } else {
        Err(SdkError::NotLaunchedByHost { cookie_key: opts.magic_cookie_key.clone() })
    }
}

/// Parses a `PLUGIN_PROTOCOL_VERSIONS` value: comma-separated integers. Spaces around entries
/// and empty entries are tolerated; entries that are not integers are skipped (go-plugin does
/// the same), so `"1, x,3"` gives `[1, 3]`.
pub fn parse_version_list(list: &str) -> Vec<u32> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).filter_map(|s| s.parse::<u32>().ok()).collect()
}

/// Picks the app protocol version to announce in the handshake line.
///
/// * The host sent a list: the **highest** of `ours` that the list contains, or
///   [`SdkError::NoCommonVersion`].
/// * The host sent nothing (variable unset or empty): a legacy host that predates version lists.
///   Like go-plugin, announce our **lowest** version and let the host judge it.
pub fn negotiate_version(host_list: Option<&str>, ours: &[u32]) -> Result<u32, SdkError> {
    let Some(lowest) = ours.iter().copied().min() else {
        return Err(SdkError::InvalidOptions("protocol_versions is empty".into()));
    };
    let raw = match host_list.map(str::trim) {
        None | Some("") => return Ok(lowest),
        Some(raw) => raw,
    };
    let offered = parse_version_list(raw);
    ours.iter()
        .copied()
        .filter(|v| offered.contains(v))
        .max()
        .ok_or_else(|| SdkError::NoCommonVersion { host: raw.to_string(), ours: ours.to_vec() })
}

/// Formats the handshake line (newline included): `1|APP|unix|PATH|grpc|` and, only when the
/// host asked about multiplexing, a seventh field `false` (this SDK serves no broker).
pub fn handshake_line(app_version: u32, socket_path: &str, host_asked_mux: bool) -> String {
    let mux = if host_asked_mux { "|false" } else { "" };
    format!("1|{app_version}|unix|{socket_path}|grpc|{mux}\n")
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
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        assert_eq!(negotiate_version(Some("1"), &[1]).unwrap(), 1);
        assert_eq!(negotiate_version(Some("1,2,3"), &[1, 2]).unwrap(), 2);
        assert_eq!(negotiate_version(Some("3,1"), &[2, 1, 3]).unwrap(), 3);
        assert_eq!(negotiate_version(Some("2, 5"), &[5]).unwrap(), 5);
    }

    #[test]
    fn negotiation_failure_names_both_sides() {
        let err = negotiate_version(Some("2,3"), &[1]).unwrap_err();
        assert!(matches!(&err, SdkError::NoCommonVersion { host, ours } if host == "2,3" && ours == &[1]));
        let text = err.to_string();
        assert!(text.contains("2,3") && text.contains("[1]"), "{text}");
        assert!(negotiate_version(Some("garbage"), &[1]).is_err());
    }

    #[test]
    fn legacy_host_gets_our_lowest_version() {
        assert_eq!(negotiate_version(None, &[3, 2]).unwrap(), 2);
        assert_eq!(negotiate_version(Some(" "), &[1]).unwrap(), 1);
    }

    #[test]
    fn no_versions_of_our_own_is_a_configuration_error() {
        assert!(matches!(negotiate_version(Some("1"), &[]), Err(SdkError::InvalidOptions(_))));
    }

    #[test]
    fn cookie() {
        let opts = ServeOptions::default();
        assert!(check_cookie(&opts, Some("hector_plugin_v1")).is_ok());
        for bad in [None, Some(""), Some("hector_plugin_v2")] {
            let err = check_cookie(&opts, bad).unwrap_err();
            assert!(err.to_string().contains("HECTOR_PLUGIN"), "{err}");
        }
    }

    #[test]
    fn handshake_lines() {
        assert_eq!(handshake_line(1, "/tmp/plugin42", false), "1|1|unix|/tmp/plugin42|grpc|\n");
        assert_eq!(handshake_line(2, "/d/plugin7", true), "1|2|unix|/d/plugin7|grpc||false\n");
        // What we print is what the host's parser accepts.
        let parsed = crate::handshake::parse(&handshake_line(1, "/tmp/p1", true), &[1]).unwrap();
        assert_eq!(parsed.address, crate::handshake::Address::Unix("/tmp/p1".into()));
        assert_eq!(parsed.multiplexed, Some(false));
    }
}
