//! The lifecycle RPCs: `Initialize`, `Shutdown` and `Health`, which every `hector.plugin` provider service
//! starts with (docs/protocol.md §7.2), and go-plugin's controller `Shutdown` (§8.1).
//!
//! They are called by path with the common request/response messages, so one implementation
//! serves every provider kind. They need only the connection: the plugin module calls them and
//! maps their failures, this module knows nothing of it.

use crate::proto::goplugin::grpc_controller_client::GrpcControllerClient;
use crate::proto::hector::{
    GetStateRequest, GetStateResponse, HealthRequest, HealthResponse, InitializeRequest, InitializeResponse,
    RestoreStateRequest, RestoreStateResponse, ShutdownRequest, ShutdownResponse,
};
use crate::transport::{origin, PluginChannel};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long a plugin may take for each of its own `Shutdown` RPCs before we stop asking.
const SHUTDOWN_RPC_TIMEOUT: Duration = Duration::from_secs(2);

/// Why `Initialize` did not succeed.
#[derive(Debug)]
pub enum InitializeError {
    /// The call failed; only the caller can tell a crash from the plugin's own error.
    Call(tonic::Status),
    /// The plugin answered `success=false`, with this reason.
    Refused(String),
}

/// `Initialize` of `service` with the plugin's configuration.
pub async fn initialize(
    channel: &PluginChannel,
    service: &str,
    config: &BTreeMap<String, serde_json::Value>,
) -> Result<(), InitializeError> {
    let request = InitializeRequest { config: stringify_config(config) };
    let response: InitializeResponse =
        call(channel, service, "Initialize", request).await.map_err(InitializeError::Call)?;
    if !response.success {
        let reason = if response.error.is_empty() { "no reason given".into() } else { response.error };
        return Err(InitializeError::Refused(reason));
    }
    Ok(())
}

/// Asks the plugin to exit (docs/protocol.md §6.1 steps 1 and 2): the service's own `Shutdown`
/// (`service` is `None` for a plugin without one), then go-plugin's controller `Shutdown`. Each
/// waits at most `SHUTDOWN_RPC_TIMEOUT`; answers and errors are irrelevant, since the caller
/// stops the plugin anyway.
pub async fn ask_to_exit(channel: &PluginChannel, service: Option<&str>) {
    if let Some(service) = service {
        let shutdown = call::<_, ShutdownResponse>(channel, service, "Shutdown", ShutdownRequest {});
        let _ = tokio::time::timeout(SHUTDOWN_RPC_TIMEOUT, shutdown).await;
    }
    let mut controller = GrpcControllerClient::with_origin(channel.clone(), origin());
    // Go plugins stop their server inside this call: the status is often UNAVAILABLE.
    let _ = tokio::time::timeout(SHUTDOWN_RPC_TIMEOUT, controller.shutdown(crate::proto::goplugin::Empty {})).await;
}

/// `Health` of `service`: every `hector.plugin` service has it (docs/protocol.md §7.2).
pub async fn health(channel: &PluginChannel, service: &str) -> Result<HealthResponse, tonic::Status> {
    call(channel, service, "Health", HealthRequest {}).await
}

/// `GetState` (docs/protocol.md §7.2): the plugin's state, `None` when it has none to keep.
pub async fn get_state(channel: &PluginChannel, service: &str) -> Result<Option<Vec<u8>>, tonic::Status> {
    let answer: GetStateResponse = call(channel, service, "GetState", GetStateRequest {}).await?;
    Ok(answer.has_state.then_some(answer.state))
}

/// `RestoreState`: hands `state` to a new process; a refusal is `InitializeError::Refused`.
pub async fn restore_state(channel: &PluginChannel, service: &str, state: Vec<u8>) -> Result<(), InitializeError> {
    let answer: RestoreStateResponse =
        call(channel, service, "RestoreState", RestoreStateRequest { state }).await.map_err(InitializeError::Call)?;
    if !answer.success {
        let reason = if answer.error.is_empty() { "no reason given".into() } else { answer.error };
        return Err(InitializeError::Refused(reason));
    }
    Ok(())
}

/// Hector sent only string values; we send every scalar as text and nested values as JSON.
pub fn stringify_config(config: &BTreeMap<String, serde_json::Value>) -> HashMap<String, String> {
    config
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect()
}

async fn call<Req, Resp>(
    channel: &PluginChannel,
    service: &str,
    method: &str,
    request: Req,
) -> Result<Resp, tonic::Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let path = http::uri::PathAndQuery::try_from(format!("/{service}/{method}")).expect("valid path");
    crate::rpc::unary(channel, path, tonic_prost::ProstCodec::<Req, Resp>::default(), request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_stringified_and_nested_values_become_json() {
        let config: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(r#"{"s":"x","b":true,"i":30,"f":0.7,"list":[1,"a"],"map":{"k":1},"none":null}"#)
                .unwrap();
        let out = stringify_config(&config);
        assert_eq!(out["s"], "x");
        assert_eq!(out["b"], "true");
        assert_eq!(out["i"], "30");
        assert_eq!(out["f"], "0.7");
        assert_eq!(out["list"], r#"[1,"a"]"#);
        assert_eq!(out["map"], r#"{"k":1}"#);
        assert!(!out.contains_key("none"));
    }
}
