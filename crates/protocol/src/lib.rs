//! The wire contract of hector-plugins (docs/protocol.md), shared by the host
//! (`hector-plugins-host`) and the plugin SDK (`hector-plugins-sdk`): the generated gRPC code,
//! every protocol constant, and the handshake line's writer and parser; with the `tls` feature,
//! automatic mTLS's certificates. No I/O.

pub mod env;
pub mod handshake;
pub mod log_level;
pub mod proto;
#[cfg(feature = "tls")]
pub mod tls;

/// The go-plugin core protocol version, field 1 of the handshake line (docs/protocol.md §2).
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// The largest gRPC message either side may ever allow: 2^31-1 bytes, what go-plugin hosts use
/// (docs/protocol.md §3.2).
pub const MAX_MESSAGE_SIZE_LIMIT: usize = i32::MAX as usize;

/// The service name go-plugin's health service reports as SERVING (docs/protocol.md §8.4).
pub const PLUGIN_HEALTH_SERVICE: &str = "plugin";
