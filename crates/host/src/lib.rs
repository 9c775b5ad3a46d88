//! The hector-plugins host core: launch, supervise and call out-of-process gRPC plugins,
//! wire-compatible with HashiCorp go-plugin and Hector's `hector.plugin` services.
//!
//! Data flows one way: config → launch → handshake → connect → initialize → manager → typed
//! client (docs/architecture.md). Nothing here knows of Python or serves gRPC.

pub mod clients;
pub mod config;
pub mod discovery;
pub mod envexpand;
pub mod error;
#[cfg(target_os = "linux")]
pub mod keeper;
pub mod kind;
pub mod launch;
pub mod lifecycle;
pub mod log_budget;
pub mod logs;
pub mod manager;
pub mod manifest;
pub mod mcp;
pub mod names;
pub mod peer;
pub mod plugin;
pub mod policy;
pub mod portable_launcher;
pub mod provider;
pub mod rpc;
pub mod runtime;
pub mod security;
pub mod stdio;
pub mod supervised;
pub mod supervisor;
pub mod target;
pub mod transport;
pub mod yaml;

/// The wire contract this host speaks (generated code, the handshake line).
pub use hector_plugins_protocol::{handshake, proto};

pub use error::{Error, Result};
pub use kind::PluginKind;
pub use manager::Manager;
pub use plugin::{Plugin, PluginSpec, State};
