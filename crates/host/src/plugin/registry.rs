//! Every plugin alive in this process, across all managers, so the host's exit path can stop
//! them all (docs/protocol.md §6.3).

use super::state::State;
use super::Plugin;
use std::sync::{Arc, Mutex, Weak};

static LIVE: Mutex<Vec<Weak<Plugin>>> = Mutex::new(Vec::new());

pub(super) fn register(plugin: &Arc<Plugin>) {
    let mut live = LIVE.lock().unwrap();
    live.retain(|weak| weak.strong_count() > 0);
    live.push(Arc::downgrade(plugin));
}

/// Every plugin not yet stopped, across all managers.
pub fn live_plugins() -> Vec<Arc<Plugin>> {
    LIVE.lock()
        .unwrap()
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|p| p.state() != State::Stopped && p.owned_by_this_process())
        .collect()
}
