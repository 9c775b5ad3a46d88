//! The order plugins stop in (docs/supervision.md, "Dependencies"): a plugin stops only once
//! every plugin that depends on it has stopped; independent ones stop concurrently. Used by
//! `Manager::shutdown` and by the embedding layer's exit hook (which stops the plugins of every
//! manager at once: names may repeat, so plugins are told apart by identity, not by name).

use super::load_all::dependency_order_of;
use crate::plugin::Plugin;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::sync::Arc;
use std::time::Duration;

/// Stops `plugins` (each within `grace`, else its own `shutdown_grace`) in reverse dependency
/// order; `stopped` hears of each one that was still running.
pub async fn stop_in_dependency_order(
    plugins: Vec<Arc<Plugin>>,
    grace: Option<Duration>,
    stopped: &(dyn Fn(&Plugin) + Sync),
) {
    let ordered = dependency_order_of(plugins, |plugin| plugin.spec());
    let mut stops: Vec<(Arc<Plugin>, Shared<BoxFuture<'_, ()>>)> = Vec::with_capacity(ordered.len());
    // Dependents come last in `ordered`: walking it backwards, each plugin's dependents already
    // have their stop, which its own waits for.
    for plugin in ordered.into_iter().rev() {
        let dependents: Vec<_> = stops
            .iter()
            .filter(|(other, _)| other.spec().supervision.dependencies().any(|(name, _)| name == plugin.name))
            .map(|(_, stop)| stop.clone())
            .collect();
        let stopping = plugin.clone();
        let stop = async move {
            futures_util::future::join_all(dependents).await;
            let was_running = !stopping.is_finished();
            stopping.shutdown(grace.unwrap_or_else(|| stopping.shutdown_grace())).await;
            if was_running {
                stopped(&stopping);
            }
        };
        stops.push((plugin, stop.boxed().shared()));
    }
    futures_util::future::join_all(stops.into_iter().map(|(_, stop)| stop)).await;
}
