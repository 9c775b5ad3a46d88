//! hector-plugins: launch, supervise and call out-of-process gRPC plugins, wire-compatible with
//! HashiCorp go-plugin and Hector's `hector.plugin` services.
//!
//! Data flows one way: config → launch → handshake → connect → initialize → manager → typed
//! client. The core (everything outside `python`) knows nothing of Python.

pub mod clients;
pub mod config;
pub mod discovery;
pub mod envexpand;
pub mod error;
pub mod handshake;
pub mod keeper;
pub mod kind;
pub mod launch;
pub mod lifecycle;
pub mod logs;
pub mod manager;
pub mod manifest;
pub mod names;
pub mod peer;
pub mod plugin;
pub mod proto;
pub mod runtime;
pub mod sdk;
pub mod stdio;
pub mod transport;
pub mod yaml;

pub use error::{Error, Result};
pub use kind::PluginKind;
pub use manager::Manager;
pub use plugin::{Plugin, PluginSpec, State};

// Lets the PyO3 layer name the core by its crate name, as an outside user would.
#[cfg(feature = "python")]
extern crate self as hector_plugins;

#[cfg(feature = "python")]
mod python;
