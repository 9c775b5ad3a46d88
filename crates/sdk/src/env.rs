//! What the host tells a plugin through its environment (docs/protocol.md §1.2), read and checked.
//!
//! Everything here is a pure function of the values passed in, so the rules are unit-tested
//! without touching the process environment.

use super::{SdkError, ServeOptions};

pub use hector_plugins_protocol::env::{
    parse_version_list, CLIENT_CERT as ENV_CLIENT_CERT, MULTIPLEX_GRPC as ENV_MULTIPLEX_GRPC,
    PROTOCOL_VERSIONS as ENV_PROTOCOL_VERSIONS, UNIX_SOCKET_DIR as ENV_UNIX_SOCKET_DIR,
    UNIX_SOCKET_GROUP as ENV_UNIX_SOCKET_GROUP,
};
pub use hector_plugins_protocol::handshake::format_unix_line as handshake_line;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
