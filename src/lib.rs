//! hector-plugins: launch, supervise and call out-of-process gRPC plugins.
//!
//! The core (everything outside `python`) knows nothing of Python.

pub mod proto;
pub mod handshake;
pub mod sdk;

#[cfg(feature = "python")]
mod python;
