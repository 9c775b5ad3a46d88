//! One health check (docs/supervision.md, "Health"): `grpc.health.v1` `Check` of service
//! "plugin" (docs/protocol.md §3.3), then the `Health` RPC of the plugin's `hector.plugin`
//! service when it has one (§7.2); an MCP server's `ping` (§10.3). A check the plugin does not
//! serve (UNIMPLEMENTED) counts as passed: many plugins have only one of the two.

use crate::plugin::Plugin;
use crate::proto::health::health_check_response::ServingStatus;
use crate::proto::health::health_client::HealthClient;
use crate::proto::health::HealthCheckRequest;
use std::time::Duration;

/// Checks `plugin` within `timeout`: `Ok(message)` when healthy, `Err(why)` otherwise.
pub async fn probe(plugin: &Plugin, timeout: Duration) -> Result<String, String> {
    match tokio::time::timeout(timeout, check(plugin)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("no answer to its health check within {:.3}s", timeout.as_secs_f64())),
    }
}

async fn check(plugin: &Plugin) -> Result<String, String> {
    if let Some(session) = plugin.mcp_session() {
        return session.ping().await.map(|()| "answered MCP ping".into()).map_err(|e| format!("MCP ping failed: {e}"));
    }
    let channel = plugin.channel();
    let mut grpc = HealthClient::with_origin(channel.clone(), crate::transport::origin());
    match grpc.check(HealthCheckRequest { service: "plugin".into() }).await {
        Ok(answer) => {
            let status = answer.into_inner().status;
            if status != ServingStatus::Serving as i32 {
                let name = ServingStatus::try_from(status).map(|s| s.as_str_name()).unwrap_or("an unknown status");
                return Err(format!("grpc.health.v1 says {name} for service \"plugin\""));
            }
        }
        Err(status) if status.code() == tonic::Code::Unimplemented => {}
        Err(status) => return Err(format!("grpc.health.v1 check failed: {}", status.message())),
    }
    let Some(service) = plugin.kind.service() else { return Ok("SERVING".into()) };
    match crate::lifecycle::health(&channel, service).await {
        Ok(answer) if answer.healthy => Ok(answer.message),
        Ok(answer) => Err(format!("its Health RPC says unhealthy: {}", answer.message)),
        Err(status) if status.code() == tonic::Code::Unimplemented => Ok("SERVING".into()),
        Err(status) => Err(format!("its Health RPC failed: {}", status.message())),
    }
}
