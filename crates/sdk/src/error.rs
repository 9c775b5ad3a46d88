//! The SDK's error type: why a plugin could not be served.

use crate::env;
use std::path::PathBuf;

/// Everything that can stop [`serve`](crate::serve).
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The options themselves are unusable (a bug in the plugin).
    #[error("invalid plugin serve options: {0}")]
    InvalidOptions(String),
    /// The cookie variable is missing or wrong: the binary was run by hand.
    #[error("{msg}\n(the host sets {cookie_key}; it is missing or has the wrong value)", msg = env::NOT_A_PROGRAM_MESSAGE)]
    NotLaunchedByHost {
        /// The cookie's environment variable.
        cookie_key: String,
    },
    /// None of our app protocol versions is in the host's `PLUGIN_PROTOCOL_VERSIONS`.
    #[error("plugin protocol version mismatch: the host accepts PLUGIN_PROTOCOL_VERSIONS={host:?}, this plugin speaks {ours:?}; upgrade whichever side is older")]
    NoCommonVersion {
        /// The host's list, as given.
        host: String,
        /// Our versions.
        ours: Vec<u32>,
    },
    /// The unix socket could not be created.
    #[error("cannot listen on unix socket {}: {source}", path.display())]
    Listen {
        /// The socket path tried last.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `PLUGIN_UNIX_SOCKET_GROUP` could not be applied.
    #[error("cannot give the plugin socket to group {group:?}: {source}")]
    SocketGroup {
        /// The group as given.
        group: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The handshake line could not be written to stdout.
    #[error("cannot write the handshake line to stdout: {0}")]
    Handshake(#[source] std::io::Error),
    /// A signal handler could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signal(#[source] std::io::Error),
    /// `PLUGIN_CLIENT_CERT` holds no usable certificate, or ours could not be made.
    #[error("automatic mTLS: {0}")]
    Mtls(String),
    /// The gRPC server failed.
    #[error("plugin gRPC server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}
