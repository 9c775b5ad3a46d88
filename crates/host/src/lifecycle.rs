//! The lifecycle RPCs every `hector.plugin` provider service starts with (docs/protocol.md §7.2).
//!
//! They are called by path with the common request/response messages, so one implementation
//! serves every provider kind.

use crate::error::{Error, Result};
use crate::plugin::Plugin;
use crate::proto::hector::{InitializeRequest, InitializeResponse, ShutdownRequest, ShutdownResponse};
use std::collections::{BTreeMap, HashMap};

/// `Initialize` with the plugin's configuration; `success=false` fails the load.
pub async fn initialize(plugin: &Plugin, config: &BTreeMap<String, serde_json::Value>) -> Result<()> {
    let Some(service) = plugin.kind.service() else { return Ok(()) };
    let request = InitializeRequest { config: stringify_config(config) };
    let response: InitializeResponse = unary(plugin, service, "Initialize", request).await?;
    if !response.success {
        let reason = if response.error.is_empty() { "no reason given".into() } else { response.error };
        return Err(Error::Call {
            plugin: plugin.name.clone(),
            method: "Initialize".into(),
            code: tonic::Code::FailedPrecondition,
            message: format!("the plugin refused its configuration: {reason}"),
        });
    }
    Ok(())
}

/// The service's own `Shutdown`; errors are irrelevant to the caller, who stops the plugin anyway.
pub async fn shutdown(plugin: &Plugin) {
    if let Some(service) = plugin.kind.service() {
        let _: Result<ShutdownResponse> = unary(plugin, service, "Shutdown", ShutdownRequest {}).await;
    }
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

async fn unary<Req, Resp>(plugin: &Plugin, service: &str, method: &str, request: Req) -> Result<Resp>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let mut grpc = plugin.channel().grpc();
    grpc.ready().await.map_err(|e| Error::Call {
        plugin: plugin.name.clone(),
        method: method.into(),
        code: tonic::Code::Unavailable,
        message: e.to_string(),
    })?;
    let path = http::uri::PathAndQuery::try_from(format!("/{service}/{method}")).expect("valid path");
    let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
    match grpc.unary(tonic::Request::new(request), path, codec).await {
        Ok(response) => Ok(response.into_inner()),
        Err(status) => Err(plugin.call_error(method, status).await),
    }
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
