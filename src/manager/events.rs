//! Lifecycle events (docs/supervision.md) handed to `pm.on`, one awaited read at a time.

use super::reports::LifecycleEvent;
use crate::bridge;
use crate::callee::PyManager;
use hector_plugins_host::supervisor::Event;
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// The manager's event receiver, subscribed on the first read so that a program that never
/// listens keeps no backlog.
#[derive(Default)]
pub(super) struct EventFeed {
    receiver: Mutex<Option<Arc<tokio::sync::Mutex<broadcast::Receiver<Event>>>>>,
}

impl EventFeed {
    /// An awaitable of the next event, or None once the manager is shut down.
    pub fn next<'py>(&self, py: Python<'py>, manager: &Arc<PyManager>) -> PyResult<Bound<'py, PyAny>> {
        let receiver = {
            let mut events = self.receiver.lock().unwrap();
            events.get_or_insert_with(|| Arc::new(tokio::sync::Mutex::new(manager.subscribe_events()))).clone()
        };
        // The future holds no manager: a program that drops its manager without `shutdown()`
        // must not keep it alive through a pending read of its events.
        let mut shut_down = manager.shut_down();
        bridge::spawn(
            py,
            async move {
                let mut receiver = receiver.lock().await;
                loop {
                    tokio::select! {
                        biased;
                        event = receiver.recv() => match event {
                            Ok(event) => return Ok(Some(event)),
                            Err(broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(broadcast::error::RecvError::Closed) => return Ok(None),
                        },
                        // Every event was sent before this, and `biased` reads them first.
                        _ = shut_down.wait_for(|done| *done) => return Ok(receiver.try_recv().ok()),
                    }
                }
            },
            |py, event: Option<Event>| match event {
                Some(event) => Ok(Py::new(py, LifecycleEvent::from(event))?.into_any()),
                None => Ok(py.None()),
            },
        )
    }
}
