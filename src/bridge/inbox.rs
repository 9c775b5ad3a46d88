//! Work sent from tokio to an event loop: the plugin side of the bridge (hector_plugins.sdk).
//! The mirror of the completion queue: jobs are pushed from tokio threads, the loop is woken
//! through a socket it watches only when the queue goes from empty to non-empty, and the loop
//! thread runs the whole batch with the GIL it already holds.

use pyo3::prelude::*;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

/// A piece of work for the event loop thread.
pub type Job = Box<dyn FnOnce(Python<'_>) + Send>;

/// The sending side, shared with tokio tasks.
pub struct Inbox {
    jobs: Mutex<Vec<Job>>,
    wake: UnixStream,
}

impl Inbox {
    pub fn push(&self, job: Job) {
        let first = {
            let mut jobs = self.jobs.lock().unwrap();
            jobs.push(job);
            jobs.len() == 1
        };
        if first {
            // EAGAIN (a full buffer) already means "wake up"; MSG_NOSIGNAL: no SIGPIPE from a
            // closed loop. SAFETY: a one-byte send on a socket we own.
            unsafe {
                libc::send(self.wake.as_raw_fd(), [1u8].as_ptr().cast(), 1, libc::MSG_NOSIGNAL);
            }
        }
    }
}

/// The loop side: registered with `loop.add_reader`, which keeps it alive until removed.
#[pyclass(module = "hector_plugins._core", frozen)]
pub struct InboxReader {
    inbox: Arc<Inbox>,
    reader: UnixStream,
}

#[pymethods]
impl InboxReader {
    fn _drain(&self, py: Python<'_>) {
        let mut scratch = [0u8; 256];
        while matches!((&self.reader).read(&mut scratch), Ok(n) if n > 0) {}
        let batch = std::mem::take(&mut *self.inbox.jobs.lock().unwrap());
        for job in batch {
            job(py);
        }
    }
}

/// A new inbox whose jobs run on `event_loop`; returns it and the fd to `remove_reader` when
/// the loop should stop watching it.
pub fn open(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<(Arc<Inbox>, i32)> {
    let (reader, wake) = UnixStream::pair()?;
    reader.set_nonblocking(true)?;
    wake.set_nonblocking(true)?;
    let fd = reader.as_raw_fd();
    let inbox = Arc::new(Inbox { jobs: Mutex::new(Vec::new()), wake });
    let drain = Bound::new(py, InboxReader { inbox: inbox.clone(), reader })?.getattr("_drain")?;
    event_loop.call_method1("add_reader", (fd, drain))?;
    Ok((inbox, fd))
}
