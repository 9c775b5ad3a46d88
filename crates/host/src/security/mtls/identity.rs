//! The host's own certificate for automatic mTLS (docs/protocol.md §3.5): made once per host
//! process, handed to a plugin as `PLUGIN_CLIENT_CERT` and presented on its TLS connection. Only
//! the certificate leaves the process; its key never does.

pub use hector_plugins_protocol::tls::Identity;
use std::sync::{Arc, OnceLock};

/// The host's identity, generated on first use.
pub fn host_identity() -> Result<Arc<Identity>, String> {
    static IDENTITY: OnceLock<Result<Arc<Identity>, String>> = OnceLock::new();
    IDENTITY.get_or_init(|| generate().map(Arc::new)).clone()
}

/// A fresh certificate (docs/protocol.md §3.5 describes its shape).
pub fn generate() -> Result<Identity, String> {
    Identity::generate().map_err(|e| format!("cannot generate the automatic mTLS certificate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_is_made_once() {
        assert!(Arc::ptr_eq(&host_identity().unwrap(), &host_identity().unwrap()));
    }
}
