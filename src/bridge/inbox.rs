//! Work sent from tokio to an event loop: the plugin side of the bridge (hector_plugins.sdk).
//! Jobs go through a [`WakeQueue`](super::wake::WakeQueue) like completions do, in the other
//! direction; the loop thread runs each batch with the GIL it already holds.

use super::wake::WakeQueue;
use pyo3::prelude::*;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

/// A piece of work for the event loop thread.
pub type Job = Box<dyn FnOnce(Python<'_>) + Send>;

/// The sending side, shared with tokio tasks. A job pushed after [`Inbox::close`] is dropped,
/// which its caller sees as the loop having gone away.
pub type Inbox = WakeQueue<Job>;

/// The loop side: registered with `loop.add_reader`, which keeps it alive until removed.
#[pyclass(module = "hector_plugins._core", frozen)]
pub struct InboxReader {
    inbox: Arc<Inbox>,
    reader: UnixStream,
}

#[pymethods]
impl InboxReader {
    fn _drain(&self, py: Python<'_>) {
        for job in self.inbox.take(&self.reader) {
            job(py);
        }
    }
}

/// An inbox watched by `event_loop`.
pub struct OpenInbox {
    pub inbox: Arc<Inbox>,
    fd: i32,
    event_loop: Py<PyAny>,
}

impl OpenInbox {
    pub fn open(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<OpenInbox> {
        let (inbox, reader) = Inbox::new()?;
        let inbox = Arc::new(inbox);
        let fd = reader.as_raw_fd();
        let drain = Bound::new(py, InboxReader { inbox: inbox.clone(), reader })?.getattr("_drain")?;
        event_loop.call_method1("add_reader", (fd, drain))?;
        Ok(OpenInbox { inbox, fd, event_loop: event_loop.clone().unbind() })
    }

    /// Stops watching: later jobs are dropped, and so are those still queued.
    pub fn close(self, py: Python<'_>) {
        drop(self.inbox.close());
        let event_loop = self.event_loop.bind(py);
        // A closed loop has no readers left to remove.
        if !event_loop.call_method0("is_closed").and_then(|closed| closed.is_truthy()).unwrap_or(true) {
            let _ = event_loop.call_method1("remove_reader", (self.fd,));
        }
    }
}
