//! The go-plugin handshake line (docs/protocol.md §2),
//! `CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVERCERT|MUX`: the SDK's writer and the host's parser.
//!
//! No I/O here, so every rule is unit-tested (and fuzzable) in isolation.

use base64::Engine as _;
use std::fmt;

/// Where the plugin listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(std::path::PathBuf),
    /// `host:port`, as printed.
    Tcp(String),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
            Address::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// A parsed, validated handshake line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub app_version: u32,
    pub address: Address,
    /// DER bytes of the plugin's server certificate (automatic mTLS), if it printed one.
    pub server_cert: Option<Vec<u8>>,
    /// Field 7, when present.
    pub multiplexed: Option<bool>,
}

/// Why a handshake line was refused. Every variant carries the offending line, quoted by [`quote`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("unrecognised handshake line (expected CORE|APP|NETWORK|ADDRESS|PROTOCOL, at least 4 '|'-separated fields; a plugin must print nothing on stdout before it): {line}")]
    Unrecognised { line: String },
    #[error("core protocol version {found} is not supported (this host speaks go-plugin core protocol 1) in handshake line {line}")]
    CoreVersion { found: String, line: String },
    #[error(
        "plugin chose app protocol version {found}, but the host offered only [{offered}] in handshake line {line}"
    )]
    AppVersion { found: String, offered: String, line: String },
    #[error("unknown network {found} (expected unix or tcp) in handshake line {line}")]
    Network { found: String, line: String },
    #[error("empty address in handshake line {line}")]
    EmptyAddress { line: String },
    #[error("plugin speaks protocol {found}; this host supports only grpc (netrpc is Go's gob RPC, usable only from Go hosts) in handshake line {line}")]
    Protocol { found: String, line: String },
    #[error("malformed server certificate in handshake line ({reason}): {line}")]
    Certificate { reason: String, line: String },
    #[error("bad multiplexing flag {found} (expected true or false) in handshake line {line}")]
    Mux { found: String, line: String },
}

/// How much of a handshake line an error quotes: a real line is far shorter, and a plugin that
/// prints megabytes must not produce a megabyte error.
pub const MAX_QUOTED_CHARS: usize = 200;

/// The line in double quotes (escaped), cut after [`MAX_QUOTED_CHARS`] characters with a note
/// saying how much was left out.
pub fn quote(line: &str) -> String {
    match line.char_indices().nth(MAX_QUOTED_CHARS) {
        None => format!("{line:?}"),
        Some((cut, _)) => {
            let omitted = line[cut..].chars().count();
            format!("{:?}... ({omitted} more characters not shown)", &line[..cut])
        }
    }
}

/// `text` as is, or cut after [`MAX_QUOTED_CHARS`] characters with the same note (for
/// addresses shown in errors).
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}... ({} more characters not shown)", &text[..cut], text[cut..].chars().count()),
    }
}

/// The line a plugin prints (newline included): `1|APP|unix|PATH|grpc|CERT`, where CERT is the
/// plugin's certificate when it does automatic mTLS (empty otherwise) and, only when the host
/// asked about multiplexing, a seventh field `false` (no broker is served).
pub fn format_unix_line(
    app_version: u32,
    socket_path: &str,
    server_cert: Option<&[u8]>,
    host_asked_mux: bool,
) -> String {
    let mux = if host_asked_mux { "|false" } else { "" };
    let cert = server_cert.map(encode_certificate).unwrap_or_default();
    format!("{}|{app_version}|unix|{socket_path}|grpc|{cert}{mux}\n", crate::CORE_PROTOCOL_VERSION)
}

/// Field 6 as go-plugin writes it: the DER certificate in standard base64 without padding (a PEM
/// would span lines).
pub fn encode_certificate(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(der)
}

/// go-plugin only treats field 6 as a certificate when it is longer than this.
const MIN_CERT_FIELD_LEN: usize = 50;

/// Parses one handshake line, checking it against the app protocol versions the host offered.
pub fn parse(raw_line: &str, offered_versions: &[u32]) -> Result<Handshake, HandshakeError> {
    let line = raw_line.trim();
    let shown = || quote(line);
    let fields: Vec<&str> = line.split('|').map(str::trim).collect();
    if fields.len() < 4 {
        return Err(HandshakeError::Unrecognised { line: shown() });
    }

    if fields[0] != crate::CORE_PROTOCOL_VERSION.to_string() {
        // Any non-numeric first field means this is not a handshake line at all.
        if fields[0].parse::<u64>().is_err() {
            return Err(HandshakeError::Unrecognised { line: shown() });
        }
        return Err(HandshakeError::CoreVersion { found: quote(fields[0]), line: shown() });
    }

    let app_version = match fields[1].parse::<u32>() {
        Ok(v) if offered_versions.contains(&v) => v,
        _ => {
            let offered = offered_versions.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
            return Err(HandshakeError::AppVersion { found: quote(fields[1]), offered, line: shown() });
        }
    };

    if fields[3].is_empty() {
        return Err(HandshakeError::EmptyAddress { line: shown() });
    }
    let address = match fields[2] {
        "unix" => Address::Unix(fields[3].into()),
        "tcp" => Address::Tcp(fields[3].into()),
        other => return Err(HandshakeError::Network { found: quote(other), line: shown() }),
    };

    // A 4-field line states no protocol. go-plugin would assume netrpc; we speak only gRPC,
    // so we assume gRPC and let the connection tell. An explicit netrpc is refused.
    match fields.get(4).copied() {
        None | Some("grpc") => {}
        Some(other) => return Err(HandshakeError::Protocol { found: quote(other), line: shown() }),
    }

    let server_cert = match fields.get(5).copied() {
        Some(cert) if cert.len() > MIN_CERT_FIELD_LEN => {
            Some(decode_certificate(cert).map_err(|reason| HandshakeError::Certificate { reason, line: shown() })?)
        }
        _ => None,
    };

    let multiplexed = match fields.get(6).copied() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return Err(HandshakeError::Mux { found: quote(other), line: shown() }),
    };

    Ok(Handshake { app_version, address, server_cert, multiplexed })
}

/// Decodes field 6: base64 (standard alphabet, padding optional) of one DER certificate.
fn decode_certificate(field: &str) -> Result<Vec<u8>, String> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let der = engine.decode(field).map_err(|e| format!("not base64: {e}"))?;
    check_der_sequence(&der)?;
    Ok(der)
}

/// A certificate is one DER SEQUENCE spanning exactly the decoded bytes.
fn check_der_sequence(der: &[u8]) -> Result<(), String> {
    let bad = |why: &str| Err(format!("not a DER certificate: {why}"));
    if der.len() < 2 || der[0] != 0x30 {
        return bad("does not start with a SEQUENCE");
    }
    let (content_len, header_len) = match der[1] {
        n if n < 0x80 => (n as usize, 2),
        n => {
            let width = (n & 0x7f) as usize;
            if width == 0 || width > 4 || der.len() < 2 + width {
                return bad("bad length");
            }
            let len = der[2..2 + width].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (len, 2 + width)
        }
    };
    if header_len + content_len != der.len() {
        return bad("length does not match the data");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_writer_prints_the_parser_accepts() {
        assert_eq!(format_unix_line(1, "/tmp/plugin42", None, false), "1|1|unix|/tmp/plugin42|grpc|\n");
        assert_eq!(format_unix_line(2, "/d/plugin7", None, true), "1|2|unix|/d/plugin7|grpc||false\n");
        let parsed = parse(&format_unix_line(1, "/tmp/p1", None, true), &[1]).unwrap();
        assert_eq!(parsed.address, Address::Unix("/tmp/p1".into()));
        assert_eq!(parsed.multiplexed, Some(false));
    }

    #[test]
    fn a_printed_certificate_reads_back_as_its_der() {
        // A minimal DER SEQUENCE longer than go-plugin's 50-character threshold once encoded.
        let der: Vec<u8> = [vec![0x30, 0x40], vec![7u8; 0x40]].concat();
        let line = format_unix_line(1, "/d/p", Some(&der), false);
        assert!(!line.contains('='), "go-plugin writes no padding: {line}");
        assert_eq!(parse(&line, &[1]).unwrap().server_cert, Some(der));
    }

    fn ok(line: &str) -> Handshake {
        parse(line, &[1]).unwrap_or_else(|e| panic!("{line:?} refused: {e}"))
    }

    fn err(line: &str) -> HandshakeError {
        parse(line, &[1]).expect_err(line)
    }

    fn fake_cert_b64() -> String {
        let mut der = vec![0x30, 0x81, 100];
        der.extend(std::iter::repeat_n(7u8, 100));
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(der)
    }

    #[test]
    fn accepts_every_field_count_and_whitespace() {
        let unix = Address::Unix("/tmp/plugin1".into());
        assert_eq!(ok("1|1|unix|/tmp/plugin1").address, unix);
        assert_eq!(ok("1|1|unix|/tmp/plugin1|grpc").address, unix);
        assert_eq!(ok("1|1|unix|/tmp/plugin1|grpc|").address, unix);
        assert_eq!(ok("1|1|unix|/tmp/plugin1|grpc||false").multiplexed, Some(false));
        assert_eq!(ok("1|1|unix|/tmp/plugin1|grpc||true").multiplexed, Some(true));
        assert_eq!(ok("  1|1|unix|/tmp/plugin1|grpc|\r\n").address, unix);
        assert_eq!(ok("1|1|tcp|127.0.0.1:1234|grpc").address, Address::Tcp("127.0.0.1:1234".into()));
    }

    #[test]
    fn short_field_six_is_not_a_certificate() {
        assert_eq!(ok("1|1|unix|/tmp/p|grpc|short").server_cert, None);
    }

    #[test]
    fn decodes_a_certificate() {
        let line = format!("1|1|unix|/tmp/p|grpc|{}", fake_cert_b64());
        assert_eq!(ok(&line).server_cert.unwrap().len(), 103);
    }

    #[test]
    fn picks_the_offered_version() {
        assert_eq!(parse("1|3|unix|/p|grpc|", &[2, 3]).unwrap().app_version, 3);
        match parse("1|4|unix|/p|grpc|", &[2, 3]).unwrap_err() {
            HandshakeError::AppVersion { found, offered, .. } => {
                assert_eq!(found, "\"4\"");
                assert_eq!(offered, "2, 3");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn refusals_name_the_problem_and_show_the_line() {
        let cases: &[(&str, &str)] = &[
            ("hello world", "unrecognised"),
            ("", "unrecognised"),
            ("1|1|unix", "unrecognised"),
            ("starting up|a|b|c", "unrecognised"),
            ("2|1|unix|/p|grpc|", "core protocol version \"2\""),
            ("1|7|unix|/p|grpc|", "app protocol version \"7\""),
            ("1|x|unix|/p|grpc|", "app protocol version \"x\""),
            ("1|1|udp|/p|grpc|", "unknown network \"udp\""),
            ("1|1|unix||grpc|", "empty address"),
            ("1|1|unix|/p|netrpc|", "protocol \"netrpc\""),
            ("1|1|unix|/p|grpc||maybe", "multiplexing flag"),
        ];
        for (line, expected) in cases {
            let message = err(line).to_string();
            assert!(message.contains(expected), "{line}: {message}");
            assert!(message.contains(&format!("{:?}", line.trim())), "{line}: {message}");
        }
    }

    #[test]
    fn long_lines_are_quoted_only_in_part() {
        let long = format!("1|1|unix|/p|grpc|{}", "é".repeat(10 << 20));
        let message = err(&long).to_string();
        assert!(message.len() < 1000, "{} characters", message.len());
        assert!(message.contains("more characters not shown"), "{message}");
        assert!(message.contains("1|1|unix|/p|grpc|"), "{message}");
        assert_eq!(quote("short"), "\"short\"");
    }

    #[test]
    fn refuses_malformed_certificates() {
        let not_base64 = format!("1|1|unix|/p|grpc|{}", "!".repeat(60));
        assert!(err(&not_base64).to_string().contains("not base64"));
        let not_der =
            format!("1|1|unix|/p|grpc|{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode([1u8; 60]));
        assert!(err(&not_der).to_string().contains("not a DER certificate"));
    }
}
