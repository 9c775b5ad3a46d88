//! Crash detection (docs/protocol.md §3.2, §6.2): a plugin whose process exits, or that closes
//! its gRPC connection, while nobody asked it to stop is marked crashed; calls then fail at
//! once with `Crashed` until a restart replaces it.

use super::state::{ExitInfo, State};
use super::Plugin;
use crate::logs::{Level, LogRecord, Source};
use crate::transport::ConnectionClosed;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::watch;

impl Plugin {
    /// Ready → Crashed, unless a shutdown is under way. True if this call made the change.
    pub(super) fn mark_crashed(&self) -> bool {
        self.state.send_if_modified(|state| {
            let unexpected = *state == State::Ready && !self.stopping.load(Ordering::SeqCst);
            if unexpected {
                *state = State::Crashed;
            }
            unexpected
        })
    }

    /// Watches the process's exit and the gRPC connection's end for as long as the plugin
    /// lives. An MCP session that ends without an exit is found by the next call
    /// (`ensure_callable`, `call_error`).
    pub(super) fn watch_for_crashes(self: &Arc<Self>, closed: Option<ConnectionClosed>) {
        if let Some(process) = &self.process {
            tokio::spawn(watch_exit(Arc::downgrade(self), process.exit_watch()));
        }
        if let Some(closed) = closed {
            tokio::spawn(watch_connection(Arc::downgrade(self), closed));
        }
    }

    fn log_error(&self, message: String) {
        self.sink.log(LogRecord::plain(self.name.clone(), Level::Error, message, Source::Stderr));
    }
}

/// Marks the plugin crashed when its process exits while nobody asked it to.
async fn watch_exit(plugin: Weak<Plugin>, mut exit: watch::Receiver<Option<ExitInfo>>) {
    let _ = exit.wait_for(Option::is_some).await;
    let Some(plugin) = plugin.upgrade() else { return };
    plugin.mark_crashed();
    if plugin.is_stopping() || plugin.state() != State::Crashed {
        return;
    }
    let exit = exit.borrow().map(|e| e.to_string()).unwrap_or_default();
    plugin.log_error(format!("plugin exited unexpectedly ({exit})"));
    plugin.remove_socket_dir();
}

/// A plugin that closes its gRPC connection while it should be serving can never answer
/// again: it is marked crashed and its process group is killed.
async fn watch_connection(plugin: Weak<Plugin>, closed: ConnectionClosed) {
    let _ = closed.await;
    // An exit explains it better: let the exit watcher report that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let Some(plugin) = plugin.upgrade() else { return };
    if !plugin.has_exited() && plugin.mark_crashed() {
        plugin.log_error("plugin closed its gRPC connection while running; it was killed".into());
        plugin.kill_process();
    }
}
