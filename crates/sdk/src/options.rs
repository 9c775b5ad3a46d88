//! How a plugin identifies itself to its host and how long it lets calls finish when stopped.

use crate::{SdkError, ShutdownHandle, HECTOR_COOKIE_KEY, HECTOR_COOKIE_VALUE, HECTOR_PROTOCOL_VERSION};
use std::time::Duration;

/// How a plugin identifies itself to its host. [`Default`] gives Hector's values.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Environment variable holding the magic cookie (Hector: `HECTOR_PLUGIN`).
    pub magic_cookie_key: String,
    /// Expected cookie value (Hector: `hector_plugin_v1`).
    pub magic_cookie_value: String,
    /// App protocol versions this plugin speaks (Hector: `[1]`). The highest one the host also
    /// offers is announced; go-plugin's `VersionedPlugins` work the same way.
    pub protocol_versions: Vec<u32>,
    /// How long in-flight calls may run after a stop was requested before their connections are
    /// dropped. Default 1 s: go-plugin hosts kill a plugin 2 s after asking it to stop.
    pub shutdown_grace: Duration,
    /// Stops the server when triggered; clone it before passing the options to [`serve`] to stop
    /// the plugin from your own code. `GRPCController/Shutdown` and signals trigger it too.
    ///
    /// [`serve`]: crate::serve
    pub shutdown: ShutdownHandle,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self::new(HECTOR_COOKIE_KEY, HECTOR_COOKIE_VALUE, HECTOR_PROTOCOL_VERSION)
    }
}

impl ServeOptions {
    /// Options for another plugin family (go-plugin's `HandshakeConfig`).
    pub fn new(
        magic_cookie_key: impl Into<String>,
        magic_cookie_value: impl Into<String>,
        protocol_version: u32,
    ) -> Self {
        Self {
            magic_cookie_key: magic_cookie_key.into(),
            magic_cookie_value: magic_cookie_value.into(),
            protocol_versions: vec![protocol_version],
            shutdown_grace: Duration::from_secs(1),
            shutdown: ShutdownHandle::new(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), SdkError> {
        if self.magic_cookie_key.is_empty() || self.magic_cookie_value.is_empty() {
            return Err(SdkError::InvalidOptions("the magic cookie key and value must both be non-empty".into()));
        }
        if self.magic_cookie_key.contains('=') || self.magic_cookie_key.contains('\0') {
            return Err(SdkError::InvalidOptions(format!(
                "magic cookie key {:?} is not a valid environment variable name",
                self.magic_cookie_key
            )));
        }
        if self.protocol_versions.is_empty() {
            return Err(SdkError::InvalidOptions("protocol_versions is empty".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let opts = ServeOptions::default();
        assert_eq!(
            (opts.magic_cookie_key.as_str(), opts.magic_cookie_value.as_str(), opts.protocol_versions.as_slice()),
            ("HECTOR_PLUGIN", "hector_plugin_v1", &[1][..])
        );
        assert!(opts.validate().is_ok());
        assert!(ServeOptions::new("", "v", 1).validate().is_err());
        assert!(ServeOptions::new("K=V", "v", 1).validate().is_err());
        let mut no_versions = ServeOptions::new("K", "v", 1);
        no_versions.protocol_versions.clear();
        assert!(no_versions.validate().is_err());
    }
}
