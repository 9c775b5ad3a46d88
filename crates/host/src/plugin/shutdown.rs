//! Stopping a plugin (docs/protocol.md §6.1): asked to exit, given its grace period, then killed
//! through its launcher, reaped, its socket directory removed. Idempotent, and safe to abandon:
//! the work runs in a task of its own, every caller waits for the same outcome.

use super::link::Link;
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
            let _ = tokio::time::timeout_at(deadline, self.ask_to_exit()).await;
        }
        if tokio::time::timeout_at(deadline, self.exited()).await.is_err() {
            self.killed.store(true, Ordering::SeqCst);
        }
        self.finish().await;
    }

    /// A gRPC plugin is asked with its service's `Shutdown` and go-plugin's controller; an MCP
    /// server by the end of its session: its stdin closes, or its HTTP session is deleted
    /// (docs/protocol.md §6.1, §10.5).
    async fn ask_to_exit(&self) {
        match &self.link {
            Link::Grpc(channel) => lifecycle::ask_to_exit(channel, self.kind.service()).await,
            Link::Mcp(session) => session.close().await,
        }
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
        self.kill_process();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.exited()).await;
        self.remove_socket_dir();
        self.state.send_replace(State::Stopped);
    }
}
