//! Reloading a plugin (docs/supervision.md, "Hot reload"): a new process of the same spec is
//! started beside the old one; once it is ready and has the old one's state (if it keeps one),
//! new calls go to it, calls in flight finish on the old one within a bound, then the old
//! one is stopped. A new version that fails to start leaves the old one serving. With
//! `hot_reload: true`, a change of the executable or its manifest on disk reloads it by itself.

use super::{Manager, Reservation};
use crate::error::{Closed, Error, Result, ShutDownDuring};
use crate::plugin::Plugin;
use crate::supervisor::EventKind;
use std::sync::Arc;
use std::time::Duration;

/// How long calls in flight on the old process may take to finish when it has no call timeout.
const DRAIN_WITHOUT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl<P: Send + Sync + 'static> Manager<P> {
    /// See the module's documentation. A plugin with no serving process is simply restarted.
    pub async fn reload(self: &Arc<Self>, name: &str) -> Result<Arc<Plugin>> {
        let Some(old) = self.plugins.lock().unwrap().iter().find(|p| p.name == name && p.is_serving()).cloned() else {
            return self.restart(name).await;
        };
        let _reservation = self.reserve(name)?;
        let mut closing = self.closing.subscribe();
        // The manifest is read again from disk: a hot reload may be for a changed one.
        let mut spec = old.spec().clone();
        spec.manifest = None;
        let started = tokio::select! {
            started = Plugin::start(spec, self.sink.clone()) => started,
            _ = closing.wait_for(|closing| *closing) => {
                return Err(Error::Closed { plugin: name.into(), state: Closed::ShutDown(ShutDownDuring::Load) });
            }
        };
        let new = match started {
            Ok(new) => new,
            Err(error) => {
                self.emit(
                    &old,
                    EventKind::ReloadFailed,
                    format!("the old process (pid {}) keeps serving: {error}", old.pid),
                );
                return Err(error);
            }
        };
        new.set_restarts(old.restarts());
        let record = self.record(name, || crate::supervisor::Phase::Steady);
        // The old process's state as of now (else the latest kept), before the new one serves.
        if let Some(state) = old.fetch_state().await.or_else(|| record.saved_state()) {
            record.save_state(state.clone());
            if let Err(error) = new.restore_state(state).await {
                new.kill_now().await;
                self.emit(
                    &old,
                    EventKind::ReloadFailed,
                    format!("the old process (pid {}) keeps serving: {error}", old.pid),
                );
                return Err(error);
            }
        }
        {
            let mut plugins = self.plugins.lock().unwrap();
            if self.is_closed() {
                drop(plugins);
                new.shutdown(new.shutdown_grace()).await;
                return Err(Error::Closed {
                    plugin: name.into(),
                    state: Closed::ShutDown(ShutDownDuring::LoadInFlight),
                });
            }
            plugins.retain(|p| !Arc::ptr_eq(p, &old));
            plugins.push(new.clone());
            old.retire();
            self.draining.lock().unwrap().push(old.clone());
        }
        record.begin_draining(old.stats());
        self.supervise(&new, &record);
        self.emit(&new, EventKind::Reloaded, format!("pid {} replaces pid {}", new.pid, old.pid));
        let drain = old.call_timeout().unwrap_or(DRAIN_WITHOUT_CALL_TIMEOUT);
        let manager = Arc::downgrade(self);
        let mut closing = self.closing.subscribe();
        tokio::spawn(async move {
            // A shutdown ends the drain: it stops this process with the others.
            tokio::select! {
                _ = tokio::time::timeout(drain, old.calls_finished()) => {}
                _ = closing.wait_for(|closing| *closing) => {}
            }
            old.shutdown(old.shutdown_grace()).await;
            record.end_draining(old.stats());
            if let Some(manager) = manager.upgrade() {
                manager.draining.lock().unwrap().retain(|p| !Arc::ptr_eq(p, &old));
            }
        });
        Ok(new)
    }

    /// Holds `name` against concurrent loads, restarts and reloads (and keeps shutdown waiting).
    pub(super) fn reserve(&self, name: &str) -> Result<Reservation<'_, P>> {
        let mut loading = self.loading.lock().unwrap();
        if self.is_closed() {
            return Err(Error::Closed { plugin: name.into(), state: Closed::ShutDown(ShutDownDuring::Load) });
        }
        if !loading.insert(name.to_string()) {
            return Err(Error::config(format!("a plugin named {name:?} is being loaded or restarted right now")));
        }
        Ok(Reservation { manager: self, name: name.into() })
    }
}
