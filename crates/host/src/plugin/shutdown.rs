//! Stopping a plugin (docs/protocol.md §6.1): asked to exit, given its grace period, then killed
//! through its launcher, reaped, its socket directory removed. Idempotent, and safe to abandon:
//! the work runs in a task of its own, every caller waits for the same outcome.

use super::state::State;
use super::Plugin;
use crate::lifecycle;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

impl Plugin {
    /// Graceful shutdown: the service's own `Shutdown`, go-plugin's controller `Shutdown`, a
    /// grace period, then the whole process group is killed and reaped. A caller that gives up
    /// (a cancelled `await`) cannot leave the plugin half stopped.
    pub async fn shutdown(self: &Arc<Self>, grace: Duration) {
        if !self.stopping.swap(true, Ordering::SeqCst) {
            let plugin = self.clone();
            tokio::spawn(async move { plugin.stop_gracefully(grace).await });
        }
        let mut state = self.state.subscribe();
        let _ = state.wait_for(|s| *s == State::Stopped).await;
    }

    /// Everything before the kill fits in `grace`: the plugin's own RPCs share it with the wait
    /// for its exit, so a frozen plugin costs its caller `grace`, not fixed RPC timeouts on top.
    async fn stop_gracefully(&self, grace: Duration) {
        self.state.send_replace(State::Stopping);
        let deadline = tokio::time::Instant::now() + grace;
        if !self.has_exited() {
            let ask_to_exit = lifecycle::ask_to_exit(&self.channel, self.kind.service());
            let _ = tokio::time::timeout_at(deadline, ask_to_exit).await;
        }
        if tokio::time::timeout_at(deadline, self.process.exited()).await.is_err() {
            self.killed.store(true, Ordering::SeqCst);
        }
        self.finish().await;
    }

    /// Kills without asking (failed start).
    pub async fn kill_now(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        if !self.has_exited() {
            self.killed.store(true, Ordering::SeqCst);
        }
        self.finish().await;
    }

    /// Kills the group (children the plugin left behind too), reaps, removes sockets.
    async fn finish(&self) {
        self.process.kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.process.exited()).await;
        self.process.remove_socket_dir();
        self.state.send_replace(State::Stopped);
    }
}
