//! The requests of a raw client-streaming or bidirectional call, fed from Python: the core's
//! request channel (`clients::requests`), whose sending end is a Python object
//! ([`RequestSender`]). `hector_plugins._raw_streams` pumps the caller's iterable into it one
//! item at a time, so a plugin that reads slowly slows the iterable down instead of the host
//! reading it ahead (docs/architecture.md).

use crate::bridge;
use crate::buffer;
use crate::errors::{type_error, usage_error};
use bytes::Bytes;
use futures_util::Stream;
use hector_plugins_host::clients::requests::{self, request_channel};
use pyo3::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many requests wait in the host for the plugin to take them before Python has to wait.
const REQUEST_BUFFER: usize = 16;

/// A sender for Python and the request stream it feeds.
pub fn channel(plugin: &str, method: &str) -> (RequestSender, impl Stream<Item = Bytes> + Send + 'static) {
    let (sender, requests) = request_channel(REQUEST_BUFFER);
    let sender = RequestSender {
        plugin: plugin.into(),
        method: method.into(),
        sender: Mutex::new(Some(sender)),
        next_index: AtomicUsize::new(0),
    };
    (sender, requests)
}

/// `requests` must be an iterable or an async iterable of messages. A str or a single bytes-like
/// message is refused although it is iterable: its characters or integers are no messages.
pub fn check_requests(plugin: &str, method: &str, requests: &Bound<'_, PyAny>) -> PyResult<()> {
    let single = requests.is_instance_of::<pyo3::types::PyString>() || buffer::is_bytes_like(requests);
    if !single && (requests.hasattr("__aiter__")? || requests.hasattr("__iter__")?) {
        return Ok(());
    }
    let hint = if single { ": pass a list of serialized messages, e.g. [message.SerializeToString()]" } else { "" };
    Err(type_error(format!(
        "plugin {plugin:?}: the requests of {method} must be an iterable or async iterable of bytes-like \
         messages, not {}{hint}",
        buffer::type_name(requests)
    )))
}

/// Where Python puts the requests of one call, in order (see [`channel`]).
#[pyclass(module = "hector_plugins._core", frozen)]
pub struct RequestSender {
    plugin: String,
    method: String,
    /// None once finished.
    sender: Mutex<Option<requests::RequestSender<Bytes>>>,
    /// The index of the next request, for errors.
    next_index: AtomicUsize,
}

#[pymethods]
impl RequestSender {
    /// Queues the next request. None when it was queued at once; else an awaitable that resolves
    /// once it is, or once the call takes no more requests (then it is dropped: the call's own
    /// outcome says why).
    fn send<'py>(&self, py: Python<'py>, request: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        let Some(request) = buffer::bytes_like(request)? else {
            return Err(type_error(format!(
                "plugin {:?}: request {index} of {} must be bytes-like (bytes, bytearray, memoryview), not {}: \
                 pass serialized messages, e.g. message.SerializeToString()",
                self.plugin,
                self.method,
                buffer::type_name(request)
            )));
        };
        let guard = self.sender.lock().unwrap();
        let Some(sender) = guard.as_ref() else {
            return Err(usage_error(format!("the requests of {} were already finished", self.method)));
        };
        let Err(request) = sender.try_send(request) else {
            return Ok(None);
        };
        let sender = sender.clone();
        drop(guard);
        let queued = async move {
            sender.send(request).await;
            Ok(())
        };
        bridge::spawn(py, queued, |py, ()| Ok(py.None())).map(Some)
    }

    /// There are no more requests: the plugin sees their stream end.
    fn finish(&self) {
        if let Some(sender) = self.sender.lock().unwrap().take() {
            sender.finish();
        }
    }

    /// Whether the call takes no more requests: it ended, failed or was cancelled.
    #[getter]
    fn closed(&self) -> bool {
        self.sender.lock().unwrap().as_ref().is_none_or(|sender| sender.is_closed())
    }
}
