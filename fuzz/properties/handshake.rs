//! The property the `handshake` fuzz target checks, and the replay test in
//! crates/protocol/tests/fuzz_regressions.rs re-checks: see docs/fuzzing.md.

use hector_plugins_protocol::handshake::{encode_certificate, format_unix_line, parse, Address, MAX_QUOTED_CHARS};

/// App protocol versions offered while fuzzing: the usual small ones, and the largest.
const OFFERED: [u32; 4] = [1, 2, 3, u32::MAX];

/// The input is one stdout line of a plugin (not UTF-8: replaced, as the host reads it).
/// Parsing never panics; a refusal quotes only the start of the line (docs/protocol.md §2.2);
/// and a line the SDK's writer can also print (a unix socket, no certificate, no multiplexing)
/// reads back the same after being written again.
pub fn check(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    match parse(&line, &OFFERED) {
        Err(error) => {
            // At most two quotes (the line and one field) of MAX_QUOTED_CHARS characters, each
            // escaped to at most 10 bytes (`\u{10ffff}`), plus the fixed wording.
            let bound = 2 * (MAX_QUOTED_CHARS * 10 + 64) + 400;
            let message = error.to_string();
            assert!(message.len() <= bound, "a {}-byte message for a {}-byte line", message.len(), line.len());
        }
        Ok(handshake) => {
            let Address::Unix(path) = &handshake.address else { return };
            if handshake.multiplexed == Some(true) {
                return; // the writer never prints this
            }
            if handshake.server_cert.as_ref().is_some_and(|der| encode_certificate(der).len() <= 50) {
                return; // padding made it long enough to count; unpadded it is too short for a certificate
            }
            let path = path.to_str().expect("parsed from a str");
            let cert = handshake.server_cert.as_deref();
            let written = format_unix_line(handshake.app_version, path, cert, handshake.multiplexed.is_some());
            assert_eq!(parse(&written, &OFFERED).as_ref(), Ok(&handshake), "{line:?} written again as {written:?}");
        }
    }
}
