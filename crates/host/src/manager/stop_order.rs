//! The order plugins stop in (docs/supervision.md, "Dependencies"): a plugin stops only once
//! every plugin that depends on it has stopped; independent ones stop concurrently. Used by
//! `Manager::shutdown` and by the embedding layer's exit hook.

use super::load_all::dependency_order;
use crate::plugin::Plugin;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Stops `plugins` (each within `grace`, else its own `shutdown_grace`) in reverse dependency
/// order; `stopped` hears of each one that was still running.
pub async fn stop_in_dependency_order(
    plugins: Vec<Arc<Plugin>>,
    grace: Option<Duration>,
    stopped: &(dyn Fn(&Plugin) + Sync),
) {
    let specs = dependency_order(plugins.iter().map(|p| p.spec().clone()).collect());
    let mut stops: HashMap<String, Shared<BoxFuture<'_, ()>>> = HashMap::new();
    // Dependents come last in `specs`: walking it backwards, each plugin's dependents already
    // have their stop, which its own waits for.
    for spec in specs.iter().rev() {
        let Some(plugin) = plugins.iter().find(|p| p.name == spec.name).cloned() else { continue };
        let dependents: Vec<_> = specs
            .iter()
            .filter(|other| other.supervision.dependencies().any(|(name, _)| name == spec.name))
            .filter_map(|other| stops.get(&other.name).cloned())
            .collect();
        let stop = async move {
            futures_util::future::join_all(dependents).await;
            let was_running = !plugin.is_finished();
            plugin.shutdown(grace.unwrap_or_else(|| plugin.shutdown_grace())).await;
            if was_running {
                stopped(&plugin);
            }
        };
        stops.insert(spec.name.clone(), stop.boxed().shared());
    }
    futures_util::future::join_all(stops.into_values()).await;
}
