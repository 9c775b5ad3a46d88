//! The lifecycle every plugin type shares: `Initialize`, `Shutdown`, `Health`, `GetManifest`,
//! `GetStatus` (docs/protocol.md §7.2).

use super::PluginError;
use crate::proto::hector::ManifestResponse;
use std::collections::HashMap;

/// The config the host sends with `Initialize`: the entry's `config:` with the manifest's
/// defaults applied, every value a string.
pub type Config = HashMap<String, String>;

/// The common lifecycle of a plugin. Every method has a default, so a plugin that needs no
/// config, no cleanup and no health check of its own writes `impl Lifecycle for MyPlugin {}`.
#[tonic::async_trait]
pub trait Lifecycle: Send + Sync + 'static {
    /// Called once before any other call, with the host's config. An error refuses the config:
    /// the host's load fails with its message (`InitializeResponse.error`), so say which key is
    /// wrong and why.
    async fn initialize(&self, config: Config) -> Result<(), PluginError> {
        let _ = config;
        Ok(())
    }

    /// The first step of the host's shutdown: release what the plugin holds. The server stops
    /// afterwards, on the host's `GRPCController/Shutdown` or a signal.
    async fn shutdown(&self) -> Result<(), PluginError> {
        Ok(())
    }

    /// Whether the plugin can serve: `Ok` is healthy, with a message for the caller (may be
    /// empty, the default); an error is reported as unhealthy with its message.
    async fn health(&self) -> Result<String, PluginError> {
        Ok(String::new())
    }

    /// The state this plugin keeps in memory, for the host to hand to the next process after a
    /// crash or a reload (docs/protocol.md §7.2); `None` (the default): nothing to keep. The
    /// host asks at every health check and before a reload, so keep it cheap.
    async fn get_state(&self) -> Result<Option<Vec<u8>>, PluginError> {
        Ok(None)
    }

    /// Takes over the state an earlier process of this plugin gave ([`Lifecycle::get_state`]),
    /// after `initialize` and before any other call. An error fails the start.
    async fn restore_state(&self, state: Vec<u8>) -> Result<(), PluginError> {
        let _ = state;
        Ok(())
    }

    /// What `GetManifest` answers (hosts read `<executable>.plugin.yaml` first). Left empty,
    /// `type` is filled in with the plugin's type and `protocol` with `grpc`.
    fn manifest(&self) -> ManifestResponse {
        ManifestResponse::default()
    }
}
