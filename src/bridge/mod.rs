//! The asyncio ↔ tokio bridge.
//!
//! A call runs on tokio and never touches Python there: its result is pushed, as a closure that
//! builds the Python value, onto a queue owned by the calling event loop, and the loop is woken
//! through a socket it watches (`loop.add_reader`) only when the queue goes from empty to
//! non-empty. The loop thread drains the whole batch, builds the values and resolves the futures.
//! No GIL hand-off and no `call_soon_threadsafe` per call: this is what makes an async call cost
//! about as much as the RPC itself (see benchmarks/README.md, "Where the time goes").

use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyWeakrefReference};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use tokio::task::AbortHandle;

/// Builds the Python result of a finished call; runs on the event loop thread with the GIL.
pub type Resolve = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Completions waiting for their event loop.
type CompletionQueue = wake::WakeQueue<(u64, Resolve)>;

/// One per event loop: the futures it is waiting for, by id. Kept alive by the loop's reader
/// registration only, so closing the loop frees it and its wake socket.
#[pyclass(module = "hector_plugins._core", frozen, weakref)]
pub struct Completer {
    queue: Arc<CompletionQueue>,
    reader: UnixStream,
    /// Shared with cancel callbacks, which drop the entry of a cancelled call.
    pending: Arc<Mutex<HashMap<u64, Py<PyAny>>>>,
    next_id: Mutex<u64>,
    event_loop: Py<PyAny>,
}

#[pymethods]
impl Completer {
    /// Called by the event loop when the wake socket is readable.
    fn _drain(&self, py: Python<'_>) {
        for (id, resolve) in self.queue.take(&self.reader) {
            let Some(future) = self.pending.lock().unwrap().remove(&id) else { continue };
            // One bad item must not strand the rest of the batch.
            if let Err(error) = settle(py, future.bind(py), resolve) {
                let _ = future.bind(py).call_method1(intern!(py, "set_exception"), (error.into_value(py),));
            }
        }
    }
}

/// Resolves one future with its outcome, unless it is already done (cancelled).
fn settle(py: Python<'_>, future: &Bound<'_, PyAny>, resolve: Resolve) -> PyResult<()> {
    let outcome = resolve(py);
    if future.call_method0(intern!(py, "done"))?.is_truthy()? {
        return Ok(());
    }
    match outcome {
        Ok(value) => future.call_method1(intern!(py, "set_result"), (value,))?,
        Err(error) => future.call_method1(intern!(py, "set_exception"), (error.into_value(py),))?,
    };
    Ok(())
}

impl Completer {
    fn new(py: Python<'_>, event_loop: Bound<'_, PyAny>) -> PyResult<Py<Completer>> {
        let (queue, reader) = CompletionQueue::new()?;
        let fd = reader.as_raw_fd();
        let completer = Py::new(
            py,
            Completer {
                queue: Arc::new(queue),
                reader,
                pending: Arc::new(Mutex::new(HashMap::new())),
                next_id: Mutex::new(0),
                event_loop: event_loop.clone().unbind(),
            },
        )?;
        let drain = completer.bind(py).getattr("_drain")?;
        event_loop.call_method1("add_reader", (fd, drain))?;
        Ok(completer)
    }

    /// A new asyncio future on this loop and the id its completion will carry.
    fn register<'py>(&self, py: Python<'py>) -> PyResult<(u64, Bound<'py, PyAny>)> {
        let future = self.event_loop.bind(py).call_method0(intern!(py, "create_future"))?;
        let id = {
            let mut next = self.next_id.lock().unwrap();
            *next += 1;
            *next
        };
        self.pending.lock().unwrap().insert(id, future.clone().unbind());
        Ok((id, future))
    }
}

thread_local! {
    /// Weak references to the completers of the event loops that ran on this thread. Never
    /// dropped at thread exit (the interpreter may be gone by then); being weak, they keep no
    /// socket open once their loop is closed.
    static COMPLETERS: ManuallyDrop<RefCell<Vec<Py<PyWeakrefReference>>>> = const { ManuallyDrop::new(RefCell::new(Vec::new())) };
}

/// The completer of the running event loop, created on first use.
fn completer_for_running_loop(py: Python<'_>) -> PyResult<Py<Completer>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get_running_loop = GET_RUNNING_LOOP
        .get_or_try_init(py, || PyResult::Ok(py.import("asyncio")?.getattr("get_running_loop")?.unbind()))?;
    let event_loop = get_running_loop.bind(py).call0()?;
    COMPLETERS.with(|completers| {
        let mut completers = completers.borrow_mut();
        for weak in completers.iter() {
            if let Some(completer) = weak.bind(py).upgrade_as::<Completer>()? {
                if completer.get().event_loop.bind(py).is(&event_loop) {
                    return Ok(completer.unbind());
                }
            }
        }
        // Forget completers of closed loops (asyncio.run makes a new loop each time).
        completers.retain(|weak| weak.bind(py).upgrade().is_some());
        let completer = Completer::new(py, event_loop)?;
        completers.push(PyWeakrefReference::new(completer.bind(py))?.unbind());
        Ok(completer)
    })
}

/// Runs `work` on tokio once awaited, resolved by `convert(result)` on the event loop.
/// Returns a [`Call`]: a coroutine-like awaitable, so `asyncio.create_task`, `asyncio.run` and
/// task groups accept it, and nothing starts until it is awaited (like an `async def`).
/// Cancelling it aborts the work (and with it the gRPC call).
pub fn spawn<'py, T, F>(
    py: Python<'py>,
    work: F,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    F: Future<Output = hector_plugins_host::Result<T>> + Send + 'static,
{
    let start: Starter = Box::new(move |py| start(py, work, convert));
    Ok(Bound::new(py, Call { state: Mutex::new(CallState::NotStarted(start)) })?.into_any())
}

/// Starts the work on tokio and returns the asyncio future it will resolve.
fn start<'py, T, F>(
    py: Python<'py>,
    work: F,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    F: Future<Output = hector_plugins_host::Result<T>> + Send + 'static,
{
    use futures_util::FutureExt;
    ensure_runtime_usable()?;
    let completer = completer_for_running_loop(py)?;
    let completer = completer.get();
    let (id, future) = completer.register(py)?;
    let queue = completer.queue.clone();
    let task = hector_plugins_host::runtime::runtime().spawn(async move {
        let outcome = std::panic::AssertUnwindSafe(work).catch_unwind().await;
        let resolve: Resolve = Box::new(move |py| match outcome {
            Ok(Ok(value)) => convert(py, value),
            Ok(Err(error)) => Err(crate::errors::to_pyerr(py, &error)),
            Err(panic) => Err(crate::errors::internal_error(panic_message(&panic))),
        });
        queue.push((id, resolve));
    });
    let pending = completer.pending.clone();
    let abort = task.abort_handle();
    on_cancel(py, &future, move || {
        abort.abort();
        pending.lock().unwrap().remove(&id);
    })?;
    Ok(future)
}

/// Refuses work in a forked child, where it would never complete.
pub fn ensure_runtime_usable() -> PyResult<()> {
    if hector_plugins_host::runtime::usable() {
        return Ok(());
    }
    Err(crate::errors::usage_error(
        "hector_plugins cannot be used in a process forked from the one that loaded plugins; \
         create a new PluginManager in a spawned process (multiprocessing 'spawn' or 'forkserver')",
    ))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

type Starter = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>> + Send>;

enum CallState {
    NotStarted(Starter),
    /// The `__await__` iterator of the asyncio future the work resolves.
    Started(Py<PyAny>),
    Finished,
}

/// A pending call. Implements the coroutine protocol (`send`, `throw`, `close`, `__await__`),
/// delegating to an asyncio future created when it is first awaited.
#[pyclass(module = "hector_plugins._core", frozen)]
pub struct Call {
    state: Mutex<CallState>,
}

impl Call {
    fn iterator(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut state = self.state.lock().unwrap();
        match std::mem::replace(&mut *state, CallState::Finished) {
            CallState::NotStarted(start) => {
                drop(state);
                let iterator = start(py)?.call_method0(intern!(py, "__await__"))?.unbind();
                *self.state.lock().unwrap() = CallState::Started(iterator.clone_ref(py));
                Ok(iterator)
            }
            CallState::Started(iterator) => {
                *state = CallState::Started(iterator.clone_ref(py));
                Ok(iterator)
            }
            CallState::Finished => Err(crate::errors::usage_error("cannot reuse already awaited call")),
        }
    }
}

#[pymethods]
impl Call {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.send(py, py.None().into_bound(py))
    }

    fn send(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let iterator = self.iterator(py)?;
        let result = iterator.bind(py).call_method1(intern!(py, "send"), (value,));
        if result.is_err() {
            *self.state.lock().unwrap() = CallState::Finished;
        }
        result.map(Bound::unbind)
    }

    #[pyo3(signature = (exception, value=None, traceback=None))]
    fn throw(
        &self,
        py: Python<'_>,
        exception: Bound<'_, PyAny>,
        value: Option<Bound<'_, PyAny>>,
        traceback: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let started = match &*self.state.lock().unwrap() {
            CallState::Started(iterator) => Some(iterator.clone_ref(py)),
            _ => None,
        };
        match started {
            Some(iterator) => {
                let result = iterator.bind(py).call_method1(intern!(py, "throw"), (exception, value, traceback));
                if result.is_err() {
                    *self.state.lock().unwrap() = CallState::Finished;
                }
                result.map(Bound::unbind)
            }
            None => {
                *self.state.lock().unwrap() = CallState::Finished;
                // asyncio passes an exception instance; the old protocol a type plus a value.
                let error = if exception.is_instance_of::<pyo3::exceptions::PyBaseException>() {
                    PyErr::from_value(exception)
                } else {
                    match value {
                        Some(value) if !value.is_none() => PyErr::from_value(value),
                        _ => PyErr::from_value(exception.call0()?),
                    }
                };
                Err(error)
            }
        }
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let previous = std::mem::replace(&mut *self.state.lock().unwrap(), CallState::Finished);
        if let CallState::Started(iterator) = previous {
            iterator.bind(py).call_method0(intern!(py, "close"))?;
        }
        Ok(())
    }
}

/// Runs `cancelled` if the future ends up cancelled (a done-callback, on the loop thread).
fn on_cancel(py: Python<'_>, future: &Bound<'_, PyAny>, cancelled: impl Fn() + Send + Sync + 'static) -> PyResult<()> {
    let callback = PyCFunction::new_closure(py, None, None, move |args, _kwargs| -> PyResult<()> {
        if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
            cancelled();
        }
        Ok(())
    })?;
    future.call_method1(intern!(py, "add_done_callback"), (callback,))?;
    Ok(())
}

/// An awaitable whose value is already known: `await` returns it without a loop round trip.
#[pyclass(module = "hector_plugins._core")]
pub struct Ready {
    outcome: Option<PyResult<Py<PyAny>>>,
}

impl Ready {
    pub fn new(outcome: PyResult<Py<PyAny>>) -> Self {
        Ready { outcome: Some(outcome) }
    }
}

#[pymethods]
impl Ready {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> PyResult<Py<PyAny>> {
        match self.outcome.take() {
            Some(Ok(value)) => Err(PyStopIteration::new_err((value,))),
            Some(Err(error)) => Err(error),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}

pub mod inbox;
mod stream;
mod wake;
pub use stream::AsyncStream;
