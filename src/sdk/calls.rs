//! Calls from the plugin server (tokio) into the Python plugin object (its event loop): each
//! RPC becomes a task on the loop, its answer converted on the loop thread and sent back. A call
//! the host abandons (deadline, cancel, closed stream) cancels its task.

use crate::bridge::inbox::{Inbox, Job};
use hector_plugins_sdk::{PluginError, PluginStream};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBool;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// The Python plugin and the loop its methods run on.
pub struct PyPlugin {
    pub name: String,
    pub object: Arc<Py<PyAny>>,
    pub event_loop: Arc<Py<PyAny>>,
    pub inbox: Arc<Inbox>,
    /// What `GetManifest` answers: the plugin's `manifest()`, read once at start.
    pub manifest: hector_plugins_sdk::proto::hector::ManifestResponse,
}

/// Converts a Python answer into what the RPC sends; runs on the loop thread.
pub type Convert<T> = fn(&Bound<'_, PyAny>) -> PyResult<T>;

/// Starts the coroutine (or async iterator) of one call: `(plugin object) -> awaitable`.
pub type Start = Box<dyn for<'py> FnOnce(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> + Send>;

type Finish = Box<dyn for<'py> FnOnce(Python<'py>, PyResult<Bound<'py, PyAny>>) + Send>;

impl PyPlugin {
    /// One unary call: `start(plugin)` is a coroutine whose result `convert` turns into `T`.
    pub async fn unary<T: Send + 'static>(
        &self,
        method: &'static str,
        start: Start,
        convert: Convert<T>,
    ) -> Result<T, PluginError> {
        let (sender, receiver) = oneshot::channel();
        let name = self.name.clone();
        let finish: Finish = Box::new(move |py, outcome| {
            let answer =
                outcome.and_then(|value| convert(&value)).map_err(|error| plugin_error(py, &name, method, error));
            let _ = sender.send(answer);
        });
        let guard = self.start_task(start, finish, |coroutine, _| Ok(coroutine));
        let answer = receiver.await;
        guard.disarm();
        answer
            .unwrap_or_else(|_| Err(PluginError::new(format!("{method}: the plugin's event loop is gone; no answer"))))
    }

    /// One streaming call: `start(plugin)` is an async iterator, each item `convert`ed. Items
    /// wait in a small buffer; when it is full the iterator waits for the host to read.
    pub async fn stream<T: Send + 'static>(
        &self,
        method: &'static str,
        start: Start,
        convert: Convert<T>,
    ) -> Result<PluginStream<T>, PluginError> {
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        // The pump reports the items and their failures through the sink; `finish`, a stream
        // that failed before the pump ran (its iterator could not be made).
        let name = self.name.clone();
        let on_failure = sender.clone();
        let finish: Finish = Box::new(move |py, outcome| {
            if let Err(error) = outcome {
                let _ = on_failure.try_send(Err(plugin_error(py, &name, method, error)));
            }
        });
        let sink =
            Sink { name: self.name.clone(), method, sender: Mutex::new(Some(Box::new(Sender { sender, convert }))) };
        let guard = self.start_task(start, finish, move |items, py| {
            let sink = Bound::new(py, sink)?;
            dispatch(py)?.call_method1("pump", (items, sink))
        });
        let items = tokio_stream::wrappers::ReceiverStream::new(receiver);
        // The guard lives as long as the stream: dropping the stream cancels the pump.
        Ok(Box::pin(futures_util::StreamExt::map(items, move |item| {
            let _ = &guard;
            item
        })))
    }

    /// Queues the job that starts the call's task on the loop; `wrap` makes the coroutine the
    /// task runs from what `start` returned.
    fn start_task(
        &self,
        start: Start,
        finish: Finish,
        wrap: impl for<'py> FnOnce(Bound<'py, PyAny>, Python<'py>) -> PyResult<Bound<'py, PyAny>> + Send + 'static,
    ) -> CancelOnDrop {
        let task_slot: Arc<Mutex<Option<Py<PyAny>>>> = Arc::default();
        let slot = task_slot.clone();
        let object = self.object.clone();
        let event_loop = self.event_loop.clone();
        let job: Job = Box::new(move |py| {
            let reply = Reply { finish: Mutex::new(Some(finish)) };
            let task = start(object.bind(py))
                .and_then(|started| wrap(started, py))
                .and_then(|coroutine| event_loop.bind(py).call_method1(pyo3::intern!(py, "create_task"), (coroutine,)));
            match task {
                Ok(task) => {
                    let added = Bound::new(py, reply)
                        .and_then(|reply| task.call_method1(pyo3::intern!(py, "add_done_callback"), (reply,)));
                    if let Err(error) = added {
                        error.print(py);
                    }
                    *slot.lock().unwrap() = Some(task.unbind());
                }
                Err(error) => reply.finish(py, Err(error)),
            }
        });
        // Refused once the loop stopped watching: the dropped job drops the reply's sender, which
        // the waiting call reports.
        self.inbox.push(job);
        CancelOnDrop { inbox: Some(self.inbox.clone()), task: task_slot }
    }
}

const STREAM_BUFFER: usize = 16;

/// Cancels the call's task if the host stops waiting before it answered.
struct CancelOnDrop {
    inbox: Option<Arc<Inbox>>,
    task: Arc<Mutex<Option<Py<PyAny>>>>,
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.inbox = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(inbox) = self.inbox.take() else { return };
        let task = self.task.clone();
        // Runs after the job that started the task (the inbox keeps order), so the slot is set.
        inbox.push(Box::new(move |py| {
            if let Some(task) = task.lock().unwrap().take() {
                let _ = task.bind(py).call_method0(pyo3::intern!(py, "cancel"));
            }
        }));
    }
}

/// The done-callback of a call's task: hands its outcome to the waiting RPC.
#[pyclass(module = "hector_plugins._core", frozen)]
struct Reply {
    finish: Mutex<Option<Finish>>,
}

impl Reply {
    fn finish<'py>(&self, py: Python<'py>, outcome: PyResult<Bound<'py, PyAny>>) {
        if let Some(finish) = self.finish.lock().unwrap().take() {
            finish(py, outcome);
        }
    }
}

#[pymethods]
impl Reply {
    fn __call__<'py>(&self, py: Python<'py>, task: Bound<'py, PyAny>) -> PyResult<()> {
        let outcome = if task.call_method0(pyo3::intern!(py, "cancelled"))?.is_truthy()? {
            Err(pyo3::exceptions::asyncio::CancelledError::new_err("the call was cancelled"))
        } else {
            task.call_method0(pyo3::intern!(py, "result"))
        };
        self.finish(py, outcome);
        Ok(())
    }
}

/// The sending half of a stream, with the conversion of its items (type-erased for the pyclass).
trait ItemSender: Send + Sync {
    /// Converts and queues `item`: True, False (the host is gone) or an awaitable of either
    /// (the buffer is full).
    fn send<'py>(&self, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>;
    fn fail(&self, error: PluginError);
}

struct Sender<T> {
    sender: mpsc::Sender<Result<T, PluginError>>,
    convert: Convert<T>,
}

impl<T: Send + 'static> ItemSender for Sender<T> {
    fn send<'py>(&self, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = item.py();
        let value = (self.convert)(item)?;
        match self.sender.try_send(Ok(value)) {
            Ok(()) => Ok(PyBool::new(py, true).to_owned().into_any()),
            Err(mpsc::error::TrySendError::Closed(_)) => Ok(PyBool::new(py, false).to_owned().into_any()),
            Err(mpsc::error::TrySendError::Full(value)) => {
                let sender = self.sender.clone();
                crate::bridge::spawn(py, async move { Ok(sender.send(value).await.is_ok()) }, |py, sent| {
                    Ok(PyBool::new(py, sent).to_owned().into_any().unbind())
                })
            }
        }
    }

    fn fail(&self, error: PluginError) {
        let sender = self.sender.clone();
        if let Err(mpsc::error::TrySendError::Full(error)) = self.sender.try_send(Err(error)) {
            hector_plugins_host::runtime::runtime().spawn(async move {
                let _ = sender.send(error).await;
            });
        }
    }
}

/// What `_dispatch.pump` feeds a stream's items into.
#[pyclass(module = "hector_plugins._core", frozen)]
struct Sink {
    name: String,
    method: &'static str,
    sender: Mutex<Option<Box<dyn ItemSender>>>,
}

#[pymethods]
impl Sink {
    fn send<'py>(&self, item: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match &*self.sender.lock().unwrap() {
            Some(sender) => sender.send(&item),
            None => Ok(PyBool::new(item.py(), false).to_owned().into_any()),
        }
    }

    /// Ends the stream with the failure `error` (an exception of the plugin's iterator).
    fn fail(&self, py: Python<'_>, error: Bound<'_, PyAny>) {
        if let Some(sender) = self.sender.lock().unwrap().take() {
            sender.fail(plugin_error(py, &self.name, self.method, PyErr::from_value(error)));
        }
    }

    /// Ends the stream (the host sees its end once the buffered items are read).
    fn close(&self) {
        self.sender.lock().unwrap().take();
    }
}

/// `hector_plugins.sdk._dispatch`: the Python half of the plugin side.
pub fn dispatch(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || PyResult::Ok(py.import("hector_plugins.sdk._dispatch")?.unbind())).map(|m| m.bind(py))
}

/// A Python exception as the error the host receives; reported on stderr with its traceback
/// (by `_dispatch.report`) unless it is a cancellation.
fn plugin_error(py: Python<'_>, plugin: &str, method: &str, error: PyErr) -> PluginError {
    let described = dispatch(py)
        .and_then(|module| module.call_method1("report", (plugin, method, error.value(py))))
        .and_then(|message| message.extract::<(String, String)>());
    match described {
        Ok((code, message)) => PluginError::with_code(grpc_code(&code), message),
        Err(_) => PluginError::new(error.to_string()),
    }
}

fn grpc_code(name: &str) -> tonic::Code {
    use tonic::Code;
    match name {
        "CANCELLED" => Code::Cancelled,
        "INVALID_ARGUMENT" => Code::InvalidArgument,
        "DEADLINE_EXCEEDED" => Code::DeadlineExceeded,
        "NOT_FOUND" => Code::NotFound,
        "ALREADY_EXISTS" => Code::AlreadyExists,
        "PERMISSION_DENIED" => Code::PermissionDenied,
        "RESOURCE_EXHAUSTED" => Code::ResourceExhausted,
        "FAILED_PRECONDITION" => Code::FailedPrecondition,
        "UNIMPLEMENTED" => Code::Unimplemented,
        "INTERNAL" => Code::Internal,
        "UNAVAILABLE" => Code::Unavailable,
        _ => Code::Unknown,
    }
}
